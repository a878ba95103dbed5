/* Pure schedule arithmetic (sched.h): occurrences of a lesson under its weekly recurrence,
 * overlap between two lessons, lesson windows, and the iCalendar text of a set of lessons.
 *
 * A rule's occurrence k (0 <= k < sched_count) is [start + k·W, end + k·W) with W one week;
 * it exists while start + k·W <= until (inclusive), at most SCHED_MAX_OCCURRENCES of them.
 * Rules whose times lie outside years 1970..9999 are refused by sched_rule_invalid and
 * treated here as a single occurrence [start, end), so no sum can overflow whatever the
 * input. sched_overlap solves the overlap of two weekly series for the week offset instead
 * of comparing every pair of occurrences.
 *
 * iCalendar: RFC 5545 §3.4 (VCALENDAR), §3.6.1 (VEVENT), §3.3.5 (DATE-TIME in UTC form),
 * §3.3.10 (RRULE), §3.3.11 (TEXT escaping), §3.1 (line folding, CRLF). This file knows
 * nothing of lessons in the database (store.h) or of HTTP. */
#include "store/sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"

/* 0001-01-01 is not wanted and 10000-01-01 does not fit DTSTART's four-digit year. */
#define SCHED_MIN_MS 0LL
#define SCHED_MAX_MS 253402300800000LL /* 10000-01-01T00:00:00Z */

static bool in_range(int64_t t) { return t >= SCHED_MIN_MS && t < SCHED_MAX_MS; }

static bool rule_in_range(const struct sched_rule *r)
{
    return in_range(r->start_ms) && in_range(r->end_ms) &&
           (r->until_ms == 0 || in_range(r->until_ms));
}

/* Occurrences the rule describes, without the cap; 1 for a single lesson or a rule out of
 * range. */
static int64_t count_uncapped(const struct sched_rule *r)
{
    if (r->until_ms == 0 || !rule_in_range(r) || r->until_ms < r->start_ms)
        return 1;
    return (r->until_ms - r->start_ms) / SCHED_WEEK_MS + 1;
}

int sched_count(const struct sched_rule *r)
{
    int64_t n = count_uncapped(r);
    return n > SCHED_MAX_OCCURRENCES ? SCHED_MAX_OCCURRENCES : (int)n;
}

/* Occurrence k < sched_count(r): only a rule in range has k > 0, so nothing overflows. */
static struct sched_span occurrence(const struct sched_rule *r, int k)
{
    struct sched_span s = {r->start_ms, r->end_ms};
    if (k > 0) {
        s.start_ms += k * SCHED_WEEK_MS;
        s.end_ms += k * SCHED_WEEK_MS;
    }
    return s;
}

int64_t sched_last_end(const struct sched_rule *r)
{
    return occurrence(r, sched_count(r) - 1).end_ms;
}

const char *sched_rule_invalid(const struct sched_rule *r)
{
    if (!in_range(r->start_ms) || !in_range(r->end_ms))
        return "the lesson's times must lie between the years 1970 and 9999";
    if (r->end_ms <= r->start_ms)
        return "the lesson must end after it starts";
    if (r->end_ms - r->start_ms > SCHED_MAX_LENGTH_MS)
        return "a lesson lasts at most 12 hours";
    if (r->until_ms != 0 && !in_range(r->until_ms))
        return "the repetition must end between the years 1970 and 9999";
    if (r->until_ms != 0 && r->until_ms < r->start_ms)
        return "a weekly lesson must repeat until a time after its first start";
    if (count_uncapped(r) > SCHED_MAX_OCCURRENCES)
        return "a weekly lesson repeats at most 52 times";
    return NULL;
}

int sched_expand(const struct sched_rule *r, int64_t from_ms, int64_t to_ms, struct sched_span *out,
                 int max)
{
    int n = sched_count(r), found = 0;
    for (int k = 0; k < n; k++) {
        struct sched_span s = occurrence(r, k);
        if (s.start_ms >= to_ms)
            break;
        if (s.end_ms <= from_ms)
            continue;
        if (out && found < max)
            out[found] = s;
        found++;
    }
    return found;
}

/* Floor of a / b for b > 0. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* Both rules in range: occurrence i of a, [sa + iW, sa + iW + la), overlaps occurrence j of
 * b, [sb + jW, sb + jW + lb), exactly when (sa - sb) - lb < (j - i)·W < (sa - sb) + la.
 * Every week offset d = j - i in that open interval (one, for lessons under a day) gives
 * the pairs (i, i + d); the earliest by a's start is i = max(0, -d). */
