/* Loading a REST answer's lessons and names: see rest_sched_load.h. */
#include "rest_sched_load.h"

#include <stdlib.h>

bool rsched_lessons_load(struct server *srv, struct lws *wsi, struct http_req *req,
                         const struct st_lesson_filter *f, struct st_lesson **rows, int *n,
                         struct rsched_names *names)
{
    *rows = NULL;
    *n = 0;
    int rc = srv->store->ops->lesson_list(srv->store, f, rows, n);
    if (rc == 0) {
        rc = rsched_names_load(srv->store, names);
        if (rc != 0)
            rsched_names_free(names); /* the users, when the classrooms failed */
    }
    if (rc != 0) {
        free(*rows);
        *rows = NULL;
        rsched_store_err(srv, wsi, req, rc, NULL, "no such lesson");
        return false;
    }
    return true;
}
