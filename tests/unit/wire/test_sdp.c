/* Tests relay/wire/sdp.c against real offers (Debian's Chromium 156 with and without
 * simulcast, aiortc 1.4.0; kept in tests/fuzz/corpus/sdp/ and found next to this file),
 * a session-level (Firefox-style, LF) offer, every limit, malformed lines we need, hostile
 * input (NUL bytes, huge lines, overflowing numbers) and the slice helpers. */
#include <stdlib.h>

#include "test.h"
#include "wire/codec.h"
#include "wire/rtp.h"
#include "wire/sdp.h"

static struct sdp_session *S;

static int parse(const char *text, int *line)
{
    *line = 0;
    return sdp_parse(text, strlen(text), S, line);
}

#define CHECK_SLICE(s, lit) CHECK(sdp_str_eq((s), (lit)))

static void test_chrome(void)
{
    size_t len;
    char *t = test_sdp_fixture("chrome_offer.sdp", &len);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK_EQ(sdp_parse(t, len, S, NULL), SDP_OK);
    CHECK(S->origin_sess_id == 5041910168088374653ull);
    CHECK_EQ(S->origin_sess_version, 2);
    CHECK_EQ(S->n_bundle, 2);
    CHECK_SLICE(S->bundle_mids[0], "0");
    CHECK_SLICE(S->bundle_mids[1], "1");
    CHECK(S->ice_trickle);
    CHECK(!S->ice_lite);
    CHECK_EQ(S->n_media, 2);

    const struct sdp_media *a = &S->media[0];
    CHECK_SLICE(a->type, "audio");
    CHECK_EQ(a->port, 38290);
    CHECK_SLICE(a->proto, "UDP/TLS/RTP/SAVPF");
    CHECK_SLICE(a->fmts, "111 63 9 0 8 13 110 126");
    CHECK_SLICE(a->mid, "0");
    CHECK_EQ(a->dir, SDP_SENDRECV);
    CHECK(a->rtcp_mux && a->rtcp_rsize && !a->bundle_only &&
          a->xr_rrtr); /* a=rtcp-xr:rcvr-rtt=all */
    CHECK_SLICE(a->ice_ufrag, "E4fU");
    CHECK_SLICE(a->ice_pwd, "C9ft2nl4r/B0TIT+3dEUM0WG");
    CHECK_SLICE(a->fingerprint_alg, "sha-256");
    CHECK_EQ(a->fingerprint.len, 95);
    CHECK(a->fingerprint.p && a->fingerprint.p[0] == 'F');
    CHECK_SLICE(a->setup, "actpass");
    CHECK_SLICE(a->msid,
                "2481f45d-ddf6-4b7b-bc07-389c0a519dc7 ac8b5cae-fabc-4645-9f56-f1bd1bd0075a");
    CHECK_EQ(a->n_codecs, 8);
    const struct sdp_codec *opus = sdp_codec_by_pt(a, 111);
    CHECK(opus != NULL);
    if (opus) {
        CHECK_SLICE(opus->name, "opus");
        CHECK_EQ(codec_from_name(opus->name.p, opus->name.len), CODEC_OPUS);
        CHECK_EQ(opus->clock_rate, 48000);
        CHECK_EQ(opus->channels, 2);
        CHECK_EQ(opus->fb, SDP_FB_TRANSPORT_CC);
        CHECK_SLICE(opus->fmtp, "minptime=10;useinbandfec=1");
        CHECK_SLICE(sdp_fmtp_get(opus->fmtp, "useinbandfec"), "1");
        CHECK_EQ(opus->apt, -1);
    }
    const struct sdp_codec *red = sdp_codec_by_pt(a, 63);
    CHECK(red && sdp_str_eq(red->fmtp, "111/111") && red->apt == -1);
    const struct sdp_codec *g722 = sdp_codec_by_pt(a, 9);
    CHECK(g722 && g722->clock_rate == 8000 && g722->channels == 0);
    CHECK(sdp_codec_by_pt(a, 96) == NULL);
    CHECK_EQ(a->n_exts, 4);
    CHECK_EQ(sdp_ext_id(a, RTP_EXT_AUDIO_LEVEL), 1);
    CHECK_EQ(sdp_ext_id(a, RTP_EXT_TWCC), 3);
    CHECK_EQ(sdp_ext_id(a, RTP_EXT_MID), 4);
    CHECK_EQ(sdp_ext_id(a, RTP_EXT_RID), 0);
    CHECK_EQ(a->n_ssrcs, 1);
    CHECK_EQ(a->ssrcs[0].ssrc, 2897656819u);
    CHECK_SLICE(a->ssrcs[0].cname, "WylGtE/7c64M7CIO");
    CHECK_EQ(a->fid_ssrcs[0], 0);
    CHECK_EQ(a->n_candidates, 4);
    CHECK(a->candidates[0].len > 26 &&
          memcmp(a->candidates[0].p, "candidate:2253875342 1 udp", 26) == 0);
    CHECK(!a->end_of_candidates);

    const struct sdp_media *v = &S->media[1];
    CHECK_SLICE(v->type, "video");
    CHECK_SLICE(v->mid, "1");
    CHECK_EQ(v->n_codecs, 23);
    const struct sdp_codec *vp8 = sdp_codec_by_pt(v, 96), *rtx = sdp_codec_by_pt(v, 97);
    CHECK(vp8 && sdp_str_eq(vp8->name, "VP8") && vp8->clock_rate == 90000);
    CHECK(vp8 && vp8->fb == (SDP_FB_NACK | SDP_FB_NACK_PLI | SDP_FB_CCM_FIR | SDP_FB_GOOG_REMB |
                             SDP_FB_TRANSPORT_CC));
    CHECK(rtx && sdp_str_eq(rtx->name, "rtx") && rtx->apt == 96 && rtx->fb == 0);
    const struct sdp_codec *h264 = sdp_codec_by_pt(v, 108);
    CHECK(h264 && codec_from_name(h264->name.p, h264->name.len) == CODEC_H264);
    if (h264) {
        CHECK_SLICE(sdp_fmtp_get(h264->fmtp, "profile-level-id"), "42e01f");
        CHECK_SLICE(sdp_fmtp_get(h264->fmtp, "packetization-mode"), "1");
    }
    const struct sdp_codec *vp9 = sdp_codec_by_pt(v, 100);
    CHECK(vp9 && sdp_str_eq(sdp_fmtp_get(vp9->fmtp, "profile-id"), "2"));
    CHECK(sdp_codec_by_pt(v, 119) && sdp_codec_by_pt(v, 119)->apt == 118);
    CHECK_EQ(v->n_exts, 11);
    CHECK_EQ(sdp_ext_id(v, "urn:ietf:params:rtp-hdrext:toffset"), 14);
    CHECK_EQ(sdp_ext_id(v, RTP_EXT_RRID), 11);
    CHECK_EQ(sdp_ext_id(v, RTP_EXT_ABS_SEND_TIME), 2);
    CHECK_EQ(v->fid_ssrcs[0], 3273865732u);
    CHECK_EQ(v->fid_ssrcs[1], 2385434279u);
    CHECK_EQ(v->n_ssrcs, 2);
    CHECK_SLICE(v->ssrcs[1].msid,
                "2481f45d-ddf6-4b7b-bc07-389c0a519dc7 5bdbc6ae-5c2a-4de9-a191-060095b5d41d");
    CHECK_EQ(v->n_rids, 0);
    free(t);
}

