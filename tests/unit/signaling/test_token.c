/* Tests signaling/token.c: sign/verify round trips (every role, optional claims absent and
 * present, UTF-8 names), exp with its leeway and nbf, a signature made with another key, a
 * payload or header changed under its signature, headers other than HS256 (alg none with
 * and without a signature, HS512, RS256, hs256, extra members, not JSON) refused as ALG even
 * when their signature is right, claims of the wrong type or out of bounds (refused only
 * after the signature matched), unknown roles, the TOKEN_MAX bound on both sides, strict
 * base64url (padding, '+', '/', stray bits, 4k + 1 lengths), token_sign's refusals, the key
 * file (made 0600 with no temporary left, read back identical, a file of the wrong size
 * refused and left alone), the error sentences, and `classrelay token` (token_cmd: exit
 * status 2 on bad arguments, a key made on first use, stdout exactly the token).
 *
 * Tokens with chosen headers and payloads are built here with OpenSSL's HMAC, so a bad claim
 * can carry a good signature. */
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "access/token.h"
#include "token_cmd.h"

#define NOW 1767225600LL /* 2026-01-01T00:00:00Z */

static const struct token_key key = {{1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                      12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                      23, 24, 25, 26, 27, 28, 29, 30, 31, 32}};
static const struct token_key other = {{32, 31, 30}};

static char dir[] = "/tmp/test_token.XXXXXX";

/* b64url(header) "." b64url(payload) "." b64url(HMAC-SHA256(k, ...)) into out (static). */
static const char *make(const struct token_key *k, const char *header, const char *payload)
{
    static char out[8192];
    char h[4096], p[4096], s[64];
    unsigned char mac[32];
    unsigned len = 0;
    test_b64url(header, strlen(header), h);
    test_b64url(payload, strlen(payload), p);
    snprintf(out, sizeof out, "%s.%s", h, p);
    HMAC(EVP_sha256(), k->k, TOKEN_KEY_LEN, (const unsigned char *)out, strlen(out), mac, &len);
    test_b64url(mac, sizeof mac, s);
    strcat(out, ".");
    strcat(out, s);
    return out;
}

static const char *const hs256 = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static int verify(const char *tok, struct token_claims *c)
{
    return token_verify(&key, tok, strlen(tok), NOW, c);
}

/* Verifies a well-signed token with the standard header and this payload. */
static int verify_payload(const char *payload)
{
    struct token_claims c;
    return verify(make(&key, hs256, payload), &c);
}

static struct token_claims base_claims(void)
{
    struct token_claims c;
    memset(&c, 0, sizeof c);
    strcpy(c.sub, "u12");
    strcpy(c.name, "王老师 (Wang Li)");
    c.role = ROLE_TEACHER;
    strcpy(c.room, "lesson-7");
    c.classroom = 3;
    c.iat = NOW;
    c.exp = NOW + 3600;
    return c;
}

static void test_round_trip(void)
{
    struct token_claims c = base_claims(), got;
    char tok[TOKEN_MAX + 1];
    CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), 0);
    CHECK(strncmp(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37) == 0);
    CHECK(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") ==
          strlen(tok));
    memset(&got, 0x55, sizeof got);
    CHECK_EQ(verify(tok, &got), 0);
    CHECK_STR(got.sub, "u12");
    CHECK_STR(got.name, "王老师 (Wang Li)");
    CHECK_EQ(got.role, ROLE_TEACHER);
    CHECK_STR(got.room, "lesson-7");
    CHECK_EQ(got.classroom, 3);
    CHECK_EQ(got.iat, NOW);
    CHECK_EQ(got.exp, NOW + 3600);

    /* the token need not be NUL-terminated: an exact-size copy */
    size_t n = strlen(tok);
    char *exact = malloc(n);
    memcpy(exact, tok, n);
    CHECK_EQ(token_verify(&key, exact, n, NOW, &got), 0);
    CHECK_EQ(token_verify(&key, exact, n - 1, NOW, &got), TOKEN_ERR_MALFORMED);
    free(exact);

    /* every role; optional claims absent come back empty */
    for (int r = ROLE_ADMIN; r < ROLE_COUNT; r++) {
        memset(&c, 0, sizeof c);
        strcpy(c.sub, "cli");
        c.role = (enum role)r;
        c.exp = NOW + 60;
        CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), 0);
        memset(&got, 0x55, sizeof got);
        CHECK_EQ(verify(tok, &got), 0);
        CHECK_EQ(got.role, r);
        CHECK_STR(got.sub, "cli");
        CHECK_STR(got.name, "");
        CHECK_STR(got.room, "");
        CHECK_EQ(got.classroom, 0);
        CHECK_EQ(got.iat, 0);
    }

    /* a payload written by someone else, member order and unknown claims notwithstanding */
    CHECK_EQ(verify_payload("{\"exp\":1767229200,\"jti\":\"x\",\"role\":\"observer\",\"sub\":\"a\","
                            "\"aud\":[1,2],\"nbf\":1767225000}"),
             0);
    /* the header with typ omitted, or in the other order */
    struct token_claims g;
    CHECK_EQ(verify(make(&key, "{\"alg\":\"HS256\"}",
                         "{\"sub\":\"a\",\"role\":\"admin\",\"exp\":"
                         "1767229200}"),
                    &g),
             0);
    CHECK_EQ(verify(make(&key, "{\"typ\":\"JWT\",\"alg\":\"HS256\"}",
                         "{\"sub\":\"a\",\"role\":\"admin\",\"exp\":1767229200}"),
                    &g),
             0);
}

