/* Fuzz entry point for signaling/config.c: loads the input as a config file (through a
 * memfd, so config_load_file reads it like any file), then splits it at newlines into
 * `classrelay serve` arguments for config_from_args. Checks that whatever is accepted is a
 * valid configuration and that every refusal says why. Arguments naming a config file are
 * dropped: the fuzzer must not make the server read /dev/zero or its own binary. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"

static void check_valid(const struct config *c)
{
    if (strnlen(c->listen_host, sizeof c->listen_host) == sizeof c->listen_host ||
        strnlen(c->data_dir, sizeof c->data_dir) == sizeof c->data_dir ||
        strnlen(c->config_file, sizeof c->config_file) == sizeof c->config_file ||
        strnlen(c->web_dir, sizeof c->web_dir) == sizeof c->web_dir ||
        strnlen(c->public_ip, sizeof c->public_ip) == sizeof c->public_ip ||
        strnlen(c->bind_ip, sizeof c->bind_ip) == sizeof c->bind_ip)
        abort();
    if (c->listen_port == 0 || !c->listen_host[0] || c->ice_port_min == 0 || c->ice_port_max == 0 ||
        c->log_level < 0 || c->log_level > 3 || c->max_publish_kbps < 50 ||
        c->max_publish_kbps > 1000000)
        abort();
}

static void fuzz_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz_sig_config", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
        abort();
    struct config c = config_defaults;
    char err[512] = "";
    if (config_load_file(&c, path, err, sizeof err) != 0) {
        if (!err[0] || strnlen(err, sizeof err) == sizeof err)
            abort();
    }
    check_valid(&c);
}

static void fuzz_args(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char **argv = malloc((size + 2) * sizeof *argv);
    int argc = 0;
    for (char *p = text, *nl; size > 0 && p; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (strncmp(p, "--config", 8) != 0)
            argv[argc++] = p;
        if (p >= text + size)
            break;
    }
    argv[argc] = NULL;
    struct config c;
    char err[512] = "";
    int rc = config_from_args(&c, argc, argv, err, sizeof err);
    if (rc == 0) {
        check_valid(&c);
        if (c.ice_port_min > c.ice_port_max)
            abort();
    } else if (rc < 0 && !err[0]) {
        abort();
    }
    free(argv);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_file(data, size);
    fuzz_args(data, size);
    return 0;
}
