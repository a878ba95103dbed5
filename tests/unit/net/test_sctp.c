/* Tests relay/net/sctp.c: two associations in one process, their packets carried by the
 * test (no DTLS, no sockets) with a clock the test moves. The association comes up, a
 * channel opened with DCEP reaches the other end with its label on a stream of the
 * opener's parity (RFC 8832 §6), strings, binary, empty and 16 KiB messages arrive whole
 * and in order (also with a third of the packets lost), larger ones are refused, closing
 * a channel closes it at both ends (RFC 8831 §6.7), an end freed inside its own callback
 * is closed safely, and freeing one end aborts the association at the other. */
#include <stdlib.h>
#include <string.h>

#include "net/sctp.h"
#include "test.h"

#define MAX_PACKETS 4096

struct side {
    const char *name;
    struct cr_sctp *sctp;
    struct side *other;
    uint8_t *packets[MAX_PACKETS]; /* owned: what the other end sent us, not yet read */
    size_t lens[MAX_PACKETS];
    size_t n_packets;
    int up, down, channels, closed;
    uint16_t last_stream;
    char last_label[64];
    uint8_t last_msg[CR_SCTP_MAX_MESSAGE + 1];
    size_t last_len, n_msgs;
    bool last_binary;
    bool free_on_message; /* frees its own association from on_message */
};

static int64_t now_ms = 1000;
static unsigned drop_every; /* 0: lose nothing; n: lose every n-th packet */
static unsigned n_sent;

static void on_send(void *user, const uint8_t *buf, size_t len)
{
    struct side *to = ((struct side *)user)->other;
    if (drop_every && ++n_sent % drop_every == 0)
        return;
    if (to->n_packets == MAX_PACKETS)
        return;
    to->packets[to->n_packets] = malloc(len);
    memcpy(to->packets[to->n_packets], buf, len);
    to->lens[to->n_packets++] = len;
}

static void on_up(void *user) { ((struct side *)user)->up++; }

static void on_channel(void *user, uint16_t stream, const char *label, const char *protocol)
{
    struct side *s = user;
    s->channels++;
    s->last_stream = stream;
    snprintf(s->last_label, sizeof s->last_label, "%s", label);
    (void)protocol;
}

static void on_message(void *user, uint16_t stream, const uint8_t *buf, size_t len, bool binary)
{
    struct side *s = user;
    CHECK(len <= CR_SCTP_MAX_MESSAGE);
    memcpy(s->last_msg, buf, len);
    s->last_len = len;
    s->last_binary = binary;
    s->last_stream = stream;
    s->n_msgs++;
    if (s->free_on_message) {
        cr_sctp_free(s->sctp);
        s->sctp = NULL;
    }
}

static void on_channel_closed(void *user, uint16_t stream, const char *label)
{
    CHECK(label != NULL);
    struct side *s = user;
    s->closed++;
    s->last_stream = stream;
}

static void on_down(void *user, const char *why)
{
    ((struct side *)user)->down++;
    (void)why;
}

static const struct cr_sctp_callbacks callbacks = {
    on_send, on_up, on_channel, on_message, on_channel_closed, on_down,
};

/* Delivers what is queued both ways and moves the clock, rounds times. */
static void pump(struct side *a, struct side *b, int rounds)
{
    for (int r = 0; r < rounds; r++) {
        struct side *sides[2] = {a, b};
        for (int i = 0; i < 2; i++) {
            struct side *s = sides[i];
            size_t n = s->n_packets;
            s->n_packets = 0;
            for (size_t k = 0; k < n; k++) {
                if (s->sctp)
                    cr_sctp_input(s->sctp, s->packets[k], s->lens[k]);
                free(s->packets[k]);
            }
        }
        now_ms += 10;
        cr_sctp_tick(now_ms);
    }
}

static void connect_pair(struct side *a, struct side *b)
{
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    a->name = "client";
    b->name = "server";
    a->other = b;
    b->other = a;
    a->sctp = cr_sctp_new(true, CR_SCTP_PORT, CR_SCTP_PORT, &callbacks, a);
    b->sctp = cr_sctp_new(false, CR_SCTP_PORT, CR_SCTP_PORT, &callbacks, b);
    CHECK(a->sctp && b->sctp);
    CHECK_EQ(cr_sctp_start(a->sctp), 0);
    CHECK_EQ(cr_sctp_start(b->sctp), 0);
    pump(a, b, 50);
    CHECK_EQ(a->up, 1);
    CHECK_EQ(b->up, 1);
}

static void drain(struct side *s)
{
    for (size_t k = 0; k < s->n_packets; k++)
        free(s->packets[k]);
    s->n_packets = 0;
}

static void close_pair(struct side *a, struct side *b)
{
    cr_sctp_free(a->sctp);
    cr_sctp_free(b->sctp);
    drain(a);
    drain(b);
}

