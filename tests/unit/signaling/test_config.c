/* Tests signaling/config.c: config_set for every key with good and bad values (ports out
 * of range, HOST:PORT forms including IPv6 literals, log levels, ICE port ranges),
 * config_load_file on temporary files (comments, blank lines, unknown keys, over-long
 * lines, missing '='), config_load_env, config_from_args (every flag, unknown flags,
 * missing values, --help), and the precedence defaults < file < environment < flags. */
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/log.h"
#include "core/config.h"
#include "test.h"

static char tmpdir[64];
static char err[1024];

static const char *const env_vars[] = {
    "CLASSRELAY_LISTEN",           "CLASSRELAY_DATA",
    "CLASSRELAY_WEB_DIR",          "CLASSRELAY_PUBLIC_IP",
    "CLASSRELAY_BIND_IP",          "CLASSRELAY_ICE_PORTS",
    "CLASSRELAY_ICE_PORT_MIN",     "CLASSRELAY_ICE_PORT_MAX",
    "CLASSRELAY_ICE_TCP",          "CLASSRELAY_LOG_LEVEL",
    "CLASSRELAY_MAX_PUBLISH_KBPS", "CLASSRELAY_DEMO",
    "CLASSRELAY_CONFIG",
};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++)
        unsetenv(env_vars[i]);
}

/* Writes text to tmpdir/name and returns the path (static buffer). */
static const char *write_file(const char *name, const char *text, size_t len)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return path;
    fwrite(text, 1, len, f);
    fclose(f);
    return path;
}

static const char *write_text(const char *name, const char *text)
{
    return write_file(name, text, strlen(text));
}

static int set(struct config *c, const char *key, const char *value)
{
    err[0] = '\0';
    return config_set(c, key, value, err, sizeof err);
}

static void test_defaults(void)
{
    const struct config *d = &config_defaults;
    CHECK_STR(d->listen_host, "127.0.0.1");
    CHECK_EQ(d->listen_port, 8080);
    CHECK_STR(d->data_dir, "./classrelay-data");
    CHECK_STR(d->config_file, "");
    CHECK_STR(d->public_ip, "");
    CHECK_STR(d->bind_ip, "");
    CHECK_EQ(d->ice_port_min, 40000);
    CHECK_EQ(d->ice_port_max, 49999);
    CHECK(d->ice_tcp);
    CHECK_EQ(d->log_level, CR_LOG_INFO);
    CHECK_EQ(d->max_publish_kbps, 4000);
    CHECK(d->demo);
}

static void test_listen(void)
{
    struct config c = config_defaults;
    CHECK_EQ(set(&c, "listen", "0.0.0.0:9000"), 0);
    CHECK_STR(c.listen_host, "0.0.0.0");
    CHECK_EQ(c.listen_port, 9000);
    CHECK_EQ(set(&c, "listen", "localhost:1"), 0);
    CHECK_STR(c.listen_host, "localhost");
    CHECK_EQ(c.listen_port, 1);
    CHECK_EQ(set(&c, "listen", "relay-1.example.org:65535"), 0);
    CHECK_STR(c.listen_host, "relay-1.example.org");
    CHECK_EQ(c.listen_port, 65535);
    CHECK_EQ(set(&c, "listen", ":8081"), 0); /* all interfaces */
    CHECK_STR(c.listen_host, "0.0.0.0");
    CHECK_EQ(c.listen_port, 8081);
    CHECK_EQ(set(&c, "listen", "[::1]:8080"), 0);
    CHECK_STR(c.listen_host, "::1");
    CHECK_EQ(c.listen_port, 8080);
    CHECK_EQ(set(&c, "listen", "[::]:443"), 0);
    CHECK_STR(c.listen_host, "::");
    CHECK_EQ(c.listen_port, 443);
    CHECK_EQ(set(&c, "listen", "[fe80::1:2]:7"), 0);
    CHECK_STR(c.listen_host, "fe80::1:2");

    /* every failure leaves the previous value and says why */
    static const char *const bad[] = {
        "127.0.0.1",                         /* no port */
        "127.0.0.1:",                        /* empty port */
        "127.0.0.1:0",                       /* port 0 */
        "127.0.0.1:65536",                   /* out of range */
        "127.0.0.1:-1",                      /* sign */
        "127.0.0.1:+80",                     /* sign */
        "127.0.0.1:80x",                     /* trailing junk */
        "127.0.0.1: 80",                     /* space */
        "127.0.0.1:99999999999999999999999", /* overflows unsigned long */
        "[::1]",                             /* IPv6 without a port */
        "[::1:8080",                         /* unbalanced bracket */
        "::1]:8080",                         /* unbalanced bracket */
        "bad host:80",                       /* space in host */
        "a/b:80",                            /* slash */
        "host_name:80",                      /* underscore */
        "",
        ":",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(set(&c, "listen", bad[i]), -1);
        CHECK(err[0] != '\0');
        CHECK_STR(c.listen_host, "fe80::1:2");
        CHECK_EQ(c.listen_port, 7);
    }
    CHECK_EQ(set(&c, "listen", "127.0.0.1:65536"), -1);
    CHECK(strstr(err, "1 to 65535") != NULL);

    /* a host of 255 characters fits, 256 does not */
    char host[300];
    memset(host, 'h', 255);
    snprintf(host + 255, sizeof host - 255, ":80");
    CHECK_EQ(set(&c, "listen", host), 0);
    CHECK_EQ(strlen(c.listen_host), 255);
    memset(host, 'h', 256);
    snprintf(host + 256, sizeof host - 256, ":80");
    CHECK_EQ(set(&c, "listen", host), -1);
    CHECK(strstr(err, "too long") != NULL);
}

