/* The six roles of ClassRelay's users (docs/scheduling.md), the role of a cluster's nodes
 * (tokens they sign for each other, never a user's), and their names on the wire.
 * perm.c decides what each may do. */
#ifndef CR_SIGNALING_ROLE_H
#define CR_SIGNALING_ROLE_H

#include <stdbool.h>

enum role {
    ROLE_NONE = 0, /* no token: only the demo room admits */
    ROLE_ADMIN,
    ROLE_SCHEDULER,
    ROLE_TEACHER,
    ROLE_CLASSROOM,
    ROLE_RESEARCHER,
    ROLE_OBSERVER,
    ROLE_NODE, /* another node of the cluster (docs/cluster.md): tokens only, never a user */
    ROLE_COUNT
};

/* "admin", "scheduler", ...; "none" for ROLE_NONE. */
const char *role_name(enum role r);
/* The role named s (not "none"), or ROLE_NONE. */
enum role role_parse(const char *s);
/* A role a user account may have: the six, not node. */
bool role_of_user(enum role r);
/* Staff: every role but classroom (and none). */
bool role_is_staff(enum role r);

#endif