static void test_times(void)
{
    struct token_claims c = base_claims(), got;
    char tok[TOKEN_MAX + 1];
    /* RFC 7519 §4.1.4: not accepted on or after exp, here with 30 s of leeway */
    c.exp = NOW - TOKEN_LEEWAY_S - 1;
    CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), 0);
    CHECK_EQ(verify(tok, &got), TOKEN_ERR_EXPIRED);
    c.exp = NOW - TOKEN_LEEWAY_S;
    CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), 0);
    CHECK_EQ(verify(tok, &got), TOKEN_ERR_EXPIRED);
    c.exp = NOW - TOKEN_LEEWAY_S + 1;
    CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), 0);
    CHECK_EQ(verify(tok, &got), 0);
    c.exp = 0;
    CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), 0);
    CHECK_EQ(verify(tok, &got), TOKEN_ERR_EXPIRED);
    /* the far future is fine */
    CHECK_EQ(verify_payload("{\"sub\":\"a\",\"role\":\"admin\",\"exp\":253402300799}"), 0);

    /* nbf: not before, with the same leeway */
    CHECK_EQ(verify_payload("{\"sub\":\"a\",\"role\":\"admin\",\"exp\":1767229200,"
                            "\"nbf\":1767225660}"),
             TOKEN_ERR_NOT_YET);
    CHECK_EQ(verify_payload("{\"sub\":\"a\",\"role\":\"admin\",\"exp\":1767229200,"
                            "\"nbf\":1767225631}"),
             TOKEN_ERR_NOT_YET);
    CHECK_EQ(verify_payload("{\"sub\":\"a\",\"role\":\"admin\",\"exp\":1767229200,"
                            "\"nbf\":1767225630}"),
             0);
    CHECK_EQ(verify_payload("{\"sub\":\"a\",\"role\":\"admin\",\"exp\":1767229200,"
                            "\"nbf\":1767225600}"),
             0);
    /* expired wins over not-yet (both are reported as one) */
    CHECK_EQ(verify_payload("{\"sub\":\"a\",\"role\":\"admin\",\"exp\":1,\"nbf\":1767229200}"),
             TOKEN_ERR_EXPIRED);
}

/* Replaces part i (0, 1, 2) of tok with repl; static result. */
static const char *swap_part(const char *tok, int i, const char *repl)
{
    static char out[8192];
    const char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');
    if (i == 0)
        snprintf(out, sizeof out, "%s%s", repl, d1);
    else if (i == 1)
        snprintf(out, sizeof out, "%.*s%s%s", (int)(d1 + 1 - tok), tok, repl, d2);
    else
        snprintf(out, sizeof out, "%.*s%s", (int)(d2 + 1 - tok), tok, repl);
    return out;
}

