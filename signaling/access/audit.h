/* The audit log: who did what to which room, and what was refused (docs/scheduling.md).
 * Written to the schedule store; a store that is off or failing loses the line, logged,
 * never passed on to the caller. */
#ifndef CR_SIGNALING_AUDIT_H
#define CR_SIGNALING_AUDIT_H

#include "access/principal.h"
#include "core/context.h"

/* Adds a line to the audit log (actor and role from p; NULL: the server itself); detail is
 * printf-style. */
void audit_log(struct server *srv, const struct principal *p, const char *action, const char *room,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
