/* Password redaction in URLs: see redact.h. RFC 3986 §3.2.1 (userinfo), §7.5. */
#include "base/redact.h"

#include <string.h>

/* The authority after "://" ends at the first '/', '?', '#' or white space (RFC 3986 §3.2;
 * quotes and the other sub-delims may be in a password); its userinfo, at its last '@'.
 * Returns the length of "user" when s holds "user:password@" (0 if not), and in *skip the
 * bytes of "user:password" to leave out. In a message the authority may run past the URL's
 * end: more is hidden then, never less. */
static size_t userinfo_at(const char *s, size_t *skip)
{
    size_t end = strcspn(s, "/?# \t\r\n");
    const char *at = NULL;
    for (const char *p = s; p < s + end; p++)
        if (*p == '@')
            at = p;
    if (!at)
        return 0;
    const char *colon = memchr(s, ':', (size_t)(at - s));
    if (!colon)
        return 0; /* a user name without a password: nothing secret */
    *skip = (size_t)(at - s);
    return (size_t)(colon - s);
}

static void put(char *out, size_t cap, size_t *n, const char *s, size_t len)
{
    while (len-- && *n + 1 < cap)
        out[(*n)++] = *s++;
}

size_t cr_redact_userinfo(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    if (!cap)
        return 0;
    while (*in) {
        const char *mark = strstr(in, "://");
        if (!mark) {
            put(out, cap, &n, in, strlen(in));
            break;
        }
        put(out, cap, &n, in, (size_t)(mark - in) + 3);
        in = mark + 3;
        size_t skip = 0, user = userinfo_at(in, &skip);
        if (user || skip) {
            put(out, cap, &n, in, user);
            put(out, cap, &n, ":***", 4);
            in += skip;
        }
    }
    out[n] = '\0';
    return n;
}
