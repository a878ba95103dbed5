/* A node's lease as JSON: see node.h. Checked field by field (STYLE.md habit 5: what comes
 * back from Redis is not trusted). */
#include "cluster/node.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

bool node_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 8 || n >= DIR_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return true;
}

static bool url_ok(const char *s, size_t n)
{
    if (n >= DIR_URL_MAX || strlen(s) != n ||
        (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0))
        return false;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || s[i] == '"' || s[i] == '\\')
            return false;
    }
    return true;
}

int node_format(const struct dir_node *n, char *buf, size_t cap)
{
    int len = snprintf(buf, cap,
                       "{\"id\":\"%s\",\"url\":\"%s\",\"peers\":%u,\"max_peers\":%u,"
                       "\"load_pct\":%u,\"full\":%s,\"started_ms\":%lld}",
                       n->id, n->url, n->peers, n->max_peers, n->load_pct,
                       n->full ? "true" : "false", (long long)n->started_ms);
    return len < 0 || (size_t)len >= cap ? -1 : len;
}

static bool get_u32(json_t *o, const char *key, uint32_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > (json_int_t)UINT32_MAX)
        return false;
    *out = (uint32_t)json_integer_value(v);
    return true;
}

int node_parse(const char *buf, size_t len, struct dir_node *out)
{
    json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *id = json_object_get(o, "id"), *url = json_object_get(o, "url");
    json_t *full = json_object_get(o, "full"), *started = json_object_get(o, "started_ms");
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (!json_is_object(o) || !json_is_string(id) || !json_is_string(url) ||
        !json_is_boolean(full) || !json_is_integer(started) || json_integer_value(started) < 0)
        goto done;
    const char *ids = json_string_value(id), *urls = json_string_value(url);
    if (json_string_length(id) != strlen(ids) || !node_id_ok(ids) ||
        !url_ok(urls, json_string_length(url)))
        goto done;
    if (!get_u32(o, "peers", &out->peers) || !get_u32(o, "max_peers", &out->max_peers) ||
        !get_u32(o, "load_pct", &out->load_pct))
        goto done;
    snprintf(out->id, sizeof out->id, "%s", ids);
    snprintf(out->url, sizeof out->url, "%s", urls);
    out->full = json_is_true(full);
    out->started_ms = (int64_t)json_integer_value(started);
    rc = 0;
done:
    json_decref(o);
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}
