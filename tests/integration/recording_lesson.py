#!/usr/bin/python3
"""Lessons recorded end to end: a WHIP teacher (GStreamer webrtcbin) publishes through a real
classrelay server, which records with its real recorder process and packages for replay.

Usage: /usr/bin/python3 tests/integration/recording_lesson.py [path/to/classrelay]
       [--scenarios basic-vp8,basic-h264,recorder-kill,server-kill,disk-full] [--seconds 32]

Scenarios (each with a fresh server and data folder):
  basic-vp8 / basic-h264  a lesson of --seconds; the recording appears in the catalogue,
        becomes "ready"; MP4 and HLS (master, hi, lo, over HTTP) have audio and video and a
        duration within 1 s of the lesson; every flash of the picture sits on its tick of
        sound (A/V sync), a frame from the middle decodes.
  recorder-kill  the recorder is SIGKILLed 20 s into a 40 s lesson: it is restarted, the
        lesson records on, the final recording spans the whole lesson; prints the seconds
        lost around the kill.
  server-kill    the whole server is SIGKILLed 20 s into a lesson, then started again on the
        same data folder: the recording is packaged with what survived, which plays.
  disk-full      the recordings folder is a 160 KiB tmpfs: the disk fills mid-lesson, the
        error is reported (stats and catalogue), and a WHEP player keeps decoding the live
        lesson throughout. Needs root (mount).
Ends with "RESULT: PASS" or "RESULT: FAIL".
"""
import sys
sys.dont_write_bytecode = True

import argparse
import glob
import json
import os
import signal
import statistics
import subprocess
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import lesson  # noqa: E402
import wsclient  # noqa: E402
import peers  # noqa: E402
from peers import log  # noqa: E402
from lesson import Gst  # noqa: E402
import webrtcbin_whip_whep as wb  # noqa: E402

SERVER_ARGS = ["--record-end-after", "2"]


def api(base, path):
    r = peers.http("GET", base + path, timeout=10)
    if r.status != 200:
        raise RuntimeError("GET %s -> %d %s" % (path, r.status, r.text()[:200]))
    return json.loads(r.body)


def recorder_state(base):
    return peers.get_stats(base).get("recording", {})


def wait_ready(base, timeout=180):
    """The newest recording once it is ready (or failed)."""
    t0 = time.monotonic()
    last = None
    while time.monotonic() - t0 < timeout:
        recs = api(base, "/api/v1/recordings").get("recordings", [])
        if recs:
            r = recs[0]
            if (r["state"], int(r.get("progress") or 0)) != last:
                last = (r["state"], int(r.get("progress") or 0))
                log("recording %s: %s %d%%" % (r["id"], last[0], last[1]))
            if r["state"] in ("ready", "failed"):
                return r, time.monotonic() - t0
        time.sleep(0.5)
    raise RuntimeError("no recording became ready in %d s" % timeout)


def lesson_for(pub, seconds, during=None):
    """Runs the lesson for seconds after the teacher connected; during(t) each 0.1 s."""
    while time.monotonic() - pub.connected_at < seconds:
        pub.poll()
        if during:
            during(time.monotonic() - pub.connected_at)
        time.sleep(0.1)


