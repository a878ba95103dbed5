/* The recording controller: see recording.h. This file holds the lessons being recorded,
 * their tracks, and the recorder process; recording_pack.c the packaging queue. The
 * recorder's protocol is in docs/recording.md. */
#include "lesson/recording.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/alloc.h"
#include "base/log.h"
#include "store/catalog.h"
#include "lesson/child.h"
#include "lesson/evq.h"
#include "lesson/recording_priv.h"
#include "lesson/rooms.h"
#include "lesson/stage.h"
#include "core/context.h"

#define PING_INTERVAL_MS 5000
#define HANG_AFTER_MS 15000 /* no pong this long: the recorder is hung, killed */
#define BACKOFF_MAX_S 10    /* between recorder restarts */
#define STOP_WAIT_MS 4000   /* for the recorder to finalise at shutdown */

/* ---- helpers ---- */

static void send_cmd(struct recording *rec, json_t *cmd)
{
    char *line = json_dumps(cmd, JSON_COMPACT);
    json_decref(cmd);
    if (!rec->recorder || !rec->recorder_ready || !line) {
        free(line);
        return;
    }
    if (child_write_line(rec->recorder, line) != 0) {
        CR_WARN("recording", "the recorder does not take commands: killing it");
        child_signal(rec->recorder, SIGKILL); /* its exit event restarts it */
    }
    free(line);
}

/* "<recording id>:<key>": unique across lessons in one recorder process. */
static void wire_key(const struct rec_lesson *l, const struct rec_track *t, char *out, size_t n)
{
    snprintf(out, n, "%s:%s", l->id, t->key);
}

static bool find_by_wire_key(struct recording *rec, const char *key, struct rec_lesson **lo,
                             struct rec_track **to)
{
    for (struct rec_lesson *l = rec->lessons; l; l = l->next) {
        size_t n = strlen(l->id);
        if (strncmp(key, l->id, n) != 0 || key[n] != ':')
            continue;
        for (struct rec_track *t = l->tracks; t; t = t->next) {
            if (strcmp(key + n + 1, t->key) == 0) {
                *lo = l;
                *to = t;
                return true;
            }
        }
    }
    return false;
}

static struct rec_lesson *find_lesson(struct recording *rec, const char *room)
{
    for (struct rec_lesson *l = rec->lessons; l; l = l->next)
        if (strcmp(l->room, room) == 0)
            return l;
    return NULL;
}

void rec_notify(struct recording *rec, const char *room_name, const char *state, const char *id,
                const char *message)
{
    struct reg_room *room = room_name[0] ? reg_room_find(rec->srv->reg, room_name) : NULL;
    if (room)
        rooms_event(rec->srv, room,
                    json_pack("{s:s, s:s, s:s, s:s, s:s?}", "type", "event", "event", "recording",
                              "state", state, "id", id, "message", message));
}

/* Tells the room's participants (the teacher's page shows it). */
static void notify_room(struct recording *rec, const char *room_name)
{
    struct reg_room *room = reg_room_find(rec->srv->reg, room_name);
    if (!room)
        return;
    json_t *ev = recording_room_json(rec, room_name);
    json_object_set_new(ev, "type", json_string("event"));
    json_object_set_new(ev, "event", json_string("recording"));
    rooms_event(rec->srv, room, ev);
}

static void set_error(struct recording *rec, struct rec_lesson *l, const char *message)
{
    rec->errors++;
    snprintf(l->error, sizeof l->error, "%s", message);
    CR_WARN("recording", "%s: %s", l->id, message);
    if (rec->srv->catalog)
        catalog_rec_set_state(rec->srv->catalog, l->id, "recording", 0, message);
    notify_room(rec, l->room);
}

static void clear_error(struct recording *rec, struct rec_lesson *l)
{
    if (!l->error[0])
        return;
    l->error[0] = '\0';
    if (rec->srv->catalog)
        catalog_rec_set_state(rec->srv->catalog, l->id, "recording", 0, NULL);
    notify_room(rec, l->room);
}

