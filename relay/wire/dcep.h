/* The Data Channel Establishment Protocol, DCEP (RFC 8832 §5): the DATA_CHANNEL_OPEN a
 * peer sends on a new SCTP stream to open a WebRTC data channel, and the one-byte
 * DATA_CHANNEL_ACK that answers it. A parser that borrows the message and allocates
 * nothing, and writers into a caller's buffer.
 *
 * One call handles one SCTP user message whose PPID was DCEP_PPID_DCEP; everything around
 * it is the caller's: the SCTP association, which stream a channel uses (RFC 8832 §6: even
 * or odd by DTLS role), the PPIDs of user data (RFC 8831 §8, listed here for its use) and
 * what an OPEN leads to. Label and protocol are the bytes the peer sent: RFC 8832 §5.1
 * says they are UTF-8, this module does not check it (a caller putting them into JSON
 * must). */
#ifndef CR_WIRE_DCEP_H
#define CR_WIRE_DCEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DCEP_OPEN_HEADER_LEN 12 /* RFC 8832 §5.1: up to the label */
#define DCEP_ACK_LEN 1          /* RFC 8832 §5.2: the message type alone */
#define DCEP_MAX_STRING 0xFFFF  /* a label or protocol: a 16-bit length */

/* RFC 8832 §8.2.1: message types (0x00, 0x01 and 0xFF are reserved). */
enum dcep_msg_type {
    DCEP_MSG_ACK = 0x02,
    DCEP_MSG_OPEN = 0x03,
};

/* RFC 8832 §5.1, §8.2.2: channel types. The top bit says unordered; the low bits the
 * reliability, which the reliability parameter qualifies. */
enum dcep_channel_type {
    DCEP_CHANNEL_RELIABLE = 0x00,
    DCEP_CHANNEL_RELIABLE_UNORDERED = 0x80,
    DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT = 0x01, /* parameter: retransmissions at most */
    DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT_UNORDERED = 0x81,
    DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED = 0x02, /* parameter: lifetime in milliseconds */
    DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED_UNORDERED = 0x82,
};

/* SCTP payload protocol identifiers of data channels: DCEP's own (RFC 8832 §8.1), and
 * those of user data (RFC 8831 §8). An empty message is sent as one zero byte with an
 * _EMPTY PPID (RFC 8831 §6.6). The _PARTIAL ones are deprecated: named so a caller can
 * refuse them. */
enum dcep_ppid {
    DCEP_PPID_DCEP = 50,
    DCEP_PPID_STRING = 51,
    DCEP_PPID_BINARY_PARTIAL = 52, /* deprecated */
    DCEP_PPID_BINARY = 53,
    DCEP_PPID_STRING_PARTIAL = 54, /* deprecated */
    DCEP_PPID_STRING_EMPTY = 56,
    DCEP_PPID_BINARY_EMPTY = 57,
};

enum dcep_err {
    DCEP_ERR_SHORT = -1,        /* empty, or an OPEN cut inside its 12-byte header */
    DCEP_ERR_TYPE = -2,         /* a message type other than OPEN or ACK */
    DCEP_ERR_LENGTH = -3,       /* label and protocol lengths run past the end */
    DCEP_ERR_TRAILING = -4,     /* bytes after the message's end */
    DCEP_ERR_CHANNEL_TYPE = -5, /* a well-formed OPEN of a channel type §5.1 does not define */
};

/* The fields of a DATA_CHANNEL_OPEN (RFC 8832 §5.1). Parsed, the strings borrow the
 * message (not NUL-terminated; never NULL, even when empty); written, they are read. */
struct dcep_open {
    uint8_t channel_type;       /* enum dcep_channel_type */
    uint16_t priority;          /* as sent; what it weighs is the SCTP scheduler's */
    uint32_t reliability_param; /* 0 for the reliable types (§5.1: ignored on receipt) */
    const char *label;          /* the channel's name, UTF-8, may be empty */
    size_t label_len;
    const char *protocol; /* a subprotocol name, UTF-8; empty: unspecified */
    size_t protocol_len;
};

struct dcep_msg {
    uint8_t type;          /* enum dcep_msg_type */
    struct dcep_open open; /* DCEP_MSG_OPEN only; zeros for an ACK */
};

/* Parses one DCEP message filling the whole of buf, as SCTP delivered it. 0 or a negative
 * dcep_err; *out is zeroed first and filled only on success. Bytes after the end that
 * the lengths give are refused (DCEP_ERR_TRAILING), not ignored: the format leaves no
 * room for them, and a message and its lengths that disagree make the label doubtful. */
int dcep_parse(const uint8_t *buf, size_t len, struct dcep_msg *out);

/* Writes a DATA_CHANNEL_OPEN of o, with a reliability parameter of 0 for the reliable
 * types (§5.1: MUST). Returns the bytes written, or 0 when they do not fit in cap or o
 * cannot be written (a channel type §5.1 does not define, a label or protocol longer than
 * DCEP_MAX_STRING). */
size_t dcep_write_open(uint8_t *out, size_t cap, const struct dcep_open *o);

/* Writes a DATA_CHANNEL_ACK: DCEP_ACK_LEN, or 0 when cap is 0. */
size_t dcep_write_ack(uint8_t *out, size_t cap);

/* True for the six channel types of RFC 8832 §5.1. */
bool dcep_channel_type_known(uint8_t channel_type);
/* Whether a channel of this type delivers in order (no top bit), and whether it
 * retransmits without limit (RELIABLE or RELIABLE_UNORDERED). For known types. */
bool dcep_channel_ordered(uint8_t channel_type);
bool dcep_channel_reliable(uint8_t channel_type);

#endif
