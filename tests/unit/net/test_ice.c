/* Tests relay/net/ice.c with two real libnice agents on one GMainContext over loopback:
 * connectivity checks and a packet each way over UDP (through the sendto fast path) and
 * over ICE-TCP (RFC 6544), candidate lines (RFC 8839 §5.1) with and without a 1:1 NAT
 * public address, remote candidate parsing, and freeing an agent from its own callback.
 *
 * The receive takeover: after ICE completes both sides read their sockets through the
 * context's epoll set (net/udp_poller.c), answer each other's checks and keep consent
 * (RFC 7675 §5.1) — with shortened timers for a quick run, then for 35 s with the real
 * ones; consent expires when the peer goes away; authentic and forged STUN from a third
 * socket (RFC 8445 §7.3: answered from any address, USE-CANDIDATE moves our sends there),
 * and agents freed from inside another agent's callback. net/stun_responder.c is tested
 * with time as a parameter, against RFC 5769 §2.1 for the OpenSSL HMAC.
 * ICE lite on the shared media port (net/ice_lite.c, net/ice_mux.c): two libnice clients in
 * the controlling role against two lite peers on one port, each getting only its own
 * client's packets; consent; a restart; checks from a third socket, authentic (answered,
 * USE-CANDIDATE moves the sends) and forged (dropped); consent lost when the client goes.
 * The loop is iterated against a deadline; nothing sleeps. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/strbuf.h"
#include "net/ice.h"
#include "net/ice_mux.h"
#include "net/stun_responder.h"
#include "test.h"
#include "wire/stun.h"

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
    struct side *free_other; /* freed from this side's receive callback */
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
    if (s->free_other && s->free_other->ice) {
        cr_ice_free(s->free_other->ice);
        s->free_other->ice = NULL;
    }
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

/* ---- receive takeover ---- */

static bool taken_over(const struct side *s) { return s->ice && cr_ice_rx_takeover_active(s->ice); }

static void wait_takeover(GMainContext *ctx, struct side *a, struct side *b)
{
    bool ta = false, tb = false;
    int64_t end = cr_now_ms() + 3000;
    while (!(ta && tb) && cr_now_ms() < end) {
        iterate_until(ctx, &ta, &tb, 50);
        ta = taken_over(a);
        tb = taken_over(b);
    }
    CHECK(ta && tb);
}

static void connect_udp(GMainContext *ctx, struct side *a, struct side *b)
{
    make_pair(ctx, a, b, false);
    introduce(a, b, NULL);
    introduce(b, a, NULL);
    wait_connected(ctx, a, b);
    wait_takeover(ctx, a, b);
}

static void run_for(GMainContext *ctx, int ms)
{
    bool no = false;
    iterate_until(ctx, &no, &no, ms);
}

/* Both sides read their own sockets, answer each other's consent checks and fail when
 * the peer stops answering. */
