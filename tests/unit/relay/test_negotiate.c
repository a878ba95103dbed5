/* Tests relay/route/negotiate.c through classrelay/relay.h, on a real worker (libnice agents, DTLS
 * certificate): a browser's publish offer becomes tracks, a recvonly offer is fed by
 * them, renegotiation keeps the transport, and bad offers are refused with a reason
 * while the peer stays usable. Audio: RED (RFC 2198) over Opus is taken where offered
 * and Opus answers carry useinbandfec=1 with the offered parameters. The data channel
 * line (RFC 8841) is answered, once per transport. On the shared media port the answer says
 * a=ice-lite with one candidate on that port (the second worker's on the next port);
 * admission control refuses new peers past max_peers (all workers') with CR_ERR_LIMIT and a
 * reason, and counts them, but takes priority ones. Two rooms go to two workers; ids find
 * their worker; stats add the workers up. One lesson spreads over two workers. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "classrelay/relay.h"
#include "test.h"

static const char *PUBLISH_OFFER =
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 0 1\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS s1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 0\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:"
    "CD:EF\r\n"
    "a=setup:actpass\r\na=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendonly\r\na=msid:s1 a1\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=ssrc:1001 cname:x\r\na=ssrc:1001 msid:s1 a1\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103\r\nc=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:"
    "CD:EF\r\n"
    "a=setup:actpass\r\na=mid:1\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendonly\r\na=msid:s1 v1\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
    "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 goog-remb\r\na=rtcp-fb:96 transport-cc\r\n"
    "a=rtcp-fb:96 ccm fir\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
    "a=rtpmap:102 H264/90000\r\na=rtcp-fb:102 nack\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n"
    "a=ssrc-group:FID 2001 2002\r\na=ssrc:2001 cname:x\r\na=ssrc:2002 cname:x\r\n"
    "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n";

/* The same browser receiving: recvonly lines, H.264 listed before VP8. */
static const char *SUBSCRIBE_OFFER =
    "v=0\r\no=- 99 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a v\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 109\r\nc=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:wxyz\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 "
    "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:"
    "CD:EF\r\n"
    "a=setup:actpass\r\na=mid:a\r\na=extmap:9 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=recvonly\r\na=rtcp-mux\r\na=rtpmap:109 opus/48000/2\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 120 121 100\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\n"
    "a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:5 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=recvonly\r\na=rtcp-mux\r\n"
    "a=rtpmap:120 H264/90000\r\na=fmtp:120 packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:121 rtx/90000\r\na=fmtp:121 apt=100\r\n"
    "a=rtpmap:100 VP8/90000\r\na=rtcp-fb:100 nack\r\n";

static int tracks_changed;
static void on_tracks(void *user, const char *room) { tracks_changed++; }

/* One cr_relay_negotiate call: *peer 0 makes a peer in "lesson" (its id written back),
 * else renegotiates it. The answer (malloc'd) goes to *answer, a refusal's reason to err;
 * each hint gets the track its line made or was fed. */
static int offer(struct cr_relay *relay, uint64_t *peer, const char *sdp,
                 struct cr_mline_hint *hints, size_t n_hints, char **answer, char *err)
{
    struct cr_offer in = {
        .room = "lesson", .peer_id = *peer, .sdp = sdp, .hints = hints, .n_hints = n_hints};
    struct cr_answer *out = malloc(sizeof *out);
    int r = cr_relay_negotiate(relay, &in, out);
    snprintf(err, 256, "%.255s", out->err); /* err: 256 bytes, as every caller has */
    *answer = out->sdp;
    if (r == CR_OK)
        *peer = out->peer_id;
    for (size_t i = 0; r == CR_OK && i < out->n_lines; i++)
        for (size_t h = 0; h < n_hints; h++)
            if (strcmp(hints[h].mid, out->lines[i].mid) == 0)
                hints[h].track_id = out->lines[i].track_id;
    free(out);
    return r;
}