static void test_signature(void)
{
    struct token_claims c = base_claims(), got;
    char tok[TOKEN_MAX + 1], enc[512];
    CHECK_EQ(token_sign(&other, &c, tok, sizeof tok), 0);
    CHECK_EQ(verify(tok, &got), TOKEN_ERR_SIGNATURE);
    CHECK_EQ(token_verify(&other, tok, strlen(tok), NOW, &got), 0);

    /* the payload made admin under the teacher's signature */
    c.role = ROLE_TEACHER;
    CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), 0);
    test_b64url("{\"sub\":\"u12\",\"role\":\"admin\",\"exp\":1767229200}", 45, enc);
    CHECK_EQ(verify(swap_part(tok, 1, enc), &got), TOKEN_ERR_SIGNATURE);
    /* the same payload bytes, but the exp pushed later */
    c.exp = NOW + 60;
    char tok2[TOKEN_MAX + 1];
    CHECK_EQ(token_sign(&key, &c, tok2, sizeof tok2), 0);
    const char *p1 = strchr(tok2, '.') + 1;
    char payload2[1024];
    snprintf(payload2, sizeof payload2, "%.*s", (int)(strchr(p1, '.') - p1), p1);
    CHECK_EQ(verify(swap_part(tok, 1, payload2), &got), TOKEN_ERR_SIGNATURE);

    /* a header that still says HS256, written differently: the signature covers it */
    test_b64url("{\"typ\":\"JWT\",\"alg\":\"HS256\"}", 27, enc);
    CHECK_EQ(verify(swap_part(tok, 0, enc), &got), TOKEN_ERR_SIGNATURE);
    test_b64url("{\"alg\":\"HS256\"}", 15, enc);
    CHECK_EQ(verify(swap_part(tok, 0, enc), &got), TOKEN_ERR_SIGNATURE);

    /* a signature of the wrong length, empty, or one bit off */
    CHECK_EQ(verify(swap_part(tok, 2, ""), &got), TOKEN_ERR_SIGNATURE);
    CHECK_EQ(verify(swap_part(tok, 2, "AAAA"), &got), TOKEN_ERR_SIGNATURE);
    char sig[64];
    snprintf(sig, sizeof sig, "%s", strrchr(tok, '.') + 1);
    sig[0] = sig[0] == 'A' ? 'B' : 'A';
    CHECK_EQ(verify(swap_part(tok, 2, sig), &got), TOKEN_ERR_SIGNATURE);
    char longer[128];
    snprintf(longer, sizeof longer, "%sAAAA", strrchr(tok, '.') + 1);
    CHECK_EQ(verify(swap_part(tok, 2, longer), &got), TOKEN_ERR_SIGNATURE);
}

static void test_alg(void)
{
    static const char *const payload = "{\"sub\":\"u1\",\"role\":\"admin\",\"exp\":1767229200}";
    static const char *const headers[] = {
        "{\"alg\":\"none\",\"typ\":\"JWT\"}",
        "{\"alg\":\"none\"}",
        "{\"alg\":\"None\"}",
        "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS384\"}",
        "{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
        "{\"alg\":\"ES256\"}",
        "{\"alg\":\"hs256\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256 \"}",
        "{\"alg\":\"\"}",
        "{\"alg\":null}",
        "{\"alg\":[\"HS256\"]}",
        "{\"alg\":256}",
        "{\"typ\":\"JWT\"}",
        "{}",
        "{\"alg\":\"HS256\",\"typ\":\"JWS\"}",
        "{\"alg\":\"HS256\",\"typ\":null}",
        "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"1\"}",
        "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
        "{\"alg\":\"HS256\",\"jku\":\"https://evil.example/keys\"}",
    };
    struct token_claims c;
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        /* refused as ALG whether the signature is right, from another key, or absent */
        const char *tok = make(&key, headers[i], payload);
        if (verify(tok, &c) != TOKEN_ERR_ALG)
            fprintf(stderr, "header not refused as ALG: %s\n", headers[i]);
        CHECK_EQ(verify(tok, &c), TOKEN_ERR_ALG);
        CHECK_EQ(verify(make(&other, headers[i], payload), &c), TOKEN_ERR_ALG);
        char no_sig[4096];
        snprintf(no_sig, sizeof no_sig, "%.*s.", (int)(strrchr(tok, '.') - tok), tok);
        CHECK_EQ(verify(no_sig, &c), TOKEN_ERR_ALG);
        /* two parts only: not a JWS at all */
        no_sig[strlen(no_sig) - 1] = '\0';
        CHECK_EQ(verify(no_sig, &c), TOKEN_ERR_MALFORMED);
    }
    /* headers that are not JSON objects, or JSON with duplicate members: malformed */
    static const char *const junk[] = {
        "[\"HS256\"]",
        "\"HS256\"",
        "HS256",
        "{\"alg\":\"HS256\"",
        "{\"alg\":\"HS256\"}x",
        "",
        "{\"alg\":\"HS256\",\"alg\":\"none\"}",
        "{\"alg\":\"none\",\"alg\":\"HS256\"}",
    };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        CHECK_EQ(verify(make(&key, junk[i], payload), &c), TOKEN_ERR_MALFORMED);
    /* a NUL inside the header */
    char h[64], p[128], tok[512];
    test_b64url("{\"alg\":\"HS256\"}\0", 16, h);
    test_b64url(payload, strlen(payload), p);
    snprintf(tok, sizeof tok, "%s.%s.", h, p);
    CHECK_EQ(verify(tok, &c), TOKEN_ERR_MALFORMED);
}

