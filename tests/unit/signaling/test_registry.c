/* Tests signaling/registry.c: room names (reg_room_name_ok), adding, finding and removing
 * rooms, participants (ids never reused) and WHIP/WHEP resources (random ids, unique, kind
 * checked on lookup), the relay peer → owner lookup before and after its holder leaves,
 * and reg_clear freeing every room and resource (the suite also runs under ASan with leak
 * detection, which checks that nothing is left behind). */
#include <ctype.h>
#include <stdlib.h>

#include "lesson/registry.h"
#include "test.h"

static void test_room_names(void)
{
    char name[REG_ROOM_MAX + 2];
    CHECK(reg_room_name_ok("demo"));
    CHECK(reg_room_name_ok("a"));
    CHECK(reg_room_name_ok("Grade-3_Village_school"));
    CHECK(reg_room_name_ok("-"));
    CHECK(reg_room_name_ok("_"));
    CHECK(reg_room_name_ok("0123456789"));
    memset(name, 'r', REG_ROOM_MAX);
    name[REG_ROOM_MAX] = '\0';
    CHECK(reg_room_name_ok(name)); /* 64 characters */
    name[REG_ROOM_MAX] = 'r';
    name[REG_ROOM_MAX + 1] = '\0';
    CHECK(!reg_room_name_ok(name)); /* 65 */

    static const char *const bad[] = {
        "",       " ",           "a b",      "a/b", "../x", "a.b",  "a:b",      "demo\n",
        "demo\r", "\tdemo",      "a%20b",    "a?b", "a#b",  "a\\b", "a'b",      "a\"b",
        "李老师", "caf\xc3\xa9", "\xff\xfe", "a+b", "a&b",  "a=b",  "<script>", "a\x7f",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(!reg_room_name_ok(bad[i]));
        if (reg_room_name_ok(bad[i]))
            fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
    }
    /* every single byte */
    for (int c = 1; c < 256; c++) {
        char one[2] = {(char)c, 0};
        bool want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
        CHECK(reg_room_name_ok(one) == want);
    }
}

static void test_rooms(void)
{
    struct registry reg;
    reg_init(&reg);
    CHECK(reg.rooms == NULL);
    CHECK_EQ(reg.n_rooms, 0);
    CHECK(reg_room_find(&reg, "demo") == NULL);

    struct reg_room *a = reg_room_add(&reg, "demo");
    struct reg_room *b = reg_room_add(&reg, "lesson-2");
    CHECK(a && b && a != b);
    CHECK_EQ(reg.n_rooms, 2);
    CHECK_STR(a->name, "demo");
    CHECK(reg_room_find(&reg, "demo") == a);
    CHECK(reg_room_find(&reg, "lesson-2") == b);
    CHECK(reg_room_find(&reg, "Demo") == NULL); /* names are case-sensitive */
    CHECK(reg_room_find(&reg, "dem") == NULL);
    CHECK(reg_room_find(&reg, "demo2") == NULL);
    CHECK(reg_room_find(&reg, "") == NULL);
    CHECK(reg_room_empty(a));
    CHECK(!a->pinned);
    CHECK_EQ(a->n_participants, 0);
    CHECK_EQ(a->n_resources, 0);

    /* remove from the middle, the head and the tail of the list */
    struct reg_room *c = reg_room_add(&reg, "c");
    reg_room_remove(&reg, b);
    CHECK_EQ(reg.n_rooms, 2);
    CHECK(reg_room_find(&reg, "lesson-2") == NULL);
    CHECK(reg_room_find(&reg, "demo") == a);
    CHECK(reg_room_find(&reg, "c") == c);
    reg_room_remove(&reg, c);
    reg_room_remove(&reg, a);
    CHECK_EQ(reg.n_rooms, 0);
    CHECK(reg.rooms == NULL);

    /* a name is re-usable once its room is gone */
    a = reg_room_add(&reg, "demo");
    CHECK(reg_room_find(&reg, "demo") == a);

    /* the longest valid name is kept whole */
    char name[REG_ROOM_MAX + 1];
    memset(name, 'n', REG_ROOM_MAX);
    name[REG_ROOM_MAX] = '\0';
    struct reg_room *l = reg_room_add(&reg, name);
    CHECK_EQ(strlen(l->name), REG_ROOM_MAX);
    CHECK(reg_room_find(&reg, name) == l);

    /* many rooms */
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof name, "room%d", i);
        reg_room_add(&reg, name);
    }
    CHECK_EQ(reg.n_rooms, 502);
    CHECK(reg_room_find(&reg, "room0") != NULL);
    CHECK(reg_room_find(&reg, "room499") != NULL);
    CHECK(reg_room_find(&reg, "room500") == NULL);
    reg_clear(&reg);
    CHECK_EQ(reg.n_rooms, 0);
    CHECK(reg.rooms == NULL);
    reg_clear(&reg); /* twice is harmless */
}

