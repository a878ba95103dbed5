/* The schedule store (docs/scheduling.md, docs/store.md): schools, classrooms, users,
 * lessons and the audit log, behind an interface of operations (struct store_ops).
 * store_sql*.c implement it on SQLite, embedded, in the same database file as the
 * recordings catalogue (DATA/classrelay.db), or on PostgreSQL (store = postgresql://...),
 * which several servers of a cluster share; the same versioned migrations for both.
 *
 * The store owns the data rules, whatever calls it: text lengths and UTF-8, username
 * syntax, lesson times (sched_rule_invalid), references that must exist (a classroom's
 * school, a lesson's teacher and classrooms), and conflicts — a teacher or a classroom booked
 * twice in overlapping time — checked inside the same transaction as the write, so two
 * bookings can never both get in. A refused write changes nothing and says why in
 * struct st_err (a sentence for the user, and the clashing lessons).
 *
 * Synchronous, one caller thread (the lws thread). Functions return 0 or a negative
 * STORE_ERR_*. Lists are malloc'd arrays the caller frees with free(). */
#ifndef CR_SIGNALING_STORE_H
#define CR_SIGNALING_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/role.h"
#include "store/rtsp_url.h"

#define STORE_TEXT_MAX 801 /* bytes: 200 characters of UTF-8 and the NUL */
#define STORE_USERNAME_MAX 65
#define STORE_LESSON_CLASSROOMS 64 /* receiving classrooms of one lesson */
#define STORE_CONFLICTS_MAX 8      /* reported per refused write */

enum store_err {
    STORE_OK = 0,
    STORE_ERR_NOT_FOUND = -2,
    STORE_ERR_ARG = -3,      /* a value out of range or malformed: st_err.msg says which */
    STORE_ERR_CONFLICT = -4, /* a double booking: st_err.conflicts */
    STORE_ERR_EXISTS = -5,   /* a unique name taken (username, classroom in its school) */
    STORE_ERR_IN_USE = -6,   /* deleting something others refer to */
    STORE_ERR_DB = -7,       /* the database failed (disk full, corrupt, unreachable): logged */
};

#define ST_PW_HASH_MAX 128 /* bytes of a stored password hash, with the NUL */

struct st_school {
    int64_t id;
    char name[STORE_TEXT_MAX];
};

struct st_classroom {
    int64_t id, school_id;
    char name[STORE_TEXT_MAX];
};

struct st_user {
    int64_t id;
    char username[STORE_USERNAME_MAX]; /* 3..64 of [A-Za-z0-9._-], unique */
    char name[STORE_TEXT_MAX];
    enum role role;
    int64_t classroom_id; /* a classroom account's room; 0: none */
    bool disabled;
    int64_t created_ms;
    char pw_hash[ST_PW_HASH_MAX]; /* access/passwd.h; never leaves the server */
};

struct st_lesson {
    int64_t id;
    char title[STORE_TEXT_MAX];
    char subject[STORE_TEXT_MAX]; /* may be empty */
    int64_t teacher_id;           /* a user with role teacher */
    int64_t start_ms, end_ms;     /* the first occurrence */
    int64_t until_ms;             /* 0: once; else weekly (sched.h) */
    bool record;
    int64_t classrooms[STORE_LESSON_CLASSROOMS];
    int n_classrooms;
    char source_url[RTSP_URL_MAX + 1]; /* "" : none; else the teacher's RTSP source (a secret:
                                          show it redacted, base/redact.h) */
    int64_t created_ms, updated_ms;
};

struct st_conflict {
    int64_t lesson_id;
    char title[STORE_TEXT_MAX];
    int64_t start_ms, end_ms; /* the clashing occurrence of the other lesson */
    bool teacher;             /* the teacher is double-booked (else classroom_id is) */
    int64_t classroom_id;
};

/* Why a write was refused. */
struct st_err {
    char msg[512]; /* "teacher Wang Li already teaches \"Fractions\" (lesson 7) on ..." */
    struct st_conflict conflicts[STORE_CONFLICTS_MAX];
    int n_conflicts;
};

struct st_audit {
    int64_t id, at_ms;
    char actor[64];  /* token sub: "u12", "link:3", "cli", "anonymous" */
    char role[16];   /* role name */
    char action[32]; /* docs/scheduling.md */
    char room[65];   /* "" if none */
    char detail[STORE_TEXT_MAX];
};

