/* Tests signaling/lesson/stage.c: the limit (init, lowering ends the latest turns), the hand
 * queue (raise order kept, raising twice keeps the place), calling on stage from the queue
 * and directly, replacement at limit 1 and refusal at 2..4, ending a turn, lowering all
 * hands, mute and private listen, forgetting a participant, the forwarding table for every
 * combination, the bounds (queue and muted set full, ids of 24 and 25 characters, NULL,
 * empty and non-printable ids) and the JSON snapshot. A refused operation must leave the
 * stage byte for byte as it was. */
#include <stdlib.h>

#include "lesson/stage.h"
#include "test.h"

/* The snapshot, compact with sorted keys, is want (said on stderr if not). */
static bool json_is(const struct stage *st, const char *want)
{
    json_t *j = stage_json(st);
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    bool ok = s && strcmp(s, want) == 0;
    if (!ok)
        fprintf(stderr, "  snapshot: %s\n  expected: %s\n", s ? s : "(null)", want);
    free(s);
    json_decref(j);
    return ok;
}

/* Calls op on a copy of *st; checks that it returned want and changed nothing. */
#define CHECK_REFUSED(st, want, op)                                                                \
    do {                                                                                           \
        struct stage before_;                                                                      \
        memcpy(&before_, (st), sizeof before_);                                                    \
        CHECK_EQ((op), (want));                                                                    \
        CHECK(memcmp(&before_, (st), sizeof before_) == 0);                                        \
    } while (0)

static void test_init_limit(void)
{
    struct stage st;
    for (unsigned l = 1; l <= STAGE_LIMIT_MAX; l++) {
        CHECK_EQ(stage_init(&st, l), STAGE_OK);
        CHECK_EQ(st.limit, l);
    }
    CHECK_EQ(stage_init(&st, 0), STAGE_ERR_LIMIT);
    CHECK_EQ(st.limit, STAGE_LIMIT_DEFAULT);
    CHECK_EQ(stage_init(&st, STAGE_LIMIT_MAX + 1), STAGE_ERR_LIMIT);
    CHECK_EQ(st.limit, 1);
    CHECK(json_is(&st, "{\"hands\":[],\"listen\":null,\"max\":1,\"muted\":[],\"on\":[]}"));
    CHECK(!stage_is_on(&st, "p1"));
    CHECK(stage_listening(&st) == NULL);

    struct stage_left left = {.n = 9};
    CHECK_REFUSED(&st, STAGE_ERR_LIMIT, stage_set_limit(&st, 0, &left));
    CHECK_EQ(left.n, 0);
    CHECK_REFUSED(&st, STAGE_ERR_LIMIT, stage_set_limit(&st, 5, NULL));
    CHECK_EQ(stage_set_limit(&st, 3, &left), STAGE_OK);
    CHECK_EQ(left.n, 0);
    CHECK_EQ(stage_set_limit(&st, 3, &left), STAGE_OK); /* the same: nothing happens */
    CHECK(json_is(&st, "{\"hands\":[],\"listen\":null,\"max\":3,\"muted\":[],\"on\":[]}"));
}

