/* Tests the websocket JSON protocol end to end (signaling/ws.c and rpc.c against
 * docs/protocol.md): a real server in-process on an ephemeral port (e2e_client.c), clients
 * speaking RFC 6455 by hand over TCP. Covers the upgrade only at /ws; framing (empty,
 * binary, fragmented with an interleaved ping, exactly 64 KiB, oversized in one frame or
 * in fragments); the envelope (bad JSON, non-objects, duplicate keys, deep nesting, huge
 * numbers, invalid UTF-8, bad id/v/type, unknown types); requests before join; join
 * validation and the participant events; field checks of publish, subscribe and
 * candidate; a real publish (Chromium's offer) and subscribe through the relay; leave and
 * abrupt close; replies only for requests with an id; and the error counters. */
#include <jansson.h>
#include <limits.h>

#include "e2e_client.c"
#include "e2e_json.c"
#include "transport/zfield.h"

/* Error replies the server should have counted, by code (checked against its counters). */
static long long expected_errors[SRV_ERR_COUNT];

static void count_code(const char *code)
{
    for (int e = 0; e < SRV_ERR_COUNT; e++) {
        if (strcmp(srv_err_code((enum srv_err)e), code) == 0)
            expected_errors[e]++;
    }
}

/* Sends text, expects an error reply with id and code (and message containing part). */
static void expect_error_line(int line, struct client *c, const char *text, long long id,
                              const char *code, const char *part)
{
    count_code(code);
    json_t *r = call(c, text, id);
    if (!r)
        return;
    const char *got = json_string_value(json_object_get(json_object_get(r, "error"), "code"));
    const char *msg = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
    bool ok = json_is_false(json_object_get(r, "ok")) && got && strcmp(got, code) == 0 && msg &&
              (!part || strstr(msg, part));
    if (!ok) {
        char *dump = json_dumps(r, 0);
        fprintf(stderr, "line %d: for %.200s\n  expected %s (%s), got %s\n", line, text, code,
                part ? part : "", dump);
        free(dump);
    }
    CHECK(ok);
    json_decref(r);
}
#define expect_error(...) expect_error_line(__LINE__, __VA_ARGS__)

/* Sends a ping with id and checks that its reply is the next message: nothing was sent in
 * between (for requests that must not be answered). */
static void expect_silence_then_ping(struct client *c, long long id)
{
    char ping[64];
    snprintf(ping, sizeof ping, "{\"type\":\"ping\",\"id\":%lld}", id);
    json_decref(expect_ok(c, ping, id));
}

static void expect_error_json_line(int line, struct client *c, json_t *msg, long long id,
                                   const char *code, const char *part)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    expect_error_line(line, c, text, id, code, part);
    free(text);
}
#define expect_error_json(...) expect_error_json_line(__LINE__, __VA_ARGS__)

/* Replaces every occurrence of from with to (same length) in s. */
static void replace_all(char *s, const char *from, const char *to)
{
    size_t n = strlen(from);
    for (char *p = strstr(s, from); p; p = strstr(p + n, from))
        memcpy(p, to, n);
}

/* ---- tests ---- */

static void test_upgrade_only_at_ws(void)
{
    char head[2048] = "";
    int fd = e2e_ws_open_at("/other", head, sizeof head);
    CHECK_EQ(fd, -1);
    CHECK(strncmp(head, "HTTP/1.1 101", 12) != 0);
    fd = e2e_ws_open_at("/ws/x", head, sizeof head);
    CHECK_EQ(fd, -1);
}

