/* Floor control in a lesson: see floor.h. The rules of who reaches whom are stage.c's
 * (stage_mic_reaches, stage_camera_reaches); here they are applied to the room's tracks.
 * A fed line is recomputed from scratch each time (resolve): the room's tracks and their
 * owners, the line's wish, the subscriber's role and the stage now; the relay is told only
 * where the answer changed. */
#include "lesson/floor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "lesson/recording.h"
#include "lesson/rooms.h"
#include "lesson/stage.h"

struct owner {
    const char *id; /* borrowed from the registry; "" when nobody holds the track's peer */
    enum reg_role role;
};

/* The room's tracks now, each with the participant or WHIP session that publishes it. */
struct room_tracks {
    struct cr_track_info *t;
    struct owner *o;
    size_t n;
};

/* Fills rt; free it with unload_tracks. */
static void load_tracks(struct server *srv, struct reg_room *room, struct room_tracks *rt)
{
    rt->t = rooms_tracks(srv, room->name, &rt->n);
    rt->o = cr_calloc(rt->n + 1, sizeof *rt->o);
    for (size_t i = 0; i < rt->n; i++) {
        struct reg_owner ow;
        rt->o[i] = (struct owner){"", REG_OBSERVER};
        if (!reg_find_peer(srv->reg, rt->t[i].peer_id, &ow))
            continue;
        if (ow.participant)
            rt->o[i] = (struct owner){ow.participant->id, ow.participant->role};
        else if (ow.resource)
            rt->o[i] = (struct owner){ow.resource->id, ow.resource->role};
    }
}

static void unload_tracks(struct room_tracks *rt)
{
    free(rt->t);
    free(rt->o);
}

/* The track of kind published by owner id (or, id NULL, by the first teacher): of source
 * prefer if it has one; strict: only that source. 0: none. */
static uint64_t track_of(const struct room_tracks *rt, const char *id, enum cr_kind kind,
                         const char *prefer, bool strict)
{
    uint64_t any = 0;
    for (size_t i = 0; i < rt->n; i++) {
        bool mine = id ? strcmp(rt->o[i].id, id) == 0 : rt->o[i].role == REG_TEACHER;
        if (!mine || rt->t[i].kind != kind)
            continue;
        if (!prefer || strcmp(rt->t[i].source, prefer) == 0)
            return rt->t[i].id;
        if (!any && !strict)
            any = rt->t[i].id;
    }
    return any;
}

static enum stage_audience audience_of(enum reg_role role)
{
    return role == REG_TEACHER ? STAGE_TO_TEACHER : STAGE_TO_CLASSROOMS;
}

/* The rules: a teacher's tracks reach everyone; a classroom's as stage.h says. */
static bool reaches(const struct reg_room *room, const struct owner *o, enum cr_kind kind,
                    enum stage_audience to)
{
    if (o->role != REG_CLASSROOM)
        return true;
    return kind == CR_KIND_AUDIO ? stage_mic_reaches(&room->stage, o->id, to)
                                 : stage_camera_reaches(&room->stage, o->id, to);
}

static size_t find_track(const struct room_tracks *rt, uint64_t id)
{
    for (size_t i = 0; i < rt->n; i++)
        if (rt->t[i].id == id)
            return i;
    return rt->n;
}

