/* Shallow SDP scanning for signaling: see sdpscan.h. RFC 8866 (SDP) §5 for the line
 * grammar, §6.7 for direction attributes, RFC 5888 §4 for a=mid, RFC 8843 §6 for
 * a=bundle-only, RFC 8839 §5.4 for a=ice-ufrag, RFC 8840 §9 for trickle-ice-sdpfrag bodies. */
#include "front/sdpscan.h"

#include <string.h>

bool sdpscan_next_line(const char *buf, size_t len, size_t *pos, const char **line,
                       size_t *line_len)
{
    if (*pos >= len)
        return false;
    const char *start = buf + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - start) : len - *pos;
    *pos += nl ? n + 1 : n;
    if (n > 0 && start[n - 1] == '\r')
        n--;
    *line = start;
    *line_len = n;
    return true;
}

bool sdpscan_has_prefix(const char *line, size_t line_len, const char *prefix)
{
    size_t n = strlen(prefix);
    return line_len >= n && memcmp(line, prefix, n) == 0;
}

static int copy_field(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        return -1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

/* "m=<media> <port> <proto> <fmt> ..." */
static int scan_mline(const char *line, size_t n, struct sdpscan_mline *m)
{
    memset(m, 0, sizeof *m);
    const char *p = line + 2, *end = line + n;
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    if (!sp || copy_field(m->kind, sizeof m->kind, p, (size_t)(sp - p)) != 0)
        return -1;
    p = sp + 1;
    m->rejected = (end - p >= 2 && p[0] == '0' && p[1] == ' ');
    return 0;
}

int sdpscan_offer(const char *sdp, size_t len, struct sdpscan *out, const char **why)
{
    memset(out, 0, sizeof *out);
    size_t pos = 0, n;
    const char *line;
    if (!sdpscan_next_line(sdp, len, &pos, &line, &n) || n != 3 || memcmp(line, "v=0", 3)) {
        *why = "not an SDP description (it must begin with v=0)";
        return -1;
    }
    struct sdpscan_mline *cur = NULL;
    while (sdpscan_next_line(sdp, len, &pos, &line, &n)) {
        if (sdpscan_has_prefix(line, n, "m=")) {
            if (out->n == SDPSCAN_MAX_MLINES) {
                *why = "too many m-lines";
                return -1;
            }
            cur = &out->m[out->n++];
            if (scan_mline(line, n, cur) != 0) {
                *why = "malformed m-line";
                return -1;
            }
        } else if (sdpscan_has_prefix(line, n, "a=mid:") && cur) {
            if (copy_field(cur->mid, sizeof cur->mid, line + 6, n - 6) != 0) {
                *why = "a=mid value too long";
                return -1;
            }
        } else if (sdpscan_has_prefix(line, n, "a=ice-ufrag:") && !out->ice_ufrag[0]) {
            if (copy_field(out->ice_ufrag, sizeof out->ice_ufrag, line + 12, n - 12) != 0) {
                *why = "a=ice-ufrag value too long";
                return -1;
            }
        } else if (cur && n == 13 && memcmp(line, "a=bundle-only", 13) == 0) {
            cur->rejected = false; /* RFC 8843 §6: port 0 here means "in the bundle" */
        } else if (cur && n == 10 && memcmp(line, "a=sendrecv", 10) == 0) {
            cur->dir = SDPSCAN_SENDRECV; /* the last direction wins, as in relay/wire/sdp.c */
        } else if (cur && n == 10 && memcmp(line, "a=sendonly", 10) == 0) {
            cur->dir = SDPSCAN_SENDONLY;
        } else if (cur && n == 10 && memcmp(line, "a=recvonly", 10) == 0) {
            cur->dir = SDPSCAN_RECVONLY;
        } else if (cur && n == 10 && memcmp(line, "a=inactive", 10) == 0) {
            cur->dir = SDPSCAN_INACTIVE;
        }
    }
    if (out->n == 0) {
        *why = "the offer has no m-lines";
        return -1;
    }
    return 0;
}

bool sdpscan_client_sends(const struct sdpscan_mline *m)
{
    return !m->rejected && (m->dir == SDPSCAN_SENDRECV || m->dir == SDPSCAN_SENDONLY);
}
