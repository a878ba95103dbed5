/* The websocket JSON protocol, version 1: see rpc.h and docs/protocol.md.
 *
 * Every request is checked field by field before anything is changed; a request that
 * fails changes nothing (a peer created for a first offer the relay rejects is closed
 * again). Relay calls block for a round trip to the relay's worker (well under a
 * millisecond) and are made only from here on the lws thread, never from a relay
 * callback. */
#include "front/rpc.h"
#include "front/rpc_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/token.h"
#include "base/clock.h"
#include "base/alloc.h"
#include "base/log.h"
#include "access/audit.h"
#include "access/auth.h"
#include "access/turn.h"
#include "cluster/directory.h"
#include "front/credentials.h"
#include "lesson/cascade.h"
#include "lesson/floor.h"
#include "lesson/ingest.h"
#include "lesson/rooms.h"
#include "lesson/session.h"
#include "lesson/lifecycle.h"
#include "lesson/place.h"
#include "lesson/recording.h"
#include "front/whip.h"
#include "transport/ws_park.h"
#include "transport/zfield.h"

static struct rpc_conn *conn(struct ws_conn *c) { return c->user; }

void rpc_reply_error(struct ws_conn *c, json_t *id, enum srv_err e, const char *message)
{
    srv_count_error_via(c->srv, SRV_VIA_WS, e);
    CR_DEBUG("rpc", "error %s: %s", srv_err_code(e), message);
    json_t *reply = json_pack("{s:s, s:O?, s:b, s:{s:s, s:s}}", "type", "reply", "id", id, "ok", 0,
                              "error", "code", srv_err_code(e), "message", message);
    if (!reply) /* message not UTF-8 (cut by a bounded printf): still answer, without it */
        reply = json_pack("{s:s, s:O?, s:b, s:{s:s, s:s}}", "type", "reply", "id", id, "ok", 0,
                          "error", "code", srv_err_code(e), "message", "(unprintable)");
    if (!json_object_get(reply, "id"))
        json_object_set_new(reply, "id", json_null());
    ws_send(c, reply);
}

void req_err(struct req *r, enum srv_err e, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    rpc_reply_error(r->c, r->id, e, message);
}

/* Sends {"type":"reply","id":..,"ok":true, ...fields}; steals fields (may be NULL). A
 * request without an id gets no success reply. */
void req_ok(struct req *r, json_t *fields)
{
    if (!r->id) {
        json_decref(fields);
        return;
    }
    json_t *reply = json_pack("{s:s, s:O, s:b}", "type", "reply", "id", r->id, "ok", 1);
    if (fields)
        json_object_update(reply, fields);
    json_decref(fields);
    ws_send(r->c, reply);
}

static json_t *participant_json(const struct reg_participant *p)
{
    return json_pack("{s:s, s:s, s:s}", "id", p->id, "role", reg_role_name(p->role), "name",
                     p->name);
}

static void send_event(struct reg_participant *p, json_t *event)
{
    if (p->conn)
        ws_send(p->conn, event);
    else
        json_decref(event);
}

/* Sends event to everyone in room except skip; steals event. */
static void broadcast(struct reg_room *room, struct reg_participant *skip, json_t *event)
{
    for (struct reg_participant *q = room->participants; q; q = q->next) {
        if (q != skip)
            send_event(q, json_incref(event));
    }
    json_decref(event);
}

void rpc_event_room(struct reg_room *room, json_t *event) { broadcast(room, NULL, event); }

static void room_event(struct server *srv, struct reg_room *room, json_t *event)
{
    (void)srv;
    broadcast(room, NULL, event);
}

void rpc_event_teachers(struct server *srv, struct reg_room *room, json_t *event)
{
    (void)srv;
    for (struct reg_participant *q = room->participants; q; q = q->next)
        if (q->role == REG_TEACHER)
            send_event(q, json_incref(event));
    json_decref(event);
}

json_t *rpc_tracks_json(struct server *srv, struct reg_room *room)
{
    json_t *arr = json_array();
    size_t n = 0;
    struct cr_track_info *tracks = rooms_tracks(srv, room->name, &n);
    for (size_t i = 0; i < n; i++) {
        const struct cr_track_info *t = &tracks[i];
        struct reg_owner owner;
        const char *who = NULL;
        if (reg_find_peer(srv->reg, t->peer_id, &owner))
            who = owner.participant ? owner.participant->id : owner.resource->id;
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:s?}", "id", (json_int_t)t->id,
                                             "kind", t->kind == CR_KIND_AUDIO ? "audio" : "video",
                                             "source", t->source, "codec", t->codec, "participant",
                                             who));
    }
    free(tracks);
    return arr;
}