/* What should feed line l of subscriber self (of role) now; 0: nothing. */
static uint64_t resolve(const struct reg_room *room, const struct room_tracks *rt,
                        const struct reg_line *l, const char *self, enum reg_role role)
{
    uint64_t want = 0;
    switch (l->feed) {
    case REG_FEED_TRACK:
        want = l->track;
        break;
    case REG_FEED_TEACHER:
        if (l->known)
            want = track_of(rt, NULL, l->kind,
                            l->kind == CR_KIND_AUDIO ? NULL
                            : l->slot                ? "screen"
                                                     : "camera",
                            l->slot > 0 || l->camera_only);
        break;
    case REG_FEED_STAGE:
        if (l->known && l->slot < room->stage.n_on)
            want = track_of(rt, room->stage.on[l->slot], l->kind,
                            l->kind == CR_KIND_VIDEO ? "camera" : NULL, false);
        break;
    case REG_FEED_CLASSROOM:
        if (l->known)
            want = track_of(rt, l->who, l->kind, l->kind == CR_KIND_VIDEO ? "camera" : NULL, false);
        break;
    }
    size_t i = find_track(rt, want);
    if (i == rt->n || strcmp(rt->o[i].id, self) == 0 || (l->known && rt->t[i].kind != l->kind))
        return 0; /* gone, the subscriber's own, or of the other kind */
    if (l->kind == CR_KIND_VIDEO && l->codec[0] && strcasecmp(rt->t[i].codec, l->codec) != 0)
        return 0; /* a line of another codec: a page's other stage line carries it */
    return reaches(room, &rt->o[i], rt->t[i].kind, audience_of(role)) ? want : 0;
}

/* The layer cap for video line l fed with track fed: a classroom's camera on a line of its
 * own (a tile of the teacher's grid) gets the lowest simulcast layer, unless it is on
 * stage, where it is shown large; everything else every layer (0). */
static unsigned layers_for(const struct reg_room *room, const struct room_tracks *rt,
                           const struct reg_line *l)
{
    size_t i = find_track(rt, l->fed);
    if (l->feed != REG_FEED_TRACK || l->kind != CR_KIND_VIDEO || i == rt->n ||
        rt->o[i].role != REG_CLASSROOM)
        return 0;
    return stage_is_on(&room->stage, rt->o[i].id) ? 0 : 1;
}

static void feed_line(struct server *srv, struct reg_line *l, uint64_t peer_id, const char *self,
                      uint64_t want)
{
    int rc = cr_relay_peer_feed(srv->relay, peer_id, l->mid, want);
    if (rc == 0) {
        l->fed = want;
        return;
    }
    CR_WARN("floor", "%s mid %s: track %llu not fed (%d)", self, l->mid, (unsigned long long)want,
            rc);
    if (want && cr_relay_peer_feed(srv->relay, peer_id, l->mid, 0) == 0)
        l->fed = 0;
}

static void apply_lines(struct server *srv, struct reg_room *room, const struct room_tracks *rt,
                        struct reg_lines *lines, uint64_t peer_id, const char *self,
                        enum reg_role role)
{
    for (size_t i = 0; peer_id && i < lines->n; i++) {
        struct reg_line *l = &lines->line[i];
        uint64_t want = l->known ? resolve(room, rt, l, self, role) : l->fed;
        if (want != l->fed)
            feed_line(srv, l, peer_id, self, want);
        unsigned layers = l->known && l->kind == CR_KIND_VIDEO ? layers_for(room, rt, l) : 0;
        if (l->known && l->kind == CR_KIND_VIDEO && layers != l->layers &&
            cr_relay_peer_layers(srv->relay, peer_id, l->mid, layers) == 0)
            l->layers = (uint8_t)layers;
    }
}

void floor_apply(struct server *srv, struct reg_room *room)
{
    struct room_tracks rt;
    load_tracks(srv, room, &rt);
    for (struct reg_participant *p = room->participants; p; p = p->next)
        apply_lines(srv, room, &rt, &p->lines, p->peers[REG_SUBSCRIBE].id, p->id, p->role);
    for (struct reg_resource *r = room->resources; r; r = r->next)
        if (r->whep)
            apply_lines(srv, room, &rt, &r->lines, r->peer.id, r->id, REG_OBSERVER);
    unload_tracks(&rt);
}

/* ---- the active speaker ---- */

static bool has_teacher(const struct reg_room *room)
{
    for (const struct reg_participant *p = room->participants; p; p = p->next)
        if (p->role == REG_TEACHER)
            return true;
    return false;
}

