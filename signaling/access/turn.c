/* TURN credentials: the REST API scheme of draft-uberti-behave-turn-rest-00 §2.2, which
 * coturn checks with use-auth-secret / static-auth-secret (deploy/coturn.conf). The username
 * is "EXPIRY:ID" with EXPIRY the Unix time after which coturn refuses it, the password the
 * base64 HMAC-SHA1 of the username under the shared secret; nothing is stored, coturn
 * recomputes it. They are handed out in the websocket join reply (docs/protocol.md) and as
 * WHIP/WHEP Link headers (RFC 9725 §4.6, RFC 8288), for the URIs of turn_uri (RFC 7065). */
#include "access/turn.h"

#include "core/context.h"

#include <openssl/evp.h>
#include <time.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

bool turn_enabled(const struct config *cfg) { return cfg->turn_uri[0] && cfg->turn_secret[0]; }

int turn_credentials(const struct config *cfg, const char *id, int64_t now_s, struct turn_cred *out)
{
    memset(out, 0, sizeof *out);
    if (!turn_enabled(cfg))
        return -1;
    out->expires_s = now_s + (int64_t)cfg->turn_ttl_s;
    int n = snprintf(out->username, sizeof out->username, "%lld:", (long long)out->expires_s);
    for (const char *p = id ? id : ""; *p && (size_t)n + 1 < sizeof out->username && n < 64; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("_.-", *p))
            out->username[n++] = *p;
    out->username[n] = '\0';
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha1(), cfg->turn_secret, (int)strlen(cfg->turn_secret),
         (const unsigned char *)out->username, (size_t)n, mac, &mac_len);
    EVP_EncodeBlock((unsigned char *)out->password, mac, (int)mac_len);
    return 0;
}

int turn_issue(struct server *srv, const char *id, struct turn_cred *out)
{
    if (turn_credentials(srv->cfg, id, (int64_t)time(NULL), out) != 0)
        return -1;
    srv->counters.turn_credentials++;
    return 0;
}

/* Calls fn with each comma-separated URI of turn_uri, NUL-terminated in a copy. */
static void each_uri(const struct config *cfg, void (*fn)(void *user, const char *uri), void *user)
{
    char uri[sizeof cfg->turn_uri];
    for (const char *p = cfg->turn_uri; *p;) {
        size_t n = strcspn(p, ",");
        memcpy(uri, p, n);
        uri[n] = '\0';
        if (n)
            fn(user, uri);
        p += n + (p[n] == ',');
    }
}

static void append_uri(void *user, const char *uri)
{
    json_array_append_new(user, json_string(uri));
}

json_t *turn_ice_servers_json(const struct config *cfg, const struct turn_cred *c)
{
    json_t *urls = json_array();
    each_uri(cfg, append_uri, urls);
    return json_pack("[{s:o, s:s, s:s}]", "urls", urls, "username", c->username, "credential",
                     c->password);
}

struct link_ctx {
    const struct turn_cred *c;
    void (*fn)(void *user, const char *link);
    void *user;
};

static void one_link(void *user, const char *uri)
{
    const struct link_ctx *l = user;
    char link[sizeof((struct config *)0)->turn_uri + 256];
    snprintf(link, sizeof link,
             "<%s>; rel=\"ice-server\"; username=\"%s\"; credential=\"%s\"; "
             "credential-type=\"password\"",
             uri, l->c->username, l->c->password);
    l->fn(l->user, link);
}

void turn_each_link(const struct config *cfg, const struct turn_cred *c,
                    void (*fn)(void *user, const char *link), void *user)
{
    struct link_ctx l = {c, fn, user};
    each_uri(cfg, one_link, &l);
}
