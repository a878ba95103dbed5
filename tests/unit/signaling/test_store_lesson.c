/* Tests the lessons of signaling/store_sql*.c on a real SQLite file in a temporary
 * directory, or on a fresh PostgreSQL database with --pg DIR (sql_file.h; ctest runs both): create,
 * read (classrooms in the order given), update, delete (its classroom links go too); the checks
 * (times, teacher, classrooms) refused with nothing changed; double bookings of a teacher or a
 * classroom, including a weekly series against a single lesson three weeks later, with the clash
 * named in the message; an update not clashing with itself; SQL meta-characters in the title and
 * subject; IN_USE for a booked classroom and a teacher with lessons; the list's filters
 * (occurrences in a range, teacher, classroom) and order. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/sched.h"
#include "store/store.h"
#include "sql_file.h"
#include "test.h"

#define MIN_MS (60LL * 1000)
#define W SCHED_WEEK_MS
#define HASH "$scrypt$ln=15,r=8,p=1$c2FsdA$aGFzaA"

static char dir[] = "/tmp/test_store_lesson.XXXXXX";
static char path[600];
static struct store *s;
static int64_t hope, g3a, g3b, g4, wang, zhao, observer;

static int64_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) * 1000;
}

static long long sql_int(const char *sql) { return sql_file_int(path, sql); }

/* Lessons and their classroom rows, to see that a refused write changed nothing. */
static long long rows(void)
{
    return sql_int("SELECT (SELECT count(*) FROM lessons) * 1000 + "
                   "(SELECT count(*) FROM lesson_classrooms)");
}

static int64_t user(const char *username, const char *name, enum role role)
{
    struct st_user u = {.role = role};
    snprintf(u.username, sizeof u.username, "%s", username);
    snprintf(u.name, sizeof u.name, "%s", name);
    snprintf(u.pw_hash, sizeof u.pw_hash, HASH);
    CHECK_EQ(s->ops->user_create(s, &u, NULL), 0);
    return u.id;
}

static void fixtures(void)
{
    struct st_school sc = {.name = "Hope School"};
    CHECK_EQ(s->ops->school_create(s, &sc, NULL), 0);
    hope = sc.id;
    const char *names[] = {"Grade 3 A", "Grade 3 B", "Grade 4"};
    int64_t *ids[] = {&g3a, &g3b, &g4};
    for (int i = 0; i < 3; i++) {
        struct st_classroom c = {.school_id = hope};
        snprintf(c.name, sizeof c.name, "%s", names[i]);
        CHECK_EQ(s->ops->classroom_create(s, &c, NULL), 0);
        *ids[i] = c.id;
    }
    wang = user("wang.li", "Wang Li", ROLE_TEACHER);
    zhao = user("zhao.min", "Zhao Min", ROLE_TEACHER);
    observer = user("patrol", "Patrol", ROLE_OBSERVER);
}

/* A lesson of teacher t at start for len minutes in the classrooms given (0-terminated). */
static struct st_lesson lesson(const char *title, int64_t t, int64_t start, int len, int64_t until,
                               const int64_t *rooms)
{
    struct st_lesson l = {.teacher_id = t,
                          .start_ms = start,
                          .end_ms = start + len * MIN_MS,
                          .until_ms = until,
                          .record = true};
    snprintf(l.title, sizeof l.title, "%s", title);
    snprintf(l.subject, sizeof l.subject, "Maths");
    for (; rooms && *rooms; rooms++)
        l.classrooms[l.n_classrooms++] = *rooms;
    return l;
}

static int64_t tue9; /* 2026-12-08 09:00 UTC, a Tuesday */