static void test_chrome_simulcast(void)
{
    size_t len;
    char *t = test_sdp_fixture("chrome_simulcast_offer.sdp", &len);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK_EQ(sdp_parse(t, len, S, NULL), SDP_OK);
    CHECK_EQ(S->n_media, 2);
    const struct sdp_media *v = &S->media[1];
    CHECK_EQ(v->dir, SDP_SENDONLY);
    CHECK_EQ(v->n_rids, 3);
    CHECK_SLICE(v->rids[0].id, "q");
    CHECK_SLICE(v->rids[2].id, "f");
    CHECK(v->rids[0].send && v->rids[1].send && v->rids[2].send);
    CHECK_SLICE(v->simulcast, "send q;h;f");
    CHECK_EQ(v->n_ssrcs, 0);
    CHECK_EQ(sdp_ext_id(v, RTP_EXT_RID), 10);
    free(t);
}

static void test_aiortc(void)
{
    size_t len;
    char *t = test_sdp_fixture("aiortc_offer.sdp", &len);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK_EQ(sdp_parse(t, len, S, NULL), SDP_OK);
    CHECK_EQ(S->n_media, 2);
    CHECK_EQ(S->n_bundle, 2);
    CHECK(!S->ice_trickle);
    const struct sdp_media *a = &S->media[0], *v = &S->media[1];
    CHECK_EQ(a->port, 48713);
    CHECK(a->end_of_candidates);
    CHECK_EQ(a->n_candidates, 2);
    CHECK_SLICE(a->ice_ufrag, "CEnj");
    CHECK_SLICE(v->ice_ufrag, "0gDn");
    CHECK(!a->rtcp_rsize && a->rtcp_mux);
    CHECK_EQ(sdp_ext_id(a, RTP_EXT_MID), 1);
    CHECK_EQ(v->n_codecs, 6);
    const struct sdp_codec *vp8 = sdp_codec_by_pt(v, 97);
    CHECK(vp8 && vp8->fb == (SDP_FB_NACK | SDP_FB_NACK_PLI | SDP_FB_GOOG_REMB));
    CHECK(sdp_codec_by_pt(v, 102) && sdp_codec_by_pt(v, 102)->apt == 101);
    CHECK_EQ(v->fid_ssrcs[0], 684797299u);
    CHECK_EQ(v->fid_ssrcs[1], 1427762898u);
    CHECK_EQ(v->n_ssrcs, 2);
    free(t);
}

