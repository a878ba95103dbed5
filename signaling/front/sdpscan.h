/* Walking the lines of an application/trickle-ice-sdpfrag body (RFC 8840 §9), as a WHIP
 * PATCH carries it: signaling reads only a=ice-ufrag, a=mid, a=candidate and
 * a=end-of-candidates lines of it. Offers are read once, by the relay (relay/wire/sdp.c
 * through cr_relay_negotiate); nothing here reads them.
 *
 * Buffer in, view out: nothing is allocated, lines borrow the buffer. */
#ifndef CR_SIGNALING_SDPSCAN_H
#define CR_SIGNALING_SDPSCAN_H

#include <stdbool.h>
#include <stddef.h>

/* Iterates lines (LF or CRLF separated): returns true and the next line (without its line
 * ending) from *pos, advancing *pos; false at the end. */
bool sdpscan_next_line(const char *buf, size_t len, size_t *pos, const char **line,
                       size_t *line_len);

/* True if the line begins with prefix. */
bool sdpscan_has_prefix(const char *line, size_t line_len, const char *prefix);

#endif
