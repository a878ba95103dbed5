/* The relay's share of /metrics (front/metrics.h): struct cr_relay_stats as Prometheus
 * families, counters with _total, histograms in base units (seconds, bits a second, a
 * ratio). The names are listed in docs/metrics.md. */
#include "front/metrics_priv.h"

#include <stdio.h>

/* A counter family of two samples told apart by one label: in and out, received and sent. */
static void pair(struct prom *p, const char *name, const char *help, const char *label,
                 const char *a, uint64_t va, const char *b, uint64_t vb)
{
    prom_family(p, name, "counter", help);
    prom_uint(p, &(struct prom_label){label, a}, 1, va);
    prom_uint(p, &(struct prom_label){label, b}, 1, vb);
}

static void gauges(struct prom *p, const struct cr_relay_stats *st)
{
    prom_gauge(p, "classrelay_relay_rooms",
               "Lessons open in the relay (one over several "
               "workers counts once).",
               st->rooms);
    prom_gauge(p, "classrelay_peers", "Relay peers (WebRTC transports) open.", st->peers);
    prom_gauge(p, "classrelay_producers", "Tracks published to the relay.", st->producers);
    prom_gauge(p, "classrelay_consumers", "Tracks the relay sends to subscribers.", st->consumers);
    prom_gauge(p, "classrelay_recording_taps", "Relay taps feeding the recorder.", st->taps);
    prom_gauge(p, "classrelay_cascade_links",
               "Cascade links open to other nodes (one per publisher and node; also peers).",
               st->links);
    prom_gauge(p, "classrelay_ice_tcp_connections", "ICE-TCP connections open on the media port.",
               st->tcp_connections);
}

static void traffic(struct prom *p, const struct cr_relay_stats *st)
{
    pair(p, "classrelay_rtp_packets_total",
         "RTP packets received from publishers (in) and sent to subscribers and recording "
         "taps (out).",
         "direction", "in", st->rtp_in, "out", st->rtp_out);
    pair(p, "classrelay_rtp_bytes_total", "RTP bytes received (in) and sent (out), as on the wire.",
         "direction", "in", st->bytes_in, "out", st->bytes_out);
    pair(p, "classrelay_rtcp_packets_total", "RTCP compounds received (in) and sent (out).",
         "direction", "in", st->rtcp_in, "out", st->rtcp_out);
    pair(p, "classrelay_red_packets_total",
         "Audio RED packets from publishers (in) and sent (out).", "direction", "in", st->red_in,
         "out", st->red_out);
    pair(p, "classrelay_data_messages_total",
         "Data channel messages from clients (in) and to them "
         "(out).",
         "direction", "in", st->data_in, "out", st->data_out);
    prom_family(p, "classrelay_video_forwarded_packets_total", "counter",
                "Video packets forwarded to subscribers and recording taps, by the simulcast "
                "layer they came from (its index in the publisher's offer; 0: one layer).");
    for (unsigned i = 0; i < CR_LAYERS_MAX; i++) {
        char layer[4];
        snprintf(layer, sizeof layer, "%u", i);
        prom_uint(p, &(struct prom_label){"layer", layer}, 1, st->layer_packets[i]);
    }
}

static void repairs(struct prom *p, const struct cr_relay_stats *st)
{
    prom_counter(p, "classrelay_nacks_received_total",
                 "NACK entries received from subscribers (RFC 4585).", st->nacks_in);
    prom_counter(p, "classrelay_nacks_repaired_total",
                 "NACK entries from subscribers answered with a retransmission (RFC 4588).",
                 st->nacks_repaired);
    prom_counter(p, "classrelay_nacks_sent_total",
                 "NACK entries sent to publishers for what their links lost.", st->nacks_out);
    prom_counter(p, "classrelay_cascade_nacks_received_total",
                 "NACK entries other nodes sent about the cascade links to them.",
                 st->link_nacks_in);
    prom_counter(p, "classrelay_cascade_packets_sent_total",
                 "RTP packets mirrored to other nodes over cascade links (each once per link).",
                 st->link_rtp_out);
    prom_counter(p, "classrelay_publisher_repairs_received_total",
                 "Packets publishers resent on the relay's NACKs that arrived.", st->repaired_in);
    pair(p, "classrelay_keyframe_requests_total",
         "Keyframe requests (PLI, FIR): received from subscribers, sent to publishers (after "
         "the throttle).",
         "direction", "received", st->keyframe_requests_in, "sent", st->keyframe_requests);
}