static void test_publish_and_subscribe(struct cr_relay *relay)
{
    uint64_t pub = 0, sub = 0;
    struct cr_mline_hint hints[2] = {{.mid = "0", .source = "mic"},
                                     {.mid = "1", .source = "camera"}};
    char *answer = NULL, err[256];
    CHECK_EQ(offer(relay, &pub, PUBLISH_OFFER, hints, 2, &answer, err), CR_OK);
    CHECK(answer && strstr(answer, "a=group:BUNDLE 0 1\r\n"));
    /* RED first, so the browser sends its audio with redundancy */
    CHECK(answer && strstr(answer, "m=audio 9 UDP/TLS/RTP/SAVPF 63 111\r\n"));
    CHECK(answer && strstr(answer, "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n"));
    CHECK(answer && strstr(answer, "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n")); /* VP8 first */
    CHECK(answer && strstr(answer, "a=recvonly"));
    CHECK(answer && strstr(answer, "a=setup:active")); /* RFC 5763 §5: actpass → active */
    CHECK(answer && strstr(answer, "a=rtcp-fb:96 transport-cc"));
    CHECK(answer && strstr(answer, "a=rtcp-fb:96 goog-remb"));
    CHECK(answer && strstr(answer, "a=fmtp:111 minptime=10;useinbandfec=1"));
    CHECK(answer && strstr(answer, "a=candidate:"));
    CHECK(answer && strstr(answer, "127.0.0.1"));
    CHECK(answer && !strstr(answer, "a=ssrc:")); /* we send nothing to a publisher */
    CHECK(hints[0].track_id && hints[1].track_id && hints[0].track_id != hints[1].track_id);
    free(answer);
    CHECK(tracks_changed >= 1);

    struct cr_track_info tracks[4];
    size_t n = 0;
    CHECK_EQ(cr_relay_room_tracks(relay, "lesson", tracks, 4, &n), CR_OK);
    CHECK_EQ(n, 2);
    CHECK_STR(tracks[0].codec, "opus");
    CHECK_STR(tracks[1].codec, "VP8");
    CHECK_STR(tracks[1].source, "camera");

    struct cr_mline_hint sh[2] = {{.mid = "a"}, {.mid = "v", .track_id = hints[1].track_id}};
    CHECK_EQ(offer(relay, &sub, SUBSCRIBE_OFFER, sh, 2, &answer, err), CR_OK);
    CHECK(answer && strstr(answer, "m=audio 9 UDP/TLS/RTP/SAVPF 109\r\n"));
    /* the track is VP8, so VP8 is chosen even though the subscriber prefers H.264 */
    CHECK(answer && strstr(answer, "m=video 9 UDP/TLS/RTP/SAVPF 100 121\r\n"));
    CHECK(answer && strstr(answer, "a=sendonly"));
    CHECK(answer && strstr(answer, "a=ssrc:"));
    CHECK(answer && strstr(answer, "a=extmap:5 http://www.ietf.org/id/draft-holmer"));
    CHECK_EQ(sh[0].track_id, hints[0].track_id);
    CHECK_EQ(sh[1].track_id, hints[1].track_id);
    free(answer);

    /* renegotiation on the same peer: the session version goes up */
    char *again = NULL;
    CHECK_EQ(offer(relay, &sub, SUBSCRIBE_OFFER, sh, 2, &again, err), CR_OK);
    CHECK(again && strstr(again, "o=- ") && strstr(again, " 2 IN IP4"));
    free(again);

    /* the publisher leaves: its tracks go, the subscriber stays */
    CHECK_EQ(cr_relay_peer_close(relay, pub), CR_OK);
    CHECK_EQ(cr_relay_room_tracks(relay, "lesson", tracks, 4, &n), CR_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(cr_relay_peer_close(relay, sub), CR_OK);
    CHECK_EQ(cr_relay_peer_close(relay, sub), CR_ERR_NOT_FOUND);
}

/* Replaces the first occurrence of `from` in base. */
static char *replace(const char *base, const char *from, const char *to)
{
    const char *at = strstr(base, from);
    size_t a = (size_t)(at - base), n = strlen(base);
    char *s = malloc(n + strlen(to) + 1);
    memcpy(s, base, a);
    strcpy(s + a, to);
    strcat(s, at + strlen(from));
    return s;
}

/* Replaces the first occurrence of `from` in PUBLISH_OFFER. */
static char *mutate(const char *from, const char *to) { return replace(PUBLISH_OFFER, from, to); }

/* Opens a peer, offers, checks the answer has (or lacks, want_absent) each string. */
static void expect_answer(struct cr_relay *relay, const char *sdp, const char *const *want,
                          const char *const *absent)
{
    uint64_t peer = 0;
    char *answer = NULL, err[256] = "";
    CHECK_EQ(offer(relay, &peer, sdp, NULL, 0, &answer, err), CR_OK);
    for (size_t i = 0; want[i]; i++) {
        if (!answer || !strstr(answer, want[i]))
            fprintf(stderr, "  wanted '%s' in the answer\n%s\n", want[i], answer ? answer : err);
        CHECK(answer && strstr(answer, want[i]));
    }
    for (size_t i = 0; absent && absent[i]; i++)
        CHECK(answer && !strstr(answer, absent[i]));
    free(answer);
    CHECK_EQ(cr_relay_peer_close(relay, peer), CR_OK);
}

static void test_audio_protection(struct cr_relay *relay)
{
    uint64_t pub = 0;
    char *answer = NULL, err[256];
    /* the publisher's own Opus parameters stay, FEC is asked for */
    char *own =
        mutate("minptime=10;useinbandfec=1", "minptime=10;stereo=1;useinbandfec=0;usedtx=1");
    CHECK_EQ(offer(relay, &pub, own, NULL, 0, &answer, err), CR_OK);
    CHECK(answer && strstr(answer, "a=fmtp:111 minptime=10;stereo=1;usedtx=1;useinbandfec=1\r\n"));
    free(answer);
    free(own);

    /* a classroom offering RED over its Opus gets it, RED first */
    const char *red_audio = "a=rtpmap:109 opus/48000/2\r\na=rtpmap:63 red/48000/2\r\n"
                            "a=fmtp:63 109/109\r\n";
    char *sub =
        replace(SUBSCRIBE_OFFER, "UDP/TLS/RTP/SAVPF 109\r\n", "UDP/TLS/RTP/SAVPF 109 63\r\n");
    char *with_red = replace(sub, "a=rtpmap:109 opus/48000/2\r\n", red_audio);
    expect_answer(
        relay, with_red,
        (const char *const[]){"m=audio 9 UDP/TLS/RTP/SAVPF 63 109\r\n",
                              "a=rtpmap:63 red/48000/2\r\na=fmtp:63 109/109\r\n",
                              "a=rtpmap:109 opus/48000/2\r\na=fmtp:109 useinbandfec=1\r\n", NULL},
        NULL);
    free(with_red);
    /* RED over another payload type (not our Opus) is not taken */
    with_red = replace(sub, "a=rtpmap:109 opus/48000/2\r\n",
                       "a=rtpmap:109 opus/48000/2\r\na=rtpmap:63 red/48000/2\r\n"
                       "a=fmtp:63 109/0\r\n");
    expect_answer(relay, with_red,
                  (const char *const[]){"m=audio 9 UDP/TLS/RTP/SAVPF 109\r\n", NULL},
                  (const char *const[]){"red/48000", NULL});
    free(with_red);
    free(sub);

    CHECK_EQ(cr_relay_peer_close(relay, pub), CR_OK);
}

/* A video line offering RED and ULPFEC (Chromium's offer) gets both, after VP8 and its RTX,
 * when the relay may send FEC (consumer_fec.c); one without them, neither; and with FEC off
 * (the default) neither is answered. */
static void test_video_fec(struct cr_relay *relay, bool fec_on)
{
    uint64_t pub = 0;
    char *answer = NULL, err[256];
    CHECK_EQ(offer(relay, &pub, PUBLISH_OFFER, NULL, 0, &answer, err), CR_OK);
    free(answer);
    char *vfec = replace(SUBSCRIBE_OFFER, "SAVPF 120 121 100\r\n", "SAVPF 120 121 100 116 117\r\n");
    char *with_fec = replace(vfec, "a=rtpmap:100 VP8/90000\r\n",
                             "a=rtpmap:100 VP8/90000\r\na=rtpmap:116 red/90000\r\n"
                             "a=rtpmap:117 ulpfec/90000\r\n");
    const char *const both[] = {" 116 117\r\n", "a=rtpmap:116 red/90000\r\n",
                                "a=rtpmap:117 ulpfec/90000\r\n", NULL};
    const char *const neither[] = {"red/90000", "ulpfec", NULL};
    /* RFC 3611: a receiver that offers RRTR gets it answered (and a DLRR to each) */
    char *xr = replace(SUBSCRIBE_OFFER, "a=rtpmap:100 VP8/90000\r\n",
                       "a=rtpmap:100 VP8/90000\r\na=rtcp-xr:rcvr-rtt=all\r\n");
    expect_answer(relay, xr, (const char *const[]){"a=rtcp-xr:rcvr-rtt=all\r\n", NULL}, NULL);
    free(xr);
    expect_answer(relay, SUBSCRIBE_OFFER, (const char *const[]){"VP8/90000", NULL},
                  (const char *const[]){"rtcp-xr", NULL});
    /* the playout-delay extension on a video line we send */
    char *pd = replace(SUBSCRIBE_OFFER, "a=rtpmap:100 VP8/90000\r\n",
                       "a=extmap:12 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
                       "a=rtpmap:100 VP8/90000\r\n");
    expect_answer(
        relay, pd,
        (const char *const[]){
            "a=extmap:12 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n", NULL},
        NULL);
    free(pd);
    expect_answer(relay, with_fec, fec_on ? both : (const char *const[]){"VP8/90000", NULL},
                  fec_on ? NULL : neither);
    free(with_fec);
    with_fec = replace(vfec, "a=rtpmap:100 VP8/90000\r\n",
                       "a=rtpmap:100 VP8/90000\r\na=rtpmap:116 red/90000\r\n");
    expect_answer(relay, with_fec, (const char *const[]){"VP8/90000", NULL}, neither);
    free(with_fec);
    free(vfec);
    CHECK_EQ(cr_relay_peer_close(relay, pub), CR_OK);
}

static void expect_refusal(struct cr_relay *relay, uint64_t peer, const char *sdp,
                           const char *reason)
{
    char *answer = NULL, err[256] = "";
    int r = offer(relay, &peer, sdp, NULL, 0, &answer, err);
    CHECK(r < 0);
    CHECK(answer == NULL);
    if (!strstr(err, reason))
        fprintf(stderr, "  wanted '%s' in '%s'\n", reason, err);
    CHECK(strstr(err, reason) != NULL);
}

static void test_bad_offers(struct cr_relay *relay)
{
    uint64_t peer = 0;
    char *answer = NULL, err[256];
    CHECK_EQ(offer(relay, &peer, PUBLISH_OFFER, NULL, 0, &answer, err), CR_OK);
    free(answer);
    expect_refusal(relay, peer, "garbage", "SDP");
    expect_refusal(relay, peer, "", "SDP");
    char *s = mutate("a=rtcp-mux\r\n", "");
    expect_refusal(relay, peer, s, "rtcp-mux");
    free(s);
    s = mutate("a=group:BUNDLE 0 1\r\n", "");
    expect_refusal(relay, peer, s, "BUNDLE");
    free(s);
    s = mutate("a=rtpmap:111 opus/48000/2", "a=rtpmap:111 speex/48000/2");
    expect_refusal(relay, peer, s, "no supported codec");
    free(s);
    s = malloc(70 * 1024);
    memset(s, 'a', 70 * 1024 - 1);
    s[70 * 1024 - 1] = 0;
    expect_refusal(relay, peer, s, "too large");
    free(s);
    /* none of that hurt the peer: a good offer still works */
    CHECK_EQ(offer(relay, &peer, PUBLISH_OFFER, NULL, 0, &answer, err), CR_OK);
    free(answer);
    CHECK_EQ(cr_relay_peer_close(relay, peer), CR_OK);
    uint64_t none = 999999;
    CHECK_EQ(offer(relay, &none, PUBLISH_OFFER, NULL, 0, &answer, err), CR_ERR_NOT_FOUND);
    struct cr_offer elsewhere = {.room = "no-such-room", .sdp = PUBLISH_OFFER};
    struct cr_answer *out = malloc(sizeof *out);
    CHECK_EQ(cr_relay_negotiate(relay, &elsewhere, out), CR_ERR_NOT_FOUND);
    free(out);
    CHECK_EQ(cr_relay_room_open(relay, ""), CR_ERR_ARG);
}

/* A real Chromium 156 offer with three rid layers (tests/fuzz/corpus/sdp/). */
static char *read_fixture(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/../../fuzz/corpus/sdp/%s", CR_TEST_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_simulcast_offer(struct cr_relay *relay)
{
    char *chrome = read_fixture("chrome_simulcast_offer.sdp");
    CHECK(chrome != NULL);
    if (!chrome)
        return;
    uint64_t pub = 0;
    char *answer = NULL, err[256];
    CHECK_EQ(offer(relay, &pub, chrome, NULL, 0, &answer, err), CR_OK);
    CHECK(answer && strstr(answer, "a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\n"));
    CHECK(answer && strstr(answer, "a=simulcast:recv q;h;f\r\n"));
    CHECK(answer && strstr(answer, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"));
    CHECK(answer && strstr(answer, "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"));
    struct cr_track_info tracks[4];
    size_t n = 0;
    CHECK_EQ(cr_relay_room_tracks(relay, "lesson", tracks, 4, &n), CR_OK);
    int video_layers = 0;
    for (size_t i = 0; i < n && i < 4; i++)
        if (tracks[i].kind == CR_KIND_VIDEO)
            video_layers = tracks[i].layers;
    CHECK_EQ(video_layers, 3);
    free(answer);
    free(chrome);
    CHECK_EQ(cr_relay_peer_close(relay, pub), CR_OK);
}

static uint32_t peers_now(struct cr_relay *relay)
{
    struct cr_relay_stats st;
    CHECK_EQ(cr_relay_get_stats(relay, &st), CR_OK);
    return st.peers;
}

/* cr_relay_negotiate: one call creates (or renegotiates) the peer, reads the offer once,
 * names the sources, enforces an endpoint's demand and closes a peer it made on failure. */
static void test_one_call(struct cr_relay *relay)
{
    uint32_t before = peers_now(relay);
    struct cr_answer *a = malloc(sizeof *a);
    /* WHIP: a new peer, default sources, the offer's ufrag */
    struct cr_offer whip = {.room = "lesson", .sdp = PUBLISH_OFFER, .demand = CR_DEMAND_SENDS};
    CHECK_EQ(cr_relay_negotiate(relay, &whip, a), CR_OK);
    uint64_t pub = a->peer_id;
    CHECK(pub != 0);
    CHECK(a->sdp && strstr(a->sdp, "a=recvonly"));
    CHECK_STR(a->ice_ufrag, "abcd");
    CHECK_EQ(a->n_lines, 2);
    CHECK_STR(a->lines[0].mid, "0");
    CHECK_EQ(a->lines[0].kind, CR_KIND_AUDIO);
    CHECK(a->lines[0].client_sends && !a->lines[0].client_receives && !a->lines[0].rejected);
    CHECK_STR(a->lines[0].source, "mic");
    CHECK_STR(a->lines[1].source, "camera");
    uint64_t mic = a->lines[0].track_id, camera = a->lines[1].track_id;
    CHECK(mic && camera && mic != camera);
    free(a->sdp);
    CHECK_EQ(peers_now(relay), before + 1);

    /* an endpoint's demand refuses the offer before anything is made */
    struct cr_offer whep = {
        .room = "lesson", .sdp = PUBLISH_OFFER, .demand = CR_DEMAND_RECEIVES_ONLY};
    CHECK_EQ(cr_relay_negotiate(relay, &whep, a), CR_ERR_BAD_SDP);
    CHECK(strstr(a->err, "must only receive") != NULL);
    CHECK(a->sdp == NULL && a->peer_id == 0);
    whip.sdp = SUBSCRIBE_OFFER;
    CHECK_EQ(cr_relay_negotiate(relay, &whip, a), CR_ERR_BAD_SDP);
    CHECK(strstr(a->err, "must send media") != NULL);
    char *bad = mutate("a=rtcp-mux\r\n", "");
    struct cr_offer broken = {.room = "lesson", .sdp = bad};
    CHECK_EQ(cr_relay_negotiate(relay, &broken, a), CR_ERR_BAD_SDP);
    CHECK(strstr(a->err, "rtcp-mux") != NULL);
    free(bad);
    CHECK_EQ(peers_now(relay), before + 1); /* the peers made for them are gone */
    struct cr_offer nowhere = {.room = "nowhere", .sdp = SUBSCRIBE_OFFER};
    CHECK_EQ(cr_relay_negotiate(relay, &nowhere, a), CR_ERR_NOT_FOUND);

    /* WHEP with a wanted track by mid, then a renegotiation of the same peer */
    struct cr_mline_hint want[2] = {{.mid = "a", .track_id = mic},
                                    {.mid = "v", .track_id = camera}};
    whep = (struct cr_offer){.room = "lesson",
                             .sdp = SUBSCRIBE_OFFER,
                             .hints = want,
                             .n_hints = 2,
                             .demand = CR_DEMAND_RECEIVES_ONLY};
    CHECK_EQ(cr_relay_negotiate(relay, &whep, a), CR_OK);
    uint64_t sub = a->peer_id;
    CHECK(a->lines[0].client_receives && !a->lines[0].client_sends);
    CHECK_EQ(a->lines[0].track_id, mic);
    CHECK_EQ(a->lines[1].track_id, camera);
    CHECK_STR(a->lines[1].source, "camera");
    CHECK_STR(a->ice_ufrag, "wxyz");
    free(a->sdp);
    struct cr_offer again = {.peer_id = sub, .sdp = SUBSCRIBE_OFFER};
    CHECK_EQ(cr_relay_negotiate(relay, &again, a), CR_OK);
    CHECK_EQ(a->peer_id, sub);
    CHECK_EQ(a->lines[1].track_id, camera);
    free(a->sdp);
    /* a failed renegotiation leaves the existing peer alone */
    again.demand = CR_DEMAND_SENDS;
    CHECK_EQ(cr_relay_negotiate(relay, &again, a), CR_ERR_BAD_SDP);
    CHECK_EQ(peers_now(relay), before + 2);
    CHECK_EQ(cr_relay_peer_close(relay, sub), CR_OK);

    /* a hinted source wins over the default */
    struct cr_mline_hint screen = {.mid = "1", .source = "screen"};
    struct cr_offer share = {
        .room = "lesson", .sdp = PUBLISH_OFFER, .hints = &screen, .n_hints = 1};
    CHECK_EQ(cr_relay_negotiate(relay, &share, a), CR_OK);
    CHECK_STR(a->lines[1].source, "screen");
    free(a->sdp);
    CHECK_EQ(cr_relay_peer_close(relay, a->peer_id), CR_OK);
    CHECK_EQ(cr_relay_peer_close(relay, pub), CR_OK);
    CHECK_EQ(peers_now(relay), before);
    free(a);
}

/* RFC 8841: the data channel line is taken (one per transport, in the BUNDLE group), also
 * from a WHEP player; a second one, or an old-style one, is rejected. */
static void test_data_channel(struct cr_relay *relay)
{
    const char *app = "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                      "c=IN IP4 0.0.0.0\r\na=mid:d\r\na=sctp-port:5000\r\n"
                      "a=max-message-size:262144\r\n";
    char *with = replace(SUBSCRIBE_OFFER, "a=group:BUNDLE a v\r\n", "a=group:BUNDLE a v d\r\n");
    size_t n = strlen(with);
    char *offer_sdp = malloc(n + 2 * strlen(app) + 64);
    strcpy(offer_sdp, with);
    strcat(offer_sdp, app);
    struct cr_answer *a = malloc(sizeof *a);
    struct cr_offer whep = {.room = "lesson", .sdp = offer_sdp, .demand = CR_DEMAND_RECEIVES_ONLY};
    CHECK_EQ(cr_relay_negotiate(relay, &whep, a), CR_OK);
    CHECK(a->sdp && strstr(a->sdp, "a=group:BUNDLE a v d\r\n"));
    CHECK(a->sdp && strstr(a->sdp, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"));
    CHECK(a->sdp && strstr(a->sdp, "a=sctp-port:5000\r\na=max-message-size:16384\r\n"));
    CHECK(a->sdp && strstr(a->sdp, "a=mid:d\r\n"));
    CHECK_EQ(a->n_lines, 3);
    CHECK(a->lines[2].data && !a->lines[2].rejected && !a->lines[2].client_sends);
    CHECK(!a->lines[0].data);
    free(a->sdp);
    CHECK_EQ(cr_relay_peer_close(relay, a->peer_id), CR_OK);

    /* a second data line, and an old-style one (RFC 8841 drafts: "DTLS/SCTP 5000") */
    strcat(offer_sdp, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:e\r\n"
                      "m=application 9 DTLS/SCTP 5000\r\na=mid:f\r\n");
    struct cr_offer more = {.room = "lesson", .sdp = offer_sdp};
    CHECK_EQ(cr_relay_negotiate(relay, &more, a), CR_OK);
    CHECK_EQ(a->n_lines, 5);
    CHECK(a->lines[2].data);
    CHECK(a->lines[3].rejected && !a->lines[3].data);
    CHECK(a->lines[4].rejected && !a->lines[4].data);
    CHECK(a->sdp && strstr(a->sdp, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"));
    free(a->sdp);
    CHECK_EQ(cr_relay_peer_close(relay, a->peer_id), CR_OK);
    free(a);
    free(offer_sdp);
    free(with);
}

/* Lines the control plane feeds (cr_mline_hint.follow, cr_relay_peer_feed): answered
 * sendonly while idle, VP8 chosen though H.264 is offered first, never fed on their own;
 * then fed, refused for a track of the wrong kind, kept across a renegotiation, emptied. */
static void test_follow(struct cr_relay *relay)
{
    struct cr_answer *a = malloc(sizeof *a);
    struct cr_offer pub = {.room = "lesson", .sdp = PUBLISH_OFFER};
    CHECK_EQ(cr_relay_negotiate(relay, &pub, a), CR_OK);
    uint64_t publisher = a->peer_id, mic = a->lines[0].track_id, camera = a->lines[1].track_id;
    free(a->sdp);

    struct cr_mline_hint follow[2] = {{.mid = "a", .follow = true}, {.mid = "v", .follow = true}};
    struct cr_offer sub = {.room = "lesson", .sdp = SUBSCRIBE_OFFER, .hints = follow, .n_hints = 2};
    CHECK_EQ(cr_relay_negotiate(relay, &sub, a), CR_OK);
    uint64_t subscriber = a->peer_id;
    CHECK(a->sdp && strstr(a->sdp, "m=video 9 UDP/TLS/RTP/SAVPF 100 121\r\n"));
    CHECK(a->sdp && strstr(a->sdp, "a=msid:cr-follow-"));
    CHECK(a->sdp && !strstr(a->sdp, "a=inactive"));
    CHECK_EQ(a->lines[0].track_id, 0); /* not fed automatically */
    CHECK_EQ(a->lines[1].track_id, 0);
    free(a->sdp);

    CHECK_EQ(cr_relay_peer_feed(relay, subscriber, "v", camera), CR_OK);
    CHECK_EQ(cr_relay_peer_feed(relay, subscriber, "a", mic), CR_OK);
    CHECK_EQ(cr_relay_peer_feed(relay, subscriber, "a", camera), CR_ERR_ARG); /* kind */
    CHECK_EQ(cr_relay_peer_feed(relay, subscriber, "v", 999999), CR_ERR_NOT_FOUND);
    CHECK_EQ(cr_relay_peer_feed(relay, subscriber, "nope", camera), CR_ERR_NOT_FOUND);
    CHECK_EQ(cr_relay_peer_feed(relay, 999999, "v", camera), CR_ERR_NOT_FOUND);
    CHECK_EQ(cr_relay_peer_feed(relay, publisher, "1", camera), CR_ERR_NOT_FOUND); /* receives */

    struct cr_offer again = {
        .peer_id = subscriber, .sdp = SUBSCRIBE_OFFER, .hints = follow, .n_hints = 2};
    CHECK_EQ(cr_relay_negotiate(relay, &again, a), CR_OK);
    CHECK_EQ(a->lines[1].track_id, camera);
    CHECK_EQ(a->lines[0].track_id, mic);
    free(a->sdp);
    CHECK_EQ(cr_relay_peer_feed(relay, subscriber, "v", 0), CR_OK);
    CHECK_EQ(cr_relay_negotiate(relay, &again, a), CR_OK);
    CHECK_EQ(a->lines[1].track_id, 0);
    CHECK(a->sdp && strstr(a->sdp, "a=sendonly"));
    free(a->sdp);
    CHECK_EQ(cr_relay_peer_close(relay, subscriber), CR_OK);

    /* a follow line told the codec its tracks will have (an H.264 teacher) takes it */
    struct cr_mline_hint h264 = {.mid = "*", .follow = true, .codec = "H264"};
    struct cr_offer player = {
        .room = "lesson", .sdp = SUBSCRIBE_OFFER, .hints = &h264, .n_hints = 1};
    CHECK_EQ(cr_relay_negotiate(relay, &player, a), CR_OK);
    CHECK(a->sdp && strstr(a->sdp, "m=video 9 UDP/TLS/RTP/SAVPF 120\r\n"));
    CHECK_STR(a->lines[1].codec, "H264"); /* the answer says it: the lesson feeds it by codec */
    CHECK_STR(a->lines[0].codec, "opus");
    free(a->sdp);
    CHECK_EQ(cr_relay_peer_feed(relay, a->peer_id, "v", camera), CR_ERR_ARG); /* VP8 track */
    CHECK_EQ(cr_relay_peer_close(relay, a->peer_id), CR_OK);
    CHECK_EQ(cr_relay_peer_close(relay, publisher), CR_OK);
    free(a);
}

/* A UDP port nobody uses now, nor the next one (two workers serve port and port + 1). */
static uint16_t free_udp_ports(void)
{
    for (;;) {
        int fd[2] = {socket(AF_INET, SOCK_DGRAM, 0), socket(AF_INET, SOCK_DGRAM, 0)};
        struct sockaddr_in a = {.sin_family = AF_INET};
        socklen_t len = sizeof(a);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd[0], (struct sockaddr *)&a, sizeof(a));
        getsockname(fd[0], (struct sockaddr *)&a, &len);
        uint16_t port = ntohs(a.sin_port);
        a.sin_port = htons((uint16_t)(port + 1));
        int next_free = port < 65535 && bind(fd[1], (struct sockaddr *)&a, sizeof(a)) == 0;
        close(fd[0]);
        close(fd[1]);
        if (next_free)
            return port;
    }
}

static void test_media_port_and_admission(struct cr_relay_config cfg,
                                          const struct cr_relay_events *ev)
{
    cfg.media_port = free_udp_ports();
    cfg.max_peers = 3;
    cfg.workers = 2;
    struct cr_relay *relay = cr_relay_new(&cfg, ev, NULL);
    CHECK(relay != NULL);
    if (!relay)
        return;
    CHECK_EQ(cr_relay_room_open(relay, "lesson"), CR_OK);
    CHECK_EQ(cr_relay_room_open(relay, "other"), CR_OK); /* on the other worker */
    struct cr_answer *a = malloc(sizeof *a);
    struct cr_offer whip = {.room = "lesson", .sdp = PUBLISH_OFFER, .demand = CR_DEMAND_SENDS};
    char want[96];
    uint64_t ids[3];
    for (int i = 0; i < 3; i++) {
        whip.room = i == 2 ? "other" : "lesson";
        CHECK_EQ(cr_relay_negotiate(relay, &whip, a), CR_OK);
        ids[i] = a->peer_id;
        snprintf(want, sizeof want, "a=candidate:1 1 udp 2130706431 127.0.0.1 %u typ host\r\n",
                 cfg.media_port + (i == 2));
        CHECK(a->sdp && strstr(a->sdp, "\r\na=ice-lite\r\n") && strstr(a->sdp, want));
        CHECK(a->sdp && strstr(a->sdp, "a=candidate:") == strstr(a->sdp, want)); /* only one */
        free(a->sdp);
    }
    CHECK((ids[0] & 15) == (ids[1] & 15) && (ids[0] & 15) != (ids[2] & 15)); /* their workers */
    CHECK_EQ(cr_relay_negotiate(relay, &whip, a), CR_ERR_LIMIT); /* max_peers counts both */
    CHECK(strstr(a->err, "the relay is full: 3 peers") != NULL);
    CHECK(a->sdp == NULL && a->peer_id == 0);
    whip.priority = true; /* the teacher comes in all the same */
    CHECK_EQ(cr_relay_negotiate(relay, &whip, a), CR_OK);
    free(a->sdp);
    CHECK_EQ(cr_relay_peer_close(relay, ids[2]), CR_OK); /* found on its worker by its id */
    struct cr_relay_stats st;
    CHECK_EQ(cr_relay_get_stats(relay, &st), CR_OK);
    CHECK_EQ(st.refused, 1);
    CHECK_EQ(st.peers, 3);
    CHECK_EQ(st.rooms, 2);
    CHECK_EQ(st.n_workers, 2);
    CHECK(st.workers[0].rooms == 1 && st.workers[1].rooms == 1);
    CHECK_EQ(st.workers[0].peers + st.workers[1].peers, 3);
    CHECK_EQ(cr_relay_room_close(relay, "other"), CR_OK);
    CHECK_EQ(cr_relay_room_close(relay, "other"), CR_ERR_NOT_FOUND);
    whip.room = "other";
    CHECK_EQ(cr_relay_negotiate(relay, &whip, a), CR_ERR_NOT_FOUND);
    free(a);
    cr_relay_free(relay);
}

/* A lesson over two workers (room_spread 1): the publisher stays on the room's home, the
 * next peer goes to a part on the other worker, which knows the tracks when it answers (fed
 * at negotiation, fed again by id), the one after comes back home; the publisher's tracks
 * leave both parts with it, and closing the room closes every part. */
static void test_spread(struct cr_relay_config cfg, const struct cr_relay_events *ev)
{
    cfg.workers = 2;
    cfg.room_spread = 1;
    struct cr_relay *relay = cr_relay_new(&cfg, ev, NULL);
    CHECK(relay != NULL);
    if (!relay)
        return;
    CHECK_EQ(cr_relay_room_open(relay, "lesson"), CR_OK);
    uint64_t pub = 0, sub[2] = {0, 0};
    struct cr_mline_hint hints[2] = {{.mid = "0", .source = "mic"},
                                     {.mid = "1", .source = "camera"}};
    char *answer = NULL, err[256];
    CHECK_EQ(offer(relay, &pub, PUBLISH_OFFER, hints, 2, &answer, err), CR_OK);
    free(answer);
    for (int i = 0; i < 2; i++) {
        struct cr_mline_hint sh[2] = {{.mid = "a"}, {.mid = "v"}};
        CHECK_EQ(offer(relay, &sub[i], SUBSCRIBE_OFFER, sh, 2, &answer, err), CR_OK);
        CHECK(answer && strstr(answer, "m=video 9 UDP/TLS/RTP/SAVPF 100 121\r\n"));
        CHECK(answer && strstr(answer, "a=sendonly") && strstr(answer, "a=ssrc:"));
        CHECK_EQ(sh[0].track_id, hints[0].track_id); /* the same ids on every part */
        CHECK_EQ(sh[1].track_id, hints[1].track_id);
        free(answer);
    }
    CHECK((sub[0] & 15) != (pub & 15)); /* a part on the other worker */
    CHECK((sub[1] & 15) == (pub & 15)); /* ... and back home */
    CHECK_EQ(cr_relay_peer_feed(relay, sub[0], "v", hints[1].track_id), CR_OK);
    struct cr_relay_stats st;
    CHECK_EQ(cr_relay_get_stats(relay, &st), CR_OK);
    CHECK_EQ(st.rooms, 1); /* one lesson, in two parts */
    CHECK_EQ(st.workers[0].rooms + st.workers[1].rooms, 1);
    CHECK_EQ(st.workers[0].peers, 2);
    CHECK_EQ(st.workers[1].peers, 1);
    CHECK_EQ(st.producers, 2); /* mirrors are not counted */
    CHECK_EQ(st.consumers, 4);

    struct cr_track_info tracks[4];
    size_t n = 0;
    CHECK_EQ(cr_relay_peer_close(relay, pub), CR_OK);
    CHECK_EQ(cr_relay_room_tracks(relay, "lesson", tracks, 4, &n), CR_OK);
    CHECK_EQ(n, 0);
    struct cr_peer_stats ps;
    CHECK_EQ(cr_relay_peer_stats(relay, sub[0], &ps), CR_OK);
    CHECK(ps.n_consumers == 2 && ps.consumers[0].track_id == 0 && ps.consumers[1].track_id == 0);
    CHECK_EQ(cr_relay_room_close(relay, "lesson"), CR_OK);
    CHECK_EQ(cr_relay_get_stats(relay, &st), CR_OK);
    CHECK(st.rooms == 0 && st.peers == 0);
    CHECK_EQ(cr_relay_peer_close(relay, sub[0]), CR_ERR_NOT_FOUND);
    cr_relay_free(relay);
}

int main(void)
{
    struct cr_relay_config cfg = CR_RELAY_CONFIG_DEFAULT;
    cfg.bind_ip = "127.0.0.1";
    cfg.port_min = cfg.port_max = 0;
    struct cr_relay_events ev = {.on_tracks_changed = on_tracks};
    struct cr_relay *relay = cr_relay_new(&cfg, &ev, NULL);
    CHECK(relay != NULL);
    if (!relay)
        return test_report();
    CHECK_EQ(cr_relay_room_open(relay, "lesson"), CR_OK);
    CHECK_EQ(cr_relay_room_open(relay, "lesson"), CR_OK); /* idempotent */
    test_publish_and_subscribe(relay);
    test_bad_offers(relay);
    test_simulcast_offer(relay);
    test_audio_protection(relay);
    test_one_call(relay);
    test_data_channel(relay);
    test_follow(relay);
    test_video_fec(relay, false); /* FEC is off by default */
    struct cr_relay_stats st;
    CHECK_EQ(cr_relay_get_stats(relay, &st), CR_OK);
    CHECK_EQ(st.rooms, 1);
    cr_relay_free(relay);
    cfg.fec = true;
    relay = cr_relay_new(&cfg, &ev, NULL);
    CHECK(relay != NULL);
    if (!relay)
        return test_report();
    CHECK_EQ(cr_relay_room_open(relay, "lesson"), CR_OK);
    test_video_fec(relay, true);
    cr_relay_free(relay);
    cfg.fec = false;
    test_media_port_and_admission(cfg, &ev);
    test_spread(cfg, &ev);
    return test_report();
}
