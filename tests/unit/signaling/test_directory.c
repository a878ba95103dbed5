/* Tests signaling/cluster/ (directory.c, dir_thread.c, dir_redis.c, node.c) against a real
 * redis-server that tools/redis_tmp.sh started (the ctest fixture cr_redis; its folder in
 * CR_REDIS_DIR, the script in CR_REDIS_TMP). Node A is a child process, killed with
 * SIGKILL as a crashed node would be; node B is this process. Checked: the lease appears
 * with its expiry and goes when A stops renewing; a claim answers MINE for its holder and
 * OTHER (with the holder's URL) for the other node; a claim whose holder's lease is gone
 * is taken over; a release deletes only our own claim; Redis killed and started again
 * (empty): claims keep answering MINE meanwhile, and the lease and claims are back within
 * ~2.5 s; dir_close deletes the lease. Without CR_REDIS_DIR (run by hand) it is skipped. */
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "cluster/directory.h"
#include "test.h"

static char url[256], script[1024], rdir[1024];
static redisContext *rc; /* the test's own look at Redis */

static void redis_cmd(const char *what)
{
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "%s %s %s >/dev/null", script, what, rdir);
    CHECK_EQ(system(cmd), 0);
}

/* GET key into out ("" : none). */
static void get(const char *key, char *out, size_t cap)
{
    out[0] = '\0';
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!rc) {
            char host[64];
            int port;
            sscanf(url, "redis://%63[^:]:%d", host, &port);
            rc = redisConnect(host, port);
        }
        redisReply *r = rc && !rc->err ? redisCommand(rc, "GET %s", key) : NULL;
        if (r) {
            if (r->type == REDIS_REPLY_STRING)
                snprintf(out, cap, "%s", r->str);
            freeReplyObject(r);
            return;
        }
        redisFree(rc);
        rc = NULL;
    }
}

static long long pttl(const char *key)
{
    redisReply *r = redisCommand(rc, "PTTL %s", key);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -99;
    freeReplyObject(r);
    return v;
}

/* Waits up to ms for key to hold want ("" : to be gone); true if it did. */
static bool wait_key(const char *key, const char *want, int ms)
{
    char v[512];
    for (int64_t end = cr_now_ms() + ms;; usleep(20000)) {
        get(key, v, sizeof v);
        if (want ? strcmp(v, want) == 0 : v[0] != '\0')
            return true;
        if (cr_now_ms() >= end)
            return false;
    }
}

static struct directory *open_node(const char *node_url)
{
    struct config cfg = config_defaults;
    char err[256];
    CHECK_EQ(config_set(&cfg, "redis", url, err, sizeof err), 0);
    return dir_open(&cfg, node_url);
}

/* A node at node_url in a child: claims room, says so on fd, then waits to be killed. */
static pid_t start_node(const char *node_url, const char *room, char *id_out)
{
    int fds[2];
    CHECK_EQ(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        struct directory *a = open_node(node_url);
        char u[256];
        while (dir_claim(a, room, u, sizeof u) != DIR_MINE) /* once Redis answers */
            usleep(50000);
        if (write(fds[1], dir_node_id(a), strlen(dir_node_id(a)) + 1) < 0)
            _exit(1);
        for (;;)
            pause();
    }
    close(fds[1]);
    ssize_t n = read(fds[0], id_out, DIR_ID_MAX);
    CHECK(n > 0);
    close(fds[0]);
    return pid;
}

static void test_claims(struct directory *b, const char *a_id)
{
    char key[64], u[256] = "", v[64];
    snprintf(key, sizeof key, "cr:node:%s", dir_node_id(b));
    CHECK(wait_key(key, NULL, 2000)); /* B's lease */
    long long t = pttl(key);
    CHECK(t > 0 && t <= DIR_LEASE_MS);
    struct dir_node nodes[4];
    for (int i = 0; i < 100 && dir_nodes(b, nodes, 4) < 2; i++)
        usleep(20000);
    CHECK_EQ(dir_nodes(b, nodes, 4), 2);
    CHECK_EQ(dir_claim(b, "r1", u, sizeof u), DIR_OTHER);
    CHECK_STR(u, "http://127.0.0.1:1001");
    CHECK(dir_origin(b, "r1", u, sizeof u));
    CHECK_EQ(dir_claim(b, "r2", u, sizeof u), DIR_MINE);
    get("cr:lesson:r2", v, sizeof v);
    CHECK_STR(v, dir_node_id(b));
    t = pttl("cr:lesson:r2");
    CHECK(t > 0 && t <= DIR_CLAIM_MS);
    get("cr:lesson:r1", v, sizeof v);
    CHECK_STR(v, a_id);
    CHECK(dir_pick(b, "r1", u, sizeof u)); /* A is not full */
    CHECK_STR(u, "http://127.0.0.1:1001");
}

static void test_takeover(struct directory *b, pid_t a, const char *a_id)
{
    char key[64], u[256];
    snprintf(key, sizeof key, "cr:node:%s", a_id);
    kill(a, SIGKILL);
    waitpid(a, NULL, 0);
    int64_t t0 = cr_now_ms();
    CHECK(wait_key(key, "", DIR_LEASE_MS + 1000)); /* A's lease expires */
    int64_t gone = cr_now_ms() - t0;
    CHECK(gone <= DIR_LEASE_MS + 500);
    CHECK(wait_key("cr:lesson:r1", a_id, 0));            /* its claim is still there */
    CHECK_EQ(dir_claim(b, "r1", u, sizeof u), DIR_MINE); /* taken over */
    CHECK(wait_key("cr:lesson:r1", dir_node_id(b), 500));
    struct dir_stats st;
    dir_stats(b, &st);
    CHECK_EQ(st.takeovers, 1);
    dir_release(b, "r2");
    CHECK(wait_key("cr:lesson:r2", "", 1000));
    CHECK(!dir_pick(b, "r1", u, sizeof u)); /* no other node */
}