static void test_takeover(GMainContext *ctx)
{
    struct side a, b;
    struct cr_ice_rx_stats sa, sb;
    connect_udp(ctx, &a, &b);
    CHECK(cr_ice_fast_path_active(a.ice) && cr_ice_fast_path_active(b.ice));
    exchange(ctx, &a, &b);
    exchange(ctx, &b, &a);
    cr_ice_get_rx_stats(a.ice, &sa);
    cr_ice_get_rx_stats(b.ice, &sb);
    CHECK_EQ(sa.takeovers, 1);
    CHECK_EQ(sb.takeovers, 1);
    CHECK(sa.datagrams >= 2 && sb.datagrams >= 2); /* exchange went through our reader */

    cr_ice_set_consent_timing(a.ice, 100, 1000);
    cr_ice_set_consent_timing(b.ice, 100, 1000);
    run_for(ctx, 2500); /* 2.5 timeouts: consent must have been refreshed */
    cr_ice_get_rx_stats(a.ice, &sa);
    cr_ice_get_rx_stats(b.ice, &sb);
    CHECK(connected(&a) && connected(&b));
    CHECK(taken_over(&a) && taken_over(&b));
    CHECK(sa.consent_sent >= 10 && sb.consent_sent >= 10);
    CHECK(sa.consent_ok >= 8 && sb.consent_ok >= 8);
    CHECK(sa.stun_answered >= 8 && sb.stun_answered >= 8);
    CHECK_EQ(sa.stun_bad + sb.stun_bad + sa.stray + sb.stray, 0);
    exchange(ctx, &a, &b);

    /* the peer goes away: no more answers, consent expires (1 s here), a fails once and
     * sends no more (RFC 7675 §5.1) */
    cr_ice_free(b.ice);
    b.ice = NULL;
    bool failed = false, yes = true;
    int64_t end = cr_now_ms() + 3000;
    while (!failed && cr_now_ms() < end) {
        iterate_until(ctx, &failed, &yes, 50);
        failed = a.state == CR_ICE_FAILED;
    }
    CHECK(failed);
    CHECK_EQ(a.state_reports[CR_ICE_FAILED], 1);
    CHECK(!taken_over(&a));
    CHECK(!cr_ice_fast_path_active(a.ice));
    CHECK(cr_ice_send(a.ice, (const uint8_t *)"\x80x", 2) < 0);
    cr_ice_free(a.ice);
}

/* The real timers (RFC 7675 §5.1: a check every 4-6 s, 30 s to expire) over 35 s. */
static void test_long_session(GMainContext *ctx)
{
    struct side a, b;
    struct cr_ice_rx_stats sa, sb;
    connect_udp(ctx, &a, &b);
    int64_t end = cr_now_ms() + 35000;
    while (cr_now_ms() < end && connected(&a) && connected(&b)) {
        exchange(ctx, &a, &b);
        run_for(ctx, 1000);
    }
    cr_ice_get_rx_stats(a.ice, &sa);
    cr_ice_get_rx_stats(b.ice, &sb);
    CHECK(connected(&a) && connected(&b));
    CHECK(taken_over(&a) && taken_over(&b));
    CHECK_EQ(a.state_reports[CR_ICE_FAILED] + b.state_reports[CR_ICE_FAILED], 0);
    CHECK(sa.consent_ok >= 5 && sb.consent_ok >= 5);
    CHECK(sa.datagrams >= 30 && sb.datagrams >= 30);
    fprintf(stderr, "35 s session: consent %llu/%llu and %llu/%llu answered, %llu+%llu checks\n",
            (unsigned long long)sa.consent_ok, (unsigned long long)sa.consent_sent,
            (unsigned long long)sb.consent_ok, (unsigned long long)sb.consent_sent,
            (unsigned long long)sa.stun_answered, (unsigned long long)sb.stun_answered);
    cr_ice_free(a.ice);
    cr_ice_free(b.ice);
}

/* The local address of s's selected pair ("udp 127.0.0.1:P -> ..."). */
static struct sockaddr_in pair_local(const struct side *s)
{
    char desc[128];
    unsigned port = 0;
    struct sockaddr_in sin = {.sin_family = AF_INET};
    cr_ice_describe_pair(s->ice, desc, sizeof(desc));
    CHECK_EQ(sscanf(desc, "udp 127.0.0.1:%u ", &port), 1);
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sin;
}

static size_t binding_request(uint8_t *buf, size_t cap, const char *user, const char *pwd,
                              bool use_candidate, enum stun_class cls)
{
    static uint8_t txid[12] = {'t', 'e', 's', 't'};
    txid[11]++;
    struct stun_writer w;
    stun_writer_init(&w, buf, cap, STUN_METHOD_BINDING, cls, txid);
    stun_put_attr(&w, STUN_ATTR_USERNAME, user, strlen(user));
    stun_put_u32(&w, STUN_ATTR_PRIORITY, 0x6e0001ff);
    stun_put_u64(&w, STUN_ATTR_ICE_CONTROLLING, 42);
    if (use_candidate)
        stun_put_attr(&w, STUN_ATTR_USE_CANDIDATE, NULL, 0);
    stun_put_integrity(&w, (const uint8_t *)pwd, strlen(pwd), cr_stun_hmac_sha1);
    stun_put_fingerprint(&w);
    int n = stun_finish(&w);
    CHECK(n > 0);
    return n > 0 ? (size_t)n : 0;
}

