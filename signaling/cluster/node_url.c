/* This node's URL: see node_url.h. */
#include "cluster/node_url.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* The first IPv4 address of the host outside 127.0.0.0/8 and 169.254.0.0/16 (loopback,
 * link-local); false if none. (<net/if.h>'s flags would do, but tools/check_layers.sh
 * reads "net/" as the relay's layer.) */
static bool first_address(char *out, size_t cap)
{
    struct ifaddrs *all;
    bool found = false;
    if (getifaddrs(&all) != 0)
        return false;
    for (struct ifaddrs *i = all; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)i->ifa_addr;
        uint32_t a = ntohl(sin->sin_addr.s_addr);
        if ((a >> 24) == 127 || (a >> 16) == 0xa9fe)
            continue;
        found = inet_ntop(AF_INET, &sin->sin_addr, out, (socklen_t)cap) != NULL;
    }
    freeifaddrs(all);
    return found;
}

int node_url_of(const struct config *cfg, char *out, size_t cap)
{
    if (cfg->node_url[0]) {
        int n = snprintf(out, cap, "%s", cfg->node_url);
        return n < 0 || (size_t)n >= cap ? -1 : 0;
    }
    char host[CONFIG_STR_MAX];
    snprintf(host, sizeof host, "%s", cfg->listen_host);
    if (strcmp(host, "0.0.0.0") == 0 || !host[0]) {
        if (cfg->public_ip[0])
            snprintf(host, sizeof host, "%s", cfg->public_ip);
        else if (!first_address(host, sizeof host))
            snprintf(host, sizeof host, "127.0.0.1");
    }
    bool v6 = strchr(host, ':') != NULL;
    int n = snprintf(out, cap, "%s://%s%s%s:%u", config_tls_on(cfg) ? "https" : "http",
                     v6 ? "[" : "", host, v6 ? "]" : "", cfg->listen_port);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}
