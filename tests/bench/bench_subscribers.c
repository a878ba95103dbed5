/* Load client for benchmarks: N cheap WHEP subscribers in one process, built on the
 * relay's own net layer (libnice ICE, OpenSSL DTLS, libsrtp2). Each one offers recvonly
 * audio + video, connects, decrypts every packet it receives (as a browser would) and
 * counts it; none decodes, so hundreds fit on one core beside the relay.
 *
 *   bench_subscribers URL ROOM COUNT SECONDS
 *
 * SRTP_PROFILE=cm80 in the environment offers only AES128_CM_SHA1_80 (what aiortc,
 * GStreamer and many hardware players take); by default both, AEAD_AES_128_GCM first.
 * BENCH_LOCAL_IP: the address the subscribers gather on (127.0.0.1); they take the relay's
 * candidates on HOST's address.
 *
 * Prints one line per second (subscribers connected, packets and bytes received) and a
 * total at the end. Not a test: the functional tests use real browsers and aiortc. */
#include <arpa/inet.h>
#include <glib.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "net/dtls.h"
#include "net/ice.h"
#include "net/srtp.h"
#include "wire/demux.h"
#include "wire/sdp.h"

struct sub {
    struct cr_ice *ice;
    struct cr_dtls *dtls;
    struct cr_srtp *srtp;
    bool connected;
    uint64_t packets, bytes, bad;
};

static struct cr_dtls_cert *g_cert;

static void dtls_send(void *user, const uint8_t *buf, size_t len)
{
    struct sub *s = user;
    cr_ice_send(s->ice, buf, len);
}

static void dtls_keys(void *user, const struct cr_dtls_keys *keys)
{
    struct sub *s = user;
    s->srtp = cr_srtp_new(keys);
    s->connected = s->srtp != NULL;
}

static void dtls_failed(void *user, const char *why) { fprintf(stderr, "dtls failed: %s\n", why); }

static const struct cr_dtls_callbacks dtls_cb = {
    .send = dtls_send, .on_keys = dtls_keys, .on_failed = dtls_failed};

static void ice_state(void *user, enum cr_ice_state st)
{
    struct sub *s = user;
    if (st == CR_ICE_CONNECTED && s->dtls && !s->connected)
        cr_dtls_start(s->dtls);
}

static void ice_recv(void *user, uint8_t *buf, size_t len)
{
    struct sub *s = user;
    enum demux_kind k = demux_classify(buf, len);
    if (k == DEMUX_DTLS && s->dtls) {
        cr_dtls_input(s->dtls, buf, len);
    } else if (k == DEMUX_RTP && s->srtp) {
        if (cr_srtp_unprotect_rtp(s->srtp, buf, &len) == 0) {
            s->packets++;
            s->bytes += len;
        } else {
            s->bad++;
        }
    }
}

static const struct cr_ice_callbacks ice_cb = {.on_state = ice_state, .on_recv = ice_recv};

/* A blocking HTTP/1.1 POST; returns the body of a 201 (malloc'd) or NULL. */
static char *http_post(const char *host, const char *port, const char *path, const char *body)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return NULL;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        freeaddrinfo(ai);
        close(fd);
        return NULL;
    }
    freeaddrinfo(ai);
    struct strbuf req;
    strbuf_init(&req);
    strbuf_printf(&req,
                  "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/sdp\r\n"
                  "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                  path, host, port, strlen(body), body);
    ssize_t w = write(fd, req.s, req.len);
    strbuf_free(&req);
    struct strbuf resp;
    strbuf_init(&resp);
    char buf[4096];
    ssize_t n;
    while (w > 0 && (n = read(fd, buf, sizeof buf)) > 0)
        strbuf_append(&resp, buf, (size_t)n);
    close(fd);
    char *out = NULL;
    const char *sep = resp.s ? strstr(resp.s, "\r\n\r\n") : NULL;
    if (sep && strncmp(resp.s, "HTTP/1.1 201", 12) == 0)
        out = cr_strdup(sep + 4);
    else
        fprintf(stderr, "WHEP refused: %.200s\n", resp.s ? resp.s : "(no reply)");
    strbuf_free(&resp);
    return out;
}

static char *make_offer(struct sub *s)
{
    struct strbuf b;
    strbuf_init(&b);
    const char *fp = cr_dtls_cert_fingerprint(g_cert);
    strbuf_printf(&b, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                      "a=group:BUNDLE 0 1\r\n");
    const char *lines[2][2] = {{"audio", "111"}, {"video", "96 97"}};
    for (int i = 0; i < 2; i++) {
        strbuf_printf(&b,
                      "m=%s 9 UDP/TLS/RTP/SAVPF %s\r\nc=IN IP4 0.0.0.0\r\n"
                      "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\n"
                      "a=setup:active\r\na=mid:%d\r\na=recvonly\r\na=rtcp-mux\r\n"
                      "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n",
                      lines[i][0], lines[i][1], cr_ice_local_ufrag(s->ice),
                      cr_ice_local_pwd(s->ice), fp, i);
        if (i == 0)
            strbuf_puts(&b, "a=rtpmap:111 opus/48000/2\r\n");
        else
            strbuf_puts(&b, "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\n"
                            "a=rtcp-fb:96 nack pli\r\na=rtpmap:97 rtx/90000\r\n"
                            "a=fmtp:97 apt=96\r\n");
        if (i == 0)
            cr_ice_write_candidates(s->ice, &b);
    }
    return strbuf_take(&b);
}

