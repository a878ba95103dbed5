/* The server the signaling fuzz targets run in (#included by fuzz_sig_rpc.c and
 * fuzz_sig_channels.c): real parts without signaling sockets — a relay (its worker
 * thread, ICE on any port of 127.0.0.1 only, so candidates the fuzzer invents are never
 * probed beyond loopback, and no interface scan per peer), the registry and the event
 * queue — with the lesson's notices going where the target says. Stopped at exit. */
#ifndef CR_FUZZ_SIG_SERVER_H
#define CR_FUZZ_SIG_SERVER_H

#include <stdio.h>
#include <stdlib.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "lesson/evq.h"
#include "lesson/registry.h"
#include "server.h"

static struct server sig_srv;
static struct config sig_cfg;

static void sig_server_stop(void)
{
    cr_relay_free(sig_srv.relay);
    sig_srv.relay = NULL;
    reg_clear(sig_srv.reg);
    evq_destroy(sig_srv.evq);
    free(sig_srv.reg);
    free(sig_srv.evq);
}

static struct server *sig_server_start(const struct lesson_events *lesson,
                                       const struct cr_relay_events *relay)
{
    cr_log_set_level(CR_LOG_ERROR);
    sig_cfg = config_defaults;
    sig_cfg.ice_port_min = sig_cfg.ice_port_max = 0; /* never collide with a running server */
    sig_cfg.media_port = 0;
    snprintf(sig_cfg.bind_ip, sizeof sig_cfg.bind_ip, "127.0.0.1");
    sig_srv.cfg = &sig_cfg;
    sig_srv.started_ms = cr_now_ms();
    sig_srv.reg = CR_NEW(struct registry);
    reg_init(sig_srv.reg);
    sig_srv.evq = CR_NEW(struct evq);
    evq_init(sig_srv.evq);
    sig_srv.lesson_ev = lesson;
    struct cr_relay_config rc = CR_RELAY_CONFIG_DEFAULT;
    rc.port_min = rc.port_max = 0;
    rc.ice_tcp = false;
    rc.bind_ip = sig_cfg.bind_ip;
    sig_srv.relay = cr_relay_new(&rc, relay, &sig_srv);
    if (!sig_srv.relay)
        abort();
    atexit(sig_server_stop);
    return &sig_srv;
}

#endif