static void test_envelope(struct client *c)
{
    expect_error(c, "{", NULL_ID, "bad_json", "invalid JSON at line 1");
    expect_error(c, "{\"type\":\"ping\",\"id\":1", NULL_ID, "bad_json", "invalid JSON");
    expect_error(c, "[1,2]", NULL_ID, "bad_json", "must be a JSON object");
    expect_error(c, "null", NULL_ID, "bad_json", NULL);
    expect_error(c, "\"ping\"", NULL_ID, "bad_json", NULL);
    expect_error(c, "42", NULL_ID, "bad_json", NULL);
    expect_error(c, "{} {}", NULL_ID, "bad_json", NULL);
    expect_error(c, "{\"id\":1,\"id\":2,\"type\":\"ping\"}", NULL_ID, "bad_json", "duplicate");
    /* deep nesting (jansson stops at its depth limit) and numbers out of every range */
    static char deep[20010];
    memcpy(deep, "{\"a\":", 5);
    memset(deep + 5, '[', 10000);
    memset(deep + 10005, ']', 10000);
    memcpy(deep + 20005, "}", 2);
    expect_error(c, deep, NULL_ID, "bad_json", NULL);
    memset(deep, '[', 20000);
    deep[20000] = '\0';
    expect_error(c, deep, NULL_ID, "bad_json", NULL);
    expect_error(c, "{\"type\":\"ping\",\"id\":99999999999999999999999}", NULL_ID, "bad_json",
                 NULL);
    expect_error(c, "{\"type\":\"ping\",\"id\":1e400}", NULL_ID, "bad_json", NULL);
    /* invalid UTF-8 (lws is not asked to validate: the reply is bad_json, not a close) */
    expect_error(c, "{\"type\":\"ping\",\"id\":1,\"x\":\"\xff\xfe\"}", NULL_ID, "bad_json", NULL);
    expect_error(c, "{\"type\":\"\xc3\",\"id\":2}", NULL_ID, "bad_json", NULL);
    expect_error(c, "{\"type\":\"\xed\xa0\x80\",\"id\":2}", NULL_ID, "bad_json",
                 NULL); /* surrogate */

    /* id, v, type */
    expect_error(c, "{\"type\":\"ping\",\"id\":\"7\"}", NULL_ID, "bad_request",
                 "\"id\" must be an integer");
    expect_error(c, "{\"type\":\"ping\",\"id\":1.5}", NULL_ID, "bad_request", "\"id\"");
    expect_error(c, "{\"type\":\"ping\",\"id\":true}", NULL_ID, "bad_request", "\"id\"");
    expect_error(c, "{\"type\":\"ping\",\"id\":null}", NULL_ID, "bad_request", "\"id\"");
    expect_error(c, "{\"type\":\"ping\",\"id\":3,\"v\":2}", 3, "bad_request", "version");
    expect_error(c, "{\"type\":\"ping\",\"id\":3,\"v\":\"1\"}", 3, "bad_request", "version");
    expect_error(c, "{\"type\":\"ping\",\"id\":3,\"v\":1.0}", 3, "bad_request", "version");
    expect_error(c, "{\"id\":4}", 4, "bad_request", "\"type\" must be a string");
    expect_error(c, "{\"type\":5,\"id\":4}", 4, "bad_request", "\"type\"");
    expect_error(c, "{\"type\":null,\"id\":4}", 4, "bad_request", "\"type\"");
    expect_error(c, "{\"type\":\"nope\",\"id\":5}", 5, "bad_request",
                 "unknown request type \"nope\"");
    expect_error(c, "{\"type\":\"PING\",\"id\":5}", 5, "bad_request", "unknown request type");
    expect_error(c, "{\"type\":\"\",\"id\":5}", 5, "bad_request", "unknown request type");
    /* an unknown type is quoted cut at 40 bytes: the cut must not split a UTF-8 character,
     * or the reply is not valid JSON text and is never sent */
    expect_error(c, "{\"type\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xe6\x9d\x8e\",\"id\":6}",
                 6, "bad_request", "unknown request type \"aaaaaaaaa");
    expect_error(c,
                 "{\"type\":\"\xe6\x9d\x8e\xe8\x80\x81\xe5\xb8\x88\xe6\x9d\x8e\xe8\x80\x81\xe5"
                 "\xb8\x88\xe6\x9d\x8e\xe8\x80\x81\xe5\xb8\x88\xe6\x9d\x8e\xe8\x80\x81\xe5\xb8"
                 "\x88\xe6\x9d\x8e\xe8\x80\x81\",\"id\":7}",
                 7, "bad_request", "unknown request type");

    /* ping with and without an id, v 1 accepted */
    json_t *r = expect_ok(c, "{\"v\":1,\"type\":\"ping\",\"id\":10}", 10);
    CHECK(r && json_is_integer(json_object_get(r, "time_ms")));
    json_decref(r);
    r = expect_ok(c, "{\"type\":\"ping\",\"id\":-9223372036854775807}", -9223372036854775807LL);
    json_decref(r);
    CHECK_EQ(e2e_ws_text(c->fd, "{\"type\":\"ping\"}"), 0); /* success without id: no reply */
    expect_silence_then_ping(c, 11);
    /* the connection is still usable after all of that */
    json_decref(expect_ok(c, "{\"type\":\"ping\",\"id\":12}", 12));
}

