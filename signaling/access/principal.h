/* A principal: who a request speaks for, as its token says (access/auth.c fills it). Plain data,
 * kept apart from auth.h so the registry can hold one per participant. */
#ifndef CR_SIGNALING_PRINCIPAL_H
#define CR_SIGNALING_PRINCIPAL_H

#include <stdbool.h>
#include <stdint.h>

#include "store/role.h"

struct principal {
    enum role role; /* ROLE_NONE: no token came with the request */
    bool has_room;  /* the token names a room (join links, classrelay token) */
    char room[65];
    char sub[64]; /* "u12", "link:3", "cli"; "anonymous" without a token */
    char name[257];
    int64_t user_id;   /* from a "u<id>" sub; 0 otherwise */
    int64_t classroom; /* the classroom the token speaks for; 0: none */
    int64_t exp;       /* seconds since the epoch */
};

#endif
