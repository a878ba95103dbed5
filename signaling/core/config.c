/* Configuration for `classrelay serve`: defaults, config file, environment, flags.
 *
 * Every source becomes key = value pairs given to config_set(), which validates the value
 * and says why it is wrong; callers turn a failure into exit status 2. The config file is
 * found before anything is applied (--config, CLASSRELAY_CONFIG, or DATA/classrelay.conf
 * where DATA itself may come from a flag or the environment), then the sources are applied
 * in order of precedence: file, environment, flags. */
#include "core/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "classrelay/relay.h"

#ifndef CR_WEB_DIR
#define CR_WEB_DIR "web"
#endif

const struct config config_defaults = {
    .listen_host = "127.0.0.1",
    .listen_port = 8080,
    .data_dir = "./classrelay-data",
    .config_file = "",
    .web_dir = CR_WEB_DIR,
    .public_ip = "",
    .bind_ip = "",
    .ice_port_min = 40000,
    .ice_port_max = 49999,
    .ice_tcp = true,
    .media_port = 40000,
    .max_load_pct = 90,
    .room_spread = 64,
    .fec = false,
    .log_level = CR_LOG_INFO,
    .max_publish_kbps = 4000,
    .stage_max = 1,
    .demo = true,
    .record = true,
    .recorder_bin = "",
    .record_end_after_s = 20,
    .join_early_s = 600,
    .overtime_s = 900,
    .tls = CONFIG_TLS_AUTO,
    .turn_ttl_s = 21600,
};

/* Environment variable → key. */
static const struct {
    const char *var, *key;
} env_keys[] = {
    {"CLASSRELAY_LISTEN", "listen"},
    {"CLASSRELAY_DATA", "data"},
    {"CLASSRELAY_WEB_DIR", "web_dir"},
    {"CLASSRELAY_PUBLIC_IP", "public_ip"},
    {"CLASSRELAY_BIND_IP", "bind_ip"},
    {"CLASSRELAY_ICE_PORTS", "ice_ports"},
    {"CLASSRELAY_ICE_PORT_MIN", "ice_port_min"},
    {"CLASSRELAY_ICE_PORT_MAX", "ice_port_max"},
    {"CLASSRELAY_ICE_TCP", "ice_tcp"},
    {"CLASSRELAY_MEDIA_PORT", "media_port"},
    {"CLASSRELAY_MAX_PEERS", "max_peers"},
    {"CLASSRELAY_MAX_LOAD", "max_load"},
    {"CLASSRELAY_WORKERS", "workers"},
    {"CLASSRELAY_ROOM_SPREAD", "room_spread"},
    {"CLASSRELAY_FEC", "fec"},
    {"CLASSRELAY_LOG_LEVEL", "log_level"},
    {"CLASSRELAY_MAX_PUBLISH_KBPS", "max_publish_kbps"},
    {"CLASSRELAY_STAGE_MAX", "stage_max"},
    {"CLASSRELAY_DEMO", "demo"},
    {"CLASSRELAY_RECORD", "record"},
    {"CLASSRELAY_RECORDER", "recorder"},
    {"CLASSRELAY_RECORD_END_AFTER", "record_end_after"},
    {"CLASSRELAY_JOIN_EARLY", "join_early"},
    {"CLASSRELAY_OVERTIME", "overtime"},
    {"CLASSRELAY_TLS", "tls"},
    {"CLASSRELAY_TLS_CERT", "tls_cert"},
    {"CLASSRELAY_TLS_KEY", "tls_key"},
    {"CLASSRELAY_HTTP_REDIRECT", "http_redirect"},
    {"CLASSRELAY_METRICS_TOKEN", "metrics_token"},
    {"CLASSRELAY_METRICS_LISTEN", "metrics_listen"},
    {"CLASSRELAY_LOG_FORMAT", "log_format"},
    {"CLASSRELAY_TURN_URI", "turn_uri"},
    {"CLASSRELAY_TURN_SECRET", "turn_secret"},
    {"CLASSRELAY_TURN_TTL", "turn_ttl"},
    {"CLASSRELAY_ICE_TCP_PORT", "ice_tcp_port"},
    {"CLASSRELAY_REDIS", "redis"},
    {"CLASSRELAY_STORE", "store"},
    {"CLASSRELAY_NODE_URL", "node_url"},
    {"CLASSRELAY_SECRET_FILE", "secret_file"},
};

