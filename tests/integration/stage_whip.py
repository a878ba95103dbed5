#!/usr/bin/python3
"""A WHIP classroom (aiortc) called on stage through the REST stage API reaches a
`?feed=stage` WHEP player (aiortc), in the open demo room.

Usage: /usr/bin/python3 tests/integration/stage_whip.py [path/to/classrelay]

Checks docs/protocol.md: "The stage", "Publish: WHIP (RFC 9725)" (?role=classroom),
"Play: WHEP" (?feed=stage) and "Rooms over REST":
  * a player POSTs a recvonly audio + video offer to /whep/demo?feed=stage: both lines are
    answered sendonly, and while nobody is on stage it decodes nothing, not even while a
    classroom publishes;
  * a classroom box publishes VP8 (a moving bar) and an Opus sine to
    /whip/demo?role=classroom&name=Box%201 with a classroom token of the room;
    GET /api/v1/rooms/demo (admin) lists it as classroom "Box 1" via whip, its id the WHIP
    session's, sending camera and mic;
  * POST /api/v1/rooms/demo/stage {"participant": id} (admin) answers 200 with the box on
    stage; within a few seconds the player decodes the box's picture (the bar moves) and
    its sound (prints the time from the POST to the first decoded frame, "fig" line);
  * DELETE /api/v1/rooms/demo/stage/<id> answers 200; within a second the player's
    packets and decoded frames stop growing;
  * refused calls get a JSON error: an unknown participant 404, a classroom's token 403
    (the demo room has no lesson: only an admin runs it over REST), no token 401, a body
    that is not JSON 400, ending a turn that is not running 404; the stage is unchanged.
Then WHIP and WHEP DELETE end the sessions and the box is no longer listed.
"""
import sys
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import asyncio
import json
import logging
import os
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import peers  # noqa: E402
from peers import log  # noqa: E402

peers.patch_aioice_loopback()

from aiortc import (RTCPeerConnection, RTCRtpSender,  # noqa: E402
                    RTCSessionDescription)
from aiortc.mediastreams import MediaStreamError  # noqa: E402
from avtracks import (H, W, MovingBarTrack, SineTrack, audio_loud,  # noqa: E402
                      bar_position, receive_av, wait_connected)

ROOM = "demo"
BOX_NAME = "Box 1"
IDLE_S = 2.0           # the box publishes, nobody on stage: the player must decode nothing
FIRST_FRAME_S = 5.0    # stage POST -> first decoded frame of the box
WINDOW_S = 3.0         # counted from the first frame on
MIN_VIDEO = 30         # of ~90 sent in WINDOW_S (30 fps), decoded at 640x360
MIN_POSITIONS = 5      # bar positions seen
MIN_LOUD = 50          # of ~150 20 ms audio frames in WINDOW_S
STOP_S = 1.0           # stage DELETE -> last packet / frame of the box
QUIET_S = 3.0          # how long after the DELETE the player is watched


async def off_loop(fn, *args, **kw):
    """fn on a worker thread (urllib blocks; aiortc only moves while the loop runs)."""
    return await asyncio.get_running_loop().run_in_executor(None, lambda: fn(*args, **kw))


class Player:
    """aiortc playing /whep/demo?feed=stage: every decoded frame with its arrival time."""

    def __init__(self, base):
        self.base = base
        self.pc = RTCPeerConnection()
        self.video = []    # (monotonic time, (width, height), bar position or None)
        self.audio = []    # (monotonic time, loud)
        self.tasks = []
        self.errors = []
        self.url = self.answer = None

    async def start(self):
        receive_av(self.pc, self.tasks, self._consume)

        await self.pc.setLocalDescription(await self.pc.createOffer())
        self.url, self.answer = await off_loop(
            peers.sdp_post, self.base, "/whep/%s?feed=stage" % ROOM, self.pc.localDescription.sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(self.answer, "answer"))

    async def _consume(self, track):
        try:
            while True:
                frame = await track.recv()
                now = time.monotonic()
                if track.kind == "video":
                    self.video.append((now, (frame.width, frame.height), bar_position(frame)))
                else:
                    self.audio.append((now, audio_loud(frame)))
        except MediaStreamError:
            pass
        except Exception as e:  # noqa: BLE001
            self.errors.append("%s: %r" % (track.kind, e))

    async def packets(self):
        """{kind: RTP packets received} from aiortc's inbound-rtp stats."""
        out = {"audio": 0, "video": 0}
        for s in (await self.pc.getStats()).values():
            if s.type == "inbound-rtp":
                out[s.kind] += s.packetsReceived
        return out

    async def close(self):
        for t in self.tasks:
            t.cancel()
        await self.pc.close()


