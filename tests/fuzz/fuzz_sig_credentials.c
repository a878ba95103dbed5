/* Fuzz entry point for signaling/front/credentials.c's cred_find_token: where a request's
 * token comes from (RFC 6750 §2.1 Authorization: Bearer, the token= URL argument, the
 * cr_session cookie of RFC 6265 §4.2.1). The input is a mask byte saying which of the three
 * the request has, then their texts separated by newlines. Checks: a token found is at most
 * TOKEN_MAX characters and copied from the source that takes precedence; nothing found
 * leaves the buffer empty; the token then goes through token_verify, as auth_token does.
 * Last, the input's third part is wrapped as the value of a cr_session cookie among others
 * and must come back exactly. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access/token.h"
#include "front/credentials.h"
#include "require.h"

#define NOW 1767225600 /* 2026-01-01T00:00:00Z */

static const struct token_key key = {{'c', 'r', '-', 'f', 'u', 'z', 'z'}};

/* Part i of the input (0-based, newline-separated), as an exact-size string. */
static char *part(const uint8_t *data, size_t size, int i)
{
    const uint8_t *p = data, *end = data + size;
    for (; i > 0 && p < end; i--) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = (size_t)((nl ? nl : end) - p);
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* The token text of a "Bearer " Authorization header, or NULL for any other header. */
static const char *bearer(const char *a)
{
    if (!a || strlen(a) <= 7 || strncasecmp(a, "Bearer ", 7) != 0)
        return NULL;
    a += 7;
    while (*a == ' ')
        a++;
    return a;
}

static void check(const char *auth, const char *arg, const char *cookie)
{
    char buf[TOKEN_MAX + 1];
    memset(buf, 'x', sizeof buf);
    bool found = cred_find_token(auth, arg, cookie, buf);
    size_t n = strnlen(buf, sizeof buf);
    REQUIRE(n <= TOKEN_MAX && (found || n == 0));
    const char *bt = bearer(auth);
    if (bt) { /* the header decides alone; a token too long is present but empty */
        REQUIRE(found == (bt[0] != '\0'));
        REQUIRE(!found || (n == 0 ? strlen(bt) > TOKEN_MAX : strcmp(bt, buf) == 0));
    } else if (arg && arg[0]) { /* then the URL argument, as it stands */
        REQUIRE(found && (n == 0 ? strlen(arg) > TOKEN_MAX : strcmp(arg, buf) == 0));
    } else if (found) { /* then the cookie: a part of it, without ';' or spaces around */
        REQUIRE(cookie && n > 0 && strstr(cookie, buf) && !strchr(buf, ';'));
        REQUIRE(buf[0] != ' ' && buf[0] != '\t' && buf[n - 1] != ' ' && buf[n - 1] != '\t');
    }
    struct token_claims c;
    REQUIRE(token_verify(&key, buf, n, NOW, &c) <= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mask = data[0];
    char *a = part(data + 1, size - 1, 0), *q = part(data + 1, size - 1, 1),
         *k = part(data + 1, size - 1, 2);
    check(mask & 1 ? a : NULL, mask & 2 ? q : NULL, mask & 4 ? k : NULL);

    /* the third part as the session cookie's value, between other cookies */
    size_t kn = strlen(k);
    char *jar = malloc(kn + 64);
    strcpy(jar, "theme=dark;  cr_session= ");
    strcat(jar, k);
    strcat(jar, " ; cr_session=other; lang=fr");
    char buf[TOKEN_MAX + 1];
    bool found = cred_find_token(NULL, NULL, jar, buf);
    size_t lead = strspn(k, " \t"), trail = 0;
    while (trail < kn - lead && (k[kn - 1 - trail] == ' ' || k[kn - 1 - trail] == '\t'))
        trail++;
    size_t want = kn - lead - trail;
    if (!strchr(k, ';') && want > 0 && want <= TOKEN_MAX)
        REQUIRE(found && strlen(buf) == want && memcmp(buf, k + lead, want) == 0);
    else if (!strchr(k, ';'))
        REQUIRE(!found && buf[0] == '\0');
    free(jar);
    free(a);
    free(q);
    free(k);
    return 0;
}