static void test_participants(void)
{
    struct registry reg;
    reg_init(&reg);
    struct reg_room *room = reg_room_add(&reg, "demo");
    struct reg_room *other = reg_room_add(&reg, "other");
    struct reg_participant p[4];
    memset(p, 0, sizeof p);
    for (int i = 0; i < 3; i++)
        reg_participant_add(&reg, room, &p[i]);
    reg_participant_add(&reg, other, &p[3]);
    CHECK_STR(p[0].id, "p1");
    CHECK_STR(p[1].id, "p2");
    CHECK_STR(p[2].id, "p3");
    CHECK_STR(p[3].id, "p4");
    CHECK(p[0].room == room);
    CHECK(p[3].room == other);
    CHECK_EQ(room->n_participants, 3);
    CHECK_EQ(other->n_participants, 1);
    CHECK(!reg_room_empty(room));
    CHECK(reg_participant_find(room, "p2") == &p[1]);
    CHECK(reg_participant_find(room, "p4") == NULL); /* in the other room */
    CHECK(reg_participant_find(other, "p4") == &p[3]);
    CHECK(reg_participant_find(room, "p") == NULL);
    CHECK(reg_participant_find(room, "") == NULL);

    /* removal from the middle; a second removal does nothing */
    reg_participant_remove(&p[1]);
    CHECK(p[1].room == NULL);
    CHECK(p[1].next == NULL);
    CHECK_EQ(room->n_participants, 2);
    CHECK(reg_participant_find(room, "p2") == NULL);
    CHECK(reg_participant_find(room, "p1") == &p[0]);
    CHECK(reg_participant_find(room, "p3") == &p[2]);
    reg_participant_remove(&p[1]);
    CHECK_EQ(room->n_participants, 2);

    /* ids are never reused, even after a removal or in a new room */
    reg_participant_add(&reg, room, &p[1]);
    CHECK_STR(p[1].id, "p5");
    CHECK(reg_participant_find(room, "p5") == &p[1]);

    reg_participant_remove(&p[0]);
    reg_participant_remove(&p[1]);
    reg_participant_remove(&p[2]);
    CHECK_EQ(room->n_participants, 0);
    CHECK(room->participants == NULL);
    CHECK(reg_room_empty(room));

    /* removing a room with participants detaches them; they can still be removed */
    reg_room_remove(&reg, other);
    CHECK(p[3].room == NULL);
    reg_participant_remove(&p[3]);
    reg_clear(&reg);
}

