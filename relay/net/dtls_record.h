/* DTLS record framing (RFC 6347 §4.1), with no OpenSSL: what dtls.c checks on a datagram
 * before OpenSSL sees it, and how it cuts OpenSSL's output back into records. Pure
 * functions over bytes, so they can be fuzzed alone (tests/fuzz/fuzz_net_dtls_record.c). */
#ifndef CR_NET_DTLS_RECORD_H
#define CR_NET_DTLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CR_DTLS_RECORD_HEADER 13 /* RFC 6347 §4.1: type, version, epoch, seq(48), length */

/* Length of the record at buf (header included), or 0 if it does not fit in len. */
size_t cr_dtls_record_len(const uint8_t *buf, size_t len);

/* RFC 6347 §4.1 and RFC 7983 §7: true when buf holds whole DTLS records (ChangeCipherSpec,
 * Alert, Handshake, ApplicationData with a DTLS version) that exactly fill the datagram. */
bool cr_dtls_record_check(const uint8_t *buf, size_t len);

/* A short account of a datagram's records for the handshake trace, e.g. "1 11 12 14" for
 * a flight of handshake messages (their types, RFC 5246 §7.4), "ccs", "alert", "app", and
 * "e1" for a record of a later epoch (encrypted: a Finished). Writes at most cap bytes
 * (cap ≥ 1), always terminated; stops at the first record that does not fit. */
void cr_dtls_describe(const uint8_t *buf, size_t len, char *out, size_t cap);

#endif
