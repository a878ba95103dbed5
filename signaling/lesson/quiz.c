/* A quick quiz in a lesson: see quiz.h. */
#include "lesson/quiz.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "lesson/recording.h"
#include "lesson/registry.h"
#include "lesson/rooms.h"
#include "store/catalog.h"

/* 1 to max characters, no control characters (the JSON parser checked the UTF-8). */
static bool text_ok(const char *s, size_t max)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; s && *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return false;
        chars += (*p & 0xc0) != 0x80;
    }
    return s && chars > 0 && chars <= max;
}

json_t *quiz_json(const struct quiz *q, bool teacher)
{
    if (!q->id)
        return NULL;
    json_t *options = json_array();
    for (unsigned i = 0; i < q->n_options; i++)
        json_array_append_new(options, json_string(q->options[i]));
    json_t *v = json_pack("{s:I, s:s, s:o, s:b}", "id", (json_int_t)q->id, "question", q->question,
                          "options", options, "open", q->open);
    if (teacher || !q->open) {
        json_t *tally = json_array();
        for (unsigned i = 0; i < q->n_options; i++)
            json_array_append_new(tally, json_integer(q->tally[i]));
        json_object_set_new(v, "tally", tally);
        json_object_set_new(v, "answers", json_integer(q->n_answered));
    }
    return v;
}

static void announce(struct server *srv, struct reg_room *room)
{
    rooms_event(srv, room,
                json_pack("{s:s, s:s, s:o}", "type", "event", "event", "quiz", "quiz",
                          quiz_json(&room->quiz, false)));
}

/* The result as a chapter of the recording, at the moment the quiz was asked. */
static void keep(struct server *srv, struct reg_room *room)
{
    const struct quiz *q = &room->quiz;
    char id[160], text[2000];
    int64_t at;
    if (!srv->catalog ||
        !recording_position(srv->recording, room->name, q->asked_ms, id, sizeof id, &at))
        return;
    int n = snprintf(text, sizeof text, "Quiz 测验: %s —", q->question);
    for (unsigned i = 0; i < q->n_options && n > 0 && (size_t)n < sizeof text; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, " %s: %u%s", q->options[i], q->tally[i],
                      i + 1 < q->n_options ? ";" : "");
    struct cat_note note = {"chapter", at, text, "Quiz"};
    json_t *out = NULL;
    if (catalog_note_add(srv->catalog, id, &note, &out) != 0)
        CR_WARN("quiz", "%s: the quiz was not kept with recording %s", room->name, id);
    json_decref(out);
}

enum srv_err quiz_close(struct server *srv, struct reg_room *room, char *why, size_t cap)
{
    if (!room->quiz.open) {
        snprintf(why, cap, "no quiz is open");
        return SRV_ERR_NOT_FOUND;
    }
    room->quiz.open = false;
    CR_INFO("quiz", "%s: quiz %lld closed, %u answers", room->name, (long long)room->quiz.id,
            room->quiz.n_answered);
    announce(srv, room);
    keep(srv, room);
    return SRV_ERR_COUNT;
}

enum srv_err quiz_ask(struct server *srv, struct reg_room *room, const char *question,
                      json_t *options, char *why, size_t cap)
{
    size_t n = json_array_size(options);
    if (!text_ok(question, QUIZ_TEXT_MAX)) {
        snprintf(why, cap, "\"question\" must be 1 to %d characters", QUIZ_TEXT_MAX);
        return SRV_ERR_BAD_REQUEST;
    }
    bool good = json_is_array(options) && n >= 2 && n <= QUIZ_OPTIONS_MAX;
    for (size_t i = 0; good && i < n; i++)
        good = text_ok(json_string_value(json_array_get(options, i)), QUIZ_OPTION_MAX);
    if (!good) {
        snprintf(why, cap, "\"options\" must be 2 to %d strings of 1 to %d characters",
                 QUIZ_OPTIONS_MAX, QUIZ_OPTION_MAX);
        return SRV_ERR_BAD_REQUEST;
    }
    if (room->quiz.open)
        quiz_close(srv, room, why, cap);
    struct quiz *q = &room->quiz;
    int64_t id = q->id + 1;
    memset(q, 0, sizeof *q);
    q->id = id;
    q->open = true;
    q->asked_ms = cr_wall_ms();
    snprintf(q->question, sizeof q->question, "%s", question);
    for (size_t i = 0; i < n; i++)
        snprintf(q->options[i], sizeof q->options[i], "%s",
                 json_string_value(json_array_get(options, i)));
    q->n_options = (unsigned)n;
    CR_INFO("quiz", "%s: quiz %lld asked (%zu options)", room->name, (long long)id, n);
    announce(srv, room);
    return SRV_ERR_COUNT;
}

enum srv_err quiz_answer(struct server *srv, struct reg_room *room, const char *id, int64_t choice,
                         char *why, size_t cap)
{
    struct quiz *q = &room->quiz;
    if (!q->open) {
        snprintf(why, cap, "no quiz is open");
        return SRV_ERR_NOT_FOUND;
    }
    if (choice < 0 || choice >= (int64_t)q->n_options) {
        snprintf(why, cap, "\"choice\" must be 0 to %u", q->n_options - 1);
        return SRV_ERR_BAD_REQUEST;
    }
    for (unsigned i = 0; i < q->n_answered; i++) {
        if (strcmp(q->answered[i], id) == 0) {
            snprintf(why, cap, "this classroom has answered already");
            return SRV_ERR_CONFLICT;
        }
    }
    if (q->n_answered == QUIZ_ANSWERS_MAX) {
        snprintf(why, cap, "the quiz has all the answers it can count");
        return SRV_ERR_LIMIT;
    }
    snprintf(q->answered[q->n_answered++], sizeof q->answered[0], "%s", id);
    q->tally[choice]++;
    rooms_teacher_event(srv, room,
                        json_pack("{s:s, s:s, s:o}", "type", "event", "event", "quiz_tally", "quiz",
                                  quiz_json(q, true)));
    return SRV_ERR_COUNT;
}