static void test_paths(void)
{
    struct config c = config_defaults;
    CHECK_EQ(set(&c, "data", "/var/lib/classrelay"), 0);
    CHECK_STR(c.data_dir, "/var/lib/classrelay");
    CHECK_EQ(set(&c, "data", ""), -1);
    CHECK_STR(c.data_dir, "/var/lib/classrelay");
    CHECK_EQ(set(&c, "config", "/etc/classrelay.conf"), 0);
    CHECK_STR(c.config_file, "/etc/classrelay.conf");
    CHECK_EQ(set(&c, "web_dir", "/srv/web"), 0);
    CHECK_STR(c.web_dir, "/srv/web");

    /* CONFIG_PATH_MAX - 1 characters fit, one more does not */
    static char longpath[CONFIG_PATH_MAX + 1];
    memset(longpath, 'p', CONFIG_PATH_MAX - 1);
    longpath[CONFIG_PATH_MAX - 1] = '\0';
    CHECK_EQ(set(&c, "web_dir", longpath), 0);
    CHECK_EQ(strlen(c.web_dir), CONFIG_PATH_MAX - 1);
    longpath[CONFIG_PATH_MAX - 1] = 'p';
    longpath[CONFIG_PATH_MAX] = '\0';
    CHECK_EQ(set(&c, "web_dir", longpath), -1);
    CHECK(strstr(err, "too long") != NULL);
    CHECK_EQ(set(&c, "data", longpath), -1);
    CHECK_EQ(set(&c, "config", longpath), -1);
    CHECK_STR(c.data_dir, "/var/lib/classrelay");
}

static void test_ips(void)
{
    struct config c = config_defaults;
    CHECK_EQ(set(&c, "public_ip", "203.0.113.7"), 0);
    CHECK_STR(c.public_ip, "203.0.113.7");
    CHECK_EQ(set(&c, "bind_ip", "2001:db8::1"), 0);
    CHECK_STR(c.bind_ip, "2001:db8::1");
    CHECK_EQ(set(&c, "bind_ip", "::ffff:192.0.2.1"), 0);
    CHECK_STR(c.bind_ip, "::ffff:192.0.2.1");
    CHECK_EQ(set(&c, "public_ip", ""), 0); /* clears it */
    CHECK_STR(c.public_ip, "");

    static const char *const bad[] = {
        "example.org", "203.0.113.7:80", "203.0.113", "203.0.113.7.1",  "256.1.1.1",  "cafe",
        ":::",         "1..2.3",         " 1.2.3.4",  "2001:db8::1::2", "1.2.3.4/24",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(set(&c, "public_ip", bad[i]), -1);
        CHECK(strstr(err, "IP address") != NULL);
        CHECK_EQ(set(&c, "bind_ip", bad[i]), -1);
    }
    CHECK_STR(c.public_ip, "");
    CHECK_STR(c.bind_ip, "::ffff:192.0.2.1");
}