void rpc_event_tracks(struct server *srv, struct reg_room *room)
{
    if (!room->participants)
        return;
    json_t *ev = json_pack("{s:s, s:s, s:o}", "type", "event", "event", "tracks", "tracks",
                           rpc_tracks_json(srv, room));
    broadcast(room, NULL, ev);
}

void rpc_event_peer_state(struct reg_participant *p, enum reg_target target,
                          enum cr_peer_state state, const char *reason)
{
    send_event(p, json_pack("{s:s, s:s, s:s, s:s, s:s*}", "type", "event", "event", "peer_state",
                            "target", reg_target_name(target), "state", cr_peer_state_name(state),
                            "reason", reason));
}

void rpc_event_quality(struct reg_participant *p, json_t *quality)
{
    json_object_set_new(quality, "type", json_string("event"));
    json_object_set_new(quality, "event", json_string("quality"));
    send_event(p, quality);
}

void rpc_event_candidate(struct reg_participant *p, enum reg_target target, const char *mid,
                         const char *candidate)
{
    send_event(p, json_pack("{s:s, s:s, s:s, s:s, s:s?}", "type", "event", "event", "candidate",
                            "target", reg_target_name(target), "mid", mid, "candidate", candidate));
}

/* ---- field checks ---- */

/* A name field (registry.h reg_name_ok): NULL when absent, or after *bad is set. */
static const char *get_name(json_t *msg, const char *key, bool *bad)
{
    json_t *v = json_object_get(msg, key);
    *bad = false;
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = true;
        return NULL;
    }
    const char *s = json_string_value(v);
    *bad = strlen(s) != json_string_length(v) || !reg_name_ok(s);
    return *bad ? NULL : s;
}

static bool target_from_json(json_t *v, enum reg_target *out)
{
    const char *s = json_string_value(v);
    if (!s)
        return false;
    if (strcmp(s, "publish") == 0)
        *out = REG_PUBLISH;
    else if (strcmp(s, "subscribe") == 0)
        *out = REG_SUBSCRIBE;
    else
        return false;
    return true;
}

static bool source_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= CR_SOURCE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

/* ---- leaving ---- */

static void leave_room(struct ws_conn *c)
{
    struct reg_participant *p = conn(c)->participant;
    if (!p)
        return;
    struct server *srv = c->srv;
    for (int t = REG_PUBLISH; t <= REG_SUBSCRIBE; t++)
        rooms_peer_close(srv, &p->peers[t]);
    struct reg_room *room = p->room;
    if (room) {
        reg_participant_remove(p);
        if (!srv->shutting_down && p->role != REG_OBSERVER)
            broadcast(room, NULL,
                      json_pack("{s:s, s:s, s:o}", "type", "event", "event", "participant_left",
                                "participant", participant_json(p)));
        CR_INFO("rpc", "%s (%s \"%s\") left room %s", p->id, reg_role_name(p->role), p->name,
                room->name);
        if (!srv->shutting_down)
            floor_forget(srv, room, p->id);
        rooms_release(srv, room);
    }
    reg_lines_clear(&p->lines);
    free(p);
    conn(c)->participant = NULL;
}

void rpc_conn_opened(struct ws_conn *c)
{
    struct rpc_conn *rc = CR_NEW(struct rpc_conn);
    c->user = rc;
    rc->auth_rc = cred_http(c->srv, c->wsi, &rc->who, &rc->auth_why);
}

void rpc_conn_closed(struct ws_conn *c)
{
    if (!c->user)
        return;
    leave_room(c);
    free(c->user);
    c->user = NULL;
}

static void refused(struct ws_conn *c, enum srv_err e, const char *why)
{
    rpc_reply_error(c, NULL, e, why);
}

const struct ws_handlers rpc_ws_handlers = {
    .opened = rpc_conn_opened,
    .message = rpc_handle,
    .refused = refused,
    .closed = rpc_conn_closed,
};

/* ---- requests ---- */

/* Checks the joiner's token (the websocket upgrade's, or a "token" field) against the room
 * and the role asked for; replies with the refusal and returns false. An invalid token
 * still enters a room open to all (a stale cookie must not lock anyone out of the demo). */
