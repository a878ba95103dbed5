/* ICE for one peer on the shared media port (net/ice_mux.h): the lite implementation of
 * RFC 8445 (§2.5: host candidates only, no checks of our own, always controlled; the SDP
 * says a=ice-lite), which is what a server with a reachable address needs and what
 * mediasoup does. ice.c hands its calls here when its configuration names a media port;
 * the callbacks and states are ice.h's. */
#ifndef CR_NET_ICE_LITE_H
#define CR_NET_ICE_LITE_H

#include "net/ice.h"
#include "net/ice_mux.h"

struct cr_ice_lite;

/* Fresh random credentials, registered with the mux. NULL if it refuses them. log: what its
 * log lines are about, set around the mux's calls (the strings must outlive it). */
struct cr_ice_lite *cr_ice_lite_new(struct cr_ice_mux *mux, const struct cr_ice_callbacks *cb,
                                    void *user, const struct cr_log_ctx *log);
void cr_ice_lite_free(struct cr_ice_lite *l);

const char *cr_ice_lite_ufrag(const struct cr_ice_lite *l);
const char *cr_ice_lite_pwd(const struct cr_ice_lite *l);
/* "a=candidate:..." lines: one host candidate per address of the mux. */
void cr_ice_lite_write_candidates(const struct cr_ice_lite *l, struct strbuf *out);
/* The peer's credentials; new ones restart ICE (RFC 8445 §9: ours change too, the pair in
 * use keeps working until a check on another one). */
int cr_ice_lite_set_remote_credentials(struct cr_ice_lite *l, const char *ufrag, const char *pwd);
int cr_ice_lite_send(struct cr_ice_lite *l, const uint8_t *buf, size_t len);
enum cr_ice_state cr_ice_lite_state(const struct cr_ice_lite *l);
void cr_ice_lite_describe_pair(const struct cr_ice_lite *l, char *buf, size_t len);
void cr_ice_lite_get_rx_stats(const struct cr_ice_lite *l, struct cr_ice_rx_stats *out);
void cr_ice_lite_set_consent_timing(struct cr_ice_lite *l, int interval_ms, int timeout_ms);

#endif
