/* Tests relay/net/dtls.c with real OpenSSL on both ends: a server and a client, each with
 * its own certificate, handshake entirely in memory by passing datagrams between their
 * send callbacks (RFC 5764 §4.2 keys, RFC 8122 fingerprints, RFC 6347 §4.2.4 retransmission,
 * RFC 6347 §4.1.2.7 discarding of invalid records, RFC 7918 false start). */
#include <ctype.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "net/dtls.h"
#include "test.h"

#define MAX_QUEUED 64

struct endpoint {
    struct cr_dtls *dtls;
    struct endpoint *peer;
    /* datagrams sent by this endpoint, waiting for delivery to peer */
    uint8_t *queue[MAX_QUEUED];
    size_t queue_len[MAX_QUEUED];
    int queued;
    int sent_total;
    size_t max_datagram;
    int drop_index; /* drop the sent_total == drop_index datagram; -1: none */
    bool keyed, connected, failed, closed;
    bool free_on_connected; /* frees its cr_dtls from inside on_connected */
    char why[128];
    struct cr_dtls_keys keys;
};

static void ep_send(void *user, const uint8_t *buf, size_t len)
{
    struct endpoint *e = user;
    int index = e->sent_total++;
    if (len > e->max_datagram)
        e->max_datagram = len;
    if (index == e->drop_index || e->queued == MAX_QUEUED)
        return;
    e->queue[e->queued] = malloc(len);
    memcpy(e->queue[e->queued], buf, len);
    e->queue_len[e->queued++] = len;
}

static void ep_keys(void *user, const struct cr_dtls_keys *keys)
{
    struct endpoint *e = user;
    CHECK(!e->keyed && !e->connected); /* once, first */
    e->keyed = true;
    e->keys = *keys;
}

static void ep_connected(void *user)
{
    struct endpoint *e = user;
    CHECK(e->keyed);
    e->connected = true;
    if (e->free_on_connected) {
        cr_dtls_free(e->dtls);
        e->dtls = NULL;
    }
}

static void ep_failed(void *user, const char *why)
{
    struct endpoint *e = user;
    CHECK(!e->failed); /* once */
    e->failed = true;
    strncpy(e->why, why, sizeof(e->why) - 1);
}

static void ep_closed(void *user) { ((struct endpoint *)user)->closed = true; }

static const struct cr_dtls_callbacks callbacks = {.send = ep_send,
                                                   .on_keys = ep_keys,
                                                   .on_connected = ep_connected,
                                                   .on_failed = ep_failed,
                                                   .on_closed = ep_closed};

/* Delivers everything e has queued to its peer; returns how many datagrams moved. */
static int deliver(struct endpoint *e)
{
    int n = e->queued;
    e->queued = 0;
    for (int i = 0; i < n; i++) {
        cr_dtls_input(e->peer->dtls, e->queue[i], e->queue_len[i]);
        free(e->queue[i]);
    }
    return n;
}

static bool settled(struct endpoint *a, struct endpoint *b)
{
    return (a->connected || a->failed) && (b->connected || b->failed);
}

/* Shuttles datagrams until both sides are done or nothing moves; with timers, waits for
 * the earliest DTLS timer (the test's only wait: the retransmission timer is real time in
 * OpenSSL) up to deadline_ms. */
static void run(struct endpoint *a, struct endpoint *b, bool timers, int64_t deadline_ms)
{
    int64_t end = cr_now_ms() + deadline_ms;
    while (!settled(a, b) && cr_now_ms() < end) {
        if (deliver(a) + deliver(b) > 0)
            continue;
        if (!timers)
            break;
        int ta = cr_dtls_timeout_ms(a->dtls), tb = cr_dtls_timeout_ms(b->dtls);
        int t = ta < 0 ? tb : tb < 0 ? ta : ta < tb ? ta : tb;
        if (t < 0)
            break;
        poll(NULL, 0, t);
        cr_dtls_on_timeout(a->dtls);
        cr_dtls_on_timeout(b->dtls);
    }
}

/* Splits "sha-256 AB:CD..." into its two parts. */
static void split_fp(const char *fp, char *alg, char *hex)
{
    const char *sp = strchr(fp, ' ');
    memcpy(alg, fp, (size_t)(sp - fp));
    alg[sp - fp] = '\0';
    strcpy(hex, sp + 1);
}

