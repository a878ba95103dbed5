/* The Prometheus text exposition format, version 0.0.4: see prom_text.h. */
#include "front/prom_text.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

void prom_init(struct prom *p)
{
    strbuf_init(&p->out);
    p->family = NULL;
}

char *prom_take(struct prom *p, size_t *len)
{
    *len = p->out.len;
    p->family = NULL;
    char *s = strbuf_take(&p->out);
    return s ? s : cr_strdup("");
}

/* Names are ours, constants: [a-zA-Z_:][a-zA-Z0-9_:]*; another is a bug, caught by the
 * first scrape of any test. */
static void check_name(const char *name)
{
    const char *s = name;
    bool ok = *s && !(*s >= '0' && *s <= '9');
    for (; ok && *s; s++)
        ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
             *s == '_' || *s == ':';
    if (!ok) {
        fprintf(stderr, "prom_text: invalid metric or label name \"%s\"\n", name);
        abort();
    }
}

void prom_escape(struct strbuf *out, const char *s, int help)
{
    for (const char *run = s;; s++) {
        const char *esc = *s == '\\'           ? "\\\\"
                          : *s == '\n'         ? "\\n"
                          : *s == '"' && !help ? "\\\""
                                               : NULL;
        if (!esc && *s)
            continue;
        strbuf_append(out, run, (size_t)(s - run));
        if (!*s)
            return;
        strbuf_puts(out, esc);
        run = s + 1;
    }
}

void prom_family(struct prom *p, const char *name, const char *type, const char *help)
{
    check_name(name);
    p->family = name;
    strbuf_printf(&p->out, "# HELP %s ", name);
    prom_escape(&p->out, help, 1);
    strbuf_printf(&p->out, "\n# TYPE %s %s\n", name, type);
}

/* name{a="x",b="y"} (suffix: "_bucket", "_sum", "_count" or ""); le, if given, last. */
static void sample_head(struct prom *p, const char *suffix, const struct prom_label *labels,
                        size_t n, const char *le)
{
    assert(p->family && n <= PROM_MAX_LABELS);
    strbuf_printf(&p->out, "%s%s", p->family, suffix);
    if (!n && !le)
        return;
    strbuf_puts(&p->out, "{");
    for (size_t i = 0; i < n; i++) {
        check_name(labels[i].name);
        strbuf_printf(&p->out, "%s%s=\"", i ? "," : "", labels[i].name);
        prom_escape(&p->out, labels[i].value, 0);
        strbuf_puts(&p->out, "\"");
    }
    if (le)
        strbuf_printf(&p->out, "%sle=\"%s\"", n ? "," : "", le);
    strbuf_puts(&p->out, "}");
}

/* A float as the format takes it: Go's ParseFloat syntax, and +Inf, -Inf, NaN. */
static void put_double(struct strbuf *out, double v)
{
    if (isnan(v))
        strbuf_puts(out, "NaN");
    else if (isinf(v))
        strbuf_puts(out, v > 0 ? "+Inf" : "-Inf");
    else
        strbuf_printf(out, "%.10g", v);
}

void prom_uint(struct prom *p, const struct prom_label *labels, size_t n, uint64_t value)
{
    sample_head(p, "", labels, n, NULL);
    strbuf_printf(&p->out, " %" PRIu64 "\n", value);
}

void prom_double(struct prom *p, const struct prom_label *labels, size_t n, double value)
{
    sample_head(p, "", labels, n, NULL);
    strbuf_puts(&p->out, " ");
    put_double(&p->out, value);
    strbuf_puts(&p->out, "\n");
}

void prom_histogram(struct prom *p, const struct prom_label *labels, size_t n,
                    const uint32_t *bounds, size_t n_bounds, const uint64_t *counts, double sum,
                    double scale)
{
    uint64_t seen = 0;
    for (size_t i = 0; i <= n_bounds; i++) {
        seen += counts[i];
        struct strbuf le;
        strbuf_init(&le);
        if (i < n_bounds)
            put_double(&le, (double)bounds[i] * scale);
        else
            strbuf_puts(&le, "+Inf");
        sample_head(p, "_bucket", labels, n, le.s);
        strbuf_free(&le);
        strbuf_printf(&p->out, " %" PRIu64 "\n", seen);
    }
    sample_head(p, "_sum", labels, n, NULL);
    strbuf_puts(&p->out, " ");
    put_double(&p->out, sum * scale);
    strbuf_puts(&p->out, "\n");
    sample_head(p, "_count", labels, n, NULL);
    strbuf_printf(&p->out, " %" PRIu64 "\n", seen);
}

void prom_counter(struct prom *p, const char *name, const char *help, uint64_t value)
{
    prom_family(p, name, "counter", help);
    prom_uint(p, NULL, 0, value);
}

void prom_gauge(struct prom *p, const char *name, const char *help, double value)
{
    prom_family(p, name, "gauge", help);
    prom_double(p, NULL, 0, value);
}
