/* The recordings REST API: see rest_recordings.h and docs/recording.md (the replay files
 * are rest_replay.c's).
 *
 * JSON in and out (jansson), errors as docs/protocol.md's {"error":{"code","message"}},
 * counted like every other handler's. The API answers 503 when the catalogue database did
 * not open (the live lesson runs on without it). Deleting a recording removes its row (and
 * notes) first, then its folder DATA/recordings/<id> (lesson/recording.h; in a cluster the
 * node that holds it removes its own); ids reach the file system only after
 * rest_recording_id_ok(), so no id names anything outside DATA/recordings. */
#include "front/rest_recordings.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/rest_auth.h"
#include "access/auth.h"
#include "base/log.h"
#include "lesson/recording.h"
#include "store/catalog.h"

#define API_PREFIX "/api/v1/recordings"
#define ID_MAX 128

bool rest_recording_id_ok(const char *id, size_t len)
{
    if (len == 0 || len > ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!isalnum(c) && c != '_' && c != '-')
            return false;
    }
    return true;
}

static void respond_method(struct server *srv, struct lws *wsi, struct http_req *req,
                           const char *allow)
{
    http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST, "method not allowed");
    req->status = 405;
    http_add_header(req, "Allow", allow);
}

static void respond_no_content(struct lws *wsi, struct http_req *req)
{
    http_respond(wsi, req, 204, NULL, NULL, 0);
    http_add_header(req, "Cache-Control", "no-store");
}

/* JSON, never cached: the catalogue changes under it. */
static void respond_json(struct lws *wsi, struct http_req *req, int status, json_t *v)
{
    http_respond_json(wsi, req, status, v);
    http_add_header(req, "Cache-Control", "no-store");
}

/* v (200), or 404 when the catalogue found no such recording (v NULL). */
static void respond_found(struct server *srv, struct lws *wsi, struct http_req *req, json_t *v)
{
    if (v)
        respond_json(wsi, req, 200, v);
    else
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such recording");
}

static void respond_cat_error(struct server *srv, struct lws *wsi, struct http_req *req, int rc,
                              const char *what)
{
    switch (rc) {
    case CAT_ERR_NOT_FOUND:
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, what);
        break;
    case CAT_ERR_BUSY:
        http_respond_error(srv, wsi, req, SRV_ERR_CONFLICT,
                           "the recording is still being recorded or packaged");
        break;
    case CAT_ERR_ARG:
        http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST, "a value is out of range");
        break;
    default:
        http_respond_error(srv, wsi, req, SRV_ERR_INTERNAL, "the catalogue database failed");
    }
}

/* ---- GET /api/v1/recordings ---- */

static bool parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!isdigit((unsigned char)s[0]) && !(s[0] == '-' && isdigit((unsigned char)s[1])))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Fills f from the query string (lws has decoded it); copies the text values into buf.
 * NULL, or the name of the argument that is wrong. */
