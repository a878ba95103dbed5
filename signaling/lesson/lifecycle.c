/* Scheduled lessons opening and closing, warnings, and the teacher's controls: see
 * lifecycle.h and docs/scheduling.md.
 *
 * The store is asked once a tick for the lessons with an occurrence near now (an indexed
 * query); those whose window holds now get their room opened and pinned. A room that was
 * opened for a lesson and whose lesson no longer has an open window (its time ran out, or
 * a scheduler moved or deleted it) is ended. If the store fails, nothing is closed: a
 * database hiccup must not end a lesson in progress. */
#include "lesson/lifecycle.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/audit.h"
#include "access/auth.h"
#include "base/alloc.h"
#include "base/log.h"
#include "lesson/ingest.h"
#include "lesson/rooms.h"
#include "store/sched.h"
#include "store/store.h"

#define WARN_OVERTIME 1u
#define WARN_CLOSING 2u
#define WARN_LAST 4u

static void send_time(struct server *srv, struct reg_room *room, const char *state, int64_t now_ms)
{
    int64_t left = room->closes_ms > now_ms ? (room->closes_ms - now_ms + 999) / 1000 : 0;
    rooms_event(srv, room,
                json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "type", "event", "event", "lesson_time",
                          "state", state, "ends_ms", (json_int_t)room->ends_ms, "closes_ms",
                          (json_int_t)room->closes_ms, "seconds_left", (json_int_t)left));
}

/* Each warning once, when someone is there to hear it (an empty room keeps it for the
 * first to come). */
static void warn(struct server *srv, struct reg_room *room, int64_t now_ms)
{
    if (!room->participants)
        return;
    int64_t last = room->closes_ms - LIFECYCLE_LAST_S * 1000LL;
    int64_t first = room->closes_ms - LIFECYCLE_WARN_S * 1000LL;
    if (!(room->warned & WARN_OVERTIME) && now_ms >= room->ends_ms && now_ms < last) {
        room->warned |= WARN_OVERTIME;
        send_time(srv, room, "overtime", now_ms);
    }
    if (!(room->warned & (WARN_CLOSING | WARN_LAST)) && now_ms >= first && now_ms < last) {
        room->warned |= WARN_CLOSING; /* a short overtime: may come before the end */
        send_time(srv, room, "closing", now_ms);
    }
    if (!(room->warned & WARN_LAST) && now_ms >= last) {
        room->warned |= WARN_LAST | WARN_CLOSING | WARN_OVERTIME; /* the last word */
        send_time(srv, room, "closing", now_ms);
    }
}

static bool ended_early(struct lifecycle *lc, int64_t lesson_id, int64_t now_ms)
{
    for (int i = 0; i < LIFECYCLE_ENDED_MAX; i++)
        if (lc->ended[i].lesson_id == lesson_id && lc->ended[i].until_ms > now_ms)
            return true;
    return false;
}

bool lifecycle_ended(struct server *srv, const char *room)
{
    int64_t id = store_room_lesson(room);
    return id && srv->lifecycle && ended_early(srv->lifecycle, id, srv->lifecycle->last_tick_ms);
}

static void remember_ended(struct lifecycle *lc, int64_t lesson_id, int64_t until_ms)
{
    int slot = 0; /* a free or expired slot, else the one that expires first */
    for (int i = 0; i < LIFECYCLE_ENDED_MAX; i++) {
        if (lc->ended[i].until_ms < lc->ended[slot].until_ms)
            slot = i;
    }
    lc->ended[slot] = (struct lifecycle_ended){lesson_id, until_ms};
}

