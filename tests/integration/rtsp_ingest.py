#!/usr/bin/python3
"""RTSP ingest (docs/recording.md, "RTSP ingest"): a classroom camera becomes a lesson's
teacher source over REST, survives being switched off and on, and is recorded.

Usage: /usr/bin/python3 tests/integration/rtsp_ingest.py [path/to/classrelay]

A GStreamer RTSP server (lib/rtsp_camera.py: H.264 + AAC, Basic authentication) on
127.0.0.1; a real server with a scheduled lesson that records. The lesson's teacher sets
the camera as its source (POST /api/v1/rooms/<room>/ingest, the password in the URL); a
webrtcbin WHEP player (H.264 + Opus) decodes it and the teacher's websocket join shows it.
The camera process is killed, started again on the same port 2 s later, and the player
decodes again by itself (the seconds from the restart to its next frame are printed). The
teacher stops the ingest; the recording is packaged and holds both parts (its MP4 lasts at
least as long as the media before the gap and after it together). The URL's password is
in no API answer, no event and nowhere in the server's log; ICE stays on 127.0.0.1.
Prints "figure: ..." lines and ends with "RESULT: PASS" or "RESULT: FAIL".
"""
import sys
sys.dont_write_bytecode = True

import glob
import json
import os
import re
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, HERE)
import peers  # noqa: E402
from peers import log  # noqa: E402
import webrtcbin_whip_whep as wb  # noqa: E402
from webrtcbin_whip_whep import Gst  # noqa: E402
from wsclient import WsClient  # noqa: E402

USER, PASSWORD = "cam", "s3cret-Pw9"
from peers import check, failures  # noqa: E402


def api(srv, method, path, body=None, token=None, ok=(200, 201, 204)):
    r = peers.http(method, srv.base + path, json.dumps(body) if body is not None else None,
                   "application/json" if body is not None else None, token=token)
    if r.status not in ok:
        raise RuntimeError("%s %s -> %d %s" % (method, path, r.status, r.text()[:300]))
    return r


class Camera:
    """lib/rtsp_camera.py on a fixed port; kill() and start() again play a power cycle."""

    def __init__(self, port, extra=()):
        self.port = port
        self.extra = list(extra)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "lib", "rtsp_camera.py"), "--port",
             str(self.port), "--user", USER, "--password", PASSWORD] + self.extra,
            stdout=subprocess.PIPE, text=True, start_new_session=True)
        line = self.proc.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError("the RTSP camera did not start: %r" % line)
        log("camera:", line.strip())

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def ingest_state(srv, room, token):
    r = api(srv, "GET", "/api/v1/rooms/%s/ingest" % room, token=token, ok=(200, 404))
    return json.loads(r.body).get("ingest") if r.status == 200 else None


def wait_until(fn, timeout, step=0.05):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return None


def lesson_setup(srv):
    """A teacher's lesson running now that records; (room, teacher token)."""
    school = json.loads(api(srv, "POST", "/api/v1/schools", {"name": "Hill School"}).body)
    room = json.loads(api(srv, "POST", "/api/v1/classrooms",
                          {"school_id": school["id"], "name": "Grade 3"}).body)
    teacher = json.loads(api(srv, "POST", "/api/v1/users",
                             {"username": "wang", "password": "correct horse",
                              "name": "Wang Li", "role": "teacher"}).body)
    now = int(time.time() * 1000)
    lesson = json.loads(api(srv, "POST", "/api/v1/lessons",
                            {"title": "Camera lesson", "teacher_id": teacher["id"],
                             "start_ms": now - 60000, "end_ms": now + 600000,
                             "classrooms": [room["id"]], "record": True}).body)
    links = json.loads(api(srv, "GET", "/api/v1/lessons/%d/links" % lesson["id"]).body)
    opened = wait_until(lambda: api(srv, "GET", "/api/v1/rooms/" + lesson["room"],
                                    ok=(200, 404)).status == 200, 5)
    check(bool(opened), "the lesson's room %s is open" % lesson["room"])
    return lesson["room"], links["teacher"]["token"]


def frames(player):
    with player.lock:
        return player.video_frames


