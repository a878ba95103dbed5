/* Helpers of the schedule's REST files (rest_sched_priv.h): the gate every request passes
 * (token, then the store), strict JSON bodies (RFC 8259 objects, duplicate names refused,
 * only the fields a resource has), query arguments, path ids, and store errors turned into
 * answers of docs/scheduling.md — a double booking as 409 "conflict" with the clashing
 * lessons. */
#include "front/rest_sched_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "front/rest_auth.h"

bool rsched_is_get(const struct http_req *req)
{
    return req->method == LWSHUMETH_GET || req->method == LWSHUMETH_HEAD;
}

bool rsched_gate(struct server *srv, struct lws *wsi, struct http_req *req, enum perm_action a,
                 bool own, struct principal *p)
{
    if (!rest_auth(srv, wsi, req, a, own, p))
        return false;
    if (!srv->store) {
        http_respond_error(srv, wsi, req, SRV_ERR_UNAVAILABLE,
                           "the schedule database is not available");
        return false;
    }
    return true;
}

void rsched_method(struct server *srv, struct lws *wsi, struct http_req *req, const char *allow)
{
    http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST, "method not allowed");
    req->status = 405;
    http_add_header(req, "Allow", allow);
}

void rsched_reply(struct lws *wsi, struct http_req *req, int status, json_t *v)
{
    http_respond_json(wsi, req, status, v);
    http_add_header(req, "Cache-Control", "no-store");
}

void rsched_created(struct lws *wsi, struct http_req *req, json_t *v, const char *location)
{
    rsched_reply(wsi, req, 201, v);
    http_add_header(req, "Location", location);
}

void rsched_no_content(struct lws *wsi, struct http_req *req)
{
    http_respond(wsi, req, 204, NULL, NULL, 0);
    http_add_header(req, "Cache-Control", "no-store");
}

void rsched_bad(struct server *srv, struct lws *wsi, struct http_req *req, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST, msg);
}

static json_t *conflicts_json(const struct st_err *e)
{
    json_t *a = json_array();
    for (int i = 0; i < e->n_conflicts && i < STORE_CONFLICTS_MAX; i++) {
        const struct st_conflict *c = &e->conflicts[i];
        json_t *o = json_pack("{s:I, s:s, s:I, s:I, s:s}", "lesson", (json_int_t)c->lesson_id,
                              "title", c->title, "start_ms", (json_int_t)c->start_ms, "end_ms",
                              (json_int_t)c->end_ms, "with", c->teacher ? "teacher" : "classroom");
        if (!o)
            continue; /* a title that is not UTF-8 cannot come from the store */
        if (!c->teacher)
            json_object_set_new(o, "classroom", json_integer(c->classroom_id));
        json_array_append_new(a, o);
    }
    return a;
}

void rsched_store_err(struct server *srv, struct lws *wsi, struct http_req *req, int rc,
                      const struct st_err *e, const char *not_found)
{
    const char *msg = e && e->msg[0] ? e->msg : NULL;
    switch (rc) {
    case STORE_ERR_NOT_FOUND:
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, msg ? msg : not_found);
        break;
    case STORE_ERR_ARG:
        http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST,
                           msg ? msg : "a value is out of range");
        break;
    case STORE_ERR_CONFLICT: {
        /* docs/scheduling.md: the message names the clash, "conflicts" lists them */
        srv_count_error(srv, SRV_ERR_CONFLICT);
        json_t *err = json_pack("{s:s, s:s}", "code", srv_err_code(SRV_ERR_CONFLICT), "message",
                                msg ? msg : "the lesson clashes with another one");
        json_object_set_new(err, "conflicts", e ? conflicts_json(e) : json_array());
        http_respond_json(wsi, req, 409, json_pack("{s:o}", "error", err));
        break;
    }
    case STORE_ERR_EXISTS:
        http_respond_error(srv, wsi, req, SRV_ERR_CONFLICT, msg ? msg : "the name is taken");
        break;
    case STORE_ERR_IN_USE:
        http_respond_error(srv, wsi, req, SRV_ERR_CONFLICT,
                           msg ? msg : "it is still in use and cannot be deleted");
        break;
    case STORE_ERR_DB: /* away (PostgreSQL restarting, unreachable): the client may retry */
        http_respond_error(srv, wsi, req, SRV_ERR_UNAVAILABLE,
                           "the schedule database is unavailable: try again shortly");
        http_add_header(req, "Retry-After", "5");
        break;
    default:
        http_respond_error(srv, wsi, req, SRV_ERR_INTERNAL, "the schedule database failed");
    }
}

bool rsched_id(const char *s, int64_t *out)
{
    if (s[0] < '1' || s[0] > '9')
        return false;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9')
            return false;
    }
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v <= 0)
        return false;
    *out = v;
    return true;
}

/* Length of the UTF-8 sequence led by byte c (1 for a stray byte). */
static size_t utf8_len(unsigned char c)
{
    if (c >= 0xF0 && c < 0xF8)
        return 4;
    if (c >= 0xE0)
        return c < 0xF0 ? 3 : 1;
    if (c >= 0xC0)
        return 2;
    return 1;
}

