/* Tests the HTTP side end to end (signaling/http.c, whip.c, status.c against
 * docs/protocol.md): a real server in-process on an ephemeral port (e2e_client.c), requests
 * written by hand. Covers /healthz and /api/v1/stats (methods, JSON, CORS and caching
 * headers), static files (gzip, ETag and 304) and paths that must not escape web/, OPTIONS on every
 * kind of URL, keep-alive, body limits (413, and over 1 MiB answered at once), and WHIP (RFC 9725)
 * and WHEP: Content-Type and body checks, room names, offers that send nothing or are not
 * recvonly, a real session's 201 with Location/ETag/Accept-Patch, PATCH with a
 * trickle-ice-sdpfrag (RFC 8840 §9) and the 422 for an ICE restart, 405s with Allow,
 * DELETE, sessions of the wrong kind, a bundle-only video line (RFC 8843 §6), and
 * ad-hoc rooms closing with their last session. */
#include <jansson.h>
#include <zlib.h>

#include "e2e_client.c"

static int http(const char *method, const char *path, const char *extra, const char *body,
                struct e2e_response *r)
{
    int rc = e2e_http(method, path, extra, body, body ? strlen(body) : 0, r);
    CHECK_EQ(rc, 0);
    if (rc != 0)
        memset(r, 0, sizeof *r);
    return r->status;
}

static bool has_header(const struct e2e_response *r, const char *name, const char *value)
{
    char got[512];
    if (!e2e_header(r, name, got, sizeof got)) {
        fprintf(stderr, "no header %s in:\n%s\n", name, r->head);
        return false;
    }
    if (value && strcmp(got, value) != 0) {
        fprintf(stderr, "header %s: \"%s\", expected \"%s\"\n", name, got, value);
        return false;
    }
    return true;
}

static bool body_has(const struct e2e_response *r, const char *part)
{
    bool ok = r->body && strstr(r->body, part);
    if (!ok)
        fprintf(stderr, "body without \"%s\": %s\n", part, r->body ? r->body : "(none)");
    return ok;
}

/* Replaces the first occurrence of from in s (buffer of 64 KiB) with to. */
static void replace_first(char *s, const char *from, const char *to)
{
    char *p = strstr(s, from);
    if (!p)
        return;
    size_t nf = strlen(from), nt = strlen(to);
    memmove(p + nt, p + nf, strlen(p + nf) + 1);
    memcpy(p, to, nt);
}

static void replace_all(char *s, const char *from, const char *to)
{
    while (strstr(s, from))
        replace_first(s, from, to);
}

static const char *const SDP = "Content-Type: application/sdp\r\n";
static const char *const FRAG = "Content-Type: application/trickle-ice-sdpfrag\r\n";

