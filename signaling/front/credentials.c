/* Finding a request's credentials: the token in the Authorization header ("Bearer
 * <token>"), then in the URL's token= parameter (browsers cannot set headers on a
 * websocket), then in the cr_session cookie that POST /api/v1/login sets; then verified by
 * auth_token (access/auth.h). RFC 6750 §2.1 and §2.3 (bearer tokens), RFC 6265 (cookies). */
#include "front/credentials.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access/token.h"
#include "base/alloc.h"

#define COOKIE_NAME "cr_session"

/* Copies a token of at most TOKEN_MAX characters into buf (TOKEN_MAX + 1 bytes); a longer
 * one leaves buf empty but counts as present, so it is refused as malformed. */
static bool take(char *buf, const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > TOKEN_MAX)
        return n > TOKEN_MAX; /* too long: token_verify refuses it as malformed */
    memcpy(buf, t, n + 1);
    return true;
}

/* RFC 6265 §4.2.1: cookie-pair *( ";" SP cookie-pair ). The value of the first pair named
 * name, without the spaces around it; false if there is none. */
static bool cookie_value(const char *h, const char *name, const char **v, size_t *n)
{
    size_t name_len = strlen(name);
    for (const char *p = h; *p;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        if ((size_t)(end - p) > name_len && memcmp(p, name, name_len) == 0 && p[name_len] == '=') {
            const char *s = p + name_len + 1, *e = end;
            while (s < e && (*s == ' ' || *s == '\t'))
                s++;
            while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            *v = s;
            *n = (size_t)(e - s);
            return true;
        }
        p = *end ? end + 1 : end;
    }
    return false;
}

bool cred_find_token(const char *authorization, const char *token_arg, const char *cookie,
                     char *buf)
{
    buf[0] = '\0';
    if (authorization && strlen(authorization) > 7 &&
        strncasecmp(authorization, "Bearer ", 7) == 0) {
        const char *t = authorization + 7;
        while (*t == ' ')
            t++;
        return take(buf, t);
    }
    if (token_arg && take(buf, token_arg))
        return true;
    const char *v;
    size_t n;
    /* a cookie too long to be a token is not one (the session cookie is ours) */
    if (cookie && cookie_value(cookie, COOKIE_NAME, &v, &n) && n > 0 && n <= TOKEN_MAX) {
        memcpy(buf, v, n);
        buf[n] = '\0';
        return true;
    }
    return false;
}

/* The request's token into buf (TOKEN_MAX + 1 bytes), or false if it carries none. */
static bool find_token(struct lws *wsi, char *buf)
{
    char hdr[TOKEN_MAX + 32], arg[TOKEN_MAX + 16];
    /* an Authorization header too long for hdr cannot hold a token: as if absent */
    const char *authorization =
        lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_AUTHORIZATION) > 0 ? hdr : NULL;
    const char *token_arg = lws_get_urlarg_by_name(wsi, "token=", arg, (int)sizeof arg);
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_COOKIE);
    char *cookie = NULL;
    if (n > 0) {
        cookie = cr_malloc((size_t)n + 1);
        if (lws_hdr_copy(wsi, cookie, n + 1, WSI_TOKEN_HTTP_COOKIE) < 0)
            cookie[0] = '\0';
    }
    bool found = cred_find_token(authorization, token_arg, cookie, buf);
    free(cookie);
    return found;
}

bool cred_in_url(struct lws *wsi)
{
    char arg[TOKEN_MAX + 16];
    return lws_get_urlarg_by_name(wsi, "token=", arg, (int)sizeof arg) != NULL;
}

int cred_http(struct server *srv, struct lws *wsi, struct principal *out, const char **why)
{
    auth_anonymous(out);
    *why = NULL;
    char token[TOKEN_MAX + 1];
    if (!find_token(wsi, token))
        return 0;
    return auth_token(srv, token, out, why);
}