static void test_framing(struct client *c)
{
    /* an empty text message */
    CHECK_EQ(e2e_ws_frame(c->fd, WS_TEXT, true, "", 0), 0);
    json_t *r = await_reply(c, NULL_ID);
    CHECK_STR(code_of(r), "bad_json");
    count_code("bad_json");
    json_decref(r);

    /* a binary message */
    CHECK_EQ(e2e_ws_frame(c->fd, WS_BINARY, true, "{\"type\":\"ping\",\"id\":1}", 22), 0);
    r = await_reply(c, NULL_ID);
    CHECK(strstr(message_of(r), "binary") != NULL);
    count_code("bad_request");
    json_decref(r);

    /* a fragmented message, with a ping between the fragments (RFC 6455 §5.4, §5.5) */
    CHECK_EQ(e2e_ws_frame(c->fd, WS_TEXT, false, "{\"type\":", 8), 0);
    CHECK_EQ(e2e_ws_frame(c->fd, WS_CONT, false, "\"pi", 3), 0);
    CHECK_EQ(e2e_ws_frame(c->fd, WS_PING, true, "hello", 5), 0);
    CHECK_EQ(e2e_ws_frame(c->fd, WS_CONT, false, "ng\",", 4), 0);
    CHECK_EQ(e2e_ws_frame(c->fd, WS_CONT, true, "\"id\":20}", 8), 0);
    r = await_reply(c, 20);
    CHECK(r && json_is_true(json_object_get(r, "ok")));
    json_decref(r);

    /* exactly SERVER_MAX_BODY bytes is a message; one byte more is too large */
    static char big[SERVER_MAX_BODY + 2];
    int head = snprintf(big, sizeof big, "{\"type\":\"ping\",\"id\":30,\"pad\":\"");
    memset(big + head, 'x', SERVER_MAX_BODY - (size_t)head - 2);
    memcpy(big + SERVER_MAX_BODY - 2, "\"}", 3);
    CHECK_EQ(strlen(big), SERVER_MAX_BODY);
    r = call(c, big, 30);
    CHECK(r && json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    big[30] = '1'; /* id 31 */
    memmove(big + SERVER_MAX_BODY - 1, "\"}", 3);
    big[SERVER_MAX_BODY - 2] = 'x';
    CHECK_EQ(strlen(big), SERVER_MAX_BODY + 1);
    expect_error(c, big, NULL_ID, "too_large", "larger than 65536");

    /* too large across fragments (in chunks lws hands over in several callbacks) */
    static char chunk[50000];
    memset(chunk, ' ', sizeof chunk);
    CHECK_EQ(e2e_ws_frame(c->fd, WS_TEXT, false, "{", 1), 0);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(e2e_ws_frame(c->fd, WS_CONT, false, chunk, sizeof chunk), 0);
    CHECK_EQ(e2e_ws_frame(c->fd, WS_CONT, true, "}", 1), 0);
    r = await_reply(c, NULL_ID);
    CHECK_STR(code_of(r), "too_large");
    count_code("too_large");
    json_decref(r);

    /* a 1 MiB frame: answered too_large, and the connection goes on */
    char *huge = malloc(1 << 20);
    memset(huge, '[', 1 << 20);
    CHECK_EQ(e2e_ws_frame(c->fd, WS_TEXT, true, huge, 1 << 20), 0);
    free(huge);
    r = await_reply(c, NULL_ID);
    CHECK_STR(code_of(r), "too_large");
    count_code("too_large");
    json_decref(r);
    /* the message after a too large one is read normally, whole */
    json_decref(expect_ok(c, "{\"type\":\"ping\",\"id\":32}", 32));
}

static void test_before_join(struct client *c)
{
    static const char *const types[] = {"publish",   "subscribe",   "candidate",
                                        "unpublish", "unsubscribe", "leave"};
    for (int i = 0; i < 6; i++) {
        char msg[128];
        snprintf(msg, sizeof msg, "{\"v\":1,\"type\":\"%s\",\"id\":%d,\"target\":\"publish\"}",
                 types[i], 40 + i);
        expect_error(c, msg, 40 + i, "not_joined", "join a room first");
    }
    /* not even with a valid offer */
    expect_error(c,
                 "{\"type\":\"publish\",\"id\":46,\"sdp\":\"v=0\\r\\nm=audio 9 RTP/AVP 0\\r\\n\"}",
                 46, "not_joined", NULL);
    /* without an id the error is still answered, with "id":null */
    expect_error(c, "{\"type\":\"leave\"}", NULL_ID, "not_joined", NULL);
}

static void test_join(struct client *a, struct client *b, char *a_id, size_t a_id_len)
{
    expect_error(a, "{\"type\":\"join\",\"id\":50,\"role\":\"teacher\"}", 50, "bad_request",
                 "\"room\"");
    expect_error(a, "{\"type\":\"join\",\"id\":51,\"room\":\"a b\",\"role\":\"teacher\"}", 51,
                 "bad_request", "\"room\"");
    expect_error(a, "{\"type\":\"join\",\"id\":51,\"room\":\"\",\"role\":\"teacher\"}", 51,
                 "bad_request", "\"room\"");
    expect_error(a, "{\"type\":\"join\",\"id\":51,\"room\":7,\"role\":\"teacher\"}", 51,
                 "bad_request", "\"room\"");
    /* jansson refuses \u0000 in strings (no JSON_ALLOW_NUL): bad_json, before any field */
    expect_error(a, "{\"type\":\"join\",\"id\":51,\"room\":\"demo\\u0000x\",\"role\":\"teacher\"}",
                 NULL_ID, "bad_json", "\\u0000");
    char room65[128];
    snprintf(room65, sizeof room65,
             "{\"type\":\"join\",\"id\":52,\"room\":\"%065d\",\"role\":\"teacher\"}", 0);
    expect_error(a, room65, 52, "bad_request", "\"room\"");
    expect_error(a, "{\"type\":\"join\",\"id\":53,\"room\":\"demo\"}", 53, "bad_request",
                 "\"role\"");
    expect_error(a, "{\"type\":\"join\",\"id\":53,\"room\":\"demo\",\"role\":\"admin\"}", 53,
                 "bad_request", "\"role\"");
    expect_error(a, "{\"type\":\"join\",\"id\":53,\"room\":\"demo\",\"role\":[\"teacher\"]}", 53,
                 "bad_request", "\"role\"");
    expect_error(a,
                 "{\"type\":\"join\",\"id\":54,\"room\":\"demo\",\"role\":\"teacher\",\"name\":5}",
                 54, "bad_request", "\"name\"");
    expect_error(a,
                 "{\"type\":\"join\",\"id\":54,\"room\":\"demo\",\"role\":\"teacher\","
                 "\"name\":\"a\\u0001b\"}",
                 54, "bad_request", "\"name\"");
    expect_error(a,
                 "{\"type\":\"join\",\"id\":54,\"room\":\"demo\",\"role\":\"teacher\","
                 "\"name\":\"a\\u007fb\"}",
                 54, "bad_request", "\"name\"");
    expect_error(a,
                 "{\"type\":\"join\",\"id\":54,\"room\":\"demo\",\"role\":\"teacher\","
                 "\"name\":\"a\\u0000b\"}",
                 NULL_ID, "bad_json", "\\u0000");
    /* names: 64 characters (code points, not bytes) fit, 65 do not */
    char name[600];
    int n = 0;
    for (int i = 0; i < 65; i++)
        n += snprintf(name + n, sizeof name - (size_t)n, "\xe6\x9d\x8e"); /* 李 */
    json_t *msg = json_pack("{s:s, s:I, s:s, s:s, s:s}", "type", "join", "id", (json_int_t)55,
                            "room", "lesson-1", "role", "teacher", "name", name);
    expect_error_json(a, msg, 55, "bad_request", "\"name\"");
    name[64 * 3] = '\0';
    msg = json_pack("{s:s, s:I, s:s, s:s, s:s}", "type", "join", "id", (json_int_t)56, "room",
                    "lesson-1", "role", "teacher", "name", name);
    json_t *r = call_json(a, msg, 56);
    CHECK(r && json_is_true(json_object_get(r, "ok")));
    json_t *me = json_object_get(r, "participant");
    CHECK_STR(json_string_value(json_object_get(me, "name")), name);
    CHECK_STR(json_string_value(json_object_get(me, "role")), "teacher");
    snprintf(a_id, a_id_len, "%s", json_string_value(json_object_get(me, "id")));
    CHECK(a_id[0] == 'p');
    CHECK_STR(json_string_value(json_object_get(r, "room")), "lesson-1");
    CHECK_EQ(json_array_size(json_object_get(r, "participants")), 0);
    CHECK(json_is_array(json_object_get(r, "tracks")));
    CHECK_EQ(json_array_size(json_object_get(r, "tracks")), 0);
    json_decref(r);

    /* one room at a time */
    expect_error(a, "{\"type\":\"join\",\"id\":57,\"room\":\"demo\",\"role\":\"teacher\"}", 57,
                 "bad_request", "already joined room lesson-1");

    /* the second participant sees the first; the first hears of the second */
    r = expect_ok(b,
                  "{\"v\":1,\"type\":\"join\",\"id\":1,\"room\":\"lesson-1\",\"role\":"
                  "\"classroom\"}",
                  1);
    json_t *others = json_object_get(r, "participants");
    CHECK_EQ(json_array_size(others), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(others, 0), "id")), a_id);
    CHECK_STR(json_string_value(json_object_get(json_object_get(r, "participant"), "name")),
              "Classroom"); /* the default name */
    const char *b_id = json_string_value(json_object_get(json_object_get(r, "participant"), "id"));
    json_t *ev = await_event(a, "participant_joined", E2E_TIMEOUT_MS);
    CHECK(ev != NULL);
    if (ev && b_id) {
        json_t *p = json_object_get(ev, "participant");
        CHECK_STR(json_string_value(json_object_get(p, "id")), b_id);
        CHECK_STR(json_string_value(json_object_get(p, "role")), "classroom");
    }
    json_decref(ev);
    json_decref(r);
}