static void test_status(void)
{
    struct e2e_response r;
    CHECK_EQ(http("GET", "/healthz", NULL, NULL, &r), 200);
    CHECK(has_header(&r, "content-type", "application/json"));
    CHECK(has_header(&r, "access-control-allow-origin", "*"));
    CHECK(has_header(&r, "cache-control", "no-store"));
    json_t *v = json_loads(r.body ? r.body : "", 0, NULL);
    CHECK(v && strcmp(json_string_value(json_object_get(v, "status")), "ok") == 0);
    CHECK(v && json_integer_value(json_object_get(v, "rooms")) >= 1); /* demo */
    json_decref(v);
    e2e_response_free(&r);

    CHECK_EQ(http("HEAD", "/healthz", NULL, NULL, &r), 200);
    CHECK_EQ(r.body_len, 0);
    e2e_response_free(&r);

    CHECK_EQ(http("POST", "/healthz", "Content-Type: text/plain\r\n", "x", &r), 405);
    CHECK(has_header(&r, "allow", "GET, HEAD, OPTIONS"));
    e2e_response_free(&r);
    CHECK_EQ(http("DELETE", "/api/v1/stats", NULL, NULL, &r), 405);
    e2e_response_free(&r);

    /* without a token: the API and rooms outside the schedule are closed, demo is open */
    e2e_anonymous = true;
    CHECK_EQ(http("GET", "/api/v1/stats", NULL, NULL, &r), 401);
    CHECK(has_header(&r, "www-authenticate", "Bearer realm=\"classrelay\""));
    e2e_response_free(&r);
    CHECK_EQ(http("POST", "/whip/adhoc-room", SDP, "v=0\r\n", &r), 401);
    CHECK(r.body && strstr(r.body, "token"));
    e2e_response_free(&r);
    CHECK_EQ(http("GET", "/api/v1/stats", "Authorization: Bearer e30.e30.AAAA\r\n", NULL, &r), 401);
    CHECK(r.body && strstr(r.body, "unauthorized"));
    e2e_response_free(&r);
    e2e_anonymous = false;

    CHECK_EQ(http("GET", "/api/v1/stats", NULL, NULL, &r), 200);
    v = json_loads(r.body ? r.body : "", 0, NULL);
    CHECK(v && json_is_string(json_object_get(v, "version")));
    CHECK(v && json_is_object(json_object_get(v, "relay")));
    json_t *errors = json_object_get(json_object_get(v, "signaling"), "errors");
    CHECK(json_is_object(errors) && json_object_size(errors) == SRV_ERR_COUNT);
    json_decref(v);
    e2e_response_free(&r);

    CHECK_EQ(http("GET", "/api/v1/nope", NULL, NULL, &r), 404);
    CHECK(body_has(&r, "\"code\":\"not_found\""));
    CHECK(body_has(&r, "no such API endpoint"));
    e2e_response_free(&r);
    CHECK_EQ(http("GET", "/api/", NULL, NULL, &r), 404);
    e2e_response_free(&r);
}

