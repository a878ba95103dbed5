/* The cluster's directory (issue 14, docs/cluster.md "The directory (Redis)"): which nodes
 * are alive, how full each is, and which node is the origin of each lesson, kept in Redis
 * in keys that expire. Each node holds a lease, cr:node:<id> (JSON: node.h), renewed every
 * second; the origin of a lesson holds its claim, cr:lesson:<room> = node id, renewed every
 * second while it keeps the lesson; the channel cr:hint says "look again" and nothing more.
 *
 * Threads: one directory thread (directory.c) talks to Redis with the synchronous hiredis
 * API (connect and command timeouts 300 ms, reconnect with backoff 0.25 to 2 s) and keeps
 * a snapshot (the live nodes, the claims of the rooms asked about) under a mutex. The
 * signaling thread reads the snapshot and posts requests (claim, release, load); only
 * dir_claim waits for an answer, at most DIR_CLAIM_WAIT_MS, because a teacher's offer is
 * answered here or redirected (docs/cluster.md). Redis is never on the media path.
 *
 * Redis down: every call answers from the snapshot at once, the node's own claims count as
 * still held, nothing is torn down; once Redis is back (restarted empty, perhaps) the
 * lease and every claim the node keeps are written again.
 *
 * Every function takes d == NULL (redis not configured: one node alone) and then answers
 * "single node" at no cost. */
#ifndef CR_SIGNALING_DIRECTORY_H
#define CR_SIGNALING_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/node.h"
#include "core/config.h"

#define DIR_LEASE_MS 3000     /* cr:node:<id> expires this long after its last renewal */
#define DIR_CLAIM_MS 4000     /* cr:lesson:<room> ... */
#define DIR_TICK_MS 1000      /* renewals and re-reads */
#define DIR_TIMEOUT_MS 300    /* a connection or a command to Redis */
#define DIR_CLAIM_WAIT_MS 300 /* dir_claim waits at most this for the directory thread */
#define DIR_NODES_MAX 64

struct directory;

enum dir_answer {
    DIR_UNKNOWN = 0, /* no directory (one node), or nobody holds the lesson */
    DIR_MINE,        /* this node is (or just became) the lesson's origin */
    DIR_OTHER,       /* another live node is: its URL given */
};

/* Why a client was sent to another node (classrelay_cluster_redirects_total{reason}). */
enum dir_redirect {
    DIR_REDIRECT_ORIGIN, /* a teacher to the lesson's origin */
    DIR_REDIRECT_FULL,   /* a classroom away from this full node */
    DIR_REDIRECT_COUNT
};

struct dir_stats {
    bool up;                 /* connected to Redis now */
    uint64_t reconnects;     /* connections made again after one was lost */
    uint64_t failures;       /* connections and commands that failed */
    uint64_t claims;         /* claims this node won */
    uint64_t claims_refused; /* ... asked for and held by another live node */
    uint64_t takeovers;      /* claims taken from a node whose lease was gone */
    uint64_t hints;          /* cr:hint messages read */
    uint64_t redirects[DIR_REDIRECT_COUNT];
    uint32_t nodes; /* live nodes seen at the last read (this one included) */
};

/* Starts the directory of cfg->redis for this node, reachable at url (cluster/node_url.h).
 * Returns NULL when cfg->redis is "" (one node). A Redis that cannot be reached now is
 * retried in the background: the node starts anyway. */
struct directory *dir_open(const struct config *cfg, const char *url);
/* Stops the thread and, if Redis answers, deletes the lease and this node's claims (the
 * clients of a node that stops come back elsewhere at once). dir_close(NULL) does nothing. */
void dir_close(struct directory *d);

/* This node's id (random, new at every start) and URL; "" without a directory. */
const char *dir_node_id(const struct directory *d);
const char *dir_url(const struct directory *d);

/* This node's load, published in its lease at the next renewal. */
void dir_set_load(struct directory *d, uint32_t peers, uint32_t load_pct, bool full);

/* Claims room for this node (its teacher is here): DIR_MINE, or DIR_OTHER with the live
 * owner's URL in url. Waits at most DIR_CLAIM_WAIT_MS; with Redis down or slow, answers
 * from the snapshot (DIR_MINE unless another live node is known to hold it). A DIR_MINE
 * claim is renewed until dir_release. DIR_UNKNOWN without a directory. */
enum dir_answer dir_claim(struct directory *d, const char *room, char *url, size_t cap);
/* Lets the claim go (the lesson ended here): deleted if still ours. */
void dir_release(struct directory *d, const char *room);
/* Who holds room, from the snapshot: DIR_MINE, DIR_OTHER (url), or DIR_UNKNOWN. Asking
 * makes the directory thread read the claim at every tick for a while (DIR_ASKED_MS). */
enum dir_answer dir_owner(struct directory *d, const char *room, char *url, size_t cap);
/* The lesson's origin when it is another live node: true with its URL. For the cascade
 * (lesson/cascade.c): the classroom is served here, its media pulled from url. */
bool dir_origin(struct directory *d, const char *room, char *url, size_t cap);
/* Where to send a client this full node cannot take: room's origin if it has room, else
 * the least loaded live node that is not full, never this one. false: none has room. */
bool dir_pick(struct directory *d, const char *room, char *url, size_t cap);
/* The live nodes of the snapshot (this one included): how many copied into out. */
size_t dir_nodes(struct directory *d, struct dir_node *out, size_t max);

void dir_count_redirect(struct directory *d, enum dir_redirect why);
void dir_stats(struct directory *d, struct dir_stats *out);

#endif
