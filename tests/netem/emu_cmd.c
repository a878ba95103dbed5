/* Parser of linkemu's control lines: see emu_cmd.h. Settings are described by one table
 * (name, type, field offset, upper bound); a "set" fills a patch that names the settings
 * it changes, so "set leaf1 down loss=3" leaves rate and delay as they were. */
#include "emu_cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char emu_cmd_help[] =
    "set <link|all> <down|up|both> [clear] rate=KBPS burst=BYTES queue=MS qbytes=BYTES "
    "loss=PCT delay=MS jitter=MS dist=uniform|normal reorder=0|1; stats; reset; ping; quit";

enum key_type { KEY_U32, KEY_DOUBLE, KEY_DIST, KEY_BOOL };

struct key {
    const char *name;
    enum key_type type;
    size_t off;
    double max;
};

#define CFG_OFF(m) offsetof(struct emu_dir_cfg, m)
static const struct key keys[] = {
    {"rate", KEY_U32, CFG_OFF(rate_kbps), 100e6},
    {"burst", KEY_U32, CFG_OFF(burst_bytes), 1 << 30},
    {"queue", KEY_U32, CFG_OFF(queue_ms), 60000},
    {"qbytes", KEY_U32, CFG_OFF(queue_bytes), 1 << 30},
    {"loss", KEY_DOUBLE, CFG_OFF(loss_pct), 100},
    {"delay", KEY_DOUBLE, CFG_OFF(delay_ms), 60000},
    {"jitter", KEY_DOUBLE, CFG_OFF(jitter_ms), 60000},
    {"dist", KEY_DIST, CFG_OFF(dist), 0},
    {"reorder", KEY_BOOL, CFG_OFF(reorder), 0},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_number(const char *s, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0 && v <= max))
        return -1;
    *out = v;
    return 0;
}

/* Stores one value into the patch; -1 when it does not parse. */
static int store(const struct key *k, const char *s, struct emu_dir_cfg *cfg)
{
    char *field = (char *)cfg + k->off;
    double v;
    switch (k->type) {
    case KEY_DIST:
        if (strcmp(s, "uniform") && strcmp(s, "normal"))
            return -1;
        *(enum emu_jitter_dist *)field =
            strcmp(s, "normal") ? EMU_JITTER_UNIFORM : EMU_JITTER_NORMAL;
        return 0;
    case KEY_BOOL:
        if (strcmp(s, "0") && strcmp(s, "1"))
            return -1;
        *(bool *)field = s[0] == '1';
        return 0;
    case KEY_U32:
        if (parse_number(s, k->max, &v) || v != (double)(uint32_t)v)
            return -1;
        *(uint32_t *)field = (uint32_t)v;
        return 0;
    case KEY_DOUBLE:
        if (parse_number(s, k->max, &v))
            return -1;
        *(double *)field = v;
        return 0;
    }
    return -1;
}

static int parse_assignment(char *tok, struct emu_patch *p, char *err, size_t errlen)
{
    char *eq = strchr(tok, '=');
    if (!eq)
        return fail(err, errlen, "expected key=value, got '%s'", tok);
    *eq = '\0';
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(tok, keys[i].name))
            continue;
        if (store(&keys[i], eq + 1, &p->val))
            return fail(err, errlen, "bad value for %s: '%s'", tok, eq + 1);
        p->fields |= 1u << i;
        return 0;
    }
    return fail(err, errlen, "unknown key '%s'", tok);
}

static int parse_dirs(const char *s, unsigned *dirs)
{
    if (!strcmp(s, "down"))
        *dirs = EMU_DOWN;
    else if (!strcmp(s, "up"))
        *dirs = EMU_UP;
    else if (!strcmp(s, "both"))
        *dirs = EMU_DOWN | EMU_UP;
    else
        return -1;
    return 0;
}

/* "set" after its first word: link, direction, settings. */
static int parse_set(char **save, struct emu_cmd *out, char *err, size_t errlen)
{
    char *link = strtok_r(NULL, " \t", save);
    char *dir = strtok_r(NULL, " \t", save);
    if (!link || !dir)
        return fail(err, errlen, "usage: set <link|all> <down|up|both> key=value ...");
    if (strlen(link) >= sizeof(out->link))
        return fail(err, errlen, "link name too long");
    strcpy(out->link, link);
    if (parse_dirs(dir, &out->dirs))
        return fail(err, errlen, "direction must be down, up or both, not '%s'", dir);
    out->patch.val = EMU_DIR_CFG_DEFAULT;
    for (char *tok; (tok = strtok_r(NULL, " \t", save));) {
        if (!strcmp(tok, "clear")) {
            out->patch.clear = true;
            continue;
        }
        if (parse_assignment(tok, &out->patch, err, errlen))
            return -1;
    }
    return 0;
}

int emu_cmd_parse(const char *line, struct emu_cmd *out, char *err, size_t errlen)
{
    static const struct {
        const char *word;
        enum emu_cmd_kind kind;
    } words[] = {{"stats", EMU_CMD_STATS},
                 {"reset", EMU_CMD_RESET},
                 {"ping", EMU_CMD_PING},
                 {"help", EMU_CMD_HELP},
                 {"quit", EMU_CMD_QUIT}};
    char buf[1024], *save = NULL;
    *out = (struct emu_cmd){0};
    if (strlen(line) >= sizeof(buf))
        return fail(err, errlen, "line too long");
    strcpy(buf, line);
    buf[strcspn(buf, "\r\n")] = '\0';
    char *word = strtok_r(buf, " \t", &save);
    if (!word)
        return fail(err, errlen, "empty command");
    if (!strcmp(word, "set")) {
        out->kind = EMU_CMD_SET;
        return parse_set(&save, out, err, errlen);
    }
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (!strcmp(word, words[i].word)) {
            out->kind = words[i].kind;
            return 0;
        }
    }
    return fail(err, errlen, "unknown command '%s' (try help)", word);
}

/* Copies the bytes of one table entry's field from src to dst. */
static void copy_field(const struct key *k, struct emu_dir_cfg *dst, const struct emu_dir_cfg *src)
{
    static const size_t size[] = {[KEY_U32] = sizeof(uint32_t),
                                  [KEY_DOUBLE] = sizeof(double),
                                  [KEY_DIST] = sizeof(enum emu_jitter_dist),
                                  [KEY_BOOL] = sizeof(bool)};
    memcpy((char *)dst + k->off, (const char *)src + k->off, size[k->type]);
}

void emu_patch_apply(const struct emu_patch *p, struct emu_dir_cfg *cfg)
{
    if (p->clear)
        *cfg = EMU_DIR_CFG_DEFAULT;
    for (size_t i = 0; i < NKEYS; i++)
        if (p->fields & (1u << i))
            copy_field(&keys[i], cfg, &p->val);
}
