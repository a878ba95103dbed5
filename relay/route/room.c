/* Lesson room: see room.h. Closing order (docs/lifecycle.md): a peer is taken out of the
 * worker's directory, then freed (its consumers detach from their producers, its
 * producers detach their consumers and leave the room's track list), then the room is
 * told its tracks changed. */
#include "room.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "peer.h"
#include "producer.h"
#include "worker.h"

struct room *room_new(struct cr_worker *w, const char *name)
{
    struct room *room = CR_NEW(struct room);
    snprintf(room->name, sizeof room->name, "%s", name);
    room->worker = w;
    room->peers = g_ptr_array_new();
    room->producers = g_ptr_array_new();
    return room;
}

static void unlist_peer(struct room *room, struct peer *peer)
{
    struct cr_worker *w = room->worker;
    g_hash_table_remove(w->peers, &peer->id);
    w->stats.taps -= peer->tap != NULL;
    w->stats.peers = g_hash_table_size(w->peers) - w->stats.taps;
    g_ptr_array_remove_fast(room->peers, peer);
}

void room_free(struct room *room)
{
    if (!room)
        return;
    while (room->peers->len) {
        struct peer *peer = g_ptr_array_index(room->peers, room->peers->len - 1);
        unlist_peer(room, peer);
        peer_free(peer);
    }
    g_ptr_array_free(room->peers, TRUE);
    g_ptr_array_free(room->producers, TRUE);
    free(room);
}

void room_close_peer(struct room *room, struct peer *peer)
{
    unlist_peer(room, peer);
    bool had_tracks = false;
    for (size_t i = 0; i < peer->n_mlines; i++)
        had_tracks |= peer->mlines[i].producer != NULL;
    peer_free(peer);
    if (had_tracks)
        room_tracks_changed(room);
}

void room_add_producer(struct room *room, struct producer *p)
{
    g_ptr_array_add(room->producers, p);
    room->worker->stats.producers++;
}

void room_remove_producer(struct room *room, struct producer *p)
{
    if (g_ptr_array_remove(room->producers, p))
        room->worker->stats.producers--;
}

struct producer *room_find_producer(struct room *room, uint64_t id)
{
    for (size_t i = 0; i < room->producers->len; i++) {
        struct producer *p = g_ptr_array_index(room->producers, i);
        if (p->id == id)
            return p;
    }
    return NULL;
}

void room_tracks_changed(struct room *room)
{
    struct cr_worker *w = room->worker;
    if (w->events.on_tracks_changed)
        w->events.on_tracks_changed(w->events_user, room->name);
}