static bool join_allowed(struct req *r, const char *room, enum reg_role role, struct principal *who)
{
    *who = conn(r->c)->who;
    int rc = conn(r->c)->auth_rc;
    const char *why = conn(r->c)->auth_why;
    json_t *t = json_object_get(r->msg, "token");
    if (t && (!json_is_string(t) || json_string_length(t) > TOKEN_MAX)) {
        req_err(r, SRV_ERR_BAD_REQUEST, "\"token\" must be a string of at most %d characters",
                TOKEN_MAX);
        return false;
    }
    if (t)
        rc = auth_token(r->srv, json_string_value(t), who, &why);
    enum perm_action a = role == REG_TEACHER     ? PERM_PUBLISH_MAIN
                         : role == REG_CLASSROOM ? PERM_JOIN_SEEN
                                                 : PERM_JOIN_UNSEEN;
    enum srv_err e;
    char msg[400], what[64];
    snprintf(what, sizeof what, "join as %s", reg_role_name(role));
    if (lifecycle_enter(r->srv, who, rc, why, room, a, what, &e, msg, sizeof msg) == PERM_OK)
        return true;
    req_err(r, e, "%s", msg);
    return false;
}

/* The lesson is served by another node (docs/protocol.md "join", docs/cluster.md): an error
 * reply with the code "redirect" and {"redirect":{"url","reason"}}; the client joins there
 * with the same request. */
static void reply_redirect(struct req *r, const char *url, enum reg_role role)
{
    const char *reason = role == REG_TEACHER ? "origin" : "full";
    char message[400];
    snprintf(message, sizeof message, "%s: join at %s",
             role == REG_TEACHER ? "the lesson is served by another node" : "this node is full",
             url);
    json_t *reply = json_pack("{s:s, s:O?, s:b, s:{s:s, s:s}, s:{s:s, s:s}}", "type", "reply", "id",
                              r->id, "ok", 0, "error", "code", "redirect", "message", message,
                              "redirect", "url", url, "reason", reason);
    if (reply && !json_object_get(reply, "id"))
        json_object_set_new(reply, "id", json_null());
    if (reply)
        ws_send(r->c, reply);
}

/* The cluster's live nodes for a join reply (docs/protocol.md "join"): a page whose node
 * dies reconnects to another of them (web/js/common.js). NULL (no "nodes") on a node alone. */
static json_t *nodes_json(struct server *srv)
{
    if (!srv->dir)
        return NULL;
    struct dir_node *n = cr_calloc(DIR_NODES_MAX, sizeof *n);
    size_t count = dir_nodes(srv->dir, n, DIR_NODES_MAX);
    json_t *urls = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(urls, json_string(n[i].url));
    free(n);
    return urls;
}

