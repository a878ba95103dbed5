#!/usr/bin/python3
"""Classrooms and the stage across nodes (issue 14, docs/cluster.md "Classrooms and the stage
across nodes").

Usage: /usr/bin/python3 tests/integration/cascade_stage.py [path/to/classrelay]

A real redis-server (tools/redis_tmp.sh) and three classrelay nodes on loopback, A, B and C,
sharing --redis and --secret-file:
  * an aiortc teacher publishes lesson "geo" over WHIP on A (its origin), and a teacher page
    joins it on A over the websocket;
  * WHEP players of the stage (?feed=stage) on A, B and C: B and C pull the lesson from A;
  * a classroom box publishes a camera (a moving bar) and a microphone on B over WHIP, with an
    "events" data channel: B reports it to A, A lists it (GET /api/v1/rooms/geo:
    "via":"node", its id "<B's prefix>.<its id on B>") and the teacher page hears
    participant_joined;
  * the box raises its hand on its data channel: A's room shows the hand;
  * the teacher calls it on stage over the websocket: A pulls its media from B; the players
    on A, B and C decode the box's picture (times from the request printed, "fig" lines);
  * the teacher ends the turn: the players stop decoding;
  * the box leaves B: A forgets it.
Prints "RESULT: PASS" or "RESULT: FAIL".
"""
import sys
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import argparse
import asyncio
import json
import os
import time
import urllib.parse

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "lib"))
import peers  # noqa: E402
from peers import check, log  # noqa: E402

peers.patch_aioice_loopback()

from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from avtracks import MovingBarTrack, Player, SineTrack, wait_connected  # noqa: E402

sys.path.insert(0, here)
from cascade_auto import wait_for  # noqa: E402
from cluster_redirect import frames_grow, off_loop, publisher, ws_join  # noqa: E402

ROOM = "geo"
BOX = "Box B"


def room_get(node, token):
    r = peers.http("GET", node.base + "/api/v1/rooms/" + ROOM, token=token)
    return json.loads(r.text()) if r.status == 200 else {}


def listed_box(node, token):
    """The box as A lists it, or None."""
    for p in room_get(node, token).get("participants", []):
        if p.get("name") == BOX and p.get("role") == "classroom":
            return p
    return None


async def box_publish(base, token):
    """aiortc as a WHIP classroom box with an "events" channel: (pc, channel, resource URL)."""
    pc = RTCPeerConnection()
    pc.addTransceiver(MovingBarTrack(), direction="sendonly")
    pc.addTransceiver(SineTrack(), direction="sendonly")
    ch = pc.createDataChannel("events")
    await pc.setLocalDescription(await pc.createOffer())
    path = "/whip/%s?role=classroom&name=%s" % (ROOM, urllib.parse.quote(BOX))
    url, answer = await off_loop(peers.sdp_post, base, path, pc.localDescription.sdp,
                                 token=token)
    await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    await wait_connected(pc, 10, "box")
    return pc, ch, url


async def stage_player(node):
    p = Player()
    sdp = await p.offer()
    url, answer = await off_loop(peers.sdp_post, node.base, "/whep/%s?feed=stage" % ROOM, sdp)
    await p.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    p.url = url
    await wait_connected(p.pc, 10, "player")
    return p


def ws_events(ws, seconds):
    out, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        m = ws.recv(0.1)
        if m:
            out.append(m)
    return out


async def run(a, b, c, token):
    teacher, first, _, res = await publisher(a.base + "/whip/" + ROOM, token)
    check(first == 201, "the teacher publishes on A (its origin)")
    ws, joined = await off_loop(ws_join, a.base, ROOM, "teacher", token)
    check(joined.get("ok"), "a teacher page joins on A")
    await asyncio.sleep(1.2)  # the others' view of the directory is at most a second old
    players = {n.name: await stage_player(n) for n in (a, b, c)}

    box, ch, box_url = await box_publish(b.base, token)
    check(await wait_for(lambda: listed_box(a, token) is not None, 6),
          "A lists the box published on B")
    me = listed_box(a, token)
    log("A lists the box: %s" % json.dumps(me))
    check(me.get("via") == "node" and "." in me["id"], "as a classroom of another node")
    events = await off_loop(ws_events, ws, 0.5)
    check(any(m.get("event") == "participant_joined" and
              m.get("participant", {}).get("id") == me["id"] for m in events),
          "the teacher page heard it join")

    await wait_for(lambda: ch.readyState == "open", 5)
    t_hand = time.monotonic()
    ch.send(json.dumps({"type": "hand", "up": True}))
    ok = await wait_for(lambda: (listed_box(a, token) or {}).get("hand_since_ms"), 4, 0.05)
    log("the hand raised on B is up on A %.0f ms later" % ((time.monotonic() - t_hand) * 1000))
    check(ok, "the box's hand raised on B reaches A's queue")

    t_call = time.monotonic()
    rid = ws.request({"type": "stage", "participant": me["id"]})
    reply = None
    while reply is None and time.monotonic() - t_call < 5:
        m = await off_loop(ws.recv, 0.2)
        if m and m.get("type") == "reply" and m.get("id") == rid:
            reply = m
    check(reply and reply.get("ok"), "the teacher calls the box on stage (%s)" % reply)
    for name, p in players.items():
        ok = await wait_for(lambda: p.frames > 0, 10, 0.01)
        print("fig  stage request -> first decoded frame of the box on %s: %.0f ms" % (
            name, (time.monotonic() - t_call) * 1000) if ok else "no frame on %s" % name,
            flush=True)
        check(ok, "a stage player on %s decodes the box on stage" % name)
    for name, p in players.items():
        check(await frames_grow(p, 30, 5) >= 30, "the stage player on %s keeps decoding" % name)
    check((listed_box(a, token) or {}).get("on_stage") and
          not (listed_box(a, token) or {}).get("hand_since_ms"),
          "A lists the box on stage, its hand down")
    sb = room_get(b, token).get("stage", {})
    check(sb.get("on") and "." not in sb["on"][0], "B shows its own box on stage: %s" % sb)

    rid = ws.request({"type": "stage", "participant": me["id"], "on": False})
    await asyncio.sleep(3)
    grown = {n: await frames_grow(p, 5, 2) for n, p in players.items()}
    log("after the turn ended: frames decoded in 2 s %s" % grown)
    check(all(g < 5 for g in grown.values()), "the turn ended: no player decodes the box")

    await off_loop(peers.http, "DELETE", box_url, token=token)
    await box.close()
    check(await wait_for(lambda: listed_box(a, token) is None, 7),
          "the box left B: A forgets it")
    for p in players.values():
        await off_loop(peers.http, "DELETE", p.url, token=token)
        await p.close()
    ws.close()
    await off_loop(peers.http, "DELETE", res, token=token)
    await teacher.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=None)
    args = ap.parse_args()
    binary = peers.find_classrelay(args.binary)
    rdir, url, secret = peers.cluster_tmp("cr-it-cstage-")
    common = ["--redis", url, "--no-record"]
    nodes = [peers.Server(binary, common, name="cstage-" + n, media_port=True,
                          secret_file=secret) for n in "abc"]
    for n, s in zip("ABC", nodes):
        s.name = n
    try:
        for s in nodes:
            s.start()
        asyncio.run(run(*nodes, nodes[0].token))
    except Exception as e:  # noqa: BLE001
        return peers.cluster_end(nodes, rdir, e)
    return peers.cluster_end(nodes, rdir)


if __name__ == "__main__":
    sys.exit(main())