/* Opens (or refreshes) the room of lesson l for occurrence occ. */
static void keep_open(struct server *srv, const struct st_lesson *l, const struct sched_span *occ,
                      int64_t now_ms)
{
    char name[REG_ROOM_MAX + 1], why[256];
    store_lesson_room(l->id, name, sizeof name);
    struct reg_room *room = reg_room_find(srv->reg, name);
    if (!room) {
        enum srv_err e;
        if (!(room = rooms_get(srv, name, &e, why, sizeof why))) {
            CR_WARN("lifecycle", "cannot open room %s for lesson %" PRId64 ": %s", name, l->id,
                    why);
            return;
        }
        CR_INFO("lifecycle", "lesson %" PRId64 " \"%s\" open in room %s", l->id, l->title, name);
        if (l->source_url[0] && /* its camera is the teacher from the start */
            ingest_start(srv->ingest, name, l->source_url, &e, why, sizeof why) != 0)
            CR_WARN("lifecycle", "lesson %" PRId64 ": no RTSP source: %s", l->id, why);
    }
    room->pinned = true;
    room->lesson_id = l->id;
    room->record = l->record && srv->cfg->record;
    snprintf(room->title, sizeof room->title, "%s", l->title);
    int64_t closes = occ->end_ms + (int64_t)srv->cfg->overtime_s * 1000;
    if (room->closes_ms != closes) { /* a new occurrence, or the lesson was moved */
        room->ends_ms = occ->end_ms;
        room->closes_ms = closes;
        room->warned = 0;
    }
    warn(srv, room, now_ms);
}

