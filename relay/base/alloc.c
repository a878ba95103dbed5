/* Aborting allocators: see alloc.h. */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *check(void *p, size_t n)
{
    if (!p && n) {
        fprintf(stderr, "out of memory allocating %zu bytes\n", n);
        abort();
    }
    return p;
}

void *cr_malloc(size_t n) { return check(malloc(n), n); }
void *cr_calloc(size_t count, size_t n) { return check(calloc(count, n), count * n); }
void *cr_realloc(void *p, size_t n) { return check(realloc(p, n), n); }
char *cr_strdup(const char *s) { return s ? cr_strndup(s, strlen(s)) : NULL; }
char *cr_strndup(const char *s, size_t n)
{
    char *d = cr_malloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}