/* ---- the recorder process ---- */

static void find_binary(struct recording *rec)
{
    const struct config *cfg = rec->srv->cfg;
    if (cfg->recorder_bin[0]) {
        snprintf(rec->bin, sizeof rec->bin, "%s", cfg->recorder_bin);
        return;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return;
    *slash = '\0';
    /* the build tree (build/signaling/ beside build/recorder/), then an install */
    const char *tries[] = {"%s/../recorder/classrelay-recorder", "%s/classrelay-recorder"};
    for (size_t i = 0; i < 2; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, tries[i], self);
        size_t n = strlen(path);
        if (n < sizeof rec->bin && access(path, X_OK) == 0) {
            memcpy(rec->bin, path, n + 1);
            return;
        }
    }
}

static void start_recorder(struct recording *rec, int64_t now_ms)
{
    char *argv[] = {rec->bin, "record", NULL};
    rec->recorder = child_spawn(rec->srv, argv, 0, false);
    rec->recorder_ready = false;
    rec->last_ping_ms = rec->last_pong_ms = now_ms;
    if (!rec->recorder) {
        rec->restart_at_ms = now_ms + 1000 * (int64_t)BACKOFF_MAX_S;
        snprintf(rec->problem, sizeof rec->problem, "the recorder cannot start (%.200s)", rec->bin);
    }
}

static void start_track(struct recording *rec, struct rec_lesson *l, struct rec_track *t)
{
    char key[REC_ID_MAX + 40], dir[REC_DIR_MAX + 48];
    wire_key(l, t, key, sizeof key);
    snprintf(dir, sizeof dir, "%s/tracks/%s", l->dir, t->key);
    send_cmd(rec,
             json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s?}", "cmd", "start", "track",
                       key, "dir", dir, "kind", t->kind == CR_KIND_AUDIO ? "audio" : "video",
                       "source", t->source, "codec", t->codec, "pt", t->pt, "clock_rate",
                       (int)t->clock_rate, "label", t->label[0] ? t->label : NULL));
}

static void stop_tap(struct recording *rec, struct rec_track *t)
{
    if (t->tap_id && rec->srv->relay)
        cr_relay_peer_close(rec->srv->relay, t->tap_id);
    t->tap_id = 0;
}

/* Stops t in the recorder (it finalises the segment) and its tap. */
static void stop_track(struct recording *rec, struct rec_lesson *l, struct rec_track *t)
{
    char key[REC_ID_MAX + 40];
    wire_key(l, t, key, sizeof key);
    send_cmd(rec, json_pack("{s:s, s:s}", "cmd", "stop", "track", key));
    stop_tap(rec, t);
    t->gone = true;
}

static void on_started(struct recording *rec, json_t *ev)
{
    struct rec_lesson *l;
    struct rec_track *t;
    json_int_t port = json_integer_value(json_object_get(ev, "port"));
    if (!find_by_wire_key(rec, json_string_value(json_object_get(ev, "track")) ?: "", &l, &t) ||
        port <= 0 || port > 65535)
        return;
    stop_tap(rec, t);
    t->port = (uint16_t)port;
    if (t->gone)
        return;
    int rc = cr_relay_tap_add(rec->srv->relay, l->room, t->track_id, t->port, t->pt, &t->tap_id);
    if (rc != 0)
        CR_WARN("recording", "%s %s: no tap (%d)", l->id, t->key, rc);
    else
        CR_INFO("recording", "%s %s: recording to port %u", l->id, t->key, t->port);
}

