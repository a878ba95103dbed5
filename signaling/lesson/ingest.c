/* The RTSP ingest controller: see ingest.h. The child's protocol is in recorder/ingest.c and
 * docs/recording.md. RFC 8445 §5.1.1 for the host candidate added to the child's answer. */
#include "lesson/ingest.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/redact.h"
#include "lesson/child.h"
#include "lesson/evq.h"
#include "lesson/rooms.h"
#include "lesson/session.h"
#include "store/rtsp_url.h"

#define PING_INTERVAL_MS 5000
#define HANG_AFTER_MS 15000
#define BACKOFF_MAX_S 10
#define STOP_WAIT_MS 2000
#define SOURCE_NAME "RTSP camera"

struct ing {
    struct ing *next;
    char room[REG_ROOM_MAX + 1];
    char *url;                    /* owned, secret: only ever written to the child's stdin */
    char shown[RTSP_URL_MAX + 8]; /* the URL redacted */
    struct child *child;          /* owned; NULL while down */
    char state[16];
    char message[256];
    bool connected;           /* the child's peer connection is up */
    char session[REG_ID_MAX]; /* the resource publishing; "" none */
    int64_t since_ms;         /* wall clock of the last change of state */
    int64_t restart_at_ms;    /* monotonic: when a dead child is started again */
    unsigned backoff_s, restarts;
    int64_t last_ping_ms, last_pong_ms;
    uint64_t ping_seq;
};

struct ingest_ctl {
    struct server *srv; /* borrowed */
    char bin[CONFIG_PATH_MAX];
    struct ing *list; /* owned */
};

static struct ing *find(struct ingest_ctl *ctl, const char *room)
{
    for (struct ing *g = ctl->list; g; g = g->next)
        if (strcmp(g->room, room) == 0)
            return g;
    return NULL;
}

static json_t *state_json(const struct ing *g)
{
    return json_pack("{s:s, s:s, s:s?, s:b, s:I, s:i, s:s?}", "url", g->shown, "state", g->state,
                     "message", g->message[0] ? g->message : NULL, "connected", g->connected,
                     "since_ms", (json_int_t)g->since_ms, "restarts", (int)g->restarts, "session",
                     g->session[0] ? g->session : NULL);
}

/* A new state (message may be NULL), logged and told to the room. */
static void set_state(struct ingest_ctl *ctl, struct ing *g, const char *state, const char *message)
{
    char text[sizeof g->message];
    cr_redact_userinfo(message ? message : "", text, sizeof text);
    if (strcmp(g->state, state) == 0 && strcmp(g->message, text) == 0)
        return;
    snprintf(g->state, sizeof g->state, "%s", state);
    snprintf(g->message, sizeof g->message, "%s", text);
    g->since_ms = cr_wall_ms();
    CR_INFO("ingest", "room %s: %s %s%s%s", g->room, g->shown, state, text[0] ? ": " : "", text);
    struct reg_room *room = reg_room_find(ctl->srv->reg, g->room);
    if (room)
        rooms_event(ctl->srv, room,
                    json_pack("{s:s, s:s, s:o}", "type", "event", "event", "ingest", "ingest",
                              state_json(g)));
}

static void send_cmd(struct ing *g, json_t *cmd)
{
    char *line = json_dumps(cmd, JSON_COMPACT);
    json_decref(cmd);
    if (g->child && line && child_write_line(g->child, line) != 0) {
        CR_WARN("ingest", "room %s: the ingest does not take commands: killing it", g->room);
        child_signal(g->child, SIGKILL); /* its exit event restarts it */
    }
    free(line);
}

/* Closes the session the child published, if the server has not already. */
static void close_session(struct ingest_ctl *ctl, struct ing *g)
{
    struct reg_room *room = g->session[0] ? reg_room_find(ctl->srv->reg, g->room) : NULL;
    struct reg_resource *r = room ? reg_resource_find(room, g->session, false) : NULL;
    if (r)
        session_close(ctl->srv, r);
    g->session[0] = '\0';
    g->connected = false;
}