static void test_session_level(void)
{
    size_t len;
    char *t = test_sdp_fixture("session_level_lf.sdp", &len);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK_EQ(sdp_parse(t, len, S, NULL), SDP_OK);
    CHECK(S->origin_sess_id == 7317411223334455667ull);
    CHECK(S->ice_trickle);
    const struct sdp_media *a = &S->media[0], *v = &S->media[1];
    CHECK_SLICE(a->ice_ufrag, "sessufrag"); /* inherited */
    CHECK_SLICE(a->ice_pwd, "sessionpassword0123456789");
    CHECK_SLICE(v->ice_ufrag, "videoufrag"); /* its own */
    CHECK_SLICE(v->ice_pwd, "videopassword0123456789ab");
    CHECK_SLICE(a->fingerprint_alg, "sha-256");
    CHECK(v->fingerprint.len == 95 && v->fingerprint.p[0] == '0');
    CHECK_SLICE(v->setup, "actpass");
    CHECK_EQ(v->dir, SDP_RECVONLY);
    CHECK_EQ(a->exts[1].dir, SDP_RECVONLY);
    CHECK_EQ(a->exts[1].id, 3);
    CHECK_EQ(a->exts[0].dir, SDP_SENDRECV);
    /* fmtp before rtpmap, and rtcp-fb:* before and after the codecs */
    const struct sdp_codec *opus = sdp_codec_by_pt(a, 109);
    CHECK(opus && sdp_str_eq(opus->name, "opus") && opus->channels == 2 &&
          sdp_str_eq(sdp_fmtp_get(opus->fmtp, "stereo"), "1"));
    const struct sdp_codec *vp8 = sdp_codec_by_pt(v, 120), *rtx = sdp_codec_by_pt(v, 124);
    CHECK(vp8 && vp8->fb == (SDP_FB_NACK | SDP_FB_NACK_PLI | SDP_FB_CCM_FIR | SDP_FB_TRANSPORT_CC |
                             SDP_FB_GOOG_REMB));
    CHECK(rtx && rtx->apt == 120 && sdp_str_eq(rtx->name, "rtx") &&
          rtx->fb == (SDP_FB_NACK | SDP_FB_GOOG_REMB));
    CHECK(v->end_of_candidates);
    CHECK_EQ(a->ssrcs[0].ssrc, 3351294521u);
    free(t);
}

