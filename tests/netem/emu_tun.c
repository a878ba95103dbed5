/* Namespaces, TUN devices, addresses and routes for linkemu: see emu_tun.h. */
#include "emu_tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int emu_ns_current(void)
{
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int emu_ns_enter_fd(int ns_fd) { return setns(ns_fd, CLONE_NEWNET) ? -errno : 0; }

int emu_ns_enter(const char *ns)
{
    char path[256];
    snprintf(path, sizeof(path), strchr(ns, '/') ? "%s" : "/run/netns/%s", ns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = emu_ns_enter_fd(fd);
    close(fd);
    return rc;
}

static int set_name(struct ifreq *ifr, const char *ifname)
{
    memset(ifr, 0, sizeof(*ifr));
    if (strlen(ifname) >= IFNAMSIZ)
        return -ENAMETOOLONG;
    strcpy(ifr->ifr_name, ifname);
    return 0;
}

int emu_tun_open(const char *ifname)
{
    struct ifreq ifr;
    int rc = set_name(&ifr, ifname);
    if (rc)
        return rc;
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

static void set_in(struct sockaddr *sa, uint32_t addr)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(addr)};
    memcpy(sa, &sin, sizeof(sin));
}

/* One ioctl on a throw-away socket of the current namespace. */
static int inet_ioctl(unsigned long req, void *arg)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    int rc = ioctl(s, req, arg) < 0 ? -errno : 0;
    close(s);
    return rc;
}

static int set_address(const char *ifname, uint32_t addr, int prefix)
{
    struct ifreq ifr;
    int rc = set_name(&ifr, ifname);
    if (rc)
        return rc;
    set_in(&ifr.ifr_addr, addr);
    if ((rc = inet_ioctl(SIOCSIFADDR, &ifr)))
        return rc;
    set_in(&ifr.ifr_netmask, prefix ? 0xFFFFFFFFu << (32 - prefix) : 0);
    return inet_ioctl(SIOCSIFNETMASK, &ifr);
}

int emu_if_up(const char *ifname, uint32_t addr, int prefix)
{
    struct ifreq ifr;
    int rc = addr ? set_address(ifname, addr, prefix) : 0;
    if (rc || (rc = set_name(&ifr, ifname)) || (rc = inet_ioctl(SIOCGIFFLAGS, &ifr)))
        return rc;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    return inet_ioctl(SIOCSIFFLAGS, &ifr);
}

int emu_route_default(uint32_t gw)
{
    struct rtentry rt;
    memset(&rt, 0, sizeof(rt));
    set_in(&rt.rt_dst, 0);
    set_in(&rt.rt_genmask, 0);
    set_in(&rt.rt_gateway, gw);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    return inet_ioctl(SIOCADDRT, &rt);
}
