/* Socket addresses as the ICE code handles them: IPv4 or IPv6, compared by address and
 * port, written "192.0.2.1:5000" or "[2001:db8::1]:5000". */
#ifndef CR_NET_ADDR_H
#define CR_NET_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* The length of sa's family's struct (sockaddr_in or sockaddr_in6). */
socklen_t cr_addr_len(const struct sockaddr *sa);
/* Same family, address and port. */
bool cr_addr_equal(const struct sockaddr *a, const struct sockaddr *b);
/* "ip:port" or "[ip]:port" into out (cap bytes, INET6_ADDRSTRLEN + 8 is enough). */
void cr_addr_describe(const struct sockaddr *sa, char *out, size_t cap);

#endif
