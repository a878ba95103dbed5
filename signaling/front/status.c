/* /healthz and /api/v1/stats: see status.h. */
#include "front/status.h"

#include <sys/resource.h>

#include "lesson/evq.h"
#include "base/clock.h"
#include "lesson/recording.h"
#include "front/rpc.h"

int status_healthz(struct server *srv, json_t **out)
{
    struct cr_relay_stats st = {0};
    if (!srv->relay || cr_relay_get_stats(srv->relay, &st) != 0) {
        *out = json_pack("{s:s, s:s}", "status", "error", "message", "the relay does not answer");
        return 503;
    }
    *out = json_pack("{s:s, s:I, s:I}", "status", "ok", "rooms", (json_int_t)st.rooms, "peers",
                     (json_int_t)st.peers);
    return 200;
}

static double tv_seconds(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

/* {"count", "mean", "p50", "p99", "max", "buckets": [{"le": µs or null, "count"}]} */
static json_t *delay_json(const struct cr_delay_hist *h)
{
    json_t *buckets = json_array();
    for (unsigned i = 0; i < CR_DELAY_BUCKETS; i++)
        json_array_append_new(
            buckets,
            json_pack("{s:o, s:I}", "le",
                      i < CR_DELAY_BUCKETS - 1 ? json_integer(h->bound_us[i]) : json_null(),
                      "count", (json_int_t)h->count[i]));
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}", "count", (json_int_t)h->total, "mean",
                     (json_int_t)(h->total ? h->sum_us / h->total : 0), "p50",
                     (json_int_t)h->p50_us, "p99", (json_int_t)h->p99_us, "max",
                     (json_int_t)h->max_us, "buckets", buckets);
}

static json_t *relay_json(struct server *srv)
{
    struct cr_relay_stats st = {0};
    if (!srv->relay || cr_relay_get_stats(srv->relay, &st) != 0)
        return json_null();
    const struct {
        const char *name;
        uint64_t value;
    } counts[] = {
        {"rooms", st.rooms},
        {"peers", st.peers},
        {"taps", st.taps},
        {"producers", st.producers},
        {"consumers", st.consumers},
        {"rtp_in", st.rtp_in},
        {"rtp_out", st.rtp_out},
        {"bytes_in", st.bytes_in},
        {"bytes_out", st.bytes_out},
        {"rtcp_in", st.rtcp_in},
        {"rtcp_out", st.rtcp_out},
        {"bad_packets", st.bad_packets},
        {"keyframe_requests", st.keyframe_requests},
        {"nacks_in", st.nacks_in},
        {"red_in", st.red_in},
        {"red_out", st.red_out},
        {"data_in", st.data_in},
        {"data_out", st.data_out},
        {"data_dropped", st.data_dropped},
        {"paced", st.paced},
        {"pace_dropped", st.pace_dropped},
        {"nacks_out", st.nacks_out},
        {"repaired_in", st.repaired_in},
        {"udp_sent", st.udp_sent},
        {"udp_send_calls", st.udp_send_calls},
        {"udp_send_dropped", st.udp_send_dropped},
        {"udp_unknown", st.udp_unknown},
        {"tcp_connections", st.tcp_connections},
        {"tcp_dropped", st.tcp_dropped},
        {"handoff_out", st.handoff_out},
        {"handoff_in", st.handoff_in},
        {"handoff_dropped", st.handoff_dropped},
        {"refused", st.refused},
        {"load_pct", st.load_pct},
        {"links", st.links},
        {"link_rtp_out", st.link_rtp_out},
        {"link_nacks_in", st.link_nacks_in},
    };
    json_t *v = json_object();
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        json_object_set_new(v, counts[i].name, json_integer((json_int_t)counts[i].value));
    json_object_set_new(v, "forward_delay_us", delay_json(&st.forward_delay));
    json_t *workers = json_array();
    for (uint32_t i = 0; i < st.n_workers && i < CR_WORKERS_MAX; i++) {
        const struct cr_worker_stats *w = &st.workers[i];
        json_array_append_new(workers,
                              json_pack("{s:I, s:I, s:I, s:I, s:o}", "rooms", (json_int_t)w->rooms,
                                        "peers", (json_int_t)w->peers, "load_pct",
                                        (json_int_t)w->load_pct, "rtp_out", (json_int_t)w->rtp_out,
                                        "forward_delay_us", delay_json(&w->forward_delay)));
    }
    json_object_set_new(v, "workers", workers);
    return v;
}

static json_t *signaling_json(struct server *srv)
{
    const struct srv_counters *c = &srv->counters;
    json_t *errors = json_object();
    for (int e = 0; e < SRV_ERR_COUNT; e++)
        json_object_set_new(errors, srv_err_code((enum srv_err)e),
                            json_integer((json_int_t)c->errors[e]));
    pthread_mutex_lock(&srv->evq->lock);
    json_int_t dropped = (json_int_t)srv->evq->dropped;
    pthread_mutex_unlock(&srv->evq->lock);
    json_t *v =
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                  "s:I, s:o}",
                  "rooms", (json_int_t)srv->reg->n_rooms, "http_requests",
                  (json_int_t)c->http_requests, "ws_connections", (json_int_t)c->ws_connections,
                  "ws_connections_total", (json_int_t)c->ws_connections_total, "ws_messages_in",
                  (json_int_t)c->ws_messages_in, "ws_messages_out", (json_int_t)c->ws_messages_out,
                  "ws_dropped_slow", (json_int_t)c->ws_dropped_slow, "whip_sessions",
                  (json_int_t)c->whip_sessions, "whep_sessions", (json_int_t)c->whep_sessions,
                  "peers_timed_out", (json_int_t)c->peers_timed_out, "peers_failed",
                  (json_int_t)c->peers_failed, "relay_events", (json_int_t)c->relay_events,
                  "relay_events_dropped", dropped, "errors_total", (json_int_t)0, "errors", errors);
    json_object_set_new(v, "data_messages_in", json_integer((json_int_t)c->data_messages_in));
    json_object_set_new(v, "data_messages_bad", json_integer((json_int_t)c->data_messages_bad));
    json_object_set_new(v, "chat_messages", json_integer((json_int_t)c->chat_messages));
    json_object_set_new(v, "ws_begun", json_integer((json_int_t)c->ws_begun));
    json_object_set_new(v, "ws_resumed", json_integer((json_int_t)c->ws_resumed));
    json_object_set_new(v, "ws_park_expired", json_integer((json_int_t)c->ws_park_expired));
    json_object_set_new(v, "ws_begin_repeats", json_integer((json_int_t)c->ws_begin_repeats));
    return v;
}

