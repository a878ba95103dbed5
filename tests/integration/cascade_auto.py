#!/usr/bin/python3
"""An edge pulls a lesson from its origin by itself (issue 14, docs/cluster.md).

Usage: /usr/bin/python3 tests/integration/cascade_auto.py [path/to/classrelay] [--players 3]

A real redis-server (tools/redis_tmp.sh) and two classrelay nodes on loopback, A and B,
sharing --redis and --secret-file:
  * an aiortc teacher publishes lesson "geo" over WHIP on A: A claims it (its origin);
  * aiortc players open WHEP on B: B is not the origin, so it asks A for cascade links,
    opens them as the lesson's teacher there and answers; the players decode the moving bar,
    each within a few seconds of its POST (printed), and A sends the lesson once (one link,
    its packets out are the link's, whatever the number of players);
  * a player on A and one on B side by side: how much later each frame (matched by the
    bar's position) is decoded through the cascade, the median printed;
  * the teacher leaves A and comes back with a new peer: B sees the origin's publishers
    change, links again, and the players decode again (time printed);
  * the players leave: B stops pulling, and A's link is closed.
Everything on 127.0.0.1. Prints "RESULT: PASS" or "RESULT: FAIL".
"""
import sys
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import argparse
import asyncio
import os
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "lib"))
import peers  # noqa: E402
from peers import check, log  # noqa: E402

peers.patch_aioice_loopback()

from aiortc import RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import MediaStreamError  # noqa: E402
from avtracks import Player, bar_position, wait_connected  # noqa: E402

sys.path.insert(0, here)
from cluster_redirect import frames_grow, off_loop, publisher  # noqa: E402

ROOM = "geo"


def stats(node, *keys):
    st = peers.get_stats(node.base)
    return {k: peers.stat(st, k) for k in keys}


async def wait_for(fn, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return True
        await asyncio.sleep(step)
    return fn()


class TimedPlayer(Player):
    """A player that notes when each bar position arrives (to compare two players)."""

    def __init__(self):
        super().__init__()
        self.seen = []  # (monotonic time, bar position)

    async def _consume(self, track):
        try:
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    self.frames += 1
                    pos = bar_position(frame)
                    if pos is not None:
                        self.seen.append((time.monotonic(), pos))
        except MediaStreamError:
            pass


def extra_delay(direct, pulled):
    """Median of how much later each frame reached the player through the cascade than the
    player on the origin (frames matched by bar position, nearest in time); None if none."""
    d = []
    for tb, pos in pulled:
        near = [tb - ta for ta, pa in direct if pa == pos and abs(tb - ta) < 1.0]
        if near:
            d.append(min(near, key=abs))
    d.sort()
    return (d[len(d) // 2], len(d)) if d else (None, 0)


async def open_player(node, cls=Player):
    p = cls()
    sdp = await p.offer()
    url, answer = await off_loop(peers.whep_play, node.base, ROOM, sdp)
    await p.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    await wait_connected(p.pc, 10, "player on " + node.base)
    p.url = url
    return p


async def measure_delay(a, b, token):
    """One player on the origin and one through the cascade, 4 s side by side."""
    pa, pb = await open_player(a, TimedPlayer), await open_player(b, TimedPlayer)
    await asyncio.sleep(4)
    delay, n = extra_delay(pa.seen, pb.seen)
    log("delay through the cascade (player on B vs. player on A, %d frames matched): "
        "median %s ms" % (n, "%.1f" % (delay * 1000) if delay is not None else "n/a"))
    check(delay is not None and n >= 30, "frames matched on both sides of the cascade")
    for p in (pa, pb):
        await off_loop(peers.http, "DELETE", p.url, token=token)
        await p.close()


async def play(b, n):
    players = []
    for i in range(n):
        p = Player()
        sdp = await p.offer()
        t0 = time.monotonic()
        url, answer = await off_loop(peers.whep_play, b.base, ROOM, sdp)
        await p.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        p.url = url
        players.append(p)
        ok = await wait_for(lambda: p.frames > 0, 8, 0.01)
        log("player%d on B: first frame %.2f s after its POST" % (i, time.monotonic() - t0)
            if ok else "player%d on B: no frame" % i)
        check(ok, "player%d decodes the lesson pulled from A" % i)
    for i, p in enumerate(players):
        check(await frames_grow(p, 30, 5) >= 30, "player%d keeps decoding" % i)
    return players


async def run(a, b, token, n):
    teacher, first, _, res = await publisher(a.base + "/whip/" + ROOM, token)
    check(first == 201, "the teacher publishes on A (its origin)")
    await asyncio.sleep(1.2)  # B's view of the directory is at most a second old
    players = await play(b, n)
    sa = stats(a, "links", "link_rtp_out", "rtp_out", "keyframe_requests", "keyframe_requests_in")
    sb = stats(b, "rtp_in", "rtp_out", "keyframe_requests", "keyframe_requests_in")
    log("A (origin): %s; B (edge): %s with %d players" % (sa, sb, n))
    check(sa["links"] == 1, "A has one link open, for %d players on B" % n)
    check(sa["rtp_out"] <= sa["link_rtp_out"] * 1.02 + 20, "A sends the lesson once")
    check(sb["rtp_out"] >= sb["rtp_in"] * n * 0.8, "B sends each player a copy")

    await measure_delay(a, b, token)
    await off_loop(peers.http, "DELETE", res, token=token)
    await teacher.close()
    t_back = time.monotonic()
    teacher, first, _, res = await publisher(a.base + "/whip/" + ROOM, token)
    grown = await asyncio.gather(*[frames_grow(p, 30, 8) for p in players])
    log("teacher back on A: the players decode again (%.2f s to 30 more frames each)"
        % (time.monotonic() - t_back))
    check(all(g >= 30 for g in grown), "after the teacher came back, B linked again")

    for p in players:
        await off_loop(peers.http, "DELETE", p.url, token=token)
        await p.close()
    check(await wait_for(lambda: stats(a, "links")["links"] == 0, 5),
          "the players left B: B stopped pulling, A's link closed")
    await off_loop(peers.http, "DELETE", res, token=token)
    await teacher.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=None)
    ap.add_argument("--players", type=int, default=3)
    args = ap.parse_args()
    binary = peers.find_classrelay(args.binary)
    rdir, url, secret = peers.cluster_tmp("cr-it-cascade-")
    common = ["--redis", url, "--no-record"]
    a = peers.Server(binary, common, name="cascade-a", media_port=True, secret_file=secret)
    b = peers.Server(binary, common, name="cascade-b", media_port=True, secret_file=secret)
    try:
        a.start()
        b.start()
        asyncio.run(run(a, b, a.token, args.players))
    except Exception as e:  # noqa: BLE001
        return peers.cluster_end((a, b), rdir, e)
    return peers.cluster_end((a, b), rdir)


if __name__ == "__main__":
    sys.exit(main())