static void test_crud(void)
{
    struct st_err e;
    const int64_t rooms[] = {g3b, g3a, 0};
    struct st_lesson l = lesson("Fractions", wang, tue9, 45, 0, rooms);
    CHECK_EQ(s->ops->lesson_create(s, &l, &e), 0);
    CHECK(l.id > 0 && l.created_ms > 0 && l.updated_ms == l.created_ms);
    struct st_lesson got;
    CHECK_EQ(s->ops->lesson_get(s, l.id, &got), 0);
    CHECK_STR(got.title, "Fractions");
    CHECK_STR(got.subject, "Maths");
    CHECK_EQ(got.teacher_id, wang);
    CHECK_EQ(got.start_ms, tue9);
    CHECK_EQ(got.end_ms, tue9 + 45 * MIN_MS);
    CHECK_EQ(got.until_ms, 0);
    CHECK(got.record);
    CHECK_EQ(got.n_classrooms, 2);
    CHECK_EQ(got.classrooms[0], g3b); /* the order given */
    CHECK_EQ(got.classrooms[1], g3a);
    CHECK_EQ(s->ops->lesson_get(s, 9999, &got), STORE_ERR_NOT_FOUND);

    /* update replaces every field */
    struct st_lesson up = got;
    snprintf(up.title, sizeof up.title, "Fractions II");
    up.subject[0] = '\0'; /* may be empty */
    up.record = false;
    up.n_classrooms = 1;
    up.classrooms[0] = g4;
    up.until_ms = tue9 + 3 * W;
    CHECK_EQ(s->ops->lesson_update(s, &up, &e), 0);
    CHECK_EQ(s->ops->lesson_get(s, l.id, &got), 0);
    CHECK_STR(got.title, "Fractions II");
    CHECK_STR(got.subject, "");
    CHECK(!got.record);
    CHECK_EQ(got.n_classrooms, 1);
    CHECK_EQ(got.classrooms[0], g4);
    CHECK_EQ(got.until_ms, tue9 + 3 * W);
    CHECK_EQ(got.created_ms, l.created_ms);
    CHECK(got.updated_ms >= l.updated_ms);
    CHECK_EQ(sql_int("SELECT last_end_ms FROM lessons") - (tue9 + 3 * W + 45 * MIN_MS), 0);
    CHECK_STR(got.source_url, ""); /* no RTSP source unless given */
    snprintf(up.source_url, sizeof up.source_url, "rtsp://cam:pw@10.0.0.5/live");
    CHECK_EQ(s->ops->lesson_update(s, &up, &e), 0);
    CHECK_EQ(s->ops->lesson_get(s, l.id, &got), 0);
    CHECK_STR(got.source_url, "rtsp://cam:pw@10.0.0.5/live");
    snprintf(up.source_url, sizeof up.source_url, "http://10.0.0.5/live");
    CHECK_EQ(s->ops->lesson_update(s, &up, &e), STORE_ERR_ARG);
    CHECK(strstr(e.msg, "rtsp://") != NULL);
    up.source_url[0] = '\0';
    up.id = 9999;
    CHECK_EQ(s->ops->lesson_update(s, &up, &e), STORE_ERR_NOT_FOUND);

    /* the booked classroom and the teacher cannot go while the lesson is there */
    CHECK_EQ(s->ops->classroom_delete(s, g4, &e), STORE_ERR_IN_USE);
    CHECK(strstr(e.msg, "Grade 4") && strstr(e.msg, "1 lesson"));
    CHECK_EQ(s->ops->user_delete(s, wang, &e), STORE_ERR_IN_USE);
    CHECK(strstr(e.msg, "Wang Li") != NULL);
    struct st_user t;
    CHECK_EQ(s->ops->user_get(s, wang, &t), 0);
    t.role = ROLE_OBSERVER;
    t.pw_hash[0] = '\0';
    CHECK_EQ(s->ops->user_update(s, &t, &e), STORE_ERR_IN_USE);

    CHECK_EQ(s->ops->lesson_delete(s, l.id, &e), 0);
    CHECK_EQ(s->ops->lesson_get(s, l.id, &got), STORE_ERR_NOT_FOUND);
    CHECK_EQ(s->ops->lesson_delete(s, l.id, &e), STORE_ERR_NOT_FOUND);
    CHECK_EQ(rows(), 0); /* its classroom rows went with it */
    struct st_lesson none = lesson("No rooms", wang, tue9, 45, 0, NULL);
    CHECK_EQ(s->ops->lesson_create(s, &none, &e), 0);
    CHECK_EQ(s->ops->lesson_delete(s, none.id, &e), 0);
}

