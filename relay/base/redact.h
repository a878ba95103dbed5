/* Hiding the password in URLs before they reach a log, an event or an API answer.
 *
 * RFC 3986 §3.2.1: userinfo is "user:password@" before the host; §7.5 says a password there
 * should never be shown. cr_redact_userinfo rewrites every "scheme://user:password@" it finds
 * in a text (a URL, or an error message quoting one) as "scheme://user:***@". Pure. */
#ifndef CR_BASE_REDACT_H
#define CR_BASE_REDACT_H

#include <stddef.h>

/* Writes in, its passwords replaced by "***", into out (cap bytes, always terminated,
 * truncated if it does not fit). Returns the length written. */
size_t cr_redact_userinfo(const char *in, char *out, size_t cap);

#endif
