/* Short-term-credential STUN for an ICE pair after ice.c has taken its socket over from
 * libnice (see ice.c): the checks the peer keeps sending on the selected pair and the
 * consent checks we owe it.
 *
 * Incoming Binding requests (RFC 8445 §7.3) must carry FINGERPRINT (§7.2.2, RFC 8489
 * §14.7), USERNAME "<our ufrag>:<their ufrag>" (RFC 8445 §7.2.2) and a MESSAGE-INTEGRITY
 * keyed with our password (RFC 8489 §9.1.3, §14.5); they are answered with a success
 * response carrying XOR-MAPPED-ADDRESS (§14.2) of their source, MESSAGE-INTEGRITY keyed
 * with the same password and FINGERPRINT (RFC 8445 §7.3.1.4). Anything else that fails
 * those checks, including comprehension-required attributes we do not know (RFC 8489
 * §6.3.1.1, where a full server would answer 420), is reported as CR_STUN_BAD for the
 * caller to drop and count. Indications (keepalives, RFC 8445 §11) need no answer.
 *
 * Consent freshness (RFC 7675 §5.1): a Binding request with our credentials for the peer
 * (USERNAME "<their ufrag>:<our ufrag>", PRIORITY, our role attribute, MESSAGE-INTEGRITY
 * keyed with their password, FINGERPRINT) every 5 s ± 20 %, each with a fresh random
 * transaction id; an authenticated success response to one of the last few, from the
 * address we sent to, refreshes consent; after 30 s without one consent is lost and the
 * caller must stop sending. Role conflicts (RFC 8445 §7.3.1.1) are libnice's business
 * while it checks; by the time we answer, roles are settled and role attributes are not
 * examined. */
#include "net/stun_responder.h"

#include <netinet/in.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "wire/stun.h"

#define PENDING 4 /* consent requests whose responses still count */

struct cr_stun_responder {
    char *local_pwd, *remote_pwd; /* owned */
    char *inbound_user;           /* owned: "<local ufrag>:<remote ufrag>", what checks carry */
    char *outbound_user;          /* owned: "<remote ufrag>:<local ufrag>", what ours carry */
    bool controlling;
    uint32_t priority;
    uint64_t tie_breaker;
    uint8_t pending[PENDING][STUN_TXID_LEN]; /* state: our latest consent transactions */
    bool pending_used[PENDING];
    unsigned next_pending;
    int64_t last_consent_ms, next_request_ms; /* state */
    int interval_ms, timeout_ms;
};

/* ---- HMAC-SHA1 (RFC 2104) through OpenSSL 3's EVP_MAC ---- */

static EVP_MAC *hmac_alg; /* fetched once, kept for the process */
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void fetch_hmac(void) { hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL); }

void cr_stun_hmac_sha1(const uint8_t *key, size_t key_len, const uint8_t *head, size_t head_len,
                       const uint8_t *rest, size_t rest_len, uint8_t *out)
{
    pthread_once(&hmac_once, fetch_hmac);
    char digest[] = "SHA1";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    EVP_MAC_CTX *ctx = hmac_alg ? EVP_MAC_CTX_new(hmac_alg) : NULL;
    size_t n = 0;
    if (!ctx || !EVP_MAC_init(ctx, key, key_len, params) || !EVP_MAC_update(ctx, head, head_len) ||
        !EVP_MAC_update(ctx, rest, rest_len) || !EVP_MAC_final(ctx, out, &n, STUN_HMAC_LEN) ||
        n != STUN_HMAC_LEN)
        memset(out, 0, STUN_HMAC_LEN); /* matches nothing a peer computed */
    EVP_MAC_CTX_free(ctx);
}

/* ---- creation ---- */

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = cr_malloc(n);
    snprintf(s, n, "%s:%s", a, b);
    return s;
}

static void random_bytes(void *p, size_t n)
{
    if (RAND_bytes(p, (int)n) != 1)
        abort(); /* no randomness: transaction ids would be guessable (RFC 8489 §6) */
}