def run(srv, camera):
    room, t_tok = lesson_setup(srv)
    url = "rtsp://%s:%s@127.0.0.1:%d/cam" % (USER, PASSWORD, camera.port)
    bad = api(srv, "POST", "/api/v1/rooms/%s/ingest" % room, {"url": "http://x/cam"}, t_tok,
              ok=(400,))
    check(b"rtsp://" in bad.body, "an http:// URL is refused: %s" % bad.text().strip()[:120])
    t_post = time.monotonic()
    r = api(srv, "POST", "/api/v1/rooms/%s/ingest" % room, {"url": url}, t_tok, ok=(201,))
    check(PASSWORD not in r.text() and "cam:***@" in r.text(),
          "POST ingest 201, the URL redacted: %s" % r.text().strip()[:160])
    st = wait_until(lambda: (lambda s: s if s and s["state"] == "playing" and s["connected"]
                             else None)(ingest_state(srv, room, t_tok)), 20)
    if not check(st is not None, "the ingest plays and its peer connects"):
        return
    log("figure: POST ingest to playing and connected: %.2f s" % (time.monotonic() - t_post))

    teacher = WsClient("127.0.0.1", srv.port)
    rid = teacher.request({"type": "join", "room": room, "role": "teacher", "name": "Wang Li",
                           "token": t_tok})
    reply = wait_until(lambda: (lambda m: m if m and m.get("id") == rid else None)(
        teacher.recv(0.2)), 5)
    ing = (reply or {}).get("ingest") or {}
    check(ing.get("state") == "playing" and "cam:***@" in ing.get("url", "")
          and PASSWORD not in json.dumps(reply),
          "the teacher's join shows the source: %s %s" % (ing.get("url"), ing.get("state")))
    tracks = [(t["kind"], t["codec"]) for t in (reply or {}).get("tracks", [])]
    check(("video", "H264") in tracks and ("audio", "opus") in tracks,
          "the room's tracks: %s" % tracks)

    player = wb.Player("player", video_caps=wb.H264_CAPS)
    player.pipe.set_state(Gst.State.PLAYING)
    offer = player.make_offer()
    player.t_post = time.monotonic()
    player.deadline = player.t_post + 3600
    player.url, answer = peers.whep_play(srv.base, room, offer)
    player.apply_answer(answer)
    player.wait_connected()
    first = wait_until(lambda: player.first_video, 10)
    if not check(first is not None, "the WHEP player decodes the camera"):
        return
    log("figure: WHEP join to first frame: %.2f s" % first)
    time.sleep(4)
    before = frames(player)
    check(before >= 60, "the player decoded %d frames, sizes %s, audio %d buffers" % (
        before, sorted(player.sizes), player.audio_buffers))
    t_first_part = time.monotonic() - player.t_post - first

    camera.kill()
    t_kill = time.monotonic()
    lost = wait_until(lambda: (lambda s: s if s and s["state"] == "lost" else None)(
        ingest_state(srv, room, t_tok)), 10)
    check(lost is not None, "the ingest says the camera is lost: %s" % (lost or {}).get("message"))
    time.sleep(max(0.0, 2.0 - (time.monotonic() - t_kill)))
    stalled = frames(player)
    camera.start()
    t_restart = time.monotonic()
    resumed = wait_until(lambda: frames(player) > stalled + 5, 30, 0.02)
    if not check(resumed is not None, "the player decodes again after the camera restarted"):
        return
    t_resume = time.monotonic()
    log("figure: RTSP restart to decoding: %.2f s (camera off %.2f s)" % (
        t_resume - t_restart, t_restart - t_kill))
    time.sleep(4)
    after = frames(player) - stalled
    check(after >= 60, "after the restart the player decoded %d frames" % after)
    t_second_part = time.monotonic() - t_resume

    r = api(srv, "DELETE", "/api/v1/rooms/%s/ingest" % room, token=t_tok, ok=(204,))
    check(ingest_state(srv, room, t_tok) is None, "DELETE ingest 204: the room has no source")
    events = []
    while True:
        m = teacher.recv(0.1)
        if m is None:
            break
        events.append(m)
    check(PASSWORD not in json.dumps(events) and any(e.get("event") == "ingest" for e in events),
          "the teacher heard %d ingest events, none with the password" % sum(
              1 for e in events if e.get("event") == "ingest"))
    player.stop()
    check_recording(srv, t_first_part + t_second_part)
    tcp_cam = Camera(peers.free_port(), ["--tcp-only"])
    try:
        tcp_cam.start()
        scheduled_source(srv, "rtsp://%s:%s@127.0.0.1:%d/cam" % (USER, PASSWORD, tcp_cam.port))
    finally:
        tcp_cam.kill()


