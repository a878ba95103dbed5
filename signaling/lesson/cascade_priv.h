/* What lesson/cascade.c, its answers (cascade_ev.c) and the edge's report of its classrooms
 * (cascade_stage.c) share: the pulls. */
#ifndef CR_SIGNALING_CASCADE_PRIV_H
#define CR_SIGNALING_CASCADE_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lesson/cascade.h"
#include "lesson/cascade_q.h"

#define PULL_LINKS_MAX 8
#define POLL_MS 1000
#define RETRY_MAX_MS 4000
#define TOKEN_TTL_S 120

struct pull_link {
    char id[24];            /* the far node's link id */
    struct reg_resource *r; /* the session here; NULL once it closed */
};

enum pull_kind {
    PULL_LESSON,    /* an edge pulls the lesson (teacher, stage) from its origin */
    PULL_CLASSROOM, /* the origin pulls a classroom of an edge that is on stage here */
};

struct pull {
    struct pull *next;
    unsigned serial; /* names it in the labels of its calls */
    enum pull_kind kind;
    char room[REG_ROOM_MAX + 1];
    char origin[DIR_URL_MAX]; /* the node pulled from */
    char who[REG_ID_MAX];     /* PULL_CLASSROOM: the classroom here (its global id) */
    char node[REG_NODE_MAX];  /* PULL_CLASSROOM: its node */
    struct pull_link links[PULL_LINKS_MAX];
    unsigned n;
    char sources[512]; /* what was linked: the origin's source list, as it gave it */
    bool busy;         /* a call for links is out */
    bool reporting;    /* PULL_LESSON: a report is out */
    bool dirty;        /* PULL_LESSON: report again as soon as the one out is answered */
    bool stale;        /* a link died: link again */
    int64_t next_ms;   /* the next call for links not before */
    int64_t report_ms; /* the next report not before */
    unsigned fails;
    struct stage_hand *sent; /* owned: the hands the report out carries */
    unsigned n_sent;
    int64_t asked_ms; /* PULL_CLASSROOM: when it was asked for (the log says how long) */
};

struct cascade {
    struct cascade_q q;
    struct pull *pulls; /* owned */
    unsigned links;
    unsigned serial;
    uint64_t unsigned_offers; /* offers refused: not signed with the cluster's key */
};

/* The lesson pull of room, or NULL. */
struct pull *cascade_find(struct cascade *c, const char *room);
/* A call to the far node of p (its links' path + sub); what ("open", "poll", "answer <id>",
 * "close <id>") comes back with the answer; body (owned) of type. "open" makes p busy, "poll"
 * reporting, until their answer. */
void cascade_call(struct server *srv, struct pull *p, const char *method, const char *sub,
                  char *body, const char *type, const char *what);
/* Asks p's far node for links. */
void cascade_request(struct server *srv, struct pull *p);
/* Closes the sessions of p's links here and the links at the far node. */
void cascade_drop_links(struct server *srv, struct pull *p);

/* Sends the report of room's classrooms here to p's origin (the body: cascade_stage.c). */
void cascade_report(struct server *srv, struct pull *p, struct reg_room *room);
/* cascade_stage.c: {"classrooms":[...]} of room's own classrooms (edge_report.h), malloc'd;
 * the hands it carries are noted in p. */
char *cascade_report_body(struct server *srv, struct pull *p, struct reg_room *room);
/* cascade_stage.c: the origin's stage from a report's answer, mirrored in room. */
void cascade_mirror(struct server *srv, struct pull *p, struct reg_room *room, json_t *stage);

#endif