static const char *read_filter(struct lws *wsi, struct cat_filter *f, char buf[6][512])
{
    static const char *const text_args[] = {"room", "teacher", "q", "state"};
    const char **text_dst[] = {&f->room, &f->teacher, &f->q, &f->state};
    memset(f, 0, sizeof *f);
    char arg[600];
    int n_text = 0;
    for (int i = 0; lws_hdr_copy_fragment(wsi, arg, sizeof arg, WSI_TOKEN_HTTP_URI_ARGS, i) >= 0;
         i++) {
        char *eq = strchr(arg, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *v = eq + 1;
        int64_t num;
        bool known = false;
        for (int t = 0; t < 4; t++) {
            if (strcmp(arg, text_args[t]) != 0)
                continue;
            known = true;
            if (!v[0])
                break; /* an empty value: no condition */
            if (strlen(v) >= sizeof buf[0] || n_text == 6)
                return text_args[t];
            snprintf(buf[n_text], sizeof buf[0], "%s", v);
            *text_dst[t] = buf[n_text++];
        }
        if (known || !v[0])
            continue;
        if (strcmp(arg, "from") == 0 || strcmp(arg, "to") == 0) {
            if (!parse_i64(v, 0, INT64_MAX, &num))
                return arg[0] == 'f' ? "from" : "to";
            *(arg[0] == 'f' ? &f->from_ms : &f->to_ms) = num;
        } else if (strcmp(arg, "limit") == 0) {
            if (!parse_i64(v, 1, 500, &num))
                return "limit";
            f->limit = (int)num;
        } else if (strcmp(arg, "offset") == 0) {
            if (!parse_i64(v, 0, 1000000000, &num))
                return "offset";
            f->offset = (int)num;
        }
    }
    if (f->state && strcmp(f->state, "recording") != 0 && strcmp(f->state, "packaging") != 0 &&
        strcmp(f->state, "ready") != 0 && strcmp(f->state, "failed") != 0)
        return "state";
    return NULL;
}

static void list(struct server *srv, struct lws *wsi, struct http_req *req)
{
    struct cat_filter f;
    char buf[6][512];
    const char *bad = read_filter(wsi, &f, buf);
    if (bad) {
        char why[128];
        snprintf(why, sizeof why,
                 "bad query argument \"%s\" (from/to: ms since the epoch, limit: 1..500, "
                 "offset >= 0, state: recording, packaging, ready or failed)",
                 bad);
        http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST, why);
        return;
    }
    json_t *recs = catalog_rec_list(srv->catalog, &f);
    if (recs)
        respond_json(wsi, req, 200, recs);
    else
        respond_cat_error(srv, wsi, req, CAT_ERR_DB, NULL);
}

/* ---- DELETE /api/v1/recordings/<id> ---- */

static void delete_recording(struct server *srv, struct lws *wsi, struct http_req *req,
                             const char *id)
{
    char holder[CAT_NODE_MAX];
    if (catalog_rec_node(srv->catalog, id, holder) != 0)
        holder[0] = '\0';
    int rc = catalog_rec_delete(srv->catalog, id);
    if (rc != 0) {
        respond_cat_error(srv, wsi, req, rc, "no such recording");
        return;
    }
    recording_deleted(srv->recording, id, holder); /* its files, here or on their holder */
    CR_INFO("recordings", "recording %s deleted", id);
    respond_no_content(wsi, req);
}

/* ---- notes ---- */

json_t *rest_note_in(const char *text, size_t len, struct cat_note *note, const char **why,
                     char *buf, size_t cap)
{
    json_error_t jerr;
    json_t *body = len ? json_loadb(text, len, 0, &jerr) : NULL;
    *why = NULL;
    if (!json_is_object(body)) {
        snprintf(buf, cap, "the body must be a JSON object%s%s", body || !len ? "" : ": ",
                 body || !len ? "" : jerr.text);
        json_decref(body);
        *why = buf;
        return NULL;
    }
    json_t *kind = json_object_get(body, "kind"), *at = json_object_get(body, "at_ms");
    json_t *words = json_object_get(body, "text"), *author = json_object_get(body, "author");
    if (kind && !json_is_string(kind))
        *why = "\"kind\" must be \"comment\", \"bookmark\" or \"chapter\"";
    else if (!json_is_integer(at) || json_integer_value(at) < 0)
        *why = "\"at_ms\" (an integer >= 0, the position in the lesson) is required";
    else if (!json_is_string(words))
        *why = "\"text\" (a string) is required";
    else if (author && !json_is_null(author) && !json_is_string(author))
        *why = "\"author\" must be a string";
    *note = (struct cat_note){
        .kind = kind ? json_string_value(kind) : "comment",
        .at_ms = json_integer_value(at),
        .text = json_string_value(words),
        .author = json_string_value(author),
    };
    return body;
}

static void add_note(struct server *srv, struct lws *wsi, struct http_req *req, const char *id)
{
    struct cat_note note;
    const char *why;
    char buf[256];
    json_t *body = rest_note_in(req->body, req->body_len, &note, &why, buf, sizeof buf);
    if (!body) {
        http_respond_error(srv, wsi, req, SRV_ERR_BAD_JSON, why);
        return;
    }
    json_t *out = NULL;
    int rc = why ? 0 : catalog_note_add(srv->catalog, id, &note, &out);
    json_decref(body);
    if (why || rc == CAT_ERR_ARG) {
        http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST,
                           why ? why
                               : "a note is a kind (comment, bookmark, chapter), an at_ms within "
                                 "the lesson, 1 to 2000 bytes of UTF-8 text and an author of at "
                                 "most 64 characters");
    } else if (rc != 0) {
        respond_cat_error(srv, wsi, req, rc, "no such recording");
    } else {
        char location[256];
        snprintf(location, sizeof location, API_PREFIX "/%s/notes/%" PRId64, id,
                 (int64_t)json_integer_value(json_object_get(out, "id")));
        respond_json(wsi, req, 201, out);
        http_add_header(req, "Location", location);
    }
}

