/* Tests relay/net/ice.c with two real libnice agents on one GMainContext over loopback:
 * connectivity checks and a packet each way over UDP (through the sendto fast path) and
 * over ICE-TCP (RFC 6544), candidate lines (RFC 8839 §5.1) with and without a 1:1 NAT
 * public address, remote candidate parsing, and freeing an agent from its own callback.
 * The loop is iterated against a deadline; nothing sleeps. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/strbuf.h"
#include "net/ice.h"
#include "test.h"

struct side {
    struct cr_ice *ice;
    enum cr_ice_state state;
    int state_reports[4];
    int candidate_reports;
    bool gathering_done;
    int received;
    uint8_t last[1500];
    size_t last_len;
    bool free_on_recv;
};

static void on_state(void *user, enum cr_ice_state state)
{
    struct side *s = user;
    CHECK(state != s->state); /* each change reported once */
    s->state = state;
    s->state_reports[state]++;
}

static void on_candidate(void *user, const char *candidate)
{
    struct side *s = user;
    if (candidate) {
        s->candidate_reports++;
        CHECK(strncmp(candidate, "candidate:", 10) == 0);
    } else {
        CHECK(!s->gathering_done);
        s->gathering_done = true;
    }
}

static void on_recv(void *user, uint8_t *buf, size_t len)
{
    struct side *s = user;
    s->received++;
    s->last_len = len < sizeof(s->last) ? len : sizeof(s->last);
    memcpy(s->last, buf, s->last_len);
    buf[0] ^= 0xff; /* the buffer is ours to modify during the call */
    if (s->free_on_recv) {
        cr_ice_free(s->ice);
        s->ice = NULL;
    }
}

static const struct cr_ice_callbacks callbacks = {
    .on_state = on_state, .on_candidate = on_candidate, .on_recv = on_recv};

static gboolean tick(gpointer data)
{
    (void)data;
    return G_SOURCE_CONTINUE;
}

/* Iterates ctx until *flag_a && *flag_b or the deadline passes; a 20 ms tick guarantees
 * the blocking iteration wakes up to look at the clock. */
static bool iterate_until(GMainContext *ctx, const bool *flag_a, const bool *flag_b, int ms)
{
    int64_t end = cr_now_ms() + ms;
    GSource *t = g_timeout_source_new(20);
    g_source_set_callback(t, tick, NULL, NULL);
    g_source_attach(t, ctx);
    while (!(*flag_a && *flag_b) && cr_now_ms() < end)
        g_main_context_iteration(ctx, TRUE);
    g_source_destroy(t);
    g_source_unref(t);
    return *flag_a && *flag_b;
}

/* Gives b the credentials and those candidates of a whose line contains filter. */
static int introduce(struct side *a, struct side *b, const char *filter)
{
    struct strbuf sb;
    int added = 0;
    strbuf_init(&sb);
    cr_ice_write_candidates(a->ice, &sb);
    CHECK_EQ(
        cr_ice_set_remote_credentials(b->ice, cr_ice_local_ufrag(a->ice), cr_ice_local_pwd(a->ice)),
        0);
    for (char *line = sb.s, *next; line && *line; line = next) {
        next = strstr(line, "\r\n");
        CHECK(next != NULL);
        if (!next)
            break;
        next += 2;
        char one[300];
        snprintf(one, sizeof(one), "%.*s", (int)(next - line), line); /* keeps "a=" and CRLF */
        if (filter && !strstr(one, filter))
            continue;
        CHECK_EQ(cr_ice_add_remote_candidate(b->ice, one), 0);
        added++;
    }
    cr_ice_remote_gathering_done(b->ice);
    strbuf_free(&sb);
    return added;
}

static void make_pair(GMainContext *ctx, struct side *a, struct side *b, bool tcp)
{
    struct cr_ice_config config = {.bind_ip = "127.0.0.1", .tcp = tcp};
    memset(a, 0, sizeof(*a));
    memset(b, 0, sizeof(*b));
    a->ice = cr_ice_new(ctx, &config, &callbacks, a);
    b->ice = cr_ice_new(ctx, &config, &callbacks, b);
    CHECK(a->ice != NULL && b->ice != NULL);
}

static bool connected(struct side *s) { return s->state == CR_ICE_CONNECTED; }

/* Sends one packet each way and checks it arrived intact. */
static void exchange(GMainContext *ctx, struct side *a, struct side *b)
{
    uint8_t pkt[1200];
    for (size_t i = 0; i < sizeof(pkt); i++)
        pkt[i] = (uint8_t)(i * 3);
    pkt[0] = 0x80; /* looks like RTP (RFC 7983) */
    int ra = a->received, rb = b->received;
    CHECK_EQ(cr_ice_send(a->ice, pkt, sizeof(pkt)), 0);
    CHECK_EQ(cr_ice_send(b->ice, pkt, 100), 0);
    bool got_a = false, got_b = false;
    int64_t end = cr_now_ms() + 5000;
    while (!(got_a && got_b) && cr_now_ms() < end) {
        iterate_until(ctx, &got_a, &got_b, 50);
        got_a = a->received > ra;
        got_b = b->received > rb;
    }
    CHECK(got_a && got_b);
    CHECK_EQ(b->last_len, sizeof(pkt));
    CHECK(memcmp(b->last, pkt, sizeof(pkt)) == 0);
    CHECK_EQ(a->last_len, 100);
    CHECK(memcmp(a->last, pkt, 100) == 0);
}

