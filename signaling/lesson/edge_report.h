/* What an edge node reports to a lesson's origin about its own classrooms of the lesson
 * (docs/cluster.md, "Classrooms and the stage across nodes"), and the ids that make them
 * unique across the cluster:
 *
 *   PUT /api/v1/rooms/<room>/links/edge/<node id>
 *   {"classrooms":[{"id":"p7","name":"Grade 3","hand_since_ms":1796540100000 or null,
 *                   "sending":{"mic":true,"camera":true}}]}
 *
 * The body comes from another node: edge_report_parse checks every field and its bounds
 * (tests/fuzz/fuzz_sig_edge_report.c) and allocates nothing but jansson's own while it
 * reads. Another node's classroom is known everywhere else as "<the first EDGE_PREFIX_LEN
 * hex digits of its node id>.<its id there>"; ids of this node's own never hold a dot. */
#ifndef CR_SIGNALING_EDGE_REPORT_H
#define CR_SIGNALING_EDGE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lesson/registry.h"

#define EDGE_CLASSROOMS_MAX 256 /* classrooms in one report; more is a 400 */
#define EDGE_LOCAL_ID_MAX 24    /* characters of an id on its own node ("p7", a WHIP id) */
#define EDGE_PREFIX_LEN 8       /* hex digits of the node id in a global id */
#define EDGE_REPORT_MAX 262144  /* bytes of a report */

struct edge_classroom {
    char id[EDGE_LOCAL_ID_MAX + 1];  /* [A-Za-z0-9_-], as on its node */
    char name[REG_NAME_MAX * 4 + 1]; /* reg_name_ok */
    int64_t hand_since_ms;           /* 0: hand down */
    uint8_t sends;                   /* REG_SENDS_* */
};

struct edge_report {
    unsigned n;
    struct edge_classroom c[EDGE_CLASSROOMS_MAX];
};

/* Reads a report (len bytes of buf, no NUL needed) into out. 0, or -1 with a sentence in why
 * saying what is wrong. */
int edge_report_parse(const char *buf, size_t len, struct edge_report *out, char *why, size_t cap);

/* The global id of classroom local of node into out: "<prefix of node>.<local>". -1 if it
 * does not fit (never for ids that edge_report_parse accepted). */
int edge_id_make(const char *node, const char *local, char *out, size_t cap);
/* Whether s is a global id: EDGE_PREFIX_LEN hex digits, a dot, an id as a report gives it. */
bool edge_id_ok(const char *s);
/* The id on node of global id, when global is one of node's classrooms; else NULL. */
const char *edge_id_local(const char *node, const char *global);

#endif
