/* Fuzz entry point for relay/net/stun_responder.c, the stateful STUN side of an ICE pair
 * (RFC 8445 §7.3 checks, RFC 7675 consent). One responder per input, with known
 * credentials, is fed a sequence of datagrams; the input is a list of
 *     flags (1 byte) | length (2 bytes, big-endian) | datagram
 * where the flags say, per datagram:
 *     bit 0     the datagram comes from an IPv6 address (else IPv4)
 *     bit 1     our consent requests go to that same address (else elsewhere)
 *     bit 2     re-sign: MESSAGE-INTEGRITY (our password for a request, the peer's for a
 *               response) and FINGERPRINT are recomputed, so mutations get past them
 *     bit 3     the transaction id becomes that of our latest consent request
 *     bit 4     no consent address at all
 *     bits 5-7  seconds that pass before it arrives; a consent request is sent when due
 * Checks: a reply is an authentic success response to the request, carrying its source
 * as XOR-MAPPED-ADDRESS; only a response to one of our pending requests, from where we
 * sent it, refreshes consent, and only once; consent expires exactly when a model of the
 * RFC's timeout says so; our own consent requests are authentic. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "framed.h"
#include "net/stun_responder.h"
#include "wire/stun.h"
#include "require.h"

#define LOCAL_UFRAG "Lufr"
#define LOCAL_PWD "local-password-0123456789"
#define REMOTE_UFRAG "Rufr"
#define REMOTE_PWD "remote-password-0123456789"
#define FINGERPRINT_XOR 0x5354554eu /* RFC 8489 §14.7 */
#define ISSUED 64                   /* consent requests remembered by the model */

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Recomputes MESSAGE-INTEGRITY (RFC 8489 §14.5) with key, then FINGERPRINT (§14.7). */
static void resign(uint8_t *m, size_t n, const char *key)
{
    struct stun_view v;
    if (stun_parse(m, n, &v) < 0)
        return;
    if (v.integrity_off) {
        uint8_t head[STUN_HEADER_LEN];
        memcpy(head, m, sizeof head);
        size_t len = v.integrity_off + 4 + STUN_HMAC_LEN - STUN_HEADER_LEN;
        head[2] = (uint8_t)(len >> 8);
        head[3] = (uint8_t)len;
        cr_stun_hmac_sha1((const uint8_t *)key, strlen(key), head, sizeof head, m + STUN_HEADER_LEN,
                          v.integrity_off - STUN_HEADER_LEN, m + v.integrity_off + 4);
    }
    if (v.fingerprint_off)
        put_be32(m + v.fingerprint_off + 4, stun_crc32(m, v.fingerprint_off) ^ FINGERPRINT_XOR);
}

static bool user_is(const struct stun_view *v, const char *user)
{
    return v->username && v->username_len == strlen(user) &&
           memcmp(v->username, user, v->username_len) == 0;
}

struct model {
    uint8_t issued[ISSUED][STUN_TXID_LEN]; /* our consent requests, oldest first */
    bool answered[ISSUED];                 /* a response to it refreshed consent */
    int n_issued;
    int64_t last_consent_ms;
};

static int issued_index(const struct model *md, const uint8_t *txid)
{
    for (int i = md->n_issued - 1; i >= 0; i--)
        if (memcmp(md->issued[i], txid, STUN_TXID_LEN) == 0)
            return i;
    return -1;
}

/* Our consent request: authentic, keyed with the peer's password, carrying our role. */
static void check_request(const uint8_t *req, size_t n, struct model *md)
{
    struct stun_view v;
    REQUIRE(n > 0 && n <= CR_STUN_MAX_MESSAGE && stun_parse(req, n, &v) == 0);
    REQUIRE(v.cls == STUN_REQUEST && v.method == STUN_METHOD_BINDING);
    REQUIRE(user_is(&v, REMOTE_UFRAG ":" LOCAL_UFRAG) && v.has_priority && v.controlling);
    REQUIRE(stun_check_fingerprint(&v) == 0);
    REQUIRE(stun_check_integrity(&v, (const uint8_t *)REMOTE_PWD, strlen(REMOTE_PWD),
                                 cr_stun_hmac_sha1) == 0);
    if (md->n_issued == ISSUED) { /* forget the oldest; it is long out of the window */
        memmove(md->issued, md->issued + 1, sizeof md->issued - sizeof md->issued[0]);
        memmove(md->answered, md->answered + 1, sizeof md->answered - sizeof md->answered[0]);
        md->n_issued--;
    }
    memcpy(md->issued[md->n_issued], v.txid, STUN_TXID_LEN);
    md->answered[md->n_issued++] = false;
}

/* Our answer to an authentic check: a success response with the same transaction id,
 * keyed with our password, telling the peer the address it came from. */