/* Field checks once joined (a is the teacher in lesson-1). */
static void test_fields(struct client *a)
{
    expect_error(a, "{\"type\":\"publish\",\"id\":60}", 60, "bad_request", "\"sdp\"");
    expect_error(a, "{\"type\":\"publish\",\"id\":60,\"sdp\":5}", 60, "bad_request", "\"sdp\"");
    expect_error(a, "{\"type\":\"publish\",\"id\":61,\"sdp\":\"hello\"}", 61, "bad_sdp", "v=0");
    expect_error(a, "{\"type\":\"publish\",\"id\":61,\"sdp\":\"v=0\\r\\ns=-\\r\\n\"}", 61,
                 "bad_sdp", "no m-lines");
    expect_error(a, "{\"type\":\"publish\",\"id\":62,\"sdp\":\"v=0\\r\\n\\u0000m=audio\"}", NULL_ID,
                 "bad_json", "\\u0000");
    const char *offer = "v=0\\r\\nm=audio 9 UDP/TLS/RTP/SAVPF 111\\r\\na=mid:0\\r\\n";
    char msg[1024];
    snprintf(msg, sizeof msg, "{\"type\":\"publish\",\"id\":63,\"sdp\":\"%s\",\"sources\":[1]}",
             offer);
    expect_error(a, msg, 63, "bad_request", "\"sources\"");
    snprintf(msg, sizeof msg,
             "{\"type\":\"publish\",\"id\":64,\"sdp\":\"%s\",\"sources\":{\"0\":\"Mic!\"}}", offer);
    expect_error(a, msg, 64, "bad_request", "source of mid 0");
    snprintf(msg, sizeof msg,
             "{\"type\":\"publish\",\"id\":64,\"sdp\":\"%s\",\"sources\":{\"0\":\"a-very-long-"
             "source\"}}",
             offer);
    expect_error(a, msg, 64, "bad_request", "source of mid 0");
    /* an offer the relay refuses: the error is its reason, and no peer is left behind */
    snprintf(msg, sizeof msg, "{\"type\":\"publish\",\"id\":65,\"sdp\":\"%s\"}", offer);
    expect_error(a, msg, 65, "bad_sdp", NULL);
    expect_error(a, "{\"type\":\"candidate\",\"id\":66,\"target\":\"publish\",\"candidate\":null}",
                 66, "not_found", "no publish peer");

    snprintf(msg, sizeof msg, "{\"type\":\"subscribe\",\"id\":67,\"sdp\":\"%s\",\"tracks\":[2]}",
             offer);
    expect_error(a, msg, 67, "bad_request", "\"tracks\"");
    snprintf(msg, sizeof msg,
             "{\"type\":\"subscribe\",\"id\":68,\"sdp\":\"%s\",\"tracks\":{\"0\":-1}}", offer);
    expect_error(a, msg, 68, "bad_request", "track id for mid 0");
    snprintf(msg, sizeof msg,
             "{\"type\":\"subscribe\",\"id\":68,\"sdp\":\"%s\",\"tracks\":{\"0\":\"2\"}}", offer);
    expect_error(a, msg, 68, "bad_request", "track id for mid 0");
    snprintf(msg, sizeof msg,
             "{\"type\":\"subscribe\",\"id\":68,\"sdp\":\"%s\",\"tracks\":{\"0\":2.5}}", offer);
    expect_error(a, msg, 68, "bad_request", "track id for mid 0");
    expect_error(a, "{\"type\":\"subscribe\",\"id\":69,\"sdp\":[]}", 69, "bad_request", "\"sdp\"");
    /* deflated SDP (transport/zfield.c): not a string, not base64, not DEFLATE */
    expect_error(a, "{\"type\":\"subscribe\",\"id\":69,\"sdpz\":5}", 69, "bad_request", "\"sdpz\"");
    expect_error(a, "{\"type\":\"subscribe\",\"id\":69,\"sdpz\":\"v=0!\"}", 69, "bad_sdp",
                 "not base64");
    expect_error(a, "{\"type\":\"publish\",\"id\":69,\"sdpz\":\"dj0w\"}", 69, "bad_sdp", "DEFLATE");

    expect_error(a, "{\"type\":\"candidate\",\"id\":70}", 70, "bad_request", "\"target\"");
    expect_error(a, "{\"type\":\"candidate\",\"id\":70,\"target\":\"both\"}", 70, "bad_request",
                 "\"target\"");
    expect_error(a, "{\"type\":\"candidate\",\"id\":70,\"target\":1}", 70, "bad_request",
                 "\"target\"");
    expect_error(a, "{\"type\":\"candidate\",\"id\":71,\"target\":\"publish\",\"mid\":0}", 71,
                 "bad_request", "\"mid\"");
    expect_error(a,
                 "{\"type\":\"candidate\",\"id\":71,\"target\":\"publish\",\"mid\":"
                 "\"0123456789012345678901234567890123\"}",
                 71, "bad_request", "\"mid\"");
    expect_error(a, "{\"type\":\"candidate\",\"id\":72,\"target\":\"publish\",\"candidate\":5}", 72,
                 "bad_request", "\"candidate\"");
    expect_error(a,
                 "{\"type\":\"candidate\",\"id\":73,\"target\":\"publish\",\"candidate\":"
                 "\"candidate:1 1 udp 1 127.0.0.1 9 typ host\\r\\na=x\"}",
                 73, "bad_request", "one line");
    expect_error(a,
                 "{\"type\":\"candidate\",\"id\":73,\"target\":\"publish\",\"candidate\":"
                 "\"candidate:1\\u0000x\"}",
                 NULL_ID, "bad_json", "\\u0000");
    static char longcand[1200];
    int n = snprintf(longcand, sizeof longcand,
                     "{\"type\":\"candidate\",\"id\":74,\"target\":\"subscribe\",\"candidate\":\"");
    memset(longcand + n, 'c', 1025);
    snprintf(longcand + n + 1025, sizeof longcand - (size_t)n - 1025, "\"}");
    expect_error(a, longcand, 74, "bad_request", "at most 1024 bytes");
    expect_error(a,
                 "{\"type\":\"candidate\",\"id\":75,\"target\":\"subscribe\",\"mid\":\"0\","
                 "\"candidate\":\"candidate:1 1 udp 1 127.0.0.1 9 typ host\"}",
                 75, "not_found", "no subscribe peer: send subscribe first");

    /* closing peers that do not exist is fine */
    json_decref(expect_ok(a, "{\"type\":\"unpublish\",\"id\":76}", 76));
    json_decref(expect_ok(a, "{\"type\":\"unsubscribe\",\"id\":77}", 77));
}

