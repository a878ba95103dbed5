/* Fuzz entry point for relay/wire/sdp.c: parses the input as SDP, checks that every
 * slice of the result lies inside the input, and runs the lookups on what parsed. */
#include <stdlib.h>
#include <string.h>

#include "wire/codec.h"
#include "wire/sdp.h"

static const char *lo, *hi;

static void in_input(struct sdp_str s)
{
    if (s.len && (s.p < lo || s.p + s.len > hi))
        abort();
}

static void check_media(const struct sdp_media *m)
{
    in_input(m->type);
    in_input(m->proto);
    in_input(m->fmts);
    in_input(m->mid);
    in_input(m->ice_ufrag);
    in_input(m->ice_pwd);
    in_input(m->fingerprint);
    in_input(m->fingerprint_alg);
    in_input(m->setup);
    in_input(m->msid);
    in_input(m->simulcast);
    if (m->n_codecs > SDP_MAX_CODECS || m->n_exts > SDP_MAX_EXTS || m->n_ssrcs > SDP_MAX_SSRCS ||
        m->n_rids > SDP_MAX_RIDS || m->n_candidates > SDP_MAX_CANDIDATES)
        abort();
    for (size_t i = 0; i < m->n_codecs; i++) {
        const struct sdp_codec *c = &m->codecs[i];
        in_input(c->name);
        in_input(c->fmtp);
        if (sdp_codec_by_pt(m, c->pt) == NULL || c->pt > 127 || c->apt > 127)
            abort();
        codec_from_name(c->name.p, c->name.len);
        in_input(sdp_fmtp_get(c->fmtp, "profile-level-id"));
        in_input(sdp_fmtp_get(c->fmtp, "apt"));
    }
    for (size_t i = 0; i < m->n_exts; i++) {
        char uri[512];
        in_input(m->exts[i].uri);
        if (m->exts[i].id == 0)
            abort();
        sdp_ext_id(m, sdp_str_copy(m->exts[i].uri, uri, sizeof uri));
    }
    for (size_t i = 0; i < m->n_ssrcs; i++) {
        in_input(m->ssrcs[i].cname);
        in_input(m->ssrcs[i].msid);
    }
    for (size_t i = 0; i < m->n_rids; i++)
        in_input(m->rids[i].id);
    for (size_t i = 0; i < m->n_candidates; i++)
        in_input(m->candidates[i]);
    sdp_dir_name(sdp_dir_reverse(m->dir));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sdp_session *s;
    if (!s)
        s = malloc(sizeof *s);
    char *text = calloc(size ? size : 1, 1); /* exact size: overreads are caught */
    if (size)
        memcpy(text, data, size);
    lo = text;
    hi = text + size;
    int line = 0;
    int rc = sdp_parse(text, size, s, &line);
    if (rc != SDP_OK && (line < 1 || rc < SDP_ERR_MISSING))
        abort();
    if (rc == SDP_OK) {
        if (s->n_media > SDP_MAX_MEDIA || s->n_bundle > SDP_MAX_BUNDLE)
            abort();
        for (size_t i = 0; i < s->n_bundle; i++)
            in_input(s->bundle_mids[i]);
        for (size_t i = 0; i < s->n_media; i++)
            check_media(&s->media[i]);
    }
    free(text);
    return 0;
}