static void check_reply(const struct stun_view *in, const uint8_t *reply, size_t n,
                        const struct sockaddr *from, bool nominate)
{
    struct stun_view v;
    REQUIRE(n > 0 && n <= CR_STUN_MAX_MESSAGE && stun_parse(reply, n, &v) == 0);
    REQUIRE(v.cls == STUN_SUCCESS && v.method == STUN_METHOD_BINDING);
    REQUIRE(memcmp(v.txid, in->txid, STUN_TXID_LEN) == 0);
    REQUIRE(stun_check_fingerprint(&v) == 0);
    REQUIRE(stun_check_integrity(&v, (const uint8_t *)LOCAL_PWD, strlen(LOCAL_PWD),
                                 cr_stun_hmac_sha1) == 0);
    if (from->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)from;
        REQUIRE(v.xor_mapped.family == 4 && v.xor_mapped.port == ntohs(a->sin_port) &&
                memcmp(v.xor_mapped.ip, &a->sin_addr, 4) == 0);
    } else {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from;
        REQUIRE(v.xor_mapped.family == 6 && v.xor_mapped.port == ntohs(a->sin6_port) &&
                memcmp(v.xor_mapped.ip, &a->sin6_addr, 16) == 0);
    }
    REQUIRE(nominate == in->use_candidate);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sockaddr_in v4, other;
    static struct sockaddr_in6 v6;
    if (!v4.sin_family) {
        v4.sin_family = other.sin_family = AF_INET;
        v4.sin_port = htons(50000);
        other.sin_port = htons(50001);
        inet_pton(AF_INET, "192.0.2.1", &v4.sin_addr);
        inet_pton(AF_INET, "198.51.100.7", &other.sin_addr);
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(50000);
        inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr);
    }
    const struct cr_stun_responder_config cfg = {.local_ufrag = LOCAL_UFRAG,
                                                 .local_pwd = LOCAL_PWD,
                                                 .remote_ufrag = REMOTE_UFRAG,
                                                 .remote_pwd = REMOTE_PWD,
                                                 .controlling = true,
                                                 .priority = 0x6e001eff};
    int64_t now = 1000000;
    struct cr_stun_responder *r = cr_stun_responder_new(&cfg, now);
    static struct model md;
    memset(&md, 0, sizeof md);
    md.last_consent_ms = now;
    size_t pos = 0;
    uint8_t flags;
    const uint8_t *body;
    size_t len;
    while (fuzz_next_framed(data, size, &pos, &flags, &body, &len)) {
        uint8_t *m = calloc(len ? len : 1, 1); /* exact size: overreads are caught */
        memcpy(m, body, len);

        now += (flags >> 5) * 1000;
        uint8_t req[CR_STUN_MAX_MESSAGE];
        size_t req_len = cr_stun_responder_consent_request(r, now, req);
        if (req_len)
            check_request(req, req_len, &md);
        if ((flags & 8) && len >= STUN_HEADER_LEN && md.n_issued)
            memcpy(m + 8, md.issued[md.n_issued - 1], STUN_TXID_LEN);
        if ((flags & 4) && len >= STUN_HEADER_LEN)
            resign(m, len, (m[0] & 1) == 0 && (m[1] & 0x10) == 0 ? LOCAL_PWD : REMOTE_PWD);

        const struct sockaddr *from =
            flags & 1 ? (const struct sockaddr *)&v6 : (const struct sockaddr *)&v4;
        const struct sockaddr *consent_to = flags & 16  ? NULL
                                            : flags & 2 ? from
                                                        : (const struct sockaddr *)&other;
        uint8_t reply[CR_STUN_MAX_MESSAGE];
        size_t reply_len = 12345;
        bool nominate = true;
        enum cr_stun_result res =
            cr_stun_responder_input(r, m, len, from, consent_to, now, reply, &reply_len, &nominate);
        struct stun_view v;
        bool parsed = stun_parse(m, len, &v) == 0;
        REQUIRE(res == CR_STUN_REPLY || (reply_len == 0 && !nominate));
        switch (res) {
        case CR_STUN_BAD:
            break;
        case CR_STUN_IGNORED:
            REQUIRE(parsed);
            break;
        case CR_STUN_REPLY:
            REQUIRE(parsed && v.cls == STUN_REQUEST && v.method == STUN_METHOD_BINDING);
            REQUIRE(user_is(&v, LOCAL_UFRAG ":" REMOTE_UFRAG) && !v.unknown_required);
            check_reply(&v, reply, reply_len, from, nominate);
            break;
        case CR_STUN_CONSENT: {
            REQUIRE(parsed && v.cls == STUN_SUCCESS && v.method == STUN_METHOD_BINDING);
            REQUIRE(consent_to == from); /* where our requests went */
            int i = issued_index(&md, v.txid);
            REQUIRE(i >= 0 && !md.answered[i]); /* ours, and answered only once */
            REQUIRE(i >= md.n_issued - 4);      /* one of the last few (PENDING) */
            REQUIRE(stun_check_integrity(&v, (const uint8_t *)REMOTE_PWD, strlen(REMOTE_PWD),
                                         cr_stun_hmac_sha1) == 0);
            md.answered[i] = true;
            md.last_consent_ms = now;
            break;
        }
        default:
            abort();
        }
        REQUIRE(cr_stun_responder_consent_expired(r, now) ==
                (now - md.last_consent_ms >= CR_STUN_CONSENT_TIMEOUT_MS));
        free(m);
    }
    cr_stun_responder_free(r);
    return 0;
}