static void test_ice_ports(void)
{
    struct config c = config_defaults;
    CHECK_EQ(set(&c, "ice_ports", "50000-50099"), 0);
    CHECK_EQ(c.ice_port_min, 50000);
    CHECK_EQ(c.ice_port_max, 50099);
    CHECK_EQ(set(&c, "ice_ports", "1-65535"), 0);
    CHECK_EQ(c.ice_port_min, 1);
    CHECK_EQ(c.ice_port_max, 65535);
    CHECK_EQ(set(&c, "ice_ports", "6000-6000"), 0); /* one port */
    CHECK_EQ(c.ice_port_min, 6000);
    CHECK_EQ(c.ice_port_max, 6000);

    static const char *const bad[] = {
        "6001-6000", /* min > max */
        "0-10",      "10-0", "10-65536", "-10", "10-",    "-",
        "",          "10",   "10-20-30", "a-b", "10 -20", "10- 20",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(set(&c, "ice_ports", bad[i]), -1);
        CHECK(strstr(err, "MIN-MAX") != NULL);
        CHECK_EQ(c.ice_port_min, 6000);
        CHECK_EQ(c.ice_port_max, 6000);
    }

    CHECK_EQ(set(&c, "ice_port_min", "40000"), 0);
    CHECK_EQ(set(&c, "ice_port_max", "40999"), 0);
    CHECK_EQ(c.ice_port_min, 40000);
    CHECK_EQ(c.ice_port_max, 40999);
    /* the single keys are checked against each other only once all sources are applied */
    CHECK_EQ(set(&c, "ice_port_min", "45000"), 0);
    CHECK_EQ(c.ice_port_min, 45000);
    static const char *const bad_port[] = {"0", "65536", "-1", "", "1e3", "0x10", "12 "};
    for (size_t i = 0; i < sizeof bad_port / sizeof bad_port[0]; i++) {
        CHECK_EQ(set(&c, "ice_port_min", bad_port[i]), -1);
        CHECK(strstr(err, "a port from 1 to 65535") != NULL);
        CHECK_EQ(set(&c, "ice_port_max", bad_port[i]), -1);
    }
    CHECK_EQ(c.ice_port_min, 45000);
    CHECK_EQ(c.ice_port_max, 40999);
    CHECK_EQ(set(&c, "ice_port", "1"), -1); /* near miss of a key name */
    CHECK(strstr(err, "unknown key") != NULL);
    CHECK_EQ(set(&c, "ice_port_mid", "1"), -1);
    CHECK(strstr(err, "unknown key") != NULL);
}

static void test_bools_levels_numbers(void)
{
    struct config c = config_defaults;
    static const char *const yes[] = {"1", "true", "yes", "on", "TRUE", "Yes", "oN"};
    static const char *const no[] = {"0", "false", "no", "off", "FALSE", "No", "OFF"};
    for (size_t i = 0; i < 7; i++) {
        CHECK_EQ(set(&c, "ice_tcp", no[i]), 0);
        CHECK(!c.ice_tcp);
        CHECK_EQ(set(&c, "ice_tcp", yes[i]), 0);
        CHECK(c.ice_tcp);
        CHECK_EQ(set(&c, "demo", no[i]), 0);
        CHECK(!c.demo);
        CHECK_EQ(set(&c, "demo", yes[i]), 0);
        CHECK(c.demo);
    }
    static const char *const bad_bool[] = {"", "2", "y", "enabled", "truee", " true"};
    for (size_t i = 0; i < sizeof bad_bool / sizeof bad_bool[0]; i++) {
        CHECK_EQ(set(&c, "ice_tcp", bad_bool[i]), -1);
        CHECK(strstr(err, "true or false") != NULL);
        CHECK_EQ(set(&c, "demo", bad_bool[i]), -1);
    }
    CHECK(c.ice_tcp);
    CHECK(c.demo);

    static const struct {
        const char *name;
        int level;
    } levels[] = {{"error", CR_LOG_ERROR},
                  {"warn", CR_LOG_WARN},
                  {"info", CR_LOG_INFO},
                  {"debug", CR_LOG_DEBUG}};
    for (size_t i = 0; i < 4; i++) {
        CHECK_EQ(set(&c, "log_level", levels[i].name), 0);
        CHECK_EQ(c.log_level, levels[i].level);
    }
    static const char *const bad_level[] = {"", "trace", "warning", "verbose", "3", "debug "};
    for (size_t i = 0; i < sizeof bad_level / sizeof bad_level[0]; i++) {
        CHECK_EQ(set(&c, "log_level", bad_level[i]), -1);
        CHECK(strstr(err, "error, warn, info or debug") != NULL);
    }
    CHECK_EQ(c.log_level, CR_LOG_DEBUG);

    CHECK_EQ(set(&c, "max_publish_kbps", "50"), 0);
    CHECK_EQ(c.max_publish_kbps, 50);
    CHECK_EQ(set(&c, "max_publish_kbps", "1000000"), 0);
    CHECK_EQ(c.max_publish_kbps, 1000000);
    static const char *const bad_kbps[] = {"49", "0", "1000001", "-5", "", "2500k", "4294967296"};
    for (size_t i = 0; i < sizeof bad_kbps / sizeof bad_kbps[0]; i++) {
        CHECK_EQ(set(&c, "max_publish_kbps", bad_kbps[i]), -1);
        CHECK(strstr(err, "50 to 1000000") != NULL);
    }
    CHECK_EQ(c.max_publish_kbps, 1000000);

    CHECK_EQ(set(&c, "nonsense", "1"), -1);
    CHECK(strstr(err, "unknown key \"nonsense\"") != NULL);
    CHECK_EQ(set(&c, "", "1"), -1);
    CHECK_EQ(set(&c, "LISTEN", "1.2.3.4:5"), -1); /* keys are case-sensitive */
}