/* Command-line flag → key; value NULL: the flag takes an argument, else the fixed value. */
static const struct {
    const char *flag, *key, *value;
} flag_keys[] = {
    {"--listen", "listen", NULL},
    {"--data", "data", NULL},
    {"--config", "config", NULL},
    {"--web-dir", "web_dir", NULL},
    {"--public-ip", "public_ip", NULL},
    {"--bind-ip", "bind_ip", NULL},
    {"--ice-ports", "ice_ports", NULL},
    {"--no-ice-tcp", "ice_tcp", "false"},
    {"--media-port", "media_port", NULL},
    {"--max-peers", "max_peers", NULL},
    {"--max-load", "max_load", NULL},
    {"--workers", "workers", NULL},
    {"--room-spread", "room_spread", NULL},
    {"--fec", "fec", "true"},
    {"--no-fec", "fec", "false"},
    {"--log-level", "log_level", NULL},
    {"--max-publish-kbps", "max_publish_kbps", NULL},
    {"--stage-max", "stage_max", NULL},
    {"--no-demo", "demo", "false"},
    {"--no-record", "record", "false"},
    {"--recorder", "recorder", NULL},
    {"--record-end-after", "record_end_after", NULL},
    {"--join-early", "join_early", NULL},
    {"--overtime", "overtime", NULL},
    {"--tls", "tls", NULL},
    {"--no-tls", "tls", "off"},
    {"--tls-cert", "tls_cert", NULL},
    {"--tls-key", "tls_key", NULL},
    {"--http-redirect", "http_redirect", NULL},
    {"--metrics-token", "metrics_token", NULL},
    {"--metrics-listen", "metrics_listen", NULL},
    {"--log-format", "log_format", NULL},
    {"--turn-uri", "turn_uri", NULL},
    {"--turn-secret", "turn_secret", NULL},
    {"--turn-ttl", "turn_ttl", NULL},
    {"--ice-tcp-port", "ice_tcp_port", NULL},
    {"--redis", "redis", NULL},
    {"--store", "store", NULL},
    {"--node-url", "node_url", NULL},
    {"--secret-file", "secret_file", NULL},
};

