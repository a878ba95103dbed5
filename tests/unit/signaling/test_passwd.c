/* Tests signaling/passwd.c: hashing and verifying (the stored format, right and wrong
 * passwords, password length bounds, two hashes of one password differing by their salt),
 * known answers computed with Python's hashlib.scrypt (so the format interoperates and the
 * stored cost is what is used), malformed and out-of-bounds stored strings refused without
 * running scrypt (ln=40, leading zeros, signs, bad or non-canonical base64, wrong lengths,
 * trailing bytes), a cost past the memory bound refused quickly with no OpenSSL error left
 * behind, and random passwords (length, alphabet without look-alikes, every letter drawn).
 * About ten scrypt runs in all. */
#include <openssl/err.h>
#include <stdlib.h>
#include <time.h>

#include "access/passwd.h"
#include "test.h"

#define ALPHABET "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

/* hashlib.scrypt(b"correct horse", salt=bytes(range(16)), n=2**ln, r, p, dklen=32) */
static const char *const known[] = {
    "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+fVr03sWV770kp5wLOLoEakziKhqE=",
    "$scrypt$ln=15,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$XGYmKKxOsQaKKH4qoqICriSOmNsE1h0zJ+c0LbbscJc=",
    "$scrypt$ln=11,r=4,p=2$AAECAwQFBgcICQoLDA0ODw==$rxLo99XQjfdLM/XiW6J4HA+t0BkEzlodMSGd/hwzYzo=",
};

static void test_hash_verify(void)
{
    char h1[PASSWD_HASH_MAX], h2[PASSWD_HASH_MAX];
    CHECK_EQ(passwd_hash("correct horse", h1, sizeof h1), 0);
    CHECK(strncmp(h1, "$scrypt$ln=15,r=8,p=1$", 22) == 0);
    CHECK(strlen(h1) < PASSWD_HASH_MAX);
    CHECK(passwd_verify("correct horse", h1));
    CHECK(!passwd_verify("correct horsf", h1));
    CHECK(!passwd_verify("Correct horse", h1));
    /* a shorter password than PASSWD_MIN never verifies (and costs nothing) */
    CHECK(!passwd_verify("correct", h1));

    /* same password, new salt: a different string, and both verify */
    CHECK_EQ(passwd_hash("correct horse", h2, sizeof h2), 0);
    CHECK(strcmp(h1, h2) != 0);
    CHECK(strncmp(h1, h2, 22) == 0);
    CHECK(memcmp(h1 + 22, h2 + 22, 24) != 0); /* the salts */
    CHECK(passwd_verify("correct horse", h2));
}

static void test_hash_bounds(void)
{
    char h[PASSWD_HASH_MAX], pw[PASSWD_MAX + 2];
    memset(pw, 'x', sizeof pw - 1);
    pw[sizeof pw - 1] = '\0'; /* PASSWD_MAX + 1 bytes */
    CHECK_EQ(passwd_hash(pw, h, sizeof h), -1);
    CHECK_EQ(passwd_hash("1234567", h, sizeof h), -1); /* PASSWD_MIN - 1 */
    CHECK_EQ(passwd_hash("", h, sizeof h), -1);
    CHECK_EQ(passwd_hash(NULL, h, sizeof h), -1);
    CHECK(!passwd_verify(pw, known[0]));
    CHECK(!passwd_verify(NULL, known[0]));
    CHECK(!passwd_verify("correct horse", NULL));

    pw[PASSWD_MAX] = '\0'; /* exactly PASSWD_MAX: accepted */
    CHECK_EQ(passwd_hash(pw, h, sizeof h), 0);
    CHECK(passwd_verify(pw, h));
    char small[40];
    CHECK_EQ(passwd_hash("12345678", small, sizeof small), -1);
}

static void test_known_answers(void)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        CHECK(passwd_verify("correct horse", known[i]));
    }
    CHECK(!passwd_verify("correct horse!", known[0]));
    /* the stored cost is used: the ln=10 hash under ln=11 does not match */
    char s[PASSWD_HASH_MAX];
    snprintf(s, sizeof s, "%s", known[0]);
    s[12] = '1';
    CHECK(strncmp(s, "$scrypt$ln=11,", 14) == 0);
    CHECK(!passwd_verify("correct horse", s));
}