/* Every refused lesson leaves the tables as they were. */
static void test_checks(void)
{
    struct st_err e;
    const int64_t rooms[] = {g3a, 0};
    struct st_lesson ok = lesson("Kept", zhao, tue9 + 100 * W, 45, 0, rooms);
    CHECK_EQ(s->ops->lesson_create(s, &ok, &e), 0);
    long long before = rows();
    struct st_lesson l;
    struct {
        int64_t start, end, until;
    } times[] = {
        {tue9, tue9, 0},                        /* empty */
        {tue9, tue9 - 1, 0},                    /* backwards */
        {tue9, tue9 + 12 * 60 * MIN_MS + 1, 0}, /* over 12 h */
        {tue9, tue9 + MIN_MS, tue9 - 1},        /* until before start */
        {tue9, tue9 + MIN_MS, tue9 + 52 * W},   /* 53 weeks */
        {-60 * MIN_MS, -MIN_MS, 0},             /* before 1970 */
    };
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        l = lesson("Bad times", wang, times[i].start, 0, times[i].until, rooms);
        l.end_ms = times[i].end;
        CHECK_EQ(s->ops->lesson_create(s, &l, &e), STORE_ERR_ARG);
        CHECK(e.msg[0] != '\0');
        l.id = ok.id;
        CHECK_EQ(s->ops->lesson_update(s, &l, &e), STORE_ERR_ARG);
    }
    l = lesson("", wang, tue9, 45, 0, rooms);
    CHECK_EQ(s->ops->lesson_create(s, &l, &e), STORE_ERR_ARG);
    CHECK(strstr(e.msg, "title") != NULL);
    l = lesson("Line\nbreak", wang, tue9, 45, 0, rooms);
    CHECK_EQ(s->ops->lesson_create(s, &l, &e), STORE_ERR_ARG);
    l = lesson("Bad subject", wang, tue9, 45, 0, rooms);
    snprintf(l.subject, sizeof l.subject, "\xc3\x28");
    CHECK_EQ(s->ops->lesson_create(s, &l, &e), STORE_ERR_ARG);
    CHECK(strstr(e.msg, "subject") != NULL);
    l = lesson("Not a teacher", observer, tue9, 45, 0, rooms);
    CHECK_EQ(s->ops->lesson_create(s, &l, &e), STORE_ERR_ARG);
    CHECK(strstr(e.msg, "not a teacher") != NULL);
    l = lesson("No teacher", 9999, tue9, 45, 0, rooms);
    CHECK_EQ(s->ops->lesson_create(s, &l, &e), STORE_ERR_ARG);
    const int64_t missing[] = {g3a, 9999, 0}, twice[] = {g3a, g3b, g3a, 0};
    l = lesson("Missing room", wang, tue9, 45, 0, missing);
    CHECK_EQ(s->ops->lesson_create(s, &l, &e), STORE_ERR_ARG);
    CHECK(strstr(e.msg, "9999") != NULL);
    l = lesson("Twice", wang, tue9, 45, 0, twice);
    CHECK_EQ(s->ops->lesson_create(s, &l, &e), STORE_ERR_ARG);
    CHECK(strstr(e.msg, "twice") != NULL);
    l = lesson("Too many", wang, tue9, 45, 0, rooms);
    l.n_classrooms = STORE_LESSON_CLASSROOMS + 1;
    CHECK_EQ(s->ops->lesson_create(s, &l, &e), STORE_ERR_ARG);
    l.n_classrooms = -1;
    CHECK_EQ(s->ops->lesson_create(s, &l, &e), STORE_ERR_ARG);

    /* a disabled teacher gets no new lessons */
    int64_t gone = user("left.school", "Left School", ROLE_TEACHER);
    struct st_user t;
    CHECK_EQ(s->ops->user_get(s, gone, &t), 0);
    t.disabled = true;
    t.pw_hash[0] = '\0';
    CHECK_EQ(s->ops->user_update(s, &t, &e), 0);
    l = lesson("Disabled", gone, tue9, 45, 0, rooms);
    CHECK_EQ(s->ops->lesson_create(s, &l, &e), STORE_ERR_ARG);
    CHECK(strstr(e.msg, "disabled") != NULL);
    CHECK_EQ(rows(), before);
    struct st_lesson got;
    CHECK_EQ(s->ops->lesson_get(s, ok.id, &got), 0);
    CHECK_STR(got.title, "Kept");
    CHECK_EQ(got.start_ms, ok.start_ms);
    CHECK_EQ(s->ops->lesson_delete(s, ok.id, &e), 0);
}