static void wait_connected(GMainContext *ctx, struct side *a, struct side *b)
{
    bool ca = false, cb = false;
    int64_t end = cr_now_ms() + 10000;
    while (!(ca && cb) && cr_now_ms() < end) {
        iterate_until(ctx, &ca, &cb, 50);
        ca = connected(a);
        cb = connected(b);
    }
    CHECK(ca && cb);
}

static void test_udp(GMainContext *ctx)
{
    struct side a, b;
    char desc[128];
    make_pair(ctx, &a, &b, false);
    CHECK_EQ(cr_ice_get_state(a.ice), CR_ICE_NEW);
    CHECK(strlen(cr_ice_local_ufrag(a.ice)) >= 4 && strlen(cr_ice_local_pwd(a.ice)) >= 22);
    CHECK(!cr_ice_fast_path_active(a.ice));
    CHECK(cr_ice_send(a.ice, (const uint8_t *)"x", 1) < 0); /* nothing selected yet */
    cr_ice_describe_pair(a.ice, desc, sizeof(desc));
    CHECK_STR(desc, "none");

    CHECK_EQ(introduce(&a, &b, NULL), 1);
    CHECK_EQ(introduce(&b, &a, NULL), 1);
    wait_connected(ctx, &a, &b);
    CHECK_EQ(a.state_reports[CR_ICE_CONNECTED], 1);
    CHECK_EQ(a.state_reports[CR_ICE_FAILED] + b.state_reports[CR_ICE_FAILED], 0);
    CHECK(cr_ice_fast_path_active(a.ice));
    CHECK(cr_ice_fast_path_active(b.ice));
    cr_ice_describe_pair(a.ice, desc, sizeof(desc));
    CHECK(strncmp(desc, "udp 127.0.0.1:", 14) == 0 && strstr(desc, " -> 127.0.0.1:"));
    exchange(ctx, &a, &b);
    exchange(ctx, &b, &a);

    /* the same credentials again change nothing; new ones restart ICE with new local ones,
     * and the selected pair keeps carrying packets meanwhile */
    char ufrag[64];
    snprintf(ufrag, sizeof(ufrag), "%s", cr_ice_local_ufrag(a.ice));
    CHECK_EQ(
        cr_ice_set_remote_credentials(a.ice, cr_ice_local_ufrag(b.ice), cr_ice_local_pwd(b.ice)),
        0);
    CHECK_STR(cr_ice_local_ufrag(a.ice), ufrag);
    CHECK_EQ(cr_ice_set_remote_credentials(a.ice, "rst1", "0123456789abcdefghijkl"), 0);
    CHECK(strcmp(cr_ice_local_ufrag(a.ice), ufrag) != 0);
    CHECK_EQ(cr_ice_get_state(a.ice), CR_ICE_CONNECTED);
    exchange(ctx, &a, &b);

    /* the end of gathering inside cr_ice_new comes through the loop, once */
    CHECK(a.gathering_done && b.gathering_done);
    CHECK_EQ(a.candidate_reports, 0); /* host candidates are in cr_ice_write_candidates */
    cr_ice_free(a.ice);
    cr_ice_free(b.ice);
}

static void test_tcp(GMainContext *ctx)
{
    struct side a, b;
    char desc[128];
    make_pair(ctx, &a, &b, true);
    struct strbuf sb;
    strbuf_init(&sb);
    cr_ice_write_candidates(a.ice, &sb);
    CHECK(strstr(sb.s, " tcp ") && strstr(sb.s, "typ host tcptype passive\r\n"));
    CHECK(!strstr(sb.s, "active"));
    strbuf_free(&sb);

    CHECK_EQ(introduce(&a, &b, " tcp "), 1); /* passive only, no UDP candidate */
    CHECK_EQ(introduce(&b, &a, " tcp "), 1);
    wait_connected(ctx, &a, &b);
    cr_ice_describe_pair(a.ice, desc, sizeof(desc));
    CHECK(strncmp(desc, "tcp 127.0.0.1:", 14) == 0);
    CHECK(!cr_ice_fast_path_active(a.ice)); /* TCP goes through libnice (RFC 4571 framing) */
    if (connected(&a) && connected(&b))
        exchange(ctx, &a, &b);
    cr_ice_free(a.ice);
    cr_ice_free(b.ice);
}