static void h_join(struct req *r)
{
    if (conn(r->c)->participant) {
        req_err(r, SRV_ERR_BAD_REQUEST, "already joined room %s: leave first",
                conn(r->c)->participant->room ? conn(r->c)->participant->room->name : "?");
        return;
    }
    const char *room_name = json_string_value(json_object_get(r->msg, "room"));
    const char *role = json_string_value(json_object_get(r->msg, "role"));
    bool bad_name;
    const char *name = get_name(r->msg, "name", &bad_name);
    if (!room_name || !reg_room_name_ok(room_name)) {
        req_err(r, SRV_ERR_BAD_REQUEST, "\"room\" must be 1 to 64 letters, digits, '-' or '_'");
        return;
    }
    enum reg_role rrole;
    if (role && strcmp(role, "teacher") == 0)
        rrole = REG_TEACHER;
    else if (role && strcmp(role, "classroom") == 0)
        rrole = REG_CLASSROOM;
    else if (role && strcmp(role, "observer") == 0)
        rrole = REG_OBSERVER;
    else {
        req_err(r, SRV_ERR_BAD_REQUEST,
                "\"role\" must be \"teacher\", \"classroom\" or \"observer\"");
        return;
    }
    if (bad_name) {
        req_err(r, SRV_ERR_BAD_REQUEST,
                "\"name\" must be a string of at most 64 characters, no control characters");
        return;
    }
    struct principal who;
    if (!join_allowed(r, room_name, rrole, &who))
        return;
    char node[DIR_URL_MAX];
    if (place_elsewhere(r->srv, room_name, rrole, node, sizeof node)) {
        reply_redirect(r, node, rrole);
        return;
    }
    enum srv_err e;
    char why[256];
    struct reg_room *room = rooms_get(r->srv, room_name, &e, why, sizeof why);
    if (!room) {
        req_err(r, e, "%s", why);
        return;
    }
    if (rrole != REG_TEACHER) /* a lesson whose origin is another node: pulled from there */
        cascade_want(r->srv, room->name);
    struct reg_participant *p = CR_NEW(struct reg_participant);
    p->role = rrole;
    p->who = who;
    static const char *const default_names[] = {"Teacher", "Classroom", "Observer"};
    if (!(name && name[0]) && who.name[0])
        name = who.name;
    snprintf(p->name, sizeof p->name, "%s", name && name[0] ? name : default_names[rrole]);
    p->conn = r->c;
    json_t *others = json_array();
    for (struct reg_participant *q = room->participants; q; q = q->next) {
        if (q->role != REG_OBSERVER)
            json_array_append_new(others, participant_json(q));
    }
    for (struct reg_resource *q = room->resources; q; q = q->next) {
        if (!q->whep && q->role == REG_CLASSROOM)
            json_array_append_new(others, session_participant_json(q));
    }
    reg_participant_add(r->srv->reg, room, p);
    conn(r->c)->participant = p;
    CR_INFO("rpc", "%s (%s \"%s\") joined room %s", p->id, role, p->name, room->name);
    audit_log(r->srv, &who, "join", room->name, "as %s \"%s\"", role, p->name);
    json_t *recording = r->srv->recording ? recording_room_json(r->srv->recording, room->name)
                                          : json_pack("{s:s}", "state", "off");
    struct turn_cred turn;
    json_t *ice =
        turn_issue(r->srv, p->id, &turn) == 0 ? turn_ice_servers_json(r->srv->cfg, &turn) : NULL;
    json_t *ingest = ingest_json(r->srv->ingest, room->name); /* the teacher's RTSP source */
    req_ok(r, json_pack("{s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:{s:b}, s:o*, s:o*, s:o, s:o*}",
                        "participant", participant_json(p), "room", room->name, "participants",
                        others, "tracks", rpc_tracks_json(r->srv, room), "recording", recording,
                        "lesson", lifecycle_room_json(r->srv, room), "stage",
                        floor_json(room, rrole == REG_TEACHER), "chat", "classrooms",
                        !room->chat_closed, "quiz", quiz_json(&room->quiz, rrole == REG_TEACHER),
                        "ice_servers", ice, "ingest", ingest ? ingest : json_null(), "nodes",
                        nodes_json(r->srv)));
    if (rrole != REG_OBSERVER)
        broadcast(room, p,
                  json_pack("{s:s, s:s, s:o}", "type", "event", "event", "participant_joined",
                            "participant", participant_json(p)));
}

/* Asks the permission table again for an action of a joined participant (the lesson's
 * window may have closed, a classroom may try to publish the teacher's stream). */
bool req_allows(struct req *r, struct reg_participant *p, enum perm_action a)
{
    char msg[400];
    if (p->role == REG_OBSERVER && a != PERM_SUBSCRIBE) {
        req_err(r, SRV_ERR_FORBIDDEN,
                "observers watch unseen: they cannot publish or control the lesson");
        return false;
    }
    enum perm_verdict v = auth_room(r->srv, &p->who, p->room->name, a, msg, sizeof msg);
    if (v == PERM_OK)
        return true;
    req_err(r, auth_verdict_err(v), "%s", msg);
    audit_log(r->srv, &p->who, "refused", p->room->name, "%s: %s", perm_action_name(a), msg);
    return false;
}

/* The joined participant, or an error reply and NULL. */
struct reg_participant *req_joined(struct req *r)
{
    struct reg_participant *p = conn(r->c)->participant;
    if (!p || !p->room) {
        req_err(r, SRV_ERR_NOT_JOINED, "join a room first");
        return NULL;
    }
    return p;
}

/* Checks "sdp", or "sdpz" (the same deflated, transport/zfield.h: one burst a weak link's
 * router queue holds). Returns the SDP text or NULL after an error reply; *owned holds what
 * the caller frees, *zipped whether the answer goes back deflated too. The relay reads it. */