void rsched_clip(const char *s, size_t max_chars, char *out, size_t cap)
{
    size_t o = 0, chars = 0;
    if (cap == 0)
        return;
    while (*s && chars < max_chars) {
        unsigned char c = (unsigned char)*s;
        size_t n = utf8_len(c);
        for (size_t i = 1; i < n; i++) {
            if (((unsigned char)s[i] & 0xC0) != 0x80) {
                n = 1; /* broken sequence: replace its lead byte */
                c = '?';
                break;
            }
        }
        if (o + n + 1 > cap)
            break;
        if (n == 1) {
            out[o++] = (c < 0x20 || c == 0x7F || c >= 0x80) ? '?' : (char)c;
        } else {
            memcpy(out + o, s, n);
            o += n;
        }
        s += n;
        chars++;
    }
    out[o] = '\0';
}

static bool listed(const char *const *names, const char *key)
{
    for (; names && *names; names++) {
        if (strcmp(*names, key) == 0)
            return true;
    }
    return false;
}

json_t *rsched_body_parse(const char *text, size_t len, const char *what, const char *const *fields,
                          const char *const *readonly, enum srv_err *err, char *why, size_t cap)
{
    json_error_t jerr;
    json_t *body = len ? json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    *err = SRV_ERR_BAD_JSON;
    if (!json_is_object(body)) {
        snprintf(why, cap, "the body must be a JSON object (%s)",
                 !len   ? "it is empty"
                 : body ? "it is another JSON value"
                        : jerr.text);
        json_decref(body);
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (listed(fields, key))
            continue;
        char name[200], have[400] = "";
        rsched_clip(key, 64, name, sizeof name);
        for (const char *const *f = fields; *f; f++) {
            size_t n = strlen(have);
            snprintf(have + n, sizeof have - n, "%s%s", n ? ", " : "", *f);
        }
        *err = SRV_ERR_BAD_REQUEST;
        if (listed(readonly, key))
            snprintf(why, cap, "\"%s\" is read-only: leave it out", name);
        else
            snprintf(why, cap, "unknown field \"%s\" (%s has: %s)", name, what, have);
        json_decref(body);
        return NULL;
    }
    return body;
}

json_t *rsched_body(struct server *srv, struct lws *wsi, struct http_req *req, const char *what,
                    const char *const *fields, const char *const *readonly)
{
    char why[512];
    enum srv_err err;
    json_t *body =
        rsched_body_parse(req->body, req->body_len, what, fields, readonly, &err, why, sizeof why);
    if (!body)
        http_respond_error(srv, wsi, req, err, why);
    return body;
}

static bool note(struct rsched_in *in, const char *fmt, const char *name)
{
    if (!in->why[0])
        snprintf(in->why, sizeof in->why, fmt, name);
    return false;
}

/* The field, or NULL when absent (a problem if required). */
static json_t *field(struct rsched_in *in, const char *name, bool required)
{
    json_t *v = json_object_get(in->obj, name);
    if (!v && required)
        note(in, "\"%s\" is required", name);
    return v;
}

bool rsched_in_text(struct rsched_in *in, const char *name, bool required, char *dst, size_t cap)
{
    json_t *v = field(in, name, required);
    if (!v)
        return false;
    if (!json_is_string(v))
        return note(in, "\"%s\" must be a string", name);
    if (json_string_length(v) >= cap)
        return note(in, "\"%s\" is too long", name);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return true;
}

bool rsched_in_int(struct rsched_in *in, const char *name, bool required, int64_t *dst)
{
    json_t *v = field(in, name, required);
    if (!v)
        return false;
    if (!json_is_integer(v))
        return note(in, "\"%s\" must be an integer (milliseconds since the epoch)", name);
    *dst = json_integer_value(v);
    return true;
}

bool rsched_in_id(struct rsched_in *in, const char *name, bool required, bool nullable,
                  int64_t *dst)
{
    json_t *v = field(in, name, required);
    if (!v)
        return false;
    if (nullable && json_is_null(v)) {
        *dst = 0;
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) <= 0)
        return note(in,
                    nullable ? "\"%s\" must be an id (an integer > 0) or null"
                             : "\"%s\" must be an id (an integer > 0)",
                    name);
    *dst = json_integer_value(v);
    return true;
}

bool rsched_in_bool(struct rsched_in *in, const char *name, bool *dst)
{
    json_t *v = field(in, name, false);
    if (!v)
        return false;
    if (!json_is_boolean(v))
        return note(in, "\"%s\" must be true or false", name);
    *dst = json_is_true(v);
    return true;
}

bool rsched_in_failed(struct server *srv, struct lws *wsi, struct http_req *req,
                      const struct rsched_in *in)
{
    if (!in->why[0])
        return false;
    http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST, in->why);
    return true;
}

json_t *rsched_user_json(const struct st_user *u)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:b, s:I}", "id", (json_int_t)u->id, "username",
                          u->username, "name", u->name, "role", role_name(u->role), "disabled",
                          u->disabled, "created_ms", (json_int_t)u->created_ms);
    if (!o)
        return json_null();
    json_object_set_new(o, "classroom_id",
                        u->classroom_id ? json_integer(u->classroom_id) : json_null());
    return o;
}
