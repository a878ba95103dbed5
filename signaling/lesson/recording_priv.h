/* Shared between recording.c (lessons, tracks, the recorder process), recording_pack.c (the
 * packaging queue), recording_catalog.c (catalogue writes that must land) and
 * recording_files.c (deleted recordings' files). Not for other modules:
 * they use recording.h. */
#ifndef CR_SIGNALING_RECORDING_PRIV_H
#define CR_SIGNALING_RECORDING_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "classrelay/relay.h"
#include "core/config.h"
#include "lesson/recording.h"
#include "lesson/registry.h"

#define REC_ID_MAX 112
#define REC_DIR_MAX (CONFIG_PATH_MAX + 160)

struct child;

/* One recorded track: a relay track, a folder tracks/<key>, a recorder port, a tap. */
struct rec_track {
    struct rec_track *next;
    uint64_t track_id; /* the relay's */
    char key[32];      /* "2-camera": tracks/<key> */
    enum cr_kind kind;
    char source[CR_SOURCE_MAX + 8], codec[16]; /* the stage's: "stage-camera", "stage-mic" */
    char label[REG_NAME_MAX * 4 + 1];          /* the classroom on stage; "" for the teacher */
    bool stage;                                /* a classroom's, recorded while on stage */
    uint8_t pt;
    uint32_t clock_rate;
    uint16_t port;                 /* the recorder's; 0 until it says "started" */
    uint64_t tap_id;               /* the relay tap feeding it; 0: none */
    bool gone;                     /* the track left the room: stopped in the recorder */
    uint64_t packets, lost, bytes; /* from the recorder's last stats */
};

/* One lesson being recorded. */
struct rec_lesson {
    struct rec_lesson *next;
    char room[REG_ROOM_MAX + 1];
    char id[REC_ID_MAX];
    char dir[REC_DIR_MAX]; /* DATA/recordings/<id> */
    int64_t started_ms;
    int64_t idle_since_ms;    /* every recorded track gone since; 0: some are live */
    struct rec_track *tracks; /* owned */
    unsigned n_keys;
    char error[256]; /* the last problem, shown to the teacher; "" none */
};

/* A recording waiting for, or in, packaging. */
struct rec_pack {
    struct rec_pack *next;
    char id[REC_ID_MAX];
    char dir[REC_DIR_MAX];
    char room[REG_ROOM_MAX + 1]; /* told when the replay is ready; "" after a restart */
    int64_t not_before_ms;
    int64_t ended_ms; /* the lesson's end (wall clock); 0: unknown (recovered after a crash) */
    double progress;
    int64_t progress_saved_ms;
    bool done;       /* the packager said done or error */
    int attempts;    /* packagers run for it so far */
    bool retry;      /* failed once: run again before calling it failed */
    char error[256]; /* why it failed for good; "": packaged */
};

struct recording {
    struct server *srv;        /* borrowed */
    char bin[CONFIG_PATH_MAX]; /* the recorder binary; "" when not found */
    char problem[256];         /* why nothing records, for the status; "" none */
    struct child *recorder;    /* owned; NULL while down */
    bool recorder_ready;
    int64_t restart_at_ms; /* when the recorder is down: when to try again */
    unsigned restarts, backoff_s;
    int64_t last_ping_ms, last_pong_ms;
    uint64_t ping_seq;
    struct rec_lesson *lessons;        /* owned */
    struct rec_pack *queue;            /* owned; the head runs when child is set */
    struct child *packager;            /* owned */
    struct rec_pack *unsaved;          /* owned: packaged, the catalogue not yet told */
    int64_t unsaved_at_ms;             /* when to try telling it next */
    uint64_t errors;                   /* recorder error events, crashes, hangs */
    uint64_t packaged, package_failed; /* packagings finished: ready for replay, failed */
    int64_t removals_at_ms;            /* when to look for removals left here next */
};

/* recording.c: {"type":"event","event":"recording","state":state,"id":id,...} to everyone
 * in room (if it is open); message may be NULL. */
void rec_notify(struct recording *rec, const char *room, const char *state, const char *id,
                const char *message);

/* recording_pack.c */
void rec_pack_enqueue(struct recording *rec, const char *id, const char *dir, const char *room,
                      int64_t ended_ms, int64_t delay_ms);
/* A packager line or exit; false if the child is not ours. */
bool rec_pack_on_child(struct recording *rec, const struct evq_item *it);
void rec_pack_tick(struct recording *rec, int64_t now_ms);
void rec_pack_free_all(struct recording *rec);
/* Recordings a crash left unfinished: packaged a few seconds from now. */
void rec_pack_recover(struct recording *rec);

/* recording_catalog.c: the row of recording.json's meta made, this node the holder of its
 * files (0 or a CAT_ERR_*); the final state of p (packaged, or failed for good) written, and
 * kept to write again if the database was away; the retries (each every 10 s, from the
 * once-a-second tick); those left at shutdown freed. */
int rec_cat_create(struct recording *rec, json_t *meta);
void rec_cat_final(struct recording *rec, const struct rec_pack *p);
void rec_cat_tick(struct recording *rec, int64_t now_ms);
void rec_cat_free_all(struct recording *rec);

/* recording_files.c: deleted recordings' files another node left to this one, removed. */
void rec_files_tick(struct recording *rec, int64_t now_ms);

#endif