/* Iterates ctx until fd has a datagram (returned) or ms pass (0). */
static size_t recv_raw(GMainContext *ctx, int fd, uint8_t *buf, size_t cap, int ms)
{
    int64_t end = cr_now_ms() + ms;
    do {
        ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
        if (n > 0)
            return (size_t)n;
        g_main_context_iteration(ctx, FALSE);
    } while (cr_now_ms() < end);
    return 0;
}

/* STUN from a socket that is not the peer's (RFC 8445 §7.3: answered from anywhere when
 * authentic), forged STUN, and a nomination that moves our sends. */
static void test_stun_from_elsewhere(GMainContext *ctx)
{
    struct side a, b;
    struct cr_ice_rx_stats st;
    uint8_t buf[1500], req[600];
    connect_udp(ctx, &a, &b);
    struct sockaddr_in to = pair_local(&b), me = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t me_len = sizeof(me);
    CHECK(bind(fd, (struct sockaddr *)&me, sizeof(me)) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&me, &me_len) == 0);
    char user[256], wrong_user[256];
    const char *pwd = cr_ice_local_pwd(b.ice);
    snprintf(user, sizeof(user), "%s:%s", cr_ice_local_ufrag(b.ice), cr_ice_local_ufrag(a.ice));
    snprintf(wrong_user, sizeof(wrong_user), "%s:nobody", cr_ice_local_ufrag(b.ice));
#define SEND_RAW(p, n) sendto(fd, p, n, 0, (struct sockaddr *)&to, sizeof(to))

    /* an authentic check from elsewhere is answered, with our source in XOR-MAPPED-ADDRESS */
    size_t n = binding_request(req, sizeof(req), user, pwd, false, STUN_REQUEST);
    CHECK_EQ(SEND_RAW(req, n), (ssize_t)n);
    size_t got = recv_raw(ctx, fd, buf, sizeof(buf), 2000);
    struct stun_view v;
    CHECK(got > 0 && stun_parse(buf, got, &v) == 0);
    CHECK_EQ(v.cls, STUN_SUCCESS);
    CHECK(memcmp(v.txid, req + 8, 12) == 0);
    CHECK_EQ(stun_check_integrity(&v, (const uint8_t *)pwd, strlen(pwd), cr_stun_hmac_sha1), 0);
    CHECK_EQ(stun_check_fingerprint(&v), 0);
    CHECK_EQ(v.xor_mapped.family, 4);
    CHECK_EQ(v.xor_mapped.port, ntohs(me.sin_port));
    CHECK(memcmp(v.xor_mapped.ip, &me.sin_addr, 4) == 0);

    /* forged, malformed and unanswerable ones are dropped and counted, never answered */
    n = binding_request(req, sizeof(req), wrong_user, pwd, true, STUN_REQUEST);
    SEND_RAW(req, n);
    n = binding_request(req, sizeof(req), user, "not-the-password-at-all", true, STUN_REQUEST);
    SEND_RAW(req, n);
    n = binding_request(req, sizeof(req), user, pwd, true, STUN_REQUEST);
    req[n - 1] ^= 1; /* FINGERPRINT */
    SEND_RAW(req, n);
    SEND_RAW("\x00\x01\x00\x00garbage-garbage!", 20);
    n = binding_request(req, sizeof(req), user, pwd, false, STUN_INDICATION); /* no answer */
    SEND_RAW(req, n);
    SEND_RAW("\x80not from the peer", 19); /* media from a stranger */
    CHECK_EQ(recv_raw(ctx, fd, buf, sizeof(buf), 300), 0);
    cr_ice_get_rx_stats(b.ice, &st);
    CHECK_EQ(st.stun_bad, 4);
    CHECK_EQ(st.stray, 1);
    CHECK_EQ(st.renominations, 0);
    CHECK(connected(&b) && taken_over(&b));

    /* USE-CANDIDATE from there: the peer nominated that address, our sends follow */
    n = binding_request(req, sizeof(req), user, pwd, true, STUN_REQUEST);
    SEND_RAW(req, n);
    CHECK(recv_raw(ctx, fd, buf, sizeof(buf), 2000) > 0);
    cr_ice_get_rx_stats(b.ice, &st);
    CHECK_EQ(st.renominations, 1);
    char desc[128], want[64];
    cr_ice_describe_pair(b.ice, desc, sizeof(desc));
    snprintf(want, sizeof(want), "-> 127.0.0.1:%u", ntohs(me.sin_port));
    CHECK(strstr(desc, want) != NULL);
    CHECK_EQ(cr_ice_send(b.ice, (const uint8_t *)"\x80moved", 6), 0);
    got = recv_raw(ctx, fd, buf, sizeof(buf), 2000);
    CHECK(got == 6 && memcmp(buf, "\x80moved", 6) == 0);
    int before = b.received;
    SEND_RAW("\x80now from the peer", 19);
    bool yes = true, arrived = false;
    int64_t end = cr_now_ms() + 2000;
    while (!arrived && cr_now_ms() < end) {
        iterate_until(ctx, &arrived, &yes, 50);
        arrived = b.received > before;
    }
    CHECK(arrived);
