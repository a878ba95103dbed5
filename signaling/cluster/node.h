/* A node's lease as the directory keeps it in Redis (cr:node:<id>, docs/cluster.md):
 * {"id","url","peers","max_peers","load_pct","full","started_ms"}, written by the node and
 * read by every other one. The JSON read back is network input (another process wrote it,
 * or anyone who can reach Redis): node_parse checks every field and its bounds
 * (tests/fuzz/fuzz_sig_dir_node.c). */
#ifndef CR_SIGNALING_NODE_H
#define CR_SIGNALING_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIR_ID_MAX 33   /* 32 hex digits and the NUL */
#define DIR_URL_MAX 256 /* http(s)://HOST:PORT (config.h CONFIG_STR_MAX) */

struct dir_node {
    char id[DIR_ID_MAX];   /* [0-9a-f]{8,32} */
    char url[DIR_URL_MAX]; /* http:// or https://, no spaces or controls */
    uint32_t peers, max_peers, load_pct;
    bool full; /* takes no new classrooms (max_peers reached or CPU over max_load) */
    int64_t started_ms;
};

/* Writes n as JSON into buf (cap bytes, NUL-terminated). Returns its length, or -1 if it
 * does not fit. */
int node_format(const struct dir_node *n, char *buf, size_t cap);
/* Reads a lease (len bytes, no NUL needed) into out. Returns 0, or -1 when it is not one. */
int node_parse(const char *buf, size_t len, struct dir_node *out);
/* Whether s is a node id: 8 to 32 lowercase hex digits. */
bool node_id_ok(const char *s);

#endif
