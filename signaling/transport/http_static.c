/* Static files of web/ (the pages): only names made of [A-Za-z0-9._-/] without ".." are
 * served, read whole (they are small) and sent like any other response. A classroom on a
 * 250 kbit/s school link loads its page over that link before it can join, so:
 *   - text (HTML, JavaScript, CSS, JSON, SVG) goes gzip-compressed to a client that accepts
 *     it (RFC 9110 §8.4.1.3, §12.5.3; zlib through transport/zfield.h): the classroom page's
 *     75 KB become about 20 KB;
 *   - every file carries a validator (ETag, RFC 9110 §8.8.3: size and modification time) and
 *     "Cache-Control: no-cache": a page opened again revalidates each file in one round trip
 *     and gets 304 Not Modified (RFC 9110 §13.1.2, §15.4.5) instead of the bytes. */
#include "transport/http.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/log.h"
#include "transport/zfield.h"

#define HTTP_MAX_FILE (8u * 1024 * 1024)
#define GZIP_MIN_BYTES 512 /* smaller ones gain less than the header costs */

static const char *mime_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".ico", "image/x-icon"},
        {".webp", "image/webp"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
        {".md", "text/markdown; charset=utf-8"},
        {".wasm", "application/wasm"},
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/')) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
            if (strcasecmp(dot, types[i].ext) == 0)
                return types[i].type;
        }
    }
    return "application/octet-stream";
}

static bool safe_path(const char *path)
{
    if (path[0] != '/' || strstr(path, "..") || strstr(path, "//"))
        return false;
    for (const char *p = path; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!isalnum(c) && c != '/' && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

/* Text worth compressing (images and fonts are compressed already). */
static bool compressible(const char *type)
{
    return strncmp(type, "text/", 5) == 0 || strcmp(type, "application/json") == 0 ||
           strcmp(type, "image/svg+xml") == 0;
}

/* The next element of a comma-separated header value (RFC 9110 §5.6.1), the blanks around
 * it cut; NULL after the last. list and save as for strtok_r. */
static char *list_next(char *list, char **save)
{
    char *tok = strtok_r(list, ",", save);
    if (!tok)
        return NULL;
    while (*tok == ' ' || *tok == '\t')
        tok++;
    size_t n = strlen(tok);
    while (n && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
        tok[--n] = '\0';
    return tok;
}

/* Whether Accept-Encoding lists gzip with a q-value other than 0 (RFC 9110 §12.5.3). */
static bool accepts_gzip(struct lws *wsi)
{
    char ae[256], *save = NULL;
    if (lws_hdr_copy(wsi, ae, sizeof ae, WSI_TOKEN_HTTP_ACCEPT_ENCODING) <= 0)
        return false;
    for (char *tok = list_next(ae, &save); tok; tok = list_next(NULL, &save)) {
        if (strncasecmp(tok, "gzip", 4) != 0 || (tok[4] && tok[4] != ';' && tok[4] != ' '))
            continue;
        const char *q = strstr(tok, "q=");
        return !q || strtod(q + 2, NULL) > 0;
    }
    return false;
}

/* Whether If-None-Match names etag (or is "*"); weak comparison (RFC 9110 §13.1.2). */
static bool not_modified(struct lws *wsi, const char *etag)
{
    char inm[512], *save = NULL;
    if (lws_hdr_copy(wsi, inm, sizeof inm, WSI_TOKEN_HTTP_IF_NONE_MATCH) <= 0)
        return false;
    for (char *tok = list_next(inm, &save); tok; tok = list_next(NULL, &save)) {
        if (strncmp(tok, "W/", 2) == 0)
            tok += 2;
        if (strcmp(tok, "*") == 0 || strcmp(tok, etag) == 0)
            return true;
    }
    return false;
}

static char *read_file(const char *path, size_t size, size_t *got)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = cr_malloc(size ? size : 1);
    *got = fread(data, 1, size, f);
    fclose(f);
    return data;
}

void http_serve_file(struct server *srv, struct lws *wsi, struct http_req *req)
{
    const char *rel = strcmp(req->path, "/") == 0 ? "/index.html" : req->path;
    char full[CONFIG_PATH_MAX + 300];
    struct stat st;
    if (!safe_path(rel) ||
        (size_t)snprintf(full, sizeof full, "%s%s", srv->cfg->web_dir, rel) >= sizeof full ||
        stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such page");
        return;
    }
    const char *type = mime_type(rel);
    bool gz = compressible(type) && st.st_size >= GZIP_MIN_BYTES && accepts_gzip(wsi);
    /* the encoded form is another representation: it has its own validator */
    char etag[96];
    snprintf(etag, sizeof etag, "\"%llx-%llx.%lx%s\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec, gz ? "-gz" : "");
    if (not_modified(wsi, etag)) {
        http_respond(wsi, req, 304, NULL, NULL, 0);
    } else {
        size_t got = 0;
        char *data =
            st.st_size <= (off_t)HTTP_MAX_FILE ? read_file(full, (size_t)st.st_size, &got) : NULL;
        if (!data) {
            CR_WARN("http", "cannot read %s: %s", full,
                    st.st_size > (off_t)HTTP_MAX_FILE ? "too big" : strerror(errno));
            http_respond_error(srv, wsi, req, SRV_ERR_INTERNAL, "cannot read the file");
            return;
        }
        if (gz) {
            size_t zlen;
            char *z = (char *)zfield_gzip(data, got, &zlen);
            free(data);
            data = z;
            got = zlen;
        }
        http_respond(wsi, req, 200, type, data, got);
        if (gz)
            http_add_header(req, "Content-Encoding", "gzip");
    }
    http_add_header(req, "Cache-Control", "no-cache");
    http_add_header(req, "ETag", etag);
    if (compressible(type))
        http_add_header(req, "Vary", "Accept-Encoding");
}
