/* `classrelay token`: signs a token with the data directory's key and prints it, for
 * scripts, tests and ad-hoc rooms (docs/scheduling.md, "Tokens").
 *
 *   classrelay token --role ROLE [--room ROOM] [--data DIR] [--ttl SECONDS] [--name NAME]
 *                    [--sub SUB]
 *
 * The data directory is --data, else CLASSRELAY_DATA, else the server's default
 * (config_defaults), so the token matches the key of a server started the same way. The key
 * is loaded, or made with the directory if missing, by token_key_load, so this works before
 * the server's first start; a newly made key is mentioned on stderr, since a mistyped --data
 * would otherwise yield a token no running server accepts. stdout carries only the token. */
#include "token_cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/config.h"
#include "access/token.h"

#define TTL_DEFAULT_S 3600

struct token_opts {
    const char *data, *room, *role, *name, *sub, *ttl,
        *secret_file; /* borrowed from argv; NULL: not given */
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: classrelay token --role ROLE [--room ROOM] [--data DIR] [--ttl SECONDS]\n"
            "                        [--name NAME] [--sub SUB] [--secret-file FILE]\n"
            "\n"
            "Prints a token signed with DIR/secret.key (made if missing).\n"
            "  --role ROLE     admin, scheduler, teacher, classroom, researcher, observer or\n"
            "                  node (another node of a cluster: its cascade links only)\n"
            "  --room ROOM     the only room the token admits (1..64 of A-Z a-z 0-9 _ -);\n"
            "                  required for classroom; without it a staff role gets a session\n"
            "  --data DIR      the server's data directory (default $CLASSRELAY_DATA, else %s)\n"
            "  --ttl SECONDS   lifetime, 1..%d (default %d)\n"
            "  --name NAME     display name, at most 64 characters\n"
            "  --sub SUB       user id, 1..63 bytes (default \"cli\")\n"
            "  --secret-file FILE  the key a cluster shares (default $CLASSRELAY_SECRET_FILE,\n"
            "                  else DIR/secret.key); never made\n",
            config_defaults.data_dir, TOKEN_TTL_MAX_S, TTL_DEFAULT_S);
}

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "classrelay token: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see classrelay token --help)\n");
    va_end(ap);
    return 2;
}

/* Fills o from argv: "--flag VALUE" or "--flag=VALUE". 0, 1 for --help, or 2. */
static int parse_args(int argc, char **argv, struct token_opts *o)
{
    static const char *const flags[] = {"--data", "--room", "--role",       "--name",
                                        "--sub",  "--ttl",  "--secret-file"};
    const char **slots[] = {&o->data, &o->room, &o->role,       &o->name,
                            &o->sub,  &o->ttl,  &o->secret_file};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        size_t k = 0, n = 0;
        for (; k < sizeof flags / sizeof flags[0]; k++) {
            n = strlen(flags[k]);
            if (strncmp(a, flags[k], n) == 0 && (a[n] == '\0' || a[n] == '='))
                break;
        }
        if (k == sizeof flags / sizeof flags[0])
            return bad("unknown argument \"%s\"", a);
        if (a[n] == '=')
            *slots[k] = a + n + 1;
        else if (i + 1 < argc)
            *slots[k] = argv[++i];
        else
            return bad("%s needs a value", flags[k]);
    }
    return 0;
}

/* token_sign is the one judge of claim bounds: value is tried alone in the field at `off`
 * (`cap` bytes) of otherwise good claims, with a throwaway key, so a refusal can name its
 * flag. */
static bool field_ok(const struct token_claims *good, size_t off, size_t cap, const char *value)
{
    struct token_claims c = *good;
    size_t n = strlen(value);
    if (n >= cap)
        return false;
    memcpy((char *)&c + off, value, n + 1);
    static const struct token_key throwaway;
    char tok[TOKEN_MAX + 1];
    return token_sign(&throwaway, &c, tok, sizeof tok) == 0;
}
#define FIELD(m) offsetof(struct token_claims, m), sizeof(((struct token_claims *)0)->m)

