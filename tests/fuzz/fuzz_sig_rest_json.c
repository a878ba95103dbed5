/* Fuzz entry point for the schedule API's JSON bodies (signaling/front/rest_sched_util.c
 * rsched_body_parse and the rsched_in_* readers, rest_lessons.c rsched_lesson_in,
 * rest_people.c rsched_user_in, rest_rooms.c's ingest with store/rtsp_url.c): the first
 * input byte picks the request (a lesson, a user, a school, a classroom, each created or
 * updated, a login, or a room's RTSP source), the rest is its body. The
 * body goes through the strict parser with that resource's fields, then through the field
 * readers its handler runs. Checks: a refusal says why in a sentence that makes a JSON error
 * answer (transport/http.c http_error_json); an accepted body holds only the resource's fields;
 * what the readers accept fits its bounds. A lesson is then shown as the API shows it and,
 * when its times are a valid rule, written as iCalendar (RFC 5545: lines of at most 75
 * octets, CRLF, text escaped), where user text from these bodies ends up. An RTSP URL that
 * is accepted is shown redacted without its password. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "access/passwd.h"
#include "answer_check.h"
#include "base/redact.h"
#include "front/rest_sched_priv.h"
#include "store/role.h"
#include "store/rtsp_url.h"
#include "store/sched.h"

/* The resources' fields as in rest_lessons.c, rest_people.c and rest_schedule.c (login). */
static const char *const lesson_fields[] = {"title",      "subject",    "teacher_id", "start_ms",
                                            "end_ms",     "recurrence", "record",     "classrooms",
                                            "source_url", NULL};
static const char *const lesson_readonly[] = {"id", "teacher_name", "room", "created_ms", NULL};
static const char *const user_fields[] = {"username",     "password", "name", "role",
                                          "classroom_id", "disabled", NULL};
static const char *const user_readonly[] = {"id", "created_ms", NULL};
static const char *const school_fields[] = {"name", NULL};
static const char *const classroom_fields[] = {"school_id", "name", NULL};
static const char *const id_readonly[] = {"id", NULL};
static const char *const login_fields[] = {"username", "password", NULL};
static const char *const ingest_fields[] = {"url", NULL};

static const struct {
    const char *what;
    const char *const *fields, *const *readonly;
} kinds[] = {
    {"a lesson", lesson_fields, lesson_readonly},
    {"a user", user_fields, user_readonly},
    {"a school", school_fields, id_readonly},
    {"a classroom", classroom_fields, id_readonly},
    {"a login", login_fields, NULL},
    {"an ingest", ingest_fields, NULL},
};

static bool listed(const char *const *names, const char *key)
{
    for (; names && *names; names++)
        if (strcmp(*names, key) == 0)
            return true;
    return false;
}

/* RFC 5545 §3.1: CRLF line ends, at most 75 octets a line, continuation lines start with a
 * space, and folding never splits a UTF-8 character. */
static void check_ical(const char *ics)
{
    REQUIRE(ics && strncmp(ics, "BEGIN:VCALENDAR\r\n", 17) == 0);
    for (const char *p = ics; *p;) {
        const char *crlf = strstr(p, "\r\n");
        REQUIRE(crlf); /* every line ends with CRLF */
        size_t n = (size_t)(crlf - p);
        REQUIRE(n <= 75 && !memchr(p, '\n', n) && !memchr(p, '\r', n));
        const char *first = n && p[0] == ' ' ? p + 1 : p; /* after a fold's space */
        REQUIRE(first == crlf || ((unsigned char)*first & 0xC0) != 0x80);
        p = crlf + 2;
    }
}

static void lesson(struct rsched_in *in, bool create)
{
    struct st_lesson l = {.id = 7, .created_ms = 1767225600000, .updated_ms = 1767225600000};
    rsched_lesson_in(in, create, &l);
    REQUIRE(memchr(l.title, '\0', sizeof l.title) && memchr(l.subject, '\0', sizeof l.subject));
    REQUIRE(l.n_classrooms >= 0 && l.n_classrooms <= STORE_LESSON_CLASSROOMS);
    if (!in->why[0]) {
        REQUIRE(l.start_ms >= 0 && l.end_ms >= 0 && l.until_ms >= 0 && l.teacher_id >= 0);
        for (int i = 0; i < l.n_classrooms; i++) {
            REQUIRE(l.classrooms[i] > 0);
            for (int j = 0; j < i; j++)
                REQUIRE(l.classrooms[j] != l.classrooms[i]);
        }
        if (create)
            REQUIRE(json_object_get(in->obj, "title") && l.teacher_id > 0);
    }
    struct rsched_names names = {0};
    json_t *shown = rsched_lesson_json(&l, &names);
    REQUIRE(json_is_object(shown));
    json_decref(shown);
    struct sched_rule rule = rsched_rule(&l);
    if (sched_rule_invalid(&rule))
        return;
    REQUIRE(sched_count(&rule) >= 1 && sched_count(&rule) <= SCHED_MAX_OCCURRENCES);
    struct sched_event ev = {.id = l.id,
                             .title = l.title,
                             .detail = l.subject[0] ? l.subject : NULL,
                             .url = "https://school.example/lesson/7",
                             .rule = rule,
                             .updated_ms = l.updated_ms};
    char *ics = sched_ical(l.title, "school.example", &ev, 1);
    check_ical(ics);
    free(ics);
}