static void test_channel_and_messages(void)
{
    struct side a, b;
    connect_pair(&a, &b);
    uint16_t stream = 99;
    CHECK_EQ(cr_sctp_open(a.sctp, "events", "", &stream), 0);
    CHECK_EQ(stream % 2, 0); /* the DTLS client's streams are even */
    pump(&a, &b, 5);
    CHECK_EQ(b.channels, 1);
    CHECK_STR(b.last_label, "events");
    CHECK_EQ(b.last_stream, stream);
    CHECK_STR(cr_sctp_label(b.sctp, stream), "events");
    CHECK_EQ(cr_sctp_find(b.sctp, "events"), stream);
    CHECK_EQ(cr_sctp_find(b.sctp, "nothing"), -1);

    const char *hello = "{\"type\":\"chat\",\"text\":\"你好\"}";
    CHECK_EQ(cr_sctp_send(b.sctp, stream, (const uint8_t *)hello, strlen(hello), false), 0);
    pump(&a, &b, 5);
    CHECK_EQ(a.n_msgs, 1);
    CHECK_EQ(a.last_len, strlen(hello));
    CHECK(memcmp(a.last_msg, hello, strlen(hello)) == 0);
    CHECK(!a.last_binary);

    static uint8_t big[CR_SCTP_MAX_MESSAGE + 1];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    CHECK_EQ(cr_sctp_send(a.sctp, stream, big, CR_SCTP_MAX_MESSAGE, true), 0);
    CHECK_EQ(cr_sctp_send(a.sctp, stream, big, CR_SCTP_MAX_MESSAGE + 1, true), -1);
    pump(&a, &b, 10);
    CHECK_EQ(b.n_msgs, 1);
    CHECK_EQ(b.last_len, CR_SCTP_MAX_MESSAGE);
    CHECK(b.last_binary);
    CHECK(memcmp(b.last_msg, big, CR_SCTP_MAX_MESSAGE) == 0);

    CHECK_EQ(cr_sctp_send(a.sctp, stream, NULL, 0, false), 0); /* empty string: PPID 56 */
    pump(&a, &b, 5);
    CHECK_EQ(b.n_msgs, 2);
    CHECK_EQ(b.last_len, 0);
    CHECK(!b.last_binary);
    CHECK_EQ(cr_sctp_send(a.sctp, 500, big, 10, false), -1); /* no such channel */

    /* the server's own channel: an odd stream */
    uint16_t mine = 0;
    CHECK_EQ(cr_sctp_open(b.sctp, "quiz", "json", &mine), 0);
    CHECK_EQ(mine % 2, 1);
    pump(&a, &b, 5);
    CHECK_EQ(a.channels, 1);
    CHECK_STR(a.last_label, "quiz");

    /* closing resets the stream at both ends */
    cr_sctp_close_channel(a.sctp, stream);
    pump(&a, &b, 10);
    CHECK_EQ(b.closed, 1);
    CHECK(cr_sctp_label(b.sctp, stream) == NULL);
    CHECK(cr_sctp_label(a.sctp, stream) == NULL);
    struct cr_sctp_stats st;
    cr_sctp_get_stats(b.sctp, &st);
    CHECK_EQ(st.channels, 1); /* "quiz" stays */
    CHECK_EQ(st.messages_in, 2);
    CHECK_EQ(st.dcep_bad, 0);
    close_pair(&a, &b);
}

/* A third of the packets lost: retransmissions (driven by cr_sctp_tick) deliver every
 * message, in order. */
static void test_loss(void)
{
    struct side a, b;
    connect_pair(&a, &b);
    uint16_t stream;
    CHECK_EQ(cr_sctp_open(a.sctp, "events", "", &stream), 0);
    pump(&a, &b, 5);
    drop_every = 3;
    char text[32];
    int sent = 0, in_order = 1;
    for (int i = 0; i < 50; i++) {
        snprintf(text, sizeof text, "message %d", i);
        sent += cr_sctp_send(a.sctp, stream, (const uint8_t *)text, strlen(text), false) == 0;
        size_t before = b.n_msgs;
        pump(&a, &b, 1);
        if (b.n_msgs > before) {
            b.last_msg[b.last_len] = 0;
            snprintf(text, sizeof text, "message %zu", b.n_msgs - 1);
            in_order &= strcmp((char *)b.last_msg, text) == 0;
        }
    }
    pump(&a, &b, 600); /* six seconds of retransmission timers */
    drop_every = 0;
    pump(&a, &b, 100);
    CHECK_EQ(sent, 50);
    CHECK_EQ(b.n_msgs, 50);
    b.last_msg[b.last_len] = 0;
    CHECK_STR((char *)b.last_msg, "message 49");
    CHECK(in_order);
    close_pair(&a, &b);
}

/* An end freed from its own callback is closed when the input returns (silently: its
 * owner may be gone); the other end goes on unharmed. */
static void test_free_inside_callback(void)
{
    struct side a, b;
    connect_pair(&a, &b);
    uint16_t stream;
    CHECK_EQ(cr_sctp_open(a.sctp, "events", "", &stream), 0);
    pump(&a, &b, 5);
    b.free_on_message = true;
    CHECK_EQ(cr_sctp_send(a.sctp, stream, (const uint8_t *)"bye", 3, false), 0);
    CHECK_EQ(cr_sctp_send(a.sctp, stream, (const uint8_t *)"again", 5, false), 0);
    pump(&a, &b, 5);
    CHECK_EQ(b.n_msgs, 1);
    CHECK(b.sctp == NULL);
    pump(&a, &b, 50);
    close_pair(&a, &b);
}

/* Freeing one end aborts the association: the other end hears it at once. */
static void test_abort(void)
{
    struct side a, b;
    connect_pair(&a, &b);
    uint16_t stream;
    CHECK_EQ(cr_sctp_open(a.sctp, "events", "", &stream), 0);
    pump(&a, &b, 5);
    cr_sctp_free(b.sctp);
    b.sctp = NULL;
    pump(&a, &b, 2);
    CHECK_EQ(a.down, 1);
    CHECK_EQ(cr_sctp_send(a.sctp, stream, (const uint8_t *)"x", 1, false), -1);
    close_pair(&a, &b);
}

int main(void)
{
    test_channel_and_messages();
    test_loss();
    test_free_inside_callback();
    test_abort();
    return test_report();
}
