/* Fuzz entry point for relay/wire/sdp_mirror.c: a cascade link's offer made from a
 * publisher's offer (the publisher's text came from the network). Nothing is read or written
 * out of bounds (ASan), and an offer that parses gives a mirror that parses, with one m-line
 * for each line it kept. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "require.h"
#include "wire/sdp.h"
#include "wire/sdp_mirror.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    char *offer = malloc(size + 1);
    memcpy(offer, data, size);
    offer[size] = '\0';
    const struct sdp_mirror_line lines[] = {
        {.mid = "0", .ssrcs = {11, 22, 33}, .n_ssrcs = 3},
        {.mid = "1", .ssrcs = {44}, .n_ssrcs = 1},
        {.mid = "video", .ssrcs = {0, 5}, .n_ssrcs = 2},
    };
    const struct sdp_mirror mr = {.sess_id = 7,
                                  .ufrag = "abcd",
                                  .pwd = "0123456789abcdef012345",
                                  .fingerprint = "sha-256 AB:CD",
                                  .candidates = "a=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n",
                                  .lines = lines,
                                  .n_lines = 3};
    struct strbuf out;
    strbuf_init(&out);
    int n = sdp_mirror_offer(offer, &mr, &out);
    REQUIRE(n >= -1 && n <= SDP_MAX_MEDIA * 64);
    static struct sdp_session in, mirror;
    if (n > 0 && sdp_parse(offer, size, &in, NULL) == SDP_OK && strlen(offer) == size) {
        REQUIRE(sdp_parse(out.s, out.len, &mirror, NULL) == SDP_OK);
        REQUIRE(mirror.n_media == (size_t)n);
    }
    strbuf_free(&out);
    free(offer);
    return 0;
}