def scheduled_source(srv, url):
    """A lesson booked with its source_url (a camera that sends RTP only interleaved in the
    RTSP connection): its room opens with the camera as teacher."""
    teacher = json.loads(api(srv, "POST", "/api/v1/users",
                             {"username": "zhao", "password": "correct horse",
                              "name": "Zhao Min", "role": "teacher"}).body)
    now = int(time.time() * 1000)
    r = api(srv, "POST", "/api/v1/lessons",
            {"title": "Booked camera", "teacher_id": teacher["id"], "start_ms": now - 60000,
             "end_ms": now + 600000, "record": False, "source_url": url})
    lesson = json.loads(r.body)
    check(PASSWORD not in r.text() and "cam:***@" in (lesson.get("source_url") or ""),
          "a lesson booked with source_url shows it redacted: %s" % lesson.get("source_url"))
    bad = api(srv, "PUT", "/api/v1/lessons/%d" % lesson["id"], {"source_url": "rtsp://a b"},
              ok=(400,))
    check(PASSWORD not in bad.text(), "a bad source_url is refused: %s" % bad.text()[:120])
    st = wait_until(lambda: (lambda s: s if s and s["state"] == "playing" and s["connected"]
                             else None)(ingest_state(srv, lesson["room"], None)), 20)
    check(st is not None, "its room opened with the camera (RTP over TCP) publishing: %s" % (
        st or {}))
    api(srv, "DELETE", "/api/v1/rooms/%s/ingest" % lesson["room"], ok=(204,))


def check_recording(srv, media_s):
    t0 = time.monotonic()
    rec = None
    while time.monotonic() - t0 < 120:
        recs = json.loads(api(srv, "GET", "/api/v1/recordings").body).get("recordings", [])
        if recs and recs[0]["state"] in ("ready", "failed"):
            rec = recs[0]
            break
        time.sleep(0.5)
    if not check(rec is not None and rec["state"] == "ready", "the recording is packaged"):
        return
    mp4 = os.path.join(srv.data, "recordings", rec["id"], "vod", "lesson.mp4")
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                          "csv=p=0", mp4], capture_output=True, text=True)
    dur = float(out.stdout.strip() or 0)
    with open(os.path.join(srv.data, "recordings", rec["id"], "vod", "info.json")) as f:
        info = json.load(f)
    log("recording %s: %.2f s, tracks %s, gaps %s, chapters %s" % (
        rec["id"], dur, [(t["kind"], t["codec"]) for t in rec.get("tracks", [])],
        info.get("gaps"), [c["title"] for c in info.get("chapters", [])]))
    check(dur >= media_s - 0.5, "the MP4 lasts %.2f s >= both parts (%.2f s)" % (dur, media_s))
    # the camera's own frames, as recorded: both parts in one track, the gap between them
    segs = sorted(glob.glob(os.path.join(srv.data, "recordings", rec["id"], "tracks",
                                         "*camera*", "run-*", "seg-*.mkv")))
    times = []
    for seg in segs:
        out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                              "packet=pts_time", "-of", "csv=p=0", seg],
                             capture_output=True, text=True)
        times += [float(t) for t in out.stdout.split() if t and t != "N/A"]
    times.sort()
    gaps = [b - a for a, b in zip(times, times[1:])]
    gap = max(gaps) if gaps else 0
    at = gaps.index(gap) if gaps else 0
    log("recorded camera frames: %d in %d segment(s), %.2f s of media, longest gap %.2f s "
        "(%d frames before it, %d after)" % (len(times), len(segs), (times[-1] - times[0]) if
                                             times else 0, gap, at + 1, len(times) - at - 1))
    check(gap >= 1.5 and at + 1 >= 90 and len(times) - at - 1 >= 90,
          "the recorded track holds frames before and after the camera's gap")
    check(sorted(t["kind"] for t in rec.get("tracks", [])) == ["audio", "video"],
          "the recording has the camera's audio and video")


def main():
    Gst.init(None)
    binary = peers.find_classrelay(sys.argv[1] if len(sys.argv) > 1 else None)
    camera = Camera(peers.free_port())
    srv = peers.Server(binary, ["--record-end-after", "3"], name="rtsp-ingest", media_port=True)
    try:
        camera.start()
        srv.start()
        run(srv, camera)
    except Exception as e:  # noqa: BLE001
        check(False, "%s: %s" % (type(e).__name__, e))
    finally:
        camera.kill()
    logpath = srv.logpath
    if os.environ.get("KEEP_DATA") or failures:  # the recording, for a look afterwards
        print("kept the data folder", srv.data, flush=True)
        srv.data = None
    srv.stop()
    with open(logpath, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    check(PASSWORD not in text, "the password is nowhere in the server's log")
    log("server log, ingest lines:\n    " + "\n    ".join(
        [l for l in text.splitlines() if "ingest" in l][:30]))
    pairs = re.findall(r"selected pair (?:udp|tcp) (\S+) -> (\S+)", text)
    log("selected ICE pairs: %s" % sorted(set(pairs)))
    check(len(pairs) >= 2 and all(a.startswith("127.0.0.1:") and b.startswith("127.0.0.1:")
                                  for a, b in pairs),
          "every ICE pair (the ingest's, the player's) is on 127.0.0.1")
    if failures:
        print("server log:", logpath)
    print("RESULT:", "FAIL" if failures else "PASS", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
