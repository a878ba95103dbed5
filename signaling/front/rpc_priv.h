/* What rpc.c shares with the rest of the websocket protocol (rpc_floor.c): one request
 * being handled, its replies, and the checks every request makes. */
#ifndef CR_SIGNALING_RPC_PRIV_H
#define CR_SIGNALING_RPC_PRIV_H

#include <jansson.h>
#include <stdbool.h>

#include "access/perm.h"
#include "core/context.h"
#include "core/errors.h"
#include "lesson/registry.h"
#include "transport/ws.h"

struct req {
    struct ws_conn *c;
    struct server *srv;
    json_t *msg; /* borrowed */
    json_t *id;  /* borrowed; NULL when the request has none */
};

/* An error reply (counted), its message printf-style. */
void req_err(struct req *r, enum srv_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* {"type":"reply","id":..,"ok":true, ...fields}; steals fields (may be NULL). A request
 * without an id gets no success reply. */
void req_ok(struct req *r, json_t *fields);
/* The joined participant, or an error reply and NULL. */
struct reg_participant *req_joined(struct req *r);
/* Asks the permission table again for an action of a joined participant; replies with
 * the refusal and returns false. */
bool req_allows(struct req *r, struct reg_participant *p, enum perm_action a);

/* The floor requests (rpc_floor.c): hand, stage, mute, listen, hands_down. */
void rpc_h_hand(struct req *r);
void rpc_h_stage(struct req *r);
void rpc_h_mute(struct req *r);
void rpc_h_listen(struct req *r);
void rpc_h_hands_down(struct req *r);
/* chat {"text"} from anyone but observers; chat_mode {"classrooms": bool} by the teacher
 * (lesson/chat.c). */
void rpc_h_chat(struct req *r);
void rpc_h_chat_mode(struct req *r);
/* quiz {"question","options":[...]} or {"close":true} by the teacher; quiz_answer
 * {"choice"} by a classroom (lesson/quiz.c). */
void rpc_h_quiz(struct req *r);
void rpc_h_quiz_answer(struct req *r);
/* subscribe's "tracks" {mid: track id | null | "stage" | "stage:N" | "teacher" |
 * "classroom:<id>"}: fills hints (returns their number) and *lines with the lines the
 * lesson feeds; -1 after an error reply. */
int rpc_subscribe_hints(struct req *r, struct reg_participant *p, struct cr_mline_hint *hints,
                        struct reg_lines *lines);

#endif