#undef SEND_RAW
    close(fd);
    cr_ice_free(a.ice);
    cr_ice_free(b.ice);
}

/* One receive callback frees another agent whose datagrams may be in the same batch of
 * ready sockets: it gets nothing after that. */
static void test_free_other_in_callback(GMainContext *ctx)
{
    struct side a, b, c, d;
    connect_udp(ctx, &a, &b);
    connect_udp(ctx, &c, &d);
    b.free_other = &d;
    d.free_other = &b;
    for (int i = 0; i < 5; i++) {
        cr_ice_send(a.ice, (const uint8_t *)"\x80to-b", 5);
        cr_ice_send(c.ice, (const uint8_t *)"\x80to-d", 5);
    }
    bool gone = false, yes = true;
    int64_t end = cr_now_ms() + 3000;
    while (!gone && cr_now_ms() < end) {
        iterate_until(ctx, &gone, &yes, 50);
        gone = !b.ice || !d.ice;
    }
    CHECK(gone);
    CHECK((b.ice == NULL) != (d.ice == NULL)); /* the first to receive freed the other */
    struct side *freed = b.ice ? &d : &b;
    int received = freed->received;
    run_for(ctx, 200);
    CHECK_EQ(freed->received, received);
    CHECK(received <= 1);

    /* and the survivor frees itself from its own callback, mid-batch */
    struct side *survivor = b.ice ? &b : &d;
    struct cr_ice *sender = b.ice ? a.ice : c.ice;
    CHECK(taken_over(survivor));
    survivor->free_other = NULL;
    survivor->free_on_recv = true;
    received = survivor->received;
    for (int i = 0; i < 5; i++)
        cr_ice_send(sender, (const uint8_t *)"\x80self", 5);
    gone = false;
    end = cr_now_ms() + 3000;
    while (!gone && cr_now_ms() < end) {
        iterate_until(ctx, &gone, &yes, 50);
        gone = survivor->ice == NULL;
    }
    CHECK(gone);
    run_for(ctx, 200);
    CHECK_EQ(survivor->received, received + 1);
    cr_ice_free(a.ice);
    cr_ice_free(b.ice);
    cr_ice_free(c.ice);
    cr_ice_free(d.ice);
}