static void test_claims(void)
{
    static const char *const bad[] = {
        /* sub */
        "{\"role\":\"admin\",\"exp\":1767229200}",
        "{\"sub\":12,\"role\":\"admin\",\"exp\":1767229200}",
        "{\"sub\":null,\"role\":\"admin\",\"exp\":1767229200}",
        "{\"sub\":\"\",\"role\":\"admin\",\"exp\":1767229200}",
        "{\"sub\":\"a\\nb\",\"role\":\"admin\",\"exp\":1767229200}",
        "{\"sub\":\"0123456789012345678901234567890123456789012345678901234567890123\","
        "\"role\":\"admin\",\"exp\":1767229200}", /* 64 bytes */
        /* name */
        "{\"sub\":\"a\",\"name\":7,\"role\":\"admin\",\"exp\":1767229200}",
        "{\"sub\":\"a\",\"name\":[\"x\"],\"role\":\"admin\",\"exp\":1767229200}",
        "{\"sub\":\"a\",\"name\":\"bell\\u0007\",\"role\":\"admin\",\"exp\":1767229200}",
        "{\"sub\":\"a\",\"name\":\"c1\\u0085\",\"role\":\"admin\",\"exp\":1767229200}",
        "{\"sub\":\"a\",\"name\":\"del\\u007f\",\"role\":\"admin\",\"exp\":1767229200}",
        /* role: missing, wrong type, unknown, none, case */
        "{\"sub\":\"a\",\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":1,\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":[\"admin\"],\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":\"superuser\",\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":\"none\",\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":\"Admin\",\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":\"admin \",\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":\"\",\"exp\":1767229200}",
        /* room */
        "{\"sub\":\"a\",\"role\":\"teacher\",\"room\":\"\",\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":\"teacher\",\"room\":\"a b\",\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":\"teacher\",\"room\":\"../etc\",\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":\"teacher\",\"room\":\"lesson.7\",\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":\"teacher\",\"room\":\"课堂\",\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":\"teacher\",\"room\":7,\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":\"teacher\",\"room\":null,\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":\"teacher\",\"room\":"
        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaa\",\"exp\":1767229200}", /* 65 */
        /* classroom */
        "{\"sub\":\"a\",\"role\":\"classroom\",\"classroom\":\"3\",\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":\"classroom\",\"classroom\":0,\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":\"classroom\",\"classroom\":-3,\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":\"classroom\",\"classroom\":3.0,\"exp\":1767229200}",
        "{\"sub\":\"a\",\"role\":\"classroom\",\"classroom\":true,\"exp\":1767229200}",
        /* times */
        "{\"sub\":\"a\",\"role\":\"admin\"}",
        "{\"sub\":\"a\",\"role\":\"admin\",\"exp\":\"1767229200\"}",
        "{\"sub\":\"a\",\"role\":\"admin\",\"exp\":1767229200.0}",
        "{\"sub\":\"a\",\"role\":\"admin\",\"exp\":1.7e10}",
        "{\"sub\":\"a\",\"role\":\"admin\",\"exp\":null}",
        "{\"sub\":\"a\",\"role\":\"admin\",\"exp\":-1}",
        "{\"sub\":\"a\",\"role\":\"admin\",\"exp\":253402300800}",
        "{\"sub\":\"a\",\"role\":\"admin\",\"exp\":9223372036854775807}",
        "{\"sub\":\"a\",\"role\":\"admin\",\"exp\":1767229200,\"iat\":\"now\"}",
        "{\"sub\":\"a\",\"role\":\"admin\",\"exp\":1767229200,\"iat\":-5}",
        "{\"sub\":\"a\",\"role\":\"admin\",\"exp\":1767229200,\"nbf\":\"0\"}",
        "{\"sub\":\"a\",\"role\":\"admin\",\"exp\":1767229200,\"nbf\":-9223372036854775807}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = verify_payload(bad[i]);
        if (rc != TOKEN_ERR_CLAIMS)
            fprintf(stderr, "claims not refused (%d): %s\n", rc, bad[i]);
        CHECK_EQ(rc, TOKEN_ERR_CLAIMS);
        /* ... and only once the signature matched */
        struct token_claims c;
        CHECK_EQ(verify(make(&other, hs256, bad[i]), &c), TOKEN_ERR_SIGNATURE);
    }
    static const char *const junk[] = {
        "[1,2]",
        "\"a\"",
        "null",
        "{",
        "{\"sub\":\"a\"} x",
        "",
        "{\"sub\":\"a\",\"role\":\"teacher\",\"role\":\"admin\",\"exp\":1767229200}",
        "{\"sub\":\"a\\u0000b\",\"role\":\"admin\",\"exp\":1767229200}",
    };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        CHECK_EQ(verify_payload(junk[i]), TOKEN_ERR_MALFORMED);

    /* the limits themselves are fine */
    struct token_claims c;
    CHECK_EQ(
        verify(make(&key, hs256,
                    "{\"sub\":\"012345678901234567890123456789012345678901234567890123456789012"
                    "\",\"role\":\"teacher\",\"room\":\"AZaz09_-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                    "aaaaaaaaaaaaaaaaaaaaaaaaa\",\"classroom\":9223372036854775807,"
                    "\"exp\":1767229200}"),
               &c),
        0);
    CHECK_EQ(strlen(c.sub), 63);
    CHECK_EQ(strlen(c.room), 64);
    CHECK_EQ(c.classroom, 9223372036854775807LL);

    /* name: 64 characters (of up to 4 bytes) pass, 65 do not */
    char name[300], payload[512];
    name[0] = '\0';
    for (int i = 0; i < 64; i++)
        strcat(name, "😀");
    snprintf(payload, sizeof payload,
             "{\"sub\":\"a\",\"name\":\"%s\",\"role\":\"admin\",\"exp\":1767229200}", name);
    CHECK_EQ(verify(make(&key, hs256, payload), &c), 0);
    CHECK_EQ(strlen(c.name), 256);
    CHECK_STR(c.name, name);
    strcat(name, "x");
    snprintf(payload, sizeof payload,
             "{\"sub\":\"a\",\"name\":\"%s\",\"role\":\"admin\",\"exp\":1767229200}", name);
    CHECK_EQ(verify_payload(payload), TOKEN_ERR_CLAIMS);
}