static void test_conflicts(void)
{
    struct st_err e;
    const int64_t a[] = {g3a, 0}, b[] = {g3b, 0}, ab[] = {g3a, g3b, 0};
    struct st_lesson first = lesson("Fractions", wang, tue9, 45, 0, a);
    CHECK_EQ(s->ops->lesson_create(s, &first, &e), 0);
    long long before = rows();

    /* the teacher double-booked, in another classroom */
    struct st_lesson l = lesson("Geometry", wang, tue9 + 30 * MIN_MS, 45, 0, b);
    CHECK_EQ(s->ops->lesson_create(s, &l, &e), STORE_ERR_CONFLICT);
    char want[512];
    snprintf(want, sizeof want,
             "teacher Wang Li already teaches \"Fractions\" (lesson %lld) on 2026-12-08 "
             "09:00\xE2\x80\x93"
             "09:45 UTC",
             (long long)first.id);
    CHECK_STR(e.msg, want);
    CHECK_EQ(e.n_conflicts, 1);
    CHECK_EQ(e.conflicts[0].lesson_id, first.id);
    CHECK(e.conflicts[0].teacher);
    CHECK_STR(e.conflicts[0].title, "Fractions");
    CHECK_EQ(e.conflicts[0].start_ms, tue9);
    CHECK_EQ(e.conflicts[0].end_ms, tue9 + 45 * MIN_MS);

    /* the classroom double-booked, by another teacher */
    l = lesson("Reading", zhao, tue9 + 15 * MIN_MS, 45, 0, a);
    CHECK_EQ(s->ops->lesson_create(s, &l, &e), STORE_ERR_CONFLICT);
    snprintf(want, sizeof want,
             "classroom \"Grade 3 A\" (Hope School) is already booked for \"Fractions\" (lesson "
             "%lld) on 2026-12-08 09:00\xE2\x80\x93"
             "09:45 UTC",
             (long long)first.id);
    CHECK_STR(e.msg, want);
    CHECK_EQ(e.n_conflicts, 1);
    CHECK(!e.conflicts[0].teacher);
    CHECK_EQ(e.conflicts[0].classroom_id, g3a);

    /* both at once: every clash listed, the message says there are more */
    l = lesson("Both", wang, tue9, 45, 0, ab);
    CHECK_EQ(s->ops->lesson_create(s, &l, &e), STORE_ERR_CONFLICT);
    CHECK_EQ(e.n_conflicts, 2);
    CHECK(e.conflicts[0].teacher && !e.conflicts[1].teacher);
    CHECK(strstr(e.msg, "(and 1 more clash)") != NULL);
    CHECK_EQ(rows(), before);

    /* touching is not clashing; another teacher elsewhere at the same time is fine */
    l = lesson("Right after", wang, tue9 + 45 * MIN_MS, 45, 0, a);
    CHECK_EQ(s->ops->lesson_create(s, &l, &e), 0);
    struct st_lesson elsewhere = lesson("Elsewhere", zhao, tue9, 45, 0, b);
    CHECK_EQ(s->ops->lesson_create(s, &elsewhere, &e), 0);

    /* an update does not clash with itself; moving it onto another does, and changes
     * nothing */
    struct st_lesson up = first;
    snprintf(up.title, sizeof up.title, "Fractions (revised)");
    up.end_ms += 10 * MIN_MS; /* now runs into "Right after" */
    CHECK_EQ(s->ops->lesson_update(s, &up, &e), STORE_ERR_CONFLICT);
    CHECK(strstr(e.msg, "Right after") != NULL);
    up.end_ms = first.end_ms;
    CHECK_EQ(s->ops->lesson_update(s, &up, &e), 0);
    struct st_lesson moved = elsewhere;
    moved.classrooms[0] = g3a; /* onto Fractions' classroom */
    CHECK_EQ(s->ops->lesson_update(s, &moved, &e), STORE_ERR_CONFLICT);
    CHECK(strstr(e.msg, "Fractions (revised)") != NULL);
    struct st_lesson got;
    CHECK_EQ(s->ops->lesson_get(s, elsewhere.id, &got), 0);
    CHECK_EQ(got.classrooms[0], g3b);

    /* a weekly series against a single lesson three weeks later, both ways round */
    int64_t wed = tue9 + 24 * 60 * MIN_MS;
    const int64_t c4[] = {g4, 0};
    struct st_lesson single = lesson("Exam", zhao, wed + 3 * W + 20 * MIN_MS, 60, 0, c4);
    CHECK_EQ(s->ops->lesson_create(s, &single, &e), 0);
    struct st_lesson series = lesson("Weekly lab", wang, wed, 45, wed + 9 * W, c4);
    before = rows();
    CHECK_EQ(s->ops->lesson_create(s, &series, &e), STORE_ERR_CONFLICT);
    CHECK_EQ(e.n_conflicts, 1);
    CHECK_EQ(e.conflicts[0].lesson_id, single.id);
    CHECK_EQ(e.conflicts[0].start_ms, single.start_ms);
    CHECK(strstr(e.msg, "\"Exam\"") && strstr(e.msg, "2026-12-30 09:20"));
    CHECK_EQ(rows(), before);
    series.until_ms = wed + 2 * W; /* ends before the exam */
    CHECK_EQ(s->ops->lesson_create(s, &series, &e), 0);
    CHECK_EQ(s->ops->lesson_delete(s, single.id, &e), 0);
    series.until_ms = wed + 9 * W;
    CHECK_EQ(s->ops->lesson_update(s, &series, &e), 0);
    single.id = 0;
    CHECK_EQ(s->ops->lesson_create(s, &single, &e), STORE_ERR_CONFLICT);
    CHECK_EQ(e.conflicts[0].lesson_id, series.id);
    CHECK_EQ(e.conflicts[0].start_ms, wed + 3 * W); /* the series' clashing week */
    snprintf(want, sizeof want, "already booked for \"Weekly lab\" (lesson %lld) on 2026-12-30",
             (long long)series.id);
    CHECK(strstr(e.msg, want) != NULL);
    /* a series on Thursdays never meets it */
    struct st_lesson thu = lesson("Thursday lab", wang, wed + 24 * 60 * MIN_MS, 45,
                                  wed + 24 * 60 * MIN_MS + 9 * W, c4);
    CHECK_EQ(s->ops->lesson_create(s, &thu, &e), 0);
}

