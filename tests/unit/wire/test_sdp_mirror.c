/* Tests relay/wire/sdp_mirror.c, a cascade link's offer made from a publisher's (Chromium
 * 156's simulcast offer and aiortc's, from tests/fuzz/corpus/sdp/): the lines kept, their
 * codecs, extensions and rids as the publisher's, the transport and SSRCs the relay's own,
 * and what our parser then reads of it (what the other relay answers). */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "base/strbuf.h"
#include "wire/sdp.h"
#include "wire/sdp_mirror.h"

static struct sdp_session S;

static struct sdp_mirror mirror_of(const struct sdp_mirror_line *lines, size_t n)
{
    return (struct sdp_mirror){.sess_id = 42,
                               .ufrag = "lnkU",
                               .pwd = "linkpassword0123456789",
                               .fingerprint = "sha-256 AA:BB:CC",
                               .candidates = "a=candidate:1 1 udp 2130706431 10.0.0.1 40000 "
                                             "typ host\r\n",
                               .lines = lines,
                               .n_lines = n};
}

static void test_chrome_simulcast(void)
{
    char *t = test_sdp_fixture("chrome_simulcast_offer.sdp", NULL);
    CHECK(t != NULL);
    if (!t)
        return;
    const struct sdp_mirror_line lines[] = {
        {.mid = "0", .ssrcs = {1111}, .n_ssrcs = 1},
        {.mid = "1", .ssrcs = {201, 202, 203}, .n_ssrcs = 3},
    };
    struct sdp_mirror mr = mirror_of(lines, 2);
    struct strbuf out;
    strbuf_init(&out);
    CHECK_EQ(sdp_mirror_offer(t, &mr, &out), 2);
    CHECK(strstr(out.s, "a=group:BUNDLE 0 1\r\n") != NULL);
    CHECK(strstr(out.s, "a=ssrc-group:SIM 201 202 203\r\n") != NULL);
    CHECK(strstr(out.s, "3385815359") == NULL); /* the publisher's SSRC lines are gone */
    CHECK(strstr(out.s, "a=rid:h send") && strstr(out.s, "a=simulcast:send q;h;f"));
    CHECK_EQ(sdp_parse(out.s, out.len, &S, NULL), SDP_OK);
    CHECK_EQ(S.n_media, 2);
    const struct sdp_media *v = &S.media[1];
    CHECK(sdp_str_eq(v->ice_ufrag, "lnkU") && sdp_str_eq(v->setup, "actpass"));
    CHECK(sdp_str_eq(v->fingerprint_alg, "sha-256") && sdp_str_eq(v->fingerprint, "AA:BB:CC"));
    CHECK_EQ(v->dir, SDP_SENDONLY);
    CHECK_EQ(v->n_sim_ssrcs, 3);
    CHECK_EQ(v->sim_ssrcs[2], 203);
    CHECK_EQ(v->n_rids, 3);
    CHECK_EQ(S.media[0].n_ssrcs, 1);
    CHECK_EQ(S.media[0].ssrcs[0].ssrc, 1111);
    CHECK_EQ(S.media[0].n_candidates, 1);
    CHECK_EQ(S.media[0].port, 9);
    CHECK(sdp_codec_by_pt(&S.media[0], 111) != NULL); /* Opus keeps its payload type */
    strbuf_free(&out);
    free(t);
}

/* Only the lines named are kept; layers not all known yet name no SSRCs. */
static void test_subset(void)
{
    char *t = test_sdp_fixture("chrome_simulcast_offer.sdp", NULL);
    if (!t)
        return;
    const struct sdp_mirror_line lines[] = {{.mid = "1", .ssrcs = {201, 0, 203}, .n_ssrcs = 3}};
    struct sdp_mirror mr = mirror_of(lines, 1);
    struct strbuf out;
    strbuf_init(&out);
    CHECK_EQ(sdp_mirror_offer(t, &mr, &out), 1);
    CHECK(strstr(out.s, "a=group:BUNDLE 1\r\n") != NULL);
    CHECK(strstr(out.s, "m=audio") == NULL);
    CHECK(strstr(out.s, "a=ssrc") == NULL);
    CHECK_EQ(sdp_parse(out.s, out.len, &S, NULL), SDP_OK);
    CHECK_EQ(S.n_media, 1);
    CHECK_EQ(S.media[0].n_candidates, 1); /* the first line written carries them */
    strbuf_free(&out);
    const struct sdp_mirror_line none[] = {{.mid = "7", .n_ssrcs = 1}};
    mr = mirror_of(none, 1);
    strbuf_init(&out);
    CHECK_EQ(sdp_mirror_offer(t, &mr, &out), 0);
    strbuf_free(&out);
    free(t);
}

static void test_hostile(void)
{
    const struct sdp_mirror_line lines[] = {{.mid = "0", .n_ssrcs = 1}};
    struct sdp_mirror mr = mirror_of(lines, 1);
    struct strbuf out;
    strbuf_init(&out);
    CHECK_EQ(sdp_mirror_offer("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n", &mr, &out), -1);
    char *big = malloc(9000);
    memcpy(big, "v=0\r\nm=audio 9 x 0\r\na=mid:0\r\na=x:", 33);
    memset(big + 33, 'x', 9000 - 34);
    big[8999] = '\0';
    CHECK_EQ(sdp_mirror_offer(big, &mr, &out), -1); /* a line over 4 KiB */
    free(big);
    CHECK_EQ(sdp_mirror_offer("m=audio 9 x 0\na=mid:0\n", &mr, &out), 1); /* LF, no header */
    strbuf_free(&out);
}

int main(void)
{
    test_chrome_simulcast();
    test_subset();
    test_hostile();
    return test_report();
}
