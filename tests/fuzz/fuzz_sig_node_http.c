/* Fuzz entry point for signaling/cluster/node_http_parse.c: the answers another node of the
 * cluster sends the cascade's HTTP client (RFC 9112). Whatever is accepted has a status from
 * 100 to 999 and a NUL-terminated body no longer than the input; "complete" never reads
 * past the input (ASan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/node_http.h"
#include "require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1); /* the client's buffer is NUL-terminated too */
    memcpy(buf, data, size);
    buf[size] = '\0';
    struct http_client_resp r;
    bool complete = node_http_complete(buf, size);
    if (http_client_parse(buf, size, &r) == 0) {
        REQUIRE(r.status >= 100 && r.status <= 999);
        REQUIRE(r.body && r.body_len <= size && r.body[r.body_len] == '\0');
        free(r.body);
    }
    (void)complete; /* a complete answer may still be malformed (a bad status line) */
    free(buf);
    return 0;
}