static void test_small_cases(void)
{
    int line;
    /* minimal, no media, CR-less last line, blank lines, media-only attributes and
     * unknown ones at session level ignored */
    CHECK_EQ(parse("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n\r\na=mid:x\na=foo:bar\na=ice-lite\n"
                   "a=rtcp-mux \ns=",
                   &line),
             SDP_OK);
    CHECK_EQ(S->n_media, 0);
    CHECK(S->ice_lite);
    /* port/count, a port of 0, bundle-only, inactive, no fmts */
    CHECK_EQ(parse("v=0\nm=video 0/2 UDP/TLS/RTP/SAVPF\na=bundle-only\na=inactive\na=rtcp-mux \n"
                   "a=rtcp-fb:96 nack\na=rtcp-fb:96 nack sli\na=rtcp-fb:96 ccm tmmbr\n"
                   "a=extmap:7/sendonly urn:x attr1 attr2\na=ssrc:1 mslabel:x\n"
                   "a=ssrc-group:SIM 1 2 3\na=rid:1 recv pt=96\n",
                   &line),
             SDP_OK);
    CHECK_EQ(S->n_media, 1);
    CHECK_EQ(S->media[0].port, 0);
    CHECK(S->media[0].bundle_only);
    CHECK(S->media[0].rtcp_mux); /* a trailing space after the name */
    CHECK_EQ(S->media[0].dir, SDP_INACTIVE);
    CHECK_EQ(S->media[0].fmts.len, 0);
    CHECK_EQ(S->media[0].codecs[0].fb, SDP_FB_NACK);
    CHECK_EQ(S->media[0].codecs[0].name.len, 0);
    CHECK_EQ(S->media[0].exts[0].dir, SDP_SENDONLY);
    CHECK_SLICE(S->media[0].exts[0].uri, "urn:x");
    CHECK_EQ(S->media[0].n_ssrcs, 1);
    CHECK_EQ(S->media[0].ssrcs[0].cname.len, 0);
    CHECK_EQ(S->media[0].fid_ssrcs[0], 0);
    CHECK(!S->media[0].rids[0].send);
    /* tabs and extra spaces between tokens */
    CHECK_EQ(parse("v=0\nm=audio  9\tRTP/AVP 0\na=rtpmap:0  PCMU/8000\n", &line), SDP_OK);
    CHECK_SLICE(S->media[0].proto, "RTP/AVP");
    CHECK_EQ(S->media[0].codecs[0].clock_rate, 8000);
    CHECK_EQ(parse("v=0\nm=audio 65535 RTP/AVP 0\na=extmap:255 urn:y\n", &line), SDP_OK);
    CHECK_EQ(S->media[0].port, 65535);
    CHECK_EQ(S->media[0].exts[0].id, 255);
}

