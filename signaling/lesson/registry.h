/* The signaling side's book of rooms, participants and WHIP/WHEP sessions, and which relay
 * peer belongs to whom.
 *
 * Plain data on the lws thread: no locks, no relay calls, no I/O. Callers (rpc.c, whip.c,
 * server.c) open and close the relay's rooms and peers and record the result here. A room
 * lists its participants (websocket clients) and its resources (WHIP publishers, WHEP
 * players); each of those holds up to two relay peers. Lookups scan lists: a room holds
 * tens to a few hundred members, and lookups happen per signaling event, never per
 * packet. */
#ifndef CR_SIGNALING_REGISTRY_H
#define CR_SIGNALING_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "classrelay/relay.h"
#include "access/principal.h"
#include "base/bucket.h"
#include "lesson/quiz.h"
#include "lesson/stage.h"

#define REG_ROOM_MAX 64 /* characters in a room name */
#define REG_ID_MAX 24   /* characters in a participant or resource id */
#define REG_NAME_MAX 64 /* characters (code points) in a participant name */
_Static_assert(REG_ID_MAX == STAGE_ID_MAX, "the stage holds participant ids");

/* REG_OBSERVER: a researcher or observer watching unseen (never listed to the room). */
enum reg_role { REG_TEACHER, REG_CLASSROOM, REG_OBSERVER };
enum reg_target { REG_PUBLISH, REG_SUBSCRIBE };

/* A relay peer held by a participant or resource. */
struct reg_peer {
    uint64_t id;              /* relay peer id; 0: none */
    enum cr_peer_state state; /* last state the relay reported */
    int64_t created_ms;       /* for the never-connected timeout */
    bool ever_connected;
};

struct reg_room;

/* What a receive line the lesson feeds (lesson/floor.c) is to carry; the relay knows it as
 * a "follow" line (cr_mline_hint.follow) and is told each change (cr_relay_peer_feed). */
enum reg_feed {
    REG_FEED_TRACK,     /* one track asked for by id (a classroom's, as the rules allow) */
    REG_FEED_TEACHER,   /* the teacher's: mic, camera (slot 0) or screen (slot 1) */
    REG_FEED_STAGE,     /* whoever is on stage in slot (0..3), of the line's kind */
    REG_FEED_CLASSROOM, /* one classroom's (who), as the rules allow */
};

struct reg_line {
    char mid[CR_MID_MAX];
    bool known; /* negotiated: kind is the line's */
    enum cr_kind kind;
    enum reg_feed feed;
    uint8_t slot;         /* REG_FEED_STAGE, REG_FEED_TEACHER */
    bool camera_only;     /* REG_FEED_TEACHER video: the camera or nothing ("teacher:camera") */
    char who[REG_ID_MAX]; /* REG_FEED_CLASSROOM */
    uint64_t track;       /* REG_FEED_TRACK */
    char codec[16];       /* video: the codec wanted ("@H264"), then the one answered; only
                             tracks of it feed the line. "": any */
    uint64_t fed;         /* state: the track the relay feeds it now; 0: none */
    uint8_t layers;       /* state: the relay's layer cap on it (cr_relay_peer_layers);
                             REG_LAYERS_UNSET until floor.c sets one */
};

#define REG_LAYERS_UNSET 0xff

/* Lines: n of them at line. A participant's or a resource's own are a heap copy of what
 * was negotiated (reg_lines_keep; about 112 bytes a line, not 40 lines' room for every
 * classroom); a request builds them in a buffer of CR_OFFER_MAX_LINES it owns. */
struct reg_lines {
    struct reg_line *line;
    size_t n;
};

/* dst becomes a copy of src's lines (its old ones freed); src is left as it was. */
void reg_lines_keep(struct reg_lines *dst, const struct reg_lines *src);
void reg_lines_clear(struct reg_lines *lines);

struct reg_participant {
    struct reg_participant *next; /* state: the room's list */
    struct reg_room *room;        /* borrowed */
    char id[REG_ID_MAX];          /* "p7" */
    enum reg_role role;
    char name[REG_NAME_MAX * 4 + 1]; /* UTF-8 */
    struct reg_peer peers[2];        /* [REG_PUBLISH], [REG_SUBSCRIBE] */
    void *conn;                      /* borrowed: the websocket connection that owns this */
    struct principal who;            /* the token it joined with (auth.h) */
    struct reg_lines lines;          /* its subscribe peer's lines the lesson feeds */
    int64_t joined_ms;               /* wall clock */
    struct cr_bucket chat;           /* state: lesson/chat.c */
};

