/* SDP parsing (RFC 8866 §5) for WebRTC offers and answers: the line grammar "x=value",
 * o= (§5.2), m= (§5.14) and the attributes a relay acts on — mid and group (RFC 5888 §4,
 * §5) for BUNDLE (RFC 8843), direction (RFC 8866 §6.7), rtcp-mux (RFC 5761 §5.1.1),
 * rtcp-rsize (RFC 5506 §5), ICE (RFC 8839 §5), fingerprint (RFC 8122 §5), setup
 * (RFC 4145 §4), msid (RFC 8830 §2), rtpmap/fmtp (RFC 8866 §6.6, §6.15), rtcp-fb
 * (RFC 4585 §4.2), extmap (RFC 8285 §8), ssrc and ssrc-group (RFC 5576 §4), rid and
 * simulcast (RFC 8851 §4, RFC 8853 §5.1), candidates (RFC 8839 §5.1, end-of-candidates
 * RFC 8840), rtx apt (RFC 4588 §8.1), rtcp-xr rcvr-rtt (RFC 3611 §5.1) and a data channel
 * line's sctp-port and
 * max-message-size (RFC 8841 §5.1, §6.1).
 *
 * Values are slices of the caller's text; nothing is allocated. Attributes we do not know
 * are skipped; a malformed line we need is SDP_ERR_SYNTAX, and more lines than the fixed
 * arrays hold is SDP_ERR_LIMIT (an offer is refused, never silently truncated). Writing
 * answers and choosing codecs is the routing layer's work. */
#include "wire/sdp.h"

#include <string.h>
#include <strings.h>

struct parser {
    struct sdp_session *s;
    struct sdp_media *m; /* the section being read; NULL at session level */
    uint32_t fb_all;     /* a=rtcp-fb:* flags of the current section */
    bool seen_v;
    /* session-level values, copied into sections that lack their own */
    struct sdp_str ufrag, pwd, fp_alg, fp, setup;
};

/* ---- slices ---- */

bool sdp_str_eq(struct sdp_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && (n == 0 || memcmp(s.p, lit, n) == 0);
}

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

bool sdp_str_ieq(struct sdp_str s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (lower(s.p[i]) != lower(lit[i]))
            return false;
    }
    return true;
}

char *sdp_str_copy(struct sdp_str s, char *dst, size_t cap)
{
    if (cap == 0)
        return dst;
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n)
        memcpy(dst, s.p, n);
    dst[n] = '\0';
    return dst;
}

static bool is_space(char c) { return c == ' ' || c == '\t'; }

static struct sdp_str trim(struct sdp_str s)
{
    while (s.len && is_space(s.p[0])) {
        s.p++;
        s.len--;
    }
    while (s.len && is_space(s.p[s.len - 1]))
        s.len--;
    return s;
}

/* Takes the next space-separated token off *rest (empty at the end). */
static struct sdp_str next_tok(struct sdp_str *rest)
{
    *rest = trim(*rest);
    size_t n = 0;
    while (n < rest->len && !is_space(rest->p[n]))
        n++;
    struct sdp_str t = {rest->p, n};
    rest->p += n;
    rest->len -= n;
    *rest = trim(*rest);
    return t;
}

/* Splits s at the first c: *a before, *b after. False (and *a = s) if c is absent. */
static bool split_at(struct sdp_str s, char c, struct sdp_str *a, struct sdp_str *b)
{
    const char *hit = s.len ? memchr(s.p, c, s.len) : NULL;
    if (!hit) {
        *a = s;
        *b = (struct sdp_str){s.p + s.len, 0};
        return false;
    }
    *a = (struct sdp_str){s.p, (size_t)(hit - s.p)};
    *b = (struct sdp_str){hit + 1, s.len - (size_t)(hit - s.p) - 1};
    return true;
}

