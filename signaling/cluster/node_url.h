/* How clients and other nodes reach this node (config node_url, docs/configuration.md):
 * the configured URL, else made from listen: http(s)://HOST:PORT, where a listen address
 * of 0.0.0.0 becomes public_ip, else the first non-loopback IPv4 address of the host. */
#ifndef CR_SIGNALING_NODE_URL_H
#define CR_SIGNALING_NODE_URL_H

#include <stddef.h>

#include "core/config.h"

/* Writes the node's URL into out (cap bytes). Returns 0, or -1 if it does not fit. */
int node_url_of(const struct config *cfg, char *out, size_t cap);

#endif
