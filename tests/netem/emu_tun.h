/* Network-namespace and TUN plumbing for linkemu: enter a namespace by name, open a TUN
 * device there (IFF_TUN | IFF_NO_PI: plain IP packets; the device lives in the namespace of
 * the thread that opens /dev/net/tun and disappears when the fd closes), give it an IPv4
 * address and bring it up, add a default route. Old-style ioctls: no netlink code needed.
 * Creating and deleting namespaces is left to the caller (netem.py, or ip netns add). */
#ifndef CR_NETEM_EMU_TUN_H
#define CR_NETEM_EMU_TUN_H

#include <stdint.h>

/* All return 0 (or an fd) on success and -errno on failure. */
int emu_ns_current(void); /* an fd on the calling thread's network namespace */
int emu_ns_enter_fd(int ns_fd);
int emu_ns_enter(const char *ns);     /* a name under /run/netns, or a path with a '/' */
int emu_tun_open(const char *ifname); /* non-blocking fd */
/* addr in host byte order; prefix 0..32. addr 0 only brings the interface up. */
int emu_if_up(const char *ifname, uint32_t addr, int prefix);
int emu_route_default(uint32_t gw); /* host byte order */

#endif
