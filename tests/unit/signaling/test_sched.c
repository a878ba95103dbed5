/* Tests signaling/sched.c: recurrence expansion (a single lesson, weekly, until inclusive,
 * range clipping, the 52 cap), rule checks, overlap (half-open touching, a weekly series
 * against a single lesson weeks later, series offset by days or by a week, and the week
 * arithmetic against every pair on random rules), lesson windows and the next one with
 * margins, and the iCalendar text (escaping, folding at 75 octets without splitting UTF-8,
 * CRLF, RRULE only for weekly lessons), parsed back. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/sched.h"
#include "test.h"

#define MIN_MS (60LL * 1000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define W SCHED_WEEK_MS

static int64_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) * 1000;
}

/* Tuesday 2026-12-08 09:00–09:45 UTC */
static struct sched_rule lesson(int64_t until)
{
    int64_t s = utc(2026, 12, 8, 9, 0);
    return (struct sched_rule){s, s + 45 * MIN_MS, until};
}

static void test_expand(void)
{
    struct sched_rule once = lesson(0);
    struct sched_span out[SCHED_MAX_OCCURRENCES + 4];
    CHECK_EQ(sched_count(&once), 1);
    CHECK_EQ(sched_last_end(&once), once.end_ms);
    CHECK_EQ(sched_expand(&once, 0, INT64_MAX, out, 4), 1);
    CHECK_EQ(out[0].start_ms, once.start_ms);
    CHECK_EQ(out[0].end_ms, once.end_ms);
    CHECK_EQ(sched_expand(&once, once.end_ms, INT64_MAX, out, 4), 0);     /* touching: out */
    CHECK_EQ(sched_expand(&once, 0, once.start_ms, out, 4), 0);           /* touching: out */
    CHECK_EQ(sched_expand(&once, once.end_ms - 1, INT64_MAX, out, 4), 1); /* last ms: in */
    CHECK(sched_rule_invalid(&once) == NULL);

    /* until inclusive on an occurrence's start */
    struct sched_rule r = lesson(0);
    r.until_ms = r.start_ms + 3 * W;
    CHECK_EQ(sched_count(&r), 4);
    CHECK_EQ(sched_last_end(&r), r.end_ms + 3 * W);
    r.until_ms = r.start_ms + 3 * W - 1;
    CHECK_EQ(sched_count(&r), 3);
    r.until_ms = r.start_ms + 3 * W + DAY_MS;
    CHECK_EQ(sched_count(&r), 4);
    r.until_ms = r.start_ms; /* weekly until its own start: one */
    CHECK_EQ(sched_count(&r), 1);
    CHECK(sched_rule_invalid(&r) == NULL);

    r.until_ms = r.start_ms + 9 * W;
    CHECK_EQ(sched_expand(&r, INT64_MIN, INT64_MAX, out, 20), 10);
    for (int k = 0; k < 10; k++) {
        CHECK_EQ(out[k].start_ms, r.start_ms + k * W);
        CHECK_EQ(out[k].end_ms, r.end_ms + k * W);
    }
    /* clipping: [end of #2, start of #5) holds #3 and #4 */
    CHECK_EQ(sched_expand(&r, r.end_ms + 2 * W, r.start_ms + 5 * W, out, 20), 2);
    CHECK_EQ(out[0].start_ms, r.start_ms + 3 * W);
    CHECK_EQ(out[1].start_ms, r.start_ms + 4 * W);
    /* a range inside a gap between two weeks */
    CHECK_EQ(sched_expand(&r, r.end_ms + W, r.start_ms + 2 * W, out, 20), 0);
    /* more than max: the count is still all of them, only max written */
    out[1].start_ms = -1;
    CHECK_EQ(sched_expand(&r, INT64_MIN, INT64_MAX, out, 1), 10);
    CHECK_EQ(out[1].start_ms, -1);
    CHECK_EQ(sched_expand(&r, INT64_MIN, INT64_MAX, NULL, 0), 10);

    /* the cap */
    r.until_ms = r.start_ms + 51 * W;
    CHECK_EQ(sched_count(&r), 52);
    CHECK(sched_rule_invalid(&r) == NULL);
    CHECK_EQ(sched_expand(&r, INT64_MIN, INT64_MAX, out, SCHED_MAX_OCCURRENCES + 4), 52);
    r.until_ms = r.start_ms + 52 * W;
    CHECK_EQ(sched_count(&r), 52);
    CHECK(sched_rule_invalid(&r) != NULL);
    r.until_ms = INT64_MAX;
    CHECK_EQ(sched_count(&r), 1); /* out of range: treated as one */
    CHECK(sched_rule_invalid(&r) != NULL);
}