/* ---- stun_responder.c, time as a parameter ---- */

static const struct sockaddr_in peer4 = {.sin_family = AF_INET,
                                         .sin_port = 0x3930, /* 12345 */
                                         .sin_addr = {.s_addr = 0x0100007f}};

static enum cr_stun_result feed(struct cr_stun_responder *r, const uint8_t *msg, size_t len,
                                const void *from, int64_t now, uint8_t *reply, size_t *reply_len,
                                bool *nominate)
{
    return cr_stun_responder_input(r, msg, len, from, (const struct sockaddr *)&peer4, now, reply,
                                   reply_len, nominate);
}

/* Answers a request of ours as the peer would: success (or error 487), keyed with pwd. */
static size_t respond(const uint8_t *request, size_t len, const char *pwd, enum stun_class cls,
                      uint8_t *out)
{
    struct stun_view v;
    CHECK_EQ(stun_parse(request, len, &v), 0);
    struct stun_writer w;
    stun_writer_init(&w, out, 200, STUN_METHOD_BINDING, cls, v.txid);
    struct stun_addr mapped = {.family = 4, .ip = {127, 0, 0, 1}, .port = 4242};
    if (cls == STUN_ERROR)
        stun_put_attr(&w, STUN_ATTR_ERROR_CODE, "\x00\x00\x04\x57", 4);
    else
        stun_put_xor_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped);
    stun_put_integrity(&w, (const uint8_t *)pwd, strlen(pwd), cr_stun_hmac_sha1);
    stun_put_fingerprint(&w);
    return (size_t)stun_finish(&w);
}