static void speaker_of(struct server *srv, struct reg_room *room)
{
    struct room_tracks rt;
    load_tracks(srv, room, &rt);
    const char *loudest = "";
    unsigned best = FLOOR_SPEAKER_MIN - 1;
    for (size_t i = 0; i < rt.n; i++) {
        const struct cr_track_info *t = &rt.t[i];
        if (t->kind != CR_KIND_AUDIO || rt.o[i].role != REG_CLASSROOM || t->loudness <= best ||
            stage_is_muted(&room->stage, rt.o[i].id))
            continue;
        best = t->loudness;
        loudest = rt.o[i].id;
    }
    unload_tracks(&rt); /* loudest is the registry's */
    if (strcmp(loudest, room->speaker) == 0)
        return;
    snprintf(room->speaker, sizeof room->speaker, "%s", loudest);
    rooms_teacher_event(srv, room,
                        json_pack("{s:s, s:s, s:s?}", "type", "event", "event", "speaker",
                                  "participant", loudest[0] ? loudest : NULL));
}

void floor_speakers(struct server *srv)
{
    for (struct reg_room *room = srv->reg->rooms; room; room = room->next)
        if (has_teacher(room))
            speaker_of(srv, room);
}

/* ---- negotiation ---- */

/* A feed's "@VP8" / "@H264" ending into l->codec, cut off text (into buf); false if it
 * names another codec. */
static bool parse_codec(const char *text, struct reg_line *l, char *buf, size_t cap)
{
    const char *at = strrchr(text, '@');
    size_t n = at ? (size_t)(at - text) : strlen(text);
    if (n >= cap)
        return false;
    memcpy(buf, text, n);
    buf[n] = '\0';
    l->codec[0] = '\0';
    if (!at)
        return true;
    if (strcasecmp(at + 1, "VP8") != 0 && strcasecmp(at + 1, "H264") != 0)
        return false;
    snprintf(l->codec, sizeof l->codec, "%s", strcasecmp(at + 1, "VP8") == 0 ? "VP8" : "H264");
    return true;
}

bool floor_parse_feed(const char *feed, struct reg_line *l)
{
    char text[10 + REG_ID_MAX]; /* "classroom:" and an id at most */
    if (!parse_codec(feed, l, text, sizeof text))
        return false;
    if (strcmp(text, "teacher") == 0 || strcmp(text, "teacher:camera") == 0) {
        l->feed = REG_FEED_TEACHER;
        l->camera_only = text[7] != '\0';
        return true;
    }
    if (strcmp(text, "stage") == 0 || (strncmp(text, "stage:", 6) == 0 && text[6] >= '1' &&
                                       text[6] <= '0' + STAGE_LIMIT_MAX && !text[7])) {
        l->feed = REG_FEED_STAGE;
        l->slot = text[5] ? (uint8_t)(text[6] - '1') : 0;
        return true;
    }
    size_t n = strlen(text);
    if (strncmp(text, "classroom:", 10) == 0 && n > 10 && n - 10 < sizeof l->who) {
        l->feed = REG_FEED_CLASSROOM;
        snprintf(l->who, sizeof l->who, "%s", text + 10);
        return true;
    }
    return false;
}

size_t floor_hints(struct server *srv, struct reg_room *room, const struct reg_lines *lines,
                   const char *self_id, enum reg_role role, struct cr_mline_hint *hints, size_t n)
{
    struct room_tracks rt;
    load_tracks(srv, room, &rt);
    for (size_t i = 0; i < lines->n && n < CR_OFFER_MAX_LINES; i++) {
        const struct reg_line *l = &lines->line[i];
        struct cr_mline_hint *h = &hints[n++];
        memset(h, 0, sizeof *h);
        snprintf(h->mid, sizeof h->mid, "%s", l->mid);
        h->follow = true;
        h->track_id = resolve(room, &rt, l, self_id, role);
        snprintf(h->codec, sizeof h->codec, "%s", l->codec);
    }
    unload_tracks(&rt);
    return n;
}

