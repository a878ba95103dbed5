/* Query arguments of an HTTP request (RFC 3986 §3.4: "?a=1&b=2", as libwebsockets
 * splits and decodes them): one by name, as text or as a bounded number; the path and
 * query encoded again for a redirect's URL (RFC 3986 §2.1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/http.h"

int http_query(struct lws *wsi, const char *name, char *buf, size_t cap)
{
    size_t name_len = strlen(name);
    char arg[1024];
    for (int i = 0; i < 64; i++) {
        int len = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (len <= 0)
            break;
        if ((size_t)len >= sizeof arg) {
            continue; /* too long for any argument of ours: ignore it unless it is ours */
        }
        if (lws_hdr_copy_fragment(wsi, arg, sizeof arg, WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
            break;
        if (strncmp(arg, name, name_len) != 0 || arg[name_len] != '=')
            continue;
        const char *v = arg + name_len + 1;
        if (!v[0])
            return 0;
        if (strlen(v) >= cap)
            return -1;
        snprintf(buf, cap, "%s", v);
        return 1;
    }
    return 0;
}

int http_query_i64(struct lws *wsi, const char *name, int64_t min, int64_t max, int64_t *out)
{
    char v[32];
    int rc = http_query(wsi, name, v, sizeof v);
    if (rc <= 0)
        return rc;
    const char *digits = v[0] == '-' ? v + 1 : v;
    if (digits[0] < '0' || digits[0] > '9')
        return -1;
    errno = 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || n < min || n > max)
        return -1;
    *out = n;
    return 1;
}

/* Appends text to out, percent-encoding all but RFC 3986 unreserved characters and keep. */
static size_t encode(char *out, size_t used, size_t cap, const char *text, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)text; *c && used + 4 < cap; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            strchr("-._~", *c) || strchr(keep, *c)) {
            out[used++] = (char)*c;
        } else {
            out[used++] = '%';
            out[used++] = hex[*c >> 4];
            out[used++] = hex[*c & 15];
        }
    }
    out[used] = '\0';
    return used;
}

size_t http_url_rest(struct lws *wsi, const char *path, char *out, size_t used, size_t cap)
{
    if (used >= cap)
        used = cap ? cap - 1 : 0;
    used = encode(out, used, cap, path, "/");
    /* lws holds the query decoded, one "name=value" fragment each: encode them again */
    char arg[2048];
    for (int i = 0; lws_hdr_copy_fragment(wsi, arg, sizeof arg, WSI_TOKEN_HTTP_URI_ARGS, i) > 0;
         i++) {
        if (used + 2 >= cap)
            break;
        out[used++] = i ? '&' : '?';
        char *eq = strchr(arg, '=');
        if (eq)
            *eq = '\0';
        used = encode(out, used, cap, arg, "");
        if (eq && used + 2 < cap) {
            out[used++] = '=';
            used = encode(out, used, cap, eq + 1, "");
        }
    }
    out[used] = '\0';
    return used;
}