/* A real publish (Chromium's offer) and subscribe (aiortc's offer made recvonly). */
static void test_media(struct client *a, struct client *b, const char *a_id)
{
    char *chrome = test_sdp_fixture("chrome_offer.sdp", NULL),
         *aiortc = test_sdp_fixture("aiortc_offer.sdp", NULL);
    CHECK(chrome && aiortc);
    if (!chrome || !aiortc) {
        free(chrome);
        free(aiortc);
        return;
    }
    json_t *r = call_json(a,
                          json_pack("{s:i, s:s, s:i, s:s, s:{s:s, s:s}}", "v", 1, "type", "publish",
                                    "id", 80, "sdp", chrome, "sources", "0", "mic", "1", "camera"),
                          80);
    CHECK(r && json_is_true(json_object_get(r, "ok")));
    const char *answer = json_string_value(json_object_get(r, "sdp"));
    CHECK(answer && strncmp(answer, "v=0", 3) == 0 && strstr(answer, "a=setup:active"));
    json_t *tracks = json_object_get(r, "tracks");
    json_int_t audio = json_integer_value(json_object_get(tracks, "0"));
    json_int_t video = json_integer_value(json_object_get(tracks, "1"));
    CHECK(audio > 0 && video > 0 && audio != video);
    json_decref(r);

    /* everyone in the room gets the track list, naming the publisher */
    json_t *ev = NULL;
    int64_t deadline = e2e_now_ms() + E2E_TIMEOUT_MS;
    while (e2e_now_ms() < deadline) {
        json_decref(ev);
        ev = await_event(b, "tracks", (int)(deadline - e2e_now_ms()));
        if (!ev || json_array_size(json_object_get(ev, "tracks")) == 2)
            break;
    }
    CHECK(ev && json_array_size(json_object_get(ev, "tracks")) == 2);
    for (size_t i = 0; ev && i < json_array_size(json_object_get(ev, "tracks")); i++) {
        json_t *t = json_array_get(json_object_get(ev, "tracks"), i);
        json_int_t id = json_integer_value(json_object_get(t, "id"));
        const char *kind = json_string_value(json_object_get(t, "kind"));
        const char *source = json_string_value(json_object_get(t, "source"));
        CHECK_STR(json_string_value(json_object_get(t, "participant")), a_id);
        CHECK(id == audio || id == video);
        CHECK_STR(kind, id == audio ? "audio" : "video");
        CHECK_STR(source, id == audio ? "mic" : "camera");
    }
    json_decref(ev);

    /* trickle to the publishing peer: a candidate, then the end */
    r = expect_ok(a,
                  "{\"type\":\"candidate\",\"id\":81,\"target\":\"publish\",\"mid\":\"0\","
                  "\"candidate\":\"candidate:842163049 1 udp 1677729535 127.0.0.1 50966 typ host "
                  "generation 0 ufrag E4fU network-cost 999\"}",
                  81);
    json_decref(r);
    json_decref(expect_ok(a,
                          "{\"type\":\"candidate\",\"id\":82,\"target\":\"publish\",\"mid\":"
                          "\"0\",\"candidate\":null}",
                          82));
    CHECK_EQ(
        e2e_ws_text(a->fd, "{\"type\":\"candidate\",\"target\":\"publish\",\"candidate\":\"\"}"),
        0); /* fire and forget: no reply */
    expect_silence_then_ping(a, 83);

    /* the classroom subscribes to both tracks, its offer deflated: so is the answer */
    replace_all(aiortc, "a=sendrecv", "a=recvonly");
    char *z = zfield_deflate(aiortc);
    r = call_json(b,
                  json_pack("{s:s, s:i, s:s, s:{s:I, s:I}, s:b}", "type", "subscribe", "id", 2,
                            "sdpz", z, "tracks", "0", audio, "1", video, "restart", 1),
                  2);
    free(z);
    CHECK(r && json_is_true(json_object_get(r, "ok")) && !json_object_get(r, "sdp"));
    json_t *zv = json_object_get(r, "sdpz");
    char *unz = NULL;
    CHECK(zv && zfield_inflate(json_string_value(zv), json_string_length(zv), 65536, &unz) == 0);
    CHECK(unz && strncmp(unz, "v=0", 3) == 0 && strstr(unz, "a=sendonly"));
    free(unz);
    tracks = json_object_get(r, "tracks");
    CHECK_EQ(json_integer_value(json_object_get(tracks, "0")), audio);
    CHECK_EQ(json_integer_value(json_object_get(tracks, "1")), video);
    json_decref(r);

    /* unpublish: the room's track list empties */
    json_decref(expect_ok(a, "{\"type\":\"unpublish\",\"id\":84}", 84));
    ev = NULL;
    deadline = e2e_now_ms() + E2E_TIMEOUT_MS;
    while (e2e_now_ms() < deadline) {
        json_decref(ev);
        ev = await_event(b, "tracks", (int)(deadline - e2e_now_ms()));
        if (!ev || json_array_size(json_object_get(ev, "tracks")) == 0)
            break;
    }
    CHECK(ev && json_array_size(json_object_get(ev, "tracks")) == 0);
    json_decref(ev);
    free(chrome);
    free(aiortc);
}