void floor_feed_codec(struct server *srv, struct reg_room *room, const struct reg_line *want,
                      char *codec, size_t cap)
{
    struct room_tracks rt;
    load_tracks(srv, room, &rt);
    struct reg_line l = *want;
    l.known = true;
    l.kind = CR_KIND_VIDEO;
    l.slot = 0;
    size_t i = find_track(&rt, resolve(room, &rt, &l, "", REG_OBSERVER));
    snprintf(codec, cap, "%s", want->codec[0] ? want->codec : i < rt.n ? rt.t[i].codec : "");
    unload_tracks(&rt);
}

void floor_negotiated(struct reg_lines *lines, const struct cr_answer *a)
{
    size_t kept = 0;
    for (size_t i = 0; i < lines->n; i++) {
        struct reg_line l = lines->line[i];
        const struct cr_offer_line *ol = NULL;
        for (size_t k = 0; k < a->n_lines && !ol; k++)
            if (strcmp(a->lines[k].mid, l.mid) == 0 && a->lines[k].client_receives)
                ol = &a->lines[k];
        if (!ol)
            continue;
        l.kind = ol->kind;
        l.known = true;
        l.fed = ol->track_id;
        l.layers = REG_LAYERS_UNSET;
        if (!l.codec[0]) /* one asked for keeps it, answered or not: never a duplicate */
            snprintf(l.codec, sizeof l.codec, "%s", ol->kind == CR_KIND_VIDEO ? ol->codec : "");
        lines->line[kept++] = l;
    }
    lines->n = kept;
}

bool floor_classroom_track(struct server *srv, struct reg_room *room, uint64_t track)
{
    struct room_tracks rt;
    load_tracks(srv, room, &rt);
    size_t i = find_track(&rt, track);
    bool yes = i < rt.n && rt.o[i].role == REG_CLASSROOM;
    unload_tracks(&rt);
    return yes;
}

/* ---- the operations ---- */

json_t *floor_json(const struct reg_room *room, bool teacher)
{
    json_t *v = stage_json(&room->stage);
    if (!teacher)
        json_object_del(v, "listen");
    return v;
}

void floor_changed(struct server *srv, struct reg_room *room)
{
    rooms_event(srv, room,
                json_pack("{s:s, s:s, s:o}", "type", "event", "event", "stage", "stage",
                          floor_json(room, false)));
    floor_apply(srv, room);
    if (srv->recording) /* the stage is recorded while it is on (recording.h) */
        recording_on_tracks(srv->recording, room->name);
}

/* A classroom of the room: a page joined as classroom, or a WHIP classroom. */
static bool is_classroom(const struct reg_room *room, const char *id)
{
    for (const struct reg_participant *p = room->participants; p; p = p->next)
        if (strcmp(p->id, id) == 0)
            return p->role == REG_CLASSROOM;
    for (const struct reg_resource *r = room->resources; r; r = r->next)
        if (strcmp(r->id, id) == 0)
            return r->role == REG_CLASSROOM;
    return false;
}

/* Carries out a stage.c result: SRV_ERR_COUNT (done, or nothing to do) or an error. */
static enum srv_err result(struct server *srv, struct reg_room *room, int rc, const char *id,
                           char *why, size_t cap)
{
    switch (rc) {
    case STAGE_OK:
        floor_changed(srv, room);
        return SRV_ERR_COUNT;
    case STAGE_ERR_ALREADY:
        return SRV_ERR_COUNT;
    case STAGE_ERR_NOT_FOUND:
        snprintf(why, cap, "%s is not on stage, muted or raising a hand here", id);
        return SRV_ERR_NOT_FOUND;
    case STAGE_ERR_FULL:
        snprintf(why, cap, "the stage is full (%u on it): end a turn first", room->stage.limit);
        return SRV_ERR_LIMIT;
    case STAGE_ERR_ON_STAGE:
        snprintf(why, cap, "%s is on stage", id);
        return SRV_ERR_CONFLICT;
    default:
        snprintf(why, cap, "not a participant id");
        return SRV_ERR_BAD_REQUEST;
    }
}

