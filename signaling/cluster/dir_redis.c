/* The directory's Redis commands (docs/cluster.md "The directory (Redis)"), made by the
 * directory thread only, with the synchronous hiredis API: connect and command timeouts
 * DIR_TIMEOUT_MS. Claims and releases are Lua scripts (EVAL) so that "read, compare, write"
 * is one step: a claim is taken when free, renewed when ours, taken over when its holder's
 * lease is gone; a release deletes only our own claim. A second connection subscribes to
 * cr:hint and is read only when poll() says it has bytes. Replies are checked for their
 * type; a node's lease read back goes through node_parse (cluster/node.h). */
#include "cluster/dir_priv.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"

/* KEYS[1] the claim, ARGV[1] our id, ARGV[2] its lifetime (ms), ARGV[3] the lease prefix,
 * ARGV[4] our URL. Returns {holder, holder's lease or false, 1 if taken over from a node
 * without a lease, or from this node's previous run (its lease, still alive, names our URL:
 * the node was restarted at the same address)}. */
static const char CLAIM_LUA[] = "local v = redis.call('GET', KEYS[1]) "
                                "if v and v ~= ARGV[1] then "
                                "  local n = redis.call('GET', ARGV[3] .. v) "
                                "  if n then "
                                "    local ok, o = pcall(cjson.decode, n) "
                                "    if not (ok and type(o) == 'table' and o.url == ARGV[4]) then "
                                "      return {v, n, 0} "
                                "    end "
                                "  end "
                                "end "
                                "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) "
                                "return {ARGV[1], false, (v and v ~= ARGV[1]) and 1 or 0}";