def answered_lines(sdp):
    """[(kind, direction)] of the answer's accepted m-lines (port not 0)."""
    lines, cur = [], None
    for line in sdp.splitlines():
        if line.startswith("m="):
            f = line[2:].split()
            cur = [f[0], None] if f[1] != "0" else None
            if cur:
                lines.append(cur)
        elif cur and line[2:] in ("sendonly", "recvonly", "sendrecv", "inactive"):
            cur[1] = line[2:]
    return [tuple(x) for x in lines]


def vp8_only():
    caps = RTCRtpSender.getCapabilities("video").codecs
    return [c for c in caps if c.mimeType in ("video/VP8", "video/rtx")]


def json_of(r):
    try:
        return json.loads(r.body)
    except ValueError:
        return None


def room_get(base):
    r = peers.http("GET", base + "/api/v1/rooms/" + ROOM)
    if r.status != 200:
        raise AssertionError("GET /api/v1/rooms/%s -> %d %s" % (ROOM, r.status, r.text()[:300]))
    return json_of(r)


def stage_call(base, body, token=None):
    return peers.http("POST", base + "/api/v1/rooms/%s/stage" % ROOM, body, "application/json",
                      token=token)


def stage_end(base, pid, token=None):
    return peers.http("DELETE", base + "/api/v1/rooms/%s/stage/%s" % (ROOM, pid), token=token)


def expect_stage(what, r, on):
    """A 200 answer {"stage": {...}} whose "on" is the list on."""
    body = json_of(r)
    got = body.get("stage", {}).get("on") if isinstance(body, dict) else None
    if r.status != 200 or got != on:
        raise AssertionError("%s -> %d %s (expected 200 with on %r)"
                             % (what, r.status, r.text()[:300], on))
    print("ok   %s -> 200, on stage %r" % (what, got), flush=True)


def expect_error(what, r, status, code):
    """A refusal: this status and {"error": {"code": code, "message": "..."}}."""
    body = json_of(r)
    err = body.get("error") if isinstance(body, dict) else None
    ctype = (r.header("Content-Type") or "").split(";")[0].strip()
    if (r.status != status or ctype != "application/json" or not isinstance(err, dict)
            or err.get("code") != code or not err.get("message")):
        raise AssertionError("%s -> %d %s %r (expected %d with a JSON error %s)"
                             % (what, r.status, ctype, r.text()[:300], status, code))
    print("ok   %s -> %d %s: %s" % (what, status, code, err["message"]), flush=True)


