/* STUN messages (RFC 8489) as ICE uses them for connectivity and consent checks (RFC 8445
 * §7, RFC 7675): a parser that borrows the datagram and a writer into a caller's buffer,
 * with FINGERPRINT (§14.7) computed here and MESSAGE-INTEGRITY (§14.5) computed through an
 * HMAC-SHA1 function the caller passes in (this layer links no crypto library). */
#ifndef CR_WIRE_STUN_H
#define CR_WIRE_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STUN_HEADER_LEN 20
#define STUN_MAGIC_COOKIE 0x2112A442u
#define STUN_TXID_LEN 12
#define STUN_HMAC_LEN 20
#define STUN_MAX_USERNAME 513 /* RFC 8489 §14.3: less than 513 bytes */

#define STUN_METHOD_BINDING 0x001

/* RFC 8489 §5: the two class bits of the message type. */
enum stun_class { STUN_REQUEST = 0, STUN_INDICATION = 1, STUN_SUCCESS = 2, STUN_ERROR = 3 };

enum stun_attr_type {
    STUN_ATTR_MAPPED_ADDRESS = 0x0001,
    STUN_ATTR_USERNAME = 0x0006,
    STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
    STUN_ATTR_ERROR_CODE = 0x0009,
    STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
    STUN_ATTR_PRIORITY = 0x0024,      /* RFC 8445 §16.1 */
    STUN_ATTR_USE_CANDIDATE = 0x0025, /* RFC 8445 §16.1 */
    STUN_ATTR_SOFTWARE = 0x8022,
    STUN_ATTR_FINGERPRINT = 0x8028,
    STUN_ATTR_ICE_CONTROLLED = 0x8029,  /* RFC 8445 §16.1 */
    STUN_ATTR_ICE_CONTROLLING = 0x802A, /* RFC 8445 §16.1 */
};

enum stun_err {
    STUN_ERR_NOT_STUN = -1,  /* no STUN header (RFC 8489 §6.3: not for us) */
    STUN_ERR_MALFORMED = -2, /* a STUN header, but bad lengths or attributes */
    STUN_ERR_INTEGRITY = -3, /* MESSAGE-INTEGRITY missing or wrong */
    STUN_ERR_FINGERPRINT = -4,
    STUN_ERR_SPACE = -5, /* the writer's buffer is too small */
};

/* A transport address: family 4 or 6 (0: absent), address in network order. */
struct stun_addr {
    int family;
    uint8_t ip[16];
    uint16_t port;
};

/* One parsed message. Pointers borrow the parsed buffer. Attributes after
 * MESSAGE-INTEGRITY other than FINGERPRINT are ignored (RFC 8489 §14.5); of a repeated
 * attribute only the first counts (§14). */
struct stun_view {
    const uint8_t *raw; /* the whole message */
    size_t len;
    uint16_t method;
    enum stun_class cls;
    const uint8_t *txid; /* STUN_TXID_LEN bytes */
    const uint8_t *username;
    size_t username_len;
    size_t integrity_off;   /* offset of the MESSAGE-INTEGRITY attribute; 0: none */
    size_t fingerprint_off; /* offset of the FINGERPRINT attribute; 0: none */
    bool has_priority;
    uint32_t priority;
    bool use_candidate;
    bool controlling, controlled; /* ICE-CONTROLLING / ICE-CONTROLLED present */
    uint64_t tie_breaker;
    struct stun_addr xor_mapped;
    uint16_t error_code;       /* 300..699 in an ERROR-CODE attribute; 0: none */
    unsigned unknown_required; /* comprehension-required attributes (< 0x8000) we do not know */
};

/* True when buf starts like a STUN message (RFC 8489 §6.3: zero top bits, the magic cookie,
 * a length that is a multiple of four and fills the datagram). Cheap; stun_parse checks
 * everything. */
bool stun_is_message(const uint8_t *buf, size_t len);

/* Parses one STUN message filling the whole datagram. 0 or a negative stun_err. */
int stun_parse(const uint8_t *buf, size_t len, struct stun_view *out);

/* HMAC-SHA1 (RFC 2104) of head followed by rest, keyed with key; writes STUN_HMAC_LEN bytes. */
typedef void (*stun_hmac_fn)(const uint8_t *key, size_t key_len, const uint8_t *head,
                             size_t head_len, const uint8_t *rest, size_t rest_len, uint8_t *out);

/* RFC 8489 §14.5: 0 when MESSAGE-INTEGRITY is present and matches key (for short-term
 * credentials, §9.1.1, the password itself), else STUN_ERR_INTEGRITY. */
int stun_check_integrity(const struct stun_view *v, const uint8_t *key, size_t key_len,
                         stun_hmac_fn hmac);
/* RFC 8489 §14.7: 0 when FINGERPRINT is present and matches, else STUN_ERR_FINGERPRINT. */
int stun_check_fingerprint(const struct stun_view *v);
/* The CRC-32 of ISO 3309 / ITU-T V.42 that FINGERPRINT uses (before the XOR). */
uint32_t stun_crc32(const uint8_t *p, size_t n);

/* Writes a message attribute by attribute into a caller's buffer, keeping the header's
 * length current. Calls after an overflow do nothing; stun_finish reports it. */
struct stun_writer {
    uint8_t *buf;
    size_t cap, len;
    bool overflow;
};

void stun_writer_init(struct stun_writer *w, uint8_t *buf, size_t cap, uint16_t method,
                      enum stun_class cls, const uint8_t *txid);
/* Any attribute: the value is padded with zeros to four bytes (RFC 8489 §14). */
void stun_put_attr(struct stun_writer *w, uint16_t type, const void *value, size_t len);
void stun_put_u32(struct stun_writer *w, uint16_t type, uint32_t v);
void stun_put_u64(struct stun_writer *w, uint16_t type, uint64_t v);
/* XOR-MAPPED-ADDRESS and friends (RFC 8489 §14.2). */
void stun_put_xor_addr(struct stun_writer *w, uint16_t type, const struct stun_addr *a);
void stun_put_integrity(struct stun_writer *w, const uint8_t *key, size_t key_len,
                        stun_hmac_fn hmac);
void stun_put_fingerprint(struct stun_writer *w);
/* The message's length, or STUN_ERR_SPACE. */
int stun_finish(const struct stun_writer *w);

#endif
