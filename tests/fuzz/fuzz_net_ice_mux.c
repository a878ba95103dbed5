/* Fuzz entry point for the shared media port: relay/net/ice_mux.c (which peer a datagram
 * belongs to) and relay/net/ice_lite.c (checks, selection, what reaches the peer). A mux on
 * 127.0.0.1 serves two lite peers, A and B, with known remote credentials; the input is a
 * list of datagrams
 *     flags (1 byte) | length (2 bytes, big-endian) | datagram
 * from one of four addresses (127.0.0.2-5, so whatever the relay sends back stays on this
 * machine). Flags:
 *     bits 0-1  the source address
 *     bit 2     replace the datagram by a Binding request for a peer, signed and
 *               fingerprinted as a browser's (a check that passes), USERNAME
 *               "<its ufrag>:<remote ufrag>"
 *     bit 3     ... for B (else A)
 *     bit 4     ... with USE-CANDIDATE
 *     bit 5     ... signed with a wrong password (a forged check)
 * Checks, against a model of who owns each address (the last peer a passing check from it
 * named): a datagram that is not STUN reaches the owner's receive callback, once, and
 * nobody's if the address has no owner; a forged check changes no owner; each peer reports
 * CR_ICE_CONNECTED at most once, and only after a passing check. */
#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framed.h"
#include "net/ice.h"
#include "net/ice_mux.h"
#include "net/stun_responder.h"
#include "wire/stun.h"
#include "require.h"

#define ADDRS 4
static const char *const remote_ufrag[2] = {"RufA", "RufB"};
static const char *const remote_pwd[2] = {"remote-password-A-0123456789", "remote-password-B-0123"};

struct side {
    struct cr_ice *ice;
    int received, connected_reports;
    bool passed; /* a passing check named it */
};

static void on_state(void *user, enum cr_ice_state state)
{
    struct side *s = user;
    if (state == CR_ICE_CONNECTED) {
        REQUIRE(s->passed);
        s->connected_reports++;
        REQUIRE(s->connected_reports == 1);
    }
}

static void on_candidate(void *user, const char *candidate)
{
    (void)user;
    (void)candidate;
}

static void on_recv(void *user, uint8_t *buf, size_t len)
{
    struct side *s = user;
    s->received++;
    if (len > 1)
        cr_ice_send(s->ice, buf, len); /* the send path too: an echo */
}

static const struct cr_ice_callbacks callbacks = {
    .on_state = on_state, .on_candidate = on_candidate, .on_recv = on_recv};

/* A browser's check for side i (RFC 8445 §7.2.2). */
static size_t make_check(struct side *sides, int i, bool nominate, bool forged, uint8_t *out,
                         size_t cap, uint32_t n)
{
    char user[160];
    uint8_t txid[STUN_TXID_LEN] = {'f', 'u', 'z', 'z'};
    memcpy(txid + 4, &n, sizeof n);
    snprintf(user, sizeof user, "%s:%s", cr_ice_local_ufrag(sides[i].ice), remote_ufrag[i]);
    const char *pwd = forged ? "not-the-password-at-all!" : cr_ice_local_pwd(sides[i].ice);
    struct stun_writer w;
    stun_writer_init(&w, out, cap, STUN_METHOD_BINDING, STUN_REQUEST, txid);
    stun_put_attr(&w, STUN_ATTR_USERNAME, user, strlen(user));
    stun_put_u32(&w, STUN_ATTR_PRIORITY, 0x6e001eff);
    stun_put_u64(&w, STUN_ATTR_ICE_CONTROLLING, 0x1234567890abcdefULL);
    if (nominate)
        stun_put_attr(&w, STUN_ATTR_USE_CANDIDATE, NULL, 0);
    stun_put_integrity(&w, (const uint8_t *)pwd, strlen(pwd), cr_stun_hmac_sha1);
    stun_put_fingerprint(&w);
    int len = stun_finish(&w);
    return len > 0 ? (size_t)len : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static GMainContext *ctx;
    static struct cr_ice_mux *mux;
    static struct sockaddr_in from[ADDRS];
    if (!ctx) {
        ctx = g_main_context_new();
        struct cr_ice_mux_config mc = {.bind_ip = "127.0.0.1"};
        mux = cr_ice_mux_new(ctx, &mc);
        REQUIRE(mux);
        for (int i = 0; i < ADDRS; i++) {
            from[i].sin_family = AF_INET;
            from[i].sin_port = htons(50000);
            from[i].sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)i);
        }
    }
    struct side sides[2];
    memset(sides, 0, sizeof sides);
    struct cr_ice_config ic = {.mux = mux};
    for (int i = 0; i < 2; i++) {
        sides[i].ice = cr_ice_new(ctx, &ic, &callbacks, &sides[i]);
        REQUIRE(sides[i].ice);
        REQUIRE(cr_ice_set_remote_credentials(sides[i].ice, remote_ufrag[i], remote_pwd[i]) == 0);
    }
    int owner[ADDRS] = {-1, -1, -1, -1};
    size_t pos = 0;
    uint32_t n = 0;
    uint8_t flags;
    const uint8_t *body;
    size_t len;
    while (fuzz_next_framed(data, size, &pos, &flags, &body, &len)) {
        int a = flags & 3, who = (flags >> 3) & 1;
        bool is_check = flags & 4, forged = flags & 32;
        uint8_t check[CR_STUN_MAX_MESSAGE];
        if (is_check) {
            len = make_check(sides, who, flags & 16, forged, check, sizeof check, n++);
            body = check;
        }
        uint8_t *m = malloc(len ? len : 1); /* exact size: overreads are caught */
        memcpy(m, body, len);
        int before[2] = {sides[0].received, sides[1].received};
        if (is_check && !forged)
            sides[who].passed = true; /* before: it may report connected from inside */
        cr_ice_mux_input(mux, 0, m, len, (const struct sockaddr *)&from[a]);
        if (is_check && !forged) {
            owner[a] = who;
        } else if (len > 0 && m[0] > 3) { /* not STUN (RFC 7983): the owner's, or nobody's */
            for (int i = 0; i < 2; i++)
                REQUIRE(sides[i].received == before[i] + (owner[a] == i));
        } else {
            REQUIRE(sides[0].received == before[0] && sides[1].received == before[1]);
        }
        free(m);
    }
    for (int i = 0; i < 2; i++)
        cr_ice_free(sides[i].ice);
    cr_ice_mux_flush(mux); /* the answers and echoes leave, to 127.0.0.2-5 */
    while (g_main_context_iteration(ctx, FALSE))
        ;
    return 0;
}