static const char *get_offer(struct req *r, char **owned, bool *zipped)
{
    *owned = NULL;
    json_t *z = json_object_get(r->msg, "sdpz");
    *zipped = z != NULL;
    if (z) {
        if (!json_is_string(z)) {
            req_err(r, SRV_ERR_BAD_REQUEST, "\"sdpz\" must be a string: base64 of raw DEFLATE");
            return NULL;
        }
        int rc =
            zfield_inflate(json_string_value(z), json_string_length(z), SERVER_MAX_BODY, owned);
        if (rc != ZFIELD_OK)
            req_err(r, SRV_ERR_BAD_SDP, "\"sdpz\": %s", zfield_strerror(rc));
        return *owned;
    }
    json_t *v = json_object_get(r->msg, "sdp");
    const char *sdp = json_string_value(v);
    if (!sdp) {
        req_err(r, SRV_ERR_BAD_REQUEST, "\"sdp\" must be a string holding an SDP offer");
        return NULL;
    }
    if (strlen(sdp) != json_string_length(v)) {
        req_err(r, SRV_ERR_BAD_SDP, "the SDP contains a NUL character");
        return NULL;
    }
    return sdp;
}

/* Per-mid hints from the request's object field (publish "sources", subscribe "tracks"):
 * one per key that can be a mid, value checked by take(). Returns the number, or -1 after
 * an error reply. */
static int hints_from(struct req *r, const char *field, const char *what,
                      bool (*take)(struct req *r, const char *mid, json_t *v,
                                   struct cr_mline_hint *h),
                      struct cr_mline_hint *hints)
{
    json_t *obj = json_object_get(r->msg, field);
    if (obj && !json_is_object(obj)) {
        req_err(r, SRV_ERR_BAD_REQUEST, "\"%s\" must be an object {mid: %s}", field, what);
        return -1;
    }
    int n = 0;
    const char *mid;
    json_t *v;
    json_object_foreach(obj, mid, v)
    {
        if (strlen(mid) >= CR_MID_MAX) /* no m-line has such a mid: nothing to say of it */
            continue;
        if (n == CR_OFFER_MAX_LINES) {
            req_err(r, SRV_ERR_BAD_REQUEST, "\"%s\" names more than %d mids", field,
                    CR_OFFER_MAX_LINES);
            return -1;
        }
        struct cr_mline_hint *h = &hints[n];
        memset(h, 0, sizeof *h);
        snprintf(h->mid, sizeof h->mid, "%s", mid);
        if (!take(r, mid, v, h))
            return -1;
        n++;
    }
    return n;
}

static bool take_source(struct req *r, const char *mid, json_t *v, struct cr_mline_hint *h)
{
    const char *src = json_string_value(v);
    if (!src || !source_ok(src)) {
        req_err(r, SRV_ERR_BAD_REQUEST,
                "source of mid %s must be 1 to 15 of [a-z0-9_-] (mic, camera, screen)", mid);
        return false;
    }
    snprintf(h->source, sizeof h->source, "%s", src);
    return true;
}

/* Applies offer to the participant's peer for target, creating it if needed: one call into
 * the relay, which reads the offer. true with *out filled (the caller frees out->sdp), or
 * false after the error reply (a peer made for it is gone again). */
static bool negotiate(struct req *r, struct reg_participant *p, enum reg_target target,
                      const char *offer, const struct cr_mline_hint *hints, size_t n_hints,
                      struct cr_answer *out)
{
    struct reg_peer *slot = &p->peers[target];
    struct cr_offer o = {.room = p->room->name,
                         .peer_id = slot->id,
                         .sdp = offer,
                         .hints = hints,
                         .n_hints = n_hints,
                         .priority = p->role == REG_TEACHER}; /* admitted when full */
    int rc = cr_relay_negotiate(r->srv->relay, &o, out);
    if (rc != 0) {
        req_err(r, srv_err_from_relay(rc), "%s",
                out->err[0] ? out->err : "the relay refused the offer");
        return false;
    }
    if (!slot->id)
        rooms_peer_set(slot, out->peer_id);
    CR_DEBUG("rpc", "%s %s peer %llu negotiated (%zu m-lines; offer %zu, answer %zu bytes)", p->id,
             reg_target_name(target), (unsigned long long)slot->id, out->n_lines, strlen(offer),
             out->sdp ? strlen(out->sdp) : 0);
    return true;
}

/* The reply to publish and subscribe: the answer ("sdpz" when zipped) and {mid: track id}
 * (null: none, when with_null; else such lines are left out). */