/* KEYS[1] the claim, ARGV[1] our id: deleted if it is still ours. */
static const char RELEASE_LUA[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
    "return 0";

#define NODE_PREFIX "cr:node:"
#define LESSON_PREFIX "cr:lesson:"
#define HINT_CHANNEL "cr:hint"

static const struct timeval timeout = {0, DIR_TIMEOUT_MS * 1000};

static redisContext *connect_one(struct directory *d)
{
    redisContext *c = redisConnectWithTimeout(d->host, d->port, timeout);
    if (!c || c->err || redisSetTimeout(c, timeout) != REDIS_OK) {
        if (c && !d->down_since_ms && d->was_up) /* the first failure of an outage only */
            CR_DEBUG("cluster", "redis %s:%u: %s", d->host, d->port, c->errstr);
        redisFree(c);
        return NULL;
    }
    return c;
}

/* Runs a command; its reply, or NULL when the connection failed (or the reply is an error,
 * which is logged: a script or a key of the wrong type). */
static redisReply *command(redisContext *c, int argc, const char **argv)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    if (r && r->type == REDIS_REPLY_ERROR) {
        CR_LOG_RATE(CR_LOG_WARN, "cluster", "redis %s: %s", argv[0], r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

int dir_redis_connect(struct directory *d)
{
    if (!(d->c = connect_one(d)) || !(d->sub = connect_one(d))) {
        dir_redis_drop(d);
        return -1;
    }
    const char *argv[] = {"SUBSCRIBE", HINT_CHANNEL};
    redisReply *r = command(d->sub, 2, argv);
    if (!r) {
        dir_redis_drop(d);
        return -1;
    }
    freeReplyObject(r);
    return 0;
}

void dir_redis_drop(struct directory *d)
{
    redisFree(d->c);
    redisFree(d->sub);
    d->c = d->sub = NULL;
}

int dir_redis_lease(struct directory *d, const char *json)
{
    char key[64], px[16];
    snprintf(key, sizeof key, NODE_PREFIX "%s", d->self.id);
    snprintf(px, sizeof px, "%d", DIR_LEASE_MS);
    const char *argv[] = {"SET", key, json, "PX", px};
    redisReply *r = command(d->c, 5, argv);
    freeReplyObject(r);
    return r ? 0 : -1;
}

int dir_redis_hint(struct directory *d, const char *what, const char *name)
{
    char msg[128];
    snprintf(msg, sizeof msg, "%s %s", what, name);
    const char *argv[] = {"PUBLISH", HINT_CHANNEL, msg};
    redisReply *r = command(d->c, 3, argv);
    freeReplyObject(r);
    return r ? 0 : -1;
}

static bool is_string(const redisReply *r)
{
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

/* The claim script's reply into j: -1 if it is not one. */
static int claim_result(const redisReply *r, struct dir_job *j)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || !is_string(r->element[0]) ||
        r->element[0]->len >= sizeof j->owner)
        return -1;
    snprintf(j->owner, sizeof j->owner, "%s", r->element[0]->str);
    struct dir_node n;
    const redisReply *lease = r->element[1];
    if (is_string(lease) && node_parse(lease->str, lease->len, &n) == 0 &&
        strcmp(n.id, j->owner) == 0)
        snprintf(j->owner_url, sizeof j->owner_url, "%s", n.url);
    j->took_over = r->element[2]->type == REDIS_REPLY_INTEGER && r->element[2]->integer == 1;
    return 0;
}

int dir_redis_job(struct directory *d, struct dir_job *j)
{
    char key[DIR_ROOM_MAX + 16], px[16];
    snprintf(key, sizeof key, LESSON_PREFIX "%s", j->room);
    snprintf(px, sizeof px, "%d", DIR_CLAIM_MS);
    redisReply *r;
    if (j->kind == DIR_JOB_CLAIM) {
        const char *argv[] = {"EVAL",     CLAIM_LUA, "1",         key,
                              d->self.id, px,        NODE_PREFIX, d->self.url};
        r = command(d->c, 8, argv);
        if (r && claim_result(r, j) != 0)
            CR_LOG_RATE(CR_LOG_WARN, "cluster", "claim of %s: unexpected reply", j->room);
    } else if (j->kind == DIR_JOB_RELEASE) {
        const char *argv[] = {"EVAL", RELEASE_LUA, "1", key, d->self.id};
        r = command(d->c, 5, argv);
    } else {
        const char *argv[] = {"GET", key};
        r = command(d->c, 2, argv);
        if (is_string(r) && r->len < sizeof j->owner)
            snprintf(j->owner, sizeof j->owner, "%s", r->str);
    }
    freeReplyObject(r);
    if (r && j->kind == DIR_JOB_RELEASE)
        return dir_redis_hint(d, "lesson", j->room);
    return r ? 0 : -1;
}

/* The leases of one SCAN reply's keys into out; -1 if the connection failed. */
static int read_leases(struct directory *d, const redisReply *keys, struct dir_node *out,
                       size_t max, size_t *n)
{
    for (size_t i = 0; i < keys->elements && *n < max; i++) {
        if (!is_string(keys->element[i]))
            continue;
        const char *argv[] = {"GET", keys->element[i]->str};
        redisReply *r = command(d->c, 2, argv);
        if (!r)
            return -1;
        if (is_string(r) && node_parse(r->str, r->len, &out[*n]) == 0)
            (*n)++;
        else if (r->type != REDIS_REPLY_NIL) /* bad bytes: counted, logged once a while */
            CR_LOG_RATE(CR_LOG_WARN, "cluster", "%s is not a node's lease", keys->element[i]->str);
        freeReplyObject(r);
    }
    return 0;
}

int dir_redis_nodes(struct directory *d, struct dir_node *out, size_t max, size_t *n)
{
    char cursor[32] = "0";
    *n = 0;
    do {
        const char *argv[] = {"SCAN", cursor, "MATCH", NODE_PREFIX "*", "COUNT", "200"};
        redisReply *r = command(d->c, 6, argv);
        if (!r)
            return -1;
        int rc = -1;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && is_string(r->element[0]) &&
            r->element[0]->len < sizeof cursor && r->element[1]->type == REDIS_REPLY_ARRAY) {
            snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
            rc = read_leases(d, r->element[1], out, max, n);
        }
        freeReplyObject(r);
        if (rc != 0)
            return -1;
    } while (strcmp(cursor, "0") != 0 && *n < max);
    return 0;
}

int dir_redis_read_hints(struct directory *d)
{
    if (redisBufferRead(d->sub) != REDIS_OK)
        return -1;
    int hints = 0;
    void *reply;
    while (redisGetReplyFromReader(d->sub, &reply) == REDIS_OK && reply) {
        hints++; /* what it says does not matter: everything is read again */
        freeReplyObject(reply);
    }
    return hints;
}

void dir_redis_goodbye(struct directory *d, char (*rooms)[DIR_ROOM_MAX], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct dir_job j = {.kind = DIR_JOB_RELEASE};
        snprintf(j.room, sizeof j.room, "%s", rooms[i]);
        if (dir_redis_job(d, &j) != 0)
            return;
    }
    char key[64];
    snprintf(key, sizeof key, NODE_PREFIX "%s", d->self.id);
    const char *argv[] = {"DEL", key};
    freeReplyObject(command(d->c, 2, argv));
    dir_redis_hint(d, "node", d->self.id);
}