static void test_hands(void)
{
    struct stage st;
    stage_init(&st, 1);
    int64_t since = 0;
    CHECK_EQ(stage_hand(&st, "p1", &since), STAGE_ERR_NOT_FOUND);
    CHECK_EQ(stage_hand_up(&st, "p3", 1000), STAGE_OK);
    CHECK_EQ(stage_hand_up(&st, "p1", 2000), STAGE_OK);
    CHECK_EQ(stage_hand_up(&st, "p2", 1500), STAGE_OK); /* raise order, not time, decides */
    CHECK_EQ(stage_hand(&st, "p3", &since), 1);
    CHECK_EQ(since, 1000);
    CHECK_EQ(stage_hand(&st, "p1", &since), 2);
    CHECK_EQ(since, 2000);
    CHECK_EQ(stage_hand(&st, "p2", NULL), 3);

    /* raising again keeps the place and the time */
    CHECK_REFUSED(&st, STAGE_ERR_ALREADY, stage_hand_up(&st, "p3", 9000));
    CHECK_EQ(stage_hand(&st, "p3", &since), 1);
    CHECK_EQ(since, 1000);

    CHECK_EQ(stage_hand_down(&st, "p3"), STAGE_OK);
    CHECK_EQ(stage_hand(&st, "p3", NULL), STAGE_ERR_NOT_FOUND);
    CHECK_EQ(stage_hand(&st, "p1", NULL), 1);
    CHECK_EQ(stage_hand(&st, "p2", NULL), 2);
    CHECK_REFUSED(&st, STAGE_ERR_NOT_FOUND, stage_hand_down(&st, "p3"));
    CHECK_EQ(stage_hand_up(&st, "p3", 3000), STAGE_OK); /* back of the queue now */
    CHECK_EQ(stage_hand(&st, "p3", &since), 3);
    CHECK_EQ(since, 3000);
    CHECK(json_is(&st, "{\"hands\":[{\"id\":\"p1\",\"since_ms\":2000},{\"id\":\"p2\",\"since_ms\":"
                       "1500},{\"id\":\"p3\",\"since_ms\":3000}],\"listen\":null,\"max\":1,"
                       "\"muted\":[],\"on\":[]}"));

    /* lower all */
    CHECK_EQ(stage_hands_clear(&st), 3);
    CHECK_EQ(st.n_hands, 0);
    CHECK_EQ(stage_hand(&st, "p1", NULL), STAGE_ERR_NOT_FOUND);
    CHECK_EQ(stage_hands_clear(&st), 0);
    CHECK_EQ(stage_hand_up(&st, "p2", 4000), STAGE_OK);
    CHECK_EQ(stage_hand(&st, "p2", NULL), 1);
}

static void test_call_limit1(void)
{
    struct stage st;
    struct stage_left left;
    stage_init(&st, 1);
    stage_hand_up(&st, "p1", 10);
    stage_hand_up(&st, "p2", 20);
    stage_hand_up(&st, "p3", 30);

    /* from the queue: its hand goes, the others move up */
    CHECK_EQ(stage_call(&st, "p2", &left), STAGE_OK);
    CHECK_EQ(left.n, 0);
    CHECK(stage_is_on(&st, "p2"));
    CHECK_EQ(stage_hand(&st, "p2", NULL), STAGE_ERR_NOT_FOUND);
    CHECK_EQ(stage_hand(&st, "p1", NULL), 1);
    CHECK_EQ(stage_hand(&st, "p3", NULL), 2);
    CHECK_REFUSED(&st, STAGE_ERR_ALREADY, stage_call(&st, "p2", &left));
    CHECK_EQ(left.n, 0);
    CHECK_REFUSED(&st, STAGE_ERR_ON_STAGE, stage_hand_up(&st, "p2", 40));

    /* directly, without a raised hand: at limit 1 it replaces the one on stage */
    CHECK_EQ(stage_call(&st, "p9", &left), STAGE_OK);
    CHECK_EQ(left.n, 1);
    CHECK_STR(left.id[0], "p2");
    CHECK(!stage_is_on(&st, "p2"));
    CHECK(stage_is_on(&st, "p9"));
    CHECK_EQ(stage_hand(&st, "p2", NULL), STAGE_ERR_NOT_FOUND); /* its hand stays down */
    CHECK_EQ(stage_hand(&st, "p1", NULL), 1);                   /* the queue is untouched */

    /* from the queue, replacing, with no out parameter */
    CHECK_EQ(stage_call(&st, "p3", NULL), STAGE_OK);
    CHECK_EQ(st.n_on, 1);
    CHECK_STR(st.on[0], "p3");
    CHECK(json_is(&st, "{\"hands\":[{\"id\":\"p1\",\"since_ms\":10}],\"listen\":null,\"max\":1,"
                       "\"muted\":[],\"on\":[\"p3\"]}"));

    /* ending the turn */
    CHECK_REFUSED(&st, STAGE_ERR_NOT_FOUND, stage_end(&st, "p9"));
    CHECK_EQ(stage_end(&st, "p3"), STAGE_OK);
    CHECK(!stage_is_on(&st, "p3"));
    CHECK_EQ(st.n_on, 0);
    CHECK_EQ(stage_hand(&st, "p3", NULL), STAGE_ERR_NOT_FOUND);
    CHECK_EQ(stage_hand_up(&st, "p3", 50), STAGE_OK); /* off stage it may raise again */
    CHECK_EQ(stage_call(&st, "p1", &left), STAGE_OK); /* an empty stage: nobody leaves */
    CHECK_EQ(left.n, 0);
}