static void on_recorder_line(struct recording *rec, const char *line)
{
    json_error_t jerr;
    json_t *ev = json_loads(line, 0, &jerr);
    const char *type = json_string_value(json_object_get(ev, "event"));
    if (!type) {
        CR_LOG_RATE(CR_LOG_WARN, "recording", "the recorder said something unexpected: %.200s",
                    line);
        json_decref(ev);
        return;
    }
    struct rec_lesson *l;
    struct rec_track *t;
    const char *key = json_string_value(json_object_get(ev, "track"));
    bool known = key && find_by_wire_key(rec, key, &l, &t);
    if (strcmp(type, "ready") == 0) {
        rec->recorder_ready = true;
        rec->backoff_s = 0;
        rec->problem[0] = '\0';
        for (struct rec_lesson *ll = rec->lessons; ll; ll = ll->next)
            for (struct rec_track *tt = ll->tracks; tt; tt = tt->next)
                if (!tt->gone)
                    start_track(rec, ll, tt);
    } else if (strcmp(type, "started") == 0) {
        on_started(rec, ev);
        if (known)
            clear_error(rec, l);
    } else if (strcmp(type, "need_keyframe") == 0 && known && t->tap_id) {
        cr_relay_tap_keyframe(rec->srv->relay, t->tap_id);
    } else if (strcmp(type, "stats") == 0 && known) {
        t->packets = (uint64_t)json_integer_value(json_object_get(ev, "packets"));
        t->lost = (uint64_t)json_integer_value(json_object_get(ev, "lost"));
        t->bytes = (uint64_t)json_integer_value(json_object_get(ev, "bytes"));
    } else if (strcmp(type, "error") == 0) {
        const char *msg = json_string_value(json_object_get(ev, "message")) ?: "unknown error";
        char text[256];
        if (strstr(msg, "No space left"))
            snprintf(text, sizeof text,
                     "the server's recording disk is full (%s); recording retries every few "
                     "seconds: free space on the server",
                     known ? t->key : "recorder");
        else
            snprintf(text, sizeof text, "recording %s: %s", known ? t->key : "", msg);
        if (known)
            set_error(rec, l, text);
        else
            CR_WARN("recording", "recorder: %s", msg);
    } else if (strcmp(type, "pong") == 0) {
        rec->last_pong_ms = cr_now_ms();
    }
    json_decref(ev);
}

