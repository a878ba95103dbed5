/* Signed tokens: JWTs (RFC 7519) in the JWS compact serialization (RFC 7515 §7.1) with
 * HMAC-SHA256 (RFC 7518 §3.2), as docs/scheduling.md ("Tokens") describes.
 *
 * A token is BASE64URL(header) "." BASE64URL(claims) "." BASE64URL(HMAC-SHA256(key, the
 * first two parts)). We always write the header {"alg":"HS256","typ":"JWT"} and accept only
 * that header (typ optional): the header is judged before the signature is computed, so a
 * token cannot choose its own algorithm ("none", RS256 with our key as a public key, ...).
 * Base64url is decoded strictly (RFC 4648 §5 alphabet, no padding, no stray bits, RFC 4648
 * §3.5), so a token has exactly one spelling. JSON is parsed with jansson, duplicate members
 * refused (RFC 7515 §5.2 leaves them to us; two "role"s must not mean two things).
 *
 * Claims (RFC 7519 §4.1): sub, role and exp are required; name, room, classroom, iat and nbf
 * optional; other claims are ignored. Times are integers within year 9999, so the leeway
 * arithmetic cannot overflow. What a token allows is perm.c's business; where a request's
 * token comes from is auth.c's. This file reads no clock: the caller passes now_s. */
#include "access/token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define SIG_LEN 32              /* HMAC-SHA256 */
#define TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z */
#define NAME_CHARS_MAX 64       /* code points of a display name */
#define ROOM_MAX 64             /* bytes of a room name */
#define B64URL_LEN(n) ((n) / 3 * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))
#define B64URL_SIG_LEN B64URL_LEN(SIG_LEN) /* 43 */
_Static_assert(B64URL_SIG_LEN == TOKEN_MAC_B64_LEN, "token.h says how long a MAC is");

/* BASE64URL({"alg":"HS256","typ":"JWT"}): the only header we write. */
static const char header_b64[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/* RFC 4648 §5 */
static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64url_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
        out[o++] = b64url_alphabet[v >> 6 & 63];
        out[o++] = b64url_alphabet[v & 63];
    }
    if (n - i == 1) {
        unsigned long v = (unsigned long)in[i] << 16;
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8;
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
        out[o++] = b64url_alphabet[v >> 6 & 63];
    }
    return o;
}

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Strict base64url without padding (RFC 7515 §2): only the alphabet, no '=', no length of
 * 4k + 1, and the bits of the last character beyond the data zero (RFC 4648 §3.5). Decodes
 * into out (cap bytes). 0 or -1. */
static int b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap, size_t *out_len)
{
    if (n % 4 == 1 || n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) > cap)
        return -1;
    unsigned acc = 0, bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_value(in[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical: stray bits after the last byte */
        return -1;
    *out_len = o;
    return 0;
}

static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

static void mac(const struct token_key *key, const char *data, size_t len,
                unsigned char out[SIG_LEN])
{
    unsigned int out_len = 0;
    if (!HMAC(EVP_sha256(), key->k, TOKEN_KEY_LEN, (const unsigned char *)data, len, out,
              &out_len) ||
        out_len != SIG_LEN) {
        fprintf(stderr, "token: OpenSSL cannot compute HMAC-SHA256\n");
        abort();
    }
}

void token_mac_b64(const struct token_key *key, const char *data, size_t len, char *out)
{
    unsigned char sig[SIG_LEN];
    mac(key, data, len, sig);
    out[b64url_encode(sig, SIG_LEN, out)] = '\0';
}

/* ---- claim bounds, shared by sign and verify ---- */

/* No C0 controls, DEL or C1 controls (U+0080..U+009F: C2 80..C2 9F in UTF-8). */
static bool no_controls(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            return false;
    }
    return true;
}

/* s must already be valid UTF-8 (jansson checks it both ways). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xc0) != 0x80;
    return n;
}

static bool sub_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n < sizeof(((struct token_claims *)0)->sub) && no_controls(s);
}

static bool name_ok(const char *s)
{
    return strlen(s) < sizeof(((struct token_claims *)0)->name) &&
           utf8_chars(s) <= NAME_CHARS_MAX && no_controls(s);
}

/* 1..64 of [A-Za-z0-9_-] (docs/scheduling.md) */
static bool room_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > ROOM_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool time_ok(int64_t t) { return t >= 0 && t <= TIME_MAX; }

/* ---- signing ---- */