static void test_call_limit_many(void)
{
    for (unsigned limit = 2; limit <= STAGE_LIMIT_MAX; limit++) {
        struct stage st;
        struct stage_left left;
        char id[8];
        stage_init(&st, limit);
        for (unsigned i = 0; i < limit; i++) {
            snprintf(id, sizeof id, "p%u", i + 1);
            CHECK_EQ(stage_call(&st, id, &left), STAGE_OK);
            CHECK_EQ(left.n, 0);
        }
        CHECK_EQ(st.n_on, limit);
        /* full: refused, the caller's hand stays where it was */
        CHECK_EQ(stage_hand_up(&st, "p50", 5), STAGE_OK);
        CHECK_REFUSED(&st, STAGE_ERR_FULL, stage_call(&st, "p50", &left));
        CHECK_EQ(left.n, 0);
        CHECK_EQ(stage_hand(&st, "p50", NULL), 1);
        CHECK_REFUSED(&st, STAGE_ERR_FULL, stage_call(&st, "p51", NULL));
        /* the teacher ends a turn of their choice, then calls again; the order is kept */
        CHECK_EQ(stage_end(&st, "p1"), STAGE_OK);
        CHECK_EQ(stage_call(&st, "p50", &left), STAGE_OK);
        CHECK_EQ(left.n, 0);
        CHECK_EQ(st.n_on, limit);
        for (unsigned i = 0; i + 1 < limit; i++) {
            snprintf(id, sizeof id, "p%u", i + 2);
            CHECK_STR(st.on[i], id);
        }
        CHECK_STR(st.on[limit - 1], "p50");
        CHECK_EQ(stage_hand(&st, "p50", NULL), STAGE_ERR_NOT_FOUND);
    }

    struct stage st;
    stage_init(&st, 2);
    stage_call(&st, "p1", NULL);
    stage_call(&st, "p2", NULL);
    CHECK(json_is(&st, "{\"hands\":[],\"listen\":null,\"max\":2,\"muted\":[],\"on\":[\"p1\","
                       "\"p2\"]}"));
    CHECK_EQ(stage_end(&st, "p1"), STAGE_OK); /* from the front: p2 moves up */
    CHECK_STR(st.on[0], "p2");
    CHECK_EQ(st.n_on, 1);
}

static void test_limit_lowered(void)
{
    struct stage st;
    struct stage_left left;
    stage_init(&st, 4);
    stage_call(&st, "p4", NULL);
    stage_call(&st, "p2", NULL);
    stage_call(&st, "p3", NULL);
    stage_call(&st, "p1", NULL);
    CHECK_EQ(stage_set_limit(&st, 2, &left), STAGE_OK); /* the latest two turns end */
    CHECK_EQ(left.n, 2);
    CHECK_STR(left.id[0], "p3");
    CHECK_STR(left.id[1], "p1");
    CHECK_EQ(st.n_on, 2);
    CHECK(stage_is_on(&st, "p4") && stage_is_on(&st, "p2"));
    CHECK(!stage_is_on(&st, "p3") && !stage_is_on(&st, "p1"));
    CHECK_EQ(stage_set_limit(&st, 4, &left), STAGE_OK); /* raising it brings nobody back */
    CHECK_EQ(left.n, 0);
    CHECK_EQ(st.n_on, 2);
    CHECK_EQ(stage_set_limit(&st, 2, NULL), STAGE_OK); /* 2 on, limit 2: nobody leaves */
    CHECK_EQ(st.n_on, 2);
    CHECK_EQ(stage_set_limit(&st, 1, NULL), STAGE_OK);
    CHECK_EQ(st.n_on, 1);
    CHECK_STR(st.on[0], "p4");
    CHECK(json_is(&st, "{\"hands\":[],\"listen\":null,\"max\":1,\"muted\":[],\"on\":[\"p4\"]}"));
    /* now limit 1: calling replaces */
    CHECK_EQ(stage_call(&st, "p2", &left), STAGE_OK);
    CHECK_EQ(left.n, 1);
    CHECK_STR(left.id[0], "p4");
}

