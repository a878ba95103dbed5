/* The answer an HTTP/1.1 client reads (RFC 9112 §4 status line, §5 fields, §6 message body,
 * §7.1 chunked transfer coding): parsed from the whole of it, for node_http.h. Pure; the
 * input is another node's answer, so every length is checked (fuzz_sig_node_http). */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "cluster/node_http.h"

/* The value of header name in [head, end), NUL-terminated into out; false if absent. */
static bool header(const char *head, const char *end, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = head; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            size_t n = (size_t)(ve - v) < cap - 1 ? (size_t)(ve - v) : cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return true;
        }
        p = eol + 1;
    }
    return false;
}

/* Undoes the chunked coding of [p, end) into out (at most its length). -1 if malformed. */
static long unchunk(const char *p, const char *end, char *out)
{
    size_t n = 0;
    for (;;) {
        char *e;
        if (p >= end || !isxdigit((unsigned char)*p))
            return -1;
        unsigned long size = strtoul(p, &e, 16); /* stops at a non-digit: end is not passed */
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol || e > eol || size > (size_t)(end - eol - 1))
            return -1;
        p = eol + 1;
        if (size == 0)
            return (long)n;
        memcpy(out + n, p, size);
        n += size;
        p += size;
        if (p < end && *p == '\r')
            p++;
        if (p < end && *p == '\n')
            p++;
    }
}

int http_client_parse(const char *buf, size_t len, struct http_client_resp *out)
{
    memset(out, 0, sizeof *out);
    const char *end = buf + len, *sep = NULL;
    for (const char *p = buf; p + 3 < end && !sep; p++)
        if (memcmp(p, "\r\n\r\n", 4) == 0)
            sep = p;
    if (!sep || len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' ||
        !isdigit((unsigned char)buf[9]) || !isdigit((unsigned char)buf[10]) ||
        !isdigit((unsigned char)buf[11]))
        return -1;
    int status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    if (status < 100)
        return -1;
    const char *body = sep + 4;
    size_t avail = (size_t)(end - body);
    char v[64];
    long n = (long)avail;
    char *copy = cr_malloc(avail + 1);
    if (header(buf, sep, "Transfer-Encoding", v, sizeof v) && strcasecmp(v, "chunked") == 0) {
        n = unchunk(body, end, copy);
    } else {
        if (header(buf, sep, "Content-Length", v, sizeof v)) {
            char *e;
            unsigned long cl = isdigit((unsigned char)v[0]) ? strtoul(v, &e, 10) : avail + 1;
            n = cl <= avail ? (long)cl : -1; /* the whole body must be there */
        }
        if (n >= 0)
            memcpy(copy, body, (size_t)n);
    }
    if (n < 0) {
        free(copy);
        return -1;
    }
    copy[n] = '\0';
    *out = (struct http_client_resp){.status = status, .body = copy, .body_len = (size_t)n};
    return 0;
}

bool node_http_complete(const char *buf, size_t len)
{
    const char *sep = NULL;
    for (const char *p = buf; p + 3 < buf + len && !sep; p++)
        if (memcmp(p, "\r\n\r\n", 4) == 0)
            sep = p;
    if (!sep)
        return false;
    size_t body = len - (size_t)(sep + 4 - buf);
    char v[64];
    if (header(buf, sep, "Transfer-Encoding", v, sizeof v) && strcasecmp(v, "chunked") == 0)
        return len >= 5 && memcmp(buf + len - 5, "0\r\n\r\n", 5) == 0;
    if (header(buf, sep, "Content-Length", v, sizeof v))
        return isdigit((unsigned char)v[0]) && strtoul(v, NULL, 10) <= body;
    return false; /* to the end of the stream */
}