static enum srv_err need_classroom(const struct reg_room *room, const char *id, char *why,
                                   size_t cap)
{
    if (id && is_classroom(room, id))
        return SRV_ERR_COUNT;
    snprintf(why, cap, "no classroom %.40s in room %s", id ? id : "(none)", room->name);
    return SRV_ERR_NOT_FOUND;
}

enum srv_err floor_hand(struct server *srv, struct reg_room *room, const char *id, bool up,
                        char *why, size_t cap)
{
    enum srv_err e = need_classroom(room, id, why, cap);
    if (e != SRV_ERR_COUNT)
        return e;
    int rc = up ? stage_hand_up(&room->stage, id, cr_wall_ms()) : stage_hand_down(&room->stage, id);
    return result(srv, room, !up && rc == STAGE_ERR_NOT_FOUND ? STAGE_ERR_ALREADY : rc, id, why,
                  cap);
}

enum srv_err floor_call(struct server *srv, struct reg_room *room, const char *id, char *why,
                        size_t cap)
{
    enum srv_err e = need_classroom(room, id, why, cap);
    if (e != SRV_ERR_COUNT)
        return e;
    struct stage_left left;
    int rc = stage_call(&room->stage, id, &left);
    for (unsigned i = 0; rc == STAGE_OK && i < left.n; i++)
        CR_INFO("floor", "%s: %s leaves the stage for %s", room->name, left.id[i], id);
    if (rc == STAGE_OK)
        CR_INFO("floor", "%s: %s on stage", room->name, id);
    return result(srv, room, rc, id, why, cap);
}

enum srv_err floor_end(struct server *srv, struct reg_room *room, const char *id, char *why,
                       size_t cap)
{
    int rc = id ? stage_end(&room->stage, id) : STAGE_ERR_INVALID;
    if (rc == STAGE_OK)
        CR_INFO("floor", "%s: %s's turn ends", room->name, id);
    return result(srv, room, rc, id ? id : "", why, cap);
}

enum srv_err floor_mute(struct server *srv, struct reg_room *room, const char *id, bool muted,
                        char *why, size_t cap)
{
    enum srv_err e = need_classroom(room, id, why, cap);
    if (e != SRV_ERR_COUNT)
        return e;
    int rc = muted ? stage_mute(&room->stage, id) : stage_unmute(&room->stage, id);
    return result(srv, room, !muted && rc == STAGE_ERR_NOT_FOUND ? STAGE_ERR_ALREADY : rc, id, why,
                  cap);
}

enum srv_err floor_listen(struct server *srv, struct reg_room *room, const char *id, char *why,
                          size_t cap)
{
    if (id) {
        enum srv_err e = need_classroom(room, id, why, cap);
        if (e != SRV_ERR_COUNT)
            return e;
    }
    int rc = id ? stage_listen(&room->stage, id) : stage_listen_stop(&room->stage);
    if (rc == STAGE_OK || (!id && rc == STAGE_ERR_NOT_FOUND)) {
        floor_apply(srv, room); /* private: no event to the room */
        return SRV_ERR_COUNT;
    }
    return result(srv, room, rc, id ? id : "", why, cap);
}

void floor_lower_hands(struct server *srv, struct reg_room *room)
{
    if (stage_hands_clear(&room->stage) > 0)
        floor_changed(srv, room);
}

void floor_mirror(struct server *srv, struct reg_room *room, const struct stage *st)
{
    json_t *was = stage_json(&room->stage), *now = stage_json(st);
    bool same = json_equal(was, now);
    json_decref(was);
    json_decref(now);
    if (same)
        return;
    room->stage = *st;
    floor_changed(srv, room);
}

void floor_forget(struct server *srv, struct reg_room *room, const char *id)
{
    unsigned was = stage_forget(&room->stage, id);
    if (was & (STAGE_FORGOT_ON | STAGE_FORGOT_HAND | STAGE_FORGOT_MUTED))
        floor_changed(srv, room);
    else if (was)
        floor_apply(srv, room);
}