/* A node killed and started again at the same address claims its lesson back at once, while
 * its previous run's lease still lives: it is not sent to itself, nor are others. */
static void test_same_url(struct directory *b)
{
    char old_id[DIR_ID_MAX] = "", u[256] = "", key[64];
    pid_t old = start_node("http://127.0.0.1:1003", "r9", old_id);
    snprintf(key, sizeof key, "cr:node:%s", old_id);
    CHECK(wait_key("cr:lesson:r9", old_id, 2000) && wait_key(key, NULL, 2000));
    kill(old, SIGKILL);
    waitpid(old, NULL, 0);
    struct directory *again = open_node("http://127.0.0.1:1003");
    int64_t t0 = cr_now_ms();
    enum dir_answer a = DIR_UNKNOWN;
    while ((a = dir_claim(again, "r9", u, sizeof u)) != DIR_MINE && cr_now_ms() - t0 < 2000)
        usleep(50000);
    CHECK_EQ(a, DIR_MINE);
    CR_INFO("test", "claimed back %lld ms after the restart", (long long)(cr_now_ms() - t0));
    CHECK(wait_key("cr:lesson:r9", dir_node_id(again), 1000));
    CHECK(!wait_key(key, "", 0)); /* before the old lease went */
    for (int i = 0; i < 100 && !dir_origin(b, "r9", u, sizeof u); i++)
        usleep(20000);
    CHECK_STR(u, "http://127.0.0.1:1003");
    CHECK(!dir_pick(again, NULL, u, sizeof u) || strcmp(u, "http://127.0.0.1:1003") != 0);
    dir_close(again);
}

static void test_redis_restart(struct directory *b)
{
    char key[64], u[256];
    snprintf(key, sizeof key, "cr:node:%s", dir_node_id(b));
    redis_cmd("kill");
    usleep(100000);
    int64_t t0 = cr_now_ms();
    CHECK_EQ(dir_claim(b, "r1", u, sizeof u), DIR_MINE); /* still ours */
    CHECK_EQ(dir_claim(b, "r3", u, sizeof u), DIR_MINE); /* new, served here */
    CHECK(cr_now_ms() - t0 <= 2 * DIR_CLAIM_WAIT_MS);
    usleep(1500000);
    CHECK_EQ(dir_claim(b, "r1", u, sizeof u), DIR_MINE);
    redis_cmd("start");
    t0 = cr_now_ms();
    CHECK(wait_key(key, NULL, 2500));
    CHECK(wait_key("cr:lesson:r1", dir_node_id(b), 2500));
    CHECK(wait_key("cr:lesson:r3", dir_node_id(b), 2500));
    CR_INFO("test", "lease and claims back %lld ms after Redis started",
            (long long)(cr_now_ms() - t0));
    struct dir_stats st;
    dir_stats(b, &st);
    CHECK(st.up);
    CHECK(st.reconnects >= 1);
    CHECK(st.failures >= 1);
}

static void test_no_directory(void)
{
    struct config cfg = config_defaults;
    char u[8];
    CHECK(dir_open(&cfg, "http://x:1") == NULL);
    CHECK_EQ(dir_claim(NULL, "r", u, sizeof u), DIR_UNKNOWN);
    CHECK_EQ(dir_owner(NULL, "r", u, sizeof u), DIR_UNKNOWN);
    CHECK(!dir_pick(NULL, "r", u, sizeof u));
    CHECK_EQ(dir_nodes(NULL, NULL, 0), 0);
    dir_release(NULL, "r");
    dir_close(NULL);
}

int main(void)
{
    const char *d = getenv("CR_REDIS_DIR"), *s = getenv("CR_REDIS_TMP");
    test_no_directory();
    if (!d || !s) {
        printf("test_directory: CR_REDIS_DIR and CR_REDIS_TMP not set: Redis part skipped\n");
        return test_report();
    }
    snprintf(rdir, sizeof rdir, "%s", d);
    snprintf(script, sizeof script, "%s", s);
    char path[1100];
    snprintf(path, sizeof path, "%s/redis.url", rdir);
    FILE *f = fopen(path, "r");
    CHECK(f && fscanf(f, "%255s", url) == 1);
    if (f)
        fclose(f);
    cr_log_set_level(CR_LOG_INFO);
    char a_id[DIR_ID_MAX] = "";
    pid_t a = start_node("http://127.0.0.1:1001", "r1", a_id);
    struct directory *b = open_node("http://127.0.0.1:1002");
    test_claims(b, a_id);
    test_takeover(b, a, a_id);
    test_same_url(b);
    test_redis_restart(b);
    char key[64];
    snprintf(key, sizeof key, "cr:node:%s", dir_node_id(b));
    dir_close(b);
    CHECK(wait_key(key, "", 0)); /* a clean close deletes the lease */
    CHECK(wait_key("cr:lesson:r1", "", 0));
    redisFree(rc);
    return test_report();
}