static void test_errors(void)
{
    static const struct {
        const char *text;
        int rc, line;
    } cases[] = {
        {"", SDP_ERR_MISSING, 1},
        {"\r\n\n", SDP_ERR_MISSING, 2},
        {"o=- 1 1 IN IP4 0.0.0.0\n", SDP_ERR_SYNTAX, 1},
        {"v=0\nnot a line\n", SDP_ERR_SYNTAX, 2},
        {"v=0\n=x\n", SDP_ERR_SYNTAX, 2},
        {"v=0\nA=x\n", SDP_ERR_SYNTAX, 2},
        {"v=0\na\n", SDP_ERR_SYNTAX, 2},
        {"v=0\no=- 18446744073709551616 1 IN IP4 0.0.0.0\n", SDP_ERR_SYNTAX, 2},
        {"v=0\no=- 1\n", SDP_ERR_SYNTAX, 2},
        {"v=0\no=\n", SDP_ERR_SYNTAX, 2},
        {"v=0\nm=audio\n", SDP_ERR_SYNTAX, 2},
        {"v=0\nm=audio RTP/AVP 0\n", SDP_ERR_SYNTAX, 2},
        {"v=0\nm=audio 65536 RTP/AVP 0\n", SDP_ERR_SYNTAX, 2},
        {"v=0\nm=audio -1 RTP/AVP 0\n", SDP_ERR_SYNTAX, 2},
        {"v=0\nm=audio 9/ RTP/AVP 0\n", SDP_ERR_SYNTAX, 2},
        {"v=0\nm=audio 9\n", SDP_ERR_SYNTAX, 2},
        {"v=0\nm=audio 9 RTP/AVP 0\na=rtpmap:128 x/90000\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=audio 9 RTP/AVP 0\na=rtpmap:-1 x/90000\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=audio 9 RTP/AVP 0\na=rtpmap:0\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=audio 9 RTP/AVP 0\na=rtpmap:0 PCMU\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=audio 9 RTP/AVP 0\na=rtpmap:0 /8000\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=audio 9 RTP/AVP 0\na=rtpmap:0 PCMU/99999999999\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=audio 9 RTP/AVP 0\na=rtpmap:0 opus/48000/256\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=audio 9 RTP/AVP 0\na=fmtp:x a=b\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=video 9 RTP/AVP 97\na=fmtp:97 apt=abc\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=video 9 RTP/AVP 97\na=fmtp:97 apt=200\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=video 9 RTP/AVP 97\na=rtcp-fb:1000 nack\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=video 9 RTP/AVP 97\na=rtcp-fb\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=video 9 RTP/AVP 97\na=extmap:0 urn:x\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=video 9 RTP/AVP 97\na=extmap:256 urn:x\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=video 9 RTP/AVP 97\na=extmap:4096 urn:x\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=video 9 RTP/AVP 97\na=extmap:1/sideways urn:x\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=video 9 RTP/AVP 97\na=extmap:1/ urn:x\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=video 9 RTP/AVP 97\na=extmap:1\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=video 9 RTP/AVP 97\na=ssrc:4294967296 cname:x\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=video 9 RTP/AVP 97\na=ssrc:\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=video 9 RTP/AVP 97\na=ssrc-group:FID 1\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=video 9 RTP/AVP 97\na=rid:q both\n", SDP_ERR_SYNTAX, 3},
        {"v=0\nm=video 9 RTP/AVP 97\na=rid:\n", SDP_ERR_SYNTAX, 3},
        {"v=0\na=fingerprint:sha-256\n", SDP_ERR_SYNTAX, 2},
        {"v=0\nm=video 9 RTP/AVP 97\na=fingerprint:\n", SDP_ERR_SYNTAX, 3},
        {"v=0\r\ns=a\rb\r\n", SDP_ERR_SYNTAX, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int line = 0, rc = parse(cases[i].text, &line);
        if (rc != cases[i].rc || line != cases[i].line)
            fprintf(stderr, "case %zu: %s\n", i, cases[i].text);
        CHECK_EQ(rc, cases[i].rc);
        CHECK_EQ(line, cases[i].line);
    }
    /* a NUL byte inside a line */
    const char nul[] = "v=0\nm=audio 9 RTP/AVP 0\na=mid:a\0b\n";
    int line = 0;
    CHECK_EQ(sdp_parse(nul, sizeof nul - 1, S, &line), SDP_ERR_SYNTAX);
    CHECK_EQ(line, 3);
    CHECK_EQ(sdp_parse(NULL, 10, S, NULL), SDP_ERR_MISSING);
}

/* Builds "v=0\n<head>" + n × fmt (with %d = i) + tail, and parses it. */
static int parse_repeated(const char *head, const char *fmt, int n, int *line)
{
    static char buf[1 << 16];
    size_t off = (size_t)snprintf(buf, sizeof buf, "v=0\n%s", head);
    for (int i = 0; i < n; i++)
        off += (size_t)snprintf(buf + off, sizeof buf - off, fmt, i + 1, i + 1);
    return sdp_parse(buf, off, S, line);
}

static void test_limits(void)
{
    int line;
    const char *m = "m=video 9 UDP/TLS/RTP/SAVPF 96\n";
    CHECK_EQ(parse_repeated("", "m=audio %d RTP/AVP 0\n", SDP_MAX_MEDIA, &line), SDP_OK);
    CHECK_EQ(parse_repeated("", "m=audio %d RTP/AVP 0\n", SDP_MAX_MEDIA + 1, &line), SDP_ERR_LIMIT);
    CHECK_EQ(line, SDP_MAX_MEDIA + 2);
    CHECK_EQ(parse_repeated(m, "a=rtpmap:%d x/90000\n", SDP_MAX_CODECS, &line), SDP_OK);
    CHECK_EQ(parse_repeated(m, "a=rtpmap:%d x/90000\n", SDP_MAX_CODECS + 1, &line), SDP_ERR_LIMIT);
    CHECK_EQ(parse_repeated(m, "a=fmtp:%d x=%d\n", SDP_MAX_CODECS + 1, &line), SDP_ERR_LIMIT);
    CHECK_EQ(parse_repeated(m, "a=rtcp-fb:%d nack\n", SDP_MAX_CODECS + 1, &line), SDP_ERR_LIMIT);
    CHECK_EQ(parse_repeated(m, "a=extmap:%d urn:x:%d\n", SDP_MAX_EXTS, &line), SDP_OK);
    CHECK_EQ(parse_repeated(m, "a=extmap:%d urn:x:%d\n", SDP_MAX_EXTS + 1, &line), SDP_ERR_LIMIT);
    CHECK_EQ(parse_repeated(m, "a=ssrc:%d cname:%d\n", SDP_MAX_SSRCS, &line), SDP_OK);
    CHECK_EQ(parse_repeated(m, "a=ssrc:%d cname:%d\n", SDP_MAX_SSRCS + 1, &line), SDP_ERR_LIMIT);
    CHECK_EQ(parse_repeated(m, "a=rid:r%d send\n", SDP_MAX_RIDS, &line), SDP_OK);
    CHECK_EQ(parse_repeated(m, "a=rid:r%d send\n", SDP_MAX_RIDS + 1, &line), SDP_ERR_LIMIT);
    CHECK_EQ(parse_repeated(m, "a=candidate:%d 1 udp %d 10.0.0.1 9 typ host\n", SDP_MAX_CANDIDATES,
                            &line),
             SDP_OK);
    CHECK_EQ(parse_repeated(m, "a=candidate:%d 1 udp %d 10.0.0.1 9 typ host\n",
                            SDP_MAX_CANDIDATES + 1, &line),
             SDP_ERR_LIMIT);
    CHECK_EQ(line, SDP_MAX_CANDIDATES + 3);
    /* the same ssrc or pt repeated does not take new slots */
    CHECK_EQ(parse_repeated(m, "a=ssrc:7 x:%d%d\n", 100, &line), SDP_OK);
    CHECK_EQ(S->media[0].n_ssrcs, 1);
    char bundle[200] = "a=group:BUNDLE";
    for (int i = 0; i < SDP_MAX_BUNDLE; i++)
        snprintf(bundle + strlen(bundle), sizeof bundle - strlen(bundle), " m%d", i);
    strcat(bundle, "\n");
    CHECK_EQ(parse_repeated(bundle, "", 0, &line), SDP_OK);
    CHECK_EQ(S->n_bundle, SDP_MAX_BUNDLE);
    bundle[strlen(bundle) - 1] = '\0';
    strcat(bundle, " one-more\n");
    CHECK_EQ(parse_repeated(bundle, "", 0, &line), SDP_ERR_LIMIT);
}

static void test_hostile(void)
{
    /* a 1 MiB attribute value and a 1 MiB unknown line */
    size_t big = 1 << 20;
    char *t = malloc(big + 64);
    size_t off = (size_t)sprintf(t, "v=0\nm=audio 9 RTP/AVP 0\na=mid:");
    memset(t + off, 'x', big);
    off += big;
    off += (size_t)sprintf(t + off, "\nx=");
    CHECK_EQ(sdp_parse(t, off, S, NULL), SDP_OK);
    CHECK_EQ(S->media[0].mid.len, big);
    /* numbers with thousands of digits */
    off = (size_t)sprintf(t, "v=0\nm=audio ");
    memset(t + off, '9', 5000);
    off += 5000;
    off += (size_t)sprintf(t + off, " RTP/AVP 0\n");
    CHECK_EQ(sdp_parse(t, off, S, NULL), SDP_ERR_SYNTAX);
    off = (size_t)sprintf(t, "v=0\nm=audio 9 RTP/AVP 0\na=rtpmap:");
    memset(t + off, '0', 5000); /* leading zeros are still 0 */
    off += 5000;
    off += (size_t)sprintf(t + off, " PCMU/8000\n");
    CHECK_EQ(sdp_parse(t, off, S, NULL), SDP_OK);
    CHECK_EQ(S->media[0].codecs[0].pt, 0);
    /* truncated at every byte, both fixtures must never crash */
    size_t len;
    char *c = test_sdp_fixture("chrome_offer.sdp", &len);
    if (c) {
        for (size_t n = 0; n < len; n += 7) {
            char *cut = malloc(n ? n : 1);
            memcpy(cut, c, n);
            int rc = sdp_parse(cut, n, S, NULL);
            CHECK(rc == SDP_OK || rc == SDP_ERR_SYNTAX || rc == SDP_ERR_MISSING);
            free(cut);
        }
        free(c);
    }
    free(t);
}

static void test_helpers(void)
{
    struct sdp_str s = {"VP8/90000", 3};
    CHECK(sdp_str_eq(s, "VP8"));
    CHECK(!sdp_str_eq(s, "vp8"));
    CHECK(!sdp_str_eq(s, "VP"));
    CHECK(sdp_str_ieq(s, "vp8"));
    CHECK(!sdp_str_ieq(s, "vp9"));
    CHECK(!sdp_str_ieq(s, "vp80"));
    CHECK(sdp_str_eq((struct sdp_str){NULL, 0}, ""));
    char buf[8];
    CHECK_STR(sdp_str_copy(s, buf, sizeof buf), "VP8");
    CHECK_STR(sdp_str_copy((struct sdp_str){"abcdefghij", 10}, buf, sizeof buf), "abcdefg");
    CHECK_STR(sdp_str_copy((struct sdp_str){NULL, 0}, buf, sizeof buf), "");
    buf[0] = 'z';
    sdp_str_copy(s, buf, 0);
    CHECK_EQ(buf[0], 'z');
    sdp_str_copy(s, buf, 1);
    CHECK_EQ(buf[0], 0);

    CHECK_STR(sdp_dir_name(SDP_SENDRECV), "sendrecv");
    CHECK_STR(sdp_dir_name(SDP_SENDONLY), "sendonly");
    CHECK_STR(sdp_dir_name(SDP_RECVONLY), "recvonly");
    CHECK_STR(sdp_dir_name(SDP_INACTIVE), "inactive");
    CHECK_EQ(sdp_dir_reverse(SDP_SENDONLY), SDP_RECVONLY);
    CHECK_EQ(sdp_dir_reverse(SDP_RECVONLY), SDP_SENDONLY);
    CHECK_EQ(sdp_dir_reverse(SDP_SENDRECV), SDP_SENDRECV);
    CHECK_EQ(sdp_dir_reverse(SDP_INACTIVE), SDP_INACTIVE);

    const char *f = "profile-level-id=42e01f; packetization-mode = 1;level-asymmetry-allowed;;x=";
    struct sdp_str fm = {f, strlen(f)};
    CHECK_SLICE(sdp_fmtp_get(fm, "profile-level-id"), "42e01f");
    CHECK_SLICE(sdp_fmtp_get(fm, "PACKETIZATION-MODE"), "1");
    CHECK_EQ(sdp_fmtp_get(fm, "profile").len, 0);
    CHECK_EQ(sdp_fmtp_get(fm, "level-asymmetry-allowed").len, 0);
    CHECK_EQ(sdp_fmtp_get(fm, "x").len, 0);
    CHECK(sdp_fmtp_get(fm, "missing").p != NULL);
    CHECK_EQ(sdp_fmtp_get((struct sdp_str){NULL, 0}, "x").len, 0);

    struct sdp_media *m = calloc(1, sizeof *m);
    CHECK(sdp_codec_by_pt(m, 0) == NULL);
    CHECK_EQ(sdp_ext_id(m, RTP_EXT_MID), 0);
    free(m);
}

int main(void)
{
    S = malloc(sizeof *S);
    test_chrome();
    test_chrome_simulcast();
    test_aiortc();
    test_session_level();
    test_small_cases();
    test_errors();
    test_limits();
    test_hostile();
    test_helpers();
    free(S);
    return test_report();
}
