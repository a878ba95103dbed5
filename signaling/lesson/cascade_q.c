/* The cascade's thread: see cascade_q.h. */
#include "lesson/cascade_q.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "lesson/evq.h"
#include "cluster/node_http.h"

#define CALL_TIMEOUT_MS 3000

static void job_free(struct cascade_job *j)
{
    free(j->token);
    free(j->body);
    free(j);
}

static void run(struct cascade_q *q, struct cascade_job *j)
{
    struct http_client_req req = {.base = j->base,
                                  .method = j->method,
                                  .path = j->path,
                                  .token = j->token,
                                  .type = j->body ? j->type : NULL,
                                  .body = j->body,
                                  .body_len = j->body ? strlen(j->body) : 0,
                                  .timeout_ms = CALL_TIMEOUT_MS};
    struct http_client_resp resp;
    char err[256];
    struct evq_item *it = CR_NEW(struct evq_item);
    it->type = EVQ_CASCADE;
    snprintf(it->room, sizeof it->room, "%s", j->room);
    snprintf(it->label, sizeof it->label, "%s", j->label);
    if (http_client_do(&req, &resp, err, sizeof err) == 0) {
        it->status = resp.status;
        it->line = resp.body;
    } else {
        it->status = -1;
        it->line = cr_strdup(err);
    }
    evq_push(q->srv->evq, it);
    lws_cancel_service(q->srv->lws);
}

static void *loop(void *arg)
{
    struct cascade_q *q = arg;
    pthread_mutex_lock(&q->lock);
    while (!q->stop) {
        struct cascade_job *j = q->head;
        if (!j) {
            pthread_cond_wait(&q->wake, &q->lock);
            continue;
        }
        q->head = j->next;
        if (!q->head)
            q->tail = NULL;
        q->n--;
        pthread_mutex_unlock(&q->lock);
        run(q, j);
        job_free(j);
        pthread_mutex_lock(&q->lock);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

int cascade_q_start(struct cascade_q *q, struct server *srv)
{
    memset(q, 0, sizeof *q);
    q->srv = srv;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->wake, NULL);
    if (pthread_create(&q->thread, NULL, loop, q) != 0)
        return -1;
    q->started = true;
    return 0;
}

void cascade_q_stop(struct cascade_q *q)
{
    if (!q->started)
        return;
    pthread_mutex_lock(&q->lock);
    q->stop = true;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
    pthread_join(q->thread, NULL);
    while (q->head) {
        struct cascade_job *j = q->head;
        q->head = j->next;
        job_free(j);
    }
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->wake);
    q->started = false;
}

bool cascade_q_post(struct cascade_q *q, struct cascade_job *job)
{
    pthread_mutex_lock(&q->lock);
    bool ok = q->started && !q->stop && q->n < CASCADE_Q_MAX;
    if (ok) {
        job->next = NULL;
        if (q->tail)
            q->tail->next = job;
        else
            q->head = job;
        q->tail = job;
        q->n++;
        pthread_cond_signal(&q->wake);
    }
    pthread_mutex_unlock(&q->lock);
    if (!ok)
        job_free(job);
    return ok;
}
