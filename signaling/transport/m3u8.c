/* HLS playlists that carry access (RFC 8216). A player resolves a playlist's URIs against
 * the playlist's own URL (RFC 8216 §4.1, RFC 3986 §5.2), and that drops the URL's query: a
 * master playlist fetched with "?token=..." names variant playlists and segments that come
 * without it. So the server adds a parameter to each URI of a playlist it serves:
 *   - URI lines (§4.1: a line that is not blank and does not start with '#');
 *   - the URI="..." attribute of any tag (§4.2: EXT-X-MAP, EXT-X-MEDIA, EXT-X-KEY,
 *     EXT-X-I-FRAME-STREAM-INF, EXT-X-SESSION-DATA, ...), found as an attribute name, so a
 *     quoted value that merely contains the text is left alone.
 * #EXTINF is not an attribute list (its title is free text) and is left alone.
 * Only relative references are touched: one with a scheme (http:, data:, skd:) or a network
 * path ("//host/...") names another place, which must not be handed our credential. A line
 * whose attribute list is broken (an unterminated quote) keeps its bytes as they are; line
 * ends (LF or CRLF) and every other byte are copied unchanged. Leaves who may have the
 * parameter, and what it says, to the caller (front/rest_replay.c). */
#include "transport/m3u8.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "base/strbuf.h"

/* RFC 3986 §3.1, §4.2: scheme ":" or "//" at the start makes a reference non-relative. */
static bool relative_ref(const char *u, size_t n)
{
    if (n >= 2 && u[0] == '/' && u[1] == '/')
        return false;
    if (n == 0 || !isalpha((unsigned char)u[0]))
        return true;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        if (c == ':')
            return false;
        if (!isalnum(c) && c != '+' && c != '-' && c != '.')
            return true;
    }
    return true;
}

/* Appends the URI u (n bytes) with param added, when it is a relative reference. */
static void put_uri(struct strbuf *b, const char *u, size_t n, const char *param)
{
    if (n == 0 || !relative_ref(u, n)) {
        strbuf_append(b, u, n);
        return;
    }
    const char *hash = memchr(u, '#', n);
    size_t before = hash ? (size_t)(hash - u) : n;
    strbuf_append(b, u, before);
    strbuf_append(b, memchr(u, '?', before) ? "&" : "?", 1);
    strbuf_puts(b, param);
    strbuf_append(b, u + before, n - before);
}

/* A tag line (n bytes, without its line end): each URI="..." attribute value rewritten.
 * Attribute lists (§4.2) follow the tag name's ':' as name=value pairs split by commas,
 * values possibly quoted; the line is copied as it is when a quote does not close. */
static void put_tag(struct strbuf *b, const char *l, size_t n, const char *param)
{
    const char *colon = memchr(l, ':', n);
    if (!colon || memchr(l, '\0', n)) {
        strbuf_append(b, l, n);
        return;
    }
    const char *end = l + n, *p = colon + 1;
    struct strbuf out;
    strbuf_init(&out);
    strbuf_append(&out, l, (size_t)(p - l));
    while (p < end) {
        const char *name = p, *eq = p;
        while (eq < end && *eq != '=' && *eq != ',')
            eq++;
        bool is_uri = eq < end && *eq == '=' && eq - name == 3 && memcmp(name, "URI", 3) == 0;
        const char *v = eq < end && *eq == '=' ? eq + 1 : eq, *q = v;
        if (q < end && *q == '"') {
            q = memchr(q + 1, '"', (size_t)(end - q - 1));
            if (!q) { /* unterminated: not an attribute list we understand */
                strbuf_free(&out);
                strbuf_append(b, l, n);
                return;
            }
            q++;
        }
        while (q < end && *q != ',')
            q++;
        if (is_uri && v[0] == '"' && q - v >= 2 && q[-1] == '"') {
            strbuf_append(&out, name, (size_t)(v + 1 - name));
            put_uri(&out, v + 1, (size_t)(q - v - 2), param);
            strbuf_append(&out, "\"", 1);
        } else {
            strbuf_append(&out, name, (size_t)(q - name));
        }
        if (q < end) {
            strbuf_append(&out, ",", 1);
            q++;
        }
        p = q;
    }
    strbuf_append(b, out.s ? out.s : "", out.len);
    strbuf_free(&out);
}

char *m3u8_add_param(const char *text, size_t len, const char *param, size_t *out_len)
{
    struct strbuf b;
    strbuf_init(&b);
    strbuf_append(&b, "", 0);
    for (size_t at = 0; at < len;) {
        const char *l = text + at, *nl = memchr(l, '\n', len - at);
        size_t n = nl ? (size_t)(nl - l) : len - at, body = n;
        if (body && l[body - 1] == '\r')
            body--;
        size_t lead = 0; /* blanks before a URI line are not part of it */
        while (lead < body && (l[lead] == ' ' || l[lead] == '\t'))
            lead++;
        if (lead == body || memchr(l, '\0', body)) {
            strbuf_append(&b, l, body);
        } else if (l[lead] != '#') {
            size_t trail = body;
            while (trail > lead && (l[trail - 1] == ' ' || l[trail - 1] == '\t'))
                trail--;
            strbuf_append(&b, l, lead);
            put_uri(&b, l + lead, trail - lead, param);
            strbuf_append(&b, l + trail, body - trail);
        } else if (body > 4 && memcmp(l, "#EXT", 4) == 0 &&
                   (body < 8 || memcmp(l, "#EXTINF:", 8) != 0)) { /* EXTINF's title is text */
            put_tag(&b, l, body, param);
        } else {
            strbuf_append(&b, l, body); /* a comment */
        }
        strbuf_append(&b, l + body, n - body + (nl ? 1 : 0));
        at += n + (nl ? 1 : 0);
    }
    *out_len = b.len;
    return strbuf_take(&b);
}
