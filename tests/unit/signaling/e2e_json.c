/* The JSON side of the end-to-end fixture (#included after e2e_client.c by the tests of
 * the websocket protocol): a client that sends requests and reads replies, keeping the
 * events that arrive in between for later checks. */
#include <jansson.h>
#include <limits.h>

#define NULL_ID LLONG_MIN /* a reply with "id":null */

struct client {
    int fd;
    json_t *events; /* events read while waiting for a reply, oldest first */
};

/* Reads the next JSON message; NULL on timeout, close or a message that is not JSON. */
E2E_FN json_t *next_msg(struct client *c, int timeout_ms)
{
    int opcode = -1;
    char *text = e2e_ws_read(c->fd, timeout_ms, &opcode);
    if (!text)
        return NULL;
    CHECK_EQ(opcode, WS_TEXT);
    json_error_t jerr;
    json_t *m = json_loads(text, 0, &jerr);
    if (!m || !json_is_object(m))
        fprintf(stderr, "not a JSON object from the server: %s\n", text);
    CHECK(m && json_is_object(m));
    free(text);
    return m;
}

E2E_FN bool client_open(struct client *c)
{
    c->fd = e2e_ws_open();
    c->events = json_array();
    CHECK(c->fd >= 0);
    return c->fd >= 0;
}

E2E_FN void client_close(struct client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    json_decref(c->events);
    c->events = NULL;
}

/* The reply to id (NULL_ID: "id":null), keeping events read on the way. */
E2E_FN json_t *await_reply(struct client *c, long long id)
{
    for (;;) {
        json_t *m = next_msg(c, E2E_TIMEOUT_MS);
        if (!m) {
            fprintf(stderr, "no reply to id %lld\n", id);
            CHECK(!"a reply");
            return NULL;
        }
        const char *type = json_string_value(json_object_get(m, "type"));
        if (type && strcmp(type, "event") == 0) {
            json_array_append_new(c->events, m);
            continue;
        }
        CHECK(type && strcmp(type, "reply") == 0);
        json_t *rid = json_object_get(m, "id");
        bool match = id == NULL_ID ? json_is_null(rid) : json_integer_value(rid) == id;
        if (!match) {
            char *text = json_dumps(m, 0);
            fprintf(stderr, "expected the reply to %lld, got %s\n", id, text);
            free(text);
        }
        CHECK(match);
        CHECK(json_is_boolean(json_object_get(m, "ok")));
        return m;
    }
}

/* The next event called name (from those kept, or read now); NULL after the timeout. */
E2E_FN json_t *await_event(struct client *c, const char *name, int timeout_ms)
{
    for (size_t i = 0; i < json_array_size(c->events); i++) {
        json_t *e = json_array_get(c->events, i);
        if (strcmp(json_string_value(json_object_get(e, "event")), name) == 0) {
            json_incref(e);
            json_array_remove(c->events, i);
            return e;
        }
    }
    int64_t deadline = e2e_now_ms() + timeout_ms;
    while (e2e_now_ms() < deadline) {
        json_t *m = next_msg(c, (int)(deadline - e2e_now_ms()));
        if (!m)
            return NULL;
        const char *ev = json_string_value(json_object_get(m, "event"));
        if (ev && strcmp(ev, name) == 0)
            return m;
        if (ev)
            json_array_append_new(c->events, m);
        else
            json_decref(m); /* a stray reply: the caller's checks will miss it */
    }
    return NULL;
}

E2E_FN json_t *call(struct client *c, const char *text, long long id)
{
    CHECK_EQ(e2e_ws_text(c->fd, text), 0);
    return await_reply(c, id);
}

E2E_FN const char *code_of(json_t *r)
{
    const char *s = json_string_value(json_object_get(json_object_get(r, "error"), "code"));
    return s ? s : "";
}

E2E_FN const char *message_of(json_t *r)
{
    const char *s = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
    return s ? s : "";
}

/* Sends text and expects an ok reply to id (returned: the caller frees it). */
E2E_FN json_t *expect_ok(struct client *c, const char *text, long long id)
{
    json_t *r = call(c, text, id);
    if (r && !json_is_true(json_object_get(r, "ok"))) {
        char *dump = json_dumps(r, 0);
        fprintf(stderr, "expected ok for %.200s, got %s\n", text, dump);
        free(dump);
    }
    CHECK(r && json_is_true(json_object_get(r, "ok")));
    return r;
}

/* Sends a JSON value built with json_pack (stolen). */
E2E_FN json_t *call_json(struct client *c, json_t *msg, long long id)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    json_t *r = call(c, text, id);
    free(text);
    return r;
}