static void test_mute_listen(void)
{
    struct stage st;
    stage_init(&st, 1);
    CHECK(!stage_is_muted(&st, "p1"));
    CHECK_EQ(stage_mute(&st, "p2"), STAGE_OK);
    CHECK_EQ(stage_mute(&st, "p1"), STAGE_OK);
    CHECK(stage_is_muted(&st, "p1") && stage_is_muted(&st, "p2"));
    CHECK_REFUSED(&st, STAGE_ERR_ALREADY, stage_mute(&st, "p1"));
    CHECK_EQ(stage_unmute(&st, "p2"), STAGE_OK);
    CHECK(!stage_is_muted(&st, "p2"));
    CHECK_REFUSED(&st, STAGE_ERR_NOT_FOUND, stage_unmute(&st, "p2"));
    /* mute holds across turns */
    CHECK_EQ(stage_call(&st, "p1", NULL), STAGE_OK);
    CHECK(stage_is_muted(&st, "p1"));
    CHECK_EQ(stage_end(&st, "p1"), STAGE_OK);
    CHECK(stage_is_muted(&st, "p1"));

    CHECK_REFUSED(&st, STAGE_ERR_NOT_FOUND, stage_listen_stop(&st));
    CHECK_EQ(stage_listen(&st, "p3"), STAGE_OK);
    CHECK_STR(stage_listening(&st), "p3");
    CHECK_REFUSED(&st, STAGE_ERR_ALREADY, stage_listen(&st, "p3"));
    CHECK_EQ(stage_listen(&st, "p4"), STAGE_OK); /* one at a time: p4 replaces p3 */
    CHECK_STR(stage_listening(&st), "p4");
    CHECK_EQ(stage_hand_up(&st, "p4", 7), STAGE_OK); /* listened to, it may raise its hand */
    CHECK(json_is(&st, "{\"hands\":[{\"id\":\"p4\",\"since_ms\":7}],\"listen\":\"p4\",\"max\":1,"
                       "\"muted\":[\"p1\"],\"on\":[]}"));
    /* called on stage, the private listen ends: everyone hears it */
    CHECK_EQ(stage_call(&st, "p4", NULL), STAGE_OK);
    CHECK(stage_listening(&st) == NULL);
    CHECK_REFUSED(&st, STAGE_ERR_ON_STAGE, stage_listen(&st, "p4"));
    CHECK_EQ(stage_listen(&st, "p1"), STAGE_OK); /* muted: allowed, silent (see the table) */
    CHECK_EQ(stage_listen_stop(&st), STAGE_OK);
    CHECK(stage_listening(&st) == NULL);
    CHECK(json_is(&st, "{\"hands\":[],\"listen\":null,\"max\":1,\"muted\":[\"p1\"],"
                       "\"on\":[\"p4\"]}"));
}

static void test_forget(void)
{
    struct stage st;
    stage_init(&st, 2);
    stage_call(&st, "p1", NULL);
    stage_call(&st, "p2", NULL);
    stage_hand_up(&st, "p3", 1);
    stage_hand_up(&st, "p4", 2);
    stage_hand_up(&st, "p5", 3);
    stage_mute(&st, "p2");
    stage_mute(&st, "p4");
    stage_listen(&st, "p6");

    CHECK_EQ(stage_forget(&st, "p1"), STAGE_FORGOT_ON); /* on stage: the stage changed */
    CHECK_EQ(st.n_on, 1);
    CHECK_STR(st.on[0], "p2");
    CHECK_EQ(stage_forget(&st, "p2"), STAGE_FORGOT_ON | STAGE_FORGOT_MUTED);
    CHECK_EQ(st.n_on, 0);
    CHECK(!stage_is_muted(&st, "p2"));
    CHECK_EQ(stage_forget(&st, "p4"), STAGE_FORGOT_HAND | STAGE_FORGOT_MUTED); /* mid-queue */
    CHECK_EQ(stage_hand(&st, "p3", NULL), 1);
    CHECK_EQ(stage_hand(&st, "p5", NULL), 2);
    CHECK_EQ(stage_forget(&st, "p6"), STAGE_FORGOT_LISTENED);
    CHECK(stage_listening(&st) == NULL);
    CHECK_EQ(stage_forget(&st, "p6"), 0); /* twice: nothing left */
    CHECK_EQ(stage_forget(&st, "p99"), 0);
    CHECK_EQ(stage_forget(&st, NULL), 0);
    CHECK_EQ(stage_forget(&st, ""), 0);
    CHECK(json_is(&st, "{\"hands\":[{\"id\":\"p3\",\"since_ms\":1},{\"id\":\"p5\",\"since_ms\":3}]"
                       ",\"listen\":null,\"max\":2,\"muted\":[],\"on\":[]}"));

    /* in everything it can be in at once: hand, muted, listened to */
    stage_hand_up(&st, "p7", 4);
    stage_mute(&st, "p7");
    stage_listen(&st, "p7");
    CHECK_EQ(stage_forget(&st, "p7"),
             STAGE_FORGOT_HAND | STAGE_FORGOT_MUTED | STAGE_FORGOT_LISTENED);
    CHECK_EQ(st.n_hands, 2);
    CHECK_EQ(st.n_muted, 0);
    /* an id sharing a prefix is someone else */
    stage_call(&st, "p1", NULL);
    CHECK_EQ(stage_forget(&st, "p10"), 0);
    CHECK(stage_is_on(&st, "p1"));
}