def check_recording(server, rec, lesson_s, label, expect_gap=False):
    """Checks the packaged outputs; returns a list of failures."""
    fails = []
    tracks = sorted(t["kind"] for t in rec.get("tracks", []))
    log("%s: catalogue: state %s, duration %.2f s, tracks %s, renditions %s, size %s" % (
        label, rec["state"], (rec.get("duration_ms") or 0) / 1000, tracks,
        [r.get("name") for r in rec.get("renditions", [])], rec.get("size_bytes")))
    if rec["state"] != "ready":
        return ["%s: recording state %s (%s)" % (label, rec["state"], rec.get("error"))]
    if tracks != ["audio", "video"]:
        fails.append("%s: catalogue tracks %s" % (label, tracks))
    vod = os.path.join(server.data, "recordings", rec["id"], "vod")
    mp4 = os.path.join(vod, "lesson.mp4")
    outputs = [("mp4", "file://" + mp4)]
    for r in rec.get("renditions", []):
        outputs.append(("hls-" + r["name"], server.base + r["url"]))
    # the master playlist over HTTP lists every rendition (GStreamer's hlsdemux fetches the
    # variant playlists without the token's cookie, so each rendition is opened on its own)
    master = peers.http("GET", server.base + rec["hls"]) if rec.get("hls") else None
    listed = master.text() if master is not None and master.status == 200 else ""
    if not listed.startswith("#EXTM3U") or not all(
            r["url"].rsplit("/", 2)[-2] in listed for r in rec.get("renditions", [])):
        fails.append("%s: the master playlist does not list the renditions: %r" % (
            label, listed[:200]))
    if len(outputs) < 3:
        fails.append("%s: expected MP4 and two renditions, got %s" % (
            label, [o[0] for o in outputs]))
    for name, uri in outputs:
        try:
            dur, has_a, has_v, vcaps = lesson.discover(uri)
        except Exception as e:  # noqa: BLE001
            fails.append("%s: %s does not open: %s" % (label, name, e))
            continue
        log("%s: %-8s duration %.2f s (lesson %.2f s), audio %s, video %s %s" % (
            label, name, dur, lesson_s, has_a, has_v, vcaps[:60]))
        if not (has_a and has_v):
            fails.append("%s: %s lacks audio or video" % (label, name))
        if abs(dur - lesson_s) > 1.0:
            fails.append("%s: %s lasts %.2f s, lesson %.2f s" % (label, name, dur, lesson_s))
    flashes, ticks, frames = lesson.analyse("file://" + mp4)
    offs = sync_report(label, flashes, ticks, frames, lesson_s)
    if len(offs) < 0.7 * lesson_s * (0.85 if expect_gap else 1):
        fails.append("%s: only %d flash/tick pairs in %.0f s" % (label, len(offs), lesson_s))
    elif abs(statistics.median(offs)) > 0.1:
        fails.append("%s: audio/video offset %.0f ms" % (label, 1000 * statistics.median(offs)))
    mid = lesson.middle_frame("file://" + mp4, lesson_s / 2)
    log("%s: seek to %.1f s: decoded a frame at %s" % (label, lesson_s / 2, mid))
    if mid is None or abs(mid - lesson_s / 2) > 3:
        fails.append("%s: no frame decoded near the middle" % label)
    return fails


def sync_report(label, flashes, ticks, frames, lesson_s):
    offs = lesson.sync_offsets(flashes, ticks)
    if offs:
        log("%s: %d frames, %d flashes, %d ticks; A/V offset (flash - tick) median %+.0f ms, "
            "min %+.0f, max %+.0f" % (label, frames, len(flashes), len(ticks),
                                       1000 * statistics.median(offs), 1000 * min(offs),
                                       1000 * max(offs)))
    else:
        log("%s: %d frames, %d flashes, %d ticks: no pairs" % (label, frames, len(flashes),
                                                                 len(ticks)))
    return offs


def new_server(binary, data=None, extra=()):
    s = peers.Server(binary, extra_args=SERVER_ARGS + list(extra), name="recording-it")
    if data:
        os.rmdir(s.data)
        s.data = data
    return s.start()


def basic(binary, seconds, codec):
    label = "basic-" + codec.lower()
    server = new_server(binary)
    pub = None
    try:
        pub = lesson.Publisher(server.base, "rec-" + codec.lower(), codec).start()
        lesson_for(pub, seconds)
        lesson_s = time.monotonic() - pub.connected_at
        pub.stop()
        pub = None
        log("%s: lesson of %.2f s over; waiting for packaging" % (label, lesson_s))
        rec, waited = wait_ready(server.base)
        log("%s: ready %.1f s after the lesson ended" % (label, waited))
        return check_recording(server, rec, lesson_s, label)
    finally:
        if pub:
            pub.stop()
        server.stop()


