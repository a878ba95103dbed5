/* Tests what several servers sharing one database need of signaling/store_sql*.c and
 * catalog.c, with two connections in two threads standing for two nodes, on SQLite (two
 * connections to one file) or on a fresh PostgreSQL database with --pg DIR (sql_file.h;
 * ctest runs both): both opening a fresh database at once migrate it once and both
 * succeed (on SQLite on OPEN_ROUNDS fresh files: two connections seldom collide on one,
 * and the switch to WAL in sqldb_sqlite.c once lost that race a few times in a hundred);
 * two bookings of the same teacher, or of the same classroom, at overlapping times sent at
 * the same instant never both get in (one is refused with CONFLICT, nothing else), round
 * after round. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sql_file.h"
#include "store/catalog.h"
#include "store/store.h"
#include "test.h"

#define ROUNDS 40
#define OPEN_ROUNDS 40 /* SQLite only: each a fresh file */
#define MIN_MS (60LL * 1000)
#define DAY_MS (24 * 60 * MIN_MS)
#define T0 1796720400000LL /* 2026-12-08 09:00 UTC */

static char dir[] = "/tmp/test_store_race.XXXXXX";
static char path[600];
static pthread_barrier_t go;

struct opener {
    struct store *s;
    struct catalog *cat;
    char err[256];
};

static void *open_both(void *arg)
{
    struct opener *o = arg;
    pthread_barrier_wait(&go);
    o->s = store_open(path, o->err, sizeof o->err);
    if (o->s)
        o->cat = catalog_open(path, o->err, sizeof o->err);
    return NULL;
}

struct booking {
    struct store *s;
    struct st_lesson l;
    int rc;
};

static void *book(void *arg)
{
    struct booking *b = arg;
    struct st_err e;
    pthread_barrier_wait(&go);
    b->rc = b->s->ops->lesson_create(b->s, &b->l, &e);
    return NULL;
}

static int64_t make_user(struct store *s, const char *username)
{
    struct st_user u = {.role = ROLE_TEACHER};
    snprintf(u.username, sizeof u.username, "%s", username);
    snprintf(u.name, sizeof u.name, "Teacher %s", username);
    snprintf(u.pw_hash, sizeof u.pw_hash, "$scrypt$ln=15,r=8,p=1$c2FsdA$aGFzaA");
    CHECK_EQ(s->ops->user_create(s, &u, NULL), 0);
    return u.id;
}

static struct st_lesson lesson(int64_t teacher, int64_t room, int64_t start)
{
    struct st_lesson l = {.teacher_id = teacher, .start_ms = start, .end_ms = start + 45 * MIN_MS};
    snprintf(l.title, sizeof l.title, "Race");
    l.classrooms[l.n_classrooms++] = room;
    return l;
}

/* Round i: the same teacher (even rounds) or the same classroom with two teachers (odd
 * rounds), the second booking 15 minutes after the first: they overlap. */
static void race(struct store *a, struct store *b, int64_t t1, int64_t t2, int64_t r1, int64_t r2)
{
    int won = 0, refused = 0;
    for (int i = 0; i < ROUNDS; i++) {
        int64_t start = T0 + i * DAY_MS;
        bool same_teacher = i % 2 == 0;
        struct booking x = {a, lesson(t1, r1, start), 1};
        struct booking y = {
            b, lesson(same_teacher ? t1 : t2, same_teacher ? r2 : r1, start + 15 * MIN_MS), 1};
        pthread_t tx, ty;
        pthread_create(&tx, NULL, book, &x);
        pthread_create(&ty, NULL, book, &y);
        pthread_join(tx, NULL);
        pthread_join(ty, NULL);
        won += (x.rc == 0) + (y.rc == 0);
        refused += (x.rc == STORE_ERR_CONFLICT) + (y.rc == STORE_ERR_CONFLICT);
        CHECK((x.rc == 0) != (y.rc == 0));
    }
    CHECK_EQ(won, ROUNDS);
    CHECK_EQ(refused, ROUNDS);
    CHECK_EQ(sql_file_int(path, "SELECT count(*) FROM lessons"), ROUNDS);
}

/* Opens a fresh database, name, from two threads at once into a and b: both open it, and
 * it is migrated once. */
static void open_at_once(const char *name, struct opener *a, struct opener *b)
{
    sql_test_db(dir, name, path, sizeof path);
    *a = *b = (struct opener){0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, open_both, a);
    pthread_create(&tb, NULL, open_both, b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    if (!a->cat || !b->cat)
        fprintf(stderr, "open %s: %s / %s\n", name, a->err, b->err);
    CHECK(a->s && b->s && a->cat && b->cat);
    CHECK_EQ(sql_file_int(path, "SELECT version FROM schema_versions WHERE component = "
                                "'schedule'"),
             2);
    CHECK_EQ(sql_file_int(path, "SELECT count(*) FROM schema_versions"), 2);
}

static void close_both(struct opener *o)
{
    store_close(o->s);
    catalog_close(o->cat);
}

/* More fresh SQLite files opened at once (a new PostgreSQL database costs too much). */
static void open_rounds(void)
{
    for (int i = 0; i < OPEN_ROUNDS && !sql_pg_base[0]; i++) {
        char name[32];
        struct opener a, b;
        snprintf(name, sizeof name, "open_%d", i);
        open_at_once(name, &a, &b);
        close_both(&a);
        close_both(&b);
    }
}

int main(int argc, char **argv)
{
    if (!mkdtemp(dir) || sql_test_args(argc, argv) != 0) {
        perror("mkdtemp");
        return 1;
    }
    pthread_barrier_init(&go, NULL, 2);
    open_rounds();
    struct opener oa, ob;
    open_at_once("test_store_race", &oa, &ob);
    if (oa.s && ob.s) {
        struct st_school sc = {.name = "Race School"};
        CHECK_EQ(oa.s->ops->school_create(oa.s, &sc, NULL), 0);
        struct st_classroom c1 = {.school_id = sc.id, .name = "One"};
        struct st_classroom c2 = {.school_id = sc.id, .name = "Two"};
        CHECK_EQ(oa.s->ops->classroom_create(oa.s, &c1, NULL), 0);
        CHECK_EQ(ob.s->ops->classroom_create(ob.s, &c2, NULL), 0);
        int64_t t1 = make_user(oa.s, "first"), t2 = make_user(ob.s, "second");
        race(oa.s, ob.s, t1, t2, c1.id, c2.id);
    }
    close_both(&oa);
    close_both(&ob);
    pthread_barrier_destroy(&go);
    sql_test_cleanup();
    test_remove_tree(dir);
    return test_report();
}
