/* A tiny unit-test harness: CHECK records a failure and goes on; main returns the count.
 *   int main(void) { test_x(); return test_report(); }
 * Also what several tests share: test_b64url() (unit and fuzz tests of tokens),
 * test_remove_tree() (a test's temporary folder) and test_sdp_fixture(), the SDP files of
 * tests/fuzz/corpus/sdp/ for a unit test. */
#ifndef CR_TEST_H
#define CR_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures_;
static int test_checks_;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        test_checks_++;                                                                            \
        if (!(cond)) {                                                                             \
            test_failures_++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)
#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        test_checks_++;                                                                            \
        if (a_ != b_) {                                                                            \
            test_failures_++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s = %lld, %s = %lld\n", __FILE__, __LINE__,  \
                    #a, a_, #b, b_);                                                               \
        }                                                                                          \
    } while (0)
#define CHECK_STR(a, b) CHECK(strcmp((a), (b)) == 0)

static inline int test_report(void)
{
    fprintf(stderr, "%d checks, %d failed\n", test_checks_, test_failures_);
    return test_failures_ ? 1 : 0;
}

/* Removes path (a test's mkdtemp folder) with everything in it; says so if it cannot. */
static inline void test_remove_tree(const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", path);
}

/* RFC 4648 §5 base64url of n bytes, unpadded, NUL-terminated into out (4 * n / 3 + 3 bytes
 * suffice); its length. Written here, not borrowed from token.c, so a test can build a
 * token the code under test would never make. */
static inline size_t test_b64url(const void *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *p = in;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned long v = (unsigned long)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned long)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = a[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = a[v & 63];
    }
    out[o] = '\0';
    return o;
}

#ifdef CR_TEST_DIR /* tests/CMakeLists.txt: the directory of the test's source file */
#define TEST_FIXTURE_MAX (1 << 16)
/* tests/fuzz/corpus/sdp/<name>, NUL-terminated in a TEST_FIXTURE_MAX buffer (room to edit it
 * in place) the caller frees, its length in *len if len; NULL (said on stderr) if it cannot
 * be read or is empty. */
static inline char *test_sdp_fixture(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/../../fuzz/corpus/sdp/%s", CR_TEST_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    char *buf = calloc(1, TEST_FIXTURE_MAX);
    size_t n = fread(buf, 1, TEST_FIXTURE_MAX - 1, f);
    fclose(f);
    if (n == 0) {
        fprintf(stderr, "cannot read %s\n", path);
        free(buf);
        return NULL;
    }
    if (len)
        *len = n;
    return buf;
}
#endif

#endif