static void on_recorder_exit(struct recording *rec, int status)
{
    char why[96];
    if (WIFSIGNALED(status))
        snprintf(why, sizeof why, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(why, sizeof why, "exited with status %d", WEXITSTATUS(status));
    child_free(rec->recorder, 0);
    rec->recorder = NULL;
    rec->recorder_ready = false;
    rec->restarts++;
    rec->errors++;
    rec->backoff_s = rec->backoff_s ? rec->backoff_s * 2 : 1;
    if (rec->backoff_s > BACKOFF_MAX_S)
        rec->backoff_s = BACKOFF_MAX_S;
    rec->restart_at_ms = cr_now_ms() + 1000 * (int64_t)rec->backoff_s - 1000;
    snprintf(rec->problem, sizeof rec->problem, "the recorder %s; restarting", why);
    CR_ERROR("recording", "%s", rec->problem);
    for (struct rec_lesson *l = rec->lessons; l; l = l->next) {
        for (struct rec_track *t = l->tracks; t; t = t->next) {
            stop_tap(rec, t);
            t->port = 0;
        }
        char text[200];
        snprintf(text, sizeof text, "the recorder %s; it restarts and records on", why);
        set_error(rec, l, text);
    }
}

/* ---- lessons and tracks ---- */

static void make_id(const char *room, char *out, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char safe[REG_ROOM_MAX + 1];
    size_t i = 0;
    for (; room[i] && i < 40; i++) {
        char c = room[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        safe[i] = ok ? c : '_';
    }
    safe[i] = '\0';
    snprintf(out, n, "%04d%02d%02d-%02d%02d%02d-%s-%04x", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, safe, (unsigned)(rand() & 0xffff));
}

/* Who teaches in the room: the first teacher's name, else a WHIP encoder. */
static const char *teacher_name(struct reg_room *room)
{
    for (struct reg_participant *p = room->participants; p; p = p->next)
        if (p->role == REG_TEACHER)
            return p->name;
    return room->resources ? "WHIP encoder" : "";
}

static struct rec_lesson *lesson_new(struct recording *rec, struct reg_room *room)
{
    struct rec_lesson *l = CR_NEW(struct rec_lesson);
    snprintf(l->room, sizeof l->room, "%s", room->name);
    make_id(room->name, l->id, sizeof l->id);
    snprintf(l->dir, sizeof l->dir, "%s/recordings/%s", rec->srv->cfg->data_dir, l->id);
    l->started_ms = (int64_t)time(NULL) * 1000;
    if (config_mkdirs(l->dir) != 0)
        CR_ERROR("recording", "cannot create %s: %s", l->dir, strerror(errno));
    char path[REC_DIR_MAX + 32];
    snprintf(path, sizeof path, "%s/recording.json", l->dir);
    const char *title = room->title[0] ? room->title : l->room; /* a scheduled lesson's */
    json_t *meta =
        json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", l->id, "room", l->room, "teacher",
                  teacher_name(room), "title", title, "started_ms", (json_int_t)l->started_ms);
    json_dump_file(meta, path, JSON_COMPACT);
    rec_cat_create(rec, meta); /* the database away: made when the recording is packaged */
    json_decref(meta);
    l->next = rec->lessons;
    rec->lessons = l;
    CR_INFO("recording", "lesson in %s: recording %s", l->room, l->id);
    return l;
}

static void save_tracks(struct recording *rec, struct rec_lesson *l)
{
    if (!rec->srv->catalog)
        return;
    json_t *arr = json_array();
    for (struct rec_track *t = l->tracks; t; t = t->next)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "kind",
                                             t->kind == CR_KIND_AUDIO ? "audio" : "video", "source",
                                             t->source, "codec", t->codec));
    catalog_rec_set_tracks(rec->srv->catalog, l->id, arr);
    json_decref(arr);
}

static bool codec_params(const char *codec, uint8_t *pt, uint32_t *rate)
{
    static const struct {
        const char *name;
        uint8_t pt;
        uint32_t rate;
    } known[] = {{"opus", 111, 48000}, {"VP8", 96, 90000}, {"H264", 102, 90000}};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(codec, known[i].name) == 0) {
            *pt = known[i].pt;
            *rate = known[i].rate;
            return true;
        }
    }
    return false;
}

/* How a track of the room is recorded: as the teacher's, or as a classroom's on stage. */
struct rec_as {
    bool stage;
    const char *label; /* the classroom's name (borrowed from the registry) */
};

