/* What the signaling fuzz targets require of a refusal's sentence (included by
 * fuzz_sig_rest_json.c and fuzz_sig_note_json.c): it becomes the message of an HTTP error
 * answer, {"error":{"code","message"}} (docs/protocol.md, transport/http.c). */
#ifndef CR_FUZZ_ANSWER_CHECK_H
#define CR_FUZZ_ANSWER_CHECK_H

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "transport/http.h"
#include "require.h"

/* A sentence for an error answer: NUL-terminated in its buffer, not empty, and it makes the
 * answer's {"error":{"code","message"}} body (transport/http.c), which JSON can carry. */
static void check_sentence(enum srv_err err, const char *why, size_t cap)
{
    REQUIRE(memchr(why, '\0', cap) && why[0]);
    json_t *v = http_error_json(err, why);
    const char *m = json_string_value(json_object_get(json_object_get(v, "error"), "message"));
    REQUIRE(m && strlen(m) == strlen(why));
    char *text = json_dumps(v, JSON_COMPACT);
    REQUIRE(text);
    free(text);
    json_decref(v);
}

#endif
