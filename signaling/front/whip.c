/* WHIP and WHEP sessions: see whip.h. RFC 9725 §4.2 (session setup: 201 Created with a
 * Location header), §4.3 (PATCH for trickle ICE and ICE restarts; an unsupported ICE
 * restart gets 422), §4.4 (DELETE ends the session); RFC 8840 §9 for the
 * application/trickle-ice-sdpfrag body. WHIP publishes the teacher's stream, or with
 * ?role=classroom&name= a classroom's, listed to the room like a page. WHEP
 * (draft-ietf-wish-whep) mirrors WHIP for playing: the client sends a recvonly offer and
 * the lesson feeds its lines from ?feed= (teacher, stage, classroom:<id>; lesson/floor.c),
 * switching tracks without renegotiation. Errors carry a plain-text reason, mostly the
 * relay's. */
#include "front/whip.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lesson/floor.h"
#include "lesson/lifecycle.h"
#include "lesson/place.h"
#include "lesson/rooms.h"
#include "lesson/session.h"
#include "front/credentials.h"
#include "access/audit.h"
#include "access/auth.h"
#include "access/turn.h"
#include "base/log.h"
#include "cluster/directory.h"
#include "front/sdpscan.h" /* trickle fragments */

static void fail(struct server *srv, struct lws *wsi, struct http_req *req, enum srv_err e,
                 int status, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void fail(struct server *srv, struct lws *wsi, struct http_req *req, enum srv_err e,
                 int status, const char *fmt, ...)
{
    char *text = malloc(512);
    if (!text)
        abort();
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, 510, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if (n > 509)
        n = 509;
    text[n++] = '\n';
    text[n] = '\0';
    srv_count_error(srv, e);
    CR_DEBUG("whip", "%s %s: %d %s", req->method == LWSHUMETH_POST ? "POST" : "request", req->path,
             status ? status : srv_err_http_status(e), text);
    http_respond(wsi, req, status ? status : srv_err_http_status(e), "text/plain; charset=utf-8",
                 text, (size_t)n);
    if (e == SRV_ERR_LIMIT) /* the relay is full (RFC 9110 §10.2.3): when to look again */
        http_add_header(req, "Retry-After", "5");
}

/* ?role= and ?name= of a session: WHIP teacher (default) or classroom, WHEP observer
 * (default: watches unseen) or classroom (a classroom box that may chat and raise its hand
 * over its data channel); false after the refusal was answered. */
static bool holder_of(struct server *srv, struct lws *wsi, struct http_req *req, bool whep,
                      enum reg_role *role, char *name, size_t cap)
{
    char v[16];
    int rc = http_query(wsi, "role", v, sizeof v);
    enum reg_role plain = whep ? REG_OBSERVER : REG_TEACHER;
    *role = plain;
    if (rc > 0 && strcmp(v, "classroom") == 0)
        *role = REG_CLASSROOM;
    else if (rc != 0 && !(rc > 0 && strcmp(v, reg_role_name(plain)) == 0)) {
        fail(srv, wsi, req, SRV_ERR_BAD_REQUEST, 0, "?role= must be %s or classroom",
             reg_role_name(plain));
        return false;
    }
    static const char *const defaults[] = {"Teacher", "Classroom", "Player"};
    rc = http_query(wsi, "name", name, cap);
    if (rc < 0 || (rc > 0 && !reg_name_ok(name))) {
        fail(srv, wsi, req, SRV_ERR_BAD_REQUEST, 0,
             "?name= must be at most 64 characters, no control characters");
        return false;
    }
    if (rc == 0)
        snprintf(name, cap, "%s", defaults[*role]);
    return true;
}

/* ?feed= of a WHEP POST (default: the teacher); false after the refusal was answered. */
static bool feed_of(struct server *srv, struct lws *wsi, struct http_req *req,
                    struct reg_line *want)
{
    char v[10 + REG_ID_MAX];
    memset(want, 0, sizeof *want);
    want->feed = REG_FEED_TEACHER;
    int rc = http_query(wsi, "feed", v, sizeof v);
    if (rc == 0 || (rc > 0 && floor_parse_feed(v, want)))
        return true;
    fail(srv, wsi, req, SRV_ERR_BAD_REQUEST, 0,
         "?feed= must be teacher, stage, stage:N or classroom:<id>");
    return false;
}

static void add_link(void *user, const char *link) { http_add_long_header(user, "Link", link); }

static void session_create(struct server *srv, struct lws *wsi, struct http_req *req,
                           const char *room_name, bool whep)
{
    const char *why;
    struct principal who;
    int token_rc = cred_http(srv, wsi, &who, &why);
    enum srv_err e;
    char reason[512], name[REG_NAME_MAX * 4 + 1];
    enum reg_role role = REG_TEACHER;
    struct reg_line want;
    if (!holder_of(srv, wsi, req, whep, &role, name, sizeof name) ||
        (whep && !feed_of(srv, wsi, req, &want)))
        return;
    enum perm_action act = whep                    ? PERM_SUBSCRIBE
                           : role == REG_CLASSROOM ? PERM_PUBLISH_BACK
                                                   : PERM_PUBLISH_MAIN;
    if (lifecycle_enter(srv, &who, token_rc, why, room_name, act, whep ? "WHEP" : "WHIP", &e,
                        reason, sizeof reason) != PERM_OK) {
        fail(srv, wsi, req, e, 0, "%s", reason);
        if (e == SRV_ERR_UNAUTHORIZED)
            http_add_header(req, "WWW-Authenticate", "Bearer realm=\"classrelay\"");
        return;
    }
    if (strcmp(req->content_type, "application/sdp") != 0) {
        fail(srv, wsi, req, SRV_ERR_BAD_REQUEST, 0,
             "Content-Type must be application/sdp (got \"%s\")", req->content_type);
        return;
    }
    if (!req->body || req->body_len == 0 || strlen(req->body) != req->body_len) {
        fail(srv, wsi, req, SRV_ERR_BAD_SDP, 0, "the body must be an SDP offer");
        return;
    }
    char node[DIR_URL_MAX];
    if (place_elsewhere(srv, room_name, role, node, sizeof node)) { /* docs/cluster.md */
        char url[4096];
        size_t n = (size_t)snprintf(url, sizeof url, "%s", node);
        http_url_rest(wsi, req->path, url, n, sizeof url); /* the same path and query there */
        http_redirect(wsi, req, 307, url); /* RFC 9110 §15.4.8: POSTed again, body and all */
        return;
    }
    char *answer;
    struct session_req q = {room_name, req->body, whep, role, name, &want, false};
    struct reg_resource *r = session_open(srv, &q, &answer, &e, reason, sizeof reason);
    if (!r) {
        fail(srv, wsi, req, e, 0, "%s", reason);
        return;
    }
    struct reg_room *room = r->room;
    audit_log(srv, &who, whep ? "whep" : "whip", room->name, "session %s", r->id);
    CR_INFO("whip", "%s session %s in room %s (peer %llu)", whep ? "WHEP" : "WHIP", r->id,
            room->name, (unsigned long long)r->peer.id);
    char location[DIR_URL_MAX + 160], etag[40];
    /* in a cluster the resource's URL names this node: the client may have come through a
     * redirect, and its PATCH and DELETE must reach the node that holds the session */
    snprintf(location, sizeof location, "%s/%s/%s/%s", dir_url(srv->dir), whep ? "whep" : "whip",
             room->name, r->id);
    snprintf(etag, sizeof etag, "\"%s\"", r->id);
    http_respond(wsi, req, 201, "application/sdp", answer, strlen(answer));
    http_add_header(req, "Location", location);
    http_add_header(req, "ETag", etag);
    http_add_header(req, "Accept-Patch", "application/trickle-ice-sdpfrag");
    struct turn_cred turn;
    if (turn_issue(srv, r->id, &turn) == 0) /* RFC 9725 §4.6: for an ICE restart's gathering */
        turn_each_link(srv->cfg, &turn, add_link, req);
}

/* RFC 8840 §9: a=ice-ufrag/a=ice-pwd, then per m-line a=mid and a=candidate lines. */
static void session_patch(struct server *srv, struct lws *wsi, struct http_req *req,
                          struct reg_resource *r)
{
    if (strcmp(req->content_type, "application/trickle-ice-sdpfrag") != 0) {
        fail(srv, wsi, req, SRV_ERR_BAD_REQUEST, 0,
             "Content-Type must be application/trickle-ice-sdpfrag (got \"%s\")",
             req->content_type);
        return;
    }
    const char *body = req->body ? req->body : "";
    size_t pos = 0, n;
    const char *line;
    /* first pass: refuse an ICE restart before feeding anything */
    while (sdpscan_next_line(body, req->body_len, &pos, &line, &n)) {
        if (sdpscan_has_prefix(line, n, "a=ice-ufrag:") && r->ice_ufrag[0] &&
            (n - 12 != strlen(r->ice_ufrag) || memcmp(line + 12, r->ice_ufrag, n - 12) != 0)) {
            fail(srv, wsi, req, SRV_ERR_BAD_REQUEST, 422, "ICE restarts are not supported");
            return;
        }
    }
    char mid[CR_MID_MAX] = "", cand[1100];
    int fed = 0;
    pos = 0;
    while (sdpscan_next_line(body, req->body_len, &pos, &line, &n)) {
        int rc = 0;
        if (sdpscan_has_prefix(line, n, "a=mid:") && n - 6 < sizeof mid) {
            memcpy(mid, line + 6, n - 6);
            mid[n - 6] = '\0';
        } else if (sdpscan_has_prefix(line, n, "a=candidate:") && n - 2 < sizeof cand) {
            memcpy(cand, line + 2, n - 2);
            cand[n - 2] = '\0';
            rc = cr_relay_peer_candidate(srv->relay, r->peer.id, mid, cand);
            fed++;
        } else if (sdpscan_has_prefix(line, n, "a=end-of-candidates")) {
            rc = cr_relay_peer_candidate(srv->relay, r->peer.id, mid, NULL);
        }
        if (rc == CR_ERR_NOT_FOUND) {
            fail(srv, wsi, req, SRV_ERR_NOT_FOUND, 0, "the session is gone");
            return;
        }
        if (rc != 0)
            CR_LOG_RATE(CR_LOG_WARN, "whip", "session %s: candidate refused (%d)", r->id, rc);
    }
    CR_DEBUG("whip", "session %s: %d trickled candidates", r->id, fed);
    http_respond(wsi, req, 204, NULL, NULL, 0);
}

void whip_handle(struct server *srv, struct lws *wsi, struct http_req *req)
{
    bool whep = strncmp(req->path, "/whep/", 6) == 0;
    char room_name[REG_ROOM_MAX + 1], id[REG_ID_MAX];
    const char *rest = req->path + 6, *slash = strchr(rest, '/');
    size_t room_len = slash ? (size_t)(slash - rest) : strlen(rest);
    if (room_len == 0 || room_len > REG_ROOM_MAX) {
        fail(srv, wsi, req, SRV_ERR_NOT_FOUND, 0, "expected /%s/<room>[/<session>]",
             whep ? "whep" : "whip");
        return;
    }
    memcpy(room_name, rest, room_len);
    room_name[room_len] = '\0';
    if (!reg_room_name_ok(room_name)) {
        fail(srv, wsi, req, SRV_ERR_BAD_REQUEST, 0,
             "a room name is 1 to 64 letters, digits, '-' or '_'");
        return;
    }
    CR_LOG_SCOPE(room_name, 0, slash ? slash + 1 : NULL); /* log lines name room and session */
    if (!slash) {
        if (req->method == LWSHUMETH_POST) {
            session_create(srv, wsi, req, room_name, whep);
        } else {
            fail(srv, wsi, req, SRV_ERR_BAD_REQUEST, 405, "use POST with an SDP offer");
            http_add_header(req, "Allow", "OPTIONS, POST");
        }
        return;
    }
    struct reg_room *room = reg_room_find(srv->reg, room_name);
    struct reg_resource *r = NULL;
    if (room && strlen(slash + 1) < sizeof id) {
        snprintf(id, sizeof id, "%s", slash + 1);
        r = reg_resource_find(room, id, whep);
    }
    if (!r) {
        fail(srv, wsi, req, SRV_ERR_NOT_FOUND, 0, "no such session");
        return;
    }
    if (req->method == LWSHUMETH_DELETE) {
        session_close(srv, r);
        http_respond(wsi, req, 200, NULL, NULL, 0);
    } else if (req->method == LWSHUMETH_PATCH) {
        session_patch(srv, wsi, req, r);
    } else {
        fail(srv, wsi, req, SRV_ERR_BAD_REQUEST, 405, "use PATCH or DELETE on a session");
        http_add_header(req, "Allow", "OPTIONS, PATCH, DELETE");
    }
}
