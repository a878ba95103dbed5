/* Tests relay/media/packet_store.c: retrieval by seq, wrap, age and stale slots. */
#include "media/packet_store.h"
#include "test.h"

int main(void)
{
    struct packet_store *ps = packet_store_new(100, 1000); /* rounds up to 128 */
    uint8_t pkt[1200];
    for (int i = 0; i < 300; i++) {
        pkt[0] = (uint8_t)i;
        packet_store_put(ps, (uint16_t)(65400 + i), pkt, 100 + (size_t)(i % 50), i);
    }
    size_t len = 0;
    const uint8_t *p = packet_store_get(ps, (uint16_t)(65400 + 299), 299, &len);
    CHECK(p != NULL);
    CHECK_EQ(len, 100 + 299 % 50);
    CHECK_EQ(p[0], (uint8_t)299);
    /* 128 slots: the packet 128 back was overwritten */
    CHECK(packet_store_get(ps, (uint16_t)(65400 + 299 - 128), 299, &len) == NULL);
    CHECK(packet_store_get(ps, (uint16_t)(65400 + 299 - 127), 299, &len) != NULL);
    /* too old */
    CHECK(packet_store_get(ps, (uint16_t)(65400 + 200), 1500, &len) == NULL);
    CHECK(packet_store_has(ps, (uint16_t)(65400 + 250)));
    CHECK(!packet_store_has(ps, 5000));
    /* oversized packets are not kept */
    uint8_t big[PACKET_STORE_MTU + 1] = {0};
    packet_store_put(ps, 7, big, sizeof big, 300);
    CHECK(packet_store_get(ps, 7, 300, &len) == NULL);
    packet_store_free(ps);
    packet_store_free(NULL);
    return test_report();
}
