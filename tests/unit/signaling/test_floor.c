/* Tests the stage end to end (front/rpc_floor.c, lesson/floor.c against docs/protocol.md,
 * "The stage"): a real server in-process (e2e_client.c) with its relay, a teacher and two
 * classrooms speaking the websocket protocol. Classroom B publishes; classroom A
 * subscribes to the stage, the teacher to B's camera and microphone. What feeds each line
 * is read from the relay (cr_relay_peer_stats): B's hand reaches the teacher; calling B on
 * stage feeds A's stage lines and the teacher's B microphone; a single mute silences B's
 * microphone only; ending the turn empties A's lines; listening privately feeds the
 * teacher alone; B leaving takes it out of every list. Refusals: a classroom may not run
 * the stage, a teacher may not raise a hand, unknown participants and bad fields. The same
 * room over REST (front/rest_rooms.c): its participants and what they send, the stage
 * called and ended with an admin token, refused without one. A quick quiz: asked,
 * answered once per classroom, tallied for the teacher, closed for all. */
#include "e2e_client.c"
#include "e2e_json.c"

static struct client teacher, a, b;
static char a_id[REG_ID_MAX], b_id[REG_ID_MAX];

static void join(struct client *c, const char *role, char *id_out, long long id)
{
    char text[200];
    snprintf(text, sizeof text,
             "{\"type\":\"join\",\"id\":%lld,\"room\":\"demo\",\"role\":\"%s\",\"name\":\"%s\"}",
             id, role, role);
    json_t *r = expect_ok(c, text, id);
    if (id_out)
        snprintf(id_out, REG_ID_MAX, "%s",
                 json_string_value(json_object_get(json_object_get(r, "participant"), "id")));
    CHECK(json_is_object(json_object_get(r, "stage")));
    json_decref(r);
}

/* The subscribe peer of participant id, from the registry (the server is idle now). */
static uint64_t subscriber_peer(const char *id)
{
    struct reg_room *room = reg_room_find(e2e_srv.reg, "demo");
    struct reg_participant *p = room ? reg_participant_find(room, id) : NULL;
    return p ? p->peers[REG_SUBSCRIBE].id : 0;
}

/* The track feeding line mid of participant id's subscription (0: none). */
static uint64_t fed(const char *id, const char *mid)
{
    struct cr_peer_stats st;
    if (cr_relay_peer_stats(e2e_srv.relay, subscriber_peer(id), &st) != 0)
        return (uint64_t)-1;
    for (size_t i = 0; i < st.n_consumers; i++)
        if (strcmp(st.consumers[i].mid, mid) == 0)
            return st.consumers[i].track_id;
    return (uint64_t)-1;
}

static void expect_code(struct client *c, const char *text, long long id, const char *code)
{
    json_t *r = call(c, text, id);
    const char *got = code_of(r);
    if (strcmp(got, code) != 0)
        fprintf(stderr, "for %s: expected %s, got %s (%s)\n", text, code, got, message_of(r));
    CHECK_STR(got, code);
    json_decref(r);
}