static void test_candidates(GMainContext *ctx)
{
    struct side a;
    struct cr_ice_config config = {
        .public_ip = "203.0.113.7", .port_min = 42000, .port_max = 42099};
    memset(&a, 0, sizeof(a));
    a.ice = cr_ice_new(ctx, &config, &callbacks, &a);
    CHECK(a.ice != NULL);
    if (!a.ice)
        return;
    struct strbuf sb;
    strbuf_init(&sb);
    cr_ice_write_candidates(a.ice, &sb);
    fprintf(stderr, "candidates with public_ip:\n%s", sb.s);
    CHECK(strstr(sb.s, " udp ") && strstr(sb.s, " 127.0.0.1 ")); /* loopback kept */
    CHECK(strstr(sb.s, " 203.0.113.7 "));                        /* NAT address announced */
    CHECK(!strstr(sb.s, "fe80"));                                /* no link-local */
    for (const char *p = sb.s; (p = strstr(p, " udp ")); p++) {  /* ports in range */
        unsigned prio, port;
        char ip[64];
        CHECK_EQ(sscanf(p, " udp %u %63s %u", &prio, ip, &port), 3);
        CHECK(port >= 42000 && port <= 42099);
    }
    strbuf_free(&sb);

    /* remote candidate lines */
    CHECK_EQ(cr_ice_set_remote_credentials(a.ice, "abcd", "0123456789abcdefghijkl"), 0);
    CHECK(cr_ice_set_remote_credentials(a.ice, "", "x") < 0);
    CHECK_EQ(cr_ice_add_remote_candidate(
                 a.ice, "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0 "
                        "ufrag abcd network-id 1"),
             0);
    CHECK_EQ(cr_ice_add_remote_candidate(
                 a.ice, "a=candidate:2 1 UDP 2122194687 192.0.2.9 50001 typ host\r\n"),
             0);
    CHECK_EQ(cr_ice_add_remote_candidate(
                 a.ice, "candidate:3 1 udp 2122260223 1f0e7c45-8a4a-4b1c-b1f6-7d2d3d9f6a1b.local "
                        "54321 typ host generation 0"),
             0);
    CHECK_EQ(cr_ice_add_remote_candidate(
                 a.ice, "candidate:4 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active"),
             0);
    CHECK_EQ(
        cr_ice_add_remote_candidate(a.ice, "candidate:5 2 udp 2122260222 127.0.0.1 50002 typ host"),
        0); /* component 2: ignored */
    CHECK_EQ(cr_ice_add_remote_candidate(a.ice, "a=end-of-candidates\r\n"), 0);
    CHECK(cr_ice_add_remote_candidate(a.ice, "candidate:1 1 udp") < 0);
    CHECK(cr_ice_add_remote_candidate(a.ice, "candidate:1 1 udp 1 not-an-ip 1 typ host") < 0);
    CHECK(cr_ice_add_remote_candidate(a.ice, "a=fingerprint:sha-256 AB") < 0);
    CHECK(cr_ice_add_remote_candidate(a.ice, "") < 0);
    CHECK(cr_ice_add_remote_candidate(a.ice, NULL) < 0);
    cr_ice_free(a.ice);

    struct cr_ice_config bad = {.bind_ip = "not-an-address"};
    CHECK(cr_ice_new(ctx, &bad, &callbacks, &a) == NULL);
    struct cr_ice_config bad_public = {.bind_ip = "127.0.0.1", .public_ip = "nat.example"};
    CHECK(cr_ice_new(ctx, &bad_public, &callbacks, &a) == NULL);
    cr_ice_free(NULL);
}

/* An agent freed from inside its own receive callback gets no call after that. */
static void test_free_in_callback(GMainContext *ctx)
{
    struct side a, b;
    make_pair(ctx, &a, &b, false);
    introduce(&a, &b, NULL);
    introduce(&b, &a, NULL);
    wait_connected(ctx, &a, &b);
    b.free_on_recv = true;
    for (int i = 0; i < 5; i++)
        cr_ice_send(a.ice, (const uint8_t *)"\x80hello", 6);
    bool gone = false, yes = true;
    int64_t end = cr_now_ms() + 3000;
    while (!gone && cr_now_ms() < end) {
        iterate_until(ctx, &gone, &yes, 50);
        gone = b.ice == NULL;
    }
    CHECK(gone);
    CHECK_EQ(b.received, 1);
    iterate_until(ctx, &gone, &(bool){false}, 200); /* more packets queued: none delivered */
    CHECK_EQ(b.received, 1);
    cr_ice_free(a.ice);
}

int main(void)
{
    GMainContext *ctx = g_main_context_new();
    test_udp(ctx);
    test_tcp(ctx);
    test_candidates(ctx);
    test_free_in_callback(ctx);
    /* drain whatever libnice left on the context (closing sockets, timers) */
    while (g_main_context_iteration(ctx, FALSE))
        ;
    g_main_context_unref(ctx);
    return test_report();
}
