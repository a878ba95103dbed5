/* WebRTC data channels' transport: an SCTP association (RFC 9260) carried as DTLS
 * application data (RFC 8261), with usrsctp, and the data channels on it (RFC 8831),
 * opened by DCEP (RFC 8832; the message format is wire/dcep.c).
 *
 * usrsctp runs without threads of its own (usrsctp_init_nothreads): packets come in through
 * cr_sctp_input, go out through cb->send, and the stack's timers run when the owner calls
 * cr_sctp_tick. Every call, and so every callback, happens on the one thread that drives
 * the relay's associations (the worker). No socket is involved: the association's
 * address is an AF_CONN handle.
 *
 * What it leaves to others: DTLS (net/dtls.c hands us its application data), the SDP
 * (a=sctp-port, a=max-message-size: negotiate.c), what the messages mean (the routing and
 * signaling above). Messages are at most CR_SCTP_MAX_MESSAGE bytes both ways: larger ones
 * are refused on send and dropped (and counted) on receipt. Sends made inside a callback
 * are queued and go out when the input or tick that called back returns. What we send on
 * a channel the remote opened as partially reliable (RFC 8832 §5.1) is sent reliably. */
#ifndef CR_NET_SCTP_H
#define CR_NET_SCTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CR_SCTP_PORT 5000         /* a=sctp-port of every WebRTC endpoint we know */
#define CR_SCTP_MAX_MESSAGE 16384 /* bytes; also our a=max-message-size */
#define CR_SCTP_MAX_STREAMS 1024  /* channels per association, both directions */
#define CR_SCTP_LABEL_MAX 256     /* bytes of a channel label or protocol we keep */

struct cr_sctp_callbacks {
    /* One SCTP packet for the DTLS transport to send as application data. */
    void (*send)(void *user, const uint8_t *buf, size_t len);
    /* The association is up. */
    void (*on_up)(void *user);
    /* The remote opened a channel (already acknowledged, RFC 8832 §6). */
    void (*on_channel)(void *user, uint16_t stream, const char *label, const char *protocol);
    /* A whole message on an open channel; binary: PPID 53/57, else a UTF-8 string. */
    void (*on_message)(void *user, uint16_t stream, const uint8_t *buf, size_t len, bool binary);
    /* The channel on stream (named label) closed: either end reset it (RFC 8831 §6.7). */
    void (*on_channel_closed)(void *user, uint16_t stream, const char *label);
    /* The association is gone (aborted, shut down, or it never came up). */
    void (*on_down)(void *user, const char *why);
};

struct cr_sctp_stats {
    uint64_t messages_in, messages_out, bytes_in, bytes_out;
    uint64_t dropped_oversize; /* messages over CR_SCTP_MAX_MESSAGE received */
    uint64_t dropped_unknown;  /* on a stream no channel was opened on, or an unknown PPID */
    uint64_t dcep_bad;         /* DCEP messages that did not parse or were unexpected */
    uint32_t channels;         /* open now */
};

struct cr_sctp;
/* dtls_client: our DTLS role, which picks the stream ids we open channels on (RFC 8832
 * §6: the DTLS client even, the server odd). NULL if usrsctp cannot make a socket. */
struct cr_sctp *cr_sctp_new(bool dtls_client, uint16_t local_port, uint16_t remote_port,
                            const struct cr_sctp_callbacks *cb, void *user);
/* Aborts the association (if up) and frees; not from inside this association's callbacks. */
void cr_sctp_free(struct cr_sctp *sctp);
/* Once DTLS is up: starts the association (both ends connect; SCTP handles the crossing
 * INITs). Returns 0 or -1. */
int cr_sctp_start(struct cr_sctp *sctp);
/* One SCTP packet from DTLS application data. */
void cr_sctp_input(struct cr_sctp *sctp, const uint8_t *buf, size_t len);

/* Opens a reliable, ordered channel (DCEP OPEN); *stream gets its id. Returns 0, or -1 when
 * the association is not up, the label is too long or no stream id is free. */
int cr_sctp_open(struct cr_sctp *sctp, const char *label, const char *protocol, uint16_t *stream);
/* Sends one message on an open channel. Returns 0, or -1 (no such channel, too large,
 * association down, send buffer full). */
int cr_sctp_send(struct cr_sctp *sctp, uint16_t stream, const uint8_t *buf, size_t len,
                 bool binary);
/* Closes a channel: resets the outgoing stream (RFC 8831 §6.7). */
void cr_sctp_close_channel(struct cr_sctp *sctp, uint16_t stream);
/* The channel's label, or NULL if stream is not an open channel. */
const char *cr_sctp_label(const struct cr_sctp *sctp, uint16_t stream);
/* The stream of the first open channel named label (either end opened it); -1: none. */
int cr_sctp_find(const struct cr_sctp *sctp, const char *label);
void cr_sctp_get_stats(const struct cr_sctp *sctp, struct cr_sctp_stats *out);

/* Runs usrsctp's timers (retransmissions, heartbeats, delayed SACKs) up to now_ms, for
 * every association. Call every few tens of milliseconds while any exists. */
void cr_sctp_tick(int64_t now_ms);

#endif
