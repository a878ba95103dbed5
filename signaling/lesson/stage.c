/* The stage of one room: see stage.h. Every list is a small array kept in order and scanned
 * (at most STAGE_HANDS_MAX entries, changed per teacher or classroom action, never per
 * packet); removal closes the gap so the orders the teacher sees never change under them. */
#include "lesson/stage.h"

#include <string.h>

/* 1 to STAGE_ID_MAX characters '!'..'~': what the registry makes, and safe in JSON. */
static bool id_ok(const char *id)
{
    if (!id)
        return false;
    size_t n = 0;
    for (; id[n]; n++) {
        unsigned char c = (unsigned char)id[n];
        if (n >= STAGE_ID_MAX || c < 0x21 || c > 0x7e)
            return false;
    }
    return n > 0;
}

/* Copies a checked id into a STAGE_ID_MAX + 1 slot. */
static void id_copy(char *dst, const char *id)
{
    size_t n = strlen(id);
    memcpy(dst, id, n + 1);
}

static int find_on(const struct stage *st, const char *id)
{
    for (unsigned i = 0; i < st->n_on; i++) {
        if (strcmp(st->on[i], id) == 0)
            return (int)i;
    }
    return -1;
}

static int find_hand(const struct stage *st, const char *id)
{
    for (unsigned i = 0; i < st->n_hands; i++) {
        if (strcmp(st->hands[i].id, id) == 0)
            return (int)i;
    }
    return -1;
}

static int find_muted(const struct stage *st, const char *id)
{
    for (unsigned i = 0; i < st->n_muted; i++) {
        if (strcmp(st->muted[i], id) == 0)
            return (int)i;
    }
    return -1;
}

static void remove_on(struct stage *st, unsigned i)
{
    memmove(&st->on[i], &st->on[i + 1], (st->n_on - i - 1) * sizeof st->on[0]);
    st->n_on--;
}

static void remove_hand(struct stage *st, unsigned i)
{
    memmove(&st->hands[i], &st->hands[i + 1], (st->n_hands - i - 1) * sizeof st->hands[0]);
    st->n_hands--;
}

static void remove_muted(struct stage *st, unsigned i)
{
    memmove(&st->muted[i], &st->muted[i + 1], (st->n_muted - i - 1) * sizeof st->muted[0]);
    st->n_muted--;
}

static void left_clear(struct stage_left *left)
{
    if (left)
        left->n = 0;
}

static void left_add(struct stage_left *left, const char *id)
{
    if (left)
        id_copy(left->id[left->n++], id);
}

int stage_init(struct stage *st, unsigned limit)
{
    memset(st, 0, sizeof *st);
    bool ok = limit >= 1 && limit <= STAGE_LIMIT_MAX;
    st->limit = ok ? limit : STAGE_LIMIT_DEFAULT;
    return ok ? STAGE_OK : STAGE_ERR_LIMIT;
}

int stage_set_limit(struct stage *st, unsigned limit, struct stage_left *left)
{
    left_clear(left);
    if (limit < 1 || limit > STAGE_LIMIT_MAX)
        return STAGE_ERR_LIMIT;
    st->limit = limit;
    /* the turns called latest end; the ones that began first keep the stage */
    for (unsigned i = limit; i < st->n_on; i++)
        left_add(left, st->on[i]);
    if (st->n_on > limit)
        st->n_on = limit;
    return STAGE_OK;
}

int stage_hand_up(struct stage *st, const char *id, int64_t now_ms)
{
    if (!id_ok(id))
        return STAGE_ERR_INVALID;
    if (find_on(st, id) >= 0)
        return STAGE_ERR_ON_STAGE;
    if (find_hand(st, id) >= 0)
        return STAGE_ERR_ALREADY;
    if (st->n_hands >= STAGE_HANDS_MAX)
        return STAGE_ERR_FULL;
    struct stage_hand *h = &st->hands[st->n_hands++];
    id_copy(h->id, id);
    h->since_ms = now_ms;
    return STAGE_OK;
}

int stage_hand_down(struct stage *st, const char *id)
{
    if (!id_ok(id))
        return STAGE_ERR_INVALID;
    int i = find_hand(st, id);
    if (i < 0)
        return STAGE_ERR_NOT_FOUND;
    remove_hand(st, (unsigned)i);
    return STAGE_OK;
}

int stage_hands_clear(struct stage *st)
{
    int n = (int)st->n_hands;
    st->n_hands = 0;
    return n;
}

int stage_call(struct stage *st, const char *id, struct stage_left *left)
{
    left_clear(left);
    if (!id_ok(id))
        return STAGE_ERR_INVALID;
    if (find_on(st, id) >= 0)
        return STAGE_ERR_ALREADY;
    if (st->n_on >= st->limit) {
        if (st->limit > 1)
            return STAGE_ERR_FULL;
        left_add(left, st->on[0]); /* limit 1: the one on stage makes way */
        st->n_on = 0;
    }
    int h = find_hand(st, id);
    if (h >= 0)
        remove_hand(st, (unsigned)h);
    if (strcmp(st->listen, id) == 0)
        st->listen[0] = '\0';
    id_copy(st->on[st->n_on++], id);
    return STAGE_OK;
}