static void spawn(struct ingest_ctl *ctl, struct ing *g, int64_t now_ms)
{
    char *argv[] = {ctl->bin, "ingest", NULL};
    g->child = child_spawn(ctl->srv, argv, 0, true);
    g->last_ping_ms = g->last_pong_ms = now_ms;
    if (!g->child) {
        g->restart_at_ms = now_ms + 1000 * BACKOFF_MAX_S;
        set_state(ctl, g, "restarting", "the ingest process cannot start");
        return;
    }
    set_state(ctl, g, "starting", NULL);
}

/* ---- the answer ---- */

/* The port of the answer's first UDP host candidate ("a=candidate:F C udp P ADDR PORT typ
 * host"); whether a UDP candidate is on ip already. */
static int udp_port(const char *sdp, const char *ip, bool *has_ip)
{
    int port = 0;
    *has_ip = false;
    for (const char *l = strstr(sdp, "a=candidate:"); l; l = strstr(l + 1, "a=candidate:")) {
        char proto[8], addr[64];
        int p = 0;
        if (sscanf(l, "a=candidate:%*s %*s %7s %*s %63s %d typ host", proto, addr, &p) != 3 ||
            strcasecmp(proto, "udp") != 0)
            continue;
        if (!port)
            port = p;
        *has_ip |= strcmp(addr, ip) == 0;
    }
    return port;
}

/* The child reaches the relay on ip (its only ICE address). An answer that does not list ip
 * (public_ip announced in its place) gets a host candidate there, on the shared media port,
 * which is bound on every local address: the ingest never hairpins through a NAT. */
static char *answer_for_child(struct server *srv, char *sdp, const char *ip)
{
    bool has_ip;
    int port = udp_port(sdp, ip, &has_ip);
    const char *end = strstr(sdp, "a=end-of-candidates");
    if (has_ip || !port || !end || !srv->cfg->media_port)
        return sdp;
    char line[128];
    int n =
        snprintf(line, sizeof line, "a=candidate:99 1 udp 2130706431 %s %d typ host\r\n", ip, port);
    size_t head = (size_t)(end - sdp), len = strlen(sdp);
    char *out = cr_malloc(len + (size_t)n + 1);
    memcpy(out, sdp, head);
    memcpy(out + head, line, (size_t)n);
    memcpy(out + head + n, end, len - head + 1);
    free(sdp);
    return out;
}

static const char *child_ip(const struct server *srv)
{
    return srv->cfg->bind_ip[0] ? srv->cfg->bind_ip : "127.0.0.1";
}

/* The child's offer: published as the room's teacher, the answer sent back. */
static void on_offer(struct ingest_ctl *ctl, struct ing *g, const char *sdp)
{
    close_session(ctl, g); /* a new child: its predecessor's session is over */
    struct session_req q = {g->room, sdp, false, REG_TEACHER, SOURCE_NAME, NULL, false};
    char *answer = NULL, why[256];
    enum srv_err e;
    struct reg_resource *r = session_open(ctl->srv, &q, &answer, &e, why, sizeof why);
    if (!r) {
        set_state(ctl, g, "restarting", why);
        child_signal(g->child, SIGKILL);
        return;
    }
    snprintf(g->session, sizeof g->session, "%s", r->id);
    CR_INFO("ingest", "room %s: %s publishes as session %s (peer %llu)", g->room, g->shown, r->id,
            (unsigned long long)r->peer.id);
    answer = answer_for_child(ctl->srv, answer, child_ip(ctl->srv));
    send_cmd(g, json_pack("{s:s, s:s}", "cmd", "answer", "sdp", answer));
    free(answer);
}

/* ---- the child's events ---- */