static void add_track(struct recording *rec, struct rec_lesson *l, const struct cr_track_info *ti,
                      const struct rec_as *as)
{
    struct rec_track *t = CR_NEW(struct rec_track);
    if (!codec_params(ti->codec, &t->pt, &t->clock_rate)) {
        CR_WARN("recording", "%s: track %llu has codec %s, which is not recorded", l->id,
                (unsigned long long)ti->id, ti->codec);
        free(t);
        return;
    }
    t->track_id = ti->id;
    t->kind = ti->kind;
    t->stage = as->stage;
    if (as->stage)
        snprintf(t->source, sizeof t->source, "%s",
                 ti->kind == CR_KIND_AUDIO ? "stage-mic" : "stage-camera");
    else
        snprintf(t->source, sizeof t->source, "%s", ti->source[0] ? ti->source : "media");
    snprintf(t->label, sizeof t->label, "%s", as->label ? as->label : "");
    snprintf(t->codec, sizeof t->codec, "%s", ti->codec);
    snprintf(t->key, sizeof t->key, "%u-%s", ++l->n_keys, t->source);
    for (char *c = t->key; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-'))
            *c = '_';
    t->next = l->tracks;
    l->tracks = t;
    start_track(rec, l, t);
}

/* Whether the track is recorded, and how: the teacher's (a teacher's websocket publish, or
 * a WHIP encoder), or a classroom's camera or microphone while the stage rules send it to
 * the recording (lesson/stage.h: on stage, not muted). */
static bool recorded(struct server *srv, const struct reg_room *room, const struct cr_track_info *t,
                     struct rec_as *as)
{
    struct reg_owner o;
    *as = (struct rec_as){false, NULL};
    if (!reg_find_peer(srv->reg, t->peer_id, &o) || (o.resource && o.resource->cascade))
        return false; /* a lesson pulled from its origin is recorded there */
    enum reg_role role = o.participant ? o.participant->role
                         : o.resource  ? o.resource->role
                                       : REG_OBSERVER;
    if (o.resource && !o.resource->whep && role != REG_CLASSROOM)
        return true; /* a WHIP encoder */
    if (role == REG_TEACHER)
        return o.participant && o.target == REG_PUBLISH;
    if (role != REG_CLASSROOM || (o.resource && o.resource->whep) ||
        (o.participant && o.target != REG_PUBLISH))
        return false;
    const char *id = o.participant ? o.participant->id : o.resource->id;
    as->stage = true;
    as->label = o.participant ? o.participant->name : o.resource->name;
    if (t->kind == CR_KIND_AUDIO)
        return stage_mic_reaches(&room->stage, id, STAGE_TO_RECORDING);
    return strcmp(t->source, "camera") == 0 &&
           stage_camera_reaches(&room->stage, id, STAGE_TO_RECORDING);
}

static struct rec_track *find_track(struct rec_lesson *l, uint64_t track_id)
{
    for (struct rec_track *t = l->tracks; t; t = t->next)
        if (t->track_id == track_id && !t->gone)
            return t;
    return NULL;
}

/* Stops l's tracks that are no longer wanted (of the room's n tracks now) and notes whether
 * the lesson still has the teacher's. */
static void stop_gone(struct recording *rec, struct rec_lesson *l,
                      const struct cr_track_info *tracks, const bool *wanted, size_t n,
                      bool changed)
{
    bool live = false;
    for (struct rec_track *t = l->tracks; t; t = t->next) {
        bool present = false;
        for (size_t i = 0; i < n && !present; i++)
            present = tracks[i].id == t->track_id && wanted[i];
        if (!present && !t->gone)
            stop_track(rec, l, t);
        live |= !t->gone && !t->stage; /* the lesson lasts as long as the teacher's tracks */
    }
    l->idle_since_ms = live ? 0 : (l->idle_since_ms ? l->idle_since_ms : cr_now_ms());
    if (changed) {
        save_tracks(rec, l);
        notify_room(rec, l->room);
    }
}

void recording_on_tracks(struct recording *rec, const char *room_name)
{
    struct server *srv = rec->srv;
    struct reg_room *room = reg_room_find(srv->reg, room_name);
    if (!srv->cfg->record || !rec->bin[0])
        return;
    size_t n = 0;
    struct cr_track_info *tracks = room ? rooms_tracks(srv, room_name, &n) : NULL;
    struct rec_lesson *l = find_lesson(rec, room_name);
    bool changed = false, *wanted = cr_calloc(n + 1, sizeof *wanted);
    struct rec_as *as = cr_calloc(n + 1, sizeof *as);
    for (size_t i = 0; i < n; i++)
        wanted[i] = room->record && recorded(srv, room, &tracks[i], &as[i]);
    /* the teacher's first: a stage turn is recorded as part of the teacher's lesson, never
     * on its own */
    for (int stage = 0; stage < 2; stage++) {
        for (size_t i = 0; i < n; i++) {
            if (!wanted[i] || as[i].stage != stage || (l && find_track(l, tracks[i].id)) ||
                (!l && stage))
                continue;
            if (!l)
                l = lesson_new(rec, room);
            add_track(rec, l, &tracks[i], &as[i]);
            changed = true;
        }
    }
    if (l)
        stop_gone(rec, l, tracks, wanted, n, changed);
    free(tracks);
    free(wanted);
    free(as);
}

static void lesson_free(struct recording *rec, struct rec_lesson *l)
{
    while (l->tracks) {
        struct rec_track *t = l->tracks;
        l->tracks = t->next;
        stop_tap(rec, t);
        free(t);
    }
    free(l);
}

/* The lesson is over: the recording goes to packaging. */
static void lesson_end(struct recording *rec, struct rec_lesson *l, int64_t delay_ms)
{
    CR_INFO("recording", "%s: lesson over, packaging", l->id);
    for (struct rec_track *t = l->tracks; t; t = t->next)
        if (!t->gone) /* a classroom still on stage when the teacher's tracks ended */
            stop_track(rec, l, t);
    int64_t ended_ms = (int64_t)time(NULL) * 1000;
    if (rec->srv->catalog) {
        catalog_rec_set_ended(rec->srv->catalog, l->id, ended_ms);
        catalog_rec_set_state(rec->srv->catalog, l->id, "packaging", 0, NULL);
    }
    rec_pack_enqueue(rec, l->id, l->dir, l->room, ended_ms, delay_ms);
    struct rec_lesson **pp = &rec->lessons;
    while (*pp != l)
        pp = &(*pp)->next;
    *pp = l->next;
    rec_notify(rec, l->room, "packaging", l->id, NULL);
    lesson_free(rec, l);
}

/* ---- the module ---- */

struct recording *recording_new(struct server *srv)
{
    struct recording *rec = CR_NEW(struct recording);
    rec->srv = srv;
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    find_binary(rec); /* the RTSP ingest runs it too, recording or not */
    if (!srv->cfg->record) {
        snprintf(rec->problem, sizeof rec->problem, "the server runs with --no-record");
        return rec;
    }
    if (!rec->bin[0]) {
        snprintf(rec->problem, sizeof rec->problem,
                 "classrelay-recorder was not found beside the server (set --recorder)");
        CR_ERROR("recording", "%s: lessons are not recorded", rec->problem);
        return rec;
    }
    start_recorder(rec, cr_now_ms());
    rec_pack_recover(rec);
    return rec;
}

void recording_free(struct recording *rec)
{
    if (!rec)
        return;
    while (rec->lessons) { /* the next start packages them: they stay "recording" */
        struct rec_lesson *l = rec->lessons;
        rec->lessons = l->next;
        lesson_free(rec, l);
    }
    rec_pack_free_all(rec);
    rec_cat_free_all(rec);
    child_free(rec->recorder, STOP_WAIT_MS);
    free(rec);
}

void recording_on_child(struct recording *rec, const struct evq_item *it)
{
    if (rec_pack_on_child(rec, it))
        return;
    if (!rec->recorder || it->child_id != rec->recorder->id)
        return; /* a child already freed */
    if (it->type == EVQ_CHILD_LINE)
        on_recorder_line(rec, it->line);
    else
        on_recorder_exit(rec, it->status);
}

void recording_tick(struct recording *rec, int64_t now_ms)
{
    if (rec->bin[0] && rec->srv->cfg->record) {
        if (!rec->recorder && now_ms >= rec->restart_at_ms)
            start_recorder(rec, now_ms);
        if (rec->recorder && now_ms - rec->last_ping_ms >= PING_INTERVAL_MS) {
            rec->last_ping_ms = now_ms;
            send_cmd(rec,
                     json_pack("{s:s, s:I}", "cmd", "ping", "seq", (json_int_t)++rec->ping_seq));
        }
        if (rec->recorder && now_ms - rec->last_pong_ms > HANG_AFTER_MS) {
            CR_ERROR("recording", "the recorder has not answered for %d s: killing it",
                     HANG_AFTER_MS / 1000);
            rec->last_pong_ms = now_ms;
            child_signal(rec->recorder, SIGKILL);
        }
    }
    int64_t grace = 1000 * (int64_t)rec->srv->cfg->record_end_after_s;
    struct rec_lesson *l = rec->lessons;
    while (l) {
        struct rec_lesson *next = l->next;
        if (l->idle_since_ms && now_ms - l->idle_since_ms >= grace)
            lesson_end(rec, l, 3000); /* time for the recorder to finalise the last segment */
        l = next;
    }
    rec_pack_tick(rec, now_ms);
    rec_cat_tick(rec, now_ms);
    rec_files_tick(rec, now_ms);
}

const char *recording_binary(const struct recording *rec) { return rec->bin; }

bool recording_position(struct recording *rec, const char *room, int64_t now_ms, char *id,
                        size_t cap, int64_t *at_ms)
{
    struct rec_lesson *l = rec ? find_lesson(rec, room) : NULL;
    if (!l)
        return false;
    snprintf(id, cap, "%s", l->id);
    *at_ms = now_ms > l->started_ms ? now_ms - l->started_ms : 0;
    return true;
}

json_t *recording_room_json(struct recording *rec, const char *room)
{
    struct rec_lesson *l = find_lesson(rec, room);
    if (!l && rec->srv->cfg->record && !rec->bin[0]) /* the pages say why nothing records */
        return json_pack("{s:s, s:s}", "state", "unavailable", "message", rec->problem);
    if (!l)
        return json_pack("{s:s}", "state", rec->srv->cfg->record ? "off" : "disabled");
    if (l->error[0])
        return json_pack("{s:s, s:s, s:s}", "state", "error", "id", l->id, "message", l->error);
    return json_pack("{s:s, s:s}", "state", "recording", "id", l->id);
}

json_t *recording_status_json(struct recording *rec)
{
    json_t *lessons = json_array();
    for (struct rec_lesson *l = rec->lessons; l; l = l->next) {
        json_t *tracks = json_array();
        for (struct rec_track *t = l->tracks; t; t = t->next)
            json_array_append_new(
                tracks, json_pack("{s:s, s:b, s:i, s:I, s:I, s:I}", "key", t->key, "live", !t->gone,
                                  "port", t->port, "packets", (json_int_t)t->packets, "lost",
                                  (json_int_t)t->lost, "bytes", (json_int_t)t->bytes));
        json_array_append_new(lessons,
                              json_pack("{s:s, s:s, s:s?, s:o}", "id", l->id, "room", l->room,
                                        "error", l->error[0] ? l->error : NULL, "tracks", tracks));
    }
    struct recording_figures f;
    recording_figures(rec, &f);
    return json_pack(
        "{s:b, s:b, s:s?, s:i, s:I, s:i, s:I, s:o}", "enabled", f.enabled, "recorder_running",
        f.recorder_up, "problem", rec->problem[0] ? rec->problem : NULL, "recorder_restarts",
        (int)f.restarts, "errors", (json_int_t)f.errors, "packaging_queue", (int)f.packaging_queue,
        "recorder_pid", (json_int_t)(rec->recorder ? rec->recorder->pid : 0), "lessons", lessons);
}

void recording_figures(struct recording *rec, struct recording_figures *out)
{
    *out = (struct recording_figures){
        .enabled = rec->srv->cfg->record && rec->bin[0],
        .recorder_up = rec->recorder && rec->recorder_ready,
        .restarts = rec->restarts,
        .errors = rec->errors,
        .packager_running = rec->packager != NULL,
        .packaged = rec->packaged,
        .package_failed = rec->package_failed,
    };
    for (struct rec_lesson *l = rec->lessons; l; l = l->next) {
        out->lessons++;
        for (struct rec_track *t = l->tracks; t; t = t->next) {
            out->tracks_live += !t->gone;
            out->packets += t->packets;
            out->lost += t->lost;
            out->bytes += t->bytes;
        }
    }
    for (struct rec_pack *p = rec->queue; p; p = p->next)
        out->packaging_queue++;
}