async def publish_box(base, token):
    """aiortc as a WHIP classroom box: (pc, video track, resource URL)."""
    pc = RTCPeerConnection()
    video = MovingBarTrack()
    pc.addTransceiver(video, direction="sendonly").setCodecPreferences(vp8_only())
    pc.addTransceiver(SineTrack(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    path = "/whip/%s?role=classroom&name=Box%%201" % ROOM
    url, answer = await off_loop(peers.sdp_post, base, path, pc.localDescription.sdp,
                                 token=token)
    await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    return pc, video, url


async def find_box(base, session_id):
    """The box's participant id, found in GET /api/v1/rooms/demo as the one classroom named
    "Box 1", once it sends camera and mic (5 s at most); it must be its WHIP session id."""
    deadline = time.monotonic() + 5
    while True:
        room = await off_loop(room_get, base)
        mine = [p for p in room["participants"]
                if p.get("role") == "classroom" and p.get("name") == BOX_NAME]
        if len(mine) != 1 or mine[0].get("via") != "whip":
            raise AssertionError("GET /api/v1/rooms/%s does not list one classroom %r via whip: "
                                 "%s" % (ROOM, BOX_NAME, json.dumps(room)[:600]))
        if mine[0]["id"] != session_id:
            raise AssertionError("the box is listed as %s, its WHIP session is %s"
                                 % (mine[0]["id"], session_id))
        sending = mine[0].get("sending", {})
        if sending.get("camera") and sending.get("mic"):
            return mine[0]
        if time.monotonic() > deadline:
            raise AssertionError("the box is listed but not sending camera and mic: %r"
                                 % mine[0])
        await asyncio.sleep(0.2)


async def run(server, classroom_token):
    base = server.base
    player = Player(base)
    box = None
    try:
        await player.start()
        lines = answered_lines(player.answer)
        if sorted(lines) != [("audio", "sendonly"), ("video", "sendonly")]:
            raise AssertionError("WHEP ?feed=stage answer lines %r, expected audio and video "
                                 "sendonly:\n%s" % (lines, peers.sdp_summary(player.answer)))
        log("player connected in %.2fs" % await wait_connected(player.pc, 10, "player"))
        print("ok   WHEP ?feed=stage: audio and video answered sendonly, %s" % player.url,
              flush=True)

        box, box_video, box_url = await publish_box(base, classroom_token)
        log("box connected in %.2fs" % await wait_connected(box, 10, "box"))
        me = await find_box(base, box_url.rstrip("/").rsplit("/", 1)[1])
        box_id = me["id"]
        print("ok   WHIP classroom %s listed: %s" % (box_id, json.dumps(me)), flush=True)

        await asyncio.sleep(IDLE_S)
        pk = await player.packets()
        if player.video or player.audio:
            raise AssertionError("nobody on stage, yet the player decoded %d video and %d audio "
                                 "frames (packets %r)" % (len(player.video), len(player.audio), pk))
        print("ok   nobody on stage: no frame decoded in %.0f s while the box publishes "
              "(packets %r)" % (IDLE_S, pk), flush=True)

        # Bad calls first: none may change the stage.
        r = await off_loop(stage_call, base, json.dumps({"participant": "w0000000000000000"}))
        expect_error("POST stage, unknown participant", r, 404, "not_found")
        r = await off_loop(stage_call, base, json.dumps({"participant": box_id}),
                           token=classroom_token)
        expect_error("POST stage with a classroom's token", r, 403, "forbidden")
        r = await off_loop(stage_call, base, json.dumps({"participant": box_id}), token=False)
        expect_error("POST stage without a token", r, 401, "unauthorized")
        r = await off_loop(stage_call, base, "{not json")
        expect_error("POST stage, a body that is not JSON", r, 400, "bad_json")
        r = await off_loop(stage_end, base, box_id)
        expect_error("DELETE stage/<box>, no turn running", r, 404, "not_found")
        stage = (await off_loop(room_get, base))["stage"]
        if stage.get("on") != [] or player.video:
            raise AssertionError("after refused calls: stage %r, %d frames decoded"
                                 % (stage, len(player.video)))

        # The call.
        t_post = time.monotonic()
        r = await off_loop(stage_call, base, json.dumps({"participant": box_id}))
        t_answer = time.monotonic()
        expect_stage("POST stage %s" % box_id, r, [box_id])
        while not player.video or not player.audio:
            if time.monotonic() - t_post > FIRST_FRAME_S:
                raise AssertionError("%.0f s after the stage call: %d video, %d audio frames "
                                     "decoded (packets %r)" % (
                                         FIRST_FRAME_S, len(player.video), len(player.audio),
                                         await player.packets()))
            await asyncio.sleep(0.02)
        t_first = player.video[0][0]
        print("fig  stage POST -> first decoded frame of the box %.0f ms (POST answered in "
              "%.0f ms; first audio frame %.0f ms)" % (
                  (t_first - t_post) * 1000, (t_answer - t_post) * 1000,
                  (player.audio[0][0] - t_post) * 1000), flush=True)
        await asyncio.sleep(t_first + WINDOW_S - time.monotonic())
        video = [f for f in player.video if f[0] <= t_first + WINDOW_S]
        right = [f for f in video if f[1] == (W, H)]
        positions = {f[2] for f in right if f[2] is not None}
        audio = [a for a in player.audio if a[0] <= t_first + WINDOW_S]
        loud = sum(1 for a in audio if a[1])
        log("on stage, %.0f s from the first frame: %d video frames (%d at %dx%d, %d bar "
            "positions), %d audio frames (%d loud); box sent %d frames; packets %r" % (
                WINDOW_S, len(video), len(right), W, H, len(positions), len(audio), loud,
                box_video.sent, await player.packets()))
        if len(right) < MIN_VIDEO or len(positions) < MIN_POSITIONS or loud < MIN_LOUD:
            raise AssertionError(
                "on stage the player decoded %d %dx%d frames (need %d) with %d bar positions "
                "(need %d) and %d loud audio frames (need %d) in %.0f s"
                % (len(right), W, H, MIN_VIDEO, len(positions), MIN_POSITIONS, loud, MIN_LOUD,
                   WINDOW_S))
        me = next(p for p in (await off_loop(room_get, base))["participants"]
                  if p["id"] == box_id)
        if not me.get("on_stage"):
            raise AssertionError("the box on stage is listed with on_stage %r"
                                 % me.get("on_stage"))
        print("ok   on stage: %d frames decoded at %dx%d in %.0f s, the bar at %d positions, "
              "%d loud audio frames" % (len(right), W, H, WINDOW_S, len(positions), loud),
              flush=True)

        # The end of the turn.
        t_del = time.monotonic()
        r = await off_loop(stage_end, base, box_id)
        expect_stage("DELETE stage/%s" % box_id, r, [])
        last_pk, t_pk = await player.packets(), t_del
        while time.monotonic() - t_del < QUIET_S:
            await asyncio.sleep(0.05)
            pk = await player.packets()
            if pk != last_pk:
                last_pk, t_pk = pk, time.monotonic()
        last_frame = max([f[0] for f in player.video] + [a[0] for a in player.audio])
        stop_pk, stop_frame = t_pk - t_del, max(0.0, last_frame - t_del)
        log("after the DELETE: last packet %.0f ms, last decoded frame %.0f ms later; "
            "packets %r" % (stop_pk * 1000, stop_frame * 1000, last_pk))
        if stop_pk > STOP_S or stop_frame > STOP_S:
            raise AssertionError("the turn ended, yet the player received packets %.2f s and "
                                 "decoded frames %.2f s later (limit %.1f s)"
                                 % (stop_pk, stop_frame, STOP_S))
        print("ok   turn ended: the box's packets stop %.0f ms and frames %.0f ms after the "
              "DELETE (watched %.0f s)" % (stop_pk * 1000, stop_frame * 1000, QUIET_S),
              flush=True)
        if player.errors:
            raise AssertionError("player errors: %s" % player.errors)

        code = await off_loop(peers.resource_delete, box_url)
        if code != 200:
            raise AssertionError("WHIP DELETE of the box -> %d" % code)
        room = await off_loop(room_get, base)
        if any(p["id"] == box_id for p in room["participants"]):
            raise AssertionError("the box is still listed after its WHIP DELETE")
        code = await off_loop(peers.resource_delete, player.url)
        if code != 200:
            raise AssertionError("WHEP DELETE of the player -> %d" % code)
        print("ok   WHIP and WHEP DELETE: 200, the box is no longer listed", flush=True)
    finally:
        await player.close()
        if box is not None:
            await box.close()


def main():
    logging.basicConfig(level=logging.WARNING,
                        format="[aiortc log] %(levelname)s %(name)s: %(message)s")
    binary = peers.find_classrelay(sys.argv[1] if len(sys.argv) > 1 else None)
    server = peers.Server(binary, name="stage-whip-it")
    server.start()
    classroom_token = peers.mint_token(binary, server.data, "classroom", room=ROOM)
    try:
        asyncio.run(asyncio.wait_for(run(server, classroom_token), 70))
    except Exception as e:  # noqa: BLE001
        print("RESULT: FAIL", flush=True)
        peers.fail("%s: %s" % (type(e).__name__, e), server)
    if not server.alive():
        print("RESULT: FAIL", flush=True)
        peers.fail("the server exited with %s" % server.proc.returncode, server)
    server.stop()
    print("RESULT: PASS", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