int stage_end(struct stage *st, const char *id)
{
    if (!id_ok(id))
        return STAGE_ERR_INVALID;
    int i = find_on(st, id);
    if (i < 0)
        return STAGE_ERR_NOT_FOUND;
    remove_on(st, (unsigned)i);
    return STAGE_OK;
}

int stage_mute(struct stage *st, const char *id)
{
    if (!id_ok(id))
        return STAGE_ERR_INVALID;
    if (find_muted(st, id) >= 0)
        return STAGE_ERR_ALREADY;
    if (st->n_muted >= STAGE_MUTED_MAX)
        return STAGE_ERR_FULL;
    id_copy(st->muted[st->n_muted++], id);
    return STAGE_OK;
}

int stage_unmute(struct stage *st, const char *id)
{
    if (!id_ok(id))
        return STAGE_ERR_INVALID;
    int i = find_muted(st, id);
    if (i < 0)
        return STAGE_ERR_NOT_FOUND;
    remove_muted(st, (unsigned)i);
    return STAGE_OK;
}

int stage_listen(struct stage *st, const char *id)
{
    if (!id_ok(id))
        return STAGE_ERR_INVALID;
    if (strcmp(st->listen, id) == 0)
        return STAGE_ERR_ALREADY;
    if (find_on(st, id) >= 0)
        return STAGE_ERR_ON_STAGE;
    id_copy(st->listen, id);
    return STAGE_OK;
}

int stage_listen_stop(struct stage *st)
{
    if (!st->listen[0])
        return STAGE_ERR_NOT_FOUND;
    st->listen[0] = '\0';
    return STAGE_OK;
}

unsigned stage_forget(struct stage *st, const char *id)
{
    if (!id_ok(id))
        return 0;
    unsigned was = 0;
    int i;
    if ((i = find_on(st, id)) >= 0) {
        remove_on(st, (unsigned)i);
        was |= STAGE_FORGOT_ON;
    }
    if ((i = find_hand(st, id)) >= 0) {
        remove_hand(st, (unsigned)i);
        was |= STAGE_FORGOT_HAND;
    }
    if ((i = find_muted(st, id)) >= 0) {
        remove_muted(st, (unsigned)i);
        was |= STAGE_FORGOT_MUTED;
    }
    if (strcmp(st->listen, id) == 0) {
        st->listen[0] = '\0';
        was |= STAGE_FORGOT_LISTENED;
    }
    return was;
}

bool stage_is_on(const struct stage *st, const char *id)
{
    return id_ok(id) && find_on(st, id) >= 0;
}

int stage_hand(const struct stage *st, const char *id, int64_t *since_ms)
{
    int i = id_ok(id) ? find_hand(st, id) : -1;
    if (i < 0)
        return STAGE_ERR_NOT_FOUND;
    if (since_ms)
        *since_ms = st->hands[i].since_ms;
    return i + 1;
}

bool stage_is_muted(const struct stage *st, const char *id)
{
    return id_ok(id) && find_muted(st, id) >= 0;
}

const char *stage_listening(const struct stage *st) { return st->listen[0] ? st->listen : NULL; }

/* The table in stage.h, row by row. */
bool stage_mic_reaches(const struct stage *st, const char *from_id, enum stage_audience to)
{
    if (!id_ok(from_id) || find_muted(st, from_id) >= 0)
        return false;
    if (find_on(st, from_id) >= 0)
        return to == STAGE_TO_TEACHER || to == STAGE_TO_CLASSROOMS || to == STAGE_TO_RECORDING;
    return to == STAGE_TO_TEACHER && strcmp(st->listen, from_id) == 0;
}

bool stage_camera_reaches(const struct stage *st, const char *from_id, enum stage_audience to)
{
    if (!id_ok(from_id))
        return false;
    if (to == STAGE_TO_TEACHER)
        return true;
    return (to == STAGE_TO_CLASSROOMS || to == STAGE_TO_RECORDING) && find_on(st, from_id) >= 0;
}

json_t *stage_json(const struct stage *st)
{
    json_t *on = json_array(), *hands = json_array(), *muted = json_array();
    for (unsigned i = 0; i < st->n_on; i++)
        json_array_append_new(on, json_string(st->on[i]));
    for (unsigned i = 0; i < st->n_hands; i++)
        json_array_append_new(hands, json_pack("{s:s, s:I}", "id", st->hands[i].id, "since_ms",
                                               (json_int_t)st->hands[i].since_ms));
    for (unsigned i = 0; i < st->n_muted; i++)
        json_array_append_new(muted, json_string(st->muted[i]));
    json_t *listen = st->listen[0] ? json_string(st->listen) : json_null();
    return json_pack("{s:I, s:o, s:o, s:o, s:o}", "max", (json_int_t)st->limit, "on", on, "hands",
                     hands, "muted", muted, "listen", listen);
}