static void test_invalid(void)
{
    struct sched_rule r = lesson(0);
    r.end_ms = r.start_ms;
    CHECK(sched_rule_invalid(&r) != NULL);
    r.end_ms = r.start_ms - 1;
    CHECK(sched_rule_invalid(&r) != NULL);
    r.end_ms = r.start_ms + SCHED_MAX_LENGTH_MS;
    CHECK(sched_rule_invalid(&r) == NULL);
    r.end_ms++;
    CHECK(sched_rule_invalid(&r) != NULL);
    r = lesson(0);
    r.until_ms = r.start_ms - 1;
    CHECK(sched_rule_invalid(&r) != NULL);
    r = (struct sched_rule){-HOUR_MS, -1, 0};
    CHECK(sched_rule_invalid(&r) != NULL);
    r = (struct sched_rule){INT64_MAX - 10, INT64_MAX, 0};
    CHECK(sched_rule_invalid(&r) != NULL);
    CHECK_EQ(sched_count(&r), 1);
    CHECK_EQ(sched_last_end(&r), INT64_MAX);
    r = (struct sched_rule){INT64_MIN, INT64_MAX, INT64_MAX};
    CHECK(sched_rule_invalid(&r) != NULL);
    CHECK_EQ(sched_count(&r), 1);
}

/* The first overlapping pair by a's start, then b's, comparing every pair. */
static bool brute_overlap(const struct sched_rule *a, const struct sched_rule *b,
                          struct sched_span *ao, struct sched_span *bo)
{
    struct sched_span x[SCHED_MAX_OCCURRENCES], y[SCHED_MAX_OCCURRENCES];
    int na = sched_expand(a, INT64_MIN, INT64_MAX, x, SCHED_MAX_OCCURRENCES);
    int nb = sched_expand(b, INT64_MIN, INT64_MAX, y, SCHED_MAX_OCCURRENCES);
    for (int i = 0; i < na; i++) {
        for (int j = 0; j < nb; j++) {
            if (x[i].start_ms < y[j].end_ms && y[j].start_ms < x[i].end_ms) {
                *ao = x[i];
                *bo = y[j];
                return true;
            }
        }
    }
    return false;
}