static bool terminated(const char *s, size_t size) { return memchr(s, '\0', size) != NULL; }

static bool claims_ok(const struct token_claims *c)
{
    if (!terminated(c->sub, sizeof c->sub) || !terminated(c->name, sizeof c->name) ||
        !terminated(c->room, sizeof c->room))
        return false;
    if (!sub_ok(c->sub) || !name_ok(c->name) || (c->room[0] && !room_ok(c->room)))
        return false;
    if (c->role <= ROLE_NONE || c->role >= ROLE_COUNT || c->classroom < 0)
        return false;
    return time_ok(c->iat) && time_ok(c->exp);
}

/* Sets key to a string; false if s is not UTF-8 (json_string refuses it). */
static bool set_str(json_t *obj, const char *key, const char *s)
{
    json_t *v = json_string(s);
    return v && json_object_set_new(obj, key, v) == 0;
}

int token_sign(const struct token_key *key, const struct token_claims *c, char *out, size_t out_len)
{
    if (!claims_ok(c))
        return TOKEN_ERR_CLAIMS;
    json_t *p = json_object();
    if (!p)
        abort();
    bool ok = set_str(p, "sub", c->sub) && (!c->name[0] || set_str(p, "name", c->name)) &&
              set_str(p, "role", role_name(c->role)) &&
              (!c->room[0] || set_str(p, "room", c->room));
    if (ok && c->classroom > 0)
        ok = json_object_set_new(p, "classroom", json_integer(c->classroom)) == 0;
    if (ok && c->iat > 0)
        ok = json_object_set_new(p, "iat", json_integer(c->iat)) == 0;
    if (ok)
        ok = json_object_set_new(p, "exp", json_integer(c->exp)) == 0;
    char *payload = ok ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!payload)
        return TOKEN_ERR_CLAIMS; /* a name or sub that is not UTF-8 */

    size_t plen = strlen(payload);
    size_t hlen = sizeof header_b64 - 1;
    size_t total = hlen + 1 + B64URL_LEN(plen) + 1 + B64URL_SIG_LEN;
    if (total > TOKEN_MAX || total + 1 > out_len) {
        free(payload);
        return TOKEN_ERR_CLAIMS;
    }
    memcpy(out, header_b64, hlen);
    size_t o = hlen;
    out[o++] = '.';
    o += b64url_encode((const unsigned char *)payload, plen, out + o);
    free(payload);
    unsigned char sig[SIG_LEN];
    mac(key, out, o, sig);
    out[o++] = '.';
    o += b64url_encode(sig, SIG_LEN, out + o);
    out[o] = '\0';
    return 0;
}

/* ---- verification ---- */

/* The decoded header: exactly {"alg":"HS256"} or {"alg":"HS256","typ":"JWT"}, in either
 * order. Not a JSON object: MALFORMED; any other object: ALG. */
static int check_header(const unsigned char *buf, size_t n)
{
    if (memchr(buf, '\0', n))
        return TOKEN_ERR_MALFORMED;
    json_t *h = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(h)) {
        json_decref(h);
        return TOKEN_ERR_MALFORMED;
    }
    json_t *alg = json_object_get(h, "alg"), *typ = json_object_get(h, "typ");
    size_t members = json_object_size(h);
    bool ok = json_is_string(alg) && strcmp(json_string_value(alg), "HS256") == 0 &&
              (!typ || (json_is_string(typ) && strcmp(json_string_value(typ), "JWT") == 0)) &&
              members == 1u + (typ != NULL);
    json_decref(h);
    return ok ? 0 : TOKEN_ERR_ALG;
}

/* claim k as a string (NULL if absent). -1 if present and not a string, or if required and
 * absent. */
static int get_str(json_t *o, const char *k, bool required, const char **out)
{
    json_t *v = json_object_get(o, k);
    *out = NULL;
    if (!v)
        return required ? -1 : 0;
    if (!json_is_string(v))
        return -1;
    *out = json_string_value(v);
    return 0;
}

/* claim k as an integer in [min, max]; *present says whether it was there. */
static int get_int(json_t *o, const char *k, bool required, int64_t min, int64_t max, int64_t *out,
                   bool *present)
{
    json_t *v = json_object_get(o, k);
    *out = 0;
    *present = v != NULL;
    if (!v)
        return required ? -1 : 0;
    if (!json_is_integer(v))
        return -1;
    json_int_t i = json_integer_value(v);
    if (i < min || i > max)
        return -1;
    *out = i;
    return 0;
}