static void reply_answer(struct req *r, struct cr_answer *a, bool with_null, bool zipped)
{
    json_t *tracks = json_object();
    for (size_t i = 0; i < a->n_lines; i++) {
        const struct cr_offer_line *l = &a->lines[i];
        if (l->mid[0] && (l->track_id || with_null))
            json_object_set_new(tracks, l->mid,
                                l->track_id ? json_integer((json_int_t)l->track_id) : json_null());
    }
    if (!zipped) {
        req_ok(r, json_pack("{s:s, s:o}", "sdp", a->sdp, "tracks", tracks));
        return;
    }
    char *z = zfield_deflate(a->sdp);
    req_ok(r, json_pack("{s:s, s:o}", "sdpz", z, "tracks", tracks));
    free(z);
}

static void publish_offer(struct req *r, struct reg_participant *p, const char *offer, bool zipped)
{
    struct cr_mline_hint hints[CR_OFFER_MAX_LINES];
    int n = hints_from(r, "sources", "source", take_source, hints);
    if (n < 0)
        return;
    bool fresh = p->peers[REG_PUBLISH].id == 0;
    static struct cr_answer a; /* lws thread only; too big for a comfortable stack frame */
    memset(&a, 0, sizeof a);
    if (!negotiate(r, p, REG_PUBLISH, offer, hints, (size_t)n, &a))
        return;
    if (fresh) {
        lifecycle_apply_pause(r->srv, p);
        audit_log(r->srv, &p->who, "publish", p->room->name, "as %s \"%s\"", reg_role_name(p->role),
                  p->name);
    }
    reply_answer(r, &a, false, zipped);
    free(a.sdp);
}

/* Takes the request's offer (get_offer) and hands it to fn. */
static void with_offer(struct req *r, struct reg_participant *p,
                       void (*fn)(struct req *r, struct reg_participant *p, const char *offer,
                                  bool zipped))
{
    char *owned;
    bool zipped;
    const char *offer = get_offer(r, &owned, &zipped);
    if (offer)
        fn(r, p, offer, zipped);
    free(owned);
}

static void h_publish(struct req *r)
{
    struct reg_participant *p = req_joined(r);
    if (p && req_allows(r, p, p->role == REG_TEACHER ? PERM_PUBLISH_MAIN : PERM_PUBLISH_BACK))
        with_offer(r, p, publish_offer);
}

static void subscribe_offer(struct req *r, struct reg_participant *p, const char *offer,
                            bool zipped)
{
    struct cr_mline_hint hints[CR_OFFER_MAX_LINES];
    static struct reg_line asked[CR_OFFER_MAX_LINES]; /* lws thread only */
    struct reg_lines lines = {.line = asked};
    int n = rpc_subscribe_hints(r, p, hints, &lines);
    if (n < 0)
        return;
    if (json_is_true(json_object_get(r->msg, "restart")))
        rooms_peer_close(r->srv, &p->peers[REG_SUBSCRIBE]);
    static struct cr_answer a;
    memset(&a, 0, sizeof a);
    if (!negotiate(r, p, REG_SUBSCRIBE, offer, hints, (size_t)n, &a))
        return;
    reg_lines_keep(&p->lines, &lines);
    floor_negotiated(&p->lines, &a);
    floor_apply(r->srv, p->room);
    reply_answer(r, &a, true, zipped);
    free(a.sdp);
}

static void h_subscribe(struct req *r)
{
    struct reg_participant *p = req_joined(r);
    if (p && req_allows(r, p, PERM_SUBSCRIBE))
        with_offer(r, p, subscribe_offer);
}

