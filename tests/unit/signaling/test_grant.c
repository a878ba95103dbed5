/* Tests signaling/access/grant.c, replay grants: one made is accepted for its recording until
 * its expiry and refused after (expired), for another recording, with another key, with any
 * character of it changed or its expiry moved (signature), and in every wrong shape
 * (malformed); grant_expiry never outlives the token; the bounds of grant_make. */
#include <stdio.h>
#include <string.h>

#include "access/grant.h"
#include "test.h"

static const int64_t NOW = 1765130000;

static void test_round_trip(void)
{
    struct token_key key = {{1, 2, 3}}, other = {{1, 2, 4}};
    char g[GRANT_MAX + 1];
    CHECK_EQ(grant_make(&key, "20260105-090000-math-0a1b", NOW + 60, g), 0);
    CHECK(strlen(g) <= GRANT_MAX);
    size_t n = strlen(g);
    CHECK_EQ(grant_check(&key, "20260105-090000-math-0a1b", g, n, NOW), GRANT_OK);
    CHECK_EQ(grant_check(&key, "20260105-090000-math-0a1b", g, n, NOW + 59), GRANT_OK);
    CHECK_EQ(grant_check(&key, "20260105-090000-math-0a1b", g, n, NOW + 60), GRANT_ERR_EXPIRED);
    CHECK_EQ(grant_check(&key, "20260105-090000-math-0a1c", g, n, NOW), GRANT_ERR_SIGNATURE);
    CHECK_EQ(grant_check(&key, "", g, n, NOW), GRANT_ERR_SIGNATURE);
    CHECK_EQ(grant_check(&other, "20260105-090000-math-0a1b", g, n, NOW), GRANT_ERR_SIGNATURE);
    /* every character changed to another allowed one */
    for (size_t i = 0; i < n; i++) {
        char t[GRANT_MAX + 1];
        memcpy(t, g, n + 1);
        if (t[i] == '.')
            continue;
        t[i] = t[i] == '1' ? '2' : t[i] == 'A' ? 'B' : (t[i] >= '0' && t[i] <= '9') ? '1' : 'A';
        int rc = grant_check(&key, "20260105-090000-math-0a1b", t, n, NOW);
        CHECK(rc == GRANT_ERR_SIGNATURE || rc == GRANT_ERR_MALFORMED);
    }
    /* the expiry moved later keeps the signature of the earlier one */
    char later[GRANT_MAX + 1];
    snprintf(later, sizeof later, "%lld%s", (long long)(NOW + 3600), strchr(g, '.'));
    CHECK_EQ(grant_check(&key, "20260105-090000-math-0a1b", later, strlen(later), NOW + 100),
             GRANT_ERR_SIGNATURE);
}

static void test_malformed(void)
{
    struct token_key key = {{9}};
    const char *bad[] = {
        "",
        ".",
        "123",
        "123.",
        ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "0123.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "-123.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "123.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* 42 */
        "123.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 44 */
        "123.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "123.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
        "1234567890123.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "12 3.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(grant_check(&key, "r", bad[i], strlen(bad[i]), NOW), GRANT_ERR_MALFORMED);
    CHECK_EQ(grant_check(&key, "r", NULL, 0, NOW), GRANT_ERR_MALFORMED);
    /* a NUL inside: not a grant */
    char g[GRANT_MAX + 1];
    CHECK_EQ(grant_make(&key, "r", NOW + 5, g), 0);
    g[3] = '\0';
    CHECK_EQ(grant_check(&key, "r", g, strlen(g) + 1 + strlen(g + 4), NOW), GRANT_ERR_MALFORMED);
}

static void test_bounds(void)
{
    struct token_key key = {{7}};
    char g[GRANT_MAX + 1], scope[GRANT_SCOPE_MAX + 2];
    memset(scope, 'a', sizeof scope - 1);
    scope[sizeof scope - 1] = '\0';
    CHECK_EQ(grant_make(&key, scope, NOW, g), GRANT_ERR_MALFORMED); /* 129 bytes */
    scope[GRANT_SCOPE_MAX] = '\0';
    CHECK_EQ(grant_make(&key, scope, 999999999999LL, g), 0); /* 128 bytes, the last time */
    CHECK_EQ(strlen(g), 12 + 1 + TOKEN_MAC_B64_LEN);
    CHECK_EQ(grant_check(&key, scope, g, strlen(g), NOW), GRANT_OK);
    CHECK_EQ(grant_make(&key, "", NOW, g), GRANT_ERR_MALFORMED);
    CHECK_EQ(grant_make(&key, "a:b", NOW, g), GRANT_ERR_MALFORMED);
    CHECK_EQ(grant_make(&key, "a", 0, g), GRANT_ERR_MALFORMED);
    CHECK_EQ(grant_make(&key, "a", 1000000000000LL, g), GRANT_ERR_MALFORMED);
    /* never longer than the token, never longer than GRANT_TTL_MAX_S */
    CHECK_EQ(grant_expiry(NOW, NOW + 60), NOW + 60);
    CHECK_EQ(grant_expiry(NOW, NOW + 30 * 86400), NOW + GRANT_TTL_MAX_S);
    CHECK(grant_err_message(GRANT_ERR_EXPIRED)[0] != '\0');
}

int main(void)
{
    test_round_trip();
    test_malformed();
    test_bounds();
    return test_report();
}
