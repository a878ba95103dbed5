/* What lesson/cascade.c and its answers (cascade_ev.c) share: the lessons pulled. */
#ifndef CR_SIGNALING_CASCADE_PRIV_H
#define CR_SIGNALING_CASCADE_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "lesson/cascade.h"
#include "lesson/cascade_q.h"

#define PULL_LINKS_MAX 8
#define POLL_MS 1000
#define RETRY_MAX_MS 4000
#define TOKEN_TTL_S 120

struct pull_link {
    char id[24];            /* the origin's link id */
    struct reg_resource *r; /* the session here; NULL once it closed */
};

struct pull {
    struct pull *next;
    char room[REG_ROOM_MAX + 1];
    char origin[DIR_URL_MAX];
    struct pull_link links[PULL_LINKS_MAX];
    unsigned n;
    char sources[512]; /* what was linked: the origin's source list, as it gave it */
    bool busy;         /* a call for it is out */
    bool stale;        /* a link died: link again */
    int64_t next_ms;   /* the next call not before */
    unsigned fails;
};

struct cascade {
    struct cascade_q q;
    struct pull *pulls; /* owned */
    unsigned links;
};

struct pull *cascade_find(struct cascade *c, const char *room);
/* A call to the origin of p (its links' path + sub); label comes back with the answer;
 * body (owned) is an SDP. "open" and "poll" make p busy until their answer. */
void cascade_call(struct server *srv, struct pull *p, const char *method, const char *sub,
                  char *body, const char *label);
/* Asks p's origin for links. */
void cascade_request(struct server *srv, struct pull *p);
/* Closes the sessions of p's links here and the links at the origin. */
void cascade_drop_links(struct server *srv, struct pull *p);

#endif
