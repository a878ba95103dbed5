/* classrelay: the command-line entry point.
 *
 *   classrelay serve [flags]   start the server (config.c explains the flags)
 *   classrelay token [flags]   print a signed access token (token_cmd.c)
 *   classrelay version         print the version
 *   classrelay --help          usage
 *
 * `serve` reads the configuration (exit status 2 on a bad flag or value), creates the data
 * directory, starts the server (server.c), prints one line with the URL to open, and runs
 * until SIGINT or SIGTERM, then shuts down cleanly: peers closed, relay freed. SIGHUP loads
 * the HTTPS certificate again. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "core/config.h"
#include "server.h"
#include "token_cmd.h"

static struct server *g_server; /* for the signal handler only */

static void on_signal(int sig)
{
    if (g_server && sig == SIGHUP)
        server_request_tls_reload(g_server);
    else if (g_server)
        server_request_stop(g_server);
}

/* The URL to open; on a fresh data folder also the admin's first-login password, once. */
static void print_url(const struct config *cfg, const char *first_password)
{
    const char *host = cfg->listen_host;
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
        host = "127.0.0.1";
    char base[CONFIG_STR_MAX + 32];
    const char *scheme = config_tls_on(cfg) ? "https" : "http";
    snprintf(base, sizeof base, strchr(host, ':') ? "%s://[%s]:%u/" : "%s://%s:%u/", scheme, host,
             cfg->listen_port);
    if (cfg->demo)
        printf("ClassRelay serving %s — demo lesson: %steacher.html?room=demo\n", base, base);
    else
        printf("ClassRelay serving %s\n", base);
    if (first_password[0])
        printf("first start: log in at %slogin.html as admin / %s\n", base, first_password);
    fflush(stdout);
}

static int serve(int argc, char **argv)
{
    static struct config cfg;
    char err[1024];
    int rc = config_from_args(&cfg, argc, argv, err, sizeof err);
    if (rc == 1) {
        config_print_usage("classrelay");
        return 0;
    }
    if (rc != 0) {
        fprintf(stderr, "classrelay: %s\n", err);
        return 2;
    }
    cr_log_set_level((enum cr_log_level)cfg.log_level);
    cr_log_set_format(cfg.log_format == 1 ? CR_LOG_JSON : CR_LOG_TEXT);
    if (config_mkdirs(cfg.data_dir) != 0) {
        fprintf(stderr, "classrelay: cannot create data directory %s: %s\n", cfg.data_dir,
                strerror(errno));
        return 1;
    }
    static struct server srv;
    if (server_start(&srv, &cfg) != 0)
        return 1;
    g_server = &srv;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL); /* reload the HTTPS certificate (listen.c) */
    signal(SIGPIPE, SIG_IGN);
    if (cfg.media_port)
        CR_INFO("main", "version %s, data %s, web %s, media port %u (UDP, every peer)",
                SERVER_VERSION, cfg.data_dir, cfg.web_dir, cfg.media_port);
    else
        CR_INFO("main", "version %s, data %s, web %s, ICE ports %u-%u%s", SERVER_VERSION,
                cfg.data_dir, cfg.web_dir, cfg.ice_port_min, cfg.ice_port_max,
                cfg.ice_tcp ? " (+TCP)" : "");
    print_url(&cfg, srv.first_password);
    server_run(&srv);
    CR_INFO("main", "signal received, stopping");
    server_stop(&srv);
    g_server = NULL;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        config_print_usage("classrelay");
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        config_print_usage("classrelay");
        printf("\ntokens: classrelay token --role ROLE [--room ROOM] (token --help)\n");
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("classrelay %s\n", SERVER_VERSION);
        return 0;
    }
    if (strcmp(cmd, "serve") == 0)
        return serve(argc - 2, argv + 2);
    if (strcmp(cmd, "token") == 0)
        return token_cmd(argc - 2, argv + 2);
    fprintf(stderr, "classrelay: unknown command \"%s\" (see classrelay --help)\n", cmd);
    return 2;
}