/* gunzips r's body; returns it (malloc'd) with *n its length, or NULL */
static char *gunzip(const struct e2e_response *r, size_t cap, size_t *n)
{
    char *out = malloc(cap);
    z_stream z = {0};
    if (inflateInit2(&z, 15 + 16) != Z_OK) {
        free(out);
        return NULL;
    }
    z.next_in = (unsigned char *)r->body;
    z.avail_in = (uInt)r->body_len;
    z.next_out = (unsigned char *)out;
    z.avail_out = (uInt)cap;
    int rc = inflate(&z, Z_FINISH);
    *n = cap - z.avail_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

/* Static text goes gzip-compressed where accepted (transport/http_static.c), each encoding
 * with its own ETag; If-None-Match with the ETag answers 304 without a body. */
static void test_files_gzip_etag(void)
{
    struct e2e_response plain, gz, r;
    char etag[128], etag_gz[128], extra[256];
    CHECK_EQ(http("GET", "/classroom.html", NULL, NULL, &plain), 200);
    CHECK(!e2e_header(&plain, "content-encoding", etag, sizeof etag));
    CHECK(e2e_header(&plain, "etag", etag, sizeof etag) && etag[0] == '"');
    CHECK(has_header(&plain, "vary", "Accept-Encoding"));
    CHECK_EQ(http("GET", "/classroom.html", "Accept-Encoding: deflate, gzip, br\r\n", NULL, &gz),
             200);
    CHECK(has_header(&gz, "content-encoding", "gzip"));
    CHECK(e2e_header(&gz, "etag", etag_gz, sizeof etag_gz) && strcmp(etag, etag_gz) != 0);
    CHECK(gz.body_len > 0 && gz.body_len < plain.body_len / 2);
    size_t n = 0;
    char *unz = gunzip(&gz, plain.body_len + 16, &n);
    CHECK(unz && n == plain.body_len && memcmp(unz, plain.body, n) == 0);
    free(unz);
    /* gzip;q=0 is a refusal; a small file and an image go as they are */
    CHECK_EQ(http("GET", "/classroom.html", "Accept-Encoding: gzip;q=0, br\r\n", NULL, &r), 200);
    CHECK(r.body_len == plain.body_len && !e2e_header(&r, "content-encoding", extra, sizeof extra));
    e2e_response_free(&r);
    /* revalidation: the same validator, 304 and no body; a stale one, the file */
    snprintf(extra, sizeof extra, "If-None-Match: %s\r\n", etag);
    CHECK_EQ(http("GET", "/classroom.html", extra, NULL, &r), 304);
    CHECK_EQ(r.body_len, 0);
    CHECK(has_header(&r, "etag", etag));
    e2e_response_free(&r);
    snprintf(extra, sizeof extra, "Accept-Encoding: gzip\r\nIf-None-Match: \"x\", W/%s\r\n",
             etag_gz);
    CHECK_EQ(http("GET", "/classroom.html", extra, NULL, &r), 304);
    e2e_response_free(&r);
    snprintf(extra, sizeof extra, "Accept-Encoding: gzip\r\nIf-None-Match: %s\r\n", etag);
    CHECK_EQ(http("GET", "/classroom.html", extra, NULL, &r), 200); /* the other encoding's */
    CHECK(r.body_len == gz.body_len);
    e2e_response_free(&r);
    e2e_response_free(&plain);
    e2e_response_free(&gz);
}

static void test_files(void)
{
    struct e2e_response r;
    CHECK_EQ(http("GET", "/", NULL, NULL, &r), 200);
    CHECK(has_header(&r, "content-type", "text/html; charset=utf-8"));
    CHECK(has_header(&r, "cache-control", "no-cache"));
    CHECK(r.body_len > 0);
    size_t index_len = r.body_len;
    e2e_response_free(&r);
    CHECK_EQ(http("GET", "/index.html", NULL, NULL, &r), 200);
    CHECK_EQ(r.body_len, index_len);
    e2e_response_free(&r);
    CHECK_EQ(http("HEAD", "/index.html", NULL, NULL, &r), 200);
    CHECK_EQ(r.body_len, 0);
    e2e_response_free(&r);
    CHECK_EQ(http("GET", "/tools/whip.html", NULL, NULL, &r), 200);
    e2e_response_free(&r);
    test_files_gzip_etag();

    /* nothing outside web/, nothing odd */
    static const char *const missing[] = {
        "/nonexistent.html",
        "/../CMakeLists.txt",
        "/..%2fCMakeLists.txt",
        "/%2e%2e/README.md",
        "/tools/../../README.md",
        "//etc/passwd",
        "/index.html?x=1/../..",
        "/tools",
        "/css/",
        "/index.html/",
    };
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        int status = http("GET", missing[i], NULL, NULL, &r);
        bool ok = status == 404 || (status == 200 && r.body_len == index_len); /* normalised */
        if (!ok || (r.body && strstr(r.body, "cmake_minimum_required")))
            fprintf(stderr, "GET %s: %d\n", missing[i], status);
        CHECK(ok);
        CHECK(!r.body || !strstr(r.body, "cmake_minimum_required"));
        CHECK(!r.body || !strstr(r.body, "root:x:0:0"));
        e2e_response_free(&r);
    }
    /* an encoded NUL: lws drops the connection without an answer, which is fine */
    if (e2e_http("GET", "/index.html%00.png", NULL, NULL, 0, &r) == 0) {
        CHECK_EQ(r.status, 404);
        e2e_response_free(&r);
    }
    char longpath[400];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    CHECK_EQ(http("GET", longpath, NULL, NULL, &r), 404);
    e2e_response_free(&r);

    CHECK_EQ(http("POST", "/index.html", "Content-Type: text/plain\r\n", "x", &r), 404);
    e2e_response_free(&r);
    CHECK_EQ(http("PUT", "/index.html", NULL, NULL, &r), 404);
    e2e_response_free(&r);
}