static void test_leave_and_close(struct client *a, struct client *b, const char *a_id)
{
    json_t *r = expect_ok(b, "{\"type\":\"leave\",\"id\":3}", 3);
    json_decref(r);
    json_t *ev = await_event(a, "participant_left", E2E_TIMEOUT_MS);
    CHECK(ev != NULL);
    json_decref(ev);
    expect_error(b, "{\"type\":\"leave\",\"id\":4}", 4, "not_joined", NULL);
    /* join again, elsewhere or here; then the teacher's connection drops without a leave */
    json_decref(expect_ok(b,
                          "{\"type\":\"join\",\"id\":5,\"room\":\"lesson-1\",\"role\":"
                          "\"classroom\",\"name\":\"back\"}",
                          5));
    ev = await_event(a, "participant_joined", E2E_TIMEOUT_MS);
    CHECK(ev != NULL);
    json_decref(ev);
    close(a->fd);
    a->fd = -1;
    ev = await_event(b, "participant_left", E2E_TIMEOUT_MS);
    CHECK(ev != NULL);
    if (ev)
        CHECK_STR(json_string_value(json_object_get(json_object_get(ev, "participant"), "id")),
                  a_id);
    json_decref(ev);
    /* a request without an id that succeeds is not answered; leave, then the room is gone */
    CHECK_EQ(e2e_ws_text(b->fd, "{\"type\":\"leave\"}"), 0);
    expect_silence_then_ping(b, 6);
}

