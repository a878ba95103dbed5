/* UTF-8 checks for text (text.h): one pass that decodes each code point (RFC 3629 §4),
 * refuses malformed, overlong, surrogate and out-of-range sequences and, when asked, the
 * control characters, and counts what is left. Allocates nothing. */
#include "store/text.h"

/* C0 and DEL (U+0000..U+001F, U+007F) and C1 (U+0080..U+009F). */
static bool is_control(unsigned cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

long text_utf8_chars(const char *s, size_t len, bool no_controls)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    long n = 0;
    while (p < end) {
        unsigned c = *p, cp, min;
        int more;
        if (c < 0x80) {
            more = 0, min = 0, cp = c;
        } else if ((c & 0xE0) == 0xC0) {
            more = 1, min = 0x80, cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            more = 2, min = 0x800, cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            more = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return -1;
        }
        if (end - p <= more)
            return -1;
        for (int i = 1; i <= more; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return -1;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;
        if (no_controls && is_control(cp))
            return -1;
        p += more + 1;
        n++;
    }
    return n;
}
