/* A writer of the Prometheus text exposition format, version 0.0.4 (docs/metrics.md;
 * https://prometheus.io/docs/instrumenting/exposition_formats/): a family's "# HELP" and
 * "# TYPE" lines, then its samples, each "name{label="value",...} value". Label values are
 * escaped as the format says (backslash, double quote, newline), so is the help text
 * (backslash, newline); a histogram is written as cumulative _bucket{le=...} lines ending
 * at le="+Inf", then _sum and _count. What is exported is front/metrics.c's; this file
 * knows only the format. Pure: unit-tested alone (tests/unit/signaling/test_prom_text.c). */
#ifndef CR_SIGNALING_PROM_TEXT_H
#define CR_SIGNALING_PROM_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define PROM_MAX_LABELS 4

struct prom_label {
    const char *name;  /* [a-zA-Z_][a-zA-Z0-9_]* */
    const char *value; /* any UTF-8, escaped when written */
};

/* The samples of one family share its labels' names; a sample names only its values. */
struct prom {
    struct strbuf out;  /* owned: the text so far */
    const char *family; /* borrowed: the family being written */
};

void prom_init(struct prom *p);
/* Hands the text to the caller (who frees it), its length in *len; resets p. */
char *prom_take(struct prom *p, size_t *len);

/* Starts a family: name (a valid metric name), type "counter", "gauge" or "histogram", and
 * one line of help. */
void prom_family(struct prom *p, const char *name, const char *type, const char *help);
/* One sample of the current family, with n labels (n ≤ PROM_MAX_LABELS). */
void prom_uint(struct prom *p, const struct prom_label *labels, size_t n, uint64_t value);
void prom_double(struct prom *p, const struct prom_label *labels, size_t n, double value);
/* One histogram of the current family: counts[i] (not cumulative) of the samples at or
 * below bounds[i] (ascending, n_bounds of them) and above the one before, and
 * counts[n_bounds] above the last; each bound is written as bounds[i] * scale (a unit
 * change: ms to seconds, per mille to a ratio), and sum too. */
void prom_histogram(struct prom *p, const struct prom_label *labels, size_t n,
                    const uint32_t *bounds, size_t n_bounds, const uint64_t *counts, double sum,
                    double scale);

/* The family and a single sample without labels: the common case. */
void prom_counter(struct prom *p, const char *name, const char *help, uint64_t value);
void prom_gauge(struct prom *p, const char *name, const char *help, double value);

/* Appends s to out escaped as a label value (help: false) or help text (help: true). */
void prom_escape(struct strbuf *out, const char *s, int help);

#endif
