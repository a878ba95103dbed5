/* Fuzz entry point for relay/wire/stun.c: parses a datagram as STUN (RFC 8489), checks the
 * view stays inside the buffer, runs the FINGERPRINT and MESSAGE-INTEGRITY checks (with a
 * stand-in keyed hash: the bounds arithmetic is what is under test, not HMAC-SHA1), then
 * rewrites the fields ICE uses with the writer and checks the re-parse gives them back. */
#include <stdlib.h>
#include <string.h>

#include "wire/stun.h"
#include "require.h"

/* Not HMAC: a keyed checksum that reads every byte it is given. */
static void fake_hmac(const uint8_t *key, size_t key_len, const uint8_t *head, size_t head_len,
                      const uint8_t *rest, size_t rest_len, uint8_t *out)
{
    memset(out, 0, STUN_HMAC_LEN);
    for (size_t i = 0; i < key_len; i++)
        out[i % STUN_HMAC_LEN] ^= key[i];
    for (size_t i = 0; i < head_len; i++)
        out[i % STUN_HMAC_LEN] += head[i];
    for (size_t i = 0; i < rest_len; i++)
        out[(i + 7) % STUN_HMAC_LEN] ^= (uint8_t)(rest[i] + i);
}

static bool inside(const uint8_t *p, size_t n, const uint8_t *buf, size_t size)
{
    return p >= buf && p + n <= buf + size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1); /* exact size: overreads are caught */
    if (size)
        memcpy(buf, data, size);
    struct stun_view v;
    int rc = stun_parse(buf, size, &v);
    REQUIRE(rc <= 0);
    if (rc < 0 || !stun_is_message(buf, size)) {
        REQUIRE(rc < 0);
        free(buf);
        return 0;
    }
    REQUIRE(v.raw == buf && v.len == size && v.txid == buf + 8);
    REQUIRE(!v.username || inside(v.username, v.username_len, buf, size));
    REQUIRE(v.username_len <= STUN_MAX_USERNAME);
    REQUIRE(!v.integrity_off || v.integrity_off + 4 + STUN_HMAC_LEN <= size);
    REQUIRE(!v.fingerprint_off || v.fingerprint_off + 8 == size);
    REQUIRE(v.cls <= STUN_ERROR && v.method <= 0xFFF);
    REQUIRE(v.xor_mapped.family == 0 || v.xor_mapped.family == 4 || v.xor_mapped.family == 6);
    stun_check_fingerprint(&v);
    stun_check_integrity(&v, (const uint8_t *)"key", 3, fake_hmac);

    /* write back what ICE reads, sign it, and read it again */
    uint8_t out[1024];
    struct stun_writer w;
    stun_writer_init(&w, out, sizeof(out), v.method, v.cls, v.txid);
    if (v.username)
        stun_put_attr(&w, STUN_ATTR_USERNAME, v.username, v.username_len);
    if (v.has_priority)
        stun_put_u32(&w, STUN_ATTR_PRIORITY, v.priority);
    if (v.use_candidate)
        stun_put_attr(&w, STUN_ATTR_USE_CANDIDATE, NULL, 0);
    if (v.controlling)
        stun_put_u64(&w, STUN_ATTR_ICE_CONTROLLING, v.tie_breaker);
    if (v.xor_mapped.family)
        stun_put_xor_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, &v.xor_mapped);
    stun_put_integrity(&w, (const uint8_t *)"key", 3, fake_hmac);
    stun_put_fingerprint(&w);
    int n = stun_finish(&w);
    REQUIRE(n > 0); /* a username of at most 513 bytes and fixed-size fields fit */
    struct stun_view u;
    REQUIRE(stun_parse(out, (size_t)n, &u) == 0);
    REQUIRE(u.method == v.method && u.cls == v.cls && memcmp(u.txid, v.txid, STUN_TXID_LEN) == 0);
    REQUIRE(u.username_len == v.username_len &&
            (!v.username || memcmp(u.username, v.username, v.username_len) == 0));
    REQUIRE(u.has_priority == v.has_priority && u.priority == v.priority);
    REQUIRE(u.use_candidate == v.use_candidate && u.controlling == v.controlling);
    REQUIRE(!v.controlling || u.tie_breaker == v.tie_breaker);
    REQUIRE(u.xor_mapped.family == v.xor_mapped.family && u.xor_mapped.port == v.xor_mapped.port &&
            memcmp(u.xor_mapped.ip, v.xor_mapped.ip, 16) == 0);
    REQUIRE(stun_check_integrity(&u, (const uint8_t *)"key", 3, fake_hmac) == 0);
    REQUIRE(stun_check_integrity(&u, (const uint8_t *)"kez", 3, fake_hmac) != 0);
    REQUIRE(stun_check_fingerprint(&u) == 0);
    free(buf);
    return 0;
}
