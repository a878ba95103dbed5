/* Walking the lines of SDP text for signaling: see sdpscan.h. RFC 8866 (SDP) §5 for the
 * line grammar, RFC 8840 §9 for trickle-ice-sdpfrag bodies. */
#include "front/sdpscan.h"

#include <string.h>

bool sdpscan_next_line(const char *buf, size_t len, size_t *pos, const char **line,
                       size_t *line_len)
{
    if (*pos >= len)
        return false;
    const char *start = buf + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - start) : len - *pos;
    *pos += nl ? n + 1 : n;
    if (n > 0 && start[n - 1] == '\r')
        n--;
    *line = start;
    *line_len = n;
    return true;
}

bool sdpscan_has_prefix(const char *line, size_t line_len, const char *prefix)
{
    size_t n = strlen(prefix);
    return line_len >= n && memcmp(line, prefix, n) == 0;
}