static void test_overlap(void)
{
    struct sched_rule a = lesson(0), b = lesson(0);
    struct sched_span ao, bo;
    /* half-open: 09:00–09:45 and 09:45–10:30 do not clash */
    b.start_ms = a.end_ms;
    b.end_ms = b.start_ms + 45 * MIN_MS;
    CHECK(!sched_overlap(&a, &b, NULL, NULL));
    CHECK(!sched_overlap(&b, &a, NULL, NULL));
    b.start_ms--;
    CHECK(sched_overlap(&a, &b, &ao, &bo));
    CHECK_EQ(ao.start_ms, a.start_ms);
    CHECK_EQ(bo.start_ms, b.start_ms);
    CHECK(sched_overlap(&a, &a, NULL, NULL));

    /* weekly for 10 weeks against one lesson 3 weeks later, half an hour in */
    a.until_ms = a.start_ms + 9 * W;
    b = lesson(0);
    b.start_ms += 3 * W + 30 * MIN_MS;
    b.end_ms = b.start_ms + HOUR_MS;
    CHECK(sched_overlap(&a, &b, &ao, &bo));
    CHECK_EQ(ao.start_ms, a.start_ms + 3 * W);
    CHECK_EQ(bo.start_ms, b.start_ms);
    CHECK(sched_overlap(&b, &a, &bo, &ao)); /* either order */
    CHECK_EQ(ao.start_ms, a.start_ms + 3 * W);
    CHECK_EQ(bo.start_ms, b.start_ms);
    b.start_ms += 7 * W; /* after the series ends */
    b.end_ms += 7 * W;
    CHECK(!sched_overlap(&a, &b, NULL, NULL));
    b.start_ms -= W + DAY_MS; /* inside it, a day off */
    b.end_ms -= W + DAY_MS;
    CHECK(!sched_overlap(&a, &b, NULL, NULL));

    /* two weekly series on Tuesday and Wednesday at the same hour never clash */
    b = a;
    b.start_ms += DAY_MS;
    b.end_ms += DAY_MS;
    b.until_ms += DAY_MS;
    CHECK(!sched_overlap(&a, &b, NULL, NULL));
    b.start_ms -= 2 * DAY_MS; /* Monday */
    b.end_ms -= 2 * DAY_MS;
    CHECK(!sched_overlap(&a, &b, NULL, NULL));
    /* the same weekday a week later: b's first is a's second */
    b = a;
    b.start_ms += W;
    b.end_ms += W;
    b.until_ms += W;
    CHECK(sched_overlap(&a, &b, &ao, &bo));
    CHECK_EQ(ao.start_ms, a.start_ms + W);
    CHECK_EQ(bo.start_ms, b.start_ms);
    CHECK(sched_overlap(&b, &a, &bo, &ao));
    CHECK_EQ(bo.start_ms, b.start_ms);
    CHECK_EQ(ao.start_ms, a.start_ms + W);
    /* b starts the week after a's last: no clash */
    b = a;
    b.start_ms = a.start_ms + 10 * W;
    b.end_ms = a.end_ms + 10 * W;
    b.until_ms = b.start_ms + 4 * W;
    CHECK(!sched_overlap(&a, &b, NULL, NULL));
    b.start_ms -= W;
    b.end_ms -= W;
    CHECK(sched_overlap(&a, &b, &ao, &bo));
    CHECK_EQ(ao.start_ms, a.start_ms + 9 * W);

    /* the week arithmetic against every pair, on random rules */
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    int disagree = 0, hits = 0;
    for (int t = 0; t < 20000; t++) {
        struct sched_rule r[2];
        for (int i = 0; i < 2; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            int64_t start =
                utc(2026, 9, 1, 0, 0) + (int64_t)((seed >> 20) % (60 * 96)) * 15 * MIN_MS;
            int64_t len = (int64_t)(1 + (seed >> 8) % 48) * 15 * MIN_MS;
            if ((seed >> 60) == 0)
                len *= 20; /* longer than a week now and then: several week offsets */
            int weeks = (int)((seed >> 40) % 70) - 8; /* < 0: a single lesson; > 51: capped */
            r[i] = (struct sched_rule){start, start + len, weeks < 0 ? 0 : start + weeks * W};
        }
        struct sched_span a1, b1, a2 = {0, 0}, b2 = {0, 0};
        bool x = sched_overlap(&r[0], &r[1], &a1, &b1);
        bool y = brute_overlap(&r[0], &r[1], &a2, &b2);
        hits += y;
        if (x != y || (x && (a1.start_ms != a2.start_ms || b1.start_ms != b2.start_ms ||
                             a1.end_ms != a2.end_ms || b1.end_ms != b2.end_ms)))
            disagree++;
    }
    CHECK_EQ(disagree, 0);
    CHECK(hits > 1000); /* the random rules do clash often enough to mean something */
}

static void test_windows(void)
{
    const int64_t early = 600000, late = 900000;
    struct sched_rule r = lesson(0);
    r.until_ms = r.start_ms + 2 * W;
    struct sched_span occ = {0, 0};
    CHECK(!sched_window_at(&r, r.start_ms - early - 1, early, late, &occ));
    CHECK(sched_window_at(&r, r.start_ms - early, early, late, &occ));
    CHECK_EQ(occ.start_ms, r.start_ms);
    CHECK(sched_window_at(&r, r.end_ms + late - 1, early, late, NULL));
    CHECK(!sched_window_at(&r, r.end_ms + late, early, late, NULL));
    CHECK(sched_window_at(&r, r.start_ms + 2 * W + 5 * MIN_MS, early, late, &occ));
    CHECK_EQ(occ.start_ms, r.start_ms + 2 * W);
    CHECK(!sched_window_at(&r, r.start_ms + 3 * W, early, late, NULL));
    CHECK(!sched_window_at(&r, r.start_ms + W / 2, early, late, NULL));
    /* windows that overlap (four days each side): the later-starting occurrence wins */
    CHECK(sched_window_at(&r, r.start_ms + W / 2 + DAY_MS, 4 * DAY_MS, 4 * DAY_MS, &occ));
    CHECK_EQ(occ.start_ms, r.start_ms + W);

    CHECK(sched_next(&r, r.start_ms - early - 1, early, &occ));
    CHECK_EQ(occ.start_ms, r.start_ms);
    CHECK(sched_next(&r, r.start_ms - early, early, &occ)); /* open now: the next week's */
    CHECK_EQ(occ.start_ms, r.start_ms + W);
    CHECK(sched_next(&r, r.start_ms + W, early, &occ));
    CHECK_EQ(occ.start_ms, r.start_ms + 2 * W);
    CHECK(!sched_next(&r, r.start_ms + 2 * W - early, early, &occ));
    CHECK(!sched_next(&r, INT64_MAX, INT64_MAX, NULL));
    /* extreme margins saturate instead of overflowing (UBSan would stop here) */
    CHECK(sched_window_at(&r, 0, INT64_MAX, INT64_MAX, NULL));
    CHECK(sched_window_at(&r, INT64_MAX - 1, INT64_MAX, INT64_MAX, NULL));
}

