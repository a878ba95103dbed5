/* The replay files: GET or HEAD /recordings/<id>/<file> serves DATA/recordings/<id>/vod/<file>
 * (docs/recording.md, "Replay links"); rest_recordings.h declares it.
 *
 * Access: a token that may read recordings (front/rest_auth.h, from the Authorization
 * header, the token= argument or the session cookie), or a replay grant for this recording
 * in the grant= argument (access/grant.h). A grant that is present decides alone: a bad one
 * answers 403, an expired one 401, with a JSON error, counted like every other refusal.
 *
 * Links that work anywhere: a player resolves the URIs of a playlist against the
 * playlist's URL and drops its query (RFC 8216 §4.1, RFC 3986 §5.2), so when access came in
 * the URL (token= or grant=) a playlist is answered rewritten: every relative URI carries
 * "grant=<g>" (transport/m3u8.h), g made for this recording and expiring with the token (at
 * most GRANT_TTL_MAX_S), or the request's own grant passed on. A rewritten playlist is made
 * for its request: "private, no-store", no validator, and a Range is answered with the whole
 * text (RFC 9110 §14.2 lets a server ignore it). The grant never holds the token, so a
 * leaked segment URL opens one recording for a few hours, not the user's account. The
 * catalogue's REC hands such links out ready-made ("links", rest_replay_links), to share
 * without the token in them.
 *
 * In a cluster (docs/cluster.md) a file that is not here (no shared recordings folder) is
 * asked of the node the catalogue names as the recording's holder: 307 to the same path and
 * query there, once access was checked here, with a grant added when access came in a
 * header or cookie (which do not follow a redirect to another origin).
 *
 * Other files can be hundreds of megabytes: they are streamed from a file descriptor by
 * http.c, and a single byte range (RFC 9110 §14: "bytes=a-b", "a-", "-n") answers 206 with
 * Content-Range, or 416 when it starts past the end; several ranges or an unknown unit get
 * the whole file. Playlists and info.json are revalidated (no-cache); media may be kept by
 * the player's own cache ("private": a shared cache must not hand it to others). */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/grant.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "cluster/directory.h"
#include "front/credentials.h"
#include "front/rest_auth.h"
#include "front/rest_recordings.h"
#include "transport/http_range.h"
#include "transport/m3u8.h"

#define FILE_PREFIX "/recordings/"
#define PLAYLIST_MAX (4u * 1024 * 1024) /* a playlist bigger than this is not ours */

/* A file name under vod/: components of [A-Za-z0-9._-] not starting with a dot. */
static bool vod_path_ok(const char *p)
{
    if (!p[0])
        return false;
    for (const char *c = p; *c; c++) {
        unsigned char ch = (unsigned char)*c;
        bool start = c == p || c[-1] == '/';
        if (start && (ch == '.' || ch == '/'))
            return false; /* "..", hidden files, "//" */
        if (!isalnum(ch) && ch != '/' && ch != '.' && ch != '_' && ch != '-')
            return false;
    }
    return p[strlen(p) - 1] != '/';
}

static const char *vod_type(const char *path, bool *revalidate)
{
    static const struct {
        const char *ext, *type;
        bool revalidate;
    } types[] = {
        {".m3u8", "application/vnd.apple.mpegurl", true},
        {".json", "application/json", true},
        {".ts", "video/mp2t", false},
        {".mp4", "video/mp4", false},
        {".m4s", "video/iso.segment", false},
        {".m4a", "audio/mp4", false},
        {".aac", "audio/aac", false},
        {".vtt", "text/vtt; charset=utf-8", true},
        {".jpg", "image/jpeg", false},
        {".png", "image/png", false},
    };
    const char *dot = strrchr(path, '.');
    *revalidate = false;
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++) {
        if (strcasecmp(dot, types[i].ext) == 0) {
            *revalidate = types[i].revalidate;
            return types[i].type;
        }
    }
    return "application/octet-stream";
}

/* Whether the request may read recording id's files; false after the refusal was answered.
 * On success grant holds what its playlists must carry: "" when access did not come in the
 * URL; and *exp_s when a grant made for this access expires. */
