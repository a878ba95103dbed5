#!/usr/bin/python3
"""classrelay-recorder record survives SIGKILL, restarts in a new run, and outlives a full disk.

Usage: /usr/bin/python3 tests/integration/recorder_crash.py path/to/classrelay-recorder
       [--seconds 20]

Real parts only: the recorder binary, fed plain RTP over loopback by GStreamer senders in
this process (audiotestsrc -> opusenc -> rtpopuspay pt 111; videotestsrc is-live ->
vp8enc keyframe-max-dist=60 deadline=1 -> rtpvp8pay pt 96), and the segments checked by
decoding them with GStreamer (filesrc ! matroskademux ! opusdec|vp8dec ! fakesink).

1. crash: record audio + video for --seconds, SIGKILL the recorder; every segment must
   decode and the decoded seconds must be >= sent - 2 s for both tracks. Prints the
   recorder's CPU per track.
2. restart: a new recorder on the same folders records ~10 s into run-002, "stop" answers
   "stopped", SIGTERM exits 0; run-002 decodes.
3. disk full: the video track's folder is a 3 MB tmpfs (needs root: mount). The recorder
   reports {"event":"error","message":"No space left...","fatal":false}, keeps answering
   ping, the audio track (on the normal disk) is unaffected, and after the test deletes
   the segments a new run records again.
Ends with "RESULT: PASS" or "RESULT: FAIL".
"""
import sys
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import argparse
import glob
import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import gi  # noqa: E402
gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

Gst.init(None)