static void test_meta_characters(void)
{
    static const char *const evil[] = {
        "'; DROP TABLE lessons; --", "\"quoted\" 'single'", "100% sure_ %_\\ back\\slash",
        "x'||(SELECT 1)||'",         "分数 😀 ?1 :a @b $c",
    };
    for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
        struct st_lesson l = lesson(evil[i], zhao, tue9 + (int64_t)(20 + i) * W, 45, 0, NULL);
        snprintf(l.subject, sizeof l.subject, "%s", evil[i]);
        struct st_err e;
        CHECK_EQ(s->ops->lesson_create(s, &l, &e), 0);
        struct st_lesson got;
        CHECK_EQ(s->ops->lesson_get(s, l.id, &got), 0);
        CHECK_STR(got.title, evil[i]);
        CHECK_STR(got.subject, evil[i]);
        /* a clash quotes the title as it is */
        struct st_lesson clash = lesson("Clash", zhao, l.start_ms, 45, 0, NULL);
        CHECK_EQ(s->ops->lesson_create(s, &clash, &e), STORE_ERR_CONFLICT);
        CHECK_STR(e.conflicts[0].title, evil[i]);
        CHECK(strstr(e.msg, evil[i]) != NULL);
    }
    CHECK(sql_int("SELECT count(*) FROM lessons") >= 0); /* the table is still there */
}