void config_print_usage(const char *prog)
{
    printf(
        "ClassRelay: live distance-classroom WebRTC relay (SFU)\n"
        "\n"
        "usage: %s serve [flags]     start the server (signaling, WHIP/WHEP, relay, web pages)\n"
        "       %s version           print the version\n"
        "       %s --help            this text\n"
        "\n"
        "serve flags (precedence: built-in defaults < config file < environment < flags):\n"
        "  --listen HOST:PORT      HTTP + websocket address (default 127.0.0.1:8080)\n"
        "  --data DIR              everything the server keeps (default ./classrelay-data;\n"
        "                          created if missing)\n"
        "  --config FILE           key = value file (default DIR/classrelay.conf if present)\n"
        "  --public-ip IP          address announced to browsers (server behind 1:1 NAT)\n"
        "  --bind-ip IP            gather ICE candidates only on this local address\n"
        "  --media-port PORT       every peer on this one port, UDP and ICE-TCP (default\n"
        "                          40000; worker i takes PORT+i; 0: a port per peer from\n"
        "                          --ice-ports instead)\n"
        "  --ice-ports MIN-MAX     with --media-port 0: ICE UDP/TCP port range (default\n"
        "                          40000-49999)\n"
        "  --no-ice-tcp            do not offer ICE-TCP candidates\n"
        "  --max-peers N           refuse new classrooms beyond N peers (teachers still\n"
        "                          come in; 0: no limit, the default)\n"
        "  --max-load PCT          ... and while the relay's worker uses more than PCT %% of\n"
        "                          a core (default 90; 0: off)\n"
        "  --workers N             media worker threads, rooms spread over them (default 0:\n"
        "                          one per core; with --media-port P they use P, P+1, ...)\n"
        "  --room-spread N         a lesson takes another worker once each of its workers\n"
        "                          holds N of its peers (default 64; 0: never)\n"
        "  --fec                   forward error correction toward lossy classrooms (off: "
        "--no-fec)\n"
        "  --log-level LEVEL       error, warn, info (default) or debug\n"
        "  --max-publish-kbps N    bitrate cap announced to publishers (default 4000)\n"
        "  --no-demo               do not open the room \"demo\" at start\n"
        "  --no-record             do not record lessons\n"
        "  --recorder PATH         the classrelay-recorder binary (default: beside this one)\n"
        "  --record-end-after S    a recording ends S seconds after the teacher's last\n"
        "                          track goes (default 20)\n"
        "  --join-early S          a scheduled lesson opens S seconds before its start\n"
        "                          (default 600)\n"
        "  --overtime S            ... and closes S seconds after its end (default 900)\n"
        "  --stage-max N           classrooms on stage at once, 1 to 4 (default 1)\n"
        "  --web-dir DIR           serve the web pages from DIR\n"
        "  --tls auto|on|off       HTTPS and WSS (default auto: on unless --listen is loopback)\n"
        "  --no-tls                plain HTTP on any address\n"
        "  --tls-cert FILE         PEM certificate chain (default: a self-signed one made in\n"
        "                          DIR/tls, its SHA-256 fingerprint printed); SIGHUP reloads\n"
        "  --tls-key FILE          its PEM private key\n"
        "  --http-redirect H:P     plain HTTP on H:P, redirecting to HTTPS (e.g. :80)\n"
        "  --metrics-token T       GET /metrics with \"Authorization: Bearer T\"\n"
        "  --metrics-listen H:P    /metrics open on an address of its own (plain HTTP)\n"
        "  --log-format text|json  log lines as text (default) or one JSON object each\n"
        "  --turn-uri URIS         TURN servers handed to clients, comma-separated\n"
        "                          (turn:HOST:3478?transport=udp,turns:HOST:443?transport=tcp)\n"
        "  --turn-secret S         their shared secret (coturn's static-auth-secret)\n"
        "  --turn-ttl S            lifetime of the TURN credentials handed out (default 21600)\n"
        "  --ice-tcp-port PORT     ICE-TCP on PORT (worker i: PORT+i; default 0: the media port)\n"
        "  --redis redis://H:P     join the cluster whose directory is this Redis (default: "
        "alone)\n"
        "  --store postgresql://.. the schedule and catalogue in PostgreSQL (default: SQLite)\n"
        "  --node-url URL          how clients and nodes reach this node (default: from --listen)\n"
        "  --secret-file FILE      the token key, the same on every node (default DIR/secret.key)\n"
        "\n"
        "environment: CLASSRELAY_LISTEN, CLASSRELAY_DATA, CLASSRELAY_CONFIG,\n"
        "  CLASSRELAY_PUBLIC_IP, CLASSRELAY_BIND_IP, CLASSRELAY_ICE_PORTS,\n"
        "  CLASSRELAY_ICE_TCP, CLASSRELAY_MEDIA_PORT, CLASSRELAY_MAX_PEERS, CLASSRELAY_MAX_LOAD,\n"
        "  CLASSRELAY_WORKERS, CLASSRELAY_ROOM_SPREAD, CLASSRELAY_FEC, CLASSRELAY_LOG_LEVEL,\n"
        "  CLASSRELAY_MAX_PUBLISH_KBPS, CLASSRELAY_DEMO, CLASSRELAY_WEB_DIR, CLASSRELAY_RECORD,\n"
        "  CLASSRELAY_RECORDER, CLASSRELAY_RECORD_END_AFTER, CLASSRELAY_JOIN_EARLY, "
        "CLASSRELAY_OVERTIME,\n"
        "  CLASSRELAY_STAGE_MAX, CLASSRELAY_TLS, CLASSRELAY_TLS_CERT, CLASSRELAY_TLS_KEY,\n"
        "  CLASSRELAY_HTTP_REDIRECT, CLASSRELAY_METRICS_TOKEN, CLASSRELAY_METRICS_LISTEN,\n"
        "  CLASSRELAY_LOG_FORMAT, CLASSRELAY_TURN_URI, CLASSRELAY_TURN_SECRET,\n"
        "  CLASSRELAY_TURN_TTL, CLASSRELAY_ICE_TCP_PORT, CLASSRELAY_REDIS, CLASSRELAY_STORE,\n"
        "  CLASSRELAY_NODE_URL, CLASSRELAY_SECRET_FILE\n"
        "config file keys: listen, public_ip, bind_ip, ice_port_min, ice_port_max, ice_tcp,\n"
        "  media_port, max_peers, max_load, workers, room_spread, fec, log_level, "
        "max_publish_kbps, demo, "
        "web_dir, "
        "record, recorder,\n"
        "  record_end_after, join_early, overtime, stage_max, tls, tls_cert, tls_key,\n"
        "  http_redirect, metrics_token, metrics_listen, log_format, turn_uri, turn_secret,\n"
        "  turn_ttl, ice_tcp_port, redis, store, node_url, secret_file\n"
        "  (see docs/configuration.md)\n",
        prog, prog, prog);
}