/* A WHIP (publish) or WHEP (play) session: RFC 9725 and its WHEP counterpart. */
struct reg_resource {
    struct reg_resource *next; /* state: the room's list */
    struct reg_room *room;     /* borrowed */
    char id[REG_ID_MAX];       /* random, the last part of the Location URL */
    bool whep;
    char ice_ufrag[257]; /* the client's (RFC 8839: up to 256 characters), to tell trickle from an
                            ICE restart */
    struct reg_peer peer;
    enum reg_role role;              /* WHIP: teacher (the default) or classroom */
    char name[REG_NAME_MAX * 4 + 1]; /* WHIP classroom: as listed to the room */
    struct reg_lines lines;          /* WHEP: the lines the lesson feeds (?feed=) */
    struct cr_bucket chat;           /* state: lesson/chat.c (over its data channel) */
    bool cascade; /* WHIP: another node's publisher pulled over a cascade link (this node is
                     an edge): never recorded here, its origin records it */
};

struct reg_room {
    struct reg_room *next;
    char name[REG_ROOM_MAX + 1];
    bool pinned; /* stays open when empty (the demo room, a scheduled lesson's window) */
    /* a scheduled lesson's room (lifecycle.c); lesson_id 0: demo or ad-hoc */
    int64_t lesson_id;
    bool record;              /* record the teacher's tracks (config, or the lesson's flag) */
    char title[801];          /* the lesson's title, for its recording; "" : none */
    bool paused;              /* the teacher paused the lesson: their media is not forwarded */
    bool muted_all;           /* classrooms' audio is not forwarded */
    int64_t ends_ms;          /* wall clock: the occurrence's end; 0: none */
    int64_t closes_ms;        /* wall clock: the room closes (end + overtime); 0: never */
    unsigned warned;          /* lifecycle: warnings already sent (bits) */
    struct stage stage;       /* floor control: hands, who is on stage, mutes (lesson/floor.c) */
    bool chat_closed;         /* the teacher turned chat off for classrooms (lesson/chat.c) */
    struct quiz quiz;         /* the last quiz asked (lesson/quiz.c) */
    char speaker[REG_ID_MAX]; /* the classroom heard loudest now; "": none (floor.c) */
    struct reg_participant *participants; /* borrowed: owned by their connections */
    struct reg_resource *resources;       /* owned */
    uint32_t n_participants, n_resources;
};

struct registry {
    struct reg_room *rooms; /* owned */
    uint32_t n_rooms;
    uint64_t next_participant; /* state: ids "p1", "p2", ... never reused */
};

/* Who holds a relay peer. */
struct reg_owner {
    struct reg_participant *participant; /* one of these two, or neither */
    struct reg_resource *resource;
    enum reg_target target; /* for a participant */
    struct reg_peer *peer;  /* the slot itself */
};

void reg_init(struct registry *reg);
/* Frees rooms and resources; participants belong to their connections. */
void reg_clear(struct registry *reg);

/* Participant names: valid UTF-8 of at most REG_NAME_MAX code points, no control
 * characters (may be empty). */
bool reg_name_ok(const char *name);
/* Room names: 1 to 64 of [A-Za-z0-9_-]. */
bool reg_room_name_ok(const char *name);
struct reg_room *reg_room_find(struct registry *reg, const char *name);
/* Adds an empty room (the caller has opened it in the relay). */
struct reg_room *reg_room_add(struct registry *reg, const char *name);
void reg_room_remove(struct registry *reg, struct reg_room *room);
bool reg_room_empty(const struct reg_room *room);

/* Links p into room and gives it the next id. */
void reg_participant_add(struct registry *reg, struct reg_room *room, struct reg_participant *p);
void reg_participant_remove(struct reg_participant *p);
struct reg_participant *reg_participant_find(struct reg_room *room, const char *id);

/* Allocates a resource in room with a fresh random id. */
struct reg_resource *reg_resource_add(struct reg_room *room, bool whep);
struct reg_resource *reg_resource_find(struct reg_room *room, const char *id, bool whep);
void reg_resource_remove(struct reg_resource *r); /* unlinks and frees */

/* Finds the holder of relay peer peer_id. Returns false if nobody holds it. */
bool reg_find_peer(struct registry *reg, uint64_t peer_id, struct reg_owner *out);

const char *reg_role_name(enum reg_role role);
const char *reg_target_name(enum reg_target target);

#endif
