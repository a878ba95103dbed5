/* The classrelay server configuration: one struct with documented defaults, filled from
 * a config file, the environment and command-line flags, in that order of precedence
 * (STYLE.md habit 13). Every source is reduced to key = value pairs applied through one
 * setter, so a key means the same thing wherever it comes from. docs/configuration.md
 * lists every key, variable and flag. */
#ifndef CR_SIGNALING_CONFIG_H
#define CR_SIGNALING_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_STR_MAX 256
#define CONFIG_PATH_MAX 1024

struct config {
    char listen_host[CONFIG_STR_MAX]; /* HTTP + websocket address; "0.0.0.0": all */
    uint16_t listen_port;
    char data_dir[CONFIG_PATH_MAX];    /* everything the server keeps; created if missing */
    char config_file[CONFIG_PATH_MAX]; /* "" : DATA/classrelay.conf if it exists */
    char web_dir[CONFIG_PATH_MAX];     /* the pages served at / */
    char public_ip[CONFIG_STR_MAX];    /* "" : none; announced instead of host addresses */
    char bind_ip[CONFIG_STR_MAX];      /* "" : gather ICE candidates on all interfaces */
    uint16_t ice_port_min, ice_port_max;
    uint16_t media_port;   /* every peer on this one UDP port; 0: a port per peer from the range */
    uint32_t max_peers;    /* admission control (classrelay/types.h); 0: none */
    uint32_t max_load_pct; /* ... CPU share of the worker above which it refuses; 0: off */
    uint32_t workers;      /* media worker threads; 0: one per core */
    uint32_t room_spread;  /* a lesson's peers per worker before it takes another; 0: never */
    bool ice_tcp;
    bool fec;      /* FEC toward classrooms on long lossy paths (docs/architecture.md) */
    int log_level; /* enum cr_log_level */
    uint32_t max_publish_kbps;
    uint32_t stage_max;                 /* classrooms on stage at once, 1 to 4 (lesson/floor.c) */
    bool demo;                          /* open the room "demo" at start */
    bool record;                        /* record the teacher's tracks in every room */
    char recorder_bin[CONFIG_PATH_MAX]; /* "" : classrelay-recorder beside this binary */
    uint32_t record_end_after_s;        /* a lesson ends this long after its last track */
    uint32_t join_early_s; /* a scheduled lesson's room opens this long before its start */
    uint32_t overtime_s;   /* ... and closes this long after its end */
    /* on a school network (config_edge.c) */
    int tls;                             /* enum config_tls */
    char tls_cert[CONFIG_PATH_MAX];      /* PEM chain; "" : self-signed in DATA when TLS is on */
    char tls_key[CONFIG_PATH_MAX];       /* its PEM private key */
    char http_redirect[CONFIG_STR_MAX];  /* HOST:PORT where plain HTTP redirects; "" : none */
    char metrics_token[CONFIG_STR_MAX];  /* Bearer token that opens /metrics; "" : none */
    char metrics_listen[CONFIG_STR_MAX]; /* HOST:PORT serving only /metrics, open; "" : none */
    int log_format;                      /* 0 text, 1 JSON lines */
    char turn_uri[1024];                 /* turn:/turns: URIs handed to clients, comma-separated */
    char turn_secret[CONFIG_STR_MAX];    /* coturn's static-auth-secret; "" : no TURN */
    uint32_t turn_ttl_s;                 /* lifetime of the TURN credentials handed out */
    uint16_t ice_tcp_port;               /* ICE-TCP's port (worker i: +i); 0: the media port */
    /* a cluster of nodes (config_cluster.c, docs/cluster.md) */
    char redis[CONFIG_STR_MAX];        /* redis://HOST:PORT, the directory; "" : one node */
    char store[1024];                  /* postgresql://... (libpq URI); "" : SQLite in DATA */
    char node_url[CONFIG_STR_MAX];     /* how clients and nodes reach this one; "" : listen */
    char secret_file[CONFIG_PATH_MAX]; /* the token key all nodes share; "" : DATA/secret.key */
};

enum config_tls { CONFIG_TLS_AUTO = 0, CONFIG_TLS_ON = 1, CONFIG_TLS_OFF = 2 };

/* Built-in defaults (designated initializers; see config.c). */
extern const struct config config_defaults;

/* Sets one key ("listen", "public_ip", "ice_ports", ...) from its text value. Returns 0, or
 * -1 with a reason in err. */
int config_set(struct config *cfg, const char *key, const char *value, char *err, size_t err_len);

/* The keys of config_edge.c. Returns 0, -1 with a reason in err, or 1 when key is none of
 * them. */
int config_set_edge(struct config *cfg, const char *key, const char *value, char *err,
                    size_t err_len);

/* The keys of config_cluster.c: 0, or -1 with a reason in err ("unknown key" when key is
 * none of them). */
int config_set_cluster(struct config *cfg, const char *key, const char *value, char *err,
                       size_t err_len);

/* Whether HTTPS serves: tls "on", or "auto" (the default) with a listen address other than
 * loopback, where browsers give the camera only to secure pages. */
bool config_tls_on(const struct config *cfg);

/* A decimal number from 0 to max (config_value.c): 0, or -1. */
int config_parse_uint(const char *value, unsigned long max, unsigned long *out);

/* Copies a text value into dst (cap bytes); -1 with a reason in err if it does not fit. */
int config_copy_str(char *dst, size_t cap, const char *value, char *err, size_t err_len);

/* Splits HOST:PORT, [V6]:PORT or :PORT (host "0.0.0.0") into host and port. Returns 0, or
 * -1 with a reason in err. */
int config_split_host_port(const char *value, char *host, size_t host_cap, uint16_t *port,
                           char *err, size_t err_len);

/* Reads "key = value" lines (# comments, blank lines). Returns 0, or -1 with
 * "FILE:LINE: reason" in err. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t err_len);

/* Applies CLASSRELAY_* environment variables. Returns 0, or -1 with a reason in err. */
int config_load_env(struct config *cfg, char *err, size_t err_len);

/* Fills cfg for `classrelay serve ARGS`: defaults < file < environment < flags. Returns 0,
 * 1 if --help was asked for (usage already printed), or -1 with a reason in err. */
int config_from_args(struct config *cfg, int argc, char **argv, char *err, size_t err_len);

/* Creates dir and its parents (mode 0755). Returns 0 or -1 with errno set. */
int config_mkdirs(const char *dir);

void config_print_usage(const char *prog);

#endif
