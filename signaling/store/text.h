/* Checks of text from users and files, shared by the schedule store (store_sql*.c) and
 * the recordings catalogue (catalog.c): how many code points a UTF-8 string holds, and
 * whether it holds control characters. RFC 3629 §4: no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF. Length limits and error messages stay with
 * the callers. */
#ifndef CR_SIGNALING_TEXT_H
#define CR_SIGNALING_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Code points of valid UTF-8 among the first len bytes of s, or -1. When no_controls, the
 * control characters (C0 U+0000..U+001F, DEL U+007F, C1 U+0080..U+009F) count as invalid
 * too. */
long text_utf8_chars(const char *s, size_t len, bool no_controls);

#endif