FPS = 30
SLACK_S = 2.0  # what a SIGKILL may lose (jitterbuffer latency + in flight)
failures = []


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def check(ok, what):
    log(("ok:   " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)
    return ok


class Recorder:
    """classrelay-recorder record as a child process; events read by a thread."""

    def __init__(self, binary, tag, workdir):
        self.stderr = open(os.path.join(workdir, f"recorder-{tag}.log"), "w")
        self.proc = subprocess.Popen([binary, "record"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True,
                                     bufsize=1)
        self.events = queue.Queue()
        self.all = []
        threading.Thread(target=self._read, daemon=True).start()
        self.wait(lambda e: e.get("event") == "ready", 5, "ready")

    def _read(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                ev = {"event": "garbage", "line": line}
            self.all.append(ev)
            self.events.put(ev)

    def send(self, cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def wait(self, pred, timeout, what):
        end = time.time() + timeout
        while time.time() < end:
            try:
                ev = self.events.get(timeout=max(0.01, end - time.time()))
            except queue.Empty:
                break
            if pred(ev):
                return ev
        raise RuntimeError(f"no {what} event within {timeout} s")

    def start(self, key, tdir, kind, codec, pt, rate):
        source = "mic" if kind == "audio" else "camera"
        self.send({"cmd": "start", "track": key, "dir": tdir, "kind": kind, "source": source,
                   "codec": codec, "pt": pt, "clock_rate": rate})
        ev = self.wait(lambda e: e.get("track") == key and e.get("event") in ("started", "error"),
                       5, f"started {key}")
        if ev["event"] != "started":
            raise RuntimeError(f"start {key}: {ev}")
        return ev["port"]

    def ping(self, seq):
        self.send({"cmd": "ping", "seq": seq})
        return self.wait(lambda e: e.get("event") == "pong" and e.get("seq") == seq, 3, "pong")

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)


class Sender:
    """Live test media as RTP to the recorder's ports; one pipeline, one clock."""

    def __init__(self, aport, vport, vbitrate=600000, pattern="ball"):
        desc = (
            "audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! "
            "audio/x-raw,rate=48000,channels=1 ! opusenc ! rtpopuspay pt=111 ! "
            f"udpsink host=127.0.0.1 port={aport} sync=false async=false "
            f"videotestsrc is-live=true pattern={pattern} ! "
            f"video/x-raw,width=640,height=360,framerate={FPS}/1 ! "
            f"vp8enc keyframe-max-dist=60 deadline=1 target-bitrate={vbitrate} ! "
            "rtpvp8pay pt=96 mtu=1200 ! "
            f"udpsink host=127.0.0.1 port={vport} sync=false async=false")
        self.pipe = Gst.parse_launch(desc)
        self.pipe.set_state(Gst.State.PLAYING)
        self.t0 = time.time()

    def seconds(self):
        return time.time() - self.t0

    def stop(self):
        self.pipe.set_state(Gst.State.NULL)


def decode(path, kind):
    """Decodes one segment: {"seconds", "first", "last", "error"}."""
    dec = "opusdec" if kind == "audio" else "vp8dec"
    pipe = Gst.parse_launch(f"filesrc location={path} ! matroskademux ! {dec} ! "
                            "fakesink name=s sync=false")
    st = {"n": 0, "dur": 0, "first": None, "last": None}

    def probe(pad, info):
        b = info.get_buffer()
        st["n"] += 1
        if b.duration != Gst.CLOCK_TIME_NONE:
            st["dur"] += b.duration
        if b.pts != Gst.CLOCK_TIME_NONE:
            if st["first"] is None:
                st["first"] = b.pts
            st["last"] = b.pts
        return Gst.PadProbeReturn.OK

    pipe.get_by_name("s").get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, probe)
    pipe.set_state(Gst.State.PLAYING)
    msg = pipe.get_bus().timed_pop_filtered(30 * Gst.SECOND,
                                            Gst.MessageType.EOS | Gst.MessageType.ERROR)
    err = None
    if msg is None:
        err = "timeout"
    elif msg.type == Gst.MessageType.ERROR:
        err = msg.parse_error()[0].message
    pipe.set_state(Gst.State.NULL)
    secs = st["dur"] / 1e9 if kind == "audio" else st["n"] / FPS
    return {"seconds": secs, "frames": st["n"], "error": err,
            "first": None if st["first"] is None else st["first"] / 1e9,
            "last": None if st["last"] is None else st["last"] / 1e9}


def check_run(run_dir, kind, min_seconds, allow_truncated_tail):
    """Decodes every segment of a run; returns (seconds, first_pts, last_pts)."""
    segs = sorted(glob.glob(os.path.join(run_dir, "seg-*.mkv")))
    check(os.path.isfile(os.path.join(run_dir, "run.json")), f"{run_dir}/run.json exists")
    total, first, last = 0.0, None, None
    for i, seg in enumerate(segs):
        r = decode(seg, kind)
        tail = i == len(segs) - 1
        log(f"  {os.path.relpath(seg, os.path.dirname(os.path.dirname(run_dir)))}: "
            f"{r['frames']} {'buffers' if kind == 'audio' else 'frames'}, "
            f"{r['seconds']:.2f} s, pts {r['first']} .. {r['last']}"
            + (f", error: {r['error']}" if r["error"] else ""))
        check(r["frames"] > 0 and (not r["error"] or (tail and allow_truncated_tail)),
              f"{os.path.basename(seg)} of {kind} decodes")
        total += r["seconds"]
        if r["first"] is not None and first is None:
            first = r["first"]
        if r["last"] is not None:
            last = r["last"]
    check(len(segs) > 0 and total >= min_seconds,
          f"{kind} {os.path.basename(run_dir)}: {total:.2f} s decoded in {len(segs)} segments "
          f"(need >= {min_seconds:.2f})")
    return total, first, last


def base_ns(run_dir):
    with open(os.path.join(run_dir, "run.json")) as f:
        return json.load(f)["base_unix_ns"]


def phase_crash(binary, work, seconds, figures):
    log(f"== 1. record {seconds} s, then SIGKILL")
    rec = Recorder(binary, "1", work)
    adir, vdir = os.path.join(work, "tracks/1-mic"), os.path.join(work, "tracks/2-camera")
    aport = rec.start("1-mic", adir, "audio", "OPUS", 111, 48000)
    vport = rec.start("2-camera", vdir, "video", "VP8", 96, 90000)
    for d in (adir, vdir):
        check(os.path.isfile(os.path.join(d, "track.json")), f"{d}/track.json written at start")
        check(os.path.isfile(os.path.join(d, "run-001/run.json")), "run-001/run.json before media")
    snd = Sender(aport, vport)
    time.sleep(2)
    cpu0, t0 = rec.cpu_seconds(), time.time()
    time.sleep(seconds - 2)
    cpu1, t1 = rec.cpu_seconds(), time.time()
    sent = snd.seconds()
    rec.kill()
    rec.proc.wait()
    snd.stop()
    cpu = 100.0 * (cpu1 - cpu0) / (t1 - t0)
    figures["cpu_total"], figures["cpu_track"] = cpu, cpu / 2
    log(f"recorder CPU: {cpu:.1f}% for 2 tracks = {cpu / 2:.1f}% per track "
        f"(640x360 VP8 30 fps ~600 kbit/s + Opus)")
    stats = [e for e in rec.all if e.get("event") == "stats"]
    check(len(stats) >= 2, f"stats events every 5 s ({len(stats)} in {seconds} s)")
    log(f"sent {sent:.2f} s, SIGKILL")
    a_s, a_first, a_last = check_run(os.path.join(adir, "run-001"), "audio", sent - SLACK_S, True)
    v_s, v_first, v_last = check_run(os.path.join(vdir, "run-001"), "video", sent - SLACK_S, True)
    figures["sent"], figures["audio"], figures["video"] = sent, a_s, v_s
    # Both tracks came from one sender pipeline: their first buffers, put on the wall clock
    # through run.json, must meet (both start with a keyframe sent at once by the sender).
    if a_first is not None and v_first is not None:
        wa = base_ns(os.path.join(adir, "run-001")) / 1e9 + a_first
        wv = base_ns(os.path.join(vdir, "run-001")) / 1e9 + v_first
        figures["sync_ms"] = (wv - wa) * 1000
        check(abs(wv - wa) < 0.1, f"audio and video start {1000 * (wv - wa):+.0f} ms apart on "
              "the wall clock (run.json base_unix_ns + pts)")
        # Drift over the run: the spans of the two tracks (one frame / one Opus packet of
        # quantisation each) must agree, as both are stamped by arrival on one clock.
        drift = (v_last - v_first) - (a_last - a_first)
        figures["drift_ms"] = drift * 1000
        check(abs(drift) < 0.08, f"audio and video spans differ by {1000 * drift:+.0f} ms after "
              f"{a_last - a_first:.1f} s (< 80 ms: 50 ms + a frame)")
    return adir, vdir


def phase_restart(binary, work, adir, vdir, seconds, figures):
    log(f"== 2. new recorder on the same folders, {seconds} s, stop, SIGTERM")
    rec = Recorder(binary, "2", work)
    aport = rec.start("1-mic", adir, "audio", "OPUS", 111, 48000)
    vport = rec.start("2-camera", vdir, "video", "VP8", 96, 90000)
    snd = Sender(aport, vport)
    time.sleep(seconds)
    sent = snd.seconds()
    rec.send({"cmd": "stop", "track": "1-mic"})
    rec.send({"cmd": "stop", "track": "2-camera"})
    stopped = {}
    for _ in range(2):
        ev = rec.wait(lambda e: e.get("event") == "stopped", 5, "stopped")
        stopped[ev["track"]] = ev
        log(f"stopped: {json.dumps(ev)}")
    snd.stop()
    check(set(stopped) == {"1-mic", "2-camera"}, "both tracks answer stopped")
    check(all(e.get("bytes", 0) > 0 and e.get("duration_ms", 0) > 0 for e in stopped.values()),
          "stopped reports bytes and duration_ms")
    rec.kill(signal.SIGTERM)
    try:
        rc = rec.proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        rc = None
        rec.kill()
    check(rc == 0, f"SIGTERM: recorder exits 0 (got {rc})")
    for d, kind in ((adir, "audio"), (vdir, "video")):
        check(os.path.isdir(os.path.join(d, "run-002")), f"{os.path.basename(d)}/run-002 exists")
        s, _, _ = check_run(os.path.join(d, "run-002"), kind, sent - SLACK_S, False)
        figures["restart_" + kind] = s


def segs_bytes(run_dir):
    return sum(os.path.getsize(f) for f in glob.glob(os.path.join(run_dir, "seg-*.mkv")))


def phase_disk_full(binary, work, figures):
    log("== 3. disk full: video on a 3 MB tmpfs, audio on the normal disk")
    mnt = os.path.join(work, "full")
    os.makedirs(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mnt],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"cannot mount a 3 MB tmpfs for the disk-full case (needs root with "
                           f"CAP_SYS_ADMIN): {r.stderr.strip()}")
    rec = snd = None
    try:
        rec = Recorder(binary, "3", work)
        adir, vdir = os.path.join(work, "tracks3/1-mic"), os.path.join(mnt, "2-camera")
        aport = rec.start("1-mic", adir, "audio", "OPUS", 111, 48000)
        vport = rec.start("2-camera", vdir, "video", "VP8", 96, 90000)
        # snow does not compress: ~3 Mbit/s fills 3 MB in about 8 s
        snd = Sender(aport, vport, vbitrate=3000000, pattern="snow")
        t0 = time.time()
        ev = rec.wait(lambda e: e.get("event") == "error" and e.get("track") == "2-camera",
                      25, "error for 2-camera")
        log(f"after {time.time() - t0:.1f} s: {json.dumps(ev)}")
        figures["disk_error"] = ev.get("message")
        check("no space left" in ev.get("message", "").lower(),
              "the error event carries the 'No space left' text")
        check(ev.get("fatal") is False, "the error is not fatal")
        check(rec.proc.poll() is None, "the recorder is still running")
        check(rec.ping(1).get("seq") == 1, "ping answered while the disk is full")
        time.sleep(1)
        # free the space: delete the segments written so far
        removed = 0
        for f in glob.glob(os.path.join(vdir, "run-*/seg-*.mkv")):
            removed += os.path.getsize(f)
            os.unlink(f)
        log(f"freed {removed} bytes; waiting for a new run")
        t1, newrun = time.time(), None
        while time.time() - t1 < 15 and newrun is None:
            time.sleep(0.5)
            for r in sorted(glob.glob(os.path.join(vdir, "run-*")))[1:]:
                if segs_bytes(r) > 100000:
                    newrun = r
        check(newrun is not None, "a new run records video after space is freed"
              + (f" ({os.path.basename(newrun)}, {time.time() - t1:.1f} s later)" if newrun else ""))
        if newrun:
            r = decode(sorted(glob.glob(os.path.join(newrun, "seg-*.mkv")))[0], "video")
            check(r["frames"] > 0, f"{os.path.basename(newrun)} decodes ({r['frames']} frames)")
        check(rec.ping(2).get("seq") == 2, "ping answered after the recovery")
        aerr = [e for e in rec.all if e.get("event") == "error" and e.get("track") == "1-mic"]
        check(not aerr and glob.glob(os.path.join(adir, "run-*")) == [os.path.join(adir, "run-001")],
              "the audio track on the normal disk had no error and one run")
        def audio_stats():
            return [e for e in rec.all if e.get("event") == "stats" and e.get("track") == "1-mic"]
        t2 = time.time()  # stats come every 5 s: on a loaded machine the phase may see one
        while len(audio_stats()) < 2 and time.time() - t2 < 12:
            time.sleep(0.5)
        astats = audio_stats()
        check(len(astats) >= 2 and astats[-1]["packets"] > astats[0]["packets"],
              "audio stats keep growing while video fails")
        rec.send({"cmd": "stop", "track": "1-mic"})
        rec.send({"cmd": "stop", "track": "2-camera"})
        rec.proc.stdin.close()  # EOF: finalise and exit 0
        rc = rec.proc.wait(timeout=8)
        check(rc == 0, f"stdin EOF: recorder exits 0 (got {rc})")
    finally:
        if snd:
            snd.stop()
        if rec:
            rec.kill()
            rec.proc.wait()
        subprocess.run(["umount", mnt])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("recorder")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("the disk-full case mounts a tmpfs and needs root; run as root (CI does)")
        print("RESULT: FAIL")
        return 1
    work = tempfile.mkdtemp(prefix="cr-recorder-crash-")
    log(f"work folder {work}")
    figures = {}
    t0 = time.time()
    try:
        adir, vdir = phase_crash(args.recorder, work, args.seconds, figures)
        phase_restart(args.recorder, work, adir, vdir, 10, figures)
        phase_disk_full(args.recorder, work, figures)
    except Exception as e:  # a phase that cannot go on
        check(False, f"exception: {e!r}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print("summary:")
    if "sent" in figures:
        print(f"  SIGKILL after {figures['sent']:.2f} s sent: survived audio "
              f"{figures['audio']:.2f} s, video {figures['video']:.2f} s "
              f"(lost {figures['sent'] - figures['audio']:.2f} / "
              f"{figures['sent'] - figures['video']:.2f} s)")
    if "sync_ms" in figures:
        print(f"  audio/video start apart on the wall clock: {figures['sync_ms']:+.0f} ms, "
              f"drift over the run {figures.get('drift_ms', float('nan')):+.0f} ms")
    if "cpu_track" in figures:
        print(f"  recorder CPU: {figures['cpu_total']:.1f}% for 2 tracks, "
              f"{figures['cpu_track']:.1f}% per track")
    if "restart_audio" in figures:
        print(f"  restart run-002: audio {figures['restart_audio']:.2f} s, "
              f"video {figures['restart_video']:.2f} s")
    if "disk_error" in figures:
        print(f"  disk full reported as: {figures['disk_error']}")
    print(f"  {len(failures)} failure(s), {time.time() - t0:.0f} s")
    for f in failures:
        print(f"   - {f}")
    print("RESULT: " + ("FAIL" if failures else "PASS"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
