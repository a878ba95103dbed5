/* A lesson room: the peers in it and the tracks (producers) they publish. Fan-out itself
 * lives in the producer (its list of consumers); the room is the directory in which
 * subscribers find tracks, and it owns its peers. */
#ifndef CR_RELAY_ROOM_H
#define CR_RELAY_ROOM_H

#include <glib.h>
#include <stdint.h>

#include "classrelay/types.h"

struct cr_worker;
struct peer;
struct producer;

struct room {
    char name[CR_NAME_MAX + 1];
    struct cr_worker *worker; /* borrowed: owns the room */
    GPtrArray *peers;         /* struct peer *, owned */
    GPtrArray *producers;     /* struct producer *, borrowed (peers own them) */
};

struct room *room_new(struct cr_worker *w, const char *name);
void room_free(struct room *room);
void room_add_producer(struct room *room, struct producer *p);
void room_remove_producer(struct room *room, struct producer *p);
struct producer *room_find_producer(struct room *room, uint64_t id);
/* Removes a peer from the room and frees it. */
void room_close_peer(struct room *room, struct peer *peer);
/* Tells the control plane that the room's set of tracks changed. */
void room_tracks_changed(struct room *room);

#endif
