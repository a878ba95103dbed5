/* Password hashes: scrypt (RFC 7914) through OpenSSL's EVP_PBE_scrypt, N = 2^15, r = 8,
 * p = 1 (32 MiB, ≈ 0.1 s here), a 16-byte random salt and a 32-byte hash, stored as
 *   $scrypt$ln=15,r=8,p=1$<salt, base64>$<hash, base64>
 * so the cost can be raised later without invalidating stored hashes. Verification
 * recomputes with the stored parameters (bounded: ln 10..20, r 1..16, p 1..4) and compares
 * in constant time. */
#ifndef CR_SIGNALING_PASSWD_H
#define CR_SIGNALING_PASSWD_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

#define PASSWD_HASH_MAX ST_PW_HASH_MAX /* bytes of a stored hash, with the NUL */
#define PASSWD_MIN 8                   /* bytes of a password */
#define PASSWD_MAX 200

/* Hashes password into out. 0, or -1 if the password's length is out of bounds or
 * OpenSSL fails. */
int passwd_hash(const char *password, char *out, size_t out_len);
/* True if password matches stored (a string from passwd_hash); false for anything
 * malformed. */
bool passwd_verify(const char *password, const char *stored);
/* A random password of len characters (letters and digits without look-alikes) into out
 * (len + 1 bytes). */
void passwd_random(char *out, size_t len);

#endif