static void test_sign_refusals(void)
{
    char tok[TOKEN_MAX + 1];
    struct token_claims c = base_claims();
    c.role = ROLE_NONE;
    CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), TOKEN_ERR_CLAIMS);
    c.role = ROLE_COUNT;
    CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), TOKEN_ERR_CLAIMS);
    c = base_claims();
    c.sub[0] = '\0';
    CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), TOKEN_ERR_CLAIMS);
    c = base_claims();
    memset(c.sub, 'a', sizeof c.sub); /* not terminated */
    CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), TOKEN_ERR_CLAIMS);
    c = base_claims();
    strcpy(c.room, "no spaces");
    CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), TOKEN_ERR_CLAIMS);
    c = base_claims();
    strcpy(c.name, "\xff\xfe not UTF-8");
    CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), TOKEN_ERR_CLAIMS);
    c = base_claims();
    memset(c.name, 'a', 65);
    c.name[65] = '\0';
    CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), TOKEN_ERR_CLAIMS);
    c = base_claims();
    c.exp = -1;
    CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), TOKEN_ERR_CLAIMS);
    c = base_claims();
    c.classroom = -1;
    CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), TOKEN_ERR_CLAIMS);
    /* out too small, by one */
    c = base_claims();
    CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), 0);
    size_t n = strlen(tok);
    CHECK_EQ(token_sign(&key, &c, tok, n), TOKEN_ERR_CLAIMS);
    CHECK_EQ(token_sign(&key, &c, tok, n + 1), 0);
    CHECK_EQ(strlen(tok), n);
}