static bool id_well_formed(const char *id, char kind)
{
    if (id[0] != kind || strlen(id) != 17)
        return false;
    for (int i = 1; i < 17; i++) {
        if (!isxdigit((unsigned char)id[i]) || isupper((unsigned char)id[i]))
            return false;
    }
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_resources(void)
{
    struct registry reg;
    reg_init(&reg);
    struct reg_room *room = reg_room_add(&reg, "demo");
    struct reg_resource *w = reg_resource_add(room, false);
    struct reg_resource *e = reg_resource_add(room, true);
    CHECK(id_well_formed(w->id, 'w'));
    CHECK(id_well_formed(e->id, 'e'));
    CHECK(!w->whep);
    CHECK(e->whep);
    CHECK(w->room == room);
    CHECK_EQ(w->peer.id, 0);
    CHECK_STR(w->ice_ufrag, "");
    CHECK_EQ(room->n_resources, 2);
    CHECK(!reg_room_empty(room));
    CHECK(reg_resource_find(room, w->id, false) == w);
    CHECK(reg_resource_find(room, e->id, true) == e);
    CHECK(reg_resource_find(room, w->id, true) == NULL); /* a WHIP id is not a WHEP session */
    CHECK(reg_resource_find(room, e->id, false) == NULL);
    CHECK(reg_resource_find(room, "", false) == NULL);
    CHECK(reg_resource_find(room, "w", false) == NULL);

    /* a prefix of an id, or an id with a suffix, is not the id */
    char id[REG_ID_MAX + 2];
    snprintf(id, sizeof id, "%.16s", w->id);
    CHECK(reg_resource_find(room, id, false) == NULL);
    snprintf(id, sizeof id, "%s0", w->id);
    CHECK(reg_resource_find(room, id, false) == NULL);

    reg_resource_remove(w);
    CHECK_EQ(room->n_resources, 1);
    reg_resource_remove(e);
    CHECK_EQ(room->n_resources, 0);
    CHECK(reg_room_empty(room));

    /* ids are unique: 2000 sessions */
    enum { N = 2000 };
    const char **ids = malloc(N * sizeof *ids);
    for (int i = 0; i < N; i++)
        ids[i] = reg_resource_add(room, i & 1)->id;
    CHECK_EQ(room->n_resources, N);
    qsort(ids, N, sizeof *ids, cmp_str);
    int dups = 0;
    for (int i = 1; i < N; i++)
        dups += strcmp(ids[i - 1], ids[i]) == 0;
    CHECK_EQ(dups, 0);
    free(ids);

    /* reg_clear frees all of them (ASan's leak check would say otherwise) */
    reg_clear(&reg);
    CHECK_EQ(reg.n_rooms, 0);
}

static void test_find_peer(void)
{
    struct registry reg;
    reg_init(&reg);
    struct reg_room *a = reg_room_add(&reg, "a");
    struct reg_room *b = reg_room_add(&reg, "b");
    struct reg_participant teacher = {.role = REG_TEACHER}, pupil = {.role = REG_CLASSROOM};
    reg_participant_add(&reg, a, &teacher);
    reg_participant_add(&reg, b, &pupil);
    teacher.peers[REG_PUBLISH].id = 11;
    teacher.peers[REG_SUBSCRIBE].id = 12;
    pupil.peers[REG_SUBSCRIBE].id = 22;
    struct reg_resource *whip = reg_resource_add(b, false);
    whip->peer.id = 31;

    struct reg_owner o;
    CHECK(reg_find_peer(&reg, 11, &o));
    CHECK(o.participant == &teacher && !o.resource);
    CHECK_EQ(o.target, REG_PUBLISH);
    CHECK(o.peer == &teacher.peers[REG_PUBLISH]);
    CHECK(reg_find_peer(&reg, 12, &o));
    CHECK(o.participant == &teacher);
    CHECK_EQ(o.target, REG_SUBSCRIBE);
    CHECK(o.peer == &teacher.peers[REG_SUBSCRIBE]);
    CHECK(reg_find_peer(&reg, 22, &o));
    CHECK(o.participant == &pupil);
    CHECK_EQ(o.target, REG_SUBSCRIBE);
    CHECK(reg_find_peer(&reg, 31, &o));
    CHECK(o.resource == whip && !o.participant);
    CHECK(o.peer == &whip->peer);

    /* nobody holds peer 0 (an empty slot), nor an unknown id */
    CHECK(!reg_find_peer(&reg, 0, &o));
    CHECK(!o.participant && !o.resource && !o.peer);
    CHECK(!reg_find_peer(&reg, 99, &o));
    CHECK(!o.participant && !o.resource && !o.peer);

    /* a participant that left with its peers still set is no longer found */
    reg_participant_remove(&teacher);
    CHECK(!reg_find_peer(&reg, 11, &o));
    CHECK(!reg_find_peer(&reg, 12, &o));
    CHECK(reg_find_peer(&reg, 22, &o));

    /* an emptied slot is not found */
    pupil.peers[REG_SUBSCRIBE].id = 0;
    CHECK(!reg_find_peer(&reg, 22, &o));

    reg_resource_remove(whip);
    CHECK(!reg_find_peer(&reg, 31, &o));

    /* a room removed with its resources and participants inside */
    whip = reg_resource_add(a, true);
    whip->peer.id = 41;
    pupil.peers[REG_PUBLISH].id = 42;
    CHECK(reg_find_peer(&reg, 41, &o));
    reg_room_remove(&reg, a);
    CHECK(!reg_find_peer(&reg, 41, &o));
    CHECK(reg_find_peer(&reg, 42, &o));
    reg_room_remove(&reg, b);
    CHECK(!reg_find_peer(&reg, 42, &o));
    CHECK(pupil.room == NULL);
    reg_clear(&reg);
}

static void test_clear(void)
{
    /* a registry full of everything, participants on the heap as rpc.c makes them */
    struct registry reg;
    reg_init(&reg);
    struct reg_participant *ps[40];
    int n = 0;
    for (int r = 0; r < 10; r++) {
        char name[16];
        snprintf(name, sizeof name, "r%d", r);
        struct reg_room *room = reg_room_add(&reg, name);
        room->pinned = r == 0;
        for (int i = 0; i < 4; i++) {
            ps[n] = calloc(1, sizeof *ps[n]);
            ps[n]->peers[REG_PUBLISH].id = (uint64_t)(100 + n);
            reg_participant_add(&reg, room, ps[n]);
            n++;
            reg_resource_add(room, i & 1)->peer.id = (uint64_t)(1000 + r * 10 + i);
        }
    }
    CHECK_EQ(reg.n_rooms, 10);
    CHECK_EQ(reg.next_participant, 40);
    struct reg_owner o;
    CHECK(reg_find_peer(&reg, 1093, &o) && o.resource);
    CHECK(reg_find_peer(&reg, 139, &o) && o.participant == ps[39]);
    reg_clear(&reg);
    CHECK_EQ(reg.n_rooms, 0);
    CHECK(!reg_find_peer(&reg, 1093, &o));
    /* participants belong to their connections: detached, then freed by their owner */
    for (int i = 0; i < n; i++) {
        CHECK(ps[i]->room == NULL);
        reg_participant_remove(ps[i]);
        free(ps[i]);
    }
    /* ids keep counting after a clear (next_participant is not reset) */
    struct reg_room *room = reg_room_add(&reg, "again");
    struct reg_participant p = {0};
    reg_participant_add(&reg, room, &p);
    CHECK_STR(p.id, "p41");
    reg_participant_remove(&p);
    reg_clear(&reg);
}

static void test_names(void)
{
    CHECK_STR(reg_role_name(REG_TEACHER), "teacher");
    CHECK_STR(reg_role_name(REG_CLASSROOM), "classroom");
    CHECK_STR(reg_target_name(REG_PUBLISH), "publish");
    CHECK_STR(reg_target_name(REG_SUBSCRIBE), "subscribe");
}

int main(void)
{
    test_room_names();
    test_rooms();
    test_participants();
    test_resources();
    test_find_peer();
    test_clear();
    test_names();
    return test_report();
}
