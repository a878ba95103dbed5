/* The server's listeners on one lws context, each a vhost:
 *   - "classrelay" on `listen`: HTTP and the websocket, or with TLS on (config_tls_on) HTTPS
 *     and WSS (RFC 8446 / RFC 6455 §3 "wss"), TLS 1.2 at least, HTTP/1.1 by ALPN (RFC 7301);
 *     a plain-HTTP request on that port is answered with a redirect to https (routes.c);
 *   - "redirect" on `http_redirect` (with TLS): plain HTTP that only redirects;
 *   - "metrics" on `metrics_listen`: plain HTTP where /metrics is open and nothing else is.
 * The certificate is `tls_cert`/`tls_key`, or a self-signed pair in DATA/tls made at the first
 * start (transport/tls_cert.c) whose SHA-256 fingerprint is printed for the school's IT person
 * to compare once. On SIGHUP (main.c sets srv->tls_reload) the pair is read again and loaded
 * into the serving SSL_CTX: new connections get it, open ones keep theirs, and a bad pair is
 * refused with the reason logged while the old one goes on serving. */
#include "listen.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/log.h"
#include "transport/http.h"
#include "transport/tls_cert.h"

#define MAX_NAMES 24

struct names {
    char text[MAX_NAMES][INET6_ADDRSTRLEN + 64];
    const char *ptr[MAX_NAMES];
    size_t n;
};

static void add_name(struct names *nm, const char *name)
{
    if (!name[0] || nm->n == MAX_NAMES || strcmp(name, "0.0.0.0") == 0 || strcmp(name, "::") == 0)
        return;
    for (size_t i = 0; i < nm->n; i++)
        if (strcmp(nm->text[i], name) == 0)
            return;
    snprintf(nm->text[nm->n], sizeof nm->text[0], "%s", name);
    nm->ptr[nm->n] = nm->text[nm->n];
    nm->n++;
}

/* Every name a browser may reach this server by: the listen and public addresses, the
 * machine's addresses (not IPv6 link-local: a URL cannot carry them usefully), its host
 * name, localhost. */
static void server_names(const struct config *cfg, struct names *nm)
{
    add_name(nm, cfg->public_ip);
    add_name(nm, cfg->listen_host);
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) == 0) {
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
            char a[INET6_ADDRSTRLEN] = "";
            int fam = i->ifa_addr ? i->ifa_addr->sa_family : AF_UNSPEC;
            if (fam == AF_INET)
                inet_ntop(fam, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, a, sizeof a);
            else if (fam == AF_INET6 &&
                     !IN6_IS_ADDR_LINKLOCAL(
                         &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr))
                inet_ntop(fam, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, a,
                          sizeof a);
            add_name(nm, a);
        }
        freeifaddrs(ifs);
    }
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) == 0)
        add_name(nm, host);
    add_name(nm, "localhost");
}

/* The pair to serve: the configured one (the key in the certificate's file when no tls_key
 * is given), or DATA/tls's, made self-signed if missing. */
static int tls_setup(struct server *srv)
{
    const struct config *cfg = srv->cfg;
    struct tls_paths *p = CR_NEW(struct tls_paths);
    char err[512];
    bool own = !cfg->tls_cert[0];
    if (!own) {
        snprintf(p->cert, sizeof p->cert, "%s", cfg->tls_cert);
        snprintf(p->key, sizeof p->key, "%s", cfg->tls_key[0] ? cfg->tls_key : cfg->tls_cert);
    } else {
        char dir[CONFIG_PATH_MAX + 8];
        snprintf(dir, sizeof dir, "%s/tls", cfg->data_dir);
        if (config_mkdirs(dir) != 0)
            CR_WARN("tls", "cannot create %s", dir);
        snprintf(p->cert, sizeof p->cert, "%s/cert.pem", dir);
        snprintf(p->key, sizeof p->key, "%s/key.pem", dir);
    }
    srv->tls = p;
    if (listen_tls_check(srv, own, err, sizeof err) == 0)
        return 0;
    CR_ERROR("tls", "%s", err);
    return -1;
}

int listen_tls_check(struct server *srv, bool own, char *err, size_t err_len)
{
    bool made = false;
    if (own) {
        struct names nm = {0};
        server_names(srv->cfg, &nm);
        if (tls_cert_ensure(srv->tls, nm.ptr, nm.n, &made, err, err_len) != 0)
            return -1;
    }
    if (tls_cert_load(srv->tls_ctx, srv->tls, err, err_len) != 0)
        return -1;
    char fp[100] = "?";
    tls_cert_fingerprint(srv->tls->cert, fp, sizeof fp);
    CR_INFO("tls", "%s certificate %s, SHA-256 %s", made ? "made a self-signed" : "serving the",
            srv->tls->cert, fp);
    if (made || (own && !srv->tls_ctx)) /* for the console too: the IT person compares it */
        printf("HTTPS certificate (self-signed, %s) SHA-256 fingerprint: %s\n", srv->tls->cert, fp);
    return 0;
}