static void drops(struct prom *p, const struct cr_relay_stats *st)
{
    prom_counter(p, "classrelay_bad_packets_total",
                 "Packets dropped as malformed, unknown or failing SRTP.", st->bad_packets);
    prom_counter(p, "classrelay_data_messages_dropped_total",
                 "Data channel messages dropped: over a client's rate limit, or not sendable.",
                 st->data_dropped);
    prom_counter(p, "classrelay_paced_packets_total",
                 "Packets that waited in a pacer before they left.", st->paced);
    prom_counter(p, "classrelay_pace_dropped_packets_total",
                 "Packets a pacer dropped: stale, or over its queue's bound.", st->pace_dropped);
    prom_counter(p, "classrelay_udp_datagrams_sent_total",
                 "Datagrams sent through the shared media port.", st->udp_sent);
    prom_counter(p, "classrelay_udp_send_calls_total", "sendmmsg/sendto calls that carried them.",
                 st->udp_send_calls);
    prom_counter(p, "classrelay_udp_send_dropped_total",
                 "Datagrams the kernel refused on the media port.", st->udp_send_dropped);
    prom_counter(p, "classrelay_udp_unknown_total",
                 "Datagrams dropped on the media port: from no known peer.", st->udp_unknown);
    prom_counter(p, "classrelay_ice_tcp_dropped_total",
                 "Packets dropped on ICE-TCP connections: queue full, or gone.", st->tcp_dropped);
    prom_counter(p, "classrelay_peers_refused_total",
                 "New peers refused by admission control (the relay full).", st->refused);
    prom_family(p, "classrelay_handoff_packets_total", "counter",
                "Packets of a lesson spread over workers: handed to another worker (out), "
                "taken from one (in), dropped on a full ring (dropped).");
    prom_uint(p, &(struct prom_label){"result", "out"}, 1, st->handoff_out);
    prom_uint(p, &(struct prom_label){"result", "in"}, 1, st->handoff_in);
    prom_uint(p, &(struct prom_label){"result", "dropped"}, 1, st->handoff_dropped);
}

static void workers(struct prom *p, const struct cr_relay_stats *st)
{
    uint32_t n = st->n_workers < CR_WORKERS_MAX ? st->n_workers : CR_WORKERS_MAX;
    char names[CR_WORKERS_MAX][4];
    for (uint32_t i = 0; i < n; i++)
        snprintf(names[i], sizeof names[i], "%u", i);
    prom_family(p, "classrelay_worker_load_ratio", "gauge",
                "A media worker's CPU over the last second, as a share of a core.");
    for (uint32_t i = 0; i < n; i++)
        prom_double(p, &(struct prom_label){"worker", names[i]}, 1,
                    st->workers[i].load_pct / 100.0);
    prom_family(p, "classrelay_worker_peers", "gauge", "Relay peers on a media worker.");
    for (uint32_t i = 0; i < n; i++)
        prom_uint(p, &(struct prom_label){"worker", names[i]}, 1, st->workers[i].peers);
    prom_family(p, "classrelay_forward_delay_seconds", "histogram",
                "Media packets: read from the socket to handed to the socket toward a "
                "subscriber, by worker.");
    for (uint32_t i = 0; i < n; i++) {
        const struct cr_delay_hist *h = &st->workers[i].forward_delay;
        prom_histogram(p, &(struct prom_label){"worker", names[i]}, 1, h->bound_us,
                       CR_DELAY_BUCKETS - 1, h->count, (double)h->sum_us, 1e-6);
    }
}

static void value_hist(struct prom *p, const struct prom_label *label, size_t n,
                       const struct cr_value_hist *h, double scale)
{
    prom_histogram(p, label, n, h->bound, CR_DELAY_BUCKETS - 1, h->count, (double)h->sum, scale);
}

static void distributions(struct prom *p, const struct cr_relay_stats *st)
{
    prom_family(p, "classrelay_subscriber_estimate_bits_per_second", "histogram",
                "Subscribers' bandwidth estimates, each sampled once a second while connected.");
    value_hist(p, NULL, 0, &st->estimate_bps, 1);
    prom_family(p, "classrelay_subscriber_loss_ratio", "histogram",
                "The fraction lost in each receiver report block subscribers send about the "
                "relay's streams.");
    value_hist(p, NULL, 0, &st->loss_permille, 1e-3);
    prom_family(p, "classrelay_join_stage_seconds", "histogram",
                "Peers' starts, from the offer reaching the relay to ICE connected "
                "(stage=ice) and to SRTP keys in place (stage=connected).");
    value_hist(p, &(struct prom_label){"stage", "ice"}, 1, &st->join_ms[CR_JOIN_ICE], 1e-3);
    value_hist(p, &(struct prom_label){"stage", "connected"}, 1, &st->join_ms[CR_JOIN_CONNECTED],
               1e-3);
    prom_family(p, "classrelay_join_first_video_seconds", "histogram",
                "Subscribers: the offer reaching the relay to the first video packet handed to "
                "their transport (the server's view of join to first frame).");
    value_hist(p, NULL, 0, &st->join_ms[CR_JOIN_FIRST_VIDEO], 1e-3);
}

void metrics_relay(struct prom *p, const struct cr_relay_stats *st)
{
    gauges(p, st);
    traffic(p, st);
    repairs(p, st);
    drops(p, st);
    workers(p, st);
    distributions(p, st);
}