/* The latest "stage" event c received (waiting for one), as its "stage" object's JSON. */
static char *stage_event(struct client *c)
{
    json_t *ev = await_event(c, "stage", E2E_TIMEOUT_MS), *later;
    while ((later = await_event(c, "stage", 150))) {
        json_decref(ev);
        ev = later;
    }
    CHECK(ev != NULL);
    char *s = ev ? json_dumps(json_object_get(ev, "stage"), JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(ev);
    return s ? s : strdup("");
}

static void test_stage(json_int_t mic, json_int_t camera)
{
    char text[300];
    /* A follows the stage on two lines; the teacher subscribes to B's tracks */
    char *offer = test_sdp_fixture("aiortc_offer.sdp", NULL);
    for (char *p = strstr(offer, "a=sendrecv"); p; p = strstr(p, "a=sendrecv"))
        memcpy(p, "a=recvonly", 10);
    json_t *r = call_json(&a,
                          json_pack("{s:s, s:i, s:s, s:{s:s, s:s}}", "type", "subscribe", "id", 10,
                                    "sdp", offer, "tracks", "0", "stage", "1", "stage"),
                          10);
    CHECK(r && json_is_true(json_object_get(r, "ok")));
    const char *answer = json_string_value(json_object_get(r, "sdp"));
    CHECK(answer && strstr(answer, "a=msid:cr-follow-") && !strstr(answer, "a=inactive"));
    CHECK(json_is_null(json_object_get(json_object_get(r, "tracks"), "0")));
    json_decref(r);
    r = call_json(&teacher,
                  json_pack("{s:s, s:i, s:s, s:{s:I, s:I}}", "type", "subscribe", "id", 11, "sdp",
                            offer, "tracks", "0", mic, "1", camera),
                  11);
    CHECK(r && json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    free(offer);
    CHECK_EQ(fed(a_id, "0"), 0);
    CHECK_EQ(fed(a_id, "1"), 0);
    CHECK_EQ(fed("p1", "0"), 0);      /* B's microphone: not on stage, not listened to */
    CHECK_EQ(fed("p1", "1"), camera); /* its camera: a tile on the teacher's grid */

    /* B raises its hand: everyone hears it */
    json_decref(expect_ok(&b, "{\"type\":\"hand\",\"id\":12}", 12));
    char *ev = stage_event(&teacher);
    CHECK(strstr(ev, b_id) && strstr(ev, "\"hands\":[{\"id\""));
    free(ev);

    /* the teacher calls B: A's stage lines and the teacher's B microphone are fed */
    snprintf(text, sizeof text, "{\"type\":\"stage\",\"id\":13,\"participant\":\"%s\"}", b_id);
    json_decref(expect_ok(&teacher, text, 13));
    ev = stage_event(&a);
    snprintf(text, sizeof text, "\"on\":[\"%s\"]", b_id);
    CHECK(strstr(ev, text) && strstr(ev, "\"hands\":[]") && !strstr(ev, "listen"));
    free(ev);
    CHECK_EQ(fed(a_id, "0"), mic);
    CHECK_EQ(fed(a_id, "1"), camera);
    CHECK_EQ(fed("p1", "0"), mic);

    /* a single mute silences B's microphone, not its camera */
    snprintf(text, sizeof text, "{\"type\":\"mute\",\"id\":14,\"participant\":\"%s\"}", b_id);
    json_decref(expect_ok(&teacher, text, 14));
    CHECK_EQ(fed(a_id, "0"), 0);
    CHECK_EQ(fed(a_id, "1"), camera);
    snprintf(text, sizeof text,
             "{\"type\":\"mute\",\"id\":15,\"participant\":\"%s\",\"muted\":false}", b_id);
    json_decref(expect_ok(&teacher, text, 15));
    CHECK_EQ(fed(a_id, "0"), mic);

    /* the turn ends: A's lines go quiet; the teacher listens to B privately */
    snprintf(text, sizeof text,
             "{\"type\":\"stage\",\"id\":16,\"participant\":\"%s\",\"on\":false}", b_id);
    json_decref(expect_ok(&teacher, text, 16));
    CHECK_EQ(fed(a_id, "0"), 0);
    CHECK_EQ(fed(a_id, "1"), 0);
    CHECK_EQ(fed("p1", "0"), 0);
    snprintf(text, sizeof text, "{\"type\":\"listen\",\"id\":17,\"participant\":\"%s\"}", b_id);
    r = expect_ok(&teacher, text, 17);
    CHECK_STR(json_string_value(json_object_get(json_object_get(r, "stage"), "listen")), b_id);
    json_decref(r);
    CHECK_EQ(fed("p1", "0"), mic);
    CHECK_EQ(fed(a_id, "0"), 0);
    json_decref(expect_ok(&teacher, "{\"type\":\"listen\",\"id\":18,\"participant\":null}", 18));
    CHECK_EQ(fed("p1", "0"), 0);
}

/* One REST call with the admin token (anonymous: none); the status, the body parsed. */
static int rest(const char *method, const char *path, const char *body, bool anonymous,
                json_t **out)
{
    struct e2e_response resp;
    bool was = e2e_anonymous;
    e2e_anonymous = anonymous;
    int rc = e2e_http(method, path, body ? "Content-Type: application/json\r\n" : NULL, body,
                      body ? strlen(body) : 0, &resp);
    e2e_anonymous = was;
    CHECK_EQ(rc, 0);
    if (rc != 0)
        return -1;
    if (out)
        *out = json_loads(resp.body, 0, NULL);
    e2e_response_free(&resp);
    return resp.status;
}

/* The room over REST: who is in it, and the stage driven as a control panel would. */
static void test_rest(json_int_t mic)
{
    json_t *v = NULL;
    CHECK_EQ(rest("GET", "/api/v1/rooms/demo", NULL, false, &v), 200);
    json_t *people = json_object_get(v, "participants"), *q;
    size_t i, seen = 0;
    json_array_foreach(people, i, q)
    {
        const char *id = json_string_value(json_object_get(q, "id"));
        if (id && strcmp(id, b_id) == 0) {
            seen++;
            CHECK(json_is_true(json_object_get(json_object_get(q, "sending"), "camera")));
            CHECK(json_is_true(json_object_get(json_object_get(q, "sending"), "mic")));
            CHECK(json_is_false(json_object_get(q, "on_stage")));
            CHECK_STR(json_string_value(json_object_get(q, "via")), "page");
        }
    }
    CHECK_EQ(seen, 1);
    CHECK_EQ(json_array_size(people), 3);
    json_decref(v);
    CHECK_EQ(rest("GET", "/api/v1/rooms/nowhere", NULL, false, NULL), 404);

    char body[100], path[100];
    snprintf(body, sizeof body, "{\"participant\":\"%s\"}", b_id);
    CHECK_EQ(rest("POST", "/api/v1/rooms/demo/stage", body, true, NULL), 401);
    CHECK_EQ(rest("POST", "/api/v1/rooms/demo/stage", "{\"who\":1}", false, NULL), 400);
    CHECK_EQ(rest("POST", "/api/v1/rooms/demo/stage", "{\"participant\":\"p999\"}", false, NULL),
             404);
    CHECK_EQ(rest("POST", "/api/v1/rooms/demo/stage", body, false, &v), 200);
    snprintf(path, sizeof path, "\"on\":[\"%s\"]", b_id);
    char *text = json_dumps(json_object_get(v, "stage"), JSON_COMPACT);
    CHECK(text && strstr(text, path));
    free(text);
    json_decref(v);
    free(stage_event(&a));
    CHECK_EQ(fed(a_id, "0"), mic);
    snprintf(path, sizeof path, "/api/v1/rooms/demo/stage/%s", b_id);
    CHECK_EQ(rest("DELETE", path, NULL, false, NULL), 200);
    CHECK_EQ(fed(a_id, "0"), 0);
    CHECK_EQ(rest("DELETE", path, NULL, false, NULL), 404);
    CHECK_EQ(rest("GET", "/api/v1/rooms/demo/stage", NULL, false, NULL), 405);
}

static void test_refusals(void)
{
    char text[200];
    snprintf(text, sizeof text, "{\"type\":\"stage\",\"id\":30,\"participant\":\"%s\"}", b_id);
    expect_code(&a, text, 30, "forbidden"); /* a classroom does not run the stage */
    expect_code(&teacher, "{\"type\":\"hand\",\"id\":31}", 31, "forbidden");
    expect_code(&teacher, "{\"type\":\"stage\",\"id\":32,\"participant\":\"p999\"}", 32,
                "not_found");
    expect_code(&teacher, "{\"type\":\"stage\",\"id\":33,\"participant\":\"p1\"}", 33,
                "not_found"); /* the teacher is no classroom */
    expect_code(&teacher, "{\"type\":\"stage\",\"id\":34,\"participant\":42}", 34, "bad_request");
    snprintf(text, sizeof text,
             "{\"type\":\"mute\",\"id\":35,\"participant\":\"%s\",\"muted\":\"yes\"}", b_id);
    expect_code(&teacher, text, 35, "bad_request");
    expect_code(&b, "{\"type\":\"hand\",\"id\":36,\"up\":1}", 36, "bad_request");
    snprintf(text, sizeof text,
             "{\"type\":\"stage\",\"id\":37,\"participant\":\"%s\",\"on\":false}", a_id);
    expect_code(&teacher, text, 37, "not_found"); /* not on stage */
    /* a feed may name VP8 or H264, nothing else */
    expect_code(
        &a, "{\"type\":\"subscribe\",\"id\":38,\"sdp\":\"v=0\",\"tracks\":{\"1\":\"stage@VP9\"}}",
        38, "bad_request");
    expect_code(&a,
                "{\"type\":\"subscribe\",\"id\":39,\"sdp\":\"v=0\",\"tracks\":{\"1\":\"stage@\"}}",
                39, "bad_request");
}

/* B on stage and A's hand up, then B leaves: out of every list. */
static void test_leave(void)
{
    char text[200];
    snprintf(text, sizeof text, "{\"type\":\"stage\",\"id\":40,\"participant\":\"%s\"}", b_id);
    json_decref(expect_ok(&teacher, text, 40));
    free(stage_event(&a));
    json_decref(expect_ok(&a, "{\"type\":\"hand\",\"id\":41}", 41));
    free(stage_event(&teacher));
    json_decref(expect_ok(&b, "{\"type\":\"leave\",\"id\":42}", 42));
    char *ev = stage_event(&teacher);
    snprintf(text, sizeof text, "\"hands\":[{\"id\":\"%s\"", a_id);
    CHECK(strstr(ev, "\"on\":[]") && strstr(ev, text));
    free(ev);
    json_decref(expect_ok(&teacher, "{\"type\":\"hands_down\",\"id\":43}", 43));
    ev = stage_event(&a);
    CHECK(strstr(ev, "\"hands\":[]") != NULL);
    free(ev);
}

/* A quick quiz: asked by the teacher, answered once per classroom, the tally to the
 * teacher only while open, the result to everyone when closed. */
static void test_quiz(void)
{
    expect_code(&teacher, "{\"type\":\"quiz\",\"id\":50,\"question\":\"2+2?\",\"options\":[\"4\"]}",
                50, "bad_request");
    expect_code(&a, "{\"type\":\"quiz_answer\",\"id\":51,\"choice\":0}", 51, "not_found");
    json_decref(expect_ok(&teacher,
                          "{\"type\":\"quiz\",\"id\":52,\"question\":\"2+2?\","
                          "\"options\":[\"3\",\"4\",\"5\"]}",
                          52));
    json_t *ev = await_event(&a, "quiz", E2E_TIMEOUT_MS);
    json_t *q = json_object_get(ev, "quiz");
    CHECK(json_is_true(json_object_get(q, "open")));
    CHECK(json_object_get(q, "tally") == NULL); /* classrooms do not see it while open */
    CHECK_EQ(json_array_size(json_object_get(q, "options")), 3);
    json_decref(ev);
    json_decref(expect_ok(&a, "{\"type\":\"quiz_answer\",\"id\":53,\"choice\":1}", 53));
    expect_code(&a, "{\"type\":\"quiz_answer\",\"id\":54,\"choice\":2}", 54, "conflict");
    expect_code(&a, "{\"type\":\"quiz_answer\",\"id\":55,\"choice\":7}", 55, "bad_request");
    expect_code(&teacher, "{\"type\":\"quiz_answer\",\"id\":56,\"choice\":0}", 56, "forbidden");
    ev = await_event(&teacher, "quiz_tally", E2E_TIMEOUT_MS);
    char *tally = json_dumps(json_object_get(json_object_get(ev, "quiz"), "tally"), JSON_COMPACT);
    CHECK_STR(tally, "[0,1,0]");
    free(tally);
    json_decref(ev);
    json_decref(expect_ok(&teacher, "{\"type\":\"quiz\",\"id\":57,\"close\":true}", 57));
    json_t *closed = NULL;
    for (int i = 0; i < 3; i++) { /* the opening event may still be queued */
        json_decref(closed);
        closed = await_event(&a, "quiz", E2E_TIMEOUT_MS);
        if (!closed || json_is_false(json_object_get(json_object_get(closed, "quiz"), "open")))
            break;
    }
    q = json_object_get(closed, "quiz");
    CHECK(json_is_false(json_object_get(q, "open")));
    CHECK_EQ(json_integer_value(json_object_get(q, "answers")), 1);
    json_decref(closed);
    expect_code(&teacher, "{\"type\":\"quiz\",\"id\":58,\"close\":true}", 58, "not_found");
}

int main(void)
{
    if (e2e_start() != 0) {
        fprintf(stderr, "cannot start the server\n");
        return 1;
    }
    char *chrome = test_sdp_fixture("chrome_offer.sdp", NULL);
    bool up = client_open(&teacher);
    e2e_anonymous = true; /* the classrooms come without a token: the demo room is open */
    up = up && client_open(&a) && client_open(&b);
    if (up && chrome) {
        join(&teacher, "teacher", NULL, 1); /* p1 */
        join(&a, "classroom", a_id, 2);
        join(&b, "classroom", b_id, 3);
        json_t *r = call_json(&b,
                              json_pack("{s:s, s:i, s:s, s:{s:s, s:s}}", "type", "publish", "id", 4,
                                        "sdp", chrome, "sources", "0", "mic", "1", "camera"),
                              4);
        CHECK(r && json_is_true(json_object_get(r, "ok")));
        json_int_t mic = json_integer_value(json_object_get(json_object_get(r, "tracks"), "0"));
        json_int_t camera = json_integer_value(json_object_get(json_object_get(r, "tracks"), "1"));
        json_decref(r);
        test_stage(mic, camera);
        test_rest(mic);
        test_refusals();
        test_quiz();
        test_leave();
    }
    free(chrome);
    client_close(&teacher);
    client_close(&a);
    client_close(&b);
    usleep(200 * 1000);
    e2e_stop_thread();
    server_stop(&e2e_srv);
    return test_report();
}