static void test_malformed(void)
{
    static const char *const bad[] = {
        "",
        "$",
        "$scrypt$",
        "scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt2$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        "$argon2id$v=19$m=65536,t=3,p=4$AAECAwQFBgcICQoLDA0ODw$nfkj3u1fRTHCea+fVr03sWV770kp5wLOLoE",
        /* absurd or out-of-bounds cost */
        "$scrypt$ln=40,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=9,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=21,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=99999999999999999999,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+fVr03s",
        "$scrypt$ln=10,r=0,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=10,r=17,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=10,r=8,p=0$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=10,r=8,p=5$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        /* number syntax */
        "$scrypt$ln=010,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=+10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=-10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln= "
        "10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=10,r=8$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$r=8,ln=10,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=10,r=8,p=1,x=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakzi",
        /* the salt: unpadded, too short, too long, bad character, stray bits, url alphabet */
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$nfkj3u1fRTHCea+fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0O$nfkj3u1fRTHCea+fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODxA=$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoL*A0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODx==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0OD===$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=10,r=8,p=1$ "
        "AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+fVr03sWV770kp5wLOLoEakziKhqE=",
        /* the hash: unpadded, truncated, stray bits, url alphabet, trailing bytes */
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+fVr03sWV770kp5wLOLoEakzi",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqF=",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea-"
        "fVr03sWV770kp5wLOLoEakziKhqE=",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=$",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE= ",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$nfkj3u1fRTHCea+"
        "fVr03sWV770kp5wLOLoEakziKhqE=\n",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==",
        "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw==$",
        "$scrypt$ln=10,r=8,p=1$$nfkj3u1fRTHCea+fVr03sWV770kp5wLOLoEakziKhqE=",
    };
    clock_t t0 = clock();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (passwd_verify("correct horse", bad[i]))
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK(!passwd_verify("correct horse", bad[i]));
    }
    /* longer than PASSWD_HASH_MAX: refused before it is read */
    char longer[PASSWD_HASH_MAX + 8];
    snprintf(longer, sizeof longer, "%s", known[0]);
    memset(longer + strlen(longer), 'A', sizeof longer - 1 - strlen(longer));
    longer[sizeof longer - 1] = '\0';
    CHECK(!passwd_verify("correct horse", longer));
    /* none of these ran scrypt at more than ln=10, most not at all */
    CHECK((clock() - t0) / (double)CLOCKS_PER_SEC < 5.0);

    /* in bounds but past PASSWD_MAXMEM (2 GiB): refused at once, no OpenSSL error left */
    ERR_clear_error();
    t0 = clock();
    CHECK(!passwd_verify("correct horse", "$scrypt$ln=20,r=16,p=4$AAECAwQFBgcICQoLDA0ODw==$"
                                          "nfkj3u1fRTHCea+fVr03sWV770kp5wLOLoEakziKhqE="));
    CHECK((clock() - t0) / (double)CLOCKS_PER_SEC < 1.0);
    CHECK_EQ(ERR_peek_error(), 0);
}

static void test_random(void)
{
    char a[17], b[17];
    passwd_random(a, 16);
    passwd_random(b, 16);
    CHECK_EQ(strlen(a), 16);
    CHECK(strcmp(a, b) != 0);
    CHECK_EQ(strspn(a, ALPHABET), 16);
    char z[1] = {'x'};
    passwd_random(z, 0);
    CHECK_EQ(z[0], '\0');

    /* every letter of the alphabet is drawn, and nothing else (0/O/1/l/I never) */
    enum { N = 57 * 200 };
    static char many[N + 1];
    passwd_random(many, N);
    CHECK_EQ(strlen(many), N);
    CHECK_EQ(strspn(many, ALPHABET), N);
    CHECK_EQ(sizeof ALPHABET - 1, 57);
    for (const char *c = ALPHABET; *c; c++)
        CHECK(strchr(many, *c) != NULL);
    CHECK(strpbrk(many, "0O1lI") == NULL);
}

int main(void)
{
    test_hash_verify();
    test_hash_bounds();
    test_known_answers();
    test_malformed();
    test_random();
    return test_report();
}
