/* One dispatcher for the schedule's plain resources (schools, classrooms, users): the method
 * and path checked, the gate passed, then list, get, create, update or delete through the
 * functions of a struct rsched_resource (rest_sched_priv.h), each change audited. What an
 * entity's JSON looks like, who may touch it and what its store calls are stays with the
 * entity (rest_people.c); lessons, with their conflicts and links, keep their own handler
 * (rest_lessons.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "front/rest_sched_priv.h"

#define COLLECTION_ALLOW "GET, HEAD, POST, OPTIONS"
#define ITEM_ALLOW "GET, HEAD, PUT, DELETE, OPTIONS"

static const char *const op_verb[] = {
    [RSCHED_CREATE] = "create", [RSCHED_UPDATE] = "update", [RSCHED_DELETE] = "delete"};

/* The operation in *op; false after answering 404 or 405. */
static bool which(struct server *srv, struct lws *wsi, struct http_req *req,
                  const struct rsched_path *p, enum rsched_op *op)
{
    bool get = rsched_is_get(req);
    if (p->n == 1) {
        if (get || req->method == LWSHUMETH_POST) {
            *op = get ? RSCHED_LIST : RSCHED_CREATE;
            return true;
        }
        rsched_method(srv, wsi, req, COLLECTION_ALLOW);
    } else if (p->n == 2) {
        if (get || req->method == LWSHUMETH_PUT || req->method == LWSHUMETH_DELETE) {
            *op = get ? RSCHED_GET : req->method == LWSHUMETH_PUT ? RSCHED_UPDATE : RSCHED_DELETE;
            return true;
        }
        rsched_method(srv, wsi, req, ITEM_ALLOW);
    } else {
        http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, "no such API endpoint");
    }
    return false;
}

static int64_t *row_id(const struct rsched_resource *res, void *row)
{
    return (int64_t *)((char *)row + res->id_offset);
}

static void list(struct server *srv, struct lws *wsi, struct http_req *req,
                 const struct rsched_resource *res)
{
    void *rows = NULL;
    int n = 0;
    int rc = res->list(srv, wsi, req, &rows, &n);
    if (rc == RSCHED_ANSWERED)
        return;
    if (rc != 0) {
        rsched_store_err(srv, wsi, req, rc, NULL, res->not_found);
        return;
    }
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, res->to_json((const char *)rows + (size_t)i * res->row_size));
    free(rows);
    rsched_reply(wsi, req, 200, json_pack("{s:o}", res->collection, a));
}

/* The rest of a request on one item or a create, on row (zeroed). */
static void item(struct server *srv, struct lws *wsi, struct http_req *req,
                 const struct rsched_path *p, const struct rsched_resource *res, enum rsched_op op,
                 const struct principal *who, void *row, void *before)
{
    struct store *st = srv->store;
    struct st_err e = {0};
    int64_t *id = row_id(res, row);
    char action[48];
    int rc = 0;
    if (op != RSCHED_CREATE) {
        if (!rsched_id(p->seg[1], id)) {
            http_respond_error(srv, wsi, req, SRV_ERR_NOT_FOUND, res->not_found);
            return;
        }
        if ((rc = res->get(st, *id, row)) != 0)
            goto fail;
    }
    if (op == RSCHED_GET) {
        rsched_reply(wsi, req, 200, res->to_json(row));
        return;
    }
    snprintf(action, sizeof action, "%s_%s", res->kind, op_verb[op]);
    if (op == RSCHED_DELETE) {
        if (res->allow && !res->allow(srv, wsi, req, op, who, row, row))
            return;
        if ((rc = res->del(st, *id, &e)) != 0)
            goto fail;
        res->audit(srv, who, action, op, row);
        rsched_no_content(wsi, req);
        return;
    }
    memcpy(before, row, res->row_size);
    if (!res->from_json(srv, wsi, req, op, row))
        return;
    if (res->allow && !res->allow(srv, wsi, req, op, who, before, row))
        return;
    if ((rc = res->save(st, op, row, &e)) != 0)
        goto fail;
    res->audit(srv, who, action, op, row);
    if (res->reread)
        res->reread(st, row);
    json_t *v = res->to_json(row);
    if (op == RSCHED_CREATE) {
        char loc[64];
        snprintf(loc, sizeof loc, "/api/v1/%s/%" PRId64, res->collection, *id);
        rsched_created(wsi, req, v, loc);
    } else {
        rsched_reply(wsi, req, 200, v);
    }
    return;
fail:
    rsched_store_err(srv, wsi, req, rc, &e, res->not_found);
}

void rsched_resource(struct server *srv, struct lws *wsi, struct http_req *req,
                     const struct rsched_path *p, const struct rsched_resource *res)
{
    enum rsched_op op;
    struct principal who;
    if (!which(srv, wsi, req, p, &op) ||
        !rsched_gate(srv, wsi, req, res->perm(wsi, op), false, &who))
        return;
    if (op == RSCHED_LIST) {
        list(srv, wsi, req, res);
        return;
    }
    void *row = cr_calloc(2, res->row_size); /* the row, and a copy as it was stored */
    item(srv, wsi, req, p, res, op, &who, row, (char *)row + res->row_size);
    free(row);
}
