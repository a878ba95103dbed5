/* DEFLATE for the wire. Mostly deflated text fields of websocket messages: a string sent as
 * base64 (RFC 4648 §4) of a raw
 * DEFLATE stream (RFC 1951, no zlib or gzip wrapper: what the browser's
 * CompressionStream("deflate-raw") makes). The protocol carries SDP this way ("sdpz",
 * docs/protocol.md): an offer or answer of 5-6 KB becomes about 1.6 KB, one burst that a
 * 250 kbit/s school link's router queue holds, where the plain text overflows it and waits
 * for TCP's retransmission timeout.
 *
 * Input is the network's: inflating stops at a bound on the output (a deflate bomb is an
 * error, not an allocation) and every failure is a code the caller turns into an error reply.
 * Leaves JSON to the caller and the SDP's meaning to the relay. */
#ifndef CR_SIGNALING_ZFIELD_H
#define CR_SIGNALING_ZFIELD_H

#include <stddef.h>

enum zfield_err {
    ZFIELD_OK = 0,
    ZFIELD_ERR_BASE64 = -1,  /* not base64 */
    ZFIELD_ERR_DEFLATE = -2, /* not one whole raw DEFLATE stream */
    ZFIELD_ERR_TOO_BIG = -3, /* the text would exceed max_out bytes */
    ZFIELD_ERR_NUL = -4,     /* the text holds a NUL byte */
};

/* Decodes b64 (len bytes) and inflates it into a NUL-terminated string of at most max_out
 * bytes, returned in *out (the caller frees it). 0 or a negative enum zfield_err; *out is
 * NULL on error. */
int zfield_inflate(const char *b64, size_t len, size_t max_out, char **out);

/* Deflates text and returns it base64-encoded (NUL-terminated; the caller frees it). */
char *zfield_deflate(const char *text);

/* gzip (RFC 1952) of n bytes, for an HTTP body with Content-Encoding: gzip (static files,
 * transport/http_static.c); *out_len its length. The caller frees it. */
unsigned char *zfield_gzip(const void *data, size_t n, size_t *out_len);

/* A short English description of a zfield_inflate error code. */
const char *zfield_strerror(int err);

#endif
