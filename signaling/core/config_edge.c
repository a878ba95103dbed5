/* Configuration keys for a server on a real school network (issue 13): HTTPS (tls, tls_cert,
 * tls_key, http_redirect), the Prometheus endpoint (metrics_token, metrics_listen), log
 * lines (log_format), TURN (turn_uri, turn_secret, turn_ttl; the REST scheme of
 * draft-uberti-behave-turn-rest) and the ICE-TCP port (ice_tcp_port). config.c hands every
 * key it does not know to config_set_edge(), which says whether it is one of these;
 * docs/configuration.md describes them. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

/* "" or HOST:PORT (config_split_host_port's forms). */
static int set_host_port(char *dst, size_t cap, const char *value, char *err, size_t err_len)
{
    char host[CONFIG_STR_MAX];
    uint16_t port;
    if (value[0] && config_split_host_port(value, host, sizeof host, &port, err, err_len) != 0)
        return -1;
    return config_copy_str(dst, cap, value, err, err_len);
}

/* A comma-separated list of turn: or turns: URIs (RFC 7065), or "". */
static int set_turn_uri(struct config *cfg, const char *value, char *err, size_t err_len)
{
    for (const char *p = value; *p;) {
        if (strncmp(p, "turn:", 5) != 0 && strncmp(p, "turns:", 6) != 0) {
            snprintf(err, err_len,
                     "expected turn:HOST[:PORT][?transport=udp|tcp] or turns:..., "
                     "comma-separated, got \"%s\"",
                     value);
            return -1;
        }
        const char *comma = strchr(p, ',');
        p = comma ? comma + 1 : p + strlen(p);
    }
    return config_copy_str(cfg->turn_uri, sizeof cfg->turn_uri, value, err, err_len);
}

static int set_enum(int *dst, const char *value, const char *const *names, size_t n, char *err,
                    size_t err_len)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(value, names[i]) == 0) {
            *dst = (int)i;
            return 0;
        }
    }
    snprintf(err, err_len, "expected %s or %s%s%s, got \"%s\"", names[0], names[1],
             n > 2 ? " or " : "", n > 2 ? names[2] : "", value);
    return -1;
}

int config_set_edge(struct config *cfg, const char *key, const char *value, char *err,
                    size_t err_len)
{
    static const char *const tls_names[] = {"auto", "on", "off"};
    static const char *const log_names[] = {"text", "json"};
    if (strcmp(key, "tls") == 0)
        return set_enum(&cfg->tls, value, tls_names, 3, err, err_len);
    if (strcmp(key, "tls_cert") == 0)
        return config_copy_str(cfg->tls_cert, sizeof cfg->tls_cert, value, err, err_len);
    if (strcmp(key, "tls_key") == 0)
        return config_copy_str(cfg->tls_key, sizeof cfg->tls_key, value, err, err_len);
    if (strcmp(key, "http_redirect") == 0)
        return set_host_port(cfg->http_redirect, sizeof cfg->http_redirect, value, err, err_len);
    if (strcmp(key, "metrics_listen") == 0)
        return set_host_port(cfg->metrics_listen, sizeof cfg->metrics_listen, value, err, err_len);
    if (strcmp(key, "metrics_token") == 0)
        return config_copy_str(cfg->metrics_token, sizeof cfg->metrics_token, value, err, err_len);
    if (strcmp(key, "log_format") == 0)
        return set_enum(&cfg->log_format, value, log_names, 2, err, err_len);
    if (strcmp(key, "turn_uri") == 0)
        return set_turn_uri(cfg, value, err, err_len);
    if (strcmp(key, "turn_secret") == 0)
        return config_copy_str(cfg->turn_secret, sizeof cfg->turn_secret, value, err, err_len);
    if (strcmp(key, "turn_ttl") == 0 || strcmp(key, "ice_tcp_port") == 0) {
        bool ttl = key[0] == 't';
        char *end = NULL;
        long v = isdigit((unsigned char)value[0]) ? strtol(value, &end, 10) : -1;
        if (v < (ttl ? 60 : 0) || v > (ttl ? 604800 : 65535) || (end && *end)) {
            snprintf(err, err_len, "expected %s, got \"%s\"",
                     ttl ? "60 to 604800 seconds" : "a port from 1 to 65535 (0: the media port)",
                     value);
            return -1;
        }
        if (ttl)
            cfg->turn_ttl_s = (uint32_t)v;
        else
            cfg->ice_tcp_port = (uint16_t)v;
        return 0;
    }
    return 1; /* not one of these */
}

bool config_tls_on(const struct config *cfg)
{
    if (cfg->tls != CONFIG_TLS_AUTO)
        return cfg->tls == CONFIG_TLS_ON;
    const char *h = cfg->listen_host;
    return strcmp(h, "localhost") != 0 && strncmp(h, "127.", 4) != 0 && strcmp(h, "::1") != 0;
}
