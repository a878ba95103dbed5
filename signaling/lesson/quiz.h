/* A quick quiz in a lesson (随堂测验; docs/protocol.md, "Quiz"): the teacher asks one
 * multiple-choice question, each classroom answers once, the teacher sees the tally as it
 * grows, and when the teacher closes it everyone sees the result. A closed quiz is kept
 * with the lesson's recording as a chapter (the catalogue's notes) at the moment it was
 * asked, its result in the text, so the replay's chapter list shows it. One quiz at a
 * time per room: asking again closes the one open. */
#ifndef CR_SIGNALING_QUIZ_H
#define CR_SIGNALING_QUIZ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/context.h"
#include "core/errors.h"
#include "lesson/stage.h"

#define QUIZ_TEXT_MAX 200  /* characters of the question */
#define QUIZ_OPTION_MAX 64 /* characters of an option */
#define QUIZ_OPTIONS_MAX 6
#define QUIZ_ANSWERS_MAX 256 /* classrooms that can answer one quiz */

struct quiz {
    int64_t id; /* 0: none asked yet; counts up per room */
    bool open;
    int64_t asked_ms; /* wall clock */
    char question[QUIZ_TEXT_MAX * 4 + 1];
    char options[QUIZ_OPTIONS_MAX][QUIZ_OPTION_MAX * 4 + 1];
    unsigned n_options;
    unsigned tally[QUIZ_OPTIONS_MAX];
    char answered[QUIZ_ANSWERS_MAX][STAGE_ID_MAX + 1]; /* who answered, in order */
    unsigned n_answered;
};

struct reg_room;

/* The teacher asks question with options (a JSON array of 2 to QUIZ_OPTIONS_MAX strings):
 * SRV_ERR_COUNT, or an error with why. The room hears {"event":"quiz"}. */
enum srv_err quiz_ask(struct server *srv, struct reg_room *room, const char *question,
                      json_t *options, char *why, size_t cap);
/* Classroom id answers option choice (0-based), once; the teachers hear
 * {"event":"quiz_tally"}. */
enum srv_err quiz_answer(struct server *srv, struct reg_room *room, const char *id, int64_t choice,
                         char *why, size_t cap);
/* Closes the open quiz: everyone hears the result; a chapter goes into the recording. */
enum srv_err quiz_close(struct server *srv, struct reg_room *room, char *why, size_t cap);
/* {"id","question","options","open"} and, closed or for the teacher, "tally" and
 * "answers"; NULL when none was asked (new reference). */
json_t *quiz_json(const struct quiz *q, bool teacher);

#endif
