/* perm.c: the permission table, every role against every room action in the situations
 * that matter (demo, no token, token for this or another room, own/other lesson, booked or
 * not, inside or outside the window, ad-hoc room), and the REST rights. */
#include <stdio.h>
#include <string.h>

#include "access/perm.h"
#include "test.h"

static enum perm_verdict room(enum role role, bool token_room_set, enum perm_action a,
                              struct perm_room r)
{
    return perm_room(role, token_room_set, a, &r, NULL);
}

static void test_demo_and_anonymous(void)
{
    struct perm_room demo = {.demo = true};
    for (int a = 0; a < PERM_ROOM_COUNT; a++) {
        CHECK_EQ(room(ROLE_NONE, false, a, demo), PERM_OK);
        CHECK_EQ(
            room(ROLE_NONE, false, a, (struct perm_room){.scheduled = true, .in_window = true}),
            PERM_NEED_TOKEN);
        CHECK_EQ(room(ROLE_NONE, false, a, (struct perm_room){0}), PERM_NEED_TOKEN);
    }
}

static void test_teacher(void)
{
    struct perm_room own = {.scheduled = true, .own_lesson = true, .in_window = true};
    struct perm_room other = {.scheduled = true, .in_window = true};
    CHECK_EQ(room(ROLE_TEACHER, false, PERM_PUBLISH_MAIN, own), PERM_OK);
    CHECK_EQ(room(ROLE_TEACHER, false, PERM_CONTROL, own), PERM_OK);
    CHECK_EQ(room(ROLE_TEACHER, false, PERM_SUBSCRIBE, own), PERM_OK);
    CHECK_EQ(room(ROLE_TEACHER, false, PERM_PUBLISH_MAIN, other), PERM_FORBIDDEN);
    CHECK_EQ(room(ROLE_TEACHER, false, PERM_PUBLISH_BACK, own), PERM_FORBIDDEN);
    CHECK_EQ(room(ROLE_TEACHER, false, PERM_JOIN_UNSEEN, own), PERM_FORBIDDEN);
    own.in_window = false;
    CHECK_EQ(room(ROLE_TEACHER, false, PERM_PUBLISH_MAIN, own), PERM_NOT_OPEN);
    /* ad-hoc rooms need a token naming them */
    CHECK_EQ(room(ROLE_TEACHER, false, PERM_PUBLISH_MAIN, (struct perm_room){0}), PERM_FORBIDDEN);
    CHECK_EQ(room(ROLE_TEACHER, true, PERM_PUBLISH_MAIN, (struct perm_room){.token_room = true}),
             PERM_OK);
    CHECK_EQ(room(ROLE_TEACHER, true, PERM_PUBLISH_MAIN, (struct perm_room){0}), PERM_FORBIDDEN);
}

static void test_classroom(void)
{
    struct perm_room booked = {.scheduled = true, .booked = true, .in_window = true};
    struct perm_room not_booked = {.scheduled = true, .in_window = true};
    CHECK_EQ(room(ROLE_CLASSROOM, false, PERM_JOIN_SEEN, booked), PERM_OK);
    CHECK_EQ(room(ROLE_CLASSROOM, false, PERM_PUBLISH_BACK, booked), PERM_OK);
    CHECK_EQ(room(ROLE_CLASSROOM, false, PERM_SUBSCRIBE, booked), PERM_OK);
    CHECK_EQ(room(ROLE_CLASSROOM, false, PERM_PUBLISH_MAIN, booked), PERM_FORBIDDEN);
    CHECK_EQ(room(ROLE_CLASSROOM, false, PERM_CONTROL, booked), PERM_FORBIDDEN);
    CHECK_EQ(room(ROLE_CLASSROOM, false, PERM_JOIN_SEEN, not_booked), PERM_FORBIDDEN);
    booked.in_window = false;
    CHECK_EQ(room(ROLE_CLASSROOM, false, PERM_JOIN_SEEN, booked), PERM_NOT_OPEN);
    /* a join link: the token's room, still only in the window */
    struct perm_room link = {.scheduled = true, .token_room = true, .in_window = true};
    CHECK_EQ(room(ROLE_CLASSROOM, true, PERM_JOIN_SEEN, link), PERM_OK);
    link.in_window = false;
    CHECK_EQ(room(ROLE_CLASSROOM, true, PERM_JOIN_SEEN, link), PERM_NOT_OPEN);
    link.token_room = false;
    link.in_window = true;
    CHECK_EQ(room(ROLE_CLASSROOM, true, PERM_JOIN_SEEN, link), PERM_FORBIDDEN);
}

