/* Child processes that talk in lines: the recorder and the packager (docs/recording.md).
 *
 * child_spawn starts a program with a pipe on its stdin (ours to write, non-blocking) and
 * one on its stdout, read by a small thread that pushes each line into the server's event
 * queue (EVQ_CHILD_LINE) and, at end of file, reaps the process and pushes its exit status
 * (EVQ_CHILD_EXIT). Everything else — what the lines mean, restarting — is the caller's,
 * on the lws thread. The child's stderr is the server's; with JSON logs (base/log.h) it is
 * read by another thread instead, each line logged as a message of component "recorder",
 * so that the server's stderr stays one JSON object a line. */
#ifndef CR_SIGNALING_CHILD_H
#define CR_SIGNALING_CHILD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct server;

struct child {
    uint64_t id;   /* names the child in its events; never reused */
    pid_t pid;     /* 0 once reaped */
    int stdin_fd;  /* owned; -1 when closed */
    int stdout_fd; /* owned by the reader thread */
    pthread_t reader;
    bool reader_started;
    int stderr_fd; /* owned by the stderr thread, with JSON logs; else -1 */
    pthread_t err_reader;
    bool err_reader_started;
    struct server *srv; /* borrowed: where events go */
};

/* Starts argv[0] (a path) with argv. nice: added to the child's niceness (packaging
 * yields the CPU to the live lesson). kill_with_parent: the kernel sends SIGKILL to the
 * child if the server dies (otherwise the child sees its stdin close). NULL if it cannot
 * start (reason logged). */
struct child *child_spawn(struct server *srv, char *const argv[], int nice, bool kill_with_parent);
/* Writes one line (a '\n' is added). -1 if the pipe is closed or full: the child is not
 * reading (hung or gone). */
int child_write_line(struct child *c, const char *line);
/* Closes the child's stdin (it should finish and exit). */
void child_close_stdin(struct child *c);
/* Sends sig to the child if it still runs. */
void child_signal(struct child *c, int sig);
/* Waits up to wait_ms for the child to exit after its stdin closed, then kills it, joins
 * the reader and frees. Only after this may the child's events stop arriving. NULL: no-op. */
void child_free(struct child *c, int wait_ms);

#endif
