#!/usr/bin/python3
"""Two nodes and a directory (issue 14, docs/cluster.md): redirects, and Redis restarting.

Usage: /usr/bin/python3 tests/integration/cluster_redirect.py [path/to/classrelay]

A real redis-server (tools/redis_tmp.sh) and two classrelay nodes on loopback, A and B
(B with --max-peers 1), sharing --redis and --secret-file:
  * a teacher joins lesson "geo" on A over the websocket: A claims it;
  * an aiortc WHIP teacher POSTs to B for "geo": 307 to A, same path and query; it follows
    and publishes on A (the session's Location names A);
  * B is made full (a teacher of another lesson publishes there, max_peers 1): an aiortc
    WHEP player POSTs to B for "geo": 307 to A, and decodes the teacher's frames there; a
    classroom joining "geo" on B over the websocket gets a "redirect" reply naming A;
  * redis-server is killed (SIGKILL) while the lesson runs: the player keeps decoding; once
    it is started again (empty), A's lease and its claim of "geo" are back in Redis
    (redis-cli) within a few seconds, and /metrics counts the redirects and a reconnect.
Everything on 127.0.0.1. Prints "RESULT: PASS" or "RESULT: FAIL: ..." (ctest's pattern).
"""
import sys
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import asyncio
import json
import os
import subprocess
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import peers  # noqa: E402
from peers import check, log  # noqa: E402
from wsclient import WsClient  # noqa: E402

peers.patch_aioice_loopback()

from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from avtracks import MovingBarTrack, Player, SineTrack, wait_connected  # noqa: E402

REDIS_TMP = peers.REDIS_TMP
ROOM = "geo"


async def off_loop(fn, *args, **kw):
    return await asyncio.get_running_loop().run_in_executor(None, lambda: fn(*args, **kw))


def redis(rdir, *args):
    port = open(os.path.join(rdir, "redis.port")).read().strip()
    out = subprocess.run(["redis-cli", "-p", port, "--raw"] + list(args), capture_output=True,
                         text=True, timeout=5)
    return out.stdout.strip()


def node_of(rdir, base):
    """(id, lease JSON) of the node at base, from Redis; (None, None) if it has no lease."""
    for key in redis(rdir, "KEYS", "cr:node:*").split():
        raw = redis(rdir, "GET", key)
        try:
            lease = json.loads(raw)
        except ValueError:
            continue
        if lease.get("url") == base:
            return lease["id"], lease
    return None, None


def post_following(url, sdp, token):
    """POST an SDP offer; a 307 is followed once, as a WHIP/WHEP client does. Returns
    (first status, first Location, final HttpResult, final URL)."""
    r = peers.http("POST", url, sdp, "application/sdp", token=token)
    first, first_loc = r.status, r.header("Location")
    if r.status == 307:
        url = urllib.parse.urljoin(url, first_loc)
        r = peers.http("POST", url, sdp, "application/sdp", token=token)
    return first, first_loc, r, url