static void test_size(void)
{
    /* an unknown claim pads the token to exactly TOKEN_MAX characters: accepted; one more
     * payload byte pushes it over: malformed, before any JSON is read */
    size_t fixed = strlen("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9") + 2 + 43;
    size_t payload_len = (TOKEN_MAX - fixed) / 4 * 3 + 2; /* (TOKEN_MAX - fixed) % 4 == 3 */
    CHECK_EQ((TOKEN_MAX - fixed) % 4, 3);
    const char *head = "{\"sub\":\"a\",\"role\":\"admin\",\"exp\":1767229200,\"pad\":\"";
    char payload[TOKEN_MAX + 8];
    size_t pad = payload_len - strlen(head) - 2;
    snprintf(payload, sizeof payload, "%s%*s\"}", head, (int)pad, "");
    CHECK_EQ(strlen(payload), payload_len);
    struct token_claims c;
    const char *tok = make(&key, hs256, payload);
    CHECK_EQ(strlen(tok), TOKEN_MAX);
    CHECK_EQ(verify(tok, &c), 0);
    snprintf(payload, sizeof payload, "%s%*s\"}", head, (int)pad + 1, "");
    tok = make(&key, hs256, payload);
    CHECK(strlen(tok) > TOKEN_MAX);
    CHECK_EQ(verify(tok, &c), TOKEN_ERR_MALFORMED);

    /* a huge input is refused by its length alone */
    size_t big = 1 << 20;
    char *huge = malloc(big);
    memset(huge, 'A', big);
    CHECK_EQ(token_verify(&key, huge, big, NOW, &c), TOKEN_ERR_MALFORMED);
    free(huge);
    CHECK_EQ(token_verify(&key, "", 0, NOW, &c), TOKEN_ERR_MALFORMED);
    CHECK_EQ(token_verify(&key, NULL, 0, NOW, &c), TOKEN_ERR_MALFORMED);
}

static void test_base64url(void)
{
    struct token_claims c = base_claims(), got;
    char tok[TOKEN_MAX + 1], t[TOKEN_MAX + 8];
    CHECK_EQ(token_sign(&key, &c, tok, sizeof tok), 0);
    const char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');
    int hl = (int)(d1 - tok), pl = (int)(d2 - d1 - 1);

    /* padding on any part */
    snprintf(t, sizeof t, "%s=", tok);
    CHECK_EQ(verify(t, &got), TOKEN_ERR_MALFORMED);
    snprintf(t, sizeof t, "%.*s=%s", hl, tok, d1);
    CHECK_EQ(verify(t, &got), TOKEN_ERR_MALFORMED);
    snprintf(t, sizeof t, "%.*s=%s", (int)(d2 - tok), tok, d2);
    CHECK_EQ(verify(t, &got), TOKEN_ERR_MALFORMED);
    /* '+' or '/' (standard base64) for '-' or '_', and other strangers */
    static const char strangers[] = "+/= \n\t%*\x80";
    for (const char *s = strangers; *s; s++) {
        for (int where = 0; where < 3; where++) {
            snprintf(t, sizeof t, "%s", tok);
            size_t at = where == 0 ? 3 : where == 1 ? (size_t)hl + 5 : strlen(t) - 5;
            t[at] = *s;
            CHECK_EQ(verify(t, &got), TOKEN_ERR_MALFORMED);
        }
    }
    /* a signature of 43 characters carries 2 spare bits: set, it is another spelling */
    snprintf(t, sizeof t, "%s", tok);
    char *last = t + strlen(t) - 1;
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int v = (int)(strchr(alphabet, *last) - alphabet);
    CHECK_EQ(v & 3, 0);
    *last = alphabet[v | 1];
    CHECK_EQ(verify(t, &got), TOKEN_ERR_MALFORMED);
    /* a part of 4k + 1 characters decodes to nothing */
    snprintf(t, sizeof t, "%.*sA%s", (int)(d2 - tok), tok, d2);
    if ((pl + 1) % 4 == 1)
        CHECK_EQ(verify(t, &got), TOKEN_ERR_MALFORMED);
    snprintf(t, sizeof t, "%sAA", tok); /* 45 characters of signature: 4k + 1 */
    CHECK_EQ(verify(t, &got), TOKEN_ERR_MALFORMED);
    /* too many or too few parts, empty parts */
    snprintf(t, sizeof t, "%s.", tok);
    CHECK_EQ(verify(t, &got), TOKEN_ERR_MALFORMED);
    snprintf(t, sizeof t, "%s.AAAA", tok);
    CHECK_EQ(verify(t, &got), TOKEN_ERR_MALFORMED);
    CHECK_EQ(verify("..", &got), TOKEN_ERR_MALFORMED);
    CHECK_EQ(verify(".", &got), TOKEN_ERR_MALFORMED);
    CHECK_EQ(verify("abc", &got), TOKEN_ERR_MALFORMED);
    snprintf(t, sizeof t, "%.*s", (int)(d2 - tok), tok);
    CHECK_EQ(verify(t, &got), TOKEN_ERR_MALFORMED);
    /* "Bearer " left on, or a NUL inside the length */
    snprintf(t, sizeof t, "Bearer %s", tok);
    CHECK_EQ(verify(t, &got), TOKEN_ERR_MALFORMED);
    snprintf(t, sizeof t, "%s", tok);
    t[hl + 2] = '\0';
    CHECK_EQ(token_verify(&key, t, strlen(tok), NOW, &got), TOKEN_ERR_MALFORMED);
}

