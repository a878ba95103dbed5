/* Finding a request's credentials: the token in the Authorization header ("Bearer
 * <token>"), then in the URL's token= parameter (browsers cannot set headers on a
 * websocket), then in the cr_session cookie that POST /api/v1/login sets; then verified by
 * auth_token (access/auth.h). RFC 6750 §2.1 and §2.3 (bearer tokens), RFC 6265 (cookies). */
#include "front/credentials.h"

#include <string.h>
#include <strings.h>

#include "access/token.h"

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

/* The token text of the request into buf (TOKEN_MAX + 1 bytes), or false if it carries
 * none. */
static bool find_token(struct lws *wsi, char *buf)
{
    char hdr[TOKEN_MAX + 32];
    buf[0] = '\0';
    int n = lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n > 7 && strncasecmp(hdr, "Bearer ", 7) == 0) {
        const char *t = hdr + 7;
        while (*t == ' ')
            t++;
        return take(buf, t);
    }
    char arg[TOKEN_MAX + 16];
    const char *v = lws_get_urlarg_by_name(wsi, "token=", arg, (int)sizeof arg);
    if (v && take(buf, v))
        return true;
    size_t max = TOKEN_MAX + 1;
    if (lws_http_cookie_get(wsi, COOKIE_NAME, buf, &max) == 0 && buf[0])
        return true;
    buf[0] = '\0';
    return false;
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