static void test_list(void)
{
    struct st_lesson *v;
    int n;
    CHECK_EQ(s->ops->lesson_list(s, NULL, &v, &n), 0);
    int all = n;
    CHECK(n >= 8);
    for (int i = 1; i < n; i++)
        CHECK(v[i - 1].start_ms <= v[i].start_ms);
    free(v);

    /* the week of 2026-12-28: the weekly lab (its fourth Wednesday) and Thursday lab */
    struct st_lesson_filter f = {.from_ms = utc(2026, 12, 28, 0, 0),
                                 .to_ms = utc(2027, 1, 4, 0, 0)};
    CHECK_EQ(s->ops->lesson_list(s, &f, &v, &n), 0);
    CHECK_EQ(n, 2);
    if (n == 2) {
        CHECK_STR(v[0].title, "Weekly lab");
        CHECK_STR(v[1].title, "Thursday lab");
        CHECK_EQ(v[0].n_classrooms, 1);
        CHECK_EQ(v[0].classrooms[0], g4);
    }
    free(v);
    /* Friday to Tuesday morning falls between the weeks of both series */
    f = (struct st_lesson_filter){.from_ms = utc(2026, 12, 18, 0, 0),
                                  .to_ms = utc(2026, 12, 22, 0, 0)};
    CHECK_EQ(s->ops->lesson_list(s, &f, &v, &n), 0);
    CHECK_EQ(n, 0);
    free(v);
    /* half-open: a range ending as a lesson starts leaves it out */
    f = (struct st_lesson_filter){.from_ms = tue9 - 60 * MIN_MS, .to_ms = tue9};
    CHECK_EQ(s->ops->lesson_list(s, &f, &v, &n), 0);
    CHECK_EQ(n, 0);
    free(v);
    f.to_ms = tue9 + 1;
    CHECK_EQ(s->ops->lesson_list(s, &f, &v, &n), 0);
    CHECK_EQ(n, 2); /* Fractions and Elsewhere */
    free(v);
    f = (struct st_lesson_filter){.from_ms = tue9 + 50 * W}; /* from only */
    CHECK_EQ(s->ops->lesson_list(s, &f, &v, &n), 0);
    CHECK_EQ(n, 0);
    free(v);

    f = (struct st_lesson_filter){.teacher_id = zhao};
    CHECK_EQ(s->ops->lesson_list(s, &f, &v, &n), 0);
    CHECK(n >= 6);
    for (int i = 0; i < n; i++)
        CHECK_EQ(v[i].teacher_id, zhao);
    free(v);
    f = (struct st_lesson_filter){.classroom_id = g3a};
    CHECK_EQ(s->ops->lesson_list(s, &f, &v, &n), 0);
    CHECK_EQ(n, 2); /* Fractions, Right after */
    for (int i = 0; i < n; i++)
        CHECK_EQ(v[i].classrooms[0], g3a);
    free(v);
    f = (struct st_lesson_filter){
        .classroom_id = g4, .teacher_id = wang, .to_ms = tue9 + 36 * 60 * MIN_MS};
    CHECK_EQ(s->ops->lesson_list(s, &f, &v, &n), 0);
    CHECK_EQ(n, 1);
    free(v);
    f = (struct st_lesson_filter){.teacher_id = 9999};
    CHECK_EQ(s->ops->lesson_list(s, &f, &v, &n), 0);
    CHECK_EQ(n, 0);
    free(v);
    CHECK(all > 0);
}

int main(int argc, char **argv)
{
    if (!mkdtemp(dir) || sql_test_args(argc, argv) != 0) {
        perror("mkdtemp");
        return 1;
    }
    sql_test_db(dir, "test_store_lesson", path, sizeof path);
    char err[256] = "";
    s = store_open(path, err, sizeof err);
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "store_open: %s\n", err);
        return test_report();
    }
    tue9 = utc(2026, 12, 8, 9, 0);
    fixtures();
    test_crud();
    test_checks();
    test_conflicts();
    test_meta_characters();
    test_list();
    store_close(s);
    /* reopened, the lessons are all there */
    s = store_open(path, err, sizeof err);
    CHECK(s != NULL);
    struct st_lesson *v;
    int n = 0;
    if (s && s->ops->lesson_list(s, NULL, &v, &n) == 0)
        free(v);
    CHECK(n >= 8);
    store_close(s);
    sql_test_cleanup();
    test_remove_tree(dir);
    return test_report();
}