struct st_lesson_filter {   /* 0: no condition */
    int64_t from_ms, to_ms; /* lessons with an occurrence overlapping [from, to) */
    int64_t teacher_id, classroom_id;
};

struct st_audit_filter { /* NULL / 0: no condition */
    const char *actor, *action, *room;
    int64_t from_ms, to_ms;
    int limit; /* 0: 100; at most 1000 */
};

struct store;

/* The operations a backend provides. id fields of inputs are ignored on create and the new
 * id is written back; update replaces every field of the row with id. */
struct store_ops {
    void (*close)(struct store *s);

    int (*school_create)(struct store *s, struct st_school *in, struct st_err *e);
    int (*school_get)(struct store *s, int64_t id, struct st_school *out);
    int (*school_list)(struct store *s, struct st_school **out, int *n);
    int (*school_update)(struct store *s, const struct st_school *in, struct st_err *e);
    int (*school_delete)(struct store *s, int64_t id, struct st_err *e); /* IN_USE: classrooms */

    int (*classroom_create)(struct store *s, struct st_classroom *in, struct st_err *e);
    int (*classroom_get)(struct store *s, int64_t id, struct st_classroom *out);
    /* school_id 0: all */
    int (*classroom_list)(struct store *s, int64_t school_id, struct st_classroom **out, int *n);
    int (*classroom_update)(struct store *s, const struct st_classroom *in, struct st_err *e);
    /* IN_USE: booked in a lesson or bound to a classroom account */
    int (*classroom_delete)(struct store *s, int64_t id, struct st_err *e);

    /* in->pw_hash must be set (passwd_hash); update keeps the stored hash when in->pw_hash
     * is "". */
    int (*user_create)(struct store *s, struct st_user *in, struct st_err *e);
    int (*user_get)(struct store *s, int64_t id, struct st_user *out);
    int (*user_by_username)(struct store *s, const char *username, struct st_user *out);
    /* role ROLE_NONE: all */
    int (*user_list)(struct store *s, enum role role, struct st_user **out, int *n);
    int (*user_update)(struct store *s, const struct st_user *in, struct st_err *e);
    int (*user_delete)(struct store *s, int64_t id, struct st_err *e); /* IN_USE: lessons */
    int (*user_count)(struct store *s, int *n);

    /* CONFLICT with e->conflicts when the teacher or a classroom is booked at an overlapping
     * time by another lesson (update ignores the lesson's own row). */
    int (*lesson_create)(struct store *s, struct st_lesson *in, struct st_err *e);
    int (*lesson_get)(struct store *s, int64_t id, struct st_lesson *out);
    /* ordered by start_ms */
    int (*lesson_list)(struct store *s, const struct st_lesson_filter *f, struct st_lesson **out,
                       int *n);
    int (*lesson_update)(struct store *s, const struct st_lesson *in, struct st_err *e);
    int (*lesson_delete)(struct store *s, int64_t id, struct st_err *e);

    int (*audit_add)(struct store *s, const struct st_audit *in);
    int (*audit_list)(struct store *s, const struct st_audit_filter *f, struct st_audit **out,
                      int *n); /* newest first */
};

/* Every backend's handle starts with this. */
struct store {
    const struct store_ops *ops;
};

/* Opens target, a PostgreSQL URI ("postgresql://..." or "postgres://...") or else the path of
 * a SQLite file (created if missing), and migrates its schedule tables. NULL with a reason
 * in err on failure. */
struct store *store_open(const char *target, char *err, size_t err_len);

/* What store_open and catalog_open open for the setting store (docs/store.md): the setting
 * itself when it is a PostgreSQL URI, else DATA/classrelay.db under data_dir; into out. The
 * same with its password hidden for a log line into shown (base/redact.h). */
void store_target(const char *store, const char *data_dir, char *out, size_t out_len, char *shown,
                  size_t shown_len);

static inline void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}

/* "lesson-<id>" into out; the lesson id of such a room name, or 0. */
void store_lesson_room(int64_t lesson_id, char *out, size_t out_len);
int64_t store_room_lesson(const char *room);

#endif