static void test_options(void)
{
    struct e2e_response r;
    CHECK_EQ(http("OPTIONS", "/whip/demo", NULL, NULL, &r), 204);
    CHECK(has_header(&r, "allow", "OPTIONS, POST"));
    CHECK(has_header(&r, "accept-post", "application/sdp"));
    CHECK(has_header(&r, "access-control-allow-methods",
                     "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"));
    CHECK(has_header(&r, "access-control-allow-headers",
                     "Content-Type, Authorization, If-Match, Range"));
    CHECK(has_header(&r, "access-control-allow-origin", "*"));
    CHECK(has_header(&r, "access-control-expose-headers", NULL));
    e2e_response_free(&r);
    CHECK_EQ(http("OPTIONS", "/whep/demo/e0123", NULL, NULL, &r), 204);
    CHECK(has_header(&r, "allow", "OPTIONS, PATCH, DELETE"));
    CHECK(has_header(&r, "accept-patch", "application/trickle-ice-sdpfrag"));
    e2e_response_free(&r);
    CHECK_EQ(http("OPTIONS", "/", NULL, NULL, &r), 204);
    CHECK(has_header(&r, "allow", "OPTIONS, GET, HEAD"));
    e2e_response_free(&r);
}

static void test_keepalive(void)
{
    /* two requests on one connection: the second must not see the first's state */
    int fd = e2e_connect();
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    const char *two = "POST /whip/demo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                      "Content-Length: 5\r\n\r\nhello"
                      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK_EQ(e2e_write_all(fd, two, strlen(two)), 0);
    struct e2e_response r;
    CHECK_EQ(e2e_read_response(fd, false, &r), 0);
    CHECK_EQ(r.status, 400);
    e2e_response_free(&r);
    CHECK_EQ(e2e_read_response(fd, false, &r), 0);
    CHECK_EQ(r.status, 200);
    CHECK(body_has(&r, "\"status\":\"ok\""));
    e2e_response_free(&r);
    close(fd);
}

static void test_limits(void)
{
    struct e2e_response r;
    /* over 64 KiB: read, dropped, 413 */
    char *big = malloc(70001);
    memset(big, 'a', 70000);
    big[70000] = '\0';
    CHECK_EQ(http("POST", "/whip/demo", SDP, big, &r), 413);
    CHECK(body_has(&r, "too_large"));
    e2e_response_free(&r);
    free(big);

    /* over 1 MiB announced: answered before the body and the connection closed */
    int fd = e2e_connect();
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    const char *head = "POST /whip/demo HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\n"
                       "Content-Length: 5000000\r\n\r\nv=0\r\n";
    CHECK_EQ(e2e_write_all(fd, head, strlen(head)), 0);
    CHECK_EQ(e2e_read_response(fd, false, &r), 0);
    CHECK_EQ(r.status, 413);
    e2e_response_free(&r);
    CHECK(e2e_closed_by_peer(fd, E2E_TIMEOUT_MS));
    close(fd);
}