static int parse_ttl(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = s[0] >= '0' && s[0] <= '9' ? strtoll(s, &end, 10) : -1;
    if (v < 1 || errno || *end || v > TOKEN_TTL_MAX_S)
        return -1;
    *out = v;
    return 0;
}

int token_cmd(int argc, char **argv)
{
    struct token_opts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc == 1) {
        usage(stdout);
        return 0;
    }
    if (rc != 0)
        return rc;

    struct token_claims c;
    memset(&c, 0, sizeof c);
    if (!o.role)
        return bad("--role is required: admin, scheduler, teacher, classroom, researcher or "
                   "observer");
    c.role = role_parse(o.role);
    if (c.role == ROLE_NONE)
        return bad("unknown role \"%s\": admin, scheduler, teacher, classroom, researcher or "
                   "observer",
                   o.role);
    if (!o.room && c.role == ROLE_CLASSROOM)
        return bad("--room is required for role classroom");
    long long ttl = TTL_DEFAULT_S;
    if (o.ttl && parse_ttl(o.ttl, &ttl) != 0)
        return bad("--ttl \"%s\" is not a number of seconds in 1..%d", o.ttl, TOKEN_TTL_MAX_S);
    int64_t now = (int64_t)time(NULL);
    c.iat = now;
    c.exp = now + ttl;
    memcpy(c.sub, "cli", sizeof "cli");
    if (o.sub && !field_ok(&c, FIELD(sub), o.sub))
        return bad("--sub \"%s\" is not 1..63 bytes of UTF-8 without control characters", o.sub);
    if (o.room && !field_ok(&c, FIELD(room), o.room))
        return bad("--room \"%s\" is not 1..64 of A-Z a-z 0-9 _ -", o.room);
    if (o.name && !field_ok(&c, FIELD(name), o.name))
        return bad("--name \"%s\" is not at most 64 characters of UTF-8 without control "
                   "characters",
                   o.name);
    /* the lengths were checked just now */
    if (o.sub)
        snprintf(c.sub, sizeof c.sub, "%s", o.sub);
    if (o.room)
        snprintf(c.room, sizeof c.room, "%s", o.room);
    if (o.name)
        snprintf(c.name, sizeof c.name, "%s", o.name);

    const char *data = o.data;
    if (!data) {
        data = getenv("CLASSRELAY_DATA");
        if (!data || !data[0])
            data = config_defaults.data_dir;
    }
    if (!data[0])
        return bad("--data needs a directory");
    char path[CONFIG_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/secret.key", data);
    struct stat st;
    bool existed = stat(path, &st) == 0;
    if (config_mkdirs(data) != 0) {
        fprintf(stderr, "classrelay token: cannot create data directory %s: %s\n", data,
                strerror(errno));
        return 1;
    }
    struct token_key key;
    char err[512];
    const char *shared = o.secret_file ? o.secret_file : getenv("CLASSRELAY_SECRET_FILE");
    if (shared && shared[0]) {
        existed = true;
        if (token_key_read_file(shared, &key, err, sizeof err) != 0) {
            fprintf(stderr, "classrelay token: %s\n", err);
            return 1;
        }
    } else if (token_key_load(data, &key, err, sizeof err) != 0) {
        fprintf(stderr, "classrelay token: %s\n", err);
        return 1;
    }
    if (!existed)
        fprintf(stderr,
                "classrelay token: made a new key %s; a server must run with this data "
                "directory to accept the token\n",
                path);
    char tok[TOKEN_MAX + 1];
    rc = token_sign(&key, &c, tok, sizeof tok);
    memset(&key, 0, sizeof key);
    if (rc != 0) { /* every field was checked above */
        fprintf(stderr, "classrelay token: %s\n", token_err_message(rc));
        return 2;
    }
    printf("%s\n", tok);
    return fflush(stdout) == 0 ? 0 : 1;
}