static int start_sub(struct sub *s, GMainContext *ctx, const char *host, const char *port,
                     const char *path)
{
    const char *local = getenv("BENCH_LOCAL_IP");
    struct cr_ice_config ic = {.bind_ip = local ? local : "127.0.0.1",
                               .controlling = true}; /* the offerer */
    s->ice = cr_ice_new(ctx, &ic, &ice_cb, s);
    if (!s->ice)
        return -1;
    char *offer = make_offer(s);
    char *answer = http_post(host, port, path, offer);
    free(offer);
    if (!answer)
        return -1;
    struct sdp_session *sdp = cr_malloc(sizeof *sdp);
    int r = sdp_parse(answer, strlen(answer), sdp, NULL);
    if (r == 0 && sdp->n_media > 0) {
        const struct sdp_media *m = &sdp->media[0];
        char ufrag[128], pwd[128], alg[32], fp[256], cand[512];
        sdp_str_copy(m->ice_ufrag, ufrag, sizeof ufrag);
        sdp_str_copy(m->ice_pwd, pwd, sizeof pwd);
        sdp_str_copy(m->fingerprint_alg, alg, sizeof alg);
        sdp_str_copy(m->fingerprint, fp, sizeof fp);
        s->dtls = cr_dtls_new(g_cert, CR_DTLS_CLIENT, alg, fp, &dtls_cb, s);
        cr_ice_set_remote_credentials(s->ice, ufrag, pwd);
        for (size_t c = 0; c < m->n_candidates; c++) {
            sdp_str_copy(m->candidates[c], cand, sizeof cand);
            if (strstr(cand, " udp ") && strstr(cand, host))
                cr_ice_add_remote_candidate(s->ice, cand);
        }
        cr_ice_remote_gathering_done(s->ice);
    }
    free(sdp);
    free(answer);
    return r == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s HOST:PORT ROOM COUNT SECONDS\n", argv[0]);
        return 2;
    }
    cr_log_set_level(CR_LOG_WARN);
    char host[256];
    snprintf(host, sizeof host, "%s", argv[1]);
    char *colon = strrchr(host, ':');
    if (!colon)
        return 2;
    *colon = 0;
    const char *port = colon + 1;
    char path[300];
    snprintf(path, sizeof path, "/whep/%s", argv[2]);
    int count = atoi(argv[3]), seconds = atoi(argv[4]);
    cr_srtp_global_init();
    g_cert = cr_dtls_cert_new();
    const char *profile = getenv("SRTP_PROFILE");
    static const enum cr_srtp_profile cm80[] = {CR_SRTP_AES128_CM_SHA1_80};
    if (profile && strcmp(profile, "cm80") == 0 && cr_dtls_cert_set_srtp_profiles(g_cert, cm80, 1))
        return 1;
    GMainContext *ctx = g_main_context_new();
    g_main_context_push_thread_default(ctx);
    struct sub *subs = cr_calloc((size_t)count, sizeof *subs);
    for (int i = 0; i < count; i++) {
        if (start_sub(&subs[i], ctx, host, port, path) != 0) {
            fprintf(stderr, "subscriber %d failed to start\n", i);
            return 1;
        }
        while (g_main_context_iteration(ctx, FALSE)) /* keep earlier ones serviced */
            ;
    }
    gint64 end = g_get_monotonic_time() + (gint64)seconds * 1000000, next = 0;
    uint64_t total = 0, bytes = 0;
    while (g_get_monotonic_time() < end) {
        g_main_context_iteration(ctx, TRUE);
        if (g_get_monotonic_time() < next)
            continue;
        next = g_get_monotonic_time() + 1000000;
        int up = 0;
        total = bytes = 0;
        for (int i = 0; i < count; i++) {
            up += subs[i].connected;
            total += subs[i].packets;
            bytes += subs[i].bytes;
        }
        printf("connected %d/%d packets %llu bytes %llu\n", up, count, (unsigned long long)total,
               (unsigned long long)bytes);
        fflush(stdout);
    }
    uint64_t min = UINT64_MAX;
    for (int i = 0; i < count; i++)
        if (subs[i].packets < min)
            min = subs[i].packets;
    printf("total packets %llu, fewest for one subscriber %llu\n", (unsigned long long)total,
           (unsigned long long)min);
    return 0;
}
