/* The queue that carries relay events from the relay's worker thread to the lws thread.
 *
 * The relay calls struct cr_relay_events on its worker thread, where signaling must not
 * block or call back into the relay. server.c copies each event into an evq_item, pushes
 * it here under a mutex and wakes the lws loop with lws_cancel_service(); the lws thread
 * takes the whole list in LWS_CALLBACK_EVENT_WAIT_CANCELLED and acts on it. The queue is
 * bounded: past EVQ_MAX items new events are dropped and counted (a stalled lws thread must
 * not turn into unbounded memory). */
#ifndef CR_SIGNALING_EVQ_H
#define CR_SIGNALING_EVQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "classrelay/relay.h"
#include "lesson/registry.h"

#define EVQ_MAX 100000

enum evq_type {
    EVQ_PEER_STATE,
    EVQ_CANDIDATE,
    EVQ_TRACKS,
    EVQ_CHILD_LINE,
    EVQ_CHILD_EXIT,
    EVQ_CHANNEL,         /* a client opened or closed a data channel */
    EVQ_CHANNEL_MESSAGE, /* a message on one */
    EVQ_CASCADE,         /* an answer of another node to the cascade (lesson/cascade.h) */
};

struct evq_item {
    struct evq_item *next;
    enum evq_type type;
    uint64_t peer_id;            /* EVQ_PEER_STATE, EVQ_CANDIDATE */
    enum cr_peer_state state;    /* EVQ_PEER_STATE */
    char mid[CR_MID_MAX];        /* EVQ_CANDIDATE */
    char *candidate;             /* owned; EVQ_CANDIDATE, NULL: end of candidates */
    char room[REG_ROOM_MAX + 1]; /* EVQ_TRACKS, EVQ_CASCADE */
    uint64_t child_id;           /* EVQ_CHILD_*: signaling/child.h */
    char *line;                  /* owned; EVQ_CHILD_LINE: one line of its stdout;
                                    EVQ_CASCADE: the answer's body */
    int status;                  /* EVQ_CHILD_EXIT: as from waitpid; EVQ_CASCADE: the HTTP
                                    status, or -1 when no answer came (line: why) */
    char label[64];              /* EVQ_CHANNEL*: the channel's label (longer ones cut);
                                    EVQ_CASCADE: the call and its link ("answer 17") */
    bool open, binary;           /* EVQ_CHANNEL; EVQ_CHANNEL_MESSAGE */
    uint8_t *data;               /* owned; EVQ_CHANNEL_MESSAGE */
    size_t data_len;
};

struct evq {
    pthread_mutex_t lock;
    struct evq_item *head, *tail; /* owned */
    size_t n;
    uint64_t dropped; /* state: events lost to the bound */
};

void evq_init(struct evq *q);
void evq_destroy(struct evq *q);
/* Takes ownership of item (frees it if the queue is full). Any thread. */
void evq_push(struct evq *q, struct evq_item *item);
/* Takes every queued item, oldest first; the caller frees each with evq_item_free. */
struct evq_item *evq_take_all(struct evq *q);
void evq_item_free(struct evq_item *item);

#endif