static void h_candidate(struct req *r)
{
    struct reg_participant *p = req_joined(r);
    if (!p)
        return;
    enum reg_target target;
    if (!target_from_json(json_object_get(r->msg, "target"), &target)) {
        req_err(r, SRV_ERR_BAD_REQUEST, "\"target\" must be \"publish\" or \"subscribe\"");
        return;
    }
    json_t *mid_v = json_object_get(r->msg, "mid");
    json_t *cand_v = json_object_get(r->msg, "candidate");
    if ((mid_v && !json_is_string(mid_v) && !json_is_null(mid_v)) ||
        (mid_v && json_string_length(mid_v) >= CR_MID_MAX) ||
        (cand_v && !json_is_string(cand_v) && !json_is_null(cand_v))) {
        req_err(r, SRV_ERR_BAD_REQUEST,
                "\"mid\" must be a short string and \"candidate\" a string or null");
        return;
    }
    const char *cand = json_string_value(cand_v);
    if (cand && (strlen(cand) != json_string_length(cand_v) || strlen(cand) > 1024 ||
                 strpbrk(cand, "\r\n"))) {
        req_err(r, SRV_ERR_BAD_REQUEST, "\"candidate\" must be one line of at most 1024 bytes");
        return;
    }
    struct reg_peer *slot = &p->peers[target];
    if (!slot->id) {
        req_err(r, SRV_ERR_NOT_FOUND, "no %s peer: send %s first", reg_target_name(target),
                reg_target_name(target));
        return;
    }
    const char *mid = json_string_value(mid_v);
    int rc = cr_relay_peer_candidate(r->srv->relay, slot->id, mid ? mid : "",
                                     cand && cand[0] ? cand : NULL);
    if (rc != 0) {
        req_err(r, srv_err_from_relay(rc), "the relay refused the candidate");
        return;
    }
    req_ok(r, NULL);
}

static void h_unpublish(struct req *r)
{
    struct reg_participant *p = req_joined(r);
    if (!p)
        return;
    rooms_peer_close(r->srv, &p->peers[REG_PUBLISH]);
    req_ok(r, NULL);
}

static void h_unsubscribe(struct req *r)
{
    struct reg_participant *p = req_joined(r);
    if (!p)
        return;
    rooms_peer_close(r->srv, &p->peers[REG_SUBSCRIBE]);
    req_ok(r, NULL);
}

static void h_leave(struct req *r)
{
    if (!req_joined(r))
        return;
    leave_room(r->c);
    req_ok(r, NULL);
}

static void h_ping(struct req *r)
{
    req_ok(r, json_pack("{s:I}", "time_ms", (json_int_t)cr_now_ms()));
}

/* {"type":"lesson","action":...}: the teacher's one-key controls (lifecycle.c). */
static void h_lesson(struct req *r)
{
    struct reg_participant *p = req_joined(r);
    if (!p || !req_allows(r, p, PERM_CONTROL))
        return;
    if (p->role != REG_TEACHER && p->who.role != ROLE_ADMIN) { /* the open demo room too */
        req_err(r, SRV_ERR_FORBIDDEN, "only the lesson's teacher controls the lesson");
        return;
    }
    const char *action = json_string_value(json_object_get(r->msg, "action"));
    char why[256];
    enum srv_err e = lifecycle_control(r->srv, p, action ? action : "", why, sizeof why);
    if (e != SRV_ERR_COUNT) {
        req_err(r, e, "%s", why);
        return;
    }
    req_ok(r, NULL);
}

/* resume {"key"}: this websocket takes over a session begun over HTTP (rpc_begin.c): the
 * parked session's state moves here, ours is closed with the parked connection. */
static void h_resume(struct req *r)
{
    if (r->c->parked) {
        req_err(r, SRV_ERR_BAD_REQUEST, "resume is sent on the websocket, not in POST /ws");
        return;
    }
    if (conn(r->c)->participant) {
        req_err(r, SRV_ERR_BAD_REQUEST, "already in a session: leave first");
        return;
    }
    const char *key = json_string_value(json_object_get(r->msg, "key"));
    struct ws_conn *parked = key ? ws_park_find(r->srv, key) : NULL;
    if (!parked || !conn(parked)->participant) { /* its lesson may have ended meanwhile */
        req_err(r, SRV_ERR_NOT_FOUND,
                "no session waits for this key (taken, or not taken within %d s): join again",
                WS_PARK_MS / 1000);
        return;
    }
    void *mine = r->c->user;
    r->c->user = parked->user;
    parked->user = mine;
    struct reg_participant *p = conn(r->c)->participant;
    p->conn = r->c;
    ws_adopt(r->c, parked);
    r->srv->counters.ws_resumed++;
    CR_DEBUG("rpc", "%s: its websocket took over the session begun over HTTP", p->id);
    req_ok(r, json_pack("{s:o}", "participant", participant_json(p)));
}