static void setup(struct endpoint *srv, struct endpoint *cli, struct cr_dtls_cert *scert,
                  struct cr_dtls_cert *ccert, const char *cli_fp_override,
                  const char *srv_fp_override)
{
    char alg[16], shex[128], chex[128];
    memset(srv, 0, sizeof(*srv));
    memset(cli, 0, sizeof(*cli));
    srv->peer = cli;
    cli->peer = srv;
    srv->drop_index = cli->drop_index = -1;
    split_fp(cr_dtls_cert_fingerprint(ccert), alg, chex);
    split_fp(cr_dtls_cert_fingerprint(scert), alg, shex);
    for (char *p = shex; *p; p++) /* hex compares case-insensitively */
        *p = (char)tolower((unsigned char)*p);
    srv->dtls = cr_dtls_new(scert, CR_DTLS_SERVER, "sha-256",
                            cli_fp_override ? cli_fp_override : chex, &callbacks, srv);
    cli->dtls = cr_dtls_new(ccert, CR_DTLS_CLIENT, "SHA-256",
                            srv_fp_override ? srv_fp_override : shex, &callbacks, cli);
    CHECK(srv->dtls != NULL);
    CHECK(cli->dtls != NULL);
}

static void teardown(struct endpoint *a, struct endpoint *b)
{
    for (int i = 0; i < a->queued; i++)
        free(a->queue[i]);
    for (int i = 0; i < b->queued; i++)
        free(b->queue[i]);
    cr_dtls_free(a->dtls);
    cr_dtls_free(b->dtls);
}

static void check_keys(struct endpoint *srv, struct endpoint *cli, enum cr_srtp_profile profile)
{
    CHECK(srv->connected && cli->connected);
    CHECK(!srv->failed && !cli->failed);
    CHECK_EQ(srv->keys.profile, profile);
    CHECK_EQ(cli->keys.profile, profile);
    CHECK_EQ(srv->keys.key_len, profile == CR_SRTP_AEAD_AES_128_GCM ? 28 : 30);
    CHECK_EQ(cli->keys.key_len, srv->keys.key_len);
    CHECK(memcmp(cli->keys.local, srv->keys.remote, srv->keys.key_len) == 0);
    CHECK(memcmp(cli->keys.remote, srv->keys.local, srv->keys.key_len) == 0);
    CHECK(memcmp(cli->keys.local, cli->keys.remote, srv->keys.key_len) != 0);
}