def recorder_kill(binary, seconds):
    label = "recorder-kill"
    seconds = max(seconds, 40)
    server = new_server(binary)
    pub = None
    fails = []
    state = {"killed_at": None, "pid": None, "back_at": None}
    try:
        pub = lesson.Publisher(server.base, "rec-kill", "VP8").start()

        def during(t):
            if state["killed_at"] is None and t >= 20:
                pid = recorder_state(server.base).get("recorder_pid")
                os.kill(pid, signal.SIGKILL)
                state["killed_at"], state["pid"] = t, pid
                log("%s: SIGKILL recorder pid %d at %.2f s" % (label, pid, t))
            elif state["killed_at"] is not None and state["back_at"] is None:
                st = recorder_state(server.base)
                if st.get("recorder_running") and st.get("recorder_pid") != state["pid"]:
                    state["back_at"] = t
                    log("%s: recorder back (pid %d) %.2f s after the kill; status: %s" % (
                        label, st["recorder_pid"], t - state["killed_at"],
                        [l.get("error") for l in st.get("lessons", [])]))
        lesson_for(pub, seconds, during)
        lesson_s = time.monotonic() - pub.connected_at
        pub.stop()
        pub = None
        if state["back_at"] is None:
            fails.append("%s: the recorder did not come back" % label)
        rec, _ = wait_ready(server.base)
        fails += check_recording(server, rec, lesson_s, label, expect_gap=True)
        runs = sorted(glob.glob(os.path.join(server.data, "recordings", rec["id"], "tracks",
                                             "*", "run-*")))
        log("%s: run folders: %s" % (label, [os.path.relpath(r, server.data) for r in runs]))
        info = json.load(open(os.path.join(server.data, "recordings", rec["id"], "vod",
                                           "info.json")))
        gaps = info.get("gaps", [])
        log("%s: gaps in the recording: %s" % (label, gaps))
        if len(runs) < 4:
            fails.append("%s: expected two runs per track, got %d run folders" % (label,
                                                                                 len(runs)))
        if gaps:
            lost_before = state["killed_at"] - gaps[0]["at_ms"] / 1000
            log("%s: killed at %.2f s; recording stops at %.2f s: %.2f s lost before the "
                "kill, %.2f s gap until recording resumed" % (
                    label, state["killed_at"], gaps[0]["at_ms"] / 1000, lost_before,
                    gaps[0]["duration_ms"] / 1000))
            if lost_before > 2.5:
                fails.append("%s: %.2f s before the kill were lost" % (label, lost_before))
        return fails
    finally:
        if pub:
            pub.stop()
        server.stop()


def server_kill(binary, seconds):
    label = "server-kill"
    server = new_server(binary)
    data = server.data
    pub = None
    try:
        pub = lesson.Publisher(server.base, "rec-crash", "VP8").start()
        lesson_for(pub, 20)
        kill_s = time.monotonic() - pub.connected_at
        os.kill(server.pid, signal.SIGKILL)
        server.proc.wait()
        log("%s: SIGKILL server at %.2f s into the lesson" % (label, kill_s))
        pub.stop(delete=False)
        pub = None
        server.data = None  # keep the folder for the restart
        server.stop()
        time.sleep(1.0)
        server = new_server(binary, data=data)
        rec, waited = wait_ready(server.base)
        log("%s: after the restart the recording was packaged in %.1f s" % (label, waited))
        dur = (rec.get("duration_ms") or 0) / 1000
        log("%s: %.2f s of the %.2f s before the crash survived" % (label, dur, kill_s))
        fails = check_recording(server, rec, dur, label)
        if dur < kill_s - 2.0:
            fails.append("%s: only %.2f s of %.2f s survived" % (label, dur, kill_s))
        return fails
    finally:
        if pub:
            pub.stop(delete=False)
        server.stop()