static const struct {
    const char *type;
    void (*handle)(struct req *r);
} handlers[] = {
    {"join", h_join},           {"publish", h_publish},
    {"subscribe", h_subscribe}, {"candidate", h_candidate},
    {"unpublish", h_unpublish}, {"unsubscribe", h_unsubscribe},
    {"leave", h_leave},         {"ping", h_ping},
    {"lesson", h_lesson},       {"hand", rpc_h_hand},
    {"stage", rpc_h_stage},     {"mute", rpc_h_mute},
    {"listen", rpc_h_listen},   {"hands_down", rpc_h_hands_down},
    {"chat", rpc_h_chat},       {"chat_mode", rpc_h_chat_mode},
    {"quiz", rpc_h_quiz},       {"quiz_answer", rpc_h_quiz_answer},
    {"resume", h_resume},
};

void rpc_handle(struct ws_conn *c, const char *text, size_t len)
{
    json_error_t jerr;
    json_t *msg = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!msg) {
        char why[300];
        snprintf(why, sizeof why, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        rpc_reply_error(c, NULL, SRV_ERR_BAD_JSON, why);
        return;
    }
    rpc_handle_json(c, msg);
    json_decref(msg);
}

void rpc_handle_json(struct ws_conn *c, json_t *msg)
{
    struct req r = {.c = c, .srv = c->srv, .msg = msg, .id = json_object_get(msg, "id")};
    /* log lines about this request name its room and participant (the joined one's, or the
     * room a join asks for): copies, since a leave may close the room */
    char room[REG_ROOM_MAX * 4 + 1] = "", who[REG_ID_MAX] = "";
    const struct reg_participant *p = conn(c)->participant;
    const char *asked = json_string_value(json_object_get(msg, "room"));
    snprintf(room, sizeof room, "%s", p && p->room ? p->room->name : asked ? asked : "");
    snprintf(who, sizeof who, "%s", p ? p->id : "");
    CR_LOG_SCOPE(room[0] ? room : NULL, 0, who[0] ? who : NULL);
    if (!json_is_object(msg)) {
        rpc_reply_error(c, NULL, SRV_ERR_BAD_JSON, "a message must be a JSON object");
        return;
    }
    if (r.id && !json_is_integer(r.id)) {
        r.id = NULL;
        req_err(&r, SRV_ERR_BAD_REQUEST, "\"id\" must be an integer");
        return;
    }
    json_t *v = json_object_get(msg, "v");
    if (v && !(json_is_integer(v) && json_integer_value(v) == 1)) {
        req_err(&r, SRV_ERR_BAD_REQUEST, "unsupported protocol version (this server speaks 1)");
        return;
    }
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (!type) {
        req_err(&r, SRV_ERR_BAD_REQUEST, "\"type\" must be a string");
        return;
    }
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
        if (strcmp(type, handlers[i].type) == 0) {
            handlers[i].handle(&r);
            return;
        }
    }
    size_t cut = strlen(type) > 40 ? 40 : strlen(type); /* not inside a UTF-8 sequence */
    while (cut > 0 && ((unsigned char)type[cut] & 0xc0) == 0x80)
        cut--;
    req_err(&r, SRV_ERR_BAD_REQUEST, "unknown request type \"%.*s\"", (int)cut, type);
}

void rpc_room_end(struct server *srv, struct reg_room *room, const char *reason)
{
    room->pinned = false;
    broadcast(
        room, NULL,
        json_pack("{s:s, s:s, s:s}", "type", "event", "event", "lesson_ended", "reason", reason));
    CR_INFO("rpc", "lesson in room %s ended (%s)", room->name, reason);
    size_t n = 0, n_res = 0;
    for (struct reg_participant *p = room->participants; p; p = p->next)
        n++;
    for (struct reg_resource *r = room->resources; r; r = r->next)
        n_res++;
    if (n == 0 && n_res == 0) {
        rooms_release(srv, room);
        return;
    }
    struct ws_conn **conns = cr_malloc((n ? n : 1) * sizeof *conns);
    struct reg_resource **res = cr_malloc((n_res ? n_res : 1) * sizeof *res);
    size_t i = 0;
    for (struct reg_participant *p = room->participants; p; p = p->next)
        conns[i++] = p->conn;
    i = 0;
    for (struct reg_resource *r = room->resources; r; r = r->next)
        res[i++] = r;
    /* while a resource is left the room stays; the last leave or close frees it */
    for (i = 0; i < n; i++)
        leave_room(conns[i]);
    for (i = 0; i < n_res; i++)
        session_close(srv, res[i]);
    free(conns);
    free(res);
}

const struct lesson_events rpc_lesson_events = {
    .room_event = room_event,
    .teacher_event = rpc_event_teachers,
    .room_end = rpc_room_end,
};