json_t *status_peer(struct server *srv, uint64_t peer_id)
{
    struct cr_peer_stats st;
    if (!srv->relay || !peer_id || cr_relay_peer_stats(srv->relay, peer_id, &st) != 0)
        return NULL;
    json_t *tracks = json_array();
    for (size_t i = 0; i < st.n_consumers; i++) {
        const struct cr_consumer_stats *c = &st.consumers[i];
        json_array_append_new(
            tracks,
            json_pack("{s:s, s:I, s:s, s:i, s:i, s:i, s:b, s:i, s:I, s:I, s:I, s:f, s:I}", "mid",
                      c->mid, "track", (json_int_t)c->track_id, "kind",
                      c->kind == CR_KIND_AUDIO ? "audio" : "video", "layer", c->layer, "target",
                      c->target, "temporal", c->temporal, "paused", c->paused, "layers", c->layers,
                      "bitrate_bps", (json_int_t)c->bitrate_bps, "packets", (json_int_t)c->packets,
                      "retransmitted", (json_int_t)c->retransmitted, "loss",
                      c->fraction_lost / 256.0, "jitter_ms", (json_int_t)c->jitter_ms));
    }
    json_t *pacer =
        json_pack("{s:I, s:I, s:I, s:I}", "rate_bps", (json_int_t)st.pace_bps, "queue_bytes",
                  (json_int_t)st.pace_queue_bytes, "max_wait_ms", (json_int_t)st.pace_max_wait_ms,
                  "dropped", (json_int_t)st.pace_dropped);
    return json_pack("{s:I, s:s, s:s, s:I, s:I, s:i, s:o, s:o}", "peer", (json_int_t)st.peer_id,
                     "state", cr_peer_state_name(st.state), "pair", st.pair, "rtt_ms",
                     (json_int_t)st.rtt_ms, "estimate_bps", (json_int_t)st.estimate_bps, "fec_k",
                     (int)st.fec_k, "pacer", pacer, "tracks", tracks);
}

/* Every peer of every room, with who holds it. */
static json_t *peers_json(struct server *srv)
{
    json_t *out = json_array();
    for (struct reg_room *room = srv->reg->rooms; room; room = room->next) {
        for (struct reg_participant *p = room->participants; p; p = p->next) {
            for (int t = REG_PUBLISH; t <= REG_SUBSCRIBE; t++) {
                json_t *q = status_peer(srv, p->peers[t].id);
                if (!q)
                    continue;
                json_object_set_new(q, "room", json_string(room->name));
                json_object_set_new(q, "participant", json_string(p->id));
                json_object_set_new(q, "name", json_string(p->name));
                json_object_set_new(q, "target", json_string(reg_target_name((enum reg_target)t)));
                json_array_append_new(out, q);
            }
        }
        for (struct reg_resource *r = room->resources; r; r = r->next) {
            json_t *q = status_peer(srv, r->peer.id);
            if (!q)
                continue;
            json_object_set_new(q, "room", json_string(room->name));
            json_object_set_new(q, "target", json_string(r->whep ? "whep" : "whip"));
            json_array_append_new(out, q);
        }
    }
    return out;
}

void status_send_quality(struct server *srv)
{
    for (struct reg_room *room = srv->reg->rooms; room; room = room->next) {
        for (struct reg_participant *p = room->participants; p; p = p->next) {
            if (p->peers[REG_SUBSCRIBE].state != CR_PEER_CONNECTED)
                continue;
            json_t *q = status_peer(srv, p->peers[REG_SUBSCRIBE].id);
            if (q)
                rpc_event_quality(p, q);
        }
    }
}

json_t *status_stats(struct server *srv)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double user = tv_seconds(ru.ru_utime), sys = tv_seconds(ru.ru_stime);
    json_t *sig = signaling_json(srv);
    json_int_t total = 0;
    for (int e = 0; e < SRV_ERR_COUNT; e++)
        total += (json_int_t)srv->counters.errors[e];
    json_object_set_new(sig, "errors_total", json_integer(total));
    json_t *out = json_pack(
        "{s:s, s:I, s:o, s:{s:f, s:f, s:f, s:I}, s:o, s:o}", "version", SERVER_VERSION, "uptime_ms",
        (json_int_t)(cr_now_ms() - srv->started_ms), "relay", relay_json(srv), "process",
        "cpu_seconds", user + sys, "user_seconds", user, "system_seconds", sys, "max_rss_kb",
        (json_int_t)ru.ru_maxrss, "signaling", sig, "peers", peers_json(srv));
    if (srv->recording)
        json_object_set_new(out, "recording", recording_status_json(srv->recording));
    return out;
}