static bool listed(const int64_t *ids, int n, int64_t id)
{
    for (int i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

void lifecycle_tick(struct server *srv, int64_t now_ms)
{
    struct lifecycle *lc = srv->lifecycle;
    if (!lc)
        return;
    lc->last_tick_ms = now_ms;
    rooms_keep_demo(srv); /* reopened after a teacher ended the demo lesson */
    if (!srv->store)
        return;
    int64_t early = (int64_t)srv->cfg->join_early_s * 1000;
    int64_t late = (int64_t)srv->cfg->overtime_s * 1000;
    struct st_lesson_filter f = {.from_ms = now_ms - late, .to_ms = now_ms + early + 1};
    struct st_lesson *ls = NULL;
    int n = 0;
    if (srv->store->ops->lesson_list(srv->store, &f, &ls, &n) != 0)
        return; /* logged by the store; keep every room as it is */
    int64_t *open = cr_malloc(((size_t)n + 1) * sizeof *open);
    int n_open = 0;
    for (int i = 0; i < n; i++) {
        const struct st_lesson *l = &ls[i];
        struct sched_rule rule = {l->start_ms, l->end_ms, l->until_ms};
        struct sched_span occ;
        if (!sched_window_at(&rule, now_ms, early, late, &occ) || ended_early(lc, l->id, now_ms))
            continue;
        keep_open(srv, l, &occ, now_ms);
        open[n_open++] = l->id;
    }
    free(ls);
    struct reg_room *room = srv->reg->rooms;
    while (room) { /* room_end frees the room */
        struct reg_room *next = room->next;
        if (room->lesson_id && !listed(open, n_open, room->lesson_id)) {
            bool timeout = room->closes_ms && now_ms >= room->closes_ms;
            audit_log(srv, NULL, "lesson_end", room->name, "%s",
                      timeout ? "the lesson's time is over" : "the lesson was moved or removed");
            char name[REG_ROOM_MAX + 1];
            snprintf(name, sizeof name, "%s", room->name);
            srv->lesson_ev->room_end(srv, room, timeout ? "time" : "unscheduled");
            ingest_stop(srv->ingest, name); /* after: the room may be gone */
        }
        room = next;
    }
    free(open);
}

json_t *lifecycle_room_json(struct server *srv, const struct reg_room *room)
{
    (void)srv;
    json_t *v = json_pack("{s:b, s:b}", "paused", room->paused, "muted_all", room->muted_all);
    if (room->lesson_id) {
        json_object_set_new(v, "lesson_id", json_integer((json_int_t)room->lesson_id));
        json_object_set_new(v, "title", json_string(room->title));
        json_object_set_new(v, "ends_ms", json_integer((json_int_t)room->ends_ms));
        json_object_set_new(v, "closes_ms", json_integer((json_int_t)room->closes_ms));
    }
    return v;
}

static void pause_peer(struct server *srv, uint64_t peer_id, unsigned kinds, bool paused)
{
    if (peer_id && cr_relay_peer_pause(srv->relay, peer_id, kinds, paused) != 0)
        CR_WARN("lifecycle", "peer %llu: cannot %s", (unsigned long long)peer_id,
                paused ? "pause" : "resume");
}

#define ALL_KINDS ((1u << CR_KIND_AUDIO) | (1u << CR_KIND_VIDEO))
#define AUDIO (1u << CR_KIND_AUDIO)

void lifecycle_apply_pause(struct server *srv, struct reg_participant *p)
{
    struct reg_room *room = p->room;
    if (p->role == REG_TEACHER && room->paused)
        pause_peer(srv, p->peers[REG_PUBLISH].id, ALL_KINDS, true);
    if (p->role == REG_CLASSROOM && room->muted_all)
        pause_peer(srv, p->peers[REG_PUBLISH].id, AUDIO, true);
}

/* Applies the room's paused and muted_all to every publisher in it. */
static void apply_room(struct server *srv, struct reg_room *room)
{
    for (struct reg_participant *q = room->participants; q; q = q->next) {
        if (q->role == REG_TEACHER)
            pause_peer(srv, q->peers[REG_PUBLISH].id, ALL_KINDS, room->paused);
        else if (q->role == REG_CLASSROOM)
            pause_peer(srv, q->peers[REG_PUBLISH].id, AUDIO, room->muted_all);
    }
    for (struct reg_resource *r = room->resources; r; r = r->next) {
        if (!r->whep) /* a WHIP encoder publishes the teacher's stream */
            pause_peer(srv, r->peer.id, ALL_KINDS, room->paused);
    }
    rooms_event(srv, room,
                json_pack("{s:s, s:s, s:b, s:b}", "type", "event", "event", "lesson_state",
                          "paused", room->paused, "muted_all", room->muted_all));
}

enum srv_err lifecycle_control(struct server *srv, struct reg_participant *p, const char *action,
                               char *why, size_t why_len)
{
    struct reg_room *room = p->room;
    bool pause = strcmp(action, "pause") == 0, resume = strcmp(action, "resume") == 0;
    bool mute = strcmp(action, "mute_all") == 0, unmute = strcmp(action, "unmute_all") == 0;
    if (pause || resume) {
        room->paused = pause;
        audit_log(srv, &p->who, pause ? "lesson_pause" : "lesson_resume", room->name, "%s",
                  p->name);
        apply_room(srv, room);
        return SRV_ERR_COUNT;
    }
    if (mute || unmute) {
        room->muted_all = mute;
        audit_log(srv, &p->who, "mute_all", room->name, "%s", mute ? "muted" : "unmuted");
        apply_room(srv, room);
        return SRV_ERR_COUNT;
    }
    if (strcmp(action, "end") == 0) {
        if (room->lesson_id && srv->lifecycle)
            remember_ended(srv->lifecycle, room->lesson_id, room->closes_ms);
        audit_log(srv, &p->who, "lesson_end", room->name, "ended by %s", p->name);
        char name[REG_ROOM_MAX + 1];
        snprintf(name, sizeof name, "%s", room->name);
        srv->lesson_ev->room_end(srv, room, "ended by the teacher");
        ingest_stop(srv->ingest, name); /* its camera stops with the lesson */
        return SRV_ERR_COUNT;
    }
    snprintf(why, why_len,
             "\"action\" must be \"pause\", \"resume\", \"mute_all\", \"unmute_all\" or \"end\"");
    return SRV_ERR_BAD_REQUEST;
}

enum perm_verdict lifecycle_enter(struct server *srv, struct principal *who, int token_rc,
                                  const char *token_why, const char *room, enum perm_action a,
                                  const char *what, enum srv_err *err, char *msg, size_t msg_len)
{
    enum perm_verdict v = auth_room(srv, who, room, a, msg, msg_len);
    if (v != PERM_OK && token_rc != 0) { /* a bad token: say so, not "this needs a token" */
        v = PERM_NEED_TOKEN;
        snprintf(msg, msg_len, "%s", token_why ? token_why : "the token is not valid");
    }
    if (v == PERM_OK && who->role != ROLE_ADMIN && lifecycle_ended(srv, room)) {
        v = PERM_NOT_OPEN;
        snprintf(msg, msg_len, "the teacher has ended this lesson");
    }
    if (v == PERM_OK)
        return v;
    *err = auth_verdict_err(v);
    audit_log(srv, who, "refused", room, "%s: %s", what, msg);
    return v;
}
