/* A growable string for building text (SDP answers, JSON-free logs). Allocation aborts on
 * out-of-memory (alloc.h), so appends cannot fail. */
#ifndef CR_BASE_STRBUF_H
#define CR_BASE_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *s; /* owned; always NUL-terminated once anything was appended */
    size_t len;
    size_t cap;
};

void strbuf_init(struct strbuf *b);
void strbuf_free(struct strbuf *b);
void strbuf_append(struct strbuf *b, const char *s, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the string to the caller (who frees it) and resets b. */
char *strbuf_take(struct strbuf *b);

#endif