static int parse_bool(const char *value, bool *out)
{
    static const char *yes[] = {"1", "true", "yes", "on"};
    static const char *no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(value, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(value, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* Accepts an IPv4 or IPv6 literal (inet_pton's forms); "" clears the setting. */
static int check_ip(const char *value)
{
    unsigned char addr[sizeof(struct in6_addr)];
    if (!value[0] || inet_pton(AF_INET, value, addr) == 1 || inet_pton(AF_INET6, value, addr) == 1)
        return 0;
    return -1;
}

static int parse_port(const char *value, uint16_t *out)
{
    unsigned long v;
    if (config_parse_uint(value, 65535, &v) != 0 || v == 0)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

static int set_ports(struct config *cfg, const char *key, const char *value)
{
    if (strcmp(key, "ice_port_min") == 0)
        return parse_port(value, &cfg->ice_port_min);
    if (strcmp(key, "ice_port_max") == 0)
        return parse_port(value, &cfg->ice_port_max);
    /* ice_ports: MIN-MAX */
    const char *dash = strchr(value, '-');
    char min[8];
    if (!dash || dash == value || (size_t)(dash - value) >= sizeof min)
        return -1;
    memcpy(min, value, (size_t)(dash - value));
    min[dash - value] = '\0';
    uint16_t lo, hi;
    if (parse_port(min, &lo) != 0 || parse_port(dash + 1, &hi) != 0 || lo > hi)
        return -1;
    cfg->ice_port_min = lo;
    cfg->ice_port_max = hi;
    return 0;
}

static bool is_relay_number(const char *key)
{
    return strcmp(key, "max_peers") == 0 || strcmp(key, "max_load") == 0 ||
           strcmp(key, "media_port") == 0 || strcmp(key, "workers") == 0 ||
           strcmp(key, "room_spread") == 0;
}

/* media_port, max_peers, max_load, workers, room_spread: whole numbers with their own
 * ranges. */
static int set_relay_number(struct config *cfg, const char *key, const char *value, char *err,
                            size_t err_len)
{
    unsigned long u;
    if (strcmp(key, "max_peers") == 0 || strcmp(key, "max_load") == 0) {
        bool peers = key[4] == 'p';
        if (config_parse_uint(value, peers ? 20000 : 100, &u) != 0) {
            snprintf(err, err_len, "expected %s, got \"%s\"",
                     peers ? "0 to 20000 peers" : "0 to 100 (% of a core)", value);
            return -1;
        }
        *(peers ? &cfg->max_peers : &cfg->max_load_pct) = (uint32_t)u;
        return 0;
    }
    if (strcmp(key, "workers") == 0) {
        if (config_parse_uint(value, CR_WORKERS_MAX, &u) != 0) {
            snprintf(err, err_len, "expected 0 (one per core) to %d workers, got \"%s\"",
                     CR_WORKERS_MAX, value);
            return -1;
        }
        cfg->workers = (uint32_t)u;
        return 0;
    }
    if (strcmp(key, "room_spread") == 0) {
        if (config_parse_uint(value, 20000, &u) != 0) {
            snprintf(err, err_len, "expected 0 (never) to 20000 peers, got \"%s\"", value);
            return -1;
        }
        cfg->room_spread = (uint32_t)u;
        return 0;
    }
    if (strcmp(key, "media_port") == 0) {
        if (config_parse_uint(value, 65535, &u) != 0) {
            snprintf(err, err_len, "expected a port from 1 to 65535 (0: off), got \"%s\"", value);
            return -1;
        }
        cfg->media_port = (uint16_t)u;
        return 0;
    }
    return -1; /* not reached: is_relay_number */
}

int config_set(struct config *cfg, const char *key, const char *value, char *err, size_t err_len)
{
    bool b;
    unsigned long u;
    enum cr_log_level level;
    if (strcmp(key, "listen") == 0)
        return config_split_host_port(value, cfg->listen_host, sizeof cfg->listen_host,
                                      &cfg->listen_port, err, err_len);
    if (strcmp(key, "data") == 0) {
        if (!value[0]) {
            snprintf(err, err_len, "empty data directory");
            return -1;
        }
        return config_copy_str(cfg->data_dir, sizeof cfg->data_dir, value, err, err_len);
    }
    if (strcmp(key, "config") == 0)
        return config_copy_str(cfg->config_file, sizeof cfg->config_file, value, err, err_len);
    if (strcmp(key, "web_dir") == 0)
        return config_copy_str(cfg->web_dir, sizeof cfg->web_dir, value, err, err_len);
    if (strcmp(key, "public_ip") == 0 || strcmp(key, "bind_ip") == 0) {
        if (check_ip(value) != 0) {
            snprintf(err, err_len, "expected an IP address, got \"%s\"", value);
            return -1;
        }
        char *dst = key[0] == 'p' ? cfg->public_ip : cfg->bind_ip;
        return config_copy_str(dst, CONFIG_STR_MAX, value, err, err_len);
    }
    if (strncmp(key, "ice_port", 8) == 0 &&
        (strcmp(key, "ice_ports") == 0 || strcmp(key, "ice_port_min") == 0 ||
         strcmp(key, "ice_port_max") == 0)) {
        if (set_ports(cfg, key, value) != 0) {
            snprintf(err, err_len, "expected %s, got \"%s\"",
                     strcmp(key, "ice_ports") == 0 ? "MIN-MAX with 1 <= MIN <= MAX <= 65535"
                                                   : "a port from 1 to 65535",
                     value);
            return -1;
        }
        return 0;
    }
    if (is_relay_number(key))
        return set_relay_number(cfg, key, value, err, err_len);
    bool *flag = strcmp(key, "ice_tcp") == 0  ? &cfg->ice_tcp
                 : strcmp(key, "fec") == 0    ? &cfg->fec
                 : strcmp(key, "demo") == 0   ? &cfg->demo
                 : strcmp(key, "record") == 0 ? &cfg->record
                                              : NULL;
    if (flag) {
        if (parse_bool(value, &b) != 0) {
            snprintf(err, err_len, "expected true or false, got \"%s\"", value);
            return -1;
        }
        *flag = b;
        return 0;
    }
    if (strcmp(key, "recorder") == 0)
        return config_copy_str(cfg->recorder_bin, sizeof cfg->recorder_bin, value, err, err_len);
    if (strcmp(key, "record_end_after") == 0) {
        if (config_parse_uint(value, 86400, &u) != 0 || u < 1) {
            snprintf(err, err_len, "expected 1 to 86400 seconds, got \"%s\"", value);
            return -1;
        }
        cfg->record_end_after_s = (uint32_t)u;
        return 0;
    }
    if (strcmp(key, "join_early") == 0 || strcmp(key, "overtime") == 0) {
        if (config_parse_uint(value, 86400, &u) != 0) {
            snprintf(err, err_len, "expected 0 to 86400 seconds, got \"%s\"", value);
            return -1;
        }
        *(key[0] == 'j' ? &cfg->join_early_s : &cfg->overtime_s) = (uint32_t)u;
        return 0;
    }
    if (strcmp(key, "log_level") == 0) {
        if (cr_log_parse_level(value, &level) != 0) {
            snprintf(err, err_len, "expected error, warn, info or debug, got \"%s\"", value);
            return -1;
        }
        cfg->log_level = (int)level;
        return 0;
    }
    if (strcmp(key, "stage_max") == 0) {
        if (config_parse_uint(value, 4, &u) != 0 || u < 1) {
            snprintf(err, err_len, "expected 1 to 4, got \"%s\"", value);
            return -1;
        }
        cfg->stage_max = (uint32_t)u;
        return 0;
    }
    if (strcmp(key, "max_publish_kbps") == 0) {
        if (config_parse_uint(value, 1000000, &u) != 0 || u < 50) {
            snprintf(err, err_len, "expected 50 to 1000000, got \"%s\"", value);
            return -1;
        }
        cfg->max_publish_kbps = (uint32_t)u;
        return 0;
    }
    int r = config_set_edge(cfg, key, value, err, err_len);
    return r != 1 ? r : config_set_cluster(cfg, key, value, err, err_len); /* or "unknown key" */
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Reads one line (without its '\n') into buf. Returns its length, -1 at the end of the
 * file, or -2 if it is longer than cap - 1 bytes: a long line is refused, never split (the
 * tail of a long comment must not be read as a setting). */
static long read_line(FILE *f, char *buf, size_t cap)
{
    size_t n = 0;
    int ch;
    while ((ch = getc(f)) != EOF && ch != '\n') {
        if (n + 1 >= cap)
            return -2;
        buf[n++] = (char)ch;
    }
    if (ch == EOF && n == 0)
        return -1;
    buf[n] = '\0';
    return (long)n;
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[2048];
    int lineno = 0, rc = 0;
    long len;
    while ((len = read_line(f, line, sizeof line)) != -1) {
        lineno++;
        if (len < 0 || strlen(line) != (size_t)len) {
            snprintf(err, err_len, "%s:%d: %s", path, lineno,
                     len < 0 ? "line too long (at most 2047 characters)" : "NUL byte in line");
            rc = -1;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        char why[512];
        if (!eq) {
            snprintf(err, err_len, "%s:%d: expected key = value", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        if (strcmp(key, "config") == 0 || strcmp(key, "data") == 0) {
            snprintf(err, err_len, "%s:%d: \"%s\" cannot be set in the config file", path, lineno,
                     key);
            rc = -1;
            break;
        }
        if (config_set(cfg, key, value, why, sizeof why) != 0) {
            snprintf(err, err_len, "%s:%d: %s: %s", path, lineno, key, why);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(f)) { /* e.g. a directory: EISDIR */
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    fclose(f);
    return rc;
}

int config_load_env(struct config *cfg, char *err, size_t err_len)
{
    for (size_t i = 0; i < sizeof env_keys / sizeof env_keys[0]; i++) {
        const char *v = getenv(env_keys[i].var);
        if (!v)
            continue;
        char why[512];
        if (config_set(cfg, env_keys[i].key, v, why, sizeof why) != 0) {
            snprintf(err, err_len, "%s: %s", env_keys[i].var, why);
            return -1;
        }
    }
    return 0;
}

int config_mkdirs(const char *dir)
{
    char path[CONFIG_PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

struct flag_pair {
    const char *key, *value;
};

/* Turns argv into key/value pairs without applying them. */
static int parse_flags(int argc, char **argv, struct flag_pair *pairs, int *n_pairs, char *err,
                       size_t err_len)
{
    *n_pairs = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return 1;
        const char *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        size_t k;
        for (k = 0; k < sizeof flag_keys / sizeof flag_keys[0]; k++) {
            if (strlen(flag_keys[k].flag) == name_len &&
                strncmp(flag_keys[k].flag, arg, name_len) == 0)
                break;
        }
        if (k == sizeof flag_keys / sizeof flag_keys[0]) {
            snprintf(err, err_len, "unknown flag \"%s\" (see classrelay --help)", arg);
            return -1;
        }
        const char *value = flag_keys[k].value;
        if (value && eq) {
            snprintf(err, err_len, "%s takes no value", flag_keys[k].flag);
            return -1;
        }
        if (!value) {
            if (eq) {
                value = eq + 1;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                snprintf(err, err_len, "%s needs a value", flag_keys[k].flag);
                return -1;
            }
        }
        pairs[*n_pairs].key = flag_keys[k].key;
        pairs[*n_pairs].value = value;
        (*n_pairs)++;
    }
    return 0;
}

/* Where the config file is: --config, CLASSRELAY_CONFIG, or DATA/classrelay.conf if it
 * exists. Returns 1 if one must be read, 0 if none. */
static int find_config_file(struct config *cfg, const struct flag_pair *pairs, int n_pairs,
                            char *err, size_t err_len)
{
    const char *explicit_file = getenv("CLASSRELAY_CONFIG");
    const char *data = getenv("CLASSRELAY_DATA");
    for (int i = 0; i < n_pairs; i++) {
        if (strcmp(pairs[i].key, "config") == 0)
            explicit_file = pairs[i].value;
        if (strcmp(pairs[i].key, "data") == 0)
            data = pairs[i].value;
    }
    if (explicit_file && explicit_file[0]) {
        if (config_copy_str(cfg->config_file, sizeof cfg->config_file, explicit_file, err,
                            err_len) != 0)
            return -1;
        return 1;
    }
    if (!data || !data[0])
        data = cfg->data_dir;
    char path[CONFIG_PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/classrelay.conf", data) >= sizeof path) {
        snprintf(err, err_len, "data directory path too long");
        return -1;
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    memcpy(cfg->config_file, path, strlen(path) + 1);
    return 1;
}

int config_from_args(struct config *cfg, int argc, char **argv, char *err, size_t err_len)
{
    *cfg = config_defaults;
    struct flag_pair *pairs = calloc((size_t)argc + 1, sizeof *pairs);
    if (!pairs)
        abort();
    int n_pairs, rc = parse_flags(argc, argv, pairs, &n_pairs, err, err_len);
    if (rc != 0)
        goto out;
    rc = find_config_file(cfg, pairs, n_pairs, err, err_len);
    if (rc < 0)
        goto out;
    if (rc == 1 && (rc = config_load_file(cfg, cfg->config_file, err, err_len)) != 0)
        goto out;
    if ((rc = config_load_env(cfg, err, err_len)) != 0)
        goto out;
    for (int i = 0; i < n_pairs; i++) {
        char why[512];
        if (config_set(cfg, pairs[i].key, pairs[i].value, why, sizeof why) != 0) {
            for (size_t k = 0; k < sizeof flag_keys / sizeof flag_keys[0]; k++) {
                if (strcmp(flag_keys[k].key, pairs[i].key) == 0) {
                    snprintf(err, err_len, "%s: %s", flag_keys[k].flag, why);
                    break;
                }
            }
            rc = -1;
            goto out;
        }
    }
    if (cfg->ice_port_min > cfg->ice_port_max) {
        snprintf(err, err_len, "ice_port_min (%u) is above ice_port_max (%u)", cfg->ice_port_min,
                 cfg->ice_port_max);
        rc = -1;
    }
out:
    free(pairs);
    return rc;
}