static void test_cert(struct cr_dtls_cert *cert)
{
    const char *fp = cr_dtls_cert_fingerprint(cert);
    CHECK(strncmp(fp, "sha-256 ", 8) == 0);
    CHECK_EQ(strlen(fp), 8 + 32 * 3 - 1);
    for (const char *p = fp + 8; *p; p++)
        CHECK((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F') || *p == ':');
}

static void test_handshake(struct cr_dtls_cert *s, struct cr_dtls_cert *c)
{
    struct endpoint srv, cli;
    setup(&srv, &cli, s, c, NULL, NULL);
    CHECK_EQ(cr_dtls_timeout_ms(srv.dtls), -1); /* server waits without a timer */
    CHECK_EQ(cr_dtls_start(srv.dtls), 0);
    CHECK_EQ(srv.sent_total, 0);
    CHECK_EQ(cr_dtls_start(cli.dtls), 0);
    CHECK_EQ(cli.sent_total, 1);             /* ClientHello */
    CHECK(cr_dtls_timeout_ms(cli.dtls) > 0); /* retransmission timer armed */
    run(&srv, &cli, false, 5000);
    check_keys(&srv, &cli, CR_SRTP_AEAD_AES_128_GCM); /* GCM preferred */
    CHECK(srv.max_datagram <= 1200 && cli.max_datagram <= 1200);
    CHECK_EQ(cr_dtls_timeout_ms(cli.dtls), -1);

    /* close_notify reaches the peer's on_closed; nothing is reported after it */
    cr_dtls_close(cli.dtls);
    CHECK_EQ(cli.queued, 1);
    deliver(&cli);
    CHECK(srv.closed);
    CHECK(!srv.failed);
    uint8_t junk[] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 1, 0};
    CHECK(cr_dtls_input(srv.dtls, junk, sizeof(junk)) < 0);
    teardown(&srv, &cli);
}

/* RFC 7918: the client has its keys as soon as its Finished is out, the server when that
 * flight arrives, and they are the same; the client is connected a round trip later. */
static void test_false_start(struct cr_dtls_cert *s, struct cr_dtls_cert *c)
{
    struct endpoint srv, cli;
    setup(&srv, &cli, s, c, NULL, NULL);
    cr_dtls_start(cli.dtls);
    deliver(&cli); /* ClientHello */
    deliver(&srv); /* ServerHello ... ServerHelloDone */
    CHECK(cli.keyed && !cli.connected && !srv.keyed);
    CHECK(cr_dtls_timeout_ms(cli.dtls) > 0); /* still resends its last flight if it must */
    CHECK(cr_dtls_send_data(cli.dtls, (const uint8_t *)"x", 1) < 0); /* no data before done */
    deliver(&cli);                                                   /* Certificate ... Finished */
    CHECK(srv.keyed && srv.connected && !cli.connected);
    deliver(&srv); /* ChangeCipherSpec, Finished */
    check_keys(&srv, &cli, CR_SRTP_AEAD_AES_128_GCM);
    teardown(&srv, &cli);
}

/* cr_dtls_free from inside a callback is safe (ASan checks the deferred release). */
static void test_free_in_callback(struct cr_dtls_cert *s, struct cr_dtls_cert *c)
{
    struct endpoint srv, cli;
    setup(&srv, &cli, s, c, NULL, NULL);
    srv.free_on_connected = cli.free_on_connected = true;
    cr_dtls_start(cli.dtls);
    run(&srv, &cli, false, 5000);
    CHECK(srv.connected && cli.connected);
    CHECK(srv.dtls == NULL && cli.dtls == NULL);
    teardown(&srv, &cli);
}

/* After the handshake, an association that carries no data gives its state back: later
 * datagrams are dropped, data cannot be sent, close sends nothing, and it frees cleanly. */
static void test_retire(struct cr_dtls_cert *s, struct cr_dtls_cert *c)
{
    struct endpoint srv, cli;
    setup(&srv, &cli, s, c, NULL, NULL);
    CHECK(!cr_dtls_retire(cli.dtls)); /* not connected yet */
    cr_dtls_start(cli.dtls);
    run(&srv, &cli, false, 5000);
    CHECK(srv.connected && cli.connected);
    CHECK(cr_dtls_send_data(srv.dtls, (const uint8_t *)"x", 1) == 0);
    deliver(&srv);
    CHECK(cr_dtls_retire(srv.dtls));
    CHECK(!cr_dtls_retire(srv.dtls)); /* once */
    CHECK(cr_dtls_send_data(srv.dtls, (const uint8_t *)"x", 1) < 0);
    CHECK_EQ(cr_dtls_timeout_ms(srv.dtls), -1);
    cr_dtls_close(cli.dtls); /* its close_notify reaches a retired server: dropped */
    CHECK_EQ(cli.queued, 1);
    deliver(&cli);
    CHECK(!srv.closed && !srv.failed);
    int sent = srv.sent_total;
    cr_dtls_close(srv.dtls); /* nothing to say any more */
    CHECK_EQ(srv.sent_total, sent);
    teardown(&srv, &cli);
}

static void test_profiles(struct cr_dtls_cert *s, struct cr_dtls_cert *c)
{
    static const enum cr_srtp_profile sha1[] = {CR_SRTP_AES128_CM_SHA1_80};
    static const enum cr_srtp_profile both[] = {CR_SRTP_AEAD_AES_128_GCM,
                                                CR_SRTP_AES128_CM_SHA1_80};
    static const enum cr_srtp_profile bad[] = {(enum cr_srtp_profile)0x0002};
    struct endpoint srv, cli;

    CHECK(cr_dtls_cert_set_srtp_profiles(c, bad, 1) < 0);
    CHECK(cr_dtls_cert_set_srtp_profiles(c, sha1, 0) < 0);
    CHECK_EQ(cr_dtls_cert_set_srtp_profiles(c, sha1, 1), 0); /* client offers only SHA1_80 */
    setup(&srv, &cli, s, c, NULL, NULL);
    cr_dtls_start(cli.dtls);
    run(&srv, &cli, false, 5000);
    check_keys(&srv, &cli, CR_SRTP_AES128_CM_SHA1_80);
    teardown(&srv, &cli);
    CHECK_EQ(cr_dtls_cert_set_srtp_profiles(c, both, 2), 0);
}

static void test_wrong_fingerprint(struct cr_dtls_cert *s, struct cr_dtls_cert *c)
{
    struct endpoint srv, cli;
    char hex[128];
    strcpy(hex, strchr(cr_dtls_cert_fingerprint(c), ' ') + 1);
    hex[0] = hex[0] == 'A' ? 'B' : 'A';
    setup(&srv, &cli, s, c, hex, NULL); /* the server expects another client certificate */
    cr_dtls_start(cli.dtls);
    run(&srv, &cli, false, 5000);
    CHECK(srv.failed && cli.failed); /* the client hears the server's alert */
    CHECK(!srv.connected && !cli.connected);
    CHECK_STR(srv.why, "fingerprint mismatch");
    /* a failed association takes no more input and reports nothing more */
    uint8_t rec[] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0};
    CHECK(cr_dtls_input(srv.dtls, rec, sizeof(rec)) < 0);
    teardown(&srv, &cli);

    strcpy(hex, strchr(cr_dtls_cert_fingerprint(s), ' ') + 1);
    hex[1] = hex[1] == 'A' ? 'B' : 'A';
    setup(&srv, &cli, s, c, NULL, hex); /* the client expects another server certificate */
    cr_dtls_start(cli.dtls);
    run(&srv, &cli, false, 5000);
    CHECK(srv.failed && cli.failed);
    CHECK(!srv.connected && !cli.connected && !cli.keyed); /* no keys with a wrong peer */
    CHECK_STR(cli.why, "fingerprint mismatch");
    teardown(&srv, &cli);

    /* malformed SDP fingerprints are refused at creation */
    CHECK(cr_dtls_new(s, CR_DTLS_SERVER, "sha-256", "AB:CD", &callbacks, NULL) == NULL);
    CHECK(cr_dtls_new(s, CR_DTLS_SERVER, "md5", hex, &callbacks, NULL) == NULL);
    CHECK(cr_dtls_new(s, CR_DTLS_SERVER, "sha-256", "zz", &callbacks, NULL) == NULL);
    CHECK(cr_dtls_new(s, CR_DTLS_SERVER, "sha-256", "", &callbacks, NULL) == NULL);
    hex[2] = ' ';
    CHECK(cr_dtls_new(s, CR_DTLS_SERVER, "sha-256", hex, &callbacks, NULL) == NULL);
}

