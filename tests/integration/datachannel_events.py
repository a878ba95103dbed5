#!/usr/bin/python3
"""An independent data-channel implementation (aiortc's, over its own SCTP) plays the demo
room over WHEP as a classroom box and opens the "events" channel (docs/protocol.md, "Data
channels"); a teacher and a classroom speak the websocket protocol as the pages do.

Usage: /usr/bin/python3 tests/integration/datachannel_events.py [path/to/classrelay]

  * the box gets {"type":"hello"} naming itself as the server knows it;
  * the classroom raises its hand and the teacher calls it on stage: the box hears both
    "stage" events; the teacher's chat reaches the box, stamped with the teacher;
  * the box's chat reaches the teacher and the classroom, stamped with the box (a "from"
    the box writes itself is ignored), and its hand goes up in the teacher's queue;
  * text that is not JSON, a binary message and an unknown type each get an error on the
    channel and are counted; a flood of 300 messages is cut by the relay's per-peer limit
    (counted), while the classroom's websocket and the channel itself keep working.
"""
import sys
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import asyncio
import json
import os
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import peers  # noqa: E402
from peers import log  # noqa: E402
from wsclient import WsClient  # noqa: E402

peers.patch_aioice_loopback()

from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402

ROOM = "demo"


def fail(msg, server):
    peers.fail(msg, server)