/* The shared media port and admission control (docs/configuration.md). */
static void test_media_port_and_limits(void)
{
    struct config c = config_defaults;
    CHECK_EQ(c.media_port, 40000); /* the shared port is the default */
    CHECK_EQ(c.max_peers, 0);
    CHECK_EQ(c.max_load_pct, 90);
    CHECK_EQ(set(&c, "media_port", "40000"), 0);
    CHECK_EQ(c.media_port, 40000);
    CHECK_EQ(set(&c, "media_port", "0"), 0); /* off again */
    CHECK_EQ(c.media_port, 0);
    CHECK(set(&c, "media_port", "65536") < 0 && strstr(err, "port"));
    CHECK_EQ(set(&c, "max_peers", "500"), 0);
    CHECK_EQ(c.max_peers, 500);
    CHECK(set(&c, "max_peers", "20001") < 0 && strstr(err, "0 to 20000 peers"));
    CHECK_EQ(set(&c, "max_load", "75"), 0);
    CHECK_EQ(c.max_load_pct, 75);
    CHECK(set(&c, "max_load", "101") < 0 && strstr(err, "% of a core"));
    CHECK(set(&c, "max_load", "-1") < 0);
    CHECK_EQ(c.workers, 0);
    CHECK_EQ(set(&c, "workers", "2"), 0);
    CHECK_EQ(c.workers, 2);
    CHECK(set(&c, "workers", "17") < 0 && strstr(err, "workers"));
    CHECK_EQ(c.room_spread, 64);
    CHECK_EQ(set(&c, "room_spread", "1"), 0);
    CHECK_EQ(c.room_spread, 1);
    CHECK_EQ(set(&c, "room_spread", "0"), 0); /* a lesson stays on one worker */
    CHECK_EQ(c.room_spread, 0);
    CHECK(set(&c, "room_spread", "x") < 0 && strstr(err, "0 (never) to 20000 peers"));
}

static void test_load_file(void)
{
    struct config c = config_defaults;
    const char *p = write_text("good.conf", "# ClassRelay, county bureau\n"
                                            "\n"
                                            "   \t  \n"
                                            "listen = 0.0.0.0:9090\n"
                                            "public_ip=203.0.113.7\n"
                                            "  ice_port_min   =  40000  \n"
                                            "ice_port_max = 40999\r\n"
                                            "ice_tcp = false          # some schools block UDP\n"
                                            "max_publish_kbps = 2500\n"
                                            "log_level = warn\n"
                                            "demo = no\n"
                                            "web_dir = /srv/web\n"
                                            "bind_ip =\n"
                                            "# the end, without a final newline\n"
                                            "ice_ports = 41000-41999");
    CHECK_EQ(config_load_file(&c, p, err, sizeof err), 0);
    CHECK_STR(c.listen_host, "0.0.0.0");
    CHECK_EQ(c.listen_port, 9090);
    CHECK_STR(c.public_ip, "203.0.113.7");
    CHECK_EQ(c.ice_port_min, 41000);
    CHECK_EQ(c.ice_port_max, 41999);
    CHECK(!c.ice_tcp);
    CHECK_EQ(c.max_publish_kbps, 2500);
    CHECK_EQ(c.log_level, CR_LOG_WARN);
    CHECK(!c.demo);
    CHECK_STR(c.web_dir, "/srv/web");
    CHECK_STR(c.bind_ip, "");

    /* empty file and comment-only file: nothing changes */
    c = config_defaults;
    CHECK_EQ(config_load_file(&c, write_text("empty.conf", ""), err, sizeof err), 0);
    CHECK_EQ(config_load_file(&c, write_text("comments.conf", "#a\n# b = c\n\n#"), err, sizeof err),
             0);
    CHECK_EQ(memcmp(&c, &config_defaults, sizeof c), 0);

    /* errors name the file and the line */
    c = config_defaults;
    p = write_text("unknown.conf", "# x\nlisten = 127.0.0.1:8000\n\ncolour = blue\n");
    CHECK_EQ(config_load_file(&c, p, err, sizeof err), -1);
    CHECK(strstr(err, "unknown.conf:4: colour: unknown key \"colour\"") != NULL);
    CHECK_EQ(c.listen_port, 8000); /* lines before the error were applied */

    p = write_text("noeq.conf", "listen 127.0.0.1:8000\n");
    CHECK_EQ(config_load_file(&c, p, err, sizeof err), -1);
    CHECK(strstr(err, "noeq.conf:1: expected key = value") != NULL);

    p = write_text("badval.conf", "\n\nmax_publish_kbps = lots\n");
    CHECK_EQ(config_load_file(&c, p, err, sizeof err), -1);
    CHECK(strstr(err, "badval.conf:3: max_publish_kbps: expected 50 to 1000000") != NULL);

    p = write_text("emptykey.conf", " = 5\n");
    CHECK_EQ(config_load_file(&c, p, err, sizeof err), -1);
    CHECK(strstr(err, "emptykey.conf:1:") != NULL);

    p = write_text("data.conf", "data = /tmp/x\n");
    CHECK_EQ(config_load_file(&c, p, err, sizeof err), -1);
    CHECK(strstr(err, "\"data\" cannot be set in the config file") != NULL);
    p = write_text("config.conf", "config = /tmp/y\n");
    CHECK_EQ(config_load_file(&c, p, err, sizeof err), -1);
    CHECK(strstr(err, "\"config\" cannot be set in the config file") != NULL);

    /* a '=' inside a comment is not a setting */
    c = config_defaults;
    p = write_text("hash.conf", "# listen = 1.2.3.4:5\nlog_level = debug # = info\n");
    CHECK_EQ(config_load_file(&c, p, err, sizeof err), 0);
    CHECK_EQ(c.listen_port, 8080);
    CHECK_EQ(c.log_level, CR_LOG_DEBUG);

    /* a value with '=' in it: the first '=' splits */
    p = write_text("eq.conf", "web_dir = /srv/a=b\n");
    CHECK_EQ(config_load_file(&c, p, err, sizeof err), 0);
    CHECK_STR(c.web_dir, "/srv/a=b");

    /* missing file */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/does-not-exist.conf", tmpdir);
    CHECK_EQ(config_load_file(&c, missing, err, sizeof err), -1);
    CHECK(strstr(err, "does-not-exist.conf") != NULL);
    CHECK(strstr(err, "No such file") != NULL);

    /* a directory */
    CHECK_EQ(config_load_file(&c, tmpdir, err, sizeof err), -1);
}

