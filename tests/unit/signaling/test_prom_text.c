/* Tests signaling/front/prom_text.c, the Prometheus text format 0.0.4: HELP and TYPE lines,
 * escaping of label values and help text, integer and float samples, and histograms with
 * cumulative buckets, +Inf, _sum and _count. The access rule of /metrics
 * (front/metrics.c, metrics_allowed) is tested here too: it reads only the handle. */
#include <math.h>
#include <stdlib.h>

#include "front/metrics.h"
#include "front/prom_text.h"
#include "test.h"

static char *finish(struct prom *p)
{
    size_t len;
    char *s = prom_take(p, &len);
    CHECK_EQ(len, strlen(s));
    return s;
}

static void test_counter_and_escaping(void)
{
    struct prom p;
    prom_init(&p);
    prom_counter(&p, "classrelay_x_total", "Lines \\ and\nnewlines \"kept\".", 42);
    prom_family(&p, "classrelay_y", "gauge", "Y.");
    prom_uint(&p, (struct prom_label[]){{"a", "q\"uote"}, {"b", "back\\slash\nnl"}}, 2, 7);
    prom_double(&p, &(struct prom_label){"c", "é"}, 1, 0.25);
    prom_double(&p, NULL, 0, INFINITY);
    prom_double(&p, NULL, 0, NAN);
    char *s = finish(&p);
    CHECK_STR(s, "# HELP classrelay_x_total Lines \\\\ and\\nnewlines \"kept\".\n"
                 "# TYPE classrelay_x_total counter\n"
                 "classrelay_x_total 42\n"
                 "# HELP classrelay_y Y.\n"
                 "# TYPE classrelay_y gauge\n"
                 "classrelay_y{a=\"q\\\"uote\",b=\"back\\\\slash\\nnl\"} 7\n"
                 "classrelay_y{c=\"é\"} 0.25\n"
                 "classrelay_y +Inf\n"
                 "classrelay_y NaN\n");
    free(s);
}

static void test_histogram(void)
{
    struct prom p;
    prom_init(&p);
    static const uint32_t bounds[3] = {50, 100, 200}; /* ms */
    static const uint64_t counts[4] = {1, 0, 2, 3};   /* per bucket; the last above 200 */
    prom_family(&p, "classrelay_t_seconds", "histogram", "T.");
    prom_histogram(&p, &(struct prom_label){"stage", "ice"}, 1, bounds, 3, counts, 1500, 1e-3);
    prom_histogram(&p, NULL, 0, bounds, 3, counts, 0, 1);
    char *s = finish(&p);
    CHECK_STR(s, "# HELP classrelay_t_seconds T.\n"
                 "# TYPE classrelay_t_seconds histogram\n"
                 "classrelay_t_seconds_bucket{stage=\"ice\",le=\"0.05\"} 1\n"
                 "classrelay_t_seconds_bucket{stage=\"ice\",le=\"0.1\"} 1\n"
                 "classrelay_t_seconds_bucket{stage=\"ice\",le=\"0.2\"} 3\n"
                 "classrelay_t_seconds_bucket{stage=\"ice\",le=\"+Inf\"} 6\n"
                 "classrelay_t_seconds_sum{stage=\"ice\"} 1.5\n"
                 "classrelay_t_seconds_count{stage=\"ice\"} 6\n"
                 "classrelay_t_seconds_bucket{le=\"50\"} 1\n"
                 "classrelay_t_seconds_bucket{le=\"100\"} 1\n"
                 "classrelay_t_seconds_bucket{le=\"200\"} 3\n"
                 "classrelay_t_seconds_bucket{le=\"+Inf\"} 6\n"
                 "classrelay_t_seconds_sum 0\n"
                 "classrelay_t_seconds_count 6\n");
    free(s);
}

static void test_empty(void)
{
    struct prom p;
    prom_init(&p);
    char *s = finish(&p);
    CHECK_STR(s, "");
    free(s);
}

static void test_access(void)
{
    struct config cfg = {0};
    struct server srv = {.cfg = &cfg};
    struct lws_vhost *main_vh = (struct lws_vhost *)&cfg, *metrics_vh = (struct lws_vhost *)&srv;
    /* closed without a token and without a metrics address */
    CHECK(!metrics_allowed(&srv, main_vh, NULL));
    CHECK(!metrics_allowed(&srv, main_vh, "Bearer "));
    CHECK(!metrics_allowed(&srv, NULL, NULL)); /* no metrics vhost: NULL is not it */
    strcpy(cfg.metrics_token, "s3cret");
    CHECK(metrics_allowed(&srv, main_vh, "Bearer s3cret"));
    CHECK(metrics_allowed(&srv, main_vh, "bearer  s3cret"));
    CHECK(!metrics_allowed(&srv, main_vh, "Bearer s3cre"));
    CHECK(!metrics_allowed(&srv, main_vh, "Bearer s3cretX"));
    CHECK(!metrics_allowed(&srv, main_vh, "Basic s3cret"));
    CHECK(!metrics_allowed(&srv, main_vh, NULL));
    /* open on its own address, token or not */
    srv.metrics_vhost = metrics_vh;
    CHECK(metrics_allowed(&srv, metrics_vh, NULL));
    CHECK(!metrics_allowed(&srv, main_vh, NULL));
}

int main(void)
{
    test_counter_and_escaping();
    test_histogram();
    test_empty();
    test_access();
    return test_report();
}
