/* The six roles and their names on the wire (docs/scheduling.md, "Roles"). What a role may
 * do is perm.c's business; this file only names them. */
#include "store/role.h"

#include <string.h>

static const char *const role_names[ROLE_COUNT] = {
    [ROLE_NONE] = "none",         [ROLE_ADMIN] = "admin",         [ROLE_SCHEDULER] = "scheduler",
    [ROLE_TEACHER] = "teacher",   [ROLE_CLASSROOM] = "classroom", [ROLE_RESEARCHER] = "researcher",
    [ROLE_OBSERVER] = "observer", [ROLE_NODE] = "node",
};

const char *role_name(enum role r)
{
    if ((unsigned)r >= ROLE_COUNT)
        return "none";
    return role_names[r];
}

enum role role_parse(const char *s)
{
    if (!s)
        return ROLE_NONE;
    for (int r = ROLE_NONE + 1; r < ROLE_COUNT; r++) {
        if (strcmp(s, role_names[r]) == 0)
            return (enum role)r;
    }
    return ROLE_NONE;
}

bool role_is_staff(enum role r)
{
    return r > ROLE_NONE && r < ROLE_COUNT && r != ROLE_CLASSROOM && r != ROLE_NODE;
}

bool role_of_user(enum role r) { return r > ROLE_NONE && r < ROLE_COUNT && r != ROLE_NODE; }