static int parse_claims(const unsigned char *buf, size_t n, struct token_claims *c, int64_t *nbf,
                        bool *has_nbf)
{
    if (memchr(buf, '\0', n))
        return TOKEN_ERR_MALFORMED;
    json_t *o = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return TOKEN_ERR_MALFORMED;
    }
    const char *sub, *name, *role, *room;
    bool present;
    int rc = TOKEN_ERR_CLAIMS;
    if (get_str(o, "sub", true, &sub) || !sub_ok(sub))
        goto out;
    if (get_str(o, "name", false, &name) || (name && !name_ok(name)))
        goto out;
    if (get_str(o, "role", true, &role) || (c->role = role_parse(role)) == ROLE_NONE)
        goto out;
    if (get_str(o, "room", false, &room) || (room && !room_ok(room)))
        goto out;
    if (get_int(o, "classroom", false, 1, INT64_MAX, &c->classroom, &present) ||
        get_int(o, "iat", false, 0, TIME_MAX, &c->iat, &present) ||
        get_int(o, "exp", true, 0, TIME_MAX, &c->exp, &present) ||
        get_int(o, "nbf", false, 0, TIME_MAX, nbf, has_nbf))
        goto out;
    /* the bounds above leave room for the NUL in each */
    memcpy(c->sub, sub, strlen(sub) + 1);
    memcpy(c->name, name ? name : "", name ? strlen(name) + 1 : 1);
    memcpy(c->room, room ? room : "", room ? strlen(room) + 1 : 1);
    rc = 0;
out:
    json_decref(o);
    return rc;
}

int token_verify(const struct token_key *key, const char *token, size_t len, int64_t now_s,
                 struct token_claims *out)
{
    if (!token || len == 0 || len > TOKEN_MAX)
        return TOKEN_ERR_MALFORMED;
    /* RFC 7515 §7.1: exactly three parts */
    const char *end = token + len;
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', (size_t)(end - d1 - 1)) : NULL;
    if (!d2 || memchr(d2 + 1, '.', (size_t)(end - d2 - 1)))
        return TOKEN_ERR_MALFORMED;

    /* the header first: nothing else is looked at unless it says HS256 */
    unsigned char buf[TOKEN_MAX];
    size_t n;
    if (b64url_decode(token, (size_t)(d1 - token), buf, sizeof buf, &n) != 0)
        return TOKEN_ERR_MALFORMED;
    int rc = check_header(buf, n);
    if (rc != 0)
        return rc;

    unsigned char payload[TOKEN_MAX];
    size_t plen;
    if (b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), payload, sizeof payload, &plen) != 0 ||
        b64url_decode(d2 + 1, (size_t)(end - d2 - 1), buf, sizeof buf, &n) != 0)
        return TOKEN_ERR_MALFORMED;
    unsigned char want[SIG_LEN];
    mac(key, token, (size_t)(d2 - token), want);
    if (n != SIG_LEN || CRYPTO_memcmp(buf, want, SIG_LEN) != 0)
        return TOKEN_ERR_SIGNATURE;

    struct token_claims c;
    memset(&c, 0, sizeof c);
    int64_t nbf;
    bool has_nbf;
    rc = parse_claims(payload, plen, &c, &nbf, &has_nbf);
    if (rc != 0)
        return rc;
    /* RFC 7519 §4.1.4, §4.1.5; the bounds on the times keep these sums in range */
    if (now_s >= c.exp + TOKEN_LEEWAY_S)
        return TOKEN_ERR_EXPIRED;
    if (has_nbf && now_s < nbf - TOKEN_LEEWAY_S)
        return TOKEN_ERR_NOT_YET;
    *out = c;
    return 0;
}

const char *token_err_message(int err)
{
    switch (err) {
    case TOKEN_OK:
        return "the token is valid";
    case TOKEN_ERR_MALFORMED:
        return "the token is malformed (not three base64url parts of JSON, or too long)";
    case TOKEN_ERR_ALG:
        return "the token's algorithm is not HS256";
    case TOKEN_ERR_SIGNATURE:
        return "the token's signature does not match (tampered, or made for another server)";
    case TOKEN_ERR_EXPIRED:
        return "the token has expired";
    case TOKEN_ERR_NOT_YET:
        return "the token is not valid yet (its nbf is in the future)";
    case TOKEN_ERR_CLAIMS:
        return "the token's claims are missing, of the wrong type or out of bounds";
    case TOKEN_ERR_IO:
        return "the server's token key cannot be read";
    default:
        return "the token is invalid";
    }
}