/* Lines longer than the reader's buffer must be refused, not split into two lines: the
 * tail of a long comment must never be read as a setting. */
static void test_long_lines(void)
{
    static char text[8192];
    struct config c = config_defaults;

    /* a comment of 3000 characters whose tail looks like a setting */
    size_t n = (size_t)snprintf(text, sizeof text, "# ");
    memset(text + n, 'x', 3000);
    n += 3000;
    n += (size_t)snprintf(text + n, sizeof text - n, " listen = 1.2.3.4:5\nlog_level = debug\n");
    const char *p = write_file("longcomment.conf", text, n);
    int rc = config_load_file(&c, p, err, sizeof err);
    CHECK_EQ(rc, -1);
    CHECK(strstr(err, "longcomment.conf:1:") != NULL);
    CHECK(strstr(err, "too long") != NULL);
    CHECK_EQ(c.listen_port, 8080);

    /* a long value: refused with the right line number */
    c = config_defaults;
    n = (size_t)snprintf(text, sizeof text, "log_level = info\nweb_dir = /");
    memset(text + n, 'w', 5000);
    n += 5000;
    text[n++] = '\n';
    p = write_file("longvalue.conf", text, n);
    CHECK_EQ(config_load_file(&c, p, err, sizeof err), -1);
    CHECK(strstr(err, "longvalue.conf:2:") != NULL);
    CHECK_STR(c.web_dir, config_defaults.web_dir);

    /* the longest line that fits (2047 characters and the newline) still works */
    c = config_defaults;
    n = (size_t)snprintf(text, sizeof text, "web_dir = /");
    memset(text + n, 'w', 1000);
    n += 1000;
    n += (size_t)snprintf(text + n, sizeof text - n, "   #");
    memset(text + n, 'c', 2047 - n);
    n = 2047;
    text[n++] = '\n';
    n += (size_t)snprintf(text + n, sizeof text - n, "demo = off\n");
    p = write_file("fits.conf", text, n);
    CHECK_EQ(config_load_file(&c, p, err, sizeof err), 0);
    CHECK_EQ(strlen(c.web_dir), 1001);
    CHECK(!c.demo);

    /* the same length as the last line of a file without a final newline */
    c = config_defaults;
    p = write_file("fits_eof.conf", text, 2047);
    CHECK_EQ(config_load_file(&c, p, err, sizeof err), 0);
    CHECK_EQ(strlen(c.web_dir), 1001);

    /* one more character is too long, also on the last line without a newline */
    memset(text, 'c', 2048);
    text[0] = '#';
    p = write_file("toolong_eof.conf", text, 2048);
    CHECK_EQ(config_load_file(&c, p, err, sizeof err), -1);
    CHECK(strstr(err, "toolong_eof.conf:1: line too long") != NULL);

    /* a NUL byte inside a line */
    static const char nul_line[] = "demo = on\nlisten = 1.2.3.4:5\0 junk\n";
    p = write_file("nul.conf", nul_line, sizeof nul_line - 1);
    CHECK_EQ(config_load_file(&c, p, err, sizeof err), -1);
    CHECK(strstr(err, "nul.conf:2: NUL byte in line") != NULL);

    /* a file of NUL bytes and no newline */
    memset(text, 0, 4096);
    p = write_file("nuls.conf", text, 4096);
    CHECK_EQ(config_load_file(&c, p, err, sizeof err), -1);
    CHECK(strstr(err, "too long") != NULL);
}