static void test_whip_errors(void)
{
    struct e2e_response r;
    CHECK_EQ(http("POST", "/whip/demo", "Content-Type: text/plain\r\n", "v=0\r\n", &r), 400);
    CHECK(has_header(&r, "content-type", "text/plain; charset=utf-8"));
    CHECK(body_has(&r, "Content-Type must be application/sdp (got \"text/plain\")"));
    e2e_response_free(&r);
    CHECK_EQ(http("POST", "/whip/demo", NULL, "v=0\r\n", &r), 400); /* no Content-Type */
    CHECK(body_has(&r, "Content-Type must be application/sdp"));
    e2e_response_free(&r);
    /* parameters and case of the media type do not matter */
    CHECK_EQ(
        http("POST", "/whip/demo", "Content-Type: Application/SDP; charset=utf-8\r\n", "hello", &r),
        400);
    CHECK(body_has(&r, "v=0"));
    e2e_response_free(&r);
    CHECK_EQ(http("POST", "/whip/demo", SDP, "", &r), 400);
    CHECK(body_has(&r, "the body must be an SDP offer"));
    e2e_response_free(&r);
    CHECK_EQ(e2e_http("POST", "/whip/demo", SDP, "v=0\r\n\0m=audio 9 RTP/AVP 0\r\n", 28, &r), 0);
    CHECK_EQ(r.status, 400); /* a NUL in the body */
    CHECK(body_has(&r, "the body must be an SDP offer"));
    e2e_response_free(&r);
    CHECK_EQ(http("POST", "/whip/demo", SDP, "v=0\r\ns=-\r\n", &r), 400);
    CHECK(body_has(&r, "no m-lines"));
    e2e_response_free(&r);

    /* room names */
    CHECK_EQ(http("POST", "/whip/bad.room", SDP, "v=0\r\n", &r), 400);
    CHECK(body_has(&r, "room name"));
    e2e_response_free(&r);
    CHECK_EQ(http("POST", "/whip/bad%20room", SDP, "v=0\r\n", &r), 400);
    e2e_response_free(&r);
    CHECK_EQ(http("POST", "/whip/", SDP, "v=0\r\n", &r), 404);
    e2e_response_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/whip/%065d", 0);
    CHECK_EQ(http("POST", path, SDP, "v=0\r\n", &r), 404);
    e2e_response_free(&r);

    /* what the offer must do */
    const char *recvonly = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=recvonly\r\n";
    CHECK_EQ(http("POST", "/whip/demo", SDP, recvonly, &r), 400);
    CHECK(body_has(&r, "a WHIP offer must send media"));
    e2e_response_free(&r);
    const char *nomid = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\n";
    CHECK_EQ(http("POST", "/whip/demo", SDP, nomid, &r), 400);
    CHECK(body_has(&r, "a WHIP offer must send media"));
    e2e_response_free(&r);
    const char *sendonly = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\n";
    CHECK_EQ(http("POST", "/whep/demo", SDP, sendonly, &r), 400);
    CHECK(body_has(&r, "a WHEP offer must be recvonly"));
    e2e_response_free(&r);
    const char *rejected = "v=0\r\nm=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\n";
    CHECK_EQ(http("POST", "/whip/demo", SDP, rejected, &r), 400);
    e2e_response_free(&r);
    /* an offer that scans but the relay refuses: 400 with the relay's reason */
    CHECK_EQ(http("POST", "/whip/demo", SDP, sendonly, &r), 400);
    CHECK(r.body_len > 1);
    e2e_response_free(&r);

    /* methods and sessions that do not exist */
    CHECK_EQ(http("GET", "/whip/demo", NULL, NULL, &r), 405);
    CHECK(has_header(&r, "allow", "OPTIONS, POST"));
    e2e_response_free(&r);
    CHECK_EQ(http("DELETE", "/whip/demo", NULL, NULL, &r), 405);
    e2e_response_free(&r);
    CHECK_EQ(http("DELETE", "/whip/demo/w0123456789abcdef", NULL, NULL, &r), 404);
    CHECK(body_has(&r, "no such session"));
    e2e_response_free(&r);
    CHECK_EQ(
        http("PATCH", "/whip/nosuchroom/w0123456789abcdef", FRAG, "a=end-of-candidates\r\n", &r),
        404);
    e2e_response_free(&r);
    CHECK_EQ(http("DELETE", "/whip/demo/", NULL, NULL, &r), 404);
    e2e_response_free(&r);
    snprintf(path, sizeof path, "/whip/demo/w%040d", 0);
    CHECK_EQ(http("DELETE", path, NULL, NULL, &r), 404);
    e2e_response_free(&r);
}

/* Reads the session path out of a 201's Location header. */
static bool location(const struct e2e_response *r, char *out, size_t cap)
{
    return has_header(r, "location", NULL) && e2e_header(r, "location", out, cap);
}

