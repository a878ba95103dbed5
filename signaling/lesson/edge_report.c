/* An edge's report of its classrooms, and global ids: see edge_report.h. */
#include "lesson/edge_report.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static bool local_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > EDGE_LOCAL_ID_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return false;
    return true;
}

static int bad(char *why, size_t cap, const char *what, size_t i)
{
    snprintf(why, cap, "classroom %zu of the report: %s", i, what);
    return -1;
}

/* "sending": {"mic":bool,"camera":bool}, both optional; into *sends. */
static int read_sending(json_t *v, uint8_t *sends)
{
    *sends = 0;
    if (!v)
        return 0;
    json_t *mic = json_object_get(v, "mic"), *cam = json_object_get(v, "camera");
    if (!json_is_object(v) || (mic && !json_is_boolean(mic)) || (cam && !json_is_boolean(cam)))
        return -1;
    *sends = (uint8_t)((json_is_true(mic) ? REG_SENDS_MIC : 0) |
                       (json_is_true(cam) ? REG_SENDS_CAMERA : 0));
    return 0;
}

static int read_one(json_t *v, size_t i, struct edge_classroom *c, char *why, size_t cap)
{
    const char *id = json_string_value(json_object_get(v, "id"));
    const char *name = json_string_value(json_object_get(v, "name"));
    json_t *hand = json_object_get(v, "hand_since_ms");
    if (!json_is_object(v))
        return bad(why, cap, "not an object", i);
    if (!id || !local_id_ok(id))
        return bad(why, cap, "\"id\" must be 1 to 24 of [A-Za-z0-9_-]", i);
    if (!name || strlen(name) >= sizeof c->name || !reg_name_ok(name))
        return bad(why, cap, "\"name\" must be text of at most 64 characters", i);
    if (hand && !json_is_null(hand) && (!json_is_integer(hand) || json_integer_value(hand) <= 0))
        return bad(why, cap, "\"hand_since_ms\" must be a positive integer or null", i);
    if (read_sending(json_object_get(v, "sending"), &c->sends) != 0)
        return bad(why, cap, "\"sending\" must be {\"mic\":bool,\"camera\":bool}", i);
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->hand_since_ms = json_is_integer(hand) ? json_integer_value(hand) : 0;
    return 0;
}

static bool duplicate(const struct edge_report *r, const char *id)
{
    for (unsigned i = 0; i < r->n; i++)
        if (strcmp(r->c[i].id, id) == 0)
            return true;
    return false;
}

int edge_report_parse(const char *buf, size_t len, struct edge_report *out, char *why, size_t cap)
{
    out->n = 0;
    if (len > EDGE_REPORT_MAX) {
        snprintf(why, cap, "a report is at most %d bytes", EDGE_REPORT_MAX);
        return -1;
    }
    json_error_t err;
    json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    json_t *list = json_object_get(v, "classrooms");
    int rc = -1;
    if (!v)
        snprintf(why, cap, "the report is not JSON: %s", err.text);
    else if (!json_is_array(list))
        snprintf(why, cap, "the report must be {\"classrooms\":[...]}");
    else if (json_array_size(list) > EDGE_CLASSROOMS_MAX)
        snprintf(why, cap, "a report lists at most %d classrooms", EDGE_CLASSROOMS_MAX);
    else
        rc = 0;
    size_t i;
    json_t *c;
    json_array_foreach(rc == 0 ? list : NULL, i, c)
    {
        rc = read_one(c, i, &out->c[out->n], why, cap);
        if (rc == 0 && duplicate(out, out->c[out->n].id))
            rc = bad(why, cap, "listed twice", i);
        if (rc != 0)
            break;
        out->n++;
    }
    json_decref(v);
    if (rc != 0)
        out->n = 0;
    return rc;
}

int edge_id_make(const char *node, const char *local, char *out, size_t cap)
{
    int w = snprintf(out, cap, "%.*s.%s", EDGE_PREFIX_LEN, node, local);
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}

const char *edge_id_local(const char *node, const char *global)
{
    size_t n = strnlen(node, EDGE_PREFIX_LEN);
    if (n == 0 || strncmp(node, global, n) != 0 || global[n] != '.' || !global[n + 1])
        return NULL;
    return global + n + 1;
}

bool edge_id_ok(const char *s)
{
    for (int i = 0; i < EDGE_PREFIX_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[EDGE_PREFIX_LEN] == '.' && local_id_ok(s + EDGE_PREFIX_LEN + 1);
}
