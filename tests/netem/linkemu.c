/* linkemu: a user-space link emulator for ClassRelay's network tests (this kernel has no
 * netem). One "hub" network namespace (the server side) is joined to N "leaf" namespaces
 * (classrooms), each by its own point-to-point pair of TUN devices: emu-l<k> in the hub
 * (10.77.<k>.1/30) and emu-hub in leaf k (10.77.<k>.2/30, default route via .1). One
 * single-threaded ppoll loop forwards IP packets between the pairs; every direction of
 * every link passes through its own rate shaper, drop-tail queue, random loss and delay
 * line (emu_model.c) into one min-heap ordered by departure time (emu_heap.c). Settings
 * change at run time through a UNIX stream socket speaking emu_cmd.h's language; the
 * counters are printed as JSON on SIGUSR1, on "stats" and at exit. The namespaces must
 * exist (netem.py creates and removes them); the TUN devices vanish when linkemu exits.
 *
 *   linkemu --hub NS --leaf NS [--leaf NS ...] [--ctl PATH] [--set "leaf1 down rate=600"]
 *           [--seed N] [--max-pending PACKETS] [--die-with-parent] */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "emu_cmd.h"
#include "emu_heap.h"
#include "emu_model.h"
#include "emu_tun.h"

#define MAX_LINKS 254
#define MAX_CLIENTS 8
#define READS_PER_WAKE 64
#define LEAF_IFNAME "emu-hub"

struct link {
    char name[16];       /* leaf<k>, the name used on the control socket */
    const char *leaf_ns; /* borrowed from argv */
    int hub_fd, leaf_fd; /* owned: the TUN pair */
    struct emu_dir down; /* hub -> leaf */
    struct emu_dir up;   /* leaf -> hub */
};

struct client {
    int fd; /* owned; -1 when the slot is free */
    size_t len;
    char buf[1024];
};

struct emu {
    const char *hub_ns;   /* borrowed from argv */
    const char *ctl_path; /* borrowed; the socket file is ours to unlink */
    struct link links[MAX_LINKS];
    size_t nlinks;
    struct emu_heap heap; /* owned: the delay line of all directions */
    struct emu_rng rng;
    size_t max_pending;
    int ctl_fd; /* owned */
    struct client clients[MAX_CLIENTS];
    int64_t t0_ns;
    bool quit;
};

static volatile sig_atomic_t got_quit, got_usr1;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        got_usr1 = 1;
    else
        got_quit = 1;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * EMU_NS_PER_S + ts.tv_nsec;
}

/* ------------------------------------------------------------------ statistics */

static void link_json(FILE *out, const struct link *l, size_t k)
{
    fprintf(out,
            "\"%s\":{\"leaf_ns\":\"%s\",\"hub_if\":\"emu-l%zu\",\"hub_ip\":\"10.77.%zu.1\","
            "\"leaf_ip\":\"10.77.%zu.2\",\"down\":",
            l->name, l->leaf_ns, k, k, k);
    emu_dir_json(out, &l->down);
    fputs(",\"up\":", out);
    emu_dir_json(out, &l->up);
    fputc('}', out);
}

static void stats_json(FILE *out, const struct emu *e)
{
    fprintf(out, "{\"t_s\":%.3f,\"hub_ns\":\"%s\",\"pending\":%zu,\"links\":{",
            (double)(now_ns() - e->t0_ns) / EMU_NS_PER_S, e->hub_ns, e->heap.n);
    for (size_t i = 0; i < e->nlinks; i++) {
        if (i)
            fputc(',', out);
        link_json(out, &e->links[i], i + 1);
    }
    fputs("}}\n", out);
}

static void print_stats(const struct emu *e)
{
    stats_json(stdout, e);
    fflush(stdout);
}

/* ------------------------------------------------------------------ commands */