static void test_whip_session(void)
{
    char *offer = test_sdp_fixture("chrome_simulcast_offer.sdp", NULL);
    char *play = test_sdp_fixture("aiortc_offer.sdp", NULL);
    CHECK(offer && play);
    if (!offer || !play) {
        free(offer);
        free(play);
        return;
    }
    struct e2e_response r;
    CHECK_EQ(http("POST", "/whip/lesson-w", SDP, offer, &r), 201);
    char loc[160] = "", etag[64] = "";
    CHECK(location(&r, loc, sizeof loc));
    CHECK(strncmp(loc, "/whip/lesson-w/w", 16) == 0 && strlen(loc) == 16 + 16);
    CHECK(e2e_header(&r, "etag", etag, sizeof etag));
    CHECK(strlen(etag) == 19 && etag[0] == '"' && strncmp(etag + 1, loc + 15, 17) == 0);
    CHECK(has_header(&r, "accept-patch", "application/trickle-ice-sdpfrag"));
    CHECK(has_header(&r, "content-type", "application/sdp"));
    CHECK(has_header(&r, "access-control-allow-origin", "*"));
    CHECK(body_has(&r, "v=0"));
    CHECK(body_has(&r, "a=setup:active"));
    e2e_response_free(&r);

    /* PATCH: wrong type, an ICE restart (422), a trickle (204) */
    CHECK_EQ(http("PATCH", loc, SDP, "a=end-of-candidates\r\n", &r), 400);
    CHECK(body_has(&r, "application/trickle-ice-sdpfrag"));
    e2e_response_free(&r);
    CHECK_EQ(
        http("PATCH", loc, FRAG, "a=ice-ufrag:other\r\na=ice-pwd:xxxxxxxxxxxxxxxxxxxxxxxx\r\n", &r),
        422);
    CHECK(body_has(&r, "ICE restarts are not supported"));
    e2e_response_free(&r);
    CHECK_EQ(http("PATCH", loc, FRAG, "a=ice-ufrag:GfW\r\n", &r), 422); /* a prefix is not it */
    e2e_response_free(&r);
    const char *frag = "a=ice-ufrag:GfWB\r\n"
                       "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
                       "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"
                       "a=mid:0\r\n"
                       "a=candidate:1387637174 1 udp 2122260223 127.0.0.1 61764 typ host "
                       "generation 0\r\n"
                       "a=candidate:bogus\r\n"
                       "a=mid:0123456789012345678901234567890123456789\r\n"
                       "a=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n"
                       "a=end-of-candidates\r\n";
    CHECK_EQ(http("PATCH", loc, FRAG, frag, &r), 204);
    CHECK_EQ(r.body_len, 0);
    e2e_response_free(&r);
    CHECK_EQ(http("PATCH", loc, FRAG, "", &r), 204); /* an empty fragment */
    e2e_response_free(&r);
    CHECK_EQ(http("GET", loc, NULL, NULL, &r), 405);
    CHECK(has_header(&r, "allow", "OPTIONS, PATCH, DELETE"));
    e2e_response_free(&r);
    CHECK_EQ(http("POST", loc, SDP, offer, &r), 405);
    e2e_response_free(&r);

    /* a WHEP player in the same room; a WHIP id is not a WHEP session and the other way */
    replace_all(play, "a=sendrecv", "a=recvonly");
    CHECK_EQ(http("POST", "/whep/lesson-w", SDP, play, &r), 201);
    char wloc[160] = "";
    CHECK(location(&r, wloc, sizeof wloc));
    CHECK(strncmp(wloc, "/whep/lesson-w/e", 16) == 0);
    e2e_response_free(&r);
    char swapped[160];
    snprintf(swapped, sizeof swapped, "/whep%s", loc + 5);
    CHECK_EQ(http("DELETE", swapped, NULL, NULL, &r), 404);
    e2e_response_free(&r);
    snprintf(swapped, sizeof swapped, "/whip%s", wloc + 5);
    CHECK_EQ(http("DELETE", swapped, NULL, NULL, &r), 404);
    e2e_response_free(&r);
    char wrong_room[160];
    snprintf(wrong_room, sizeof wrong_room, "/whip/demo%s", loc + 14);
    CHECK_EQ(http("DELETE", wrong_room, NULL, NULL, &r), 404);
    e2e_response_free(&r);

    /* DELETE ends each session once; the ad-hoc room closes with the last */
    CHECK_EQ(http("DELETE", loc, NULL, NULL, &r), 200);
    e2e_response_free(&r);
    CHECK_EQ(http("DELETE", loc, NULL, NULL, &r), 404);
    e2e_response_free(&r);
    CHECK_EQ(http("PATCH", loc, FRAG, "a=end-of-candidates\r\n", &r), 404);
    e2e_response_free(&r);
    CHECK_EQ(http("DELETE", wloc, NULL, NULL, &r), 200);
    e2e_response_free(&r);
    CHECK_EQ(http("GET", "/api/v1/stats", NULL, NULL, &r), 200);
    json_t *v = json_loads(r.body ? r.body : "", 0, NULL);
    json_t *sig = json_object_get(v, "signaling");
    CHECK_EQ(json_integer_value(json_object_get(sig, "rooms")), 1); /* demo only */
    CHECK(json_integer_value(json_object_get(sig, "whip_sessions")) >= 1);
    CHECK(json_integer_value(json_object_get(sig, "whep_sessions")) >= 1);
    CHECK_EQ(json_integer_value(json_object_get(json_object_get(v, "relay"), "peers")), 0);
    json_decref(v);
    e2e_response_free(&r);
    free(offer);
    free(play);
}

