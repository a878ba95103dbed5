#!/usr/bin/python3
"""Admission control on a full relay: the classrooms already watching keep their picture.

Usage: /usr/bin/python3 tests/integration/admission.py [path/to/classrelay]

A server with --max-peers 3 on the shared media port (docs/configuration.md, max_peers):
  * an aiortc teacher publishes a moving bar and a sine by WHIP to the demo room;
  * two aiortc players join by WHEP and decode the bar (peers 2 and 3);
  * a third player is refused at once: 503, Retry-After, a text saying the relay is full;
    /api/v1/stats counts it (relay.refused 1) and the server log says why;
  * over the next 3 s the two players keep decoding frames, and the refusal left nothing
    behind (3 peers).
Prints "RESULT: PASS" or "RESULT: FAIL: ..." (ctest's failure pattern).
"""
import sys
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import asyncio
import os
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import peers  # noqa: E402
from peers import log  # noqa: E402

peers.patch_aioice_loopback()

from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from avtracks import MovingBarTrack, Player, SineTrack, wait_connected  # noqa: E402

ROOM = "demo"
FIRST_FRAME_S = 10.0
KEEP_S = 3.0     # after the refusal: both players must go on decoding
MIN_FRAMES = 30  # of ~90 sent in KEEP_S


async def off_loop(fn, *args, **kw):
    return await asyncio.get_running_loop().run_in_executor(None, lambda: fn(*args, **kw))


async def until_frames(players, n, timeout):
    deadline = time.monotonic() + timeout
    while min(p.frames for p in players) < n:
        if time.monotonic() > deadline:
            raise AssertionError("players decoded %s frames, wanted %d within %.0fs"
                                 % ([p.frames for p in players], n, timeout))
        await asyncio.sleep(0.1)


async def run(server):
    base = server.base
    teacher = RTCPeerConnection()
    teacher.addTransceiver(MovingBarTrack(), direction="sendonly")
    teacher.addTransceiver(SineTrack(), direction="sendonly")
    await teacher.setLocalDescription(await teacher.createOffer())
    _, answer = await off_loop(peers.whip_publish, base, ROOM, teacher.localDescription.sdp)
    await teacher.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    await wait_connected(teacher, 10, "teacher")
    players = [Player(), Player()]
    try:
        for p in players:
            _, answer = await off_loop(peers.whep_play, base, ROOM, await p.offer())
            await p.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await until_frames(players, 1, FIRST_FRAME_S)
        print("ok   two players decode the teacher (max_peers 3 reached)", flush=True)

        third = Player()
        t0 = time.monotonic()
        r = await off_loop(peers.http, "POST", base + "/whep/" + ROOM, await third.offer(),
                           "application/sdp")
        took = (time.monotonic() - t0) * 1000
        await third.close()
        if r.status != 503 or not r.header("Retry-After") or "full" not in r.text():
            raise AssertionError("the third player got %d (Retry-After %r): %s"
                                 % (r.status, r.header("Retry-After"), r.text()[:300]))
        print("ok   third player refused in %.0f ms: 503, Retry-After %s: %s"
              % (took, r.header("Retry-After"), r.text().strip()), flush=True)

        before = [p.frames for p in players]
        await asyncio.sleep(KEEP_S)
        gained = [p.frames - b for p, b in zip(players, before)]
        if min(gained) < MIN_FRAMES:
            raise AssertionError("after the refusal the players decoded only %s frames in %.0fs"
                                 % (gained, KEEP_S))
        print("ok   the players kept decoding: %s frames in %.0f s" % (gained, KEEP_S),
              flush=True)
        relay = (await off_loop(peers.get_stats, base))["relay"]
        if relay["refused"] != 1 or relay["peers"] != 3:
            raise AssertionError("stats: refused %s, peers %s (want 1 and 3)"
                                 % (relay["refused"], relay["peers"]))
        print("ok   /api/v1/stats: refused 1, peers 3", flush=True)
        with open(server.logpath, "rb") as f:
            if b"refused a new peer in room demo: the relay is full" not in f.read():
                raise AssertionError("the server log does not say why it refused")
        print("ok   the server log says why", flush=True)
    finally:
        for p in players:
            await p.close()
        await teacher.close()


def main():
    binary = peers.find_classrelay(sys.argv[1] if len(sys.argv) > 1 else None)
    server = peers.Server(binary, ["--max-peers", "3"], name="admission-it", media_port=True)
    ok = False
    try:
        server.start()
        asyncio.run(run(server))
        ok = True
    except Exception as e:  # noqa: BLE001
        print("RESULT: FAIL: %s" % e, flush=True)
    finally:
        server.stop()
    print("RESULT: PASS" if ok else "", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
