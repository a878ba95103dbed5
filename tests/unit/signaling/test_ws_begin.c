/* Tests a websocket session begun over HTTP (front/rpc_begin.c, transport/ws_park.c;
 * docs/protocol.md "Joining in one request") against a real server in-process
 * (e2e_client.c): POST /ws refusals (method, bad JSON, not an array, too many messages);
 * a join and a ping in one request, answered with both replies and a key; the room told
 * of the new participant; an event queued while no websocket holds the session, then
 * delivered before the reply to resume; a key used twice; resume inside POST /ws; a
 * refused join (no key, nothing kept); a request sent twice with one Idempotency-Key (one
 * session, the same answer twice, 409 once taken over; a malformed key refused); a session
 * never taken over, closed by the sweep and gone from its room. */
#include <jansson.h>

#include "e2e_client.c"
#include "e2e_json.c"
#include "base/clock.h"
#include "transport/ws_park.h"

/* POST /ws with body; the parsed answer (status in *status). */
static json_t *begin(const char *body, int *status)
{
    struct e2e_response r;
    if (e2e_http("POST", "/ws", "Content-Type: application/json\r\n", body, strlen(body), &r) !=
        0) {
        CHECK(!"an answer to POST /ws");
        return NULL;
    }
    *status = r.status;
    json_t *v = json_loads(r.body, 0, NULL);
    e2e_response_free(&r);
    CHECK(v != NULL);
    return v;
}

static const char *error_code(json_t *v)
{
    return json_string_value(json_object_get(json_object_get(v, "error"), "code"));
}

static void test_refusals(void)
{
    struct e2e_response r;
    CHECK_EQ(e2e_http("PUT", "/ws", NULL, "[]", 2, &r), 0);
    CHECK_EQ(r.status, 405);
    e2e_response_free(&r);
    int status = 0;
    const struct {
        const char *body, *code;
    } bad[] = {
        {"[{\"type\":\"ping\"", "bad_json"},
        {"{\"type\":\"ping\",\"id\":1}", "bad_request"},
        {"[]", "bad_request"},
        {"[1,2,3,4,5,6,7,8,9]", "bad_request"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *v = begin(bad[i].body, &status);
        CHECK_EQ(status, 400);
        CHECK_STR(error_code(v), bad[i].code);
        json_decref(v);
    }
    CHECK_EQ(e2e_srv.n_parked, 0);
}

/* Every message of a begin answer is a reply or an event; the reply to id, borrowed. */
static json_t *reply_in(json_t *v, long long id)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(v, "messages"), i, m)
    {
        if (json_integer_value(json_object_get(m, "id")) == id &&
            strcmp(json_string_value(json_object_get(m, "type")), "reply") == 0)
            return m;
    }
    return NULL;
}

static void test_refused_join(void)
{
    int status = 0;
    json_t *v = begin(
        "[{\"type\":\"join\",\"id\":1,\"room\":\"no such/room\",\"role\":\"classroom\"}]", &status);
    CHECK_EQ(status, 200);
    CHECK(json_is_null(json_object_get(v, "resume")));
    json_t *r = reply_in(v, 1);
    CHECK(r && json_is_false(json_object_get(r, "ok")));
    CHECK_STR(error_code(r), "bad_request");
    json_decref(v);
    CHECK_EQ(e2e_srv.n_parked, 0);
}

/* A join and a ping in one request; returns the key (into key) and the participant id. */
static bool begin_join(const char *name, char *key, char *id)
{
    char body[512];
    snprintf(body, sizeof body,
             "[{\"v\":1,\"type\":\"join\",\"id\":1,\"room\":\"begin-1\",\"role\":\"classroom\","
             "\"name\":\"%s\"},{\"type\":\"ping\",\"id\":2}]",
             name);
    int status = 0;
    json_t *v = begin(body, &status);
    CHECK_EQ(status, 200);
    json_t *j = reply_in(v, 1), *p = reply_in(v, 2);
    const char *k = json_string_value(json_object_get(v, "resume"));
    const char *pid = json_string_value(json_object_get(json_object_get(j, "participant"), "id"));
    bool ok = j && json_is_true(json_object_get(j, "ok")) && p &&
              json_is_true(json_object_get(p, "ok")) && k && strlen(k) == WS_PARK_KEY_LEN && pid;
    CHECK(ok);
    CHECK(json_integer_value(json_object_get(v, "resume_within_ms")) == WS_PARK_MS);
    if (ok) {
        snprintf(key, WS_PARK_KEY_LEN + 1, "%s", k);
        snprintf(id, 32, "%s", pid);
    }
    json_decref(v);
    return ok;
}

