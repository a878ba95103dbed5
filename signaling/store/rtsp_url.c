/* RTSP source URLs: see rtsp_url.h. RFC 2326 §3.2 and RFC 7826 §4.2 (the rtsp and rtsps
 * schemes), RFC 3986 §2 and §3.2 (characters, authority). */
#include "store/rtsp_url.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool refuse(char *why, size_t cap, const char *text)
{
    snprintf(why, cap, "%s", text);
    return false;
}

bool rtsp_url_ok(const char *url, char *why, size_t cap)
{
    if (!url || !url[0])
        return refuse(why, cap, "the source URL is empty");
    size_t n = strlen(url);
    if (n > RTSP_URL_MAX)
        return refuse(why, cap, "the source URL is longer than 1024 characters");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f)
            return refuse(why, cap,
                          "the source URL has a space, a control character or a non-ASCII "
                          "character (percent-encode them)");
    }
    size_t scheme = strncasecmp(url, "rtsp://", 7) == 0    ? 7
                    : strncasecmp(url, "rtsps://", 8) == 0 ? 8
                                                           : 0;
    if (!scheme)
        return refuse(why, cap, "the source URL must begin with rtsp:// or rtsps://");
    const char *host = url + scheme;
    size_t authority = strcspn(host, "/?#");
    const char *at = NULL;
    for (const char *p = host; p < host + authority; p++)
        if (*p == '@')
            at = p;
    if (at)
        host = at + 1;
    size_t host_len = (size_t)(url + scheme + authority - host);
    if (host_len == 0 || host[0] == ':')
        return refuse(why, cap, "the source URL names no host");
    return true;
}