static void on_source(struct ingest_ctl *ctl, struct ing *g, json_t *ev)
{
    const char *state = json_string_value(json_object_get(ev, "state")) ?: "";
    char text[256] = "";
    if (strcmp(state, "lost") == 0) {
        snprintf(text, sizeof text, "%s; trying again in %lld s",
                 json_string_value(json_object_get(ev, "message")) ?: "lost",
                 (json_integer_value(json_object_get(ev, "retry_ms")) + 999) / 1000);
    } else if (strcmp(state, "playing") == 0) {
        const char *a = json_string_value(json_object_get(ev, "audio")) ?: "";
        snprintf(text, sizeof text, "video %s, audio %s",
                 json_string_value(json_object_get(ev, "video")) ?: "", a[0] ? a : "none");
        g->backoff_s = 0;
    } else if (strcmp(state, "connecting") != 0) {
        return;
    }
    set_state(ctl, g, state, text);
}

static void on_line(struct ingest_ctl *ctl, struct ing *g, const char *line)
{
    json_t *ev = json_loads(line, 0, NULL);
    const char *type = json_string_value(json_object_get(ev, "event"));
    if (!type) {
        CR_LOG_RATE(CR_LOG_WARN, "ingest", "room %s: the ingest said something unexpected",
                    g->room);
    } else if (strcmp(type, "ready") == 0) {
        send_cmd(g, json_pack("{s:s, s:s, s:s}", "cmd", "start", "url", g->url, "ice_ip",
                              child_ip(ctl->srv)));
    } else if (strcmp(type, "source") == 0) {
        on_source(ctl, g, ev);
    } else if (strcmp(type, "offer") == 0) {
        on_offer(ctl, g, json_string_value(json_object_get(ev, "sdp")) ?: "");
    } else if (strcmp(type, "connection") == 0) {
        const char *st = json_string_value(json_object_get(ev, "state")) ?: "";
        g->connected = strcmp(st, "connected") == 0;
        CR_INFO("ingest", "room %s: peer connection %s", g->room, st);
    } else if (strcmp(type, "error") == 0) {
        char text[256];
        cr_redact_userinfo(json_string_value(json_object_get(ev, "message")) ?: "?", text,
                           sizeof text);
        CR_WARN("ingest", "room %s: %s", g->room, text);
        if (json_is_true(json_object_get(ev, "fatal")))
            set_state(ctl, g, "restarting", text);
    } else if (strcmp(type, "pong") == 0) {
        g->last_pong_ms = cr_now_ms();
    }
    json_decref(ev);
}

static void on_child_exit(struct ingest_ctl *ctl, struct ing *g, int status)
{
    child_free(g->child, 0);
    g->child = NULL;
    close_session(ctl, g);
    g->restarts++;
    g->backoff_s = g->backoff_s ? g->backoff_s * 2 : 1;
    if (g->backoff_s > BACKOFF_MAX_S)
        g->backoff_s = BACKOFF_MAX_S;
    g->restart_at_ms = cr_now_ms() + 1000 * (int64_t)g->backoff_s;
    char why[160];
    if (WIFSIGNALED(status))
        snprintf(why, sizeof why, "the ingest process was killed by signal %d; again in %u s",
                 WTERMSIG(status), g->backoff_s);
    else
        snprintf(why, sizeof why, "the ingest process exited with status %d; again in %u s",
                 WEXITSTATUS(status), g->backoff_s);
    set_state(ctl, g, "restarting", why);
}

bool ingest_on_child(struct ingest_ctl *ctl, const struct evq_item *it)
{
    for (struct ing *g = ctl ? ctl->list : NULL; g; g = g->next) {
        if (!g->child || g->child->id != it->child_id)
            continue;
        if (it->type == EVQ_CHILD_LINE)
            on_line(ctl, g, it->line);
        else
            on_child_exit(ctl, g, it->status);
        return true;
    }
    return false;
}

/* ---- the module ---- */

static void ing_free(struct ingest_ctl *ctl, struct ing *g)
{
    child_free(g->child, STOP_WAIT_MS);
    if (!ctl->srv->shutting_down)
        close_session(ctl, g);
    free(g->url);
    free(g);
}