/* rest_rooms.c: POST .../ingest {"url"}; a URL accepted is shown without its password. */
static void ingest(json_t *body)
{
    const char *url = json_string_value(json_object_get(body, "url"));
    char why[200] = "", shown[RTSP_URL_MAX + 8];
    if (!url || !rtsp_url_ok(url, why, sizeof why)) {
        REQUIRE(!url || why[0]);
        return;
    }
    REQUIRE(!why[0]);
    cr_redact_userinfo(url, shown, sizeof shown);
    const char *auth = strstr(url, "://") + 3, *at = strrchr(auth, '@');
    size_t authority = strcspn(auth, "/?#");
    const char *colon = at && at < auth + authority ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon && at - colon > 1 && !memmem(colon + 1, (size_t)(at - colon - 1), "***", 3)) {
        /* the password must be gone from what is shown */
        REQUIRE(strstr(shown, ":***@") != NULL);
        REQUIRE(!memmem(shown, strlen(shown), colon, (size_t)(at - colon + 1)));
    }
}

static void user(struct rsched_in *in, bool create)
{
    struct st_user u = {.id = 3, .role = ROLE_TEACHER};
    char password[PASSWD_MAX + 1];
    bool new_pw = false;
    rsched_user_in(in, create, &u, password, &new_pw);
    REQUIRE(memchr(u.username, '\0', sizeof u.username) && memchr(u.name, '\0', sizeof u.name));
    REQUIRE(memchr(password, '\0', sizeof password));
    if (!in->why[0]) {
        REQUIRE(u.role > ROLE_NONE && u.role < ROLE_COUNT && u.classroom_id >= 0);
        REQUIRE(!new_pw || (strlen(password) >= PASSWD_MIN && strlen(password) <= PASSWD_MAX));
        if (create)
            REQUIRE(new_pw && json_object_get(in->obj, "username"));
    }
    json_t *shown = rsched_user_json(&u);
    REQUIRE(json_is_object(shown)); /* what was read is UTF-8 */
    json_decref(shown);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned pick = data[0] % 10; /* 0-1 lesson, 2-3 user, 4-5 school, 6-7 classroom, 8 login,
                                     9 ingest */
    bool create = pick % 2 == 0;
    char *text = malloc(size - 1 ? size - 1 : 1); /* exact size: overreads are caught */
    memcpy(text, data + 1, size - 1);
    char why[512];
    enum srv_err err = SRV_ERR_COUNT;
    unsigned k = pick == 9 ? 5 : pick / 2;
    json_t *body = rsched_body_parse(text, size - 1, kinds[k].what, kinds[k].fields,
                                     kinds[k].readonly, &err, why, sizeof why);
    free(text);
    if (!body) {
        REQUIRE(err == SRV_ERR_BAD_JSON || err == SRV_ERR_BAD_REQUEST);
        check_sentence(err, why, sizeof why);
        return 0;
    }
    REQUIRE(json_is_object(body));
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) REQUIRE(listed(kinds[k].fields, key));
    struct rsched_in in = {.obj = body};
    switch (k) {
    case 0:
        lesson(&in, create);
        break;
    case 1:
        user(&in, create);
        break;
    case 2: { /* rest_people.c: a school's name */
        struct st_school s = {0};
        rsched_in_text(&in, "name", create, s.name, sizeof s.name);
        REQUIRE(memchr(s.name, '\0', sizeof s.name));
        break;
    }
    case 3: { /* rest_people.c: a classroom's school and name */
        struct st_classroom c = {0};
        rsched_in_id(&in, "school_id", create, false, &c.school_id);
        rsched_in_text(&in, "name", create, c.name, sizeof c.name);
        REQUIRE(c.school_id >= 0 && memchr(c.name, '\0', sizeof c.name));
        break;
    }
    case 5:
        ingest(body);
        break;
    default: { /* rest_schedule.c: a login */
        char username[STORE_TEXT_MAX], password[PASSWD_MAX + 2];
        rsched_in_text(&in, "username", true, username, sizeof username);
        rsched_in_text(&in, "password", true, password, sizeof password);
        REQUIRE(in.why[0] ||
                (json_object_get(body, "username") && json_object_get(body, "password")));
    }
    }
    if (in.why[0])
        check_sentence(SRV_ERR_BAD_REQUEST, in.why, sizeof in.why);
    json_decref(body);
    return 0;
}
