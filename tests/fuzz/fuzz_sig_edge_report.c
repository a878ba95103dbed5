/* Fuzz entry point for signaling/lesson/edge_report.c: an edge node's report of its classrooms
 * (PUT /api/v1/rooms/<room>/links/edge/<node>, docs/cluster.md "Classrooms and the stage across
 * nodes"), another node's JSON. Checks: a refusal says why; an accepted report lists at most
 * EDGE_CLASSROOMS_MAX classrooms, each with an id of [A-Za-z0-9_-] that makes a global id
 * (edge_id_make, read back by edge_id_local and accepted by edge_id_ok), a name the registry
 * takes, a hand that is up since a positive time or down, and no id twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lesson/edge_report.h"
#include "require.h"

static struct edge_report rep;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char node[] = "0123abcd0123abcd0123abcd0123abcd";
    char why[256] = "";
    if (edge_report_parse((const char *)data, size, &rep, why, sizeof why) != 0) {
        REQUIRE(why[0] && rep.n == 0);
        return 0;
    }
    REQUIRE(rep.n <= EDGE_CLASSROOMS_MAX);
    for (unsigned i = 0; i < rep.n; i++) {
        const struct edge_classroom *c = &rep.c[i];
        char gid[REG_ID_MAX];
        REQUIRE(c->id[0] && strlen(c->id) <= EDGE_LOCAL_ID_MAX);
        REQUIRE(reg_name_ok(c->name));
        REQUIRE(c->hand_since_ms >= 0);
        REQUIRE((c->sends & ~(REG_SENDS_MIC | REG_SENDS_CAMERA)) == 0);
        REQUIRE(edge_id_make(node, c->id, gid, sizeof gid) == 0);
        REQUIRE(edge_id_ok(gid));
        const char *local = edge_id_local(node, gid);
        REQUIRE(local && strcmp(local, c->id) == 0);
        for (unsigned k = 0; k < i; k++)
            REQUIRE(strcmp(rep.c[k].id, c->id) != 0);
    }
    return 0;
}