/* A client that sends a close frame gets a close back and the connection ends. */
static void test_close_frame(void)
{
    int fd = e2e_ws_open();
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK_EQ(e2e_ws_frame(fd, WS_CLOSE, true, "\x03\xe8", 2), 0);
    CHECK(e2e_ws_read(fd, E2E_TIMEOUT_MS, NULL) == NULL); /* the close, or EOF */
    CHECK(e2e_closed_by_peer(fd, E2E_TIMEOUT_MS));
    close(fd);
}

int main(void)
{
    if (e2e_start() != 0) {
        fprintf(stderr, "cannot start the server\n");
        return 1;
    }
    test_upgrade_only_at_ws();
    struct client a, b;
    if (client_open(&a) && client_open(&b)) {
        char a_id[32] = "";
        test_envelope(&a);
        test_framing(&a);
        test_before_join(&a);
        test_join(&a, &b, a_id, sizeof a_id);
        test_fields(&a);
        test_media(&a, &b, a_id);
        test_leave_and_close(&a, &b, a_id);
    }
    client_close(&a);
    client_close(&b);
    test_close_frame();

    usleep(200 * 1000); /* let the server see the closes */
    e2e_stop_thread();
    const struct srv_counters *k = &e2e_srv.counters;
    for (int e = 0; e < SRV_ERR_COUNT; e++) {
        if ((long long)k->errors[e] != expected_errors[e])
            fprintf(stderr, "errors.%s: counted %llu, expected %lld\n",
                    srv_err_code((enum srv_err)e), (unsigned long long)k->errors[e],
                    expected_errors[e]);
        CHECK_EQ(k->errors[e], expected_errors[e]);
    }
    CHECK_EQ(k->ws_connections, 0);
    CHECK(k->ws_connections_total >= 3);
    CHECK(reg_room_find(e2e_srv.reg, "lesson-1") == NULL); /* closed once empty */
    CHECK(reg_room_find(e2e_srv.reg, "demo") != NULL);     /* pinned */
    server_stop(&e2e_srv);
    return test_report();
}