static bool may_read(struct server *srv, struct lws *wsi, struct http_req *req, const char *id,
                     char grant[GRANT_MAX + 1], int64_t *exp_s)
{
    char given[GRANT_MAX + 2];
    int64_t now_s = cr_wall_ms() / 1000;
    int g = http_query(wsi, "grant", given, sizeof given);
    grant[0] = '\0';
    if (g != 0) {
        int rc =
            g < 0 ? GRANT_ERR_MALFORMED : grant_check(srv->key, id, given, strlen(given), now_s);
        if (rc == GRANT_OK) {
            memcpy(grant, given, strlen(given) + 1);
            *exp_s = now_s; /* passed on as it is, never made again */
            return true;
        }
        CR_LOG_RATE(CR_LOG_INFO, "replay", "refused %s: %s", req->path, grant_err_message(rc));
        bool expired = rc == GRANT_ERR_EXPIRED;
        http_respond_error(srv, wsi, req, expired ? SRV_ERR_UNAUTHORIZED : SRV_ERR_FORBIDDEN,
                           grant_err_message(rc));
        if (expired)
            http_add_header(req, "WWW-Authenticate", "Bearer realm=\"classrelay\"");
        return false;
    }
    struct principal who;
    if (!rest_auth(srv, wsi, req, PERM_RECORDINGS_READ, false, &who))
        return false;
    *exp_s = grant_expiry(now_s, who.exp);
    if (cred_in_url(wsi) && grant_make(srv->key, id, *exp_s, grant) != 0)
        grant[0] = '\0'; /* an id that names no recording: 404 follows */
    return true;
}

/* When the catalogue says another node holds recording id (docs/cluster.md): answers 307 to
 * the same path and query on that node and returns true. Access goes along: the query's
 * token= or grant= works there (every node shares the key), else a grant is added. */
static bool to_holder(struct server *srv, struct lws *wsi, struct http_req *req, const char *id,
                      const char *grant, int64_t exp_s)
{
    char node[CAT_NODE_MAX], made[GRANT_MAX + 1], url[4096], given[GRANT_MAX + 2];
    if (!srv->catalog || catalog_rec_node(srv->catalog, id, node) != 0 || !node[0] ||
        strcmp(node, dir_url(srv->dir)) == 0)
        return false; /* unknown, a single node's, or this node's: the file is missing */
    size_t n = (size_t)snprintf(url, sizeof url, "%s", node);
    n = http_url_rest(wsi, req->path, url, n, sizeof url);
    if (http_query(wsi, "grant", given, sizeof given) == 0) { /* a cookie's or a header's */
        if (!grant[0] && grant_make(srv->key, id, exp_s, made) == 0)
            grant = made;
        if (grant[0] && n + strlen(grant) + 8 < sizeof url)
            snprintf(url + n, sizeof url - n, "%cgrant=%s", strchr(url, '?') ? '&' : '?', grant);
    }
    http_redirect(wsi, req, 307, url);
    http_add_header(req, "Cache-Control", "private, no-store");
    return true;
}

/* Answers the playlist in fd (size bytes) with each relative URI carrying grant. */
static void respond_playlist(struct server *srv, struct lws *wsi, struct http_req *req, int fd,
                             uint64_t size, const char *type, const char *grant)
{
    char *text = size <= PLAYLIST_MAX ? cr_malloc(size + 1) : NULL;
    ssize_t got = text ? pread(fd, text, size, 0) : -1;
    close(fd);
    if (got < 0 || (uint64_t)got != size) {
        free(text);
        CR_WARN("replay", "cannot read the playlist %s", req->path);
        http_respond_error(srv, wsi, req, SRV_ERR_INTERNAL, "cannot read the playlist");
        return;
    }
    char param[GRANT_MAX + 8];
    snprintf(param, sizeof param, "grant=%s", grant);
    size_t len;
    char *out = m3u8_add_param(text, size, param, &len);
    free(text);
    http_respond(wsi, req, 200, type, out, len);
    http_add_header(req, "Cache-Control", "private, no-store");
}