/* ---- iCalendar ---- */

/* Unfolds text (§3.1) into lines, checking the physical ones; returns the line count. */
static int unfold(const char *text, char lines[][2048], int max)
{
    int n = 0;
    const char *p = text;
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        CHECK(eol != NULL);
        if (!eol)
            break;
        size_t len = (size_t)(eol - p);
        CHECK(len <= 75);
        CHECK(memchr(p, '\n', len) == NULL && memchr(p, '\r', len) == NULL);
        /* no line ends inside a UTF-8 sequence: the next line does not start with a
         * continuation byte after its fold space */
        if (len > 0 && ((unsigned char)p[len - 1] & 0x80)) {
            unsigned char last = 0;
            int tail = 0;
            for (size_t i = len; i > 0 && (((unsigned char)p[i - 1] & 0xC0) == 0x80); i--)
                tail++;
            last = (unsigned char)p[len - 1 - tail];
            int want = (last & 0xE0) == 0xC0 ? 1 : (last & 0xF0) == 0xE0 ? 2 : 3;
            CHECK_EQ(tail, want);
        }
        if (*p == ' ') { /* a continuation */
            CHECK(n > 0);
            CHECK(((unsigned char)p[1] & 0xC0) != 0x80);
            if (n > 0)
                strncat(lines[n - 1], p + 1, len - 1);
        } else if (n < max) {
            memcpy(lines[n], p, len);
            lines[n][len] = '\0';
            n++;
        }
        p = eol + 2;
    }
    return n;
}

/* The value of property name in lines[from..], up to the next END:VEVENT, or NULL. */
static const char *prop(char lines[][2048], int n, int from, const char *name)
{
    size_t len = strlen(name);
    for (int i = from; i < n && strcmp(lines[i], "END:VEVENT") != 0; i++) {
        if (strncmp(lines[i], name, len) == 0 && lines[i][len] == ':')
            return lines[i] + len + 1;
    }
    return NULL;
}

/* §3.3.11 unescaping. */
static void unescape(const char *s, char *out)
{
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *out++ = (*s == 'n' || *s == 'N') ? '\n' : *s;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
}