static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

static void write_bytes(const char *path, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    for (size_t i = 0; f && i < n; i++)
        fputc('k', f);
    if (f)
        fclose(f);
}

static void test_key_file(void)
{
    char sub[256], path[300], err[512];
    struct token_key k1, k2, k3;
    snprintf(sub, sizeof sub, "%s/a", dir);
    CHECK_EQ(mkdir(sub, 0755), 0);
    err[0] = '\0';
    CHECK_EQ(token_key_load(sub, &k1, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/secret.key", sub);
    struct stat st;
    CHECK_EQ(stat(path, &st), 0);
    CHECK_EQ(st.st_mode & 07777, 0600);
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(st.st_size, TOKEN_KEY_LEN);
    CHECK_EQ(count_entries(sub), 1); /* no temporary left behind */
    static const struct token_key zero;
    CHECK(memcmp(&k1, &zero, sizeof k1) != 0);
    /* read back: the same key; a token signed before verifies after */
    CHECK_EQ(token_key_load(sub, &k2, err, sizeof err), 0);
    CHECK(memcmp(&k1, &k2, sizeof k1) == 0);
    unsigned char raw[TOKEN_KEY_LEN];
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0 && read(fd, raw, sizeof raw) == TOKEN_KEY_LEN);
    if (fd >= 0)
        close(fd);
    CHECK(memcmp(raw, k1.k, TOKEN_KEY_LEN) == 0);

    /* another directory, another key */
    snprintf(sub, sizeof sub, "%s/b", dir);
    CHECK_EQ(mkdir(sub, 0755), 0);
    CHECK_EQ(token_key_load(sub, &k3, err, sizeof err), 0);
    CHECK(memcmp(&k1, &k3, sizeof k1) != 0);

    /* a key file of the wrong size is refused and left as it was */
    size_t sizes[] = {0, 31, 33, 64};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        snprintf(sub, sizeof sub, "%s/size%zu", dir, sizes[i]);
        CHECK_EQ(mkdir(sub, 0755), 0);
        snprintf(path, sizeof path, "%s/secret.key", sub);
        write_bytes(path, sizes[i]);
        err[0] = '\0';
        CHECK_EQ(token_key_load(sub, &k3, err, sizeof err), TOKEN_ERR_IO);
        char want[32];
        snprintf(want, sizeof want, "is %zu bytes", sizes[i]);
        CHECK(strstr(err, want) != NULL);
        CHECK(strstr(err, "secret.key") != NULL);
        CHECK_EQ(stat(path, &st), 0);
        CHECK_EQ(st.st_size, (off_t)sizes[i]);
        CHECK_EQ(count_entries(sub), 1);
    }
    if (sizeof sizes && err[0])
        fprintf(stderr, "(a wrong-size key says: %s)\n", err);

    /* not a file; no directory */
    snprintf(sub, sizeof sub, "%s/c", dir);
    snprintf(path, sizeof path, "%s/c/secret.key", dir);
    CHECK_EQ(mkdir(sub, 0755), 0);
    CHECK_EQ(mkdir(path, 0755), 0);
    err[0] = '\0';
    CHECK_EQ(token_key_load(sub, &k3, err, sizeof err), TOKEN_ERR_IO);
    CHECK(err[0] != '\0');
    snprintf(sub, sizeof sub, "%s/missing", dir);
    err[0] = '\0';
    CHECK_EQ(token_key_load(sub, &k3, err, sizeof err), TOKEN_ERR_IO);
    CHECK(strstr(err, "missing/secret.key") != NULL);
}

