/* Where a lesson's clients are served: see place.h. The directory answers from its
 * snapshot (cluster/directory.c); only a teacher's claim may wait for Redis, at most
 * DIR_CLAIM_WAIT_MS, because the claim decides whether the offer is answered here. */
#include "lesson/place.h"

#include <stdio.h>

#include "classrelay/relay.h"
#include "cluster/directory.h"
#include "base/log.h"

bool place_full(struct server *srv, uint32_t *peers, uint32_t *load_pct)
{
    struct cr_relay_stats st = {0};
    if (!srv->relay || cr_relay_get_stats(srv->relay, &st) != 0)
        return false;
    if (peers)
        *peers = st.peers;
    if (load_pct)
        *load_pct = st.load_pct;
    const struct config *cfg = srv->cfg;
    return (cfg->max_peers && st.peers >= cfg->max_peers) ||
           (cfg->max_load_pct && st.load_pct >= cfg->max_load_pct);
}

bool place_elsewhere(struct server *srv, const char *room, enum reg_role role, char *url,
                     size_t cap)
{
    if (!srv->dir)
        return false;
    if (role == REG_TEACHER) {
        if (dir_claim(srv->dir, room, url, cap) != DIR_OTHER)
            return false;
        dir_count_redirect(srv->dir, DIR_REDIRECT_ORIGIN);
        CR_INFO("cluster", "a teacher of %s sent to its origin %s", room, url);
        return true;
    }
    char origin[DIR_URL_MAX];
    place_origin(srv, room, origin, sizeof origin); /* the claim is read from now on */
    if (!place_full(srv, NULL, NULL) || !dir_pick(srv->dir, room, url, cap))
        return false; /* served here (or, with no node that has room, refused as full) */
    dir_count_redirect(srv->dir, DIR_REDIRECT_FULL);
    CR_INFO("cluster", "this node is full: a %s of %s sent to %s", reg_role_name(role), room, url);
    return true;
}

bool place_origin(struct server *srv, const char *room, char *url, size_t cap)
{
    return dir_origin(srv->dir, room, url, cap);
}
