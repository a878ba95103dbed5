/* A cascade link's offer from a publisher's offer: see sdp_mirror.h (RFC 8829, RFC 8839,
 * RFC 8842, RFC 5576, RFC 8853). */
#include "wire/sdp_mirror.h"

#include <stdbool.h>
#include <string.h>

#define LINE_MAX_BYTES 4096

/* Attributes that describe the publisher's transport or streams, replaced by ours. */
static bool replaced(const char *line, size_t n)
{
    static const char *const drop[] = {
        "a=ice-ufrag:", "a=ice-pwd:",   "a=ice-options:",      "a=ice-lite", "a=fingerprint:",
        "a=setup:",     "a=candidate:", "a=end-of-candidates", "a=ssrc:",    "a=ssrc-group:",
        "a=group:",     "a=sendrecv",   "a=sendonly",          "a=recvonly", "a=inactive",
    };
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++) {
        size_t k = strlen(drop[i]);
        if (n >= k && memcmp(line, drop[i], k) == 0)
            return true;
    }
    return false;
}

/* The next line of *p (without its end), advancing *p; false at the end. */
static bool next_line(const char **p, const char **line, size_t *n)
{
    if (!**p)
        return false;
    const char *s = *p, *e = s + strcspn(s, "\r\n");
    *line = s;
    *n = (size_t)(e - s);
    if (*e == '\r')
        e++;
    if (*e == '\n')
        e++;
    *p = e;
    return true;
}

/* The line of mr whose mid is the section's (a=mid: within [sec, end)), or NULL. */
static const struct sdp_mirror_line *section_line(const char *sec, const char *end,
                                                  const struct sdp_mirror *mr)
{
    const char *p = sec, *line;
    size_t n;
    while (p < end && next_line(&p, &line, &n)) {
        if (n <= 6 || memcmp(line, "a=mid:", 6) != 0)
            continue;
        for (size_t i = 0; i < mr->n_lines; i++)
            if (strlen(mr->lines[i].mid) == n - 6 && memcmp(line + 6, mr->lines[i].mid, n - 6) == 0)
                return &mr->lines[i];
        return NULL;
    }
    return NULL;
}

static void write_ssrcs(struct strbuf *b, const struct sdp_mirror_line *ml)
{
    size_t known = 0;
    for (size_t i = 0; i < ml->n_ssrcs; i++)
        known += ml->ssrcs[i] != 0;
    if (!known || (ml->n_ssrcs > 1 && known != ml->n_ssrcs))
        return; /* the rid and mid extensions of the first packets name them */
    if (ml->n_ssrcs > 1) {
        strbuf_puts(b, "a=ssrc-group:SIM");
        for (size_t i = 0; i < ml->n_ssrcs; i++)
            strbuf_printf(b, " %u", ml->ssrcs[i]);
        strbuf_puts(b, "\r\n");
    }
    for (size_t i = 0; i < ml->n_ssrcs; i++)
        strbuf_printf(b, "a=ssrc:%u cname:classrelay-link\r\n", ml->ssrcs[i]);
}

static const char *skip(const char *p, const char *end, bool ws)
{
    while (p < end && (*p == ' ' || *p == '\t') == ws)
        p++;
    return p;
}

/* "m=<media> <port>[/<n>] <rest>" with port 9 (the parser's tokens: runs of spaces or
 * tabs between them); false if it has no such shape (then it goes as it is). */
static bool write_m_line(struct strbuf *b, const char *line, size_t n)
{
    const char *end = line + n, *media = skip(line + 2, end, true);
    const char *media_end = skip(media, end, false), *port = skip(media_end, end, true);
    const char *port_end = skip(port, end, false);
    if (media == media_end || port == port_end || port_end == end)
        return false;
    strbuf_puts(b, "m=");
    strbuf_append(b, media, (size_t)(media_end - media));
    strbuf_puts(b, " 9");
    strbuf_append(b, port_end, (size_t)(end - port_end));
    strbuf_puts(b, "\r\n");
    return true;
}

/* One kept m-section [sec, end): the publisher's lines but its transport, then ours. */
static void write_section(struct strbuf *b, const char *sec, const char *end,
                          const struct sdp_mirror *mr, const struct sdp_mirror_line *ml, bool first)
{
    const char *p = sec, *line;
    size_t n;
    while (p < end && next_line(&p, &line, &n)) {
        if (replaced(line, n))
            continue;
        if (n > 2 && memcmp(line, "m=", 2) == 0 && write_m_line(b, line, n))
            continue;
        strbuf_append(b, line, n);
        strbuf_puts(b, "\r\n");
    }
    strbuf_printf(b,
                  "a=sendonly\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\n"
                  "a=setup:actpass\r\n",
                  mr->ufrag, mr->pwd, mr->fingerprint);
    write_ssrcs(b, ml);
    if (first && mr->candidates) {
        strbuf_puts(b, mr->candidates);
        strbuf_puts(b, "a=end-of-candidates\r\n");
    }
}

/* Where the m-section starting at sec ends: the next "m=" line, or the end of the text. */
static const char *section_end(const char *sec)
{
    const char *p = sec, *line;
    size_t n;
    next_line(&p, &line, &n); /* its own m= line */
    for (const char *q = p; next_line(&q, &line, &n); p = q)
        if (n >= 2 && memcmp(line, "m=", 2) == 0)
            return p;
    return p;
}

static bool lines_short(const char *offer)
{
    const char *p = offer, *line;
    size_t n;
    while (next_line(&p, &line, &n))
        if (n > LINE_MAX_BYTES)
            return false;
    return true;
}

int sdp_mirror_offer(const char *offer, const struct sdp_mirror *mr, struct strbuf *out)
{
    const char *first_m = strncmp(offer, "m=", 2) == 0 ? offer : strstr(offer, "\nm=");
    if (!first_m || !lines_short(offer))
        return -1;
    if (first_m != offer)
        first_m++;
    strbuf_printf(out, "v=0\r\no=- %llu 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
                  (unsigned long long)mr->sess_id);
    strbuf_puts(out, "a=group:BUNDLE");
    for (const char *sec = first_m; *sec; sec = section_end(sec)) {
        const struct sdp_mirror_line *ml = section_line(sec, section_end(sec), mr);
        if (ml)
            strbuf_printf(out, " %s", ml->mid);
    }
    strbuf_puts(out, "\r\na=msid-semantic: WMS *\r\n");
    int written = 0;
    for (const char *sec = first_m; *sec; sec = section_end(sec)) {
        const char *end = section_end(sec);
        const struct sdp_mirror_line *ml = section_line(sec, end, mr);
        if (ml)
            write_section(out, sec, end, mr, ml, written++ == 0);
    }
    return written;
}