static bool overlap_weekly(const struct sched_rule *a, const struct sched_rule *b, int *ia, int *ib)
{
    int na = sched_count(a), nb = sched_count(b);
    int64_t d0 = a->start_ms - b->start_ms;
    int64_t la = a->end_ms - a->start_ms, lb = b->end_ms - b->start_ms;
    if (la <= 0 || lb <= 0)
        return false;                                   /* an empty occurrence overlaps nothing */
    int64_t lo = floor_div(d0 - lb, SCHED_WEEK_MS) + 1; /* least d with dW > d0 - lb */
    int64_t hi = -floor_div(-(d0 + la), SCHED_WEEK_MS) - 1; /* most d with dW < d0 + la */
    if (lo < -(na - 1))
        lo = -(na - 1);
    if (hi > nb - 1)
        hi = nb - 1;
    bool found = false;
    for (int64_t d = lo; d <= hi; d++) {
        int i = d < 0 ? (int)-d : 0;
        if (!found || i < *ia) { /* ascending d: on a tie the earlier b stays */
            *ia = i;
            *ib = i + (int)d;
            found = true;
        }
    }
    return found;
}

/* Any rule: every pair, at most 52 × 52 (only for rules out of range, which have one). */
static bool overlap_pairs(const struct sched_rule *a, const struct sched_rule *b, int *ia, int *ib)
{
    int na = sched_count(a), nb = sched_count(b);
    for (int i = 0; i < na; i++) {
        struct sched_span x = occurrence(a, i);
        for (int j = 0; j < nb; j++) {
            struct sched_span y = occurrence(b, j);
            if (x.start_ms < y.end_ms && y.start_ms < x.end_ms && x.start_ms < x.end_ms &&
                y.start_ms < y.end_ms) {
                *ia = i;
                *ib = j;
                return true;
            }
        }
    }
    return false;
}

bool sched_overlap(const struct sched_rule *a, const struct sched_rule *b, struct sched_span *a_occ,
                   struct sched_span *b_occ)
{
    int ia = 0, ib = 0;
    bool hit = rule_in_range(a) && rule_in_range(b) ? overlap_weekly(a, b, &ia, &ib)
                                                    : overlap_pairs(a, b, &ia, &ib);
    if (hit && a_occ)
        *a_occ = occurrence(a, ia);
    if (hit && b_occ)
        *b_occ = occurrence(b, ib);
    return hit;
}

/* The window of an occurrence, [start - early, end + late), saturating at the int64 ends. */
static int64_t sat_sub(int64_t t, int64_t d)
{
    if (d > 0 && t < INT64_MIN + d)
        return INT64_MIN;
    if (d < 0 && t > INT64_MAX + d)
        return INT64_MAX;
    return t - d;
}

static int64_t sat_add(int64_t t, int64_t d)
{
    if (d > 0 && t > INT64_MAX - d)
        return INT64_MAX;
    if (d < 0 && t < INT64_MIN - d)
        return INT64_MIN;
    return t + d;
}

bool sched_window_at(const struct sched_rule *r, int64_t now_ms, int64_t early_ms, int64_t late_ms,
                     struct sched_span *occ)
{
    int n = sched_count(r);
    bool found = false;
    for (int k = 0; k < n; k++) {
        struct sched_span s = occurrence(r, k);
        if (sat_sub(s.start_ms, early_ms) > now_ms)
            break; /* later windows open later still */
        if (now_ms < sat_add(s.end_ms, late_ms)) {
            if (occ)
                *occ = s; /* keep going: a later-starting window wins */
            found = true;
        }
    }
    return found;
}

bool sched_next(const struct sched_rule *r, int64_t now_ms, int64_t early_ms,
                struct sched_span *occ)
{
    int n = sched_count(r);
    for (int k = 0; k < n; k++) {
        struct sched_span s = occurrence(r, k);
        if (sat_sub(s.start_ms, early_ms) > now_ms) {
            if (occ)
                *occ = s;
            return true;
        }
    }
    return false;
}

/* ---- iCalendar (RFC 5545) ---- */

#define ICAL_LINE_OCTETS 75 /* §3.1: excluding the CRLF */

struct buf {
    char *p; /* owned */
    size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap)
            b->cap = b->cap ? 2 * b->cap : 1024;
        b->p = cr_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* §3.1: a content line of more than 75 octets is split by CRLF and one space, which counts
 * on the continuation line; never inside a UTF-8 sequence (a continuation byte is
 * 10xxxxxx). Adds the line and its CRLF. */
