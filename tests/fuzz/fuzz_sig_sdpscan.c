/* Fuzz entry point for signaling/sdpscan.c: scans the input as an offer, then walks it as
 * an application/trickle-ice-sdpfrag body (RFC 8840 §9) the way whip.c does, checking
 * that every line lies inside the input and that every kept field is a bounded string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "front/sdpscan.h"

static void check_str(const char *s, size_t cap)
{
    if (strnlen(s, cap) == cap)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sdpscan scan;
    const char *text = (const char *)data, *why = NULL;
    if (sdpscan_offer(text, size, &scan, &why) == 0) {
        if (scan.n == 0 || scan.n > SDPSCAN_MAX_MLINES)
            abort();
        for (size_t i = 0; i < scan.n; i++) {
            const struct sdpscan_mline *m = &scan.m[i];
            check_str(m->kind, sizeof m->kind);
            check_str(m->mid, sizeof m->mid);
            if (m->dir > SDPSCAN_INACTIVE)
                abort();
            if (sdpscan_client_sends(m) && (m->rejected || m->dir == SDPSCAN_RECVONLY))
                abort();
        }
        check_str(scan.ice_ufrag, sizeof scan.ice_ufrag);
    } else if (!why || !why[0]) {
        abort();
    }

    size_t pos = 0, n, prev = 0, lines = 0;
    const char *line;
    char mid[CR_MID_MAX] = "";
    while (sdpscan_next_line(text, size, &pos, &line, &n)) {
        if (line < text || line + n > text + size || pos <= prev || pos > size ||
            memchr(line, '\n', n) || ++lines > size + 1)
            abort();
        prev = pos;
        if (sdpscan_has_prefix(line, n, "a=mid:") && n - 6 < sizeof mid) {
            memcpy(mid, line + 6, n - 6);
            mid[n - 6] = '\0';
        }
    }
    if (pos != size)
        abort();
    return 0;
}