/* RFC 8843 §6: a bundle-only video line (port 0 and a=bundle-only, as Firefox and
 * webrtcbin send with max-bundle) is published like any other, with its source, even when
 * it is the only line that sends (the audio line here is inactive). */
static void test_whip_bundle_only(void)
{
    char *offer = test_sdp_fixture("chrome_offer.sdp", NULL);
    CHECK(offer != NULL);
    if (!offer)
        return;
    replace_first(offer, "m=video 56039 ", "m=video 0 ");
    replace_first(offer, "a=mid:1\r\n", "a=mid:1\r\na=bundle-only\r\n");
    replace_first(offer, "a=sendrecv", "a=inactive");
    replace_first(offer, "a=sendrecv", "a=sendonly");
    struct e2e_response r;
    CHECK_EQ(http("POST", "/whip/bundled", SDP, offer, &r), 201);
    char loc[160] = "";
    CHECK(location(&r, loc, sizeof loc));
    CHECK(body_has(&r, "m=video"));
    e2e_response_free(&r);

    /* a websocket client in the room sees the video track, as the camera */
    int fd = e2e_ws_open();
    CHECK(fd >= 0);
    if (fd >= 0) {
        const char *join =
            "{\"type\":\"join\",\"id\":1,\"room\":\"bundled\",\"role\":\"classroom\"}";
        CHECK_EQ(e2e_ws_text(fd, join), 0);
        char *text = e2e_ws_read(fd, E2E_TIMEOUT_MS, NULL);
        json_t *reply = json_loads(text ? text : "", 0, NULL);
        json_t *tracks = json_object_get(reply, "tracks");
        CHECK_EQ(json_array_size(tracks), 1);
        int cameras = 0, mics = 0;
        for (size_t i = 0; i < json_array_size(tracks); i++) {
            json_t *t = json_array_get(tracks, i);
            const char *kind = json_string_value(json_object_get(t, "kind"));
            const char *source = json_string_value(json_object_get(t, "source"));
            cameras += kind && source && !strcmp(kind, "video") && !strcmp(source, "camera");
            mics += kind && source && !strcmp(kind, "audio") && !strcmp(source, "mic");
            CHECK_STR(json_string_value(json_object_get(t, "participant")), loc + 14);
        }
        CHECK_EQ(cameras, 1);
        CHECK_EQ(mics, 0);
        if (cameras != 1)
            fprintf(stderr, "tracks: %s\n", text ? text : "(no reply)");
        json_decref(reply);
        free(text);
        close(fd);
    }
    CHECK_EQ(http("DELETE", loc, NULL, NULL, &r), 200);
    e2e_response_free(&r);
    free(offer);
}

int main(void)
{
    if (e2e_start() != 0) {
        fprintf(stderr, "cannot start the server\n");
        return 1;
    }
    test_status();
    test_files();
    test_options();
    test_keepalive();
    test_limits();
    test_whip_errors();
    test_whip_session();
    test_whip_bundle_only();
    usleep(200 * 1000); /* let the server see the last close */
    e2e_stop_thread();
    CHECK_EQ(e2e_srv.counters.errors[SRV_ERR_INTERNAL], 0);
    CHECK(e2e_srv.counters.http_requests >= 60);
    CHECK(reg_room_find(e2e_srv.reg, "lesson-w") == NULL);
    CHECK(reg_room_find(e2e_srv.reg, "bundled") == NULL);
    server_stop(&e2e_srv);
    return test_report();
}
