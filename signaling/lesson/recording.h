/* The recording controller (docs/recording.md): every lesson the teacher publishes is
 * recorded without anyone pressing a button, and packaged for replay when it ends.
 *
 * It runs the recorder process (classrelay-recorder record) and restarts it when it dies
 * or hangs; for each track the teacher publishes (a teacher's websocket publish or a WHIP
 * encoder) it asks the recorder for a port and adds a relay tap feeding it. While a
 * classroom is on stage (and not muted) its camera and microphone are recorded too, as
 * tracks of their own ("stage-camera", "stage-mic", labelled with the classroom's name),
 * one pair per turn; the packager shows them beside the teacher. A lesson's
 * recording ends record_end_after_s seconds after its last recorded track went (a teacher
 * who reconnects within that time continues the same recording), and is then packaged
 * (classrelay-recorder package, one at a time, at low priority). Recordings a crash left
 * unfinished are packaged at the next start. The catalogue (catalog.h) and the room's
 * participants ({"event":"recording"}) are kept told.
 *
 * Runs on the lws thread. If the recorder fails, the live lesson is never affected: the
 * relay's taps only drop packets. */
#ifndef CR_SIGNALING_RECORDING_H
#define CR_SIGNALING_RECORDING_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server;
struct evq_item;
struct recording;

/* Starts the recorder (when the configuration records) and queues the packaging of
 * recordings left unfinished. Never fails: problems are logged and shown in the status. */
struct recording *recording_new(struct server *srv);
/* Stops the recorder (it finalises what it wrote) and any packager. NULL: nothing. */
void recording_free(struct recording *rec);

/* Recording id was deleted from the catalogue: its files here (DATA/recordings/<id>, or a
 * shared folder's) are removed; holder, the node the catalogue named ("" or NULL: none),
 * removes its own when it is another (recording_files.c). */
void recording_deleted(struct recording *rec, const char *id, const char *holder);

/* The room's set of tracks, or its stage, changed. */
void recording_on_tracks(struct recording *rec, const char *room);
/* A line or the exit of one of our child processes (EVQ_CHILD_LINE / EVQ_CHILD_EXIT). */
void recording_on_child(struct recording *rec, const struct evq_item *it);
/* Once a second: lessons that ended, recorder restarts and liveness, the packaging queue. */
void recording_tick(struct recording *rec, int64_t now_ms);

/* {"state":"off"|"recording"|"error"|"unavailable","id","message"} for a room (new
 * reference); "unavailable": the server records but has no recorder binary. */
json_t *recording_room_json(struct recording *rec, const char *room);
/* The recording running in room now: its id (into id, cap bytes) and how far into it
 * now_ms (wall clock) is. false when nothing records there. */
bool recording_position(struct recording *rec, const char *room, int64_t now_ms, char *id,
                        size_t cap, int64_t *at_ms);
/* The classrelay-recorder binary found (also the RTSP ingest's); "" when there is none. */
const char *recording_binary(const struct recording *rec);
/* The recorder's state for /api/v1/stats (new reference). */
json_t *recording_status_json(struct recording *rec);

/* The recorder's and packager's state in numbers, for /metrics (front/metrics.c). */
struct recording_figures {
    bool enabled;                  /* the server records and has a recorder binary */
    bool recorder_up;              /* the recorder runs and answered */
    unsigned restarts;             /* recorder restarts since start */
    uint64_t errors;               /* recorder error events, crashes, hangs */
    unsigned lessons;              /* lessons being recorded now */
    unsigned tracks_live;          /* their tracks recorded now */
    uint64_t packets, lost, bytes; /* of the tracks of those lessons, as the recorder said */
    bool packager_running;
    unsigned packaging_queue;          /* recordings waiting for or in packaging */
    uint64_t packaged, package_failed; /* packagings finished since start: ready, failed */
};
void recording_figures(struct recording *rec, struct recording_figures *out);

#endif
