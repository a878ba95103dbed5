/* Values of configuration keys that several key tables share: text copied with its length
 * checked, unsigned numbers, HOST:PORT. Used by config.c, config_edge.c and config_cluster.c,
 * and calling none of them. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int config_copy_str(char *dst, size_t cap, const char *value, char *err, size_t err_len)
{
    size_t n = strlen(value);
    if (n >= cap) {
        snprintf(err, err_len, "value too long (%zu characters, at most %zu)", n, cap - 1);
        return -1;
    }
    memcpy(dst, value, n + 1);
    return 0;
}

int config_parse_uint(const char *value, unsigned long max, unsigned long *out)
{
    if (!isdigit((unsigned char)value[0]))
        return -1;
    errno = 0;
    char *end;
    unsigned long v = strtoul(value, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

int config_split_host_port(const char *value, char *host_out, size_t host_cap, uint16_t *port_out,
                           char *err, size_t err_len)
{
    const char *colon = strrchr(value, ':');
    unsigned long port;
    if (!colon || config_parse_uint(colon + 1, 65535, &port) != 0 || port == 0) {
        snprintf(err, err_len, "expected HOST:PORT with a port from 1 to 65535, got \"%s\"", value);
        return -1;
    }
    const char *host = value;
    size_t host_len = (size_t)(colon - value);
    if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    if (host_len == 0) {
        host = "0.0.0.0";
        host_len = 7;
    }
    if (host_len >= host_cap) {
        snprintf(err, err_len, "host name too long");
        return -1;
    }
    for (size_t i = 0; i < host_len; i++) {
        unsigned char c = (unsigned char)host[i];
        if (!isalnum(c) && c != '.' && c != '-' && c != ':') {
            snprintf(err, err_len, "bad character in host of \"%s\"", value);
            return -1;
        }
    }
    memcpy(host_out, host, host_len);
    host_out[host_len] = '\0';
    *port_out = (uint16_t)port;
    return 0;
}
