/* Allocation that aborts on out-of-memory instead of threading NULL checks through every
 * caller (STYLE.md, after Redis). */
#ifndef CR_BASE_ALLOC_H
#define CR_BASE_ALLOC_H

#include <stddef.h>

void *cr_malloc(size_t n);
void *cr_calloc(size_t count, size_t n);
void *cr_realloc(void *p, size_t n);
char *cr_strdup(const char *s);
char *cr_strndup(const char *s, size_t n);
#define CR_NEW(type) ((type *)cr_calloc(1, sizeof(type)))

#endif