class Box:
    """aiortc as a WHEP classroom box with an "events" data channel."""

    def __init__(self, base):
        self.base = base
        self.pc = RTCPeerConnection()
        self.messages = asyncio.Queue()
        self.opened = asyncio.Event()
        self.channel = self.pc.createDataChannel("events")
        self.channel.on("open", self.opened.set)
        self.channel.on("message", lambda m: self.messages.put_nowait(m))

    async def start(self):
        self.pc.addTransceiver("audio", direction="recvonly")
        self.pc.addTransceiver("video", direction="recvonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        path = "/whep/%s?role=classroom&name=%s" % (ROOM, urllib.parse.quote("Box 盒子"))
        _, answer = await asyncio.get_running_loop().run_in_executor(
            None, peers.sdp_post, self.base, path, self.pc.localDescription.sdp)
        if not any(l.startswith("m=application 9 ") for l in answer.splitlines()):
            raise RuntimeError("the answer has no data channel line:\n" + peers.sdp_summary(answer))
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await asyncio.wait_for(self.opened.wait(), 10)

    def send(self, msg):
        self.channel.send(msg if isinstance(msg, (str, bytes)) else json.dumps(msg))

    async def expect(self, what, pred, timeout=5.0):
        """The next message (parsed) for which pred holds; others are skipped."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                raw = await asyncio.wait_for(self.messages.get(), deadline - time.monotonic())
            except asyncio.TimeoutError:
                break
            msg = json.loads(raw)
            if pred(msg):
                log("box:", what, json.dumps(msg, ensure_ascii=False)[:160])
                return msg
        raise AssertionError("the box did not get " + what)


def ws_expect(ws, what, pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = ws.recv(deadline - time.monotonic())
        if m is None:
            break
        if pred(m):
            log("ws:", what)
            return m
    raise AssertionError("websocket did not get " + what)


def call(ws, msg):
    rid = ws.request(msg)
    reply = ws_expect(ws, "reply %d" % rid, lambda m: m.get("type") == "reply" and m.get("id") == rid)
    if not reply.get("ok"):
        raise AssertionError("%s refused: %s" % (msg.get("type"), reply.get("error")))
    return reply


async def off_loop(fn, *args):
    """fn(*args) on a worker thread: the websocket client blocks, and aiortc's SCTP only
    moves while this event loop runs."""
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


async def run(server):
    host, port = "127.0.0.1", server.port
    teacher, classroom = await off_loop(WsClient, host, port), await off_loop(WsClient, host, port)
    await off_loop(call, teacher, {"type": "join", "room": ROOM, "role": "teacher", "name": "Teacher"})
    me = await off_loop(call, classroom, {"type": "join", "room": ROOM, "role": "classroom", "name": "B"})
    b = me["participant"]["id"]

    box = Box(server.base)
    t0 = time.monotonic()
    await box.start()
    log("data channel open %.0f ms after the offer" % ((time.monotonic() - t0) * 1000))
    hello = await box.expect("hello", lambda m: m.get("type") == "hello")
    you = hello["you"]
    if you["role"] != "classroom" or you["name"] != "Box 盒子":
        raise AssertionError("hello names the box %r" % you)
    print("ok   the box's events channel is open; hello names it %s (%s)" % (you["id"], you["name"]))

    await off_loop(call, classroom, {"type": "hand"})
    await box.expect("B's hand", lambda m: m.get("type") == "stage"
                     and [h["id"] for h in m["stage"]["hands"]] == [b])
    await off_loop(call, teacher, {"type": "stage", "participant": b})
    await box.expect("B on stage", lambda m: m.get("type") == "stage" and m["stage"]["on"] == [b])
    await off_loop(call, teacher, {"type": "chat", "text": "同学们好 (hello classes)"})
    chat = await box.expect("the teacher's chat", lambda m: m.get("type") == "chat")
    if chat["from"]["role"] != "teacher" or chat["text"] != "同学们好 (hello classes)":
        raise AssertionError("chat arrived as %r" % chat)
    print("ok   the box hears the hand, the stage change and the teacher's chat")

    box.send({"type": "chat", "text": "hello from the box", "from": {"id": "p1", "role": "teacher"}})
    for ws, who in ((teacher, "teacher"), (classroom, "classroom")):
        ev = await off_loop(ws_expect, ws, "the box's chat", lambda m: m.get("event") == "chat"
                       and m.get("text") == "hello from the box")
        if ev["from"] != {"id": you["id"], "role": "classroom", "name": "Box 盒子"}:
            raise AssertionError("the box's chat reached the %s as from %r" % (who, ev["from"]))
    box.send({"type": "hand", "up": True})
    await off_loop(ws_expect, teacher, "the box's hand", lambda m: m.get("event") == "stage"
              and you["id"] in [h["id"] for h in m["stage"]["hands"]])
    print("ok   the box's chat reaches the teacher and the classroom as the box; its hand is queued")

    box.send("not json")
    await box.expect("an error for text that is not JSON",
                     lambda m: m.get("type") == "error" and m["code"] == "bad_json")
    box.send(b"\x00\x01binary")
    await box.expect("an error for binary", lambda m: m.get("type") == "error")
    box.send({"type": "dance"})
    await box.expect("an error for an unknown type",
                     lambda m: m.get("type") == "error" and m["code"] == "bad_request")
    before = await off_loop(peers.get_stats, server.base)
    for i in range(300):
        box.send({"type": "ping", "n": i})
    await asyncio.sleep(1.5)
    after = await off_loop(peers.get_stats, server.base)
    dropped = peers.stat(after["relay"], "data_dropped") - peers.stat(before["relay"], "data_dropped")
    bad = peers.stat(after["signaling"], "data_messages_bad")
    if dropped <= 0 or bad < 3:
        raise AssertionError("flood: %d dropped by the relay, %d bad counted" % (dropped, bad))
    await off_loop(call, classroom, {"type": "ping"})
    await asyncio.sleep(2.5)  # the bucket refills
    while not box.messages.empty():
        box.messages.get_nowait()
    box.send({"type": "ping"})
    await box.expect("a pong after the flood", lambda m: m.get("type") == "pong")
    print("ok   bad messages answered with errors (%d counted); a flood of 300: %d dropped by "
          "the relay, the websocket and the channel still work" % (bad, dropped))
    await box.pc.close()


def main():
    binary = peers.find_classrelay(sys.argv[1] if len(sys.argv) > 1 else None)
    server = peers.Server(binary, name="dc-it")
    server.start()
    try:
        asyncio.run(asyncio.wait_for(run(server), 60))
    except Exception as e:  # noqa: BLE001
        fail("%s: %s" % (type(e).__name__, e), server)
        return 1
    server.stop()
    print("RESULT: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
