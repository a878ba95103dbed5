/* The RTSP URL a lesson's teacher source is pulled from (docs/scheduling.md, "RTSP
 * sources"): rtsp:// or rtsps:// (RFC 2326 §3.2, RFC 7826 §4.2), at most RTSP_URL_MAX bytes of
 * printable ASCII (RFC 3986 §2: anything else is percent-encoded), a host after the optional
 * "user:password@". Checked where a URL comes in: REST, the schedule store. Pure.
 * The password it may hold is secret: show base/redact.h's form, never the URL. */
#ifndef CR_SIGNALING_RTSP_URL_H
#define CR_SIGNALING_RTSP_URL_H

#include <stdbool.h>
#include <stddef.h>

#define RTSP_URL_MAX 1024

/* true if url is acceptable; otherwise false with a sentence in why (cap bytes) that never
 * quotes the URL. */
bool rtsp_url_ok(const char *url, char *why, size_t cap);

#endif
