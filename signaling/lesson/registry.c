/* Rooms, participants, WHIP/WHEP resources and the peer → owner lookup: see registry.h.
 * Resource ids are 64 random bits from getrandom(2), so a Location URL cannot be guessed
 * from another one. */
#include "lesson/registry.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/alloc.h"

void reg_init(struct registry *reg) { memset(reg, 0, sizeof *reg); }

void reg_clear(struct registry *reg)
{
    while (reg->rooms)
        reg_room_remove(reg, reg->rooms);
}

bool reg_room_name_ok(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++) {
        unsigned char c = (unsigned char)name[n];
        if (n >= REG_ROOM_MAX || !(isalnum(c) || c == '_' || c == '-'))
            return false;
    }
    return n > 0;
}

struct reg_room *reg_room_find(struct registry *reg, const char *name)
{
    for (struct reg_room *r = reg->rooms; r; r = r->next) {
        if (strcmp(r->name, name) == 0)
            return r;
    }
    return NULL;
}

bool reg_name_ok(const char *name)
{
    size_t chars = 0;
    const unsigned char *p = (const unsigned char *)name;
    while (*p) {
        unsigned c = *p, more = c < 0x80             ? 0
                                : (c & 0xe0) == 0xc0 ? 1
                                : (c & 0xf0) == 0xe0 ? 2
                                : (c & 0xf8) == 0xf0 ? 3
                                                     : 4;
        if (more > 3 || c < 0x20 || c == 0x7f || (more == 1 && c < 0xc2))
            return false;
        for (unsigned i = 1; i <= more; i++)
            if ((p[i] & 0xc0) != 0x80)
                return false;
        p += more + 1;
        chars++;
    }
    return chars <= REG_NAME_MAX;
}

struct reg_room *reg_room_add(struct registry *reg, const char *name)
{
    struct reg_room *room = CR_NEW(struct reg_room);
    snprintf(room->name, sizeof room->name, "%s", name);
    stage_init(&room->stage, STAGE_LIMIT_DEFAULT);
    room->next = reg->rooms;
    reg->rooms = room;
    reg->n_rooms++;
    return room;
}

void reg_room_remove(struct registry *reg, struct reg_room *room)
{
    for (struct reg_room **pp = &reg->rooms; *pp; pp = &(*pp)->next) {
        if (*pp == room) {
            *pp = room->next;
            reg->n_rooms--;
            break;
        }
    }
    while (room->resources)
        reg_resource_remove(room->resources);
    for (struct reg_participant *p = room->participants; p; p = p->next)
        p->room = NULL;
    free(room);
}

bool reg_room_empty(const struct reg_room *room) { return !room->participants && !room->resources; }

void reg_participant_add(struct registry *reg, struct reg_room *room, struct reg_participant *p)
{
    snprintf(p->id, sizeof p->id, "p%llu", (unsigned long long)++reg->next_participant);
    p->room = room;
    p->next = room->participants;
    room->participants = p;
    room->n_participants++;
}

void reg_participant_remove(struct reg_participant *p)
{
    struct reg_room *room = p->room;
    if (!room)
        return;
    for (struct reg_participant **pp = &room->participants; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            room->n_participants--;
            break;
        }
    }
    p->room = NULL;
    p->next = NULL;
}

struct reg_participant *reg_participant_find(struct reg_room *room, const char *id)
{
    for (struct reg_participant *p = room->participants; p; p = p->next) {
        if (strcmp(p->id, id) == 0)
            return p;
    }
    return NULL;
}

struct reg_resource *reg_resource_add(struct reg_room *room, bool whep)
{
    struct reg_resource *r = CR_NEW(struct reg_resource);
    uint8_t rnd[8] = {0};
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        /* getrandom cannot fail for 8 bytes once the pool is ready; fall back anyway */
        static uint64_t counter;
        uint64_t c = ++counter ^ (uint64_t)(uintptr_t)r;
        memcpy(rnd, &c, sizeof rnd);
    }
    char *o = r->id;
    *o++ = whep ? 'e' : 'w';
    for (size_t i = 0; i < sizeof rnd; i++)
        o += sprintf(o, "%02x", rnd[i]);
    r->whep = whep;
    r->room = room;
    r->next = room->resources;
    room->resources = r;
    room->n_resources++;
    return r;
}

struct reg_resource *reg_resource_find(struct reg_room *room, const char *id, bool whep)
{
    for (struct reg_resource *r = room->resources; r; r = r->next) {
        if (r->whep == whep && strcmp(r->id, id) == 0)
            return r;
    }
    return NULL;
}

void reg_lines_keep(struct reg_lines *dst, const struct reg_lines *src)
{
    reg_lines_clear(dst);
    if (!src->n)
        return;
    dst->line = cr_malloc(src->n * sizeof *dst->line);
    memcpy(dst->line, src->line, src->n * sizeof *dst->line);
    dst->n = src->n;
}

void reg_lines_clear(struct reg_lines *lines)
{
    free(lines->line);
    lines->line = NULL;
    lines->n = 0;
}

void reg_resource_remove(struct reg_resource *r)
{
    struct reg_room *room = r->room;
    for (struct reg_resource **pp = &room->resources; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            room->n_resources--;
            break;
        }
    }
    reg_lines_clear(&r->lines);
    free(r);
}

bool reg_find_peer(struct registry *reg, uint64_t peer_id, struct reg_owner *out)
{
    memset(out, 0, sizeof *out);
    if (peer_id == 0)
        return false;
    for (struct reg_room *room = reg->rooms; room; room = room->next) {
        for (struct reg_participant *p = room->participants; p; p = p->next) {
            for (int t = REG_PUBLISH; t <= REG_SUBSCRIBE; t++) {
                if (p->peers[t].id == peer_id) {
                    out->participant = p;
                    out->target = (enum reg_target)t;
                    out->peer = &p->peers[t];
                    return true;
                }
            }
        }
        for (struct reg_resource *r = room->resources; r; r = r->next) {
            if (r->peer.id == peer_id) {
                out->resource = r;
                out->peer = &r->peer;
                return true;
            }
        }
    }
    return false;
}

const char *reg_role_name(enum reg_role role)
{
    return role == REG_TEACHER ? "teacher" : role == REG_OBSERVER ? "observer" : "classroom";
}

const char *reg_target_name(enum reg_target target)
{
    return target == REG_PUBLISH ? "publish" : "subscribe";
}