/* Applies a "set" to the links it names; the number of links changed. */
static int apply_set(struct emu *e, const struct emu_cmd *c)
{
    int hits = 0;
    for (size_t i = 0; i < e->nlinks; i++) {
        struct link *l = &e->links[i];
        if (strcmp(c->link, "all") && strcmp(c->link, l->name) && strcmp(c->link, l->leaf_ns))
            continue;
        struct emu_dir *dirs[] = {(c->dirs & EMU_DOWN) ? &l->down : NULL,
                                  (c->dirs & EMU_UP) ? &l->up : NULL};
        for (int d = 0; d < 2; d++) {
            if (!dirs[d])
                continue;
            struct emu_dir_cfg cfg = dirs[d]->cfg;
            emu_patch_apply(&c->patch, &cfg);
            emu_dir_configure(dirs[d], &cfg);
        }
        hits++;
    }
    return hits;
}

static void reset_stats(struct emu *e)
{
    for (size_t i = 0; i < e->nlinks; i++) {
        emu_dir_reset_stats(&e->links[i].down);
        emu_dir_reset_stats(&e->links[i].up);
    }
}

/* Runs one command line and writes its one-line reply to out. */
static void run_command(struct emu *e, const char *line, FILE *out)
{
    struct emu_cmd c;
    char err[160];
    if (emu_cmd_parse(line, &c, err, sizeof(err))) {
        fprintf(out, "error: %s\n", err);
        return;
    }
    switch (c.kind) {
    case EMU_CMD_SET:
        if (apply_set(e, &c))
            fputs("ok\n", out);
        else
            fprintf(out, "error: no link '%s'\n", c.link);
        return;
    case EMU_CMD_STATS:
        stats_json(out, e);
        return;
    case EMU_CMD_RESET:
        reset_stats(e);
        break;
    case EMU_CMD_QUIT:
        e->quit = true;
        break;
    case EMU_CMD_HELP:
        fprintf(out, "%s\n", emu_cmd_help);
        return;
    case EMU_CMD_PING:
        break;
    }
    fputs("ok\n", out);
}

/* ------------------------------------------------------------------ control socket */

static int ctl_listen(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, MAX_CLIENTS)) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

static void ctl_accept(struct emu *e)
{
    int fd = accept4(e->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    struct timeval tv = {.tv_sec = 2}; /* a client that stops reading cannot stall us long */
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (e->clients[i].fd < 0) {
            e->clients[i] = (struct client){.fd = fd};
            return;
        }
    }
    close(fd); /* too many clients */
}

static void client_close(struct client *c)
{
    close(c->fd);
    c->fd = -1;
}

/* Sends the replies to every complete line in the client's buffer. */
static void client_lines(struct emu *e, struct client *c)
{
    char *reply = NULL, *nl;
    size_t reply_len = 0;
    FILE *out = open_memstream(&reply, &reply_len);
    if (!out)
        abort();
    while ((nl = memchr(c->buf, '\n', c->len))) {
        *nl = '\0';
        if (c->buf[0] && c->buf[0] != '#')
            run_command(e, c->buf, out);
        size_t used = (size_t)(nl + 1 - c->buf);
        memmove(c->buf, nl + 1, c->len - used);
        c->len -= used;
    }
    fclose(out);
    for (size_t off = 0; off < reply_len;) {
        ssize_t w = send(c->fd, reply + off, reply_len - off, MSG_NOSIGNAL);
        if (w <= 0) {
            client_close(c);
            break;
        }
        off += (size_t)w;
    }
    free(reply);
}

static void client_read(struct emu *e, struct client *c)
{
    ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        client_close(c);
        return;
    }
    if (r < 0)
        return;
    c->len += (size_t)r;
    client_lines(e, c);
    if (c->fd >= 0 && c->len == sizeof(c->buf)) {
        send(c->fd, "error: line too long\n", 21, MSG_NOSIGNAL);
        client_close(c);
    }
}

/* ------------------------------------------------------------------ forwarding */