static void test_ical(void)
{
    char long_title[1024] = "";
    for (int i = 0; i < 30; i++)
        strcat(long_title, "分数");           /* 3 octets each */
    strcat(long_title, " 😀😀😀 ok; a, b \\ c"); /* 4-octet characters near a fold */
    struct sched_event ev[2] = {
        {.id = 7,
         .title = "Fractions; part 1, \"intro\" \\ review",
         .detail = "Maths\nWang Li\r\nGrade 3 A, Hope School",
         .url = "https://school.example/room?lesson=7&a=b,c",
         .rule = lesson(0),
         .updated_ms = utc(2026, 11, 30, 8, 5) + 123},
        {.id = 12, .title = long_title, .detail = NULL, .url = NULL, .rule = lesson(0)},
    };
    ev[1].rule.until_ms = ev[1].rule.start_ms + 4 * W + HOUR_MS; /* 5 occurrences */
    ev[1].updated_ms = utc(2026, 12, 1, 0, 0);
    char *ics = sched_ical("Wang Li, teacher; \\ week", "cr.example", ev, 2);
    CHECK(ics != NULL);
    if (!ics)
        return;
    /* every line ends with CRLF, no bare LF or CR anywhere */
    for (const char *p = ics; *p; p++) {
        if (*p == '\n')
            CHECK(p > ics && p[-1] == '\r');
        if (*p == '\r')
            CHECK(p[1] == '\n');
    }
    CHECK(strlen(ics) >= 2 && strcmp(ics + strlen(ics) - 2, "\r\n") == 0);
    static char lines[128][2048];
    int n = unfold(ics, lines, 128);
    CHECK(n > 20);
    CHECK_STR(lines[0], "BEGIN:VCALENDAR");
    CHECK_STR(lines[n - 1], "END:VCALENDAR");
    CHECK_STR(prop(lines, n, 0, "VERSION"), "2.0");
    CHECK(prop(lines, n, 0, "PRODID") != NULL);
    CHECK_STR(prop(lines, n, 0, "CALSCALE"), "GREGORIAN");
    CHECK_STR(prop(lines, n, 0, "X-WR-CALNAME"), "Wang Li\\, teacher\\; \\\\ week");

    int events[2], ne = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(lines[i], "BEGIN:VEVENT") == 0 && ne < 2)
            events[ne++] = i;
    }
    CHECK_EQ(ne, 2);
    if (ne != 2) {
        free(ics);
        return;
    }
    char text[2048];
    int e0 = events[0], e1 = events[1];
    CHECK_STR(prop(lines, n, e0, "UID"), "lesson-7@cr.example");
    CHECK_STR(prop(lines, n, e0, "DTSTART"), "20261208T090000Z");
    CHECK_STR(prop(lines, n, e0, "DTEND"), "20261208T094500Z");
    CHECK_STR(prop(lines, n, e0, "DTSTAMP"), "20261130T080500Z");
    CHECK_STR(prop(lines, n, e0, "LAST-MODIFIED"), "20261130T080500Z");
    CHECK(prop(lines, n, e0, "RRULE") == NULL); /* a single lesson */
    CHECK_STR(prop(lines, n, e0, "SUMMARY"), "Fractions\\; part 1\\, \"intro\" \\\\ review");
    unescape(prop(lines, n, e0, "SUMMARY"), text);
    CHECK_STR(text, ev[0].title);
    unescape(prop(lines, n, e0, "DESCRIPTION"), text);
    CHECK_STR(text, "Maths\nWang Li\nGrade 3 A, Hope School");
    CHECK_STR(prop(lines, n, e0, "URL"), ev[0].url); /* a URI is not TEXT-escaped */

    CHECK_STR(prop(lines, n, e1, "UID"), "lesson-12@cr.example");
    CHECK_STR(prop(lines, n, e1, "RRULE"), "FREQ=WEEKLY;UNTIL=20270105T090000Z");
    unescape(prop(lines, n, e1, "SUMMARY"), text);
    CHECK_STR(text, long_title);
    CHECK(prop(lines, n, e1, "DESCRIPTION") == NULL);
    CHECK(prop(lines, n, e1, "URL") == NULL);
    CHECK(strstr(ics, "\r\n SUMMARY") == NULL);
    free(ics);

    /* folding at exactly 75 octets: a 75-octet line stays, a 76-octet one folds */
    char title[128];
    memset(title, 'x', 75 - 8);
    title[75 - 8] = '\0';
    struct sched_event one = {.id = 1, .title = title, .rule = lesson(0)};
    ics = sched_ical("c", "h", &one, 1);
    CHECK(strstr(ics, "SUMMARY:xxx") && strstr(strstr(ics, "SUMMARY:"), "x\r\nLAST") != NULL);
    free(ics);
    strcat(title, "y");
    ics = sched_ical("c", "h", &one, 1);
    CHECK(strstr(ics, "x\r\n y\r\n") != NULL);
    free(ics);
    ics = sched_ical("empty", NULL, NULL, 0);
    CHECK(strstr(ics, "BEGIN:VCALENDAR\r\n") == ics && strstr(ics, "VEVENT") == NULL);
    free(ics);
}

int main(void)
{
    test_expand();
    test_invalid();
    test_overlap();
    test_windows();
    test_ical();
    return test_report();
}