static void add_folded(struct buf *out, const char *line, size_t len)
{
    size_t room = ICAL_LINE_OCTETS;
    while (len > room) {
        size_t cut = room;
        for (int back = 0; back < 3 && cut > 1 && ((unsigned char)line[cut] & 0xC0) == 0x80; back++)
            cut--;
        buf_add(out, line, cut);
        buf_add(out, "\r\n ", 3);
        line += cut;
        len -= cut;
        room = ICAL_LINE_OCTETS - 1;
    }
    buf_add(out, line, len);
    buf_add(out, "\r\n", 2);
}

/* §3.3.11: backslash, semicolon and comma escaped, a line break (CRLF, LF or CR) as "\n";
 * other control characters, which TEXT may not hold, dropped. */
static void add_text(struct buf *line, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\' || c == ';' || c == ',') {
            char esc[2] = {'\\', (char)c};
            buf_add(line, esc, 2);
        } else if (c == '\r' || c == '\n') {
            buf_add(line, "\\n", 2);
            if (c == '\r' && s[1] == '\n')
                s++;
        } else if ((c >= 0x20 && c != 0x7F) || c == '\t') { /* TSAFE-CHAR, WSP */
            buf_add(line, s, 1);
        }
    }
}

/* A URI value (URL, §3.3.13) is not escaped; control characters are dropped. */
static void add_uri(struct buf *line, const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s > 0x20 && *s != 0x7F)
            buf_add(line, s, 1);
    }
}

/* §3.3.5 form #2, UTC: 20261208T010000Z. */
static void add_utc(struct buf *line, int64_t ms)
{
    time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0)); /* floor: -1 ms is 23:59:59 */
    struct tm tm;
    char s[80]; /* 16 used; room for any int as the compiler counts */
    if (!gmtime_r(&t, &tm))
        memset(&tm, 0, sizeof tm);
    snprintf(s, sizeof s, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    buf_add(line, s, strlen(s));
}

/* One property: "NAME:" and value text put together by the caller in line, then folded. */
static void emit(struct buf *out, struct buf *line)
{
    add_folded(out, line->p ? line->p : "", line->len);
    line->len = 0;
}

static void start(struct buf *line, const char *name)
{
    buf_add(line, name, strlen(name));
    buf_add(line, ":", 1);
}

static void add_event(struct buf *out, struct buf *line, const char *host,
                      const struct sched_event *ev)
{
    char uid[64];
    add_folded(out, "BEGIN:VEVENT", 12);
    snprintf(uid, sizeof uid, "lesson-%lld@", (long long)ev->id);
    start(line, "UID");
    buf_add(line, uid, strlen(uid));
    add_text(line, host);
    emit(out, line);
    /* without a METHOD, DTSTAMP is the revision time, as LAST-MODIFIED (§3.8.7.2) */
    start(line, "DTSTAMP");
    add_utc(line, ev->updated_ms);
    emit(out, line);
    start(line, "DTSTART");
    add_utc(line, ev->rule.start_ms);
    emit(out, line);
    start(line, "DTEND");
    add_utc(line, ev->rule.end_ms);
    emit(out, line);
    if (ev->rule.until_ms != 0 && sched_count(&ev->rule) > 1) {
        /* §3.3.10: UNTIL in UTC like DTSTART, inclusive; the last start is exactly it */
        start(line, "RRULE");
        buf_add(line, "FREQ=WEEKLY;UNTIL=", 18);
        add_utc(line, occurrence(&ev->rule, sched_count(&ev->rule) - 1).start_ms);
        emit(out, line);
    }
    start(line, "SUMMARY");
    add_text(line, ev->title);
    emit(out, line);
    if (ev->detail && ev->detail[0]) {
        start(line, "DESCRIPTION");
        add_text(line, ev->detail);
        emit(out, line);
    }
    if (ev->url && ev->url[0]) {
        start(line, "URL");
        add_uri(line, ev->url);
        emit(out, line);
    }
    start(line, "LAST-MODIFIED");
    add_utc(line, ev->updated_ms);
    emit(out, line);
    add_folded(out, "END:VEVENT", 10);
}

char *sched_ical(const char *name, const char *host, const struct sched_event *events, int n)
{
    struct buf out = {0}, line = {0};
    add_folded(&out, "BEGIN:VCALENDAR", 15);
    add_folded(&out, "VERSION:2.0", 11);
    add_folded(&out, "PRODID:-//ClassRelay//Schedule//EN", 34);
    add_folded(&out, "CALSCALE:GREGORIAN", 18);
    start(&line, "X-WR-CALNAME");
    add_text(&line, name);
    emit(&out, &line);
    for (int i = 0; i < n; i++)
        add_event(&out, &line, host ? host : "classrelay", &events[i]);
    add_folded(&out, "END:VCALENDAR", 13);
    free(line.p);
    return out.p;
}