static void test_watchers_scheduler_admin(void)
{
    struct perm_room lesson = {.scheduled = true, .in_window = true};
    enum role watchers[] = {ROLE_RESEARCHER, ROLE_OBSERVER};
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(room(watchers[i], false, PERM_JOIN_UNSEEN, lesson), PERM_OK);
        CHECK_EQ(room(watchers[i], false, PERM_SUBSCRIBE, lesson), PERM_OK);
        CHECK_EQ(room(watchers[i], false, PERM_JOIN_SEEN, lesson), PERM_FORBIDDEN);
        CHECK_EQ(room(watchers[i], false, PERM_PUBLISH_MAIN, lesson), PERM_FORBIDDEN);
        CHECK_EQ(room(watchers[i], false, PERM_PUBLISH_BACK, lesson), PERM_FORBIDDEN);
        CHECK_EQ(room(watchers[i], false, PERM_CONTROL, lesson), PERM_FORBIDDEN);
        /* a room outside the schedule: only with a token naming it */
        CHECK_EQ(room(watchers[i], false, PERM_JOIN_UNSEEN, (struct perm_room){0}), PERM_FORBIDDEN);
        CHECK_EQ(room(watchers[i], true, PERM_SUBSCRIBE, (struct perm_room){.token_room = true}),
                 PERM_OK);
    }
    for (int a = 0; a < PERM_ROOM_COUNT; a++) {
        CHECK_EQ(room(ROLE_SCHEDULER, false, a, lesson), PERM_FORBIDDEN);
        CHECK_EQ(room(ROLE_ADMIN, false, a, lesson), PERM_OK);
        CHECK_EQ(room(ROLE_ADMIN, false, a, (struct perm_room){.scheduled = true}), PERM_OK);
        CHECK_EQ(room(ROLE_ADMIN, true, a, (struct perm_room){0}), PERM_FORBIDDEN);
    }
    const char *why = NULL;
    CHECK_EQ(perm_room(ROLE_SCHEDULER, false, PERM_JOIN_SEEN, &lesson, &why), PERM_FORBIDDEN);
    CHECK(why && strstr(why, "scheduler"));
}

static void test_rest(void)
{
    for (int a = PERM_ROOM_COUNT; a < PERM_ACTION_COUNT; a++) {
        CHECK(perm_rest(ROLE_ADMIN, false, a, false));
        CHECK(!perm_rest(ROLE_NONE, false, a, true));
        CHECK(!perm_rest(ROLE_CLASSROOM, false, a, true));
        CHECK(!perm_rest(ROLE_ADMIN, true, a, true)); /* room tokens carry no REST rights */
    }
    CHECK(perm_rest(ROLE_SCHEDULER, false, PERM_SCHEDULE_WRITE, false));
    CHECK(!perm_rest(ROLE_SCHEDULER, false, PERM_USERS, false));
    CHECK(perm_rest(ROLE_SCHEDULER, false, PERM_TEACHERS_READ, false));
    CHECK(!perm_rest(ROLE_SCHEDULER, false, PERM_AUDIT_READ, false));
    CHECK(!perm_rest(ROLE_TEACHER, false, PERM_SCHEDULE_WRITE, false));
    CHECK(perm_rest(ROLE_TEACHER, false, PERM_LINKS, true));
    CHECK(!perm_rest(ROLE_TEACHER, false, PERM_LINKS, false));
    CHECK(perm_rest(ROLE_RESEARCHER, false, PERM_NOTES_WRITE, false));
    CHECK(!perm_rest(ROLE_OBSERVER, false, PERM_NOTES_WRITE, false));
    CHECK(perm_rest(ROLE_OBSERVER, false, PERM_RECORDINGS_READ, false));
    CHECK(!perm_rest(ROLE_RESEARCHER, false, PERM_RECORDINGS_DELETE, false));
    CHECK(!perm_rest(ROLE_TEACHER, false, PERM_PUBLISH_MAIN, true)); /* not a REST action */
    for (int a = 0; a < PERM_ACTION_COUNT; a++)
        CHECK(strcmp(perm_action_name(a), "?") != 0);
}

int main(void)
{
    test_demo_and_anonymous();
    test_teacher();
    test_classroom();
    test_watchers_scheduler_admin();
    test_rest();
    return test_report();
}