/* ---- the key file ---- */

/* 0, 1 if there is no key file, or TOKEN_ERR_IO. */
static int read_key(const char *path, struct token_key *key, char *err, size_t err_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        set_err(err, err_len, "cannot open %s: %s", path, strerror(errno));
        return TOKEN_ERR_IO;
    }
    struct stat st;
    int rc = TOKEN_ERR_IO;
    if (fstat(fd, &st) != 0) {
        set_err(err, err_len, "cannot stat %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        set_err(err, err_len, "%s is not a regular file", path);
        goto out;
    }
    if (st.st_size != TOKEN_KEY_LEN) {
        set_err(err, err_len,
                "%s is %lld bytes, not the %d of a token key; refusing to use or replace it "
                "(move it away to make a new key: tokens signed with the old one stop working)",
                path, (long long)st.st_size, TOKEN_KEY_LEN);
        goto out;
    }
    size_t got = 0;
    while (got < TOKEN_KEY_LEN) {
        ssize_t r = read(fd, key->k + got, TOKEN_KEY_LEN - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            set_err(err, err_len, "cannot read %s: %s", path,
                    r < 0 ? strerror(errno) : "short file");
            goto out;
        }
        got += (size_t)r;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A new key: 32 random bytes in a temporary file (mode 0600), synced, then renamed into
 * place without replacing anything, so a crash leaves no half key and two processes making
 * the key at once (the server's first start, `classrelay token`) agree on one. 0, 1 if
 * another process made the key first, or TOKEN_ERR_IO. */
static int make_key(const char *data_dir, const char *path, struct token_key *key, char *err,
                    size_t err_len)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.secret.key.XXXXXX", data_dir) >= sizeof tmp) {
        set_err(err, err_len, "data directory path too long");
        return TOKEN_ERR_IO;
    }
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        set_err(err, err_len, "cannot create %s: %s", path, strerror(errno));
        return TOKEN_ERR_IO;
    }
    struct token_key k;
    if (RAND_bytes(k.k, TOKEN_KEY_LEN) != 1) {
        set_err(err, err_len, "cannot make %s: OpenSSL has no random bytes", path);
        goto fail;
    }
    if (fchmod(fd, 0600) != 0 || write_all(fd, k.k, TOKEN_KEY_LEN) != 0 || fsync(fd) != 0) {
        set_err(err, err_len, "cannot write %s: %s", tmp, strerror(errno));
        goto fail;
    }
    close(fd);
    fd = -1;
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) != 0) {
        if (errno == EEXIST) {
            unlink(tmp);
            OPENSSL_cleanse(&k, sizeof k);
            return 1;
        }
        /* a file system or kernel without RENAME_NOREPLACE: a plain rename */
        if ((errno != EINVAL && errno != ENOSYS) || rename(tmp, path) != 0) {
            set_err(err, err_len, "cannot create %s: %s", path, strerror(errno));
            goto fail;
        }
    }
    int dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { /* the new name, durable too (best effort) */
        fsync(dfd);
        close(dfd);
    }
    *key = k;
    OPENSSL_cleanse(&k, sizeof k);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    OPENSSL_cleanse(&k, sizeof k);
    return TOKEN_ERR_IO;
}

int token_key_read_file(const char *path, struct token_key *key, char *err, size_t err_len)
{
    int rc = read_key(path, key, err, err_len);
    if (rc == 1) {
        set_err(err, err_len,
                "%s does not exist: copy secret.key from the data folder of a node of the "
                "cluster (every node signs and checks tokens with the same key)",
                path);
        return TOKEN_ERR_IO;
    }
    return rc;
}

int token_key_load(const char *data_dir, struct token_key *key, char *err, size_t err_len)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/secret.key", data_dir) >= sizeof path) {
        set_err(err, err_len, "data directory path too long");
        return TOKEN_ERR_IO;
    }
    int rc = read_key(path, key, err, err_len);
    if (rc != 1)
        return rc;
    rc = make_key(data_dir, path, key, err, err_len);
    if (rc != 1)
        return rc;
    /* another process made it between our look and our rename: use theirs */
    rc = read_key(path, key, err, err_len);
    if (rc == 1) {
        set_err(err, err_len, "%s vanished while it was being made", path);
        return TOKEN_ERR_IO;
    }
    return rc;
}
