/* Tests signaling/access/node_sig.c: a signature checks under the key it was made with, and
 * not when the key, the kind, the room, the link or a single byte of the body differs. */
#include <string.h>

#include "test.h"
#include "access/node_sig.h"

int main(void)
{
    struct token_key k1, k2;
    memset(&k1, 1, sizeof k1);
    memset(&k2, 2, sizeof k2);
    const char *sdp = "v=0\r\na=fingerprint:sha-256 AA:BB\r\n";
    size_t n = strlen(sdp);
    char sig[NODE_SIG_LEN + 1];
    node_sig(&k1, "offer", "geo", "17", sdp, n, sig);
    CHECK_EQ(strlen(sig), NODE_SIG_LEN);
    CHECK(node_sig_ok(&k1, "offer", "geo", "17", sdp, n, sig));
    CHECK(!node_sig_ok(&k2, "offer", "geo", "17", sdp, n, sig));
    CHECK(!node_sig_ok(&k1, "answer", "geo", "17", sdp, n, sig));
    CHECK(!node_sig_ok(&k1, "offer", "geo2", "17", sdp, n, sig));
    CHECK(!node_sig_ok(&k1, "offer", "geo", "18", sdp, n, sig));
    CHECK(!node_sig_ok(&k1, "offer", "geo", "17", sdp, n - 1, sig));
    char other[64];
    memcpy(other, sdp, n + 1);
    other[27] = 'C';
    CHECK(!node_sig_ok(&k1, "offer", "geo", "17", other, n, sig));
    CHECK(!node_sig_ok(&k1, "offer", "geo", "17", sdp, n, NULL));
    CHECK(!node_sig_ok(&k1, "offer", "geo", "17", sdp, n, "short"));
    return test_report();
}