static void test_load_env(void)
{
    clear_env();
    struct config c = config_defaults;
    CHECK_EQ(config_load_env(&c, err, sizeof err), 0);
    CHECK_EQ(memcmp(&c, &config_defaults, sizeof c), 0);

    setenv("CLASSRELAY_LISTEN", "[::1]:7000", 1);
    setenv("CLASSRELAY_DATA", "/var/lib/cr", 1);
    setenv("CLASSRELAY_WEB_DIR", "/srv/w", 1);
    setenv("CLASSRELAY_PUBLIC_IP", "198.51.100.1", 1);
    setenv("CLASSRELAY_BIND_IP", "10.0.0.2", 1);
    setenv("CLASSRELAY_ICE_PORTS", "30000-30010", 1);
    setenv("CLASSRELAY_ICE_TCP", "off", 1);
    setenv("CLASSRELAY_LOG_LEVEL", "error", 1);
    setenv("CLASSRELAY_MAX_PUBLISH_KBPS", "800", 1);
    setenv("CLASSRELAY_DEMO", "0", 1);
    CHECK_EQ(config_load_env(&c, err, sizeof err), 0);
    CHECK_STR(c.listen_host, "::1");
    CHECK_EQ(c.listen_port, 7000);
    CHECK_STR(c.data_dir, "/var/lib/cr");
    CHECK_STR(c.web_dir, "/srv/w");
    CHECK_STR(c.public_ip, "198.51.100.1");
    CHECK_STR(c.bind_ip, "10.0.0.2");
    CHECK_EQ(c.ice_port_min, 30000);
    CHECK_EQ(c.ice_port_max, 30010);
    CHECK(!c.ice_tcp);
    CHECK_EQ(c.log_level, CR_LOG_ERROR);
    CHECK_EQ(c.max_publish_kbps, 800);
    CHECK(!c.demo);

    /* the single-port variables are applied after CLASSRELAY_ICE_PORTS */
    setenv("CLASSRELAY_ICE_PORT_MIN", "30005", 1);
    setenv("CLASSRELAY_ICE_PORT_MAX", "30006", 1);
    CHECK_EQ(config_load_env(&c, err, sizeof err), 0);
    CHECK_EQ(c.ice_port_min, 30005);
    CHECK_EQ(c.ice_port_max, 30006);

    /* a bad value names the variable */
    setenv("CLASSRELAY_ICE_TCP", "maybe", 1);
    CHECK_EQ(config_load_env(&c, err, sizeof err), -1);
    CHECK(strstr(err, "CLASSRELAY_ICE_TCP: expected true or false") != NULL);
    setenv("CLASSRELAY_ICE_TCP", "on", 1);
    setenv("CLASSRELAY_LISTEN", "nope", 1);
    CHECK_EQ(config_load_env(&c, err, sizeof err), -1);
    CHECK(strstr(err, "CLASSRELAY_LISTEN:") != NULL);
    setenv("CLASSRELAY_LISTEN", "", 1); /* set but empty is still a value, and a bad one */
    CHECK_EQ(config_load_env(&c, err, sizeof err), -1);
    setenv("CLASSRELAY_LISTEN", "127.0.0.1:8080", 1);
    setenv("CLASSRELAY_DATA", "", 1);
    CHECK_EQ(config_load_env(&c, err, sizeof err), -1);
    CHECK(strstr(err, "CLASSRELAY_DATA: empty data directory") != NULL);
    clear_env();
}

/* config_from_args with a NULL-terminated list of arguments (no program name). */
static int from_args(struct config *c, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, c);
    char *a;
    while ((a = va_arg(ap, char *)) && argc < 31)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    err[0] = '\0';
    return config_from_args(c, argc, argv, err, sizeof err);
}