async def publisher(url, token):
    """An aiortc teacher POSTing to url (following a 307): (pc, first status, first Location,
    resource URL)."""
    pc = RTCPeerConnection()
    pc.addTransceiver(MovingBarTrack(), direction="sendonly")
    pc.addTransceiver(SineTrack(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    first, loc, r, final = await off_loop(post_following, url, pc.localDescription.sdp, token)
    if r.status != 201:
        raise AssertionError("WHIP %s -> %d %s" % (final, r.status, r.text()[:200]))
    peers.check_answer_candidates(r.text())
    await pc.setRemoteDescription(RTCSessionDescription(r.text(), "answer"))
    await wait_connected(pc, 10, "teacher")
    return pc, first, loc, urllib.parse.urljoin(final, r.header("Location"))


async def frames_grow(player, n, timeout):
    start, deadline = player.frames, time.monotonic() + timeout
    while player.frames - start < n and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return player.frames - start


def ws_join(base, room, role, token):
    u = urllib.parse.urlparse(base)
    ws = WsClient(u.hostname, u.port, "/ws?token=" + urllib.parse.quote(token))
    rid = ws.request({"type": "join", "room": room, "role": role, "name": role})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        m = ws.recv(1.0)
        if m and m.get("type") == "reply" and m.get("id") == rid:
            return ws, m
    raise AssertionError("no reply to join on %s" % base)


async def run(a, b, rdir, token):
    ws, reply = ws_join(a.base, ROOM, "teacher", token)
    check(reply.get("ok") is True, "a teacher joins %s on A over the websocket" % ROOM)
    a_id, _ = node_of(rdir, a.base)
    check(a_id and redis(rdir, "GET", "cr:lesson:" + ROOM) == a_id, "A holds the claim of " + ROOM)

    teacher, first, loc, res = await publisher(b.base + "/whip/" + ROOM + "?name=T1", token)
    check(first == 307 and loc == a.base + "/whip/" + ROOM + "?name=T1",
          "WHIP to B: %s Location %s (want 307 to A, same path and query)" % (first, loc))
    check(res.startswith(a.base + "/whip/" + ROOM + "/"), "the session's resource is on A: " + res)

    other, _, _, other_res = await publisher(b.base + "/whip/other", token)  # B is full now
    player = Player()
    try:
        first, loc, r, final = await off_loop(post_following, b.base + "/whep/" + ROOM,
                                              await player.offer(), token)
        check(first == 307 and loc == a.base + "/whep/" + ROOM,
              "WHEP to the full B: %s Location %s (want 307 to A)" % (first, loc))
        check(r.status == 201, "the player is served on A (%d)" % r.status)
        peers.check_answer_candidates(r.text())
        await player.pc.setRemoteDescription(RTCSessionDescription(r.text(), "answer"))
        check(await frames_grow(player, 10, 10) >= 10, "the player decodes frames on A")
        cws, creply = ws_join(b.base, ROOM, "classroom", token)
        cws.close()
        red = creply.get("redirect") or {}
        check(creply.get("ok") is False and creply["error"]["code"] == "redirect" and
              red.get("url") == a.base and red.get("reason") == "full",
              "a classroom joining on the full B is told to go to A: %s" % json.dumps(creply))

        subprocess.run([REDIS_TMP, "kill", rdir], check=True)
        log("redis-server killed")
        got = await frames_grow(player, 40, 3.0)
        check(got >= 40, "Redis down: the player keeps decoding (%d frames in 3 s)" % got)
        subprocess.run([REDIS_TMP, "start", rdir], check=True, capture_output=True)
        t0 = time.monotonic()
        back = False
        while time.monotonic() - t0 < 4.0 and not back:
            back = (redis(rdir, "GET", "cr:lesson:" + ROOM) == a_id and
                    node_of(rdir, a.base)[0] == a_id)
            await asyncio.sleep(0.1)
        check(back, "Redis restarted: A's lease and claim are back in %.1f s"
              % (time.monotonic() - t0))
        got = await frames_grow(player, 20, 3.0)
        check(got >= 20, "the player still decodes (%d frames)" % got)
        metrics = peers.http("GET", b.base + "/metrics", token="m").text()
        check('classrelay_cluster_redirects_total{reason="full"} 2' in metrics and
              "classrelay_cluster_redis_up 1" in metrics and
              "classrelay_cluster_redis_reconnects_total 1" in metrics,
              "B's /metrics counts the redirects and the reconnect")
        t0, two = time.monotonic(), False  # B comes back on its own backoff (up to 2 s)
        while time.monotonic() - t0 < 4.0 and not two:
            two = "classrelay_cluster_nodes 2" in peers.http("GET", a.base + "/metrics",
                                                               token="m").text()
            await asyncio.sleep(0.2)
        check(two, "A sees both nodes again")
        check(peers.http("DELETE", res, token=token).status == 200, "DELETE of the teacher on A")
        peers.http("DELETE", other_res, token=token)
    finally:
        await player.close()
        await teacher.close()
        await other.close()
        ws.close()
    b_id, _ = node_of(rdir, b.base)
    return b_id


def main():
    binary = peers.find_classrelay(sys.argv[1] if len(sys.argv) > 1 else None)
    rdir, url, secret = peers.cluster_tmp("cr-it-cluster-")
    common = ["--redis", url, "--secret-file", secret, "--metrics-token", "m"]
    a = peers.Server(binary, common, name="cluster-a", media_port=True)
    b = peers.Server(binary, common + ["--max-peers", "1"], name="cluster-b", media_port=True)
    ok = False
    try:
        a.start()
        b.start()
        token = subprocess.run(  # signed with the key the nodes share
            [binary, "token", "--data", a.data, "--role", "admin", "--secret-file", secret],
            check=True, capture_output=True, text=True).stdout.strip()
        peers.AUTH_TOKEN = token
        b_id = asyncio.run(run(a, b, rdir, token))
        b.stop()
        check(b_id and redis(rdir, "EXISTS", "cr:node:" + b_id) == "0",
              "B stopped: its lease is deleted at once")
        ok = not peers.failures
        if not ok:
            print("RESULT: FAIL: %s" % "; ".join(peers.failures), flush=True)
    except Exception as e:  # noqa: BLE001
        print("RESULT: FAIL: %s" % e, flush=True)
        for s in (a, b):
            print(s.log_tail(30))
    finally:
        a.stop()
        b.stop()
        subprocess.run([REDIS_TMP, "stop", rdir])
    print("RESULT: PASS" if ok else "", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