/* One packet read from a TUN enters direction d, bound for out_fd. */
static void admit(struct emu *e, struct emu_dir *d, int out_fd, const uint8_t *buf, size_t len,
                  int64_t now)
{
    int64_t due;
    if (e->heap.n >= e->max_pending) { /* our own memory bound, counted as a queue drop */
        d->st.in_pkts++;
        d->st.in_bytes += len;
        d->st.queue_drops++;
        d->st.queue_drop_bytes += len;
        return;
    }
    if (emu_dir_admit(d, len, now, &e->rng, &due) != EMU_PASS)
        return;
    struct emu_pkt *p = emu_pkt_new(buf, len);
    p->due_ns = due;
    p->dir = d;
    p->out_fd = out_fd;
    emu_heap_push(&e->heap, p);
}

static void drain_tun(struct emu *e, int in_fd, struct emu_dir *d, int out_fd)
{
    static uint8_t buf[65536];
    for (int i = 0; i < READS_PER_WAKE; i++) {
        ssize_t n = read(in_fd, buf, sizeof(buf));
        if (n <= 0)
            return;
        admit(e, d, out_fd, buf, (size_t)n, now_ns());
    }
}

/* Writes every packet whose time has come; returns the next departure or -1. */
static int64_t flush_due(struct emu *e)
{
    struct emu_pkt *p;
    int64_t now = now_ns();
    while ((p = emu_heap_peek(&e->heap)) && p->due_ns <= now) {
        emu_heap_pop(&e->heap);
        bool ok = write(p->out_fd, p->data, p->len) == (ssize_t)p->len;
        emu_dir_delivered(p->dir, p->len, ok);
        free(p);
    }
    return p ? p->due_ns : -1;
}

/* ------------------------------------------------------------------ event loop */

enum { PFD_CTL = 0, PFD_CLIENT0 = 1, PFD_LINK0 = 1 + MAX_CLIENTS };

static size_t fill_pollfds(const struct emu *e, struct pollfd *pfd)
{
    pfd[PFD_CTL] = (struct pollfd){.fd = e->ctl_fd, .events = POLLIN};
    for (int i = 0; i < MAX_CLIENTS; i++)
        pfd[PFD_CLIENT0 + i] = (struct pollfd){.fd = e->clients[i].fd, .events = POLLIN};
    for (size_t i = 0; i < e->nlinks; i++) {
        pfd[PFD_LINK0 + 2 * i] = (struct pollfd){.fd = e->links[i].hub_fd, .events = POLLIN};
        pfd[PFD_LINK0 + 2 * i + 1] = (struct pollfd){.fd = e->links[i].leaf_fd, .events = POLLIN};
    }
    return PFD_LINK0 + 2 * e->nlinks;
}

static void handle_ready(struct emu *e, const struct pollfd *pfd)
{
    if (pfd[PFD_CTL].revents & POLLIN)
        ctl_accept(e);
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (e->clients[i].fd >= 0 && pfd[PFD_CLIENT0 + i].revents)
            client_read(e, &e->clients[i]);
    for (size_t i = 0; i < e->nlinks; i++) {
        struct link *l = &e->links[i];
        if (pfd[PFD_LINK0 + 2 * i].revents & POLLIN)
            drain_tun(e, l->hub_fd, &l->down, l->leaf_fd);
        if (pfd[PFD_LINK0 + 2 * i + 1].revents & POLLIN)
            drain_tun(e, l->leaf_fd, &l->up, l->hub_fd);
    }
}

static void run(struct emu *e, const sigset_t *wait_mask)
{
    static struct pollfd pfd[PFD_LINK0 + 2 * MAX_LINKS];
    while (!e->quit && !got_quit) {
        int64_t next = flush_due(e);
        size_t n = fill_pollfds(e, pfd);
        struct timespec ts, *timeout = NULL;
        if (next >= 0) {
            int64_t wait = next - now_ns();
            wait = wait < 0 ? 0 : wait;
            ts = (struct timespec){.tv_sec = wait / EMU_NS_PER_S, .tv_nsec = wait % EMU_NS_PER_S};
            timeout = &ts;
        }
        int rc = ppoll(pfd, n, timeout, wait_mask);
        if (got_usr1) {
            got_usr1 = 0;
            print_stats(e);
        }
        if (rc > 0)
            handle_ready(e, pfd);
    }
}

/* ------------------------------------------------------------------ setup */