/* Runs token_cmd with stdout sent to a file; returns its status, the output in out. */
static int run_cmd(char *out, size_t out_len, int argc, ...)
{
    char *argv[16];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc && i < 15; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    argv[argc] = NULL;
    char path[300];
    snprintf(path, sizeof path, "%s/stdout", dir);
    fflush(stdout);
    int saved = dup(1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    close(fd);
    int rc = token_cmd(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(out, 1, out_len - 1, f) : 0;
    out[n] = '\0';
    if (f)
        fclose(f);
    return rc;
}

static void test_cmd(void)
{
    char data[256], out[TOKEN_MAX + 64], err[256];
    snprintf(data, sizeof data, "%s/cmd/data", dir); /* made with its parent */
    CHECK_EQ(run_cmd(out, sizeof out, 0), 2);
    CHECK_EQ(run_cmd(out, sizeof out, 2, "--data", data), 2);
    CHECK_EQ(run_cmd(out, sizeof out, 4, "--data", data, "--role", "classroom"), 2);
    CHECK_EQ(run_cmd(out, sizeof out, 4, "--data", data, "--role", "none"), 2);
    CHECK_EQ(run_cmd(out, sizeof out, 6, "--data", data, "--role", "teacher", "--ttl", "2592001"),
             2);
    CHECK_EQ(run_cmd(out, sizeof out, 6, "--data", data, "--role", "teacher", "--room", "a/b"), 2);
    CHECK_EQ(run_cmd(out, sizeof out, 3, "--data", data, "--role"), 2);
    CHECK_EQ(run_cmd(out, sizeof out, 3, "--role", "admin", "--what"), 2);
    CHECK_STR(out, "");
    struct stat st;
    CHECK(stat(data, &st) != 0); /* bad arguments make nothing */

    CHECK_EQ(run_cmd(out, sizeof out, 12, "--data", data, "--role", "classroom", "--room",
                     "lesson-7", "--ttl", "600", "--name", "Class 3", "--sub", "link:3"),
             0);
    size_t n = strlen(out);
    CHECK(n > 2 && out[n - 1] == '\n' && strchr(out, '\n') == out + n - 1);
    struct token_key k;
    CHECK_EQ(token_key_load(data, &k, err, sizeof err), 0);
    struct token_claims c;
    int64_t now = (int64_t)time(NULL);
    CHECK_EQ(token_verify(&k, out, n - 1, now, &c), 0);
    CHECK_EQ(c.role, ROLE_CLASSROOM);
    CHECK_STR(c.room, "lesson-7");
    CHECK_STR(c.name, "Class 3");
    CHECK_STR(c.sub, "link:3");
    CHECK(c.exp - c.iat == 600 && c.iat >= now - 5 && c.iat <= now);
    CHECK_EQ(token_verify(&k, out, n - 1, now + 600 + TOKEN_LEEWAY_S, &c), TOKEN_ERR_EXPIRED);

    /* a staff session without a room; --flag=value; defaults */
    char eq[300];
    snprintf(eq, sizeof eq, "--data=%s/cmd/eq", dir);
    CHECK_EQ(run_cmd(out, sizeof out, 2, eq, "--role=researcher"), 0);
    CHECK_EQ(stat(eq + 7, &st), 0);
    CHECK_EQ(run_cmd(out, sizeof out, 3, "--data", data, "--role=researcher"), 0);
    CHECK_EQ(token_verify(&k, out, strlen(out) - 1, now, &c), 0);
    CHECK_EQ(c.role, ROLE_RESEARCHER);
    CHECK_STR(c.room, "");
    CHECK_STR(c.sub, "cli");
    CHECK_EQ(c.exp - c.iat, 3600);
}

static void test_messages(void)
{
    CHECK_STR(token_err_message(TOKEN_ERR_EXPIRED), "the token has expired");
    CHECK_STR(token_err_message(TOKEN_ERR_SIGNATURE),
              "the token's signature does not match (tampered, or made for another server)");
    CHECK_STR(token_err_message(TOKEN_ERR_ALG), "the token's algorithm is not HS256");
    for (int a = TOKEN_ERR_IO; a <= TOKEN_OK; a++) {
        CHECK(strncmp(token_err_message(a), "the ", 4) == 0);
        for (int b = a + 1; b <= TOKEN_OK; b++)
            CHECK(strcmp(token_err_message(a), token_err_message(b)) != 0);
    }
    CHECK(token_err_message(-100)[0] != '\0');
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trip();
    test_times();
    test_signature();
    test_alg();
    test_claims();
    test_sign_refusals();
    test_size();
    test_base64url();
    test_key_file();
    test_messages();
    test_cmd();
    test_remove_tree(dir);
    return test_report();
}