static void notes(struct server *srv, struct lws *wsi, struct http_req *req, const char *id,
                  const char *note_id)
{
    bool get = req->method == LWSHUMETH_GET || req->method == LWSHUMETH_HEAD;
    if (!note_id && get) {
        respond_found(srv, wsi, req, catalog_note_list(srv->catalog, id));
    } else if (!note_id && req->method == LWSHUMETH_POST) {
        add_note(srv, wsi, req, id);
    } else if (!note_id) {
        respond_method(srv, wsi, req, "GET, HEAD, POST, OPTIONS");
    } else if (req->method != LWSHUMETH_DELETE) {
        respond_method(srv, wsi, req, "DELETE, OPTIONS");
    } else {
        int64_t n;
        int rc = parse_i64(note_id, 1, INT64_MAX, &n) ? catalog_note_delete(srv->catalog, id, n)
                                                      : CAT_ERR_NOT_FOUND;
        if (rc != 0)
            respond_cat_error(srv, wsi, req, rc, "no such note");
        else
            respond_no_content(wsi, req);
    }
}

void rest_recordings_api(struct server *srv, struct lws *wsi, struct http_req *req)
{
    const char *rest = req->path + strlen(API_PREFIX);
    bool get = req->method == LWSHUMETH_GET || req->method == LWSHUMETH_HEAD;
    bool del = req->method == LWSHUMETH_DELETE, notes_path = strstr(rest, "/notes") != NULL;
    enum perm_action need = get          ? PERM_RECORDINGS_READ
                            : notes_path ? PERM_NOTES_WRITE
                            : del        ? PERM_RECORDINGS_DELETE
                                         : PERM_RECORDINGS_READ;
    struct principal who;
    if (!rest_auth(srv, wsi, req, need, false, &who))
        return;
    if (!srv->catalog) {
        http_respond_error(srv, wsi, req, SRV_ERR_UNAVAILABLE,
                           "recordings are unavailable: the catalogue database did not open");
        return;
    }
    if (rest[0] == '\0' || strcmp(rest, "/") == 0) {
        if (get)
            list(srv, wsi, req);
        else
            respond_method(srv, wsi, req, "GET, HEAD, OPTIONS");
        return;
    }
    /* /<id>[/notes[/<note-id>]] */
    char id[ID_MAX + 1], sub[16] = "", note_id[32] = "";
    const char *p = rest + 1, *slash = strchr(p, '/');
    size_t id_len = slash ? (size_t)(slash - p) : strlen(p);
    if (!rest_recording_id_ok(p, id_len)) {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such recording");
        return;
    }
    memcpy(id, p, id_len);
    id[id_len] = '\0';
    int n = slash ? sscanf(slash, "/%15[a-z]/%31[0-9]", sub, note_id) : 0;
    bool bare = !slash, whole = false;
    if (slash) { /* the pattern must cover the whole rest of the path */
        char again[64];
        snprintf(again, sizeof again, n == 2 ? "/%s/%s" : "/%s", sub, note_id);
        whole = n >= 1 && strcmp(again, slash) == 0 && strcmp(sub, "notes") == 0;
    }
    if (bare && get) {
        json_t *rec = catalog_rec_get(srv->catalog, id);
        if (rec)
            json_object_set_new(rec, "links", rest_replay_links(srv, id, rec, who.exp));
        respond_found(srv, wsi, req, rec);
    } else if (bare && req->method == LWSHUMETH_DELETE) {
        delete_recording(srv, wsi, req, id);
    } else if (bare) {
        respond_method(srv, wsi, req, "GET, HEAD, DELETE, OPTIONS");
    } else if (whole) {
        notes(srv, wsi, req, id, n == 2 ? note_id : NULL);
    } else {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such API endpoint");
    }
}
