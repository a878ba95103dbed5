/* The audit log: see audit.h. */
#include "access/audit.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "store/role.h"
#include "store/store.h"

void audit_log(struct server *srv, const struct principal *p, const char *action, const char *room,
               const char *fmt, ...)
{
    if (!srv->store)
        return;
    struct st_audit a = {.at_ms = cr_wall_ms()};
    snprintf(a.actor, sizeof a.actor, "%s", p ? p->sub : "server");
    snprintf(a.role, sizeof a.role, "%s", p ? role_name(p->role) : "server");
    snprintf(a.action, sizeof a.action, "%s", action);
    snprintf(a.room, sizeof a.room, "%s", room ? room : "");
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(a.detail, sizeof a.detail, fmt, ap);
    va_end(ap);
    if (w >= (int)sizeof a.detail) { /* cut inside a user's text: drop the last character */
        size_t n = strlen(a.detail);
        while (n > 0 && ((unsigned char)a.detail[n - 1] & 0xC0) == 0x80)
            n--;
        if (n > 0 && ((unsigned char)a.detail[n - 1] & 0x80))
            n--;
        a.detail[n] = '\0';
    }
    int rc = srv->store->ops->audit_add(srv->store, &a);
    if (rc != 0)
        CR_WARN("auth", "audit log: cannot add %s by %s (%d)", action, a.actor, rc);
}