struct ingest_ctl *ingest_new(struct server *srv, const char *bin)
{
    struct ingest_ctl *ctl = CR_NEW(struct ingest_ctl);
    ctl->srv = srv;
    snprintf(ctl->bin, sizeof ctl->bin, "%s", bin ? bin : "");
    return ctl;
}

void ingest_free(struct ingest_ctl *ctl)
{
    if (!ctl)
        return;
    while (ctl->list) {
        struct ing *g = ctl->list;
        ctl->list = g->next;
        ing_free(ctl, g);
    }
    free(ctl);
}

int ingest_start(struct ingest_ctl *ctl, const char *room, const char *url, enum srv_err *e,
                 char *why, size_t cap)
{
    *e = SRV_ERR_BAD_REQUEST;
    if (!rtsp_url_ok(url, why, cap))
        return -1;
    if (!ctl->bin[0]) {
        *e = SRV_ERR_INTERNAL;
        snprintf(why, cap, "classrelay-recorder was not found beside the server (set --recorder)");
        return -1;
    }
    ingest_stop(ctl, room);
    struct ing *g = CR_NEW(struct ing);
    snprintf(g->room, sizeof g->room, "%s", room);
    g->url = cr_strdup(url);
    cr_redact_userinfo(url, g->shown, sizeof g->shown);
    g->next = ctl->list;
    ctl->list = g;
    CR_INFO("ingest", "room %s: source %s", room, g->shown);
    spawn(ctl, g, cr_now_ms());
    return 0;
}

bool ingest_stop(struct ingest_ctl *ctl, const char *room)
{
    for (struct ing **pp = ctl ? &ctl->list : NULL; pp && *pp; pp = &(*pp)->next) {
        struct ing *g = *pp;
        if (strcmp(g->room, room) != 0)
            continue;
        *pp = g->next;
        CR_INFO("ingest", "room %s: source %s stopped", room, g->shown);
        ing_free(ctl, g);
        struct reg_room *r = reg_room_find(ctl->srv->reg, room);
        if (r && !ctl->srv->shutting_down) /* the pages take the source away */
            rooms_event(ctl->srv, r,
                        json_pack("{s:s, s:s, s:n}", "type", "event", "event", "ingest", "ingest"));
        return true;
    }
    return false;
}

json_t *ingest_json(struct ingest_ctl *ctl, const char *room)
{
    struct ing *g = ctl ? find(ctl, room) : NULL;
    return g ? state_json(g) : NULL;
}

static void tick_one(struct ingest_ctl *ctl, struct ing *g, int64_t now_ms)
{
    if (!g->child) {
        if (now_ms >= g->restart_at_ms)
            spawn(ctl, g, now_ms);
        return;
    }
    if (g->session[0]) { /* the server closed it (peer failed, never connected): start anew */
        struct reg_room *room = reg_room_find(ctl->srv->reg, g->room);
        if (!room || !reg_resource_find(room, g->session, false)) {
            g->session[0] = '\0';
            CR_WARN("ingest", "room %s: its session was closed: restarting the ingest", g->room);
            child_signal(g->child, SIGKILL);
            return;
        }
    }
    if (now_ms - g->last_ping_ms >= PING_INTERVAL_MS) {
        g->last_ping_ms = now_ms;
        send_cmd(g, json_pack("{s:s, s:I}", "cmd", "ping", "seq", (json_int_t)++g->ping_seq));
    }
    if (now_ms - g->last_pong_ms > HANG_AFTER_MS) {
        CR_ERROR("ingest", "room %s: the ingest has not answered for %d s: killing it", g->room,
                 HANG_AFTER_MS / 1000);
        g->last_pong_ms = now_ms;
        child_signal(g->child, SIGKILL);
    }
}

void ingest_tick(struct ingest_ctl *ctl, int64_t now_ms)
{
    for (struct ing *g = ctl ? ctl->list : NULL; g; g = g->next)
        tick_one(ctl, g, now_ms);
}
