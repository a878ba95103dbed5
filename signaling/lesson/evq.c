/* Relay event queue between threads: see evq.h. */
#include "lesson/evq.h"

#include <stdlib.h>

void evq_init(struct evq *q)
{
    pthread_mutex_init(&q->lock, NULL);
    q->head = q->tail = NULL;
    q->n = 0;
    q->dropped = 0;
}

void evq_item_free(struct evq_item *item)
{
    if (!item)
        return;
    free(item->candidate);
    free(item->line);
    free(item->data);
    free(item);
}

void evq_destroy(struct evq *q)
{
    struct evq_item *it = evq_take_all(q);
    while (it) {
        struct evq_item *next = it->next;
        evq_item_free(it);
        it = next;
    }
    pthread_mutex_destroy(&q->lock);
}

void evq_push(struct evq *q, struct evq_item *item)
{
    item->next = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->n >= EVQ_MAX) {
        q->dropped++;
        pthread_mutex_unlock(&q->lock);
        evq_item_free(item);
        return;
    }
    if (q->tail)
        q->tail->next = item;
    else
        q->head = item;
    q->tail = item;
    q->n++;
    pthread_mutex_unlock(&q->lock);
}

struct evq_item *evq_take_all(struct evq *q)
{
    pthread_mutex_lock(&q->lock);
    struct evq_item *all = q->head;
    q->head = q->tail = NULL;
    q->n = 0;
    pthread_mutex_unlock(&q->lock);
    return all;
}
