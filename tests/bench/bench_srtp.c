/* Benchmark (not a test): CPU cost of cr_srtp_protect_rtp on 1200-byte RTP packets for both
 * DTLS-SRTP profiles, AES128_CM_SHA1_80 (RFC 5764 §4.1.2) and AEAD_AES_128_GCM (RFC 7714),
 * plus unprotect for comparison. Prints microseconds of this thread's CPU time per packet
 * (so other load on the machine does not count), best of several rounds.
 *   bench_srtp [packets-per-round]    (default 200000) */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/bytes.h"
#include "net/srtp.h"

#define PACKET 1200
#define ROUNDS 5

static int64_t cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct cr_srtp *make(enum cr_srtp_profile profile, bool mirror)
{
    struct cr_dtls_keys k = {.profile = profile};
    k.key_len = profile == CR_SRTP_AEAD_AES_128_GCM ? 28 : 30;
    for (size_t i = 0; i < k.key_len; i++) {
        k.local[i] = (uint8_t)(mirror ? i + 100 : i);
        k.remote[i] = (uint8_t)(mirror ? i : i + 100);
    }
    return cr_srtp_new(&k);
}

static void fill(uint8_t *pkt, uint16_t seq)
{
    pkt[0] = 0x80;
    pkt[1] = 96;
    wr_be16(pkt + 2, seq);
    wr_be32(pkt + 4, (uint32_t)seq * 3000u);
    wr_be32(pkt + 8, 0xcafe0001);
}

/* Best µs per protect over ROUNDS rounds of n packets (sequence numbers keep increasing, as
 * on a real stream; the header rewrite per packet is part of a forwarder's cost too). */
static double bench_protect(struct cr_srtp *s, int n, uint32_t *seq)
{
    static uint8_t pkt[PACKET + CR_SRTP_MAX_TRAILER];
    double best = 1e9;
    memset(pkt, 0x5a, sizeof(pkt));
    for (int r = 0; r < ROUNDS; r++) {
        int64_t t0 = cpu_us();
        for (int i = 0; i < n; i++) {
            size_t len = PACKET;
            fill(pkt, (uint16_t)(*seq)++);
            if (cr_srtp_protect_rtp(s, pkt, &len) < 0) {
                fprintf(stderr, "protect failed\n");
                exit(1);
            }
        }
        double us = (double)(cpu_us() - t0) / n;
        best = us < best ? us : best;
    }
    return best;
}

/* µs per unprotect: protects a batch first (not timed), then unprotects it. */
static double bench_unprotect(struct cr_srtp *tx, struct cr_srtp *rx, int n, uint32_t *seq)
{
    enum { BATCH = 1024 };
    static uint8_t pkts[BATCH][PACKET + CR_SRTP_MAX_TRAILER];
    static size_t lens[BATCH];
    int64_t spent = 0;
    int done = 0;
    while (done < n) {
        for (int i = 0; i < BATCH; i++) {
            memset(pkts[i], 0x5a, PACKET);
            fill(pkts[i], (uint16_t)(*seq)++);
            lens[i] = PACKET;
            cr_srtp_protect_rtp(tx, pkts[i], &lens[i]);
        }
        int64_t t0 = cpu_us();
        for (int i = 0; i < BATCH; i++)
            if (cr_srtp_unprotect_rtp(rx, pkts[i], &lens[i]) < 0) {
                fprintf(stderr, "unprotect failed\n");
                exit(1);
            }
        spent += cpu_us() - t0;
        done += BATCH;
    }
    return (double)spent / done;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200000;
    static const struct {
        enum cr_srtp_profile profile;
        const char *name;
    } profiles[] = {{CR_SRTP_AES128_CM_SHA1_80, "AES128_CM_SHA1_80"},
                    {CR_SRTP_AEAD_AES_128_GCM, "AEAD_AES_128_GCM"}};
    if (n <= 0 || cr_srtp_global_init() < 0)
        return 1;
    printf("SRTP, %d-byte RTP packets, CPU time, best of %d rounds of %d\n", PACKET, ROUNDS, n);
    for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
        struct cr_srtp *tx = make(profiles[i].profile, false);
        struct cr_srtp *rx = make(profiles[i].profile, true);
        uint32_t seq = 0;
        if (!tx || !rx)
            return 1;
        double p = bench_protect(tx, n, &seq);
        /* a fresh sender: the receiver cannot guess the rollover count of a running one */
        cr_srtp_free(tx);
        tx = make(profiles[i].profile, false);
        seq = 0;
        double u = bench_unprotect(tx, rx, n, &seq);
        printf("%-18s protect %6.3f us/packet   unprotect %6.3f us/packet\n", profiles[i].name, p,
               u);
        cr_srtp_free(tx);
        cr_srtp_free(rx);
    }
    return 0;
}