/* A decimal number of 1+ digits, no sign, not above max. */
static int parse_num(struct sdp_str s, uint64_t max, uint64_t *out)
{
    if (s.len == 0)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        unsigned d = (unsigned)(s.p[i] - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* ---- public lookups ---- */

const char *sdp_dir_name(enum sdp_dir d)
{
    switch (d) {
    case SDP_SENDRECV:
        return "sendrecv";
    case SDP_SENDONLY:
        return "sendonly";
    case SDP_RECVONLY:
        return "recvonly";
    default:
        return "inactive";
    }
}

enum sdp_dir sdp_dir_reverse(enum sdp_dir d)
{
    if (d == SDP_SENDONLY)
        return SDP_RECVONLY;
    if (d == SDP_RECVONLY)
        return SDP_SENDONLY;
    return d;
}

static int dir_from(struct sdp_str s, enum sdp_dir *d)
{
    static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
    for (int i = 0; i < 4; i++) {
        if (sdp_str_eq(s, names[i])) {
            *d = (enum sdp_dir)i;
            return 0;
        }
    }
    return -1;
}

const struct sdp_codec *sdp_codec_by_pt(const struct sdp_media *m, uint8_t pt)
{
    for (size_t i = 0; i < m->n_codecs; i++) {
        if (m->codecs[i].pt == pt)
            return &m->codecs[i];
    }
    return NULL;
}

uint8_t sdp_ext_id(const struct sdp_media *m, const char *uri)
{
    for (size_t i = 0; i < m->n_exts; i++) {
        if (sdp_str_eq(m->exts[i].uri, uri))
            return m->exts[i].id;
    }
    return 0;
}

struct sdp_str sdp_fmtp_get(struct sdp_str fmtp, const char *key)
{
    /* RFC 8866 §6.15: format-specific "key=value;key=value" (RFC 6184 §8.1 style) */
    struct sdp_str rest = fmtp, param, k, v;
    while (rest.len) {
        split_at(rest, ';', &param, &rest);
        split_at(trim(param), '=', &k, &v);
        if (sdp_str_ieq(trim(k), key))
            return trim(v);
    }
    return (struct sdp_str){"", 0};
}

/* ---- section state ---- */

static struct sdp_codec *codec_get(struct sdp_media *m, uint8_t pt, int *rc)
{
    for (size_t i = 0; i < m->n_codecs; i++) {
        if (m->codecs[i].pt == pt)
            return &m->codecs[i];
    }
    if (m->n_codecs == SDP_MAX_CODECS) {
        *rc = SDP_ERR_LIMIT;
        return NULL;
    }
    struct sdp_codec *c = &m->codecs[m->n_codecs++];
    memset(c, 0, sizeof *c);
    c->pt = pt;
    c->apt = -1;
    return c;
}

static struct sdp_ssrc *ssrc_get(struct sdp_media *m, uint32_t ssrc, int *rc)
{
    for (size_t i = 0; i < m->n_ssrcs; i++) {
        if (m->ssrcs[i].ssrc == ssrc)
            return &m->ssrcs[i];
    }
    if (m->n_ssrcs == SDP_MAX_SSRCS) {
        *rc = SDP_ERR_LIMIT;
        return NULL;
    }
    struct sdp_ssrc *s = &m->ssrcs[m->n_ssrcs++];
    memset(s, 0, sizeof *s);
    s->ssrc = ssrc;
    return s;
}

/* Ends the current media section: a=rtcp-fb:* applies to every codec in it. */
static void close_media(struct parser *p)
{
    if (!p->m)
        return;
    for (size_t i = 0; i < p->m->n_codecs; i++)
        p->m->codecs[i].fb |= p->fb_all;
    p->fb_all = 0;
}

/* The payload type at the start of *rest: 0..127 (RFC 3550 §5.1: 7 bits). */
static int take_pt(struct sdp_str *rest, uint8_t *pt)
{
    uint64_t v;
    if (parse_num(next_tok(rest), 127, &v) < 0)
        return -1;
    *pt = (uint8_t)v;
    return 0;
}

/* ---- attributes (RFC 8866 §6: a=<name>[:<value>]) ---- */

static int attr_mid(struct parser *p, struct sdp_str v)
{
    p->m->mid = v; /* RFC 5888 §4 */
    return SDP_OK;
}

static int attr_dir(struct parser *p, struct sdp_str name)
{
    dir_from(name, &p->m->dir); /* RFC 8866 §6.7: the name is the value */
    return SDP_OK;
}

static int attr_flag(struct parser *p, struct sdp_str name)
{
    if (sdp_str_eq(name, "rtcp-mux"))
        p->m->rtcp_mux = true;
    else if (sdp_str_eq(name, "rtcp-rsize"))
        p->m->rtcp_rsize = true;
    else if (sdp_str_eq(name, "bundle-only"))
        p->m->bundle_only = true;
    else if (sdp_str_eq(name, "end-of-candidates"))
        p->m->end_of_candidates = true; /* RFC 8840 */
    return SDP_OK;
}

/* ICE, fingerprint and setup are valid at either level (RFC 8839 §5.4). */
static int attr_ice_ufrag(struct parser *p, struct sdp_str v)
{
    *(p->m ? &p->m->ice_ufrag : &p->ufrag) = v;
    return SDP_OK;
}

static int attr_ice_pwd(struct parser *p, struct sdp_str v)
{
    *(p->m ? &p->m->ice_pwd : &p->pwd) = v;
    return SDP_OK;
}

static int attr_fingerprint(struct parser *p, struct sdp_str v)
{
    /* RFC 8122 §5: hash-func SP fingerprint */
    struct sdp_str alg = next_tok(&v), fp = next_tok(&v);
    if (!alg.len || !fp.len)
        return SDP_ERR_SYNTAX;
    /* a section may carry several (aiortc lists sha-256, -384, -512): keep the first */
    if ((p->m ? p->m->fingerprint : p->fp).len)
        return SDP_OK;
    *(p->m ? &p->m->fingerprint_alg : &p->fp_alg) = alg;
    *(p->m ? &p->m->fingerprint : &p->fp) = fp;
    return SDP_OK;
}

static int attr_setup(struct parser *p, struct sdp_str v)
{
    *(p->m ? &p->m->setup : &p->setup) = v; /* RFC 4145 §4 */
    return SDP_OK;
}

static int attr_msid(struct parser *p, struct sdp_str v)
{
    p->m->msid = v; /* RFC 8830 §2 */
    return SDP_OK;
}

static int attr_simulcast(struct parser *p, struct sdp_str v)
{
    p->m->simulcast = v; /* RFC 8853 §5.1, kept raw */
    return SDP_OK;
}

/* RFC 8841 §5.1: a=sctp-port:<port> of the SCTP association of an m=application line */
/* RFC 3611 §5.1: a=rtcp-xr with a rcvr-rtt parameter (Chromium sends "rcvr-rtt=all"). */
static int attr_rtcp_xr(struct parser *p, struct sdp_str v)
{
    for (size_t i = 0; i + 8 <= v.len; i++)
        if (strncasecmp(v.p + i, "rcvr-rtt", 8) == 0)
            p->m->xr_rrtr = true;
    return SDP_OK;
}

static int attr_sctp_port(struct parser *p, struct sdp_str v)
{
    uint64_t port;
    if (parse_num(v, 65535, &port) < 0 || port == 0)
        return SDP_ERR_SYNTAX;
    p->m->sctp_port = (uint16_t)port;
    return SDP_OK;
}

/* draft-ietf-mmusic-sctp-sdp-05 §5 (before RFC 8841, still sent by aiortc and old
 * browsers): a=sctpmap:<port> webrtc-datachannel [<streams>], with "DTLS/SCTP <port>" */
static int attr_sctpmap(struct parser *p, struct sdp_str v)
{
    uint64_t port;
    if (parse_num(next_tok(&v), 65535, &port) < 0 || port == 0)
        return SDP_ERR_SYNTAX;
    if (sdp_str_eq(next_tok(&v), "webrtc-datachannel")) {
        p->m->sctp_port = (uint16_t)port;
        p->m->sctpmap = true;
    }
    return SDP_OK;
}

/* RFC 8841 §6.1: a=max-message-size:<bytes>, 0 for "no limit" (kept as 0) */
static int attr_max_message_size(struct parser *p, struct sdp_str v)
{
    uint64_t n;
    if (parse_num(v, UINT32_MAX, &n) < 0)
        return SDP_ERR_SYNTAX;
    p->m->max_message_size = (uint32_t)n;
    p->m->has_max_message_size = true;
    return SDP_OK;
}

/* RFC 8866 §6.6: a=rtpmap:<pt> <name>/<clock rate>[/<channels>] */
static int attr_rtpmap(struct parser *p, struct sdp_str v)
{
    uint8_t pt;
    int rc = SDP_OK;
    if (take_pt(&v, &pt) < 0)
        return SDP_ERR_SYNTAX;
    struct sdp_str enc = next_tok(&v), name, rest, clock, chans;
    uint64_t rate, ch = 0;
    split_at(enc, '/', &name, &rest);
    bool has_ch = split_at(rest, '/', &clock, &chans);
    if (!name.len || parse_num(clock, UINT32_MAX, &rate) < 0 ||
        (has_ch && parse_num(chans, 255, &ch) < 0))
        return SDP_ERR_SYNTAX;
    struct sdp_codec *c = codec_get(p->m, pt, &rc);
    if (!c)
        return rc;
    c->name = name;
    c->clock_rate = (uint32_t)rate;
    c->channels = (uint8_t)ch;
    return SDP_OK;
}

/* RFC 8866 §6.15: a=fmtp:<pt> <params>; RFC 4588 §8.1: rtx names its codec by apt= */
static int attr_fmtp(struct parser *p, struct sdp_str v)
{
    uint8_t pt;
    int rc = SDP_OK;
    if (take_pt(&v, &pt) < 0)
        return SDP_ERR_SYNTAX;
    struct sdp_codec *c = codec_get(p->m, pt, &rc);
    if (!c)
        return rc;
    c->fmtp = v;
    struct sdp_str apt = sdp_fmtp_get(v, "apt");
    uint64_t a;
    if (apt.len) {
        if (parse_num(apt, 127, &a) < 0)
            return SDP_ERR_SYNTAX;
        c->apt = (int)a;
    }
    return SDP_OK;
}

/* RFC 4585 §4.2: a=rtcp-fb:<pt>|* <type> [<param>] */
static int attr_rtcp_fb(struct parser *p, struct sdp_str v)
{
    struct sdp_str pt_s = next_tok(&v), type = next_tok(&v), param = next_tok(&v);
    uint32_t flag = 0;
    if (sdp_str_eq(type, "nack"))
        flag = param.len == 0 ? SDP_FB_NACK : sdp_str_eq(param, "pli") ? SDP_FB_NACK_PLI : 0;
    else if (sdp_str_eq(type, "ccm") && sdp_str_eq(param, "fir"))
        flag = SDP_FB_CCM_FIR; /* RFC 5104 §7.1 */
    else if (sdp_str_eq(type, "goog-remb"))
        flag = SDP_FB_GOOG_REMB;
    else if (sdp_str_eq(type, "transport-cc"))
        flag = SDP_FB_TRANSPORT_CC;
    if (sdp_str_eq(pt_s, "*")) {
        p->fb_all |= flag;
        return SDP_OK;
    }
    uint64_t pt;
    int rc = SDP_OK;
    if (parse_num(pt_s, 127, &pt) < 0)
        return SDP_ERR_SYNTAX;
    struct sdp_codec *c = codec_get(p->m, (uint8_t)pt, &rc);
    if (!c)
        return rc;
    c->fb |= flag;
    return SDP_OK;
}

/* RFC 8285 §8: a=extmap:<id>[/<direction>] <URI> [<attributes>], id 1..255 */
static int attr_extmap(struct parser *p, struct sdp_str v)
{
    struct sdp_str idd = next_tok(&v), uri = next_tok(&v), id_s, dir_s;
    enum sdp_dir dir = SDP_SENDRECV;
    uint64_t id;
    bool has_dir = split_at(idd, '/', &id_s, &dir_s);
    if (parse_num(id_s, 255, &id) < 0 || id == 0 || (has_dir && dir_from(dir_s, &dir) < 0) ||
        !uri.len)
        return SDP_ERR_SYNTAX;
    if (p->m->n_exts == SDP_MAX_EXTS)
        return SDP_ERR_LIMIT;
    p->m->exts[p->m->n_exts++] = (struct sdp_ext){.id = (uint8_t)id, .uri = uri, .dir = dir};
    return SDP_OK;
}

/* RFC 5576 §4.1: a=ssrc:<ssrc-id> <attribute>[:<value>] */
static int attr_ssrc(struct parser *p, struct sdp_str v)
{
    uint64_t id;
    int rc = SDP_OK;
    if (parse_num(next_tok(&v), UINT32_MAX, &id) < 0)
        return SDP_ERR_SYNTAX;
    struct sdp_ssrc *s = ssrc_get(p->m, (uint32_t)id, &rc);
    if (!s)
        return rc;
    struct sdp_str name, value;
    split_at(v, ':', &name, &value);
    if (sdp_str_eq(name, "cname"))
        s->cname = value;
    else if (sdp_str_eq(name, "msid"))
        s->msid = value;
    return SDP_OK;
}

/* RFC 5576 §4.2: a=ssrc-group:<semantics> <ssrc-id> ...; FID is media + rtx (RFC 4588);
 * SIM lists a simulcast line's layers in the order of its a=simulcast (what a relay that
 * mirrors a track to another announces, so the layers are known without the rid extension) */
static int attr_ssrc_group(struct parser *p, struct sdp_str v)
{
    struct sdp_str sem = next_tok(&v);
    bool fid = sdp_str_eq(sem, "FID");
    if (!fid && !sdp_str_eq(sem, "SIM"))
        return SDP_OK;
    uint32_t ids[SDP_MAX_RIDS];
    size_t n = 0;
    for (struct sdp_str t = next_tok(&v); t.len; t = next_tok(&v)) {
        uint64_t x;
        if (parse_num(t, UINT32_MAX, &x) < 0)
            return SDP_ERR_SYNTAX;
        if (n < SDP_MAX_RIDS)
            ids[n++] = (uint32_t)x;
    }
    if (fid && n < 2)
        return SDP_ERR_SYNTAX;
    if (fid && p->m->fid_ssrcs[0] == 0) { /* the first pair; legacy simulcast lists more */
        p->m->fid_ssrcs[0] = ids[0];
        p->m->fid_ssrcs[1] = ids[1];
    } else if (!fid && !p->m->n_sim_ssrcs) {
        memcpy(p->m->sim_ssrcs, ids, n * sizeof ids[0]);
        p->m->n_sim_ssrcs = n;
    }
    return SDP_OK;
}

/* RFC 8851 §4: a=rid:<rid-id> <direction> [<restrictions>] */
static int attr_rid(struct parser *p, struct sdp_str v)
{
    struct sdp_str id = next_tok(&v), dir = next_tok(&v);
    if (!id.len || !(sdp_str_eq(dir, "send") || sdp_str_eq(dir, "recv")))
        return SDP_ERR_SYNTAX;
    if (p->m->n_rids == SDP_MAX_RIDS)
        return SDP_ERR_LIMIT;
    p->m->rids[p->m->n_rids++] = (struct sdp_rid){.id = id, .send = sdp_str_eq(dir, "send")};
    return SDP_OK;
}

/* RFC 8839 §5.1; kept whole ("candidate:..."), the ICE agent parses it */
static int attr_candidate(struct parser *p, struct sdp_str whole)
{
    if (p->m->n_candidates == SDP_MAX_CANDIDATES)
        return SDP_ERR_LIMIT;
    p->m->candidates[p->m->n_candidates++] = whole;
    return SDP_OK;
}

/* RFC 5888 §5, RFC 8843: a=group:BUNDLE <mid> ... (other semantics are ignored) */
static int attr_group(struct parser *p, struct sdp_str v)
{
    if (!sdp_str_eq(next_tok(&v), "BUNDLE"))
        return SDP_OK;
    for (struct sdp_str mid = next_tok(&v); mid.len; mid = next_tok(&v)) {
        if (p->s->n_bundle == SDP_MAX_BUNDLE)
            return SDP_ERR_LIMIT;
        p->s->bundle_mids[p->s->n_bundle++] = mid;
    }
    return SDP_OK;
}

static int attr_ice_lite(struct parser *p, struct sdp_str v)
{
    p->s->ice_lite = true; /* RFC 8839 §5.3, session level */
    return SDP_OK;
}

static int attr_ice_options(struct parser *p, struct sdp_str v)
{
    /* RFC 8839 §5.6; browsers put it in each section, we keep one flag */
    for (struct sdp_str o = next_tok(&v); o.len; o = next_tok(&v)) {
        if (sdp_str_eq(o, "trickle"))
            p->s->ice_trickle = true;
    }
    return SDP_OK;
}

enum arg { ARG_VALUE, ARG_NAME, ARG_WHOLE }; /* what a handler is given */
static const struct attr {
    const char *name;
    int (*fn)(struct parser *, struct sdp_str);
    enum arg arg;
    bool media_only; /* ignored before the first m= line */
} attrs[] = {
    {"mid", attr_mid, ARG_VALUE, true},
    {"sendrecv", attr_dir, ARG_NAME, true},
    {"sendonly", attr_dir, ARG_NAME, true},
    {"recvonly", attr_dir, ARG_NAME, true},
    {"inactive", attr_dir, ARG_NAME, true},
    {"rtcp-mux", attr_flag, ARG_NAME, true},
    {"rtcp-rsize", attr_flag, ARG_NAME, true},
    {"bundle-only", attr_flag, ARG_NAME, true},
    {"end-of-candidates", attr_flag, ARG_NAME, true},
    {"ice-ufrag", attr_ice_ufrag, ARG_VALUE, false},
    {"ice-pwd", attr_ice_pwd, ARG_VALUE, false},
    {"fingerprint", attr_fingerprint, ARG_VALUE, false},
    {"setup", attr_setup, ARG_VALUE, false},
    {"msid", attr_msid, ARG_VALUE, true},
    {"simulcast", attr_simulcast, ARG_VALUE, true},
    {"rtcp-xr", attr_rtcp_xr, ARG_VALUE, true},
    {"sctp-port", attr_sctp_port, ARG_VALUE, true},
    {"sctpmap", attr_sctpmap, ARG_VALUE, true},
    {"max-message-size", attr_max_message_size, ARG_VALUE, true},
    {"rtpmap", attr_rtpmap, ARG_VALUE, true},
    {"fmtp", attr_fmtp, ARG_VALUE, true},
    {"rtcp-fb", attr_rtcp_fb, ARG_VALUE, true},
    {"extmap", attr_extmap, ARG_VALUE, true},
    {"ssrc", attr_ssrc, ARG_VALUE, true},
    {"ssrc-group", attr_ssrc_group, ARG_VALUE, true},
    {"rid", attr_rid, ARG_VALUE, true},
    {"candidate", attr_candidate, ARG_WHOLE, true},
    {"group", attr_group, ARG_VALUE, false},
    {"ice-lite", attr_ice_lite, ARG_VALUE, false},
    {"ice-options", attr_ice_options, ARG_VALUE, false},
};

static int parse_attribute(struct parser *p, struct sdp_str whole)
{
    struct sdp_str name, value;
    split_at(whole, ':', &name, &value);
    name = trim(name); /* "a=rtcp-mux " */
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        const struct attr *a = &attrs[i];
        if (!sdp_str_eq(name, a->name))
            continue;
        if (a->media_only && !p->m)
            return SDP_OK;
        return a->fn(p, a->arg == ARG_NAME ? name : a->arg == ARG_WHOLE ? whole : trim(value));
    }
    return SDP_OK; /* RFC 8866 §5.13: unknown attributes are ignored */
}

/* ---- lines ---- */

/* RFC 8866 §5.2 o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address> */
static int parse_origin(struct parser *p, struct sdp_str v)
{
    uint64_t id, ver;
    next_tok(&v);
    if (parse_num(next_tok(&v), UINT64_MAX, &id) < 0 ||
        parse_num(next_tok(&v), UINT64_MAX, &ver) < 0)
        return SDP_ERR_SYNTAX;
    p->s->origin_sess_id = id;
    p->s->origin_sess_version = ver;
    return SDP_OK;
}

/* RFC 8866 §5.14 m=<media> <port>[/<number of ports>] <proto> <fmt> ... */
static int parse_m_line(struct parser *p, struct sdp_str v)
{
    close_media(p);
    if (p->s->n_media == SDP_MAX_MEDIA)
        return SDP_ERR_LIMIT;
    struct sdp_str type = next_tok(&v), port_s = next_tok(&v), proto = next_tok(&v);
    struct sdp_str port_n, count;
    uint64_t port, n;
    bool has_count = split_at(port_s, '/', &port_n, &count);
    if (type.len == 0 || proto.len == 0 || parse_num(port_n, 65535, &port) < 0 ||
        (has_count && parse_num(count, 65535, &n) < 0))
        return SDP_ERR_SYNTAX;
    struct sdp_media *m = &p->s->media[p->s->n_media++];
    memset(m, 0, sizeof *m);
    m->type = type;
    m->port = (uint16_t)port;
    m->proto = proto;
    m->fmts = v;
    p->m = m;
    return SDP_OK;
}

static int parse_line(struct parser *p, struct sdp_str line)
{
    /* RFC 8866 §5: <type>=<value>, type one letter; text excludes NUL, CR and LF (§9) */
    for (size_t i = 0; i < line.len; i++) {
        if ((unsigned char)line.p[i] < 0x20 && line.p[i] != '\t')
            return SDP_ERR_SYNTAX;
    }
    if (line.len < 2 || line.p[1] != '=' || line.p[0] < 'a' || line.p[0] > 'z')
        return SDP_ERR_SYNTAX;
    struct sdp_str v = {line.p + 2, line.len - 2};
    if (!p->seen_v) { /* §5: a description starts with v= */
        p->seen_v = true;
        return line.p[0] == 'v' ? SDP_OK : SDP_ERR_SYNTAX;
    }
    switch (line.p[0]) {
    case 'o':
        return parse_origin(p, v);
    case 'm':
        return parse_m_line(p, v);
    case 'a':
        return parse_attribute(p, v);
    default:
        return SDP_OK; /* s=, t=, c=, b=, ...: nothing the relay needs */
    }
}

/* Session-level ICE credentials, fingerprint and setup apply to sections without their
 * own (RFC 8839 §5.4, RFC 8122 §5, RFC 4145 §4). */
static void inherit_session(struct parser *p)
{
    for (size_t i = 0; i < p->s->n_media; i++) {
        struct sdp_media *m = &p->s->media[i];
        if (!m->ice_ufrag.len)
            m->ice_ufrag = p->ufrag;
        if (!m->ice_pwd.len)
            m->ice_pwd = p->pwd;
        if (!m->fingerprint.len) {
            m->fingerprint_alg = p->fp_alg;
            m->fingerprint = p->fp;
        }
        if (!m->setup.len)
            m->setup = p->setup;
    }
}

int sdp_parse(const char *text, size_t len, struct sdp_session *out, int *err_line)
{
    struct parser p = {.s = out};
    memset(out, 0, sizeof *out);
    if (!text)
        len = 0;
    size_t pos = 0;
    int line_no = 0, rc = SDP_OK;
    while (pos < len && rc == SDP_OK) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        struct sdp_str line = {text + pos, end - pos};
        pos = nl ? end + 1 : len;
        line_no++;
        if (line.len && line.p[line.len - 1] == '\r') /* CRLF or LF line ends */
            line.len--;
        if (line.len)
            rc = parse_line(&p, line);
    }
    if (rc == SDP_OK && !p.seen_v)
        rc = SDP_ERR_MISSING;
    if (rc != SDP_OK) {
        if (err_line)
            *err_line = line_no > 0 ? line_no : 1;
        return rc;
    }
    close_media(&p);
    inherit_session(&p);
    return SDP_OK;
}
