/* The cascade's thread (lesson/cascade.h): HTTP calls to other nodes, one at a time, in the
 * order posted; each answer goes back to the lws thread as an EVQ_CASCADE event. */
#ifndef CR_SIGNALING_CASCADE_Q_H
#define CR_SIGNALING_CASCADE_Q_H

#include <pthread.h>
#include <stdbool.h>

#include "cluster/node.h"
#include "core/context.h"
#include "lesson/registry.h"

#define CASCADE_Q_MAX 256 /* calls waiting; more are refused (the tick tries again) */

struct cascade_job {
    struct cascade_job *next;
    char room[REG_ROOM_MAX + 1];
    char label[64]; /* comes back in the event: "open", "answer 17", "poll", "close 17" */
    char base[DIR_URL_MAX];
    char method[8];
    char path[512];
    char *token;   /* owned */
    char *body;    /* owned; NULL: none */
    char type[32]; /* the body's media type */
};

struct cascade_q {
    struct server *srv;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct cascade_job *head, *tail; /* owned */
    unsigned n;
    bool started, stop;
};

int cascade_q_start(struct cascade_q *q, struct server *srv);
/* Stops the thread after the call in flight (at most its timeout); drops the rest. */
void cascade_q_stop(struct cascade_q *q);
/* Takes job; false (job freed) when the queue is full. */
bool cascade_q_post(struct cascade_q *q, struct cascade_job *job);

#endif