static void test_begin_and_resume(struct client *a)
{
    json_decref(
        expect_ok(a, "{\"type\":\"join\",\"id\":1,\"room\":\"begin-1\",\"role\":\"teacher\"}", 1));
    char key[WS_PARK_KEY_LEN + 1], id[32];
    if (!begin_join("Hill school", key, id))
        return;
    json_t *ev = await_event(a, "participant_joined", E2E_TIMEOUT_MS);
    CHECK_STR(json_string_value(json_object_get(json_object_get(ev, "participant"), "name")),
              "Hill school");
    json_decref(ev);
    /* an event while no websocket holds the session: it waits for the one that resumes */
    json_decref(expect_ok(a, "{\"type\":\"chat\",\"id\":2,\"text\":\"welcome\"}", 2));

    struct client b;
    if (!client_open(&b))
        return;
    char text[128];
    snprintf(text, sizeof text, "{\"type\":\"resume\",\"id\":7,\"key\":\"%s\"}", key);
    json_t *r = expect_ok(&b, text, 7);
    CHECK_STR(json_string_value(json_object_get(json_object_get(r, "participant"), "id")), id);
    json_decref(r);
    ev = await_event(&b, "chat", 0); /* already read on the way to the reply */
    CHECK(ev && strcmp(json_string_value(json_object_get(ev, "text")), "welcome") == 0);
    json_decref(ev);
    CHECK(e2e_srv.parked && e2e_srv.parked->park_taken); /* listed, taken, for late repeats */
    /* the session goes on over the websocket: it is joined, and cannot be taken twice */
    r = call(&b, "{\"type\":\"join\",\"id\":8,\"room\":\"begin-1\",\"role\":\"classroom\"}", 8);
    CHECK_STR(error_code(r), "bad_request");
    json_decref(r);
    struct client c;
    if (client_open(&c)) {
        snprintf(text, sizeof text, "{\"type\":\"resume\",\"id\":9,\"key\":\"%s\"}", key);
        r = call(&c, text, 9);
        CHECK_STR(error_code(r), "not_found");
        json_decref(r);
        client_close(&c);
    }
    /* the websocket going away is the participant leaving */
    client_close(&b);
    ev = await_event(a, "participant_left", E2E_TIMEOUT_MS);
    CHECK_STR(json_string_value(json_object_get(json_object_get(ev, "participant"), "id")), id);
    json_decref(ev);
}

/* POST /ws with an Idempotency-Key header; the response (free it). */
static struct e2e_response begin_idem(const char *key, const char *body)
{
    char extra[256];
    snprintf(extra, sizeof extra, "Content-Type: application/json\r\nIdempotency-Key: %s\r\n", key);
    struct e2e_response r;
    if (e2e_http("POST", "/ws", extra, body, strlen(body), &r) != 0) {
        CHECK(!"an answer to POST /ws");
        memset(&r, 0, sizeof r);
    }
    return r;
}

static void test_repeats(void)
{
    const char *body = "[{\"type\":\"join\",\"id\":1,\"room\":\"begin-2\",\"role\":\"classroom\"}]";
    struct e2e_response r1 = begin_idem("k-1_A", body), r2 = begin_idem("k-1_A", body);
    CHECK_EQ(r1.status, 200);
    CHECK_EQ(r2.status, 200);
    CHECK(r1.body && r2.body && strcmp(r1.body, r2.body) == 0); /* the same session */
    CHECK_EQ(e2e_srv.n_parked, 1);
    CHECK_EQ(e2e_srv.counters.ws_begin_repeats, 1);
    json_t *v = json_loads(r1.body ? r1.body : "", 0, NULL);
    const char *key = json_string_value(json_object_get(v, "resume"));
    struct client c;
    if (key && client_open(&c)) {
        char text[128];
        snprintf(text, sizeof text, "{\"type\":\"resume\",\"id\":1,\"key\":\"%s\"}", key);
        json_decref(expect_ok(&c, text, 1));
        struct e2e_response r3 = begin_idem("k-1_A", body); /* late: refused, not joined again */
        CHECK_EQ(r3.status, 409);
        e2e_response_free(&r3);
        client_close(&c);
    }
    CHECK(key != NULL);
    json_decref(v);
    e2e_response_free(&r1);
    e2e_response_free(&r2);
    char long_key[80];
    memset(long_key, 'k', 65);
    long_key[65] = '\0';
    const char *bad[] = {"a.b", long_key};
    for (size_t i = 0; i < 2; i++) {
        struct e2e_response r = begin_idem(bad[i], body);
        CHECK_EQ(r.status, 400);
        e2e_response_free(&r);
    }
}

static void test_resume_not_in_post(void)
{
    int status = 0;
    json_t *v = begin(
        "[{\"type\":\"resume\",\"id\":1,\"key\":\"00000000000000000000000000000000\"}]", &status);
    CHECK_STR(error_code(reply_in(v, 1)), "bad_request");
    json_decref(v);
}

int main(void)
{
    if (e2e_start() != 0) {
        fprintf(stderr, "cannot start the server\n");
        return 1;
    }
    test_refusals();
    test_refused_join();
    test_resume_not_in_post();
    test_repeats();
    struct client a;
    if (client_open(&a))
        test_begin_and_resume(&a);
    /* a session never taken over: closed by the sweep, and gone from its room */
    char key[WS_PARK_KEY_LEN + 1], id[32];
    CHECK(begin_join("Valley school", key, id));
    CHECK_EQ(e2e_srv.n_parked, 3); /* and the two taken ones, listed for late repeats */
    client_close(&a);
    usleep(200 * 1000);
    e2e_stop_thread();
    ws_park_sweep(&e2e_srv, cr_now_ms() + WS_PARK_MS + 1);
    CHECK_EQ(e2e_srv.n_parked, 0);
    CHECK_EQ(e2e_srv.counters.ws_park_expired, 1);
    CHECK_EQ(e2e_srv.counters.ws_resumed, 2);
    CHECK(reg_room_find(e2e_srv.reg, "begin-1") == NULL); /* its last participant left */
    server_stop(&e2e_srv);
    return test_report();
}
