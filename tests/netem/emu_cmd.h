/* linkemu's control language: one command per line, from the control socket or --set.
 *   set <link|all> <down|up|both> [clear] key=value ...
 *       keys: rate (kbit/s, 0 = unlimited), burst (bytes), queue (ms), qbytes (bytes,
 *       0 = use queue), loss (%), delay (ms), jitter (ms), dist (uniform|normal),
 *       reorder (0|1); "clear" first resets the direction to the defaults
 *   stats            settings and counters of every link, one JSON line
 *   reset            zero all counters
 *   ping | help | quit
 * "down" is hub -> leaf (server to classroom), "up" is leaf -> hub. This file only parses;
 * applying a command is linkemu.c's business. */
#ifndef CR_NETEM_EMU_CMD_H
#define CR_NETEM_EMU_CMD_H

#include <stddef.h>

#include "emu_model.h"

enum emu_cmd_kind {
    EMU_CMD_SET,
    EMU_CMD_STATS,
    EMU_CMD_RESET,
    EMU_CMD_PING,
    EMU_CMD_HELP,
    EMU_CMD_QUIT
};

#define EMU_DOWN 1u /* hub -> leaf */
#define EMU_UP 2u   /* leaf -> hub */

/* Which settings a "set" changes, and their new values. */
struct emu_patch {
    unsigned fields; /* bit per key, see emu_cmd.c */
    bool clear;      /* start from EMU_DIR_CFG_DEFAULT */
    struct emu_dir_cfg val;
};

struct emu_cmd {
    enum emu_cmd_kind kind;
    char link[32]; /* a link name or "all" (EMU_CMD_SET only) */
    unsigned dirs; /* EMU_DOWN | EMU_UP */
    struct emu_patch patch;
};

/* 0, or -1 with a message in err. */
int emu_cmd_parse(const char *line, struct emu_cmd *out, char *err, size_t errlen);
void emu_patch_apply(const struct emu_patch *p, struct emu_dir_cfg *cfg);
extern const char emu_cmd_help[];

#endif