/* RFC 7675 §5.1: uniformly within ± 20 % of the interval. */
static int64_t jittered(int interval_ms)
{
    uint32_t r;
    random_bytes(&r, sizeof(r));
    return (int64_t)interval_ms * 4 / 5 +
           (int64_t)((uint64_t)r * (uint32_t)interval_ms * 2 / 5 >> 32);
}

struct cr_stun_responder *cr_stun_responder_new(const struct cr_stun_responder_config *config,
                                                int64_t now_ms)
{
    struct cr_stun_responder *r = CR_NEW(struct cr_stun_responder);
    r->local_pwd = cr_strdup(config->local_pwd);
    r->remote_pwd = cr_strdup(config->remote_pwd);
    r->inbound_user = join(config->local_ufrag, config->remote_ufrag);
    r->outbound_user = join(config->remote_ufrag, config->local_ufrag);
    r->controlling = config->controlling;
    r->priority = config->priority;
    random_bytes(&r->tie_breaker, sizeof(r->tie_breaker));
    cr_stun_responder_set_timing(r, CR_STUN_CONSENT_INTERVAL_MS, CR_STUN_CONSENT_TIMEOUT_MS);
    r->last_consent_ms = now_ms;
    r->next_request_ms = now_ms + jittered(r->interval_ms);
    return r;
}

void cr_stun_responder_free(struct cr_stun_responder *r)
{
    if (!r)
        return;
    free(r->local_pwd);
    free(r->remote_pwd);
    free(r->inbound_user);
    free(r->outbound_user);
    free(r);
}

void cr_stun_responder_set_timing(struct cr_stun_responder *r, int interval_ms, int timeout_ms)
{
    r->interval_ms = interval_ms > 0 ? interval_ms : CR_STUN_CONSENT_INTERVAL_MS;
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : CR_STUN_CONSENT_TIMEOUT_MS;
    if (r->next_request_ms > r->last_consent_ms + r->interval_ms)
        r->next_request_ms = r->last_consent_ms + r->interval_ms;
}

/* ---- input ---- */

static int to_stun_addr(const struct sockaddr *sa, struct stun_addr *a)
{
    memset(a, 0, sizeof(*a));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        a->family = 4;
        memcpy(a->ip, &in->sin_addr, 4);
        a->port = ntohs(in->sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        a->family = 6;
        memcpy(a->ip, &in6->sin6_addr, 16);
        a->port = ntohs(in6->sin6_port);
        return 0;
    }
    return -1;
}

static bool same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
    struct stun_addr x, y;
    return to_stun_addr(a, &x) == 0 && to_stun_addr(b, &y) == 0 && x.family == y.family &&
           x.port == y.port && memcmp(x.ip, y.ip, x.family == 4 ? 4 : 16) == 0;
}

static bool credentials_match(const struct stun_view *v, const char *user)
{
    size_t n = strlen(user);
    return v->username && v->username_len == n && memcmp(v->username, user, n) == 0;
}

/* RFC 8445 §7.3: a check to us; answered as §7.3.1.4 says. */
static enum cr_stun_result answer(struct cr_stun_responder *r, const struct stun_view *v,
                                  const struct sockaddr *from, uint8_t *reply, size_t *reply_len,
                                  bool *nominate)
{
    struct stun_addr mapped;
    if (stun_check_fingerprint(v) < 0 || v->unknown_required ||
        !credentials_match(v, r->inbound_user) ||
        stun_check_integrity(v, (const uint8_t *)r->local_pwd, strlen(r->local_pwd),
                             cr_stun_hmac_sha1) < 0 ||
        to_stun_addr(from, &mapped) < 0)
        return CR_STUN_BAD;
    struct stun_writer w;
    stun_writer_init(&w, reply, CR_STUN_MAX_MESSAGE, STUN_METHOD_BINDING, STUN_SUCCESS, v->txid);
    stun_put_xor_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped);
    stun_put_integrity(&w, (const uint8_t *)r->local_pwd, strlen(r->local_pwd), cr_stun_hmac_sha1);
    stun_put_fingerprint(&w);
    int n = stun_finish(&w);
    if (n < 0)
        return CR_STUN_BAD; /* cannot happen: the reply's size does not depend on the input */
    *reply_len = (size_t)n;
    *nominate = v->use_candidate;
    return CR_STUN_REPLY;
}