static void test_garbage(struct cr_dtls_cert *s, struct cr_dtls_cert *c)
{
    struct endpoint srv, cli;
    uint8_t buf[1500];
    setup(&srv, &cli, s, c, NULL, NULL);
    srand(42);
    for (int i = 0; i < 2000; i++) { /* random bytes, and random bytes behind a valid header */
        size_t len = (size_t)(rand() % (int)sizeof(buf));
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)rand();
        if (i % 2 && len >= 13) {
            buf[0] = (uint8_t)(20 + rand() % 4);
            buf[1] = 0xfe;
            buf[2] = 0xfd;
            buf[11] = (uint8_t)((len - 13) >> 8);
            buf[12] = (uint8_t)(len - 13);
        }
        cr_dtls_input(cli.dtls, buf, len); /* client not started yet: no handshake to kill */
    }
    CHECK(cr_dtls_input(srv.dtls, buf, 0) < 0);
    CHECK(cr_dtls_input(srv.dtls, (const uint8_t *)"\x16\xfe\xfd", 3) < 0);
    /* the server survives garbage while waiting for a ClientHello */
    for (int i = 0; i < 200; i++) {
        size_t len = 1 + (size_t)(rand() % 200);
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)rand();
        cr_dtls_input(srv.dtls, buf, len);
    }
    teardown(&srv, &cli);

    /* garbage in the middle of a handshake that is otherwise fine */
    setup(&srv, &cli, s, c, NULL, NULL);
    cr_dtls_start(cli.dtls);
    for (int i = 0; i < 50; i++)
        cr_dtls_input(srv.dtls, buf, 1 + (size_t)(rand() % 100));
    run(&srv, &cli, false, 5000);
    check_keys(&srv, &cli, CR_SRTP_AEAD_AES_128_GCM);
    teardown(&srv, &cli);
}

/* Drops one datagram of a flight; the retransmission timer recovers it. */
static void test_lost_flight(struct cr_dtls_cert *s, struct cr_dtls_cert *c, bool server_side)
{
    struct endpoint srv, cli;
    setup(&srv, &cli, s, c, NULL, NULL);
    if (server_side)
        srv.drop_index = 0; /* the server's first flight (ServerHello ... ServerHelloDone) */
    else
        cli.drop_index = 1; /* the client's second flight (Certificate ... Finished) */
    cr_dtls_start(cli.dtls);
    run(&srv, &cli, false, 5000);
    CHECK(!srv.connected || !cli.connected); /* stuck without the timer */
    int64_t t0 = cr_now_ms();
    run(&srv, &cli, true, 10000);
    check_keys(&srv, &cli, CR_SRTP_AEAD_AES_128_GCM);
    CHECK(cr_now_ms() - t0 < 3000); /* one retransmission at the 400 ms initial timer */
    teardown(&srv, &cli);
}

int main(void)
{
    struct cr_dtls_cert *s = cr_dtls_cert_new(), *c = cr_dtls_cert_new();
    CHECK(s != NULL && c != NULL);
    CHECK(strcmp(cr_dtls_cert_fingerprint(s), cr_dtls_cert_fingerprint(c)) != 0);
    test_cert(s);
    test_handshake(s, c);
    test_false_start(s, c);
    test_free_in_callback(s, c);
    test_retire(s, c);
    test_profiles(s, c);
    test_wrong_fingerprint(s, c);
    test_garbage(s, c);
    test_lost_flight(s, c, true);
    test_lost_flight(s, c, false);
    cr_dtls_free(NULL);
    cr_dtls_cert_free(s);
    cr_dtls_cert_free(c);
    cr_dtls_cert_free(NULL);
    return test_report();
}