def disk_full(binary, seconds):
    label = "disk-full"
    if os.geteuid() != 0:
        return ["%s: needs root to mount a small tmpfs" % label]
    server = peers.Server(binary, extra_args=SERVER_ARGS, name="recording-it")
    mnt = os.path.join(server.data, "recordings")
    os.makedirs(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", mnt], check=True)
    pub = player = None
    fails = []
    try:
        server.start()
        teacher_page = wsclient.WsClient("127.0.0.1", server.port)
        teacher_page.request({"type": "join", "room": "rec-full", "role": "teacher",
                              "name": "Teacher", "token": peers.AUTH_TOKEN})
        pub = lesson.Publisher(server.base, "rec-full", "VP8").start()
        player = wb.Player("classroom")
        player.pipe.set_state(Gst.State.PLAYING)
        offer = player.make_offer()
        player.t_post = time.monotonic()
        player.deadline = player.t_post + 3600
        player.url, answer = peers.whep_play(server.base, "rec-full", offer)
        player.apply_answer(answer)
        player.wait_connected()
        seen = {"error": None, "frames_at_error": None, "page": []}

        def during(t):
            player.poll_bus()
            while True:
                m = teacher_page.recv(0)
                if m is None:
                    break
                if m.get("event") == "recording":
                    seen["page"].append((round(t, 1), m.get("state"), m.get("message")))
            if seen["error"] is None and int(t * 10) % 5 == 0:
                for l in recorder_state(server.base).get("lessons", []):
                    if l.get("error"):
                        seen["error"] = (t, l["error"])
                        seen["frames_at_error"] = player.video_frames
                        log("%s: error reported at %.1f s: %s" % (label, t, l["error"]))
        lesson_for(pub, max(seconds, 30), during)
        frames_end = player.video_frames
        df = subprocess.run(["df", "-k", mnt], capture_output=True, text=True).stdout
        log("%s: %s" % (label, df.strip().splitlines()[-1]))
        recs = api(server.base, "/api/v1/recordings").get("recordings", [])
        log("%s: catalogue: %s" % (label, [(r["id"], r["state"], r.get("error")) for r in recs]))
        if not seen["error"]:
            fails.append("%s: the full disk was never reported" % label)
        elif "disk is full" not in seen["error"][1].lower():
            fails.append("%s: the error does not say the disk is full: %s" % (label,
                                                                               seen["error"]))
        else:
            after = frames_end - seen["frames_at_error"]
            secs = time.monotonic() - pub.connected_at - seen["error"][0]
            log("%s: the classroom decoded %d frames in the %.1f s after the error "
                "(%d in all)" % (label, after, secs, frames_end))
            if after < 10 * secs:
                fails.append("%s: the live lesson stalled after the disk filled (%d frames "
                             "in %.1f s)" % (label, after, secs))
        if not recs or not recs[0].get("error"):
            fails.append("%s: the catalogue shows no error" % label)
        log("%s: the teacher's page was told: %s" % (label, seen["page"]))
        if not any(s == "error" and "disk is full" in (m or "") for _, s, m in seen["page"]):
            fails.append("%s: the teacher's page was not told the disk is full" % label)
        if not server.alive():
            fails.append("%s: the server died" % label)
        return fails
    finally:
        if player:
            player.stop()
        if pub:
            pub.stop()
        if server.proc and server.proc.poll() is None:
            server.proc.send_signal(signal.SIGTERM)
            server.proc.wait(timeout=10)
        subprocess.run(["umount", "-l", mnt])
        server.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("classrelay", nargs="?")
    ap.add_argument("--scenarios",
                    default="basic-vp8,basic-h264,recorder-kill,server-kill,disk-full")
    ap.add_argument("--seconds", type=float, default=32.0)
    args = ap.parse_args()
    Gst.init(None)
    binary = peers.find_classrelay(args.classrelay)
    runs = {
        "basic-vp8": lambda: basic(binary, args.seconds, "VP8"),
        "basic-h264": lambda: basic(binary, args.seconds, "H264"),
        "recorder-kill": lambda: recorder_kill(binary, args.seconds),
        "server-kill": lambda: server_kill(binary, args.seconds),
        "disk-full": lambda: disk_full(binary, args.seconds),
    }
    fails = []
    for name in args.scenarios.split(","):
        log("=== %s ===" % name)
        try:
            f = runs[name.strip()]()
        except Exception as e:  # noqa: BLE001
            f = ["%s: %s: %s" % (name, type(e).__name__, e)]
        log("%s: %s" % (name, "PASS" if not f else "FAIL"))
        for x in f:
            log("FAIL: " + x)
        fails += f
    print("RESULT:", "PASS" if not fails else "FAIL", flush=True)
    sys.exit(0 if not fails else 1)


if __name__ == "__main__":
    main()
