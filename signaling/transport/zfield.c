/* Deflated text fields: base64 (RFC 4648 §4, OpenSSL's codec) of raw DEFLATE (RFC 1951,
 * zlib with windowBits -15); and gzip bodies (RFC 1952, windowBits 15 + 16); see zfield.h. */
#include "transport/zfield.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/alloc.h"

/* RFC 4648 §4 with padding, as btoa() writes it: a multiple of 4 characters. Returns the
 * number of bytes written to out (3/4 of len at most), or -1. */
static int unbase64(const char *b64, size_t len, unsigned char *out)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789+/";
    if (len % 4 || len > INT_MAX)
        return -1;
    size_t pad = 0; /* at most two '=', only at the end */
    while (pad < 2 && pad < len && b64[len - 1 - pad] == '=')
        pad++;
    for (size_t i = 0; i < len - pad; i++) /* EVP_DecodeBlock passes over blanks: we refuse them */
        if (!b64[i] || !strchr(alphabet, b64[i]))
            return -1;
    int n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)len);
    if (n < 0)
        return -1;
    return n - (int)pad; /* EVP_DecodeBlock counts the padding's zero bytes */
}

/* Inflates in[0..n) into out (cap bytes). Returns the text's length or a negative code. */
static int inflate_raw(const unsigned char *in, size_t n, char *out, size_t cap)
{
    z_stream z = {0};
    if (inflateInit2(&z, -15) != Z_OK)
        return ZFIELD_ERR_DEFLATE;
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n;
    z.next_out = (unsigned char *)out;
    z.avail_out = (uInt)cap;
    int rc = inflate(&z, Z_FINISH);
    size_t got = cap - z.avail_out;
    inflateEnd(&z);
    if (rc == Z_STREAM_END)
        return z.avail_in == 0 ? (int)got : ZFIELD_ERR_DEFLATE; /* nothing may follow */
    if ((rc == Z_BUF_ERROR || rc == Z_OK) && z.avail_out == 0 && got == cap)
        return ZFIELD_ERR_TOO_BIG; /* stopped by the bound, more to come */
    return ZFIELD_ERR_DEFLATE;
}

int zfield_inflate(const char *b64, size_t len, size_t max_out, char **out)
{
    *out = NULL;
    if (max_out > INT_MAX - 1)
        max_out = INT_MAX - 1;
    unsigned char *raw = cr_malloc(len / 4 * 3 + 1);
    int n = unbase64(b64, len, raw);
    if (n < 0) {
        free(raw);
        return ZFIELD_ERR_BASE64;
    }
    /* one byte beyond the bound tells "too big" from "exactly max_out" */
    char *text = cr_malloc(max_out + 2);
    int got = inflate_raw(raw, (size_t)n, text, max_out + 1);
    free(raw);
    if (got >= 0 && (size_t)got > max_out)
        got = ZFIELD_ERR_TOO_BIG;
    if (got >= 0 && memchr(text, '\0', (size_t)got))
        got = ZFIELD_ERR_NUL;
    if (got < 0) {
        free(text);
        return got;
    }
    text[got] = '\0';
    *out = text;
    return ZFIELD_OK;
}

/* Deflates n bytes, raw (window_bits -15) or with the gzip wrapper (15 + 16). */
static unsigned char *deflate_bytes(const void *in, size_t n, int window_bits, size_t *out_len)
{
    z_stream z = {0};
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        abort(); /* only out of memory or bad constants: neither is the network's doing */
    uLong cap = deflateBound(&z, (uLong)n);
    unsigned char *out = cr_malloc(cap);
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) /* deflateBound makes room for all of it */
        abort();
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

unsigned char *zfield_gzip(const void *data, size_t n, size_t *out_len)
{
    return deflate_bytes(data, n, 15 + 16, out_len);
}

char *zfield_deflate(const char *text)
{
    size_t m;
    unsigned char *raw = deflate_bytes(text, strlen(text), -15, &m);
    char *b64 = cr_malloc((m + 2) / 3 * 4 + 1);
    EVP_EncodeBlock((unsigned char *)b64, raw, (int)m);
    free(raw);
    return b64;
}

const char *zfield_strerror(int err)
{
    switch (err) {
    case ZFIELD_OK:
        return "ok";
    case ZFIELD_ERR_BASE64:
        return "not base64";
    case ZFIELD_ERR_DEFLATE:
        return "not a whole raw DEFLATE stream";
    case ZFIELD_ERR_TOO_BIG:
        return "inflates beyond the size limit";
    case ZFIELD_ERR_NUL:
        return "contains a NUL character";
    }
    return "unknown error";
}
