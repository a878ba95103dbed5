/* A peer's data channels (RFC 8831): the SCTP association (net/sctp.c) over the peer's
 * DTLS, made when an offer's m=application line was accepted and DTLS is up. What the
 * client sends on a channel goes up to the control plane as it is (ctx->events), within a
 * per-peer rate limit: a token bucket of PEER_DATA_RATE messages a second, bursts of
 * PEER_DATA_BURST; over it, messages are dropped and counted, and the peer's other
 * traffic is not touched. What the control plane sends goes out on the client's channel
 * of that label. What the messages mean is the control plane's. */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/bucket.h"
#include "base/clock.h"
#include "base/log.h"
#include "route/ctx.h"
#include "route/peer.h"

#define PEER_DATA_RATE 20.0  /* messages a second, sustained */
#define PEER_DATA_BURST 40.0 /* messages at once */

struct peer_data {
    struct cr_sctp *sctp;  /* owned, once DTLS is up */
    uint16_t remote_port;  /* the client's a=sctp-port */
    struct cr_bucket rate; /* state: the rate limit */
};

static void data_send(void *user, const uint8_t *buf, size_t len)
{
    struct peer *peer = user;
    cr_dtls_send_data(peer->dtls, buf, len);
}

static void data_up(void *user)
{
    struct peer *peer = user;
    CR_INFO("peer", "%llu data channels up", (unsigned long long)peer->id);
}

static void data_channel(void *user, uint16_t stream, const char *label, const char *protocol)
{
    struct peer *peer = user;
    (void)protocol;
    CR_INFO("peer", "%llu opened data channel \"%s\" (stream %u)", (unsigned long long)peer->id,
            label, stream);
    if (peer->ctx->events.on_channel)
        peer->ctx->events.on_channel(peer->ctx->events_user, peer->id, label, true);
}

static void data_message(void *user, uint16_t stream, const uint8_t *buf, size_t len, bool binary)
{
    struct peer *peer = user;
    struct route_ctx *ctx = peer->ctx;
    if (!cr_bucket_take(&peer->data->rate, PEER_DATA_RATE, PEER_DATA_BURST, cr_now_ms())) {
        ctx->stats.data_dropped++;
        CR_LOG_RATE(CR_LOG_WARN, "peer", "%llu data channel flood: messages dropped",
                    (unsigned long long)peer->id);
        return;
    }
    ctx->stats.data_in++;
    const char *label = cr_sctp_label(peer->data->sctp, stream);
    if (ctx->events.on_channel_message && label)
        ctx->events.on_channel_message(ctx->events_user, peer->id, label, buf, len, binary);
}

static void data_channel_closed(void *user, uint16_t stream, const char *label)
{
    struct peer *peer = user;
    CR_INFO("peer", "%llu data channel \"%s\" closed (stream %u)", (unsigned long long)peer->id,
            label, stream);
    if (peer->ctx->events.on_channel)
        peer->ctx->events.on_channel(peer->ctx->events_user, peer->id, label, false);
}

static void data_down(void *user, const char *why)
{
    struct peer *peer = user;
    CR_INFO("peer", "%llu data channels down: %s", (unsigned long long)peer->id, why);
}

static const struct cr_sctp_callbacks data_cb = {
    .send = data_send,
    .on_up = data_up,
    .on_channel = data_channel,
    .on_message = data_message,
    .on_channel_closed = data_channel_closed,
    .on_down = data_down,
};

void peer_data_want(struct peer *peer, uint16_t remote_port)
{
    if (peer->data) /* a renegotiation keeps the association (RFC 8841 §9.3) */
        return;
    peer->data = CR_NEW(struct peer_data);
    peer->data->remote_port = remote_port ? remote_port : CR_SCTP_PORT;
    if (peer->srtp) /* DTLS already up: an m=application line added later */
        peer_data_start(peer);
}

void peer_data_start(struct peer *peer)
{
    struct peer_data *d = peer->data;
    if (!d || d->sctp)
        return;
    d->sctp = cr_sctp_new(peer->dtls_client, CR_SCTP_PORT, d->remote_port, &data_cb, peer);
    if (d->sctp && cr_sctp_start(d->sctp) < 0) {
        cr_sctp_free(d->sctp);
        d->sctp = NULL;
    }
    if (!d->sctp)
        CR_WARN("peer", "%llu: no data channels (SCTP did not start)",
                (unsigned long long)peer->id);
}

void peer_data_input(struct peer *peer, const uint8_t *buf, size_t len)
{
    if (peer->data && peer->data->sctp)
        cr_sctp_input(peer->data->sctp, buf, len);
    else
        peer->ctx->stats.bad_packets++;
}

int peer_data_send(struct peer *peer, const char *label, const uint8_t *buf, size_t len,
                   bool binary)
{
    struct cr_sctp *sctp = peer->data ? peer->data->sctp : NULL;
    int stream = cr_sctp_find(sctp, label);
    if (stream < 0)
        return CR_ERR_NOT_FOUND;
    if (cr_sctp_send(sctp, (uint16_t)stream, buf, len, binary) < 0) {
        peer->ctx->stats.data_dropped++;
        return CR_ERR_LIMIT;
    }
    peer->ctx->stats.data_out++;
    return CR_OK;
}

void peer_data_free(struct peer *peer)
{
    if (!peer->data)
        return;
    cr_sctp_free(peer->data->sctp);
    free(peer->data);
    peer->data = NULL;
}
