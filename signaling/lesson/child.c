/* Line-talking child processes: see child.h. fork+exec from a threaded process: between
 * fork and exec the child only calls async-signal-safe functions (dup2, close, setpriority,
 * prctl, execv, _exit). */
#include "lesson/child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lesson/evq.h"
#include "base/alloc.h"
#include "base/log.h"
#include "core/context.h"

#define LINE_MAX_BYTES 65536

static uint64_t next_id = 1;

static void push_line(struct child *c, uint64_t id, enum evq_type type, char *line, int status)
{
    struct evq_item *it = CR_NEW(struct evq_item);
    it->type = type;
    it->child_id = id;
    it->line = line;
    it->status = status;
    evq_push(c->srv->evq, it);
    lws_cancel_service(c->srv->lws);
}

/* The reader thread: lines until EOF, then the exit status. */
static void *reader(void *arg)
{
    struct child *c = arg;
    char *buf = cr_malloc(LINE_MAX_BYTES);
    size_t n = 0;
    for (;;) {
        ssize_t r = read(c->stdout_fd, buf + n, LINE_MAX_BYTES - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        char *start = buf, *nl;
        while ((nl = memchr(start, '\n', n - (size_t)(start - buf)))) {
            *nl = '\0';
            if (nl > start)
                push_line(c, c->id, EVQ_CHILD_LINE, cr_strdup(start), 0);
            start = nl + 1;
        }
        n -= (size_t)(start - buf);
        memmove(buf, start, n);
        if (n == LINE_MAX_BYTES - 1)
            n = 0; /* a line too long to be ours: drop it */
    }
    free(buf);
    int status = 0;
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
        ;
    push_line(c, c->id, EVQ_CHILD_EXIT, NULL, status);
    return NULL;
}

/* With JSON logs: the child's stderr, a line at a time, as our log lines. */
static void *err_reader(void *arg)
{
    struct child *c = arg;
    FILE *f = fdopen(c->stderr_fd, "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0])
            cr_log(CR_LOG_INFO, "recorder", "%s", line);
    }
    if (f)
        fclose(f); /* closes stderr_fd */
    else
        close(c->stderr_fd);
    return NULL;
}

/* With JSON logs, a pipe for the child's stderr (err[0] -1 otherwise, or if none). */
static void stderr_pipe(int err[2])
{
    err[0] = err[1] = -1;
    if (cr_log_get_format() == CR_LOG_JSON && pipe2(err, O_CLOEXEC) != 0)
        err[0] = err[1] = -1;
}

struct child *child_spawn(struct server *srv, char *const argv[], int nice, bool kill_with_parent)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        return NULL;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return NULL;
    }
    int err[2];
    stderr_pipe(err);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        if (err[1] >= 0)
            dup2(err[1], 2);
        if (kill_with_parent) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(127);
        }
        if (nice)
            setpriority(PRIO_PROCESS, 0, nice);
        execv(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    if (err[1] >= 0)
        close(err[1]);
    if (pid < 0) {
        CR_ERROR("child", "cannot start %s: %s", argv[0], strerror(errno));
        close(in[1]);
        close(out[0]);
        if (err[0] >= 0)
            close(err[0]);
        return NULL;
    }
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    struct child *c = CR_NEW(struct child);
    c->id = next_id++;
    c->pid = pid;
    c->stdin_fd = in[1];
    c->stdout_fd = out[0];
    c->stderr_fd = err[0];
    c->srv = srv;
    if (c->stderr_fd >= 0 && pthread_create(&c->err_reader, NULL, err_reader, c) == 0)
        c->err_reader_started = true;
    else if (c->stderr_fd >= 0)
        close(c->stderr_fd);
    if (pthread_create(&c->reader, NULL, reader, c) != 0) {
        CR_ERROR("child", "cannot start a reader thread for %s", argv[0]);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (c->err_reader_started)
            pthread_join(c->err_reader, NULL); /* the child is gone: end of file */
        close(c->stdin_fd);
        close(c->stdout_fd);
        free(c);
        return NULL;
    }
    c->reader_started = true;
    CR_INFO("child", "started %s (pid %d)", argv[0], (int)pid);
    return c;
}

int child_write_line(struct child *c, const char *line)
{
    if (c->stdin_fd < 0)
        return -1;
    size_t n = strlen(line);
    char *buf = cr_malloc(n + 1);
    memcpy(buf, line, n);
    buf[n] = '\n';
    /* lines are far below PIPE_BUF... not always (4 KiB): a partial write means the pipe
     * is full, which counts as a child not reading */
    ssize_t w = write(c->stdin_fd, buf, n + 1);
    free(buf);
    return w == (ssize_t)(n + 1) ? 0 : -1;
}

void child_close_stdin(struct child *c)
{
    if (c->stdin_fd >= 0)
        close(c->stdin_fd);
    c->stdin_fd = -1;
}

void child_signal(struct child *c, int sig)
{
    if (c->pid > 0)
        kill(c->pid, sig); /* reaped only by the reader: the pid stays ours until then */
}

void child_free(struct child *c, int wait_ms)
{
    if (!c)
        return;
    child_close_stdin(c);
    /* reap it here if it exits in time (the reader's own waitpid then finds nothing) */
    bool gone = false;
    for (int waited = 0; !gone && waited <= wait_ms; waited += 20) {
        pid_t r = waitpid(c->pid, NULL, WNOHANG);
        gone = r == c->pid || (r < 0 && errno == ECHILD);
        if (!gone) {
            struct timespec ts = {0, 20 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    if (!gone)
        kill(c->pid, SIGKILL);
    if (c->reader_started)
        pthread_join(c->reader, NULL);
    if (c->err_reader_started)
        pthread_join(c->err_reader, NULL);
    close(c->stdout_fd);
    free(c);
}