/* RFC 7675 §5.1: a response to one of our consent requests. */
static enum cr_stun_result consent_response(struct cr_stun_responder *r, const struct stun_view *v,
                                            const struct sockaddr *from,
                                            const struct sockaddr *consent_to, int64_t now_ms)
{
    int slot = -1;
    for (int i = 0; i < PENDING; i++)
        if (r->pending_used[i] && memcmp(r->pending[i], v->txid, STUN_TXID_LEN) == 0)
            slot = i;
    if (slot < 0 || !consent_to || !same_addr(from, consent_to))
        return CR_STUN_IGNORED; /* not ours, or a late answer to a request of libnice's */
    if ((v->fingerprint_off && stun_check_fingerprint(v) < 0) ||
        stun_check_integrity(v, (const uint8_t *)r->remote_pwd, strlen(r->remote_pwd),
                             cr_stun_hmac_sha1) < 0)
        return CR_STUN_BAD;
    r->pending_used[slot] = false;
    if (v->cls != STUN_SUCCESS)
        return CR_STUN_IGNORED; /* an error response refreshes nothing */
    r->last_consent_ms = now_ms;
    return CR_STUN_CONSENT;
}

enum cr_stun_result cr_stun_responder_input(struct cr_stun_responder *r, const uint8_t *buf,
                                            size_t len, const struct sockaddr *from,
                                            const struct sockaddr *consent_to, int64_t now_ms,
                                            uint8_t *reply, size_t *reply_len, bool *nominate)
{
    struct stun_view v;
    *reply_len = 0;
    *nominate = false;
    if (stun_parse(buf, len, &v) < 0)
        return CR_STUN_BAD;
    if (v.method != STUN_METHOD_BINDING)
        return CR_STUN_IGNORED;
    switch (v.cls) {
    case STUN_REQUEST:
        return answer(r, &v, from, reply, reply_len, nominate);
    case STUN_SUCCESS:
    case STUN_ERROR:
        return consent_response(r, &v, from, consent_to, now_ms);
    case STUN_INDICATION:
        break;
    }
    return CR_STUN_IGNORED;
}

/* ---- consent requests ---- */

size_t cr_stun_responder_consent_request(struct cr_stun_responder *r, int64_t now_ms, uint8_t *out)
{
    if (now_ms < r->next_request_ms)
        return 0;
    r->next_request_ms = now_ms + jittered(r->interval_ms);
    uint8_t *txid = r->pending[r->next_pending];
    r->pending_used[r->next_pending] = true;
    r->next_pending = (r->next_pending + 1) % PENDING;
    random_bytes(txid, STUN_TXID_LEN);
    struct stun_writer w;
    stun_writer_init(&w, out, CR_STUN_MAX_MESSAGE, STUN_METHOD_BINDING, STUN_REQUEST, txid);
    stun_put_attr(&w, STUN_ATTR_USERNAME, r->outbound_user, strlen(r->outbound_user));
    stun_put_u32(&w, STUN_ATTR_PRIORITY, r->priority);
    stun_put_u64(&w, r->controlling ? STUN_ATTR_ICE_CONTROLLING : STUN_ATTR_ICE_CONTROLLED,
                 r->tie_breaker);
    stun_put_integrity(&w, (const uint8_t *)r->remote_pwd, strlen(r->remote_pwd),
                       cr_stun_hmac_sha1);
    stun_put_fingerprint(&w);
    int n = stun_finish(&w);
    return n > 0 ? (size_t)n : 0; /* ufrags are at most 256 characters (RFC 8839 §5.4) */
}

bool cr_stun_responder_consent_expired(const struct cr_stun_responder *r, int64_t now_ms)
{
    return now_ms - r->last_consent_ms >= r->timeout_ms;
}
