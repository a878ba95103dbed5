/* Fuzz entry point for a node's lease read back from Redis (cluster/node.c node_parse;
 * docs/cluster.md): any process that reaches Redis can write cr:node:<id>. Checks: a lease
 * accepted has a valid id and an http(s) URL without spaces or quotes, and formats back to
 * JSON that parses to the same node. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dir_node n, again;
    if (node_parse((const char *)data, size, &n) != 0)
        return 0;
    if (!node_id_ok(n.id) || (strncmp(n.url, "http://", 7) != 0 && strncmp(n.url, "https://", 8)))
        abort();
    char buf[512];
    int len = node_format(&n, buf, sizeof buf);
    if (len < 0 || node_parse(buf, (size_t)len, &again) != 0 || memcmp(&n, &again, sizeof n) != 0)
        abort();
    return 0;
}
