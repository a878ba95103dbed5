/* The directory's state, shared by the signaling side (directory.c) and the directory
 * thread (dir_thread.c, dir_redis.c). Members marked "mu" are read and written under mu
 * only; "thread" ones belong to the directory thread; the rest is set at open and read
 * only. */
#ifndef CR_SIGNALING_DIR_PRIV_H
#define CR_SIGNALING_DIR_PRIV_H

#include <pthread.h>

#include "cluster/directory.h"

#define DIR_ROOM_MAX 65    /* a room name (lesson/registry.h: 1 to 64 of [A-Za-z0-9_-]) */
#define DIR_ASKED_MS 60000 /* a room asked about is read at every tick this long */

struct dir_room {
    char name[DIR_ROOM_MAX];
    char owner[DIR_ID_MAX]; /* the claim's holder at the last read; "" : none */
    char owner_url[DIR_URL_MAX];
    bool want;                    /* this node holds (or wants) the claim: renewed every tick */
    bool pending;                 /* a claim to make at once (dir_claim waits for it) */
    bool unread;                  /* asked about, never read yet: read at once */
    bool release;                 /* to delete if ours, then forget */
    int64_t asked_ms;             /* last dir_claim/dir_owner/dir_origin about it */
    uint64_t asked_seq, done_seq; /* dir_claim's request and the thread's answer */
};

struct redisContext;

struct directory {
    char host[CONFIG_STR_MAX];
    uint16_t port;
    struct dir_node self; /* id, url, max_peers, started_ms; load members: mu */
    pthread_t thread;
    int wake[2]; /* a byte written to wake[1] wakes the thread */
    pthread_mutex_t mu;
    pthread_cond_t answered; /* a claim was answered */
    bool stop;               /* mu */
    bool hinted;             /* mu: a cr:hint arrived, or a room to read at once */
    struct dir_room *rooms;  /* mu, owned */
    size_t n_rooms, cap_rooms;
    struct dir_node nodes[DIR_NODES_MAX]; /* mu: the live nodes at the last read */
    size_t n_nodes;
    int64_t nodes_read_ms;    /* mu: when (0: never) */
    struct dir_stats st;      /* mu */
    struct redisContext *c;   /* thread: commands */
    struct redisContext *sub; /* thread: subscribed to cr:hint */
    bool was_up;              /* thread: connected once before (a reconnect is counted) */
    int64_t down_since_ms;    /* thread: when the connection was lost; 0: up or never */
};

/* The directory thread (dir_thread.c). */
void *dir_thread_run(void *arg);

/* Redis commands of the thread (dir_redis.c): each returns 0, or -1 when the connection
 * failed (the caller drops it). */
struct dir_job {
    char room[DIR_ROOM_MAX];
    enum { DIR_JOB_CLAIM, DIR_JOB_RELEASE, DIR_JOB_READ } kind;
    uint64_t seq;           /* DIR_JOB_CLAIM: the asked_seq it answers */
    bool asked;             /* DIR_JOB_CLAIM: asked for (dir_claim), not a renewal */
    char owner[DIR_ID_MAX]; /* result: the holder, "" : none */
    char owner_url[DIR_URL_MAX];
    bool took_over; /* result: from a node whose lease was gone */
};
int dir_redis_connect(struct directory *d);
void dir_redis_drop(struct directory *d);
int dir_redis_lease(struct directory *d, const char *json);
int dir_redis_job(struct directory *d, struct dir_job *j);
int dir_redis_nodes(struct directory *d, struct dir_node *out, size_t max, size_t *n);
int dir_redis_hint(struct directory *d, const char *what, const char *name);
/* Reads what waits on the subscribed connection: how many hints. -1: the connection is gone. */
int dir_redis_read_hints(struct directory *d);
/* The clean goodbye: the lease and the claims of rooms (n names) deleted. */
void dir_redis_goodbye(struct directory *d, char (*rooms)[DIR_ROOM_MAX], size_t n);

/* The room entry of name, or NULL (mu held). */
struct dir_room *dir_room_find(struct directory *d, const char *name);
/* Whether id is a live node of the snapshot, its entry copied into out (mu held). */
bool dir_node_live(struct directory *d, const char *id, struct dir_node *out);

#endif