static struct lws_vhost *add_vhost(struct server *srv, const char *name, const char *host,
                                   uint16_t port, const struct lws_protocols *protocols,
                                   const lws_retry_bo_t *retry, bool tls)
{
    bool any = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.vhost_name = name;
    info.port = port;
    info.iface = any ? NULL : host;
    info.protocols = protocols;
    info.retry_and_idle_policy = retry;
    /* an idle HTTP connection stays 60 s (lws: 5): on a 250 kbit/s school link the page takes
       seconds to load, and its join (POST /ws) must find a connection open rather than wait
       for a new TCP handshake that loses a SYN one time in ten */
    info.keepalive_timeout = 60;
    info.server_string = "classrelay";
    info.options = 0; /* not VALIDATE_UTF8: bad text gets a bad_json reply, not a close */
    if (!strchr(host, ':'))
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    if (tls) {
        info.ssl_cert_filepath = srv->tls->cert;
        info.ssl_private_key_filepath = srv->tls->key;
        info.ssl_options_set = SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
        info.alpn = "http/1.1";
        info.options |= LWS_SERVER_OPTION_ALLOW_NON_SSL_ON_SSL_PORT |
                        LWS_SERVER_OPTION_ALLOW_HTTP_ON_HTTPS_LISTENER;
    }
    struct lws_vhost *vh = lws_create_vhost(srv->lws, &info);
    if (!vh)
        CR_ERROR("server", "cannot listen on %s port %u (address in use or not local?)", host,
                 port);
    return vh;
}

/* A listener of its own at HOST:PORT (a setting config.c checked). */
static struct lws_vhost *add_side_vhost(struct server *srv, const char *name, const char *hostport,
                                        const struct lws_protocols *protocols,
                                        const lws_retry_bo_t *retry)
{
    char host[CONFIG_STR_MAX], err[128];
    uint16_t port;
    if (config_split_host_port(hostport, host, sizeof host, &port, err, sizeof err) != 0) {
        CR_ERROR("server", "%s: %s", name, err);
        return NULL;
    }
    return add_vhost(srv, name, host, port, protocols, retry, false);
}

int listen_start(struct server *srv, const struct lws_protocols *protocols,
                 const lws_retry_bo_t *retry)
{
    const struct config *cfg = srv->cfg;
    bool tls = config_tls_on(cfg);
    if (tls && tls_setup(srv) != 0)
        return -1;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.user = srv;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    if (tls)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    srv->lws = lws_create_context(&info);
    if (!srv->lws) {
        CR_ERROR("server", "libwebsockets did not start%s", tls ? " (TLS)" : "");
        return -1;
    }
    if (!add_vhost(srv, "classrelay", cfg->listen_host, cfg->listen_port, protocols, retry, tls))
        return -1;
    if (tls && !srv->tls_ctx)
        CR_WARN("tls", "the certificate cannot be reloaded by SIGHUP (no SSL context seen)");
    if (cfg->http_redirect[0] && !tls)
        CR_WARN("server", "http_redirect %s ignored: TLS is off", cfg->http_redirect);
    if (cfg->http_redirect[0] && tls &&
        !(srv->redirect_vhost =
              add_side_vhost(srv, "redirect", cfg->http_redirect, protocols, retry)))
        return -1;
    if (cfg->metrics_listen[0] && !(srv->metrics_vhost = add_side_vhost(
                                        srv, "metrics", cfg->metrics_listen, protocols, retry)))
        return -1;
    return 0;
}

void listen_on_ssl_ctx(struct server *srv, void *ssl_ctx, struct lws_vhost *vh)
{
    if (srv && vh && strcmp(lws_get_vhost_name(vh), "classrelay") == 0)
        srv->tls_ctx = ssl_ctx;
}

void listen_reload_tls(struct server *srv)
{
    srv->tls_reload = 0;
    if (!srv->tls) {
        CR_INFO("tls", "SIGHUP: TLS is off, nothing to reload");
        return;
    }
    char err[512];
    if (listen_tls_check(srv, !srv->cfg->tls_cert[0], err, sizeof err) != 0) {
        srv->counters.tls_reload_failures++;
        CR_ERROR("tls", "SIGHUP: kept the certificate in use: %s", err);
        return;
    }
    srv->counters.tls_reloads++;
    CR_INFO("tls", "SIGHUP: certificate reloaded for new connections");
}

bool listen_wants_https(struct server *srv, struct lws *wsi)
{
    if (!srv->tls)
        return false;
    struct lws_vhost *vh = lws_get_vhost(wsi);
    return vh != srv->metrics_vhost && !lws_is_ssl(wsi);
}

void listen_https_url(struct server *srv, struct lws *wsi, const char *path, char *out, size_t cap)
{
    char host[256] = "";
    if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0 || strpbrk(host, "/\\@ ?#")) {
        const struct config *cfg = srv->cfg;
        const char *h = cfg->public_ip[0] ? cfg->public_ip : cfg->listen_host;
        snprintf(host, sizeof host, strchr(h, ':') ? "[%s]" : "%s", h);
    }
    char *port = strrchr(host, ':'); /* drop the port the plain request came to */
    if (port && (host[0] != '[' || port > strchr(host, ']')))
        *port = '\0';
    unsigned p = srv->cfg->listen_port;
    int n = snprintf(out, cap, p == 443 ? "https://%s" : "https://%s:%u", host, p);
    size_t used = n > 0 && (size_t)n < cap ? (size_t)n : 0;
    http_url_rest(wsi, path, out, used, cap);
}