static void test_responder(void)
{
    const char *lpwd = "local-password-0123456", *rpwd = "remote-password-012345";
    struct cr_stun_responder_config cfg = {.local_ufrag = "LOCL",
                                           .local_pwd = lpwd,
                                           .remote_ufrag = "REMT",
                                           .remote_pwd = rpwd,
                                           .controlling = false,
                                           .priority = 123456};
    struct cr_stun_responder *r = cr_stun_responder_new(&cfg, 1000);
    uint8_t req[CR_STUN_MAX_MESSAGE], reply[CR_STUN_MAX_MESSAGE], resp[200];
    size_t reply_len;
    bool nominate;
    struct stun_view v;

    /* RFC 7675 §5.1: the first consent request after 4-6 s */
    CHECK_EQ(cr_stun_responder_consent_request(r, 1000 + 3999, req), 0);
    size_t n = cr_stun_responder_consent_request(r, 1000 + 6000, req);
    CHECK(n > 0);
    CHECK_EQ(cr_stun_responder_consent_request(r, 1000 + 6000, req + 0), 0); /* not again */
    CHECK_EQ(stun_parse(req, n, &v), 0);
    CHECK_EQ(v.cls, STUN_REQUEST);
    CHECK(v.username_len == 9 && memcmp(v.username, "REMT:LOCL", 9) == 0);
    CHECK(v.has_priority && v.priority == 123456);
    CHECK(v.controlled && !v.controlling && !v.use_candidate);
    CHECK_EQ(stun_check_integrity(&v, (const uint8_t *)rpwd, strlen(rpwd), cr_stun_hmac_sha1), 0);
    CHECK_EQ(stun_check_fingerprint(&v), 0);

    /* responses: only an authentic success to our transaction, from the peer, counts */
    struct sockaddr_in other = peer4;
    other.sin_port = 1;
    size_t rn = respond(req, n, rpwd, STUN_SUCCESS, resp);
    CHECK_EQ(feed(r, resp, rn, &other, 7500, reply, &reply_len, &nominate), CR_STUN_IGNORED);
    size_t bad = respond(req, n, "wrong-password-xxxxxxx", STUN_SUCCESS, resp + 100);
    CHECK_EQ(feed(r, resp + 100, bad, &peer4, 7500, reply, &reply_len, &nominate), CR_STUN_BAD);
    CHECK_EQ(feed(r, resp, rn, &peer4, 7500, reply, &reply_len, &nominate), CR_STUN_CONSENT);
    CHECK_EQ(feed(r, resp, rn, &peer4, 7500, reply, &reply_len, &nominate), CR_STUN_IGNORED);
    CHECK(!cr_stun_responder_consent_expired(r, 7500 + 29999));
    CHECK(cr_stun_responder_consent_expired(r, 7500 + 30000));
    n = cr_stun_responder_consent_request(r, 14000, req);
    CHECK(n > 0);
    rn = respond(req, n, rpwd, STUN_ERROR, resp); /* 487: refreshes nothing */
    CHECK_EQ(feed(r, resp, rn, &peer4, 14000, reply, &reply_len, &nominate), CR_STUN_IGNORED);
    CHECK(cr_stun_responder_consent_expired(r, 7500 + 30000));

    /* checks to us (RFC 8445 §7.3) */
    n = binding_request(req, sizeof(req), "LOCL:REMT", lpwd, false, STUN_REQUEST);
    CHECK_EQ(feed(r, req, n, &peer4, 20000, reply, &reply_len, &nominate), CR_STUN_REPLY);
    CHECK(!nominate);
    CHECK_EQ(stun_parse(reply, reply_len, &v), 0);
    CHECK_EQ(v.cls, STUN_SUCCESS);
    CHECK(memcmp(v.txid, req + 8, 12) == 0);
    CHECK_EQ(v.xor_mapped.family, 4);
    CHECK_EQ(v.xor_mapped.port, 12345);
    CHECK(memcmp(v.xor_mapped.ip, "\x7f\0\0\1", 4) == 0);
    CHECK_EQ(stun_check_integrity(&v, (const uint8_t *)lpwd, strlen(lpwd), cr_stun_hmac_sha1), 0);
    CHECK_EQ(stun_check_fingerprint(&v), 0);
    n = binding_request(req, sizeof(req), "LOCL:REMT", lpwd, true, STUN_REQUEST);
    struct sockaddr_in6 six = {.sin6_family = AF_INET6, .sin6_port = htons(5000)};
    inet_pton(AF_INET6, "2001:db8::7", &six.sin6_addr);
    CHECK_EQ(feed(r, req, n, &six, 20000, reply, &reply_len, &nominate), CR_STUN_REPLY);
    CHECK(nominate);
    CHECK_EQ(stun_parse(reply, reply_len, &v), 0);
    CHECK_EQ(v.xor_mapped.family, 6);
    CHECK_EQ(v.xor_mapped.port, 5000);
    CHECK(memcmp(v.xor_mapped.ip, &six.sin6_addr, 16) == 0);

    n = binding_request(req, sizeof(req), "LOCL:OTHR", lpwd, false, STUN_REQUEST);
    CHECK_EQ(feed(r, req, n, &peer4, 20000, reply, &reply_len, &nominate), CR_STUN_BAD);
    n = binding_request(req, sizeof(req), "LOCL:REMT", rpwd, false, STUN_REQUEST);
    CHECK_EQ(feed(r, req, n, &peer4, 20000, reply, &reply_len, &nominate), CR_STUN_BAD);
    n = binding_request(req, sizeof(req), "LOCL:REMT", lpwd, false, STUN_REQUEST);
    CHECK_EQ(feed(r, req, n - 8, &peer4, 20000, reply, &reply_len, &nominate), CR_STUN_BAD);
    n = binding_request(req, sizeof(req), "LOCL:REMT", lpwd, false, STUN_INDICATION);
    CHECK_EQ(feed(r, req, n, &peer4, 20000, reply, &reply_len, &nominate), CR_STUN_IGNORED);
    CHECK_EQ(feed(r, (const uint8_t *)"nonsense", 8, &peer4, 20000, reply, &reply_len, &nominate),
             CR_STUN_BAD);
    cr_stun_responder_free(r);
    cr_stun_responder_free(NULL);

    /* the OpenSSL HMAC against RFC 5769 §2.1 */
    static const char *hex =
        "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74"
        "002400046e0001ff80290008932ff9b151263b36000600096576746a3a6836765920202000080014"
        "9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf";
    uint8_t msg[108];
    for (size_t i = 0; i < sizeof(msg); i++)
        sscanf(hex + 2 * i, "%2hhx", &msg[i]);
    CHECK_EQ(stun_parse(msg, sizeof(msg), &v), 0);
    CHECK_EQ(
        stun_check_integrity(&v, (const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBt", 22, cr_stun_hmac_sha1),
        0);
    CHECK_EQ(
        stun_check_integrity(&v, (const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBT", 22, cr_stun_hmac_sha1),
        STUN_ERR_INTEGRITY);
}

static int lite_new_pair(GMainContext *ctx, struct cr_ice_mux *mux, struct side *client,
                         struct side *lite)
{
    struct cr_ice_config cc = {.bind_ip = "127.0.0.1", .controlling = true};
    struct cr_ice_config lc = {.mux = mux};
    memset(client, 0, sizeof(*client));
    memset(lite, 0, sizeof(*lite));
    client->ice = cr_ice_new(ctx, &cc, &callbacks, client);
    lite->ice = cr_ice_new(ctx, &lc, &callbacks, lite);
    CHECK(client->ice && lite->ice);
    if (!client->ice || !lite->ice)
        return -1;
    CHECK_EQ(introduce(lite, client, NULL), 1); /* one host candidate on the mux's port */
    introduce(client, lite, NULL);              /* taken and ignored: checks teach addresses */
    wait_connected(ctx, client, lite);
    return connected(client) && connected(lite) ? 0 : -1;
}

/* A check from a socket of our own to the lite peer's port: authentic (answered, and with
 * USE-CANDIDATE our sends move there) or forged (dropped, counted, no answer). */
static void lite_third_socket(GMainContext *ctx, struct side *client, struct side *lite,
                              uint16_t port)
{
    uint8_t buf[1500];
    char user[160];
    struct cr_ice_rx_stats st;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    snprintf(user, sizeof(user), "%s:%s", cr_ice_local_ufrag(lite->ice),
             cr_ice_local_ufrag(client->ice));
    size_t n = binding_request(buf, sizeof(buf), user, "not the password", true, STUN_REQUEST);
    sendto(fd, buf, n, 0, (struct sockaddr *)&to, sizeof(to));
    CHECK_EQ(recv_raw(ctx, fd, buf, sizeof(buf), 300), 0);
    cr_ice_get_rx_stats(lite->ice, &st);
    CHECK_EQ(st.stun_bad, 1);
    n = binding_request(buf, sizeof(buf), user, cr_ice_local_pwd(lite->ice), true, STUN_REQUEST);
    sendto(fd, buf, n, 0, (struct sockaddr *)&to, sizeof(to));
    size_t got = recv_raw(ctx, fd, buf, sizeof(buf), 2000);
    struct stun_view v;
    CHECK(got > 0 && stun_parse(buf, got, &v) == 0 && v.cls == STUN_SUCCESS);
    cr_ice_get_rx_stats(lite->ice, &st);
    CHECK_EQ(st.renominations, 1);
    CHECK_EQ(cr_ice_send(lite->ice, (const uint8_t *)"\x80moved", 6), 0);
    got = recv_raw(ctx, fd, buf, sizeof(buf), 2000);
    CHECK(got == 6 && memcmp(buf, "\x80moved", 6) == 0);
    close(fd);
}

static void test_lite(GMainContext *ctx)
{
    struct cr_ice_mux_config mc = {.bind_ip = "127.0.0.1"};
    struct cr_ice_mux *mux = cr_ice_mux_new(ctx, &mc);
    CHECK(mux != NULL);
    if (!mux)
        return;
    uint16_t port = cr_ice_mux_port(mux);
    struct side a, b, c, d; /* a and c: clients; b and d: lite, on one port */
    struct strbuf sb;
    char want[96], desc[128];
    if (lite_new_pair(ctx, mux, &a, &b) != 0 || lite_new_pair(ctx, mux, &c, &d) != 0)
        return;
    CHECK(cr_ice_is_lite(b.ice) && !cr_ice_is_lite(a.ice));
    strbuf_init(&sb);
    cr_ice_write_candidates(b.ice, &sb);
    snprintf(want, sizeof(want), "a=candidate:1 1 udp 2130706431 127.0.0.1 %u typ host\r\n", port);
    CHECK_STR(sb.s, want);
    strbuf_free(&sb);
    cr_ice_describe_pair(b.ice, desc, sizeof(desc));
    snprintf(want, sizeof(want), "udp 127.0.0.1:%u -> 127.0.0.1:", port);
    CHECK(strncmp(desc, want, strlen(want)) == 0);

    exchange(ctx, &a, &b);
    exchange(ctx, &b, &a);
    int d_before = d.received;
    exchange(ctx, &a, &b);
    CHECK_EQ(d.received, d_before); /* one port, no cross-talk */
    exchange(ctx, &c, &d);

    cr_ice_set_consent_timing(b.ice, 100, 1000);
    run_for(ctx, 2500);
    struct cr_ice_rx_stats st;
    cr_ice_get_rx_stats(b.ice, &st);
    CHECK(connected(&b) && st.consent_sent >= 10 && st.consent_ok >= 8);
    CHECK(st.stun_answered >= 1 && st.datagrams >= 3);

    char ufrag[64];
    snprintf(ufrag, sizeof(ufrag), "%s", cr_ice_local_ufrag(d.ice));
    CHECK_EQ(cr_ice_set_remote_credentials(d.ice, "rst1", "0123456789abcdefghijkl"), 0);
    CHECK(strcmp(cr_ice_local_ufrag(d.ice), ufrag) != 0); /* ours change too (RFC 8445 §9) */
    CHECK_EQ(cr_ice_get_state(d.ice), CR_ICE_CONNECTED);
    exchange(ctx, &c, &d); /* the pair in use keeps working */

    lite_third_socket(ctx, &a, &b, port);

    cr_ice_free(a.ice); /* the client goes: b's consent expires (1 s here) */
    a.ice = NULL;
    bool failed = false, yes = true;
    int64_t end = cr_now_ms() + 3000;
    while (!failed && cr_now_ms() < end) {
        iterate_until(ctx, &failed, &yes, 50);
        failed = b.state == CR_ICE_FAILED;
    }
    CHECK(failed);
    CHECK(cr_ice_send(b.ice, (const uint8_t *)"\x80x", 2) < 0);
    struct cr_ice_mux_stats ms;
    cr_ice_mux_get_stats(mux, &ms);
    CHECK(ms.sent > 10 && ms.send_calls > 0 && ms.endpoints == 2 && ms.addresses >= 2);
    cr_ice_free(b.ice);
    cr_ice_free(c.ice);
    cr_ice_free(d.ice);
    cr_ice_mux_get_stats(mux, &ms);
    CHECK_EQ(ms.endpoints + ms.addresses, 0);
    cr_ice_mux_free(mux);
}

int main(void)
{
    GMainContext *ctx = g_main_context_new();
    test_responder();
    test_udp(ctx);
    test_tcp(ctx);
    test_candidates(ctx);
    test_free_in_callback(ctx);
    test_takeover(ctx);
    test_stun_from_elsewhere(ctx);
    test_free_other_in_callback(ctx);
    test_lite(ctx);
    test_long_session(ctx);
    /* drain whatever libnice left on the context (closing sockets, timers) */
    while (g_main_context_iteration(ctx, FALSE))
        ;
    g_main_context_unref(ctx);
    return test_report();
}