/* The table in stage.h, written out again independently of stage.c. */
static bool want_mic(bool on, bool listened, bool muted, enum stage_audience to)
{
    if (muted)
        return false;
    if (on)
        return true;
    return listened && to == STAGE_TO_TEACHER;
}

static bool want_camera(bool on, enum stage_audience to) { return on || to == STAGE_TO_TEACHER; }

static void test_forwarding(void)
{
    static const enum stage_audience all[] = {STAGE_TO_TEACHER, STAGE_TO_CLASSROOMS,
                                              STAGE_TO_RECORDING};
    /* every reachable state of p1 (on stage and listened to exclude each other), with
     * another classroom, p2, on stage, listened to or muted around it */
    for (unsigned s = 0; s < 3 * 2 * 3; s++) {
        unsigned where = s % 3, muted = s / 3 % 2, other = s / 6;
        struct stage st;
        stage_init(&st, 2);
        if (other == 1)
            stage_call(&st, "p2", NULL);
        if (other == 2)
            stage_mute(&st, "p2");
        if (where == 1)
            CHECK_EQ(stage_call(&st, "p1", NULL), STAGE_OK);
        if (where == 2)
            CHECK_EQ(stage_listen(&st, "p1"), STAGE_OK);
        if (other == 0 && where != 2)
            stage_listen(&st, "p2");
        if (muted)
            CHECK_EQ(stage_mute(&st, "p1"), STAGE_OK);
        stage_hand_up(&st, "p1", 1); /* a raised hand changes nothing */
        for (unsigned a = 0; a < 3; a++) {
            bool mic = stage_mic_reaches(&st, "p1", all[a]);
            bool cam = stage_camera_reaches(&st, "p1", all[a]);
            CHECK_EQ(mic, want_mic(where == 1, where == 2, muted, all[a]));
            CHECK_EQ(cam, want_camera(where == 1, all[a]));
            if (mic != want_mic(where == 1, where == 2, muted, all[a]) ||
                cam != want_camera(where == 1, all[a]))
                fprintf(stderr, "  state %u (where %u muted %u other %u), audience %u\n", s, where,
                        muted, other, a);
        }
        /* nobody else's state reaches p1's rule; an unknown id reaches only the teacher's
         * grid, an invalid one nobody */
        CHECK(!stage_mic_reaches(&st, "p3", STAGE_TO_TEACHER));
        CHECK(stage_camera_reaches(&st, "p3", STAGE_TO_TEACHER));
        CHECK(!stage_camera_reaches(&st, "p3", STAGE_TO_CLASSROOMS));
        CHECK(!stage_camera_reaches(&st, "p3", STAGE_TO_RECORDING));
        for (unsigned a = 0; a < 3; a++) {
            CHECK(!stage_mic_reaches(&st, NULL, all[a]));
            CHECK(!stage_mic_reaches(&st, "", all[a]));
            CHECK(!stage_camera_reaches(&st, NULL, all[a]));
            CHECK(!stage_camera_reaches(&st, "", all[a]));
        }
        CHECK(!stage_mic_reaches(&st, "p1", (enum stage_audience)7));
        CHECK(!stage_camera_reaches(&st, "p1", (enum stage_audience)7));
    }

    /* the rule follows the state through a lesson: a turn ends, the mic is private again */
    struct stage st;
    stage_init(&st, 1);
    stage_call(&st, "p1", NULL);
    CHECK(stage_mic_reaches(&st, "p1", STAGE_TO_RECORDING));
    stage_call(&st, "p2", NULL); /* replaced */
    CHECK(!stage_mic_reaches(&st, "p1", STAGE_TO_TEACHER));
    CHECK(!stage_camera_reaches(&st, "p1", STAGE_TO_CLASSROOMS));
    CHECK(stage_camera_reaches(&st, "p2", STAGE_TO_RECORDING));
    stage_forget(&st, "p2");
    CHECK(!stage_camera_reaches(&st, "p2", STAGE_TO_RECORDING));
}