static int fail_errno(const char *what, const char *name, int rc)
{
    fprintf(stderr, "linkemu: %s %s: %s\n", what, name, strerror(-rc));
    return -1;
}

/* Opens and configures the TUN pair of link k (1-based), entering both namespaces. */
static int setup_link(struct emu *e, struct link *l, size_t k)
{
    char hub_if[IFNAMSIZ];
    uint32_t net = (10u << 24) | (77u << 16) | ((uint32_t)k << 8);
    int rc;
    snprintf(hub_if, sizeof(hub_if), "emu-l%zu", k);
    if ((rc = emu_ns_enter(e->hub_ns)))
        return fail_errno("cannot enter namespace", e->hub_ns, rc);
    if ((l->hub_fd = emu_tun_open(hub_if)) < 0)
        return fail_errno("cannot create TUN", hub_if, l->hub_fd);
    if ((rc = emu_if_up(hub_if, net | 1, 30)) || (rc = emu_if_up("lo", 0, 0)))
        return fail_errno("cannot configure", hub_if, rc);
    if ((rc = emu_ns_enter(l->leaf_ns)))
        return fail_errno("cannot enter namespace", l->leaf_ns, rc);
    if ((l->leaf_fd = emu_tun_open(LEAF_IFNAME)) < 0)
        return fail_errno("cannot create TUN in", l->leaf_ns, l->leaf_fd);
    if ((rc = emu_if_up(LEAF_IFNAME, net | 2, 30)) || (rc = emu_if_up("lo", 0, 0)))
        return fail_errno("cannot configure TUN in", l->leaf_ns, rc);
    if ((rc = emu_route_default(net | 1)))
        return fail_errno("cannot add the default route in", l->leaf_ns, rc);
    return 0;
}

static int setup_links(struct emu *e)
{
    int home = emu_ns_current();
    if (home < 0)
        return fail_errno("cannot open", "/proc/thread-self/ns/net", home);
    int rc = 0;
    for (size_t i = 0; i < e->nlinks && !rc; i++)
        rc = setup_link(e, &e->links[i], i + 1);
    if (emu_ns_enter_fd(home))
        rc = fail_errno("cannot return to", "the first namespace", -errno);
    close(home);
    return rc;
}

static void teardown(struct emu *e)
{
    for (size_t i = 0; i < e->nlinks; i++) {
        if (e->links[i].hub_fd >= 0)
            close(e->links[i].hub_fd);
        if (e->links[i].leaf_fd >= 0)
            close(e->links[i].leaf_fd);
    }
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (e->clients[i].fd >= 0)
            close(e->clients[i].fd);
    if (e->ctl_fd >= 0) {
        close(e->ctl_fd);
        unlink(e->ctl_path);
    }
    emu_heap_free(&e->heap);
}

/* ------------------------------------------------------------------ main */

static void usage(void)
{
    fputs("usage: linkemu --hub NS --leaf NS [--leaf NS ...] [--ctl PATH]\n"
          "               [--set \"LINK DIR key=value ...\"]... [--seed N] [--max-pending N]\n"
          "               [--die-with-parent]\n"
          "control lines: ",
          stderr);
    fprintf(stderr, "%s\n", emu_cmd_help);
}

static void add_leaf(struct emu *e, const char *ns)
{
    if (e->nlinks == MAX_LINKS) {
        fprintf(stderr, "linkemu: at most %d leaves\n", MAX_LINKS);
        exit(2);
    }
    struct link *l = &e->links[e->nlinks++];
    *l = (struct link){.leaf_ns = ns, .hub_fd = -1, .leaf_fd = -1};
    snprintf(l->name, sizeof(l->name), "leaf%zu", e->nlinks);
    emu_dir_init(&l->down, &EMU_DIR_CFG_DEFAULT);
    emu_dir_init(&l->up, &EMU_DIR_CFG_DEFAULT);
}

/* SIGTERM when the parent dies (even by SIGKILL), so a crashed test leaves no linkemu. */
static void die_with_parent(void)
{
    pid_t parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        got_quit = 1;
}

