/* Shared between front/metrics.c (access, signaling, recorder, process) and
 * front/metrics_relay.c (the relay's figures). Not for other modules: they use metrics.h. */
#ifndef CR_SIGNALING_METRICS_PRIV_H
#define CR_SIGNALING_METRICS_PRIV_H

#include "classrelay/relay.h"
#include "front/prom_text.h"

/* The relay's families, from one cr_relay_get_stats. */
void metrics_relay(struct prom *p, const struct cr_relay_stats *st);

#endif
