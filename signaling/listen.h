/* The server's listeners: the main vhost (HTTP, or HTTPS and WSS), the plain-HTTP redirector,
 * the metrics vhost; the HTTPS certificate, self-signed when none is given, reloaded on
 * SIGHUP (listen.c). */
#ifndef CR_SIGNALING_LISTEN_H
#define CR_SIGNALING_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/context.h"

/* Creates srv->lws and its vhosts from srv->cfg. Returns 0, or -1 (reason logged). */
int listen_start(struct server *srv, const struct lws_protocols *protocols,
                 const lws_retry_bo_t *retry);

/* LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS: the vhost's SSL_CTX, kept for
 * reloads when it is the main vhost's. */
void listen_on_ssl_ctx(struct server *srv, void *ssl_ctx, struct lws_vhost *vh);

/* Makes the self-signed pair if own and it is missing or ending, checks the pair and loads
 * it into srv->tls_ctx (when known), logs its fingerprint. 0, or -1 with a reason. */
int listen_tls_check(struct server *srv, bool own, char *err, size_t err_len);

/* SIGHUP: the certificate and key read again and served to new connections. */
void listen_reload_tls(struct server *srv);

/* True if this request came over plain HTTP where HTTPS serves: it only gets a redirect. */
bool listen_wants_https(struct server *srv, struct lws *wsi);

/* The https:// URL of this request's path and query on the main listener. */
void listen_https_url(struct server *srv, struct lws *wsi, const char *path, char *out, size_t cap);

#endif