/* Parses argv into e; the --set arguments (a "set" line without the word "set") are kept
 * in sets[] to apply after setup. */
static void parse_args(int argc, char **argv, struct emu *e, const char **sets, int *nsets)
{
    static const struct option opts[] = {
        {"hub", required_argument, 0, 'h'},       {"leaf", required_argument, 0, 'l'},
        {"ctl", required_argument, 0, 'c'},       {"set", required_argument, 0, 's'},
        {"seed", required_argument, 0, 'r'},      {"max-pending", required_argument, 0, 'm'},
        {"die-with-parent", no_argument, 0, 'p'}, {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'h')
            e->hub_ns = optarg;
        else if (o == 'l')
            add_leaf(e, optarg);
        else if (o == 'c')
            e->ctl_path = optarg;
        else if (o == 's' && *nsets < 64)
            sets[(*nsets)++] = optarg;
        else if (o == 'r')
            emu_rng_seed(&e->rng, strtoull(optarg, NULL, 0));
        else if (o == 'm')
            e->max_pending = strtoul(optarg, NULL, 0);
        else if (o == 'p')
            die_with_parent();
        else
            goto bad;
    }
    if (e->hub_ns && e->nlinks && optind == argc && e->max_pending)
        return;
bad:
    usage();
    exit(2);
}

static int apply_initial(struct emu *e, const char **sets, int nsets)
{
    for (int i = 0; i < nsets; i++) {
        char *reply = NULL;
        size_t len = 0;
        char line[1024];
        snprintf(line, sizeof(line), "set %s", sets[i]);
        FILE *out = open_memstream(&reply, &len);
        run_command(e, line, out);
        fclose(out);
        bool ok = !strncmp(reply, "ok", 2);
        if (!ok)
            fprintf(stderr, "linkemu: --set \"%s\": %s", sets[i], reply);
        free(reply);
        if (!ok)
            return -1;
    }
    return 0;
}

static void install_signals(sigset_t *wait_mask)
{
    sigset_t block;
    sigemptyset(&block);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        sigaction(sigs[i], &(struct sigaction){.sa_handler = on_signal}, NULL);
        sigaddset(&block, sigs[i]);
    }
    signal(SIGPIPE, SIG_IGN);
    sigprocmask(SIG_BLOCK, &block, wait_mask); /* delivered only inside ppoll */
}

/* The emulated link's delays must not depend on what else the machine runs (browsers,
 * encoders, other tests): a real-time scheduling class, when allowed (root). linkemu only
 * ever sleeps in ppoll and does little per packet, so it cannot starve the machine. */
static void realtime(void)
{
    struct sched_param sp = {.sched_priority = 10};
    if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0)
        fprintf(stderr, "linkemu: no real-time priority (%s): delays follow the load\n",
                strerror(errno));
}

int main(int argc, char **argv)
{
    static struct emu e = {.ctl_fd = -1, .max_pending = 100000};
    const char *sets[64];
    int nsets = 0, rc = 1;
    sigset_t wait_mask;
    for (int i = 0; i < MAX_CLIENTS; i++)
        e.clients[i].fd = -1;
    emu_rng_seed(&e.rng, (uint64_t)now_ns() ^ (uint64_t)getpid());
    parse_args(argc, argv, &e, sets, &nsets);
    install_signals(&wait_mask);
    prctl(PR_SET_TIMERSLACK, 1000UL); /* 1 us: the delay line wants precise wake-ups */
    realtime();
    emu_heap_init(&e.heap);
    e.t0_ns = now_ns();
    if (setup_links(&e) || apply_initial(&e, sets, nsets))
        goto out;
    if (e.ctl_path && (e.ctl_fd = ctl_listen(e.ctl_path)) < 0) {
        fail_errno("cannot listen on", e.ctl_path, e.ctl_fd);
        goto out;
    }
    fprintf(stderr, "linkemu: %zu link(s) up, hub %s\n", e.nlinks, e.hub_ns);
    run(&e, &wait_mask);
    print_stats(&e);
    rc = 0;
out:
    teardown(&e);
    return rc;
}