json_t *rest_replay_links(struct server *srv, const char *id, const json_t *rec,
                          int64_t token_exp_s)
{
    int64_t exp_s = grant_expiry(cr_wall_ms() / 1000, token_exp_s);
    char grant[GRANT_MAX + 1];
    const char *hls = json_string_value(json_object_get(rec, "hls"));
    const char *mp4 = json_string_value(json_object_get(rec, "mp4"));
    if ((!hls && !mp4) || grant_make(srv->key, id, exp_s, grant) != 0)
        return json_null();
    json_t *links = json_pack("{s:I}", "expires_ms", (json_int_t)exp_s * 1000);
    const char *urls[] = {hls, mp4}, *names[] = {"hls", "mp4"};
    for (int i = 0; i < 2; i++) {
        char u[512]; /* "/recordings/<id (128)>/<file name>" and the grant */
        bool fits =
            urls[i] && (size_t)snprintf(u, sizeof u, "%s?grant=%s", urls[i], grant) < sizeof u;
        json_object_set_new(links, names[i], fits ? json_string(u) : json_null());
    }
    return links;
}

/* The file of the request (a checked id and file name) as an open descriptor (st filled),
 * or -1. */
static int open_vod(struct server *srv, const char *id, const char *file, struct stat *st)
{
    char full[CONFIG_PATH_MAX + 400];
    if ((size_t)snprintf(full, sizeof full, "%s/recordings/%s/vod/%s", srv->cfg->data_dir, id,
                         file) >= sizeof full)
        return -1;
    int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0 && (fstat(fd, st) != 0 || !S_ISREG(st->st_mode))) {
        close(fd);
        fd = -1;
    }
    return fd;
}

void rest_recordings_file(struct server *srv, struct lws *wsi, struct http_req *req)
{
    const char *p = req->path + strlen(FILE_PREFIX), *slash = strchr(p, '/');
    char id[GRANT_SCOPE_MAX + 1] = "", grant[GRANT_MAX + 1];
    if (slash && (size_t)(slash - p) < sizeof id)
        snprintf(id, sizeof id, "%.*s", (int)(slash - p), p);
    int64_t exp_s;
    if (!may_read(srv, wsi, req, id, grant, &exp_s))
        return;
    bool named = slash && rest_recording_id_ok(p, (size_t)(slash - p)) && vod_path_ok(slash + 1);
    struct stat st;
    int fd = named ? open_vod(srv, id, slash + 1, &st) : -1;
    if (fd < 0 && named && to_holder(srv, wsi, req, id, grant, exp_s))
        return;
    if (fd < 0) {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such recording file");
        return;
    }
    bool revalidate;
    const char *type = vod_type(slash + 1, &revalidate);
    uint64_t size = (uint64_t)st.st_size, start = 0, len = size;
    if (grant[0] && strcmp(type, "application/vnd.apple.mpegurl") == 0) {
        respond_playlist(srv, wsi, req, fd, size, type, grant);
        return;
    }
    char range[128], value[96];
    int r = 0;
    if (lws_hdr_copy(wsi, range, sizeof range, WSI_TOKEN_HTTP_RANGE) > 0)
        r = http_range_parse(range, size, &start, &len);
    if (r < 0) {
        close(fd);
        http_respond_error(srv, wsi, req, SRV_ERR_BAD_REQUEST, "range not satisfiable");
        req->status = 416;
        snprintf(value, sizeof value, "bytes */%" PRIu64, size);
        http_add_header(req, "Content-Range", value);
        return;
    }
    http_respond_fd(wsi, req, r ? 206 : 200, type, fd, start, len);
    http_add_header(req, "Accept-Ranges", "bytes");
    http_add_header(req, "Cache-Control", revalidate ? "no-cache" : "private, max-age=3600");
    if (r) {
        snprintf(value, sizeof value, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, start,
                 start + len - 1, size);
        http_add_header(req, "Content-Range", value);
    }
}
