/* Fuzz entry point for signaling/front/sdpscan.c: walks the input as an
 * application/trickle-ice-sdpfrag body (RFC 8840 §9) the way whip.c does, checking that
 * every line lies inside the input and the walk ends at its end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classrelay/relay.h"
#include "front/sdpscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
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