/* Every operation taking an id refuses id and changes nothing. */
static void check_id_refused(struct stage *st, const char *id)
{
    struct stage_left left = {.n = 9};
    CHECK_REFUSED(st, STAGE_ERR_INVALID, stage_hand_up(st, id, 1));
    CHECK_REFUSED(st, STAGE_ERR_INVALID, stage_hand_down(st, id));
    CHECK_REFUSED(st, STAGE_ERR_INVALID, stage_call(st, id, &left));
    CHECK_EQ(left.n, 0);
    CHECK_REFUSED(st, STAGE_ERR_INVALID, stage_end(st, id));
    CHECK_REFUSED(st, STAGE_ERR_INVALID, stage_mute(st, id));
    CHECK_REFUSED(st, STAGE_ERR_INVALID, stage_unmute(st, id));
    CHECK_REFUSED(st, STAGE_ERR_INVALID, stage_listen(st, id));
    CHECK_REFUSED(st, 0, (int)stage_forget(st, id));
    CHECK(!stage_is_on(st, id));
    CHECK(!stage_is_muted(st, id));
    CHECK_EQ(stage_hand(st, id, NULL), STAGE_ERR_NOT_FOUND);
}

static void test_ids(void)
{
    struct stage st;
    stage_init(&st, 1);
    stage_call(&st, "p1", NULL);
    stage_hand_up(&st, "p2", 1);
    stage_mute(&st, "p2");
    stage_listen(&st, "p3");

    char id24[STAGE_ID_MAX + 1], id25[STAGE_ID_MAX + 2];
    memset(id24, 'x', STAGE_ID_MAX);
    id24[STAGE_ID_MAX] = '\0';
    memset(id25, 'x', STAGE_ID_MAX + 1);
    id25[STAGE_ID_MAX + 1] = '\0';
    static const char *const bad[] = {"", "p 1", " p1", "p1\n", "\x01", "p\x7f", "caf\xc3\xa9"};
    check_id_refused(&st, NULL);
    check_id_refused(&st, id25);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_id_refused(&st, bad[i]);

    /* 24 characters fit everywhere, and their prefix of 23 is someone else */
    CHECK_EQ(stage_hand_up(&st, id24, 5), STAGE_OK);
    CHECK_EQ(stage_hand(&st, id24, NULL), 2);
    CHECK_EQ(stage_mute(&st, id24), STAGE_OK);
    CHECK_EQ(stage_listen(&st, id24), STAGE_OK);
    CHECK_STR(stage_listening(&st), id24);
    struct stage_left left;
    CHECK_EQ(stage_call(&st, id24, &left), STAGE_OK);
    CHECK_STR(st.on[0], id24);
    CHECK_STR(left.id[0], "p1");
    id24[STAGE_ID_MAX - 1] = '\0';
    CHECK(!stage_is_on(&st, id24));
    id24[STAGE_ID_MAX - 1] = 'x';
    CHECK(stage_is_on(&st, id24));
    CHECK_EQ(stage_forget(&st, id24), STAGE_FORGOT_ON | STAGE_FORGOT_MUTED);
}

