/* Configuration keys for a cluster of nodes (issue 14, docs/cluster.md): the directory
 * (redis = redis://HOST:PORT; "" : one node alone), the store (store = postgresql://... or
 * postgres://..., a libpq connection URI; "" : the SQLite file in the data folder), how
 * clients and other nodes reach this node (node_url; "" : made from listen) and the token
 * key every node shares (secret_file; "" : DATA/secret.key). config.c hands here
 * the keys that neither it nor config_set_edge() knows; this refuses what is none of these. */
#include <stdio.h>
#include <string.h>

#include "core/config.h"

static bool has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* redis://HOST:PORT (RFC 3986 authority, no user or path) or "". */
static int set_redis(struct config *cfg, const char *value, char *err, size_t err_len)
{
    if (value[0]) {
        char host[CONFIG_STR_MAX];
        uint16_t port;
        const char *hp = value + 8;
        if (!has_prefix(value, "redis://") || strchr(hp, '/') || strchr(hp, '@') ||
            config_split_host_port(hp, host, sizeof host, &port, err, err_len) != 0 || !port) {
            snprintf(err, err_len, "expected redis://HOST:PORT, got \"%s\"", value);
            return -1;
        }
    }
    return config_copy_str(cfg->redis, sizeof cfg->redis, value, err, err_len);
}

static int set_store(struct config *cfg, const char *value, char *err, size_t err_len)
{
    if (value[0] && !has_prefix(value, "postgresql://") && !has_prefix(value, "postgres://")) {
        snprintf(err, err_len, "expected postgresql://... (a libpq URI) or nothing, got \"%.64s\"",
                 value);
        return -1;
    }
    return config_copy_str(cfg->store, sizeof cfg->store, value, err, err_len);
}

/* http(s)://HOST:PORT, no path: what clients are redirected to and other nodes call. */
static int set_node_url(struct config *cfg, const char *value, char *err, size_t err_len)
{
    if (value[0]) {
        const char *hp = has_prefix(value, "https://")  ? value + 8
                         : has_prefix(value, "http://") ? value + 7
                                                        : NULL;
        char host[CONFIG_STR_MAX];
        uint16_t port;
        if (!hp || strchr(hp, '/') ||
            config_split_host_port(hp, host, sizeof host, &port, err, err_len) != 0 || !host[0] ||
            strcmp(host, "0.0.0.0") == 0 || !port) {
            snprintf(err, err_len, "expected http(s)://HOST:PORT, got \"%s\"", value);
            return -1;
        }
    }
    return config_copy_str(cfg->node_url, sizeof cfg->node_url, value, err, err_len);
}

int config_set_cluster(struct config *cfg, const char *key, const char *value, char *err,
                       size_t err_len)
{
    if (strcmp(key, "redis") == 0)
        return set_redis(cfg, value, err, err_len);
    if (strcmp(key, "store") == 0)
        return set_store(cfg, value, err, err_len);
    if (strcmp(key, "node_url") == 0)
        return set_node_url(cfg, value, err, err_len);
    if (strcmp(key, "secret_file") == 0)
        return config_copy_str(cfg->secret_file, sizeof cfg->secret_file, value, err, err_len);
    snprintf(err, err_len, "unknown key \"%s\"", key);
    return -1;
}