static void test_from_args(void)
{
    clear_env();
    struct config c;
    char data[128], conf[160];
    snprintf(data, sizeof data, "%s/data", tmpdir);

    /* --listen and --data are optional: both have defaults */
    CHECK_EQ(from_args(&c, "--data", data, NULL), 0);
    CHECK_STR(c.listen_host, "127.0.0.1");
    CHECK_EQ(c.listen_port, 8080);
    CHECK_STR(c.data_dir, data);
    CHECK_STR(c.config_file, "");

    CHECK_EQ(from_args(&c, "--listen", "0.0.0.0:9000", "--data", data, "--public-ip", "203.0.113.9",
                       "--bind-ip", "192.0.2.4", "--ice-ports", "41000-41010", "--no-ice-tcp",
                       "--log-level", "debug", "--max-publish-kbps", "1500", "--no-demo",
                       "--web-dir", "/srv/web", NULL),
             0);
    CHECK_STR(c.listen_host, "0.0.0.0");
    CHECK_EQ(c.listen_port, 9000);
    CHECK_STR(c.public_ip, "203.0.113.9");
    CHECK_STR(c.bind_ip, "192.0.2.4");
    CHECK_EQ(c.ice_port_min, 41000);
    CHECK_EQ(c.ice_port_max, 41010);
    CHECK(!c.ice_tcp);
    CHECK_EQ(c.log_level, CR_LOG_DEBUG);
    CHECK_EQ(c.max_publish_kbps, 1500);
    CHECK(!c.demo);
    CHECK_STR(c.web_dir, "/srv/web");

    /* --flag=value */
    CHECK_EQ(
        from_args(&c, "--listen=[::1]:9001", "--data=/nonexistent/cr", "--log-level=warn", NULL),
        0);
    CHECK_STR(c.listen_host, "::1");
    CHECK_EQ(c.listen_port, 9001);
    CHECK_STR(c.data_dir, "/nonexistent/cr");
    CHECK_EQ(c.log_level, CR_LOG_WARN);
    CHECK_EQ(from_args(&c, "--data", data, "--web-dir=", NULL), 0); /* empty value given */
    CHECK_STR(c.web_dir, "");

    /* unknown flags, missing values, values where none are taken */
    CHECK_EQ(from_args(&c, "--data", data, "--colour", "blue", NULL), -1);
    CHECK(strstr(err, "unknown flag \"--colour\"") != NULL);
    CHECK_EQ(from_args(&c, "serve", NULL), -1);
    CHECK(strstr(err, "unknown flag \"serve\"") != NULL);
    CHECK_EQ(from_args(&c, "-l", "1.2.3.4:5", NULL), -1);
    CHECK_EQ(from_args(&c, "--listen-", "1.2.3.4:5", NULL), -1);
    CHECK_EQ(from_args(&c, "--lis", "1.2.3.4:5", NULL), -1);
    CHECK_EQ(from_args(&c, "--data", data, "--listen", NULL), -1);
    CHECK(strstr(err, "--listen needs a value") != NULL);
    CHECK_EQ(from_args(&c, "--data", NULL), -1);
    CHECK(strstr(err, "--data needs a value") != NULL);
    CHECK_EQ(from_args(&c, "--data", data, "--no-demo=yes", NULL), -1);
    CHECK(strstr(err, "--no-demo takes no value") != NULL);
    CHECK_EQ(from_args(&c, "--data", data, "--no-ice-tcp=", NULL), -1);

    /* bad values name the flag */
    CHECK_EQ(from_args(&c, "--data", data, "--listen", "127.0.0.1:70000", NULL), -1);
    CHECK(strstr(err, "--listen: expected HOST:PORT") != NULL);
    CHECK_EQ(from_args(&c, "--data", data, "--ice-ports", "5000-4000", NULL), -1);
    CHECK(strstr(err, "--ice-ports: expected MIN-MAX") != NULL);
    CHECK_EQ(from_args(&c, "--data", data, "--log-level", "loud", NULL), -1);
    CHECK(strstr(err, "--log-level:") != NULL);
    CHECK_EQ(from_args(&c, "--data", "", NULL), -1);
    CHECK(strstr(err, "--data: empty data directory") != NULL);
    CHECK_EQ(from_args(&c, "--data", data, "--public-ip", "my.host", NULL), -1);
    CHECK(strstr(err, "--public-ip:") != NULL);

    /* --help and -h win wherever they are, even after a bad flag's position */
    CHECK_EQ(from_args(&c, "--help", NULL), 1);
    CHECK_EQ(from_args(&c, "--data", data, "-h", NULL), 1);
    CHECK_EQ(from_args(&c, "--help", "--colour", NULL), 1);

    /* the last of a repeated flag wins */
    CHECK_EQ(from_args(&c, "--data", data, "--listen", ":1", "--listen", ":2", NULL), 0);
    CHECK_EQ(c.listen_port, 2);

    /* an explicit config file that does not exist is an error */
    snprintf(conf, sizeof conf, "%s/missing.conf", tmpdir);
    CHECK_EQ(from_args(&c, "--data", data, "--config", conf, NULL), -1);
    CHECK(strstr(err, "missing.conf") != NULL);

    /* ICE ranges inverted by single keys across sources are refused at the end */
    const char *p = write_text("inverted.conf", "ice_port_min = 45000\n");
    setenv("CLASSRELAY_ICE_PORT_MAX", "44000", 1);
    CHECK_EQ(from_args(&c, "--data", data, "--config", p, NULL), -1);
    CHECK(strstr(err, "ice_port_min (45000) is above ice_port_max (44000)") != NULL);
    clear_env();
}