static void test_bounds(void)
{
    struct stage st;
    char id[16];
    stage_init(&st, 1);
    for (unsigned i = 0; i < STAGE_HANDS_MAX; i++) {
        snprintf(id, sizeof id, "p%u", i + 1);
        CHECK_EQ(stage_hand_up(&st, id, i), STAGE_OK);
    }
    CHECK_EQ(st.n_hands, STAGE_HANDS_MAX);
    /* full: the newcomer is refused, no hand is dropped, "already" still says already */
    CHECK_REFUSED(&st, STAGE_ERR_FULL, stage_hand_up(&st, "p1000", 1000));
    CHECK_REFUSED(&st, STAGE_ERR_ALREADY, stage_hand_up(&st, "p1", 1000));
    int64_t since = -1;
    CHECK_EQ(stage_hand(&st, "p1", &since), 1);
    CHECK_EQ(since, 0);
    snprintf(id, sizeof id, "p%u", STAGE_HANDS_MAX);
    CHECK_EQ(stage_hand(&st, id, NULL), STAGE_HANDS_MAX);
    /* one leaves the queue for the stage: there is room again, at the back */
    CHECK_EQ(stage_call(&st, "p100", NULL), STAGE_OK);
    CHECK_EQ(stage_hand(&st, "p101", NULL), 100);
    CHECK_EQ(stage_hand_up(&st, "p1000", 1000), STAGE_OK);
    CHECK_EQ(stage_hand(&st, "p1000", NULL), STAGE_HANDS_MAX);
    CHECK_EQ(stage_hands_clear(&st), STAGE_HANDS_MAX);

    for (unsigned i = 0; i < STAGE_MUTED_MAX; i++) {
        snprintf(id, sizeof id, "p%u", i + 1);
        CHECK_EQ(stage_mute(&st, id), STAGE_OK);
    }
    CHECK_REFUSED(&st, STAGE_ERR_FULL, stage_mute(&st, "p1000"));
    CHECK_REFUSED(&st, STAGE_ERR_ALREADY, stage_mute(&st, "p7"));
    CHECK_EQ(stage_unmute(&st, "p7"), STAGE_OK);
    CHECK_EQ(stage_mute(&st, "p1000"), STAGE_OK);
    CHECK(stage_is_muted(&st, "p1000"));
    CHECK(!stage_is_muted(&st, "p7"));

    /* the snapshot of a full queue lists every hand in order */
    for (unsigned i = 0; i < STAGE_HANDS_MAX; i++) {
        snprintf(id, sizeof id, "c%u", i);
        stage_hand_up(&st, id, 5000 + i);
    }
    json_t *j = stage_json(&st);
    json_t *hands = json_object_get(j, "hands");
    CHECK_EQ(json_array_size(hands), STAGE_HANDS_MAX);
    json_t *last = json_array_get(hands, STAGE_HANDS_MAX - 1);
    CHECK_STR(json_string_value(json_object_get(last, "id")), "c255");
    CHECK_EQ(json_integer_value(json_object_get(last, "since_ms")), 5255);
    CHECK_EQ(json_array_size(json_object_get(j, "muted")), STAGE_MUTED_MAX);
    CHECK_STR(json_string_value(json_array_get(json_object_get(j, "on"), 0)), "p100");
    json_decref(j);
}

static void test_json(void)
{
    struct stage st;
    stage_init(&st, 4);
    stage_call(&st, "p3", NULL);
    stage_call(&st, "p8", NULL);
    stage_hand_up(&st, "p5", 1700000000123LL); /* a wall-clock time survives as an integer */
    stage_hand_up(&st, "p6", -1);
    stage_mute(&st, "p9");
    stage_mute(&st, "p3");
    stage_listen(&st, "p4");
    CHECK(json_is(&st, "{\"hands\":[{\"id\":\"p5\",\"since_ms\":1700000000123},{\"id\":\"p6\","
                       "\"since_ms\":-1}],\"listen\":\"p4\",\"max\":4,\"muted\":[\"p9\",\"p3\"],"
                       "\"on\":[\"p3\",\"p8\"]}"));
    /* the documented shape, key by key */
    json_t *j = stage_json(&st);
    CHECK(json_is_object(j));
    CHECK_EQ(json_object_size(j), 5);
    CHECK_EQ(json_integer_value(json_object_get(j, "max")), 4);
    CHECK(json_is_array(json_object_get(j, "on")));
    CHECK(json_is_array(json_object_get(j, "hands")));
    CHECK(json_is_array(json_object_get(j, "muted")));
    CHECK(json_is_string(json_object_get(j, "listen")));
    json_decref(j);
    stage_listen_stop(&st);
    j = stage_json(&st);
    CHECK(json_is_null(json_object_get(j, "listen")));
    json_decref(j);
}

int main(void)
{
    test_init_limit();
    test_hands();
    test_call_limit1();
    test_call_limit_many();
    test_limit_lowered();
    test_mute_listen();
    test_forget();
    test_forwarding();
    test_ids();
    test_bounds();
    test_json();
    return test_report();
}
