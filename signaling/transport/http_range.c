/* HTTP byte ranges (RFC 9110 §14.1.2): "bytes=a-b", "bytes=a-" and "bytes=-n", one range
 * only; see http_range.h. */
#include "transport/http_range.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

static bool digits(const char *s) { return isdigit((unsigned char)s[0]); }

int http_range_parse(const char *h, uint64_t size, uint64_t *start, uint64_t *len)
{
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 0;
    const char *p = h + 6;
    char *end;
    uint64_t a, b;
    if (*p == '-') { /* the last n bytes */
        if (!digits(p + 1))
            return 0;
        uint64_t n = strtoull(p + 1, &end, 10);
        if (*end)
            return 0;
        if (n == 0 || size == 0)
            return -1;
        *start = n >= size ? 0 : size - n;
        *len = size - *start;
        return 1;
    }
    if (!digits(p))
        return 0;
    a = strtoull(p, &end, 10);
    if (*end != '-')
        return 0;
    p = end + 1;
    if (*p == '\0') {
        b = UINT64_MAX;
    } else {
        if (!digits(p))
            return 0;
        b = strtoull(p, &end, 10);
        if (*end || b < a)
            return 0; /* not a valid range-spec: ignored */
    }
    if (a >= size)
        return -1;
    if (b >= size)
        b = size - 1;
    *start = a;
    *len = b - a + 1;
    return 1;
}