static void test_precedence(void)
{
    clear_env();
    struct config c;
    char data[128], data_conf[160];
    snprintf(data, sizeof data, "%s/data", tmpdir);
    CHECK_EQ(config_mkdirs(data), 0);

    const char *p = write_text("prec.conf", "listen = 127.0.0.1:1000\n"
                                            "log_level = error\n"
                                            "max_publish_kbps = 100\n"
                                            "demo = false\n"
                                            "public_ip = 192.0.2.1\n");
    char file[256];
    snprintf(file, sizeof file, "%s", p);

    /* file only */
    CHECK_EQ(from_args(&c, "--data", data, "--config", file, NULL), 0);
    CHECK_STR(c.config_file, file);
    CHECK_EQ(c.listen_port, 1000);
    CHECK_EQ(c.log_level, CR_LOG_ERROR);
    CHECK_EQ(c.max_publish_kbps, 100);
    CHECK(!c.demo);
    CHECK_STR(c.public_ip, "192.0.2.1");

    /* environment over file */
    setenv("CLASSRELAY_LISTEN", "127.0.0.1:2000", 1);
    setenv("CLASSRELAY_LOG_LEVEL", "warn", 1);
    CHECK_EQ(from_args(&c, "--data", data, "--config", file, NULL), 0);
    CHECK_EQ(c.listen_port, 2000);
    CHECK_EQ(c.log_level, CR_LOG_WARN);
    CHECK_EQ(c.max_publish_kbps, 100);

    /* flags over environment over file */
    CHECK_EQ(from_args(&c, "--data", data, "--config", file, "--listen", "127.0.0.1:3000", NULL),
             0);
    CHECK_EQ(c.listen_port, 3000);
    CHECK_EQ(c.log_level, CR_LOG_WARN);
    CHECK_EQ(c.max_publish_kbps, 100);
    CHECK_STR(c.public_ip, "192.0.2.1");

    /* CLASSRELAY_CONFIG names the file; --config wins over it */
    setenv("CLASSRELAY_CONFIG", file, 1);
    CHECK_EQ(from_args(&c, "--data", data, NULL), 0);
    CHECK_STR(c.config_file, file);
    CHECK_EQ(c.max_publish_kbps, 100);
    const char *other = write_text("other.conf", "max_publish_kbps = 200\n");
    char other_path[256];
    snprintf(other_path, sizeof other_path, "%s", other);
    CHECK_EQ(from_args(&c, "--data", data, "--config", other_path, NULL), 0);
    CHECK_STR(c.config_file, other_path);
    CHECK_EQ(c.max_publish_kbps, 200);
    unsetenv("CLASSRELAY_CONFIG");
    unsetenv("CLASSRELAY_LISTEN");
    unsetenv("CLASSRELAY_LOG_LEVEL");

    /* DATA/classrelay.conf is read when present, DATA from the flag or the environment */
    snprintf(data_conf, sizeof data_conf, "%s/classrelay.conf", data);
    FILE *f = fopen(data_conf, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("max_publish_kbps = 300\n", f);
        fclose(f);
    }
    CHECK_EQ(from_args(&c, "--data", data, NULL), 0);
    CHECK_STR(c.config_file, data_conf);
    CHECK_EQ(c.max_publish_kbps, 300);
    setenv("CLASSRELAY_DATA", data, 1);
    CHECK_EQ(from_args(&c, NULL), 0);
    CHECK_STR(c.config_file, data_conf);
    CHECK_STR(c.data_dir, data);
    CHECK_EQ(c.max_publish_kbps, 300);
    /* the flag's DATA wins over the environment's, for finding the file too */
    char empty_data[128];
    snprintf(empty_data, sizeof empty_data, "%s/empty", tmpdir);
    CHECK_EQ(from_args(&c, "--data", empty_data, NULL), 0);
    CHECK_STR(c.config_file, "");
    CHECK_STR(c.data_dir, empty_data);
    CHECK_EQ(c.max_publish_kbps, 4000);
    clear_env();

    /* a bad DATA/classrelay.conf stops start-up with its line */
    f = fopen(data_conf, "w");
    if (f) {
        fputs("\nmax_publish_kbps = 300\nlisten = nowhere\n", f);
        fclose(f);
    }
    CHECK_EQ(from_args(&c, "--data", data, NULL), -1);
    CHECK(strstr(err, "classrelay.conf:3: listen:") != NULL);
    remove(data_conf);
}

static void test_mkdirs(void)
{
    char dir[200];
    snprintf(dir, sizeof dir, "%s/a/b/c", tmpdir);
    CHECK_EQ(config_mkdirs(dir), 0);
    CHECK_EQ(config_mkdirs(dir), 0); /* exists already */
    snprintf(dir, sizeof dir, "%s/a/b/c/", tmpdir);
    CHECK_EQ(config_mkdirs(dir), 0); /* trailing slash */
    CHECK_EQ(config_mkdirs(""), -1);
    const char *file = write_text("plain", "x");
    CHECK_EQ(config_mkdirs(file), -1); /* a file, not a directory */
    snprintf(dir, sizeof dir, "%s/plain/sub", tmpdir);
    CHECK_EQ(config_mkdirs(dir), -1);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cr_test_config_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_defaults();
    test_listen();
    test_paths();
    test_ips();
    test_ice_ports();
    test_bools_levels_numbers();
    test_media_port_and_limits();
    test_load_file();
    test_long_lines();
    test_load_env();
    test_from_args();
    test_precedence();
    test_mkdirs();
    test_remove_tree(tmpdir);
    return test_report();
}
