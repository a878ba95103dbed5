/* HLS playlists that carry access: every relative URI of a playlist gets a query parameter
 * (transport/m3u8.c). Pure text in, text out. */
#ifndef CR_SIGNALING_M3U8_H
#define CR_SIGNALING_M3U8_H

#include <stddef.h>

/* The playlist text (len bytes, any content) with param ("name=value", already URL-safe)
 * added to each relative URI: the URI lines and every URI="..." attribute of a tag. The
 * parameter goes after '?' (or '&' when the URI has a query already) and before any
 * '#fragment'. Returns a malloc'd, NUL-terminated copy (its length in *out_len). */
char *m3u8_add_param(const char *text, size_t len, const char *param, size_t *out_len);

#endif
