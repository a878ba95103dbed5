#!/usr/bin/python3
"""classrelay-recorder package, end to end on real recording folders (docs/recording.md).

Builds two recording folders with GStreamer, in the layout the recorder writes
(splitmuxsink + matroskamux streamable, 10 s segments, running-time timestamps):
  A  VP8 + Opus, 40 s: the recorder dies at 18.5 s (last camera segment truncated) and
     restarts 3 s later (run-001 of the same tracks); video starts 0.3 s after audio.
  B  H.264 + Opus, 30 s: the teacher reconnects at 15 s (new track keys), 2 s gap, and an
     empty trailing segment.
  C  VP8 + Opus, 35 s, and a VP8 screen share (720p, 5 frames/s, SMPTE bars) from 10 s to
     25 s: the main outputs as for A and B, plus screen/index.m3u8 (VOD, the lesson's
     duration, the bars at 15 s, the dark grey filler at 5 s and 30 s) and info.json
     "screen" with the shared interval.
  D  VP8 + Opus, 35 s, and a classroom on stage from 10 s to 25 s ("stage-camera" bars,
     "stage-mic" a quiet 300 Hz tone): stage/index.m3u8 (640x360, the lesson's duration,
     bars at 15 s, grey at 5 s and 30 s), info.json "stage" with the turn, an "On stage"
     chapter with the classroom's name, and the tone mixed into the lesson's audio during
     the turn only, the teacher's beeps still in sync.
The media is black video with a white flash and a 1 kHz beep at every second + 0.5 s of
lesson time. Then it packages both and checks: exit status and events (progress up to
100, done), info.json, HLS master/hi/lo and MP4 durations and streams (GstPbutils
Discoverer), a decoded frame from the middle of the MP4, and A/V sync: every flash and
beep found in the decoded MP4 and HLS is matched, their offset measured, and each flash
must sit at its lesson time (so runs, gaps and truncation were placed right).

usage: package_vod.py PATH/TO/classrelay-recorder
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import recfixture as fx  # noqa: E402
from recfixture import Gst  # noqa: E402

import gi  # noqa: E402

gi.require_version("GstPbutils", "1.0")
from gi.repository import GstPbutils  # noqa: E402

BASE_NS = 1_760_000_000_000_000_000
SYNC_MAX_S = 0.080
PLACE_MAX_S = 0.050
failures = []


def check(ok, what):
    print("  %s %s" % ("ok  " if ok else "FAIL", what), flush=True)
    if not ok:
        failures.append(what)


def build_a(root):
    d = fx.make_tracks(root, codec="VP8")
    fx.write_run(d, 0, 0.0, 18.5, BASE_NS, codec="VP8", vdelay=0.3)
    fx.write_run(d, 1, 21.5, 18.5, BASE_NS + int(21.5e9), codec="VP8")
    path, old, new = fx.truncate_last_segment(os.path.join(d["video"], "run-000"))
    print("  A: truncated %s from %d to %d bytes" % (os.path.basename(path), old, new))
    return 40.0


def build_b(root):
    d = fx.make_tracks(root, vkey="2-camera", akey="1-mic", codec="H264")
    fx.write_run(d, 0, 0.0, 15.0, BASE_NS, codec="H264")
    d = fx.make_tracks(root, vkey="4-camera", akey="3-mic", codec="H264")
    fx.write_run(d, 0, 17.0, 13.0, BASE_NS + int(17e9), codec="H264")
    open(os.path.join(d["video"], "run-000", "seg-00009.mkv"), "wb").close()
    return 30.0


def build_c(root):
    d = fx.make_tracks(root, codec="VP8")
    fx.write_run(d, 0, 0.0, 35.0, BASE_NS, codec="VP8")
    fx.write_screen_run(root, "3-screen", 0, 15.0, BASE_NS + int(10e9))
    return 35.0


def build_d(root):
    d = fx.make_tracks(root, codec="VP8")
    fx.write_run(d, 0, 0.0, 35.0, BASE_NS, codec="VP8")
    fx.write_stage_run(root, "5-stage-camera", "6-stage-mic", "Classroom B 二班", 15.0,
                       BASE_NS + int(10e9))
    return 35.0


def package(recorder, root):
    t0 = time.monotonic()
    p = subprocess.run([recorder, "package", "--in", root], capture_output=True, text=True,
                       timeout=120)
    took = time.monotonic() - t0
    events = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    for line in p.stderr.splitlines():
        print("  stderr: " + line)
    return p.returncode, events, took


def discover(path):
    d = GstPbutils.Discoverer.new(20 * Gst.SECOND)
    info = d.discover_uri(Gst.filename_to_uri(path))
    kinds = sorted({s.get_stream_type_nick() for s in info.get_stream_list()})
    return info.get_duration() / 1e9, kinds


def middle_frame(mp4, at):
    """Seeks the MP4 to AT and pulls one decoded picture: (pts, mean luma) or None."""
    pipe = Gst.parse_launch(
        "filesrc location=%s ! qtdemux name=d d.video_0 ! queue ! h264parse ! avdec_h264 ! "
        "videoconvert ! video/x-raw,format=GRAY8 ! appsink name=s sync=false" % mp4)
    sink = pipe.get_by_name("s")
    pipe.set_state(Gst.State.PAUSED)
    pipe.get_state(10 * Gst.SECOND)
    pipe.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.ACCURATE,
                     int(at * Gst.SECOND))
    pipe.get_state(10 * Gst.SECOND)
    smp = sink.emit("try-pull-preroll", 5 * Gst.SECOND)
    out = None
    if smp:
        buf = smp.get_buffer()
        ok, m = buf.map(Gst.MapFlags.READ)
        out = (buf.pts / 1e9, float(np.frombuffer(m.data, np.uint8).mean()))
        buf.unmap(m)
    pipe.set_state(Gst.State.NULL)
    return out


def decode_all(uri):
    """Decodes a file or HLS URI: [(pts, mean luma)], (audio start, int16 samples)."""
    pipe = Gst.parse_launch(
        "uridecodebin uri=%s name=u "
        "u. ! queue ! videoconvert ! videoscale ! video/x-raw,format=GRAY8,width=64,height=36 ! "
        "appsink name=v sync=false "
        "u. ! queue ! audioconvert ! audioresample ! "
        "audio/x-raw,format=S16LE,channels=1,rate=48000 ! appsink name=a sync=false" % uri)
    frames, chunks = [], []
    vs, asink = pipe.get_by_name("v"), pipe.get_by_name("a")

    def on_v(sink):
        s = sink.emit("pull-sample")
        b = s.get_buffer()
        ok, m = b.map(Gst.MapFlags.READ)
        frames.append((b.pts / 1e9, float(np.frombuffer(m.data, np.uint8).mean())))
        b.unmap(m)
        return Gst.FlowReturn.OK

    def on_a(sink):
        s = sink.emit("pull-sample")
        b = s.get_buffer()
        ok, m = b.map(Gst.MapFlags.READ)
        chunks.append((b.pts / 1e9, np.frombuffer(m.data, np.int16).copy()))
        b.unmap(m)
        return Gst.FlowReturn.OK

    for s, cb in ((vs, on_v), (asink, on_a)):
        s.set_property("emit-signals", True)
        s.connect("new-sample", cb)
    pipe.set_state(Gst.State.PLAYING)
    msg = pipe.get_bus().timed_pop_filtered(60 * Gst.SECOND,
                                            Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipe.set_state(Gst.State.NULL)
    if msg is None or msg.type == Gst.MessageType.ERROR:
        print("  decode %s: %s" % (uri, msg.parse_error()[0].message if msg else "timeout"))
    return frames, chunks


def onsets(frames, chunks):
    """Flash onsets (dark -> bright frame) and beep onsets (first loud sample after quiet)."""
    flashes = [t for (t, y), (_, py) in zip(frames[1:], frames[:-1]) if y > 128 and py <= 128]
    if frames and frames[0][1] > 128:
        flashes.insert(0, frames[0][0])
    beeps, last = [], -1.0
    for t0, x in chunks:
        for i in np.nonzero(np.abs(x) > 3000)[0]:
            t = t0 + i / 48000.0
            if t - last > 0.3:
                beeps.append(t)
            last = t
    return flashes, beeps


def check_sync(label, frames, chunks, lesson_s, want_flashes):
    flashes, beeps = onsets(frames, chunks)
    offs, misplaced = [], []
    for f in flashes:
        near = [b for b in beeps if abs(b - f) < 0.5]
        if near:
            offs.append(min(near, key=lambda b: abs(b - f)) - f)
        ev = round(f - 0.5) + 0.5
        if abs(f - ev) > PLACE_MAX_S:
            misplaced.append(round(f, 3))
    worst = max((abs(o) for o in offs), default=99)
    print("  %s: %d flashes, %d beeps, %d matched; offset audio-video median %+.1f ms, "
          "worst %.1f ms" % (label, len(flashes), len(beeps), len(offs),
                             1000 * float(np.median(offs)) if offs else 0, 1000 * worst))
    check(len(offs) >= want_flashes, "%s: at least %d flash/beep pairs" % (label, want_flashes))
    check(worst <= SYNC_MAX_S, "%s: A/V offset <= %d ms" % (label, SYNC_MAX_S * 1000))
    check(not misplaced, "%s: every flash at its lesson time +-%d ms %s"
          % (label, PLACE_MAX_S * 1000, misplaced[:5]))
    return flashes


def check_lesson(recorder, root, name, lesson_s, copy, want_flashes, want_times, n_gaps=1):
    rc, events, took = package(recorder, root)
    vod = os.path.join(root, "vod")
    prog = [e["percent"] for e in events if e.get("event") == "progress"]
    done = [e for e in events if e.get("event") == "done"]
    print("  %s: packaged %.0f s of lesson in %.2f s (%.0fx real time), %d progress events"
          % (name, lesson_s, took, lesson_s / took, len(prog)))
    check(rc == 0 and len(done) == 1, "%s: exit 0 and one done event" % name)
    check(prog and prog[-1] == 100 and prog == sorted(prog), "%s: progress rises to 100" % name)
    if done:
        check(abs(done[0]["duration_ms"] / 1000 - lesson_s) < 1,
              "%s: done duration_ms %d" % (name, done[0]["duration_ms"]))
        check(done[0]["transcoded"] == (not copy), "%s: transcoded=%s" % (name, not copy))
    with open(os.path.join(vod, "info.json")) as f:
        info = json.load(f)
    print("  %s: gaps %s chapters %s" % (name, info["gaps"], info["chapters"]))
    check([r["name"] for r in info["renditions"]] == ["hi", "lo"], "%s: renditions" % name)
    check(len(info["gaps"]) == n_gaps, "%s: %d gap(s)" % (name, n_gaps))
    check(("screen" in info) == (name == "C"), "%s: info.json \"screen\" only with a screen"
          % name)
    check(("stage" in info) == (name == "D"), "%s: info.json \"stage\" only with a stage"
          % name)
    with open(os.path.join(vod, "master.m3u8")) as f:
        master = f.read()
    check(master.count("#EXT-X-STREAM-INF") == 2 and 'mp4a.40.2"' in master,
          "%s: master playlist" % name)
    for pl in ("hi/index.m3u8", "lo/index.m3u8"):
        with open(os.path.join(vod, pl)) as f:
            text = f.read()
        check("#EXT-X-ENDLIST" in text and "#EXT-X-PLAYLIST-TYPE:VOD" in text,
              "%s: %s is a VOD list" % (name, pl))
    for f in ("master.m3u8", "hi/index.m3u8", "lo/index.m3u8", "lesson.mp4"):
        dur, kinds = discover(os.path.join(vod, f))
        print("  %s: %-14s %.3f s %s" % (name, f, dur, kinds))
        check(abs(dur - lesson_s) <= 1.0 and "audio" in kinds and "video" in kinds,
              "%s: %s duration within 1 s, audio and video" % (name, f))
    at = lesson_s * 0.6  # the middle of the lesson, off the gap (a held picture)
    mid = middle_frame(os.path.join(vod, "lesson.mp4"), at)
    print("  %s: frame at %.1f s: %s" % (name, at, mid))
    check(mid is not None and abs(mid[0] - at) < 0.5, "%s: middle frame decodes" % name)
    for label, uri in (("mp4", Gst.filename_to_uri(os.path.join(vod, "lesson.mp4"))),
                       ("hls-lo", Gst.filename_to_uri(os.path.join(vod, "lo/index.m3u8")))):
        frames, chunks = decode_all(uri)
        if label.startswith("hls") and frames and chunks:
            # MPEG-TS timestamps start at mpegtsmux's PCR offset; HLS players count from
            # the first timestamp of the first segment, and so does this check.
            origin = min(frames[0][0], chunks[0][0])
            print("  %s %s: timeline origin %.3f s" % (name, label, origin))
            frames = [(t - origin, y) for t, y in frames]
            chunks = [(t - origin, x) for t, x in chunks]
        flashes = check_sync("%s %s" % (name, label), frames, chunks, lesson_s, want_flashes)
        missing = [t for t in want_times if not any(abs(f - t) < 0.1 for f in flashes)]
        check(not missing, "%s %s: flashes present at %s" % (name, label, want_times))


def screen_frames(path):
    """Decodes an HLS video-only playlist: [(lesson time, mean luma, luma std dev)], the
    time counted from the first picture, as a player does."""
    pipe = Gst.parse_launch(
        "uridecodebin uri=%s ! videoconvert ! videoscale ! "
        "video/x-raw,format=GRAY8,width=64,height=36 ! appsink name=v sync=false"
        % Gst.filename_to_uri(path))
    sink, frames = pipe.get_by_name("v"), []

    def on_v(s):
        b = s.emit("pull-sample").get_buffer()
        ok, m = b.map(Gst.MapFlags.READ)
        y = np.frombuffer(m.data, np.uint8).astype(float)
        frames.append((b.pts / 1e9, float(y.mean()), float(y.std())))
        b.unmap(m)
        return Gst.FlowReturn.OK

    sink.set_property("emit-signals", True)
    sink.connect("new-sample", on_v)
    pipe.set_state(Gst.State.PLAYING)
    pipe.get_bus().timed_pop_filtered(60 * Gst.SECOND,
                                      Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipe.set_state(Gst.State.NULL)
    origin = frames[0][0] if frames else 0
    return [(t - origin, y, sd) for t, y, sd in frames]


def check_side(root, name, key, spans_key, size, lesson_s, shown):
    """A side stream (screen, stage): info.json KEY, its interval SHOWN, its playlist (the
    lesson's length, video only) and its pictures inside and outside the interval."""
    vod = os.path.join(root, "vod")
    with open(os.path.join(vod, "info.json")) as f:
        side = json.load(f).get(key)
    print("  %s: info.json %s %s" % (name, key, side))
    check(side is not None and side["playlist"] == "%s/index.m3u8" % key and
          (side["width"], side["height"]) == size, "%s: info.json %s, %dx%d" % ((name, key) + size))
    got = [(s["at_ms"] / 1000, (s["at_ms"] + s["duration_ms"]) / 1000)
           for s in (side or {}).get(spans_key, [])]
    check(len(got) == 1 and abs(got[0][0] - shown[0]) <= 0.5 and
          abs(got[0][1] - shown[1]) <= 0.5,
          "%s: %s %s within 0.5 s of %s" % (name, spans_key, got, shown))
    pl = os.path.join(vod, key, "index.m3u8")
    text = open(pl).read() if os.path.exists(pl) else ""
    check("#EXT-X-ENDLIST" in text and "#EXT-X-PLAYLIST-TYPE:VOD" in text,
          "%s: %s/index.m3u8 is a VOD list" % (name, key))
    if not text:
        return
    dur, kinds = discover(pl)
    print("  %s: %s/index.m3u8 %.3f s %s" % (name, key, dur, kinds))
    check(abs(dur - lesson_s) <= 1.0 and kinds == ["video"],
          "%s: %s duration within 1 s, video only" % (name, key))
    frames = screen_frames(pl)
    mid = (shown[0] + shown[1]) / 2
    for at, want_bars in ((shown[0] / 2, False), (mid, True), ((shown[1] + lesson_s) / 2, False)):
        near = min(frames, key=lambda f: abs(f[0] - at)) if frames else None
        print("  %s: %s frame at %.1f s: %s" % (name, key, at, near))
        bars = near is not None and near[2] > 30
        grey = near is not None and near[2] < 3 and 20 < near[1] < 60
        check(near is not None and abs(near[0] - at) < 0.5 and (bars if want_bars else grey),
              "%s: %s at %.0f s shows %s" % (name, key, at, "its pictures" if want_bars
                                              else "the dark grey filler"))


def rms_between(chunks, t0, t1):
    x = np.concatenate([c[max(0, int((t0 - t) * 48000)):max(0, int((t1 - t) * 48000))]
                        for t, c in chunks if t < t1 and t + len(c) / 48000 > t0] or [[0]])
    return float(np.sqrt(np.mean(np.square(x.astype(float)))))


def check_stage(root, lesson_s, turn):
    check_side(root, "D", "stage", "turns", (640, 360), lesson_s, turn)
    with open(os.path.join(root, "vod", "info.json")) as f:
        chapters = json.load(f)["chapters"]
    on = [c for c in chapters if c["title"] == "On stage 上台: Classroom B 二班"]
    check(len(on) == 1 and abs(on[0]["at_ms"] / 1000 - turn[0]) <= 0.5,
          "D: one 'On stage' chapter with the classroom's name at %.0f s (%s)" % (turn[0], on))
    _, chunks = decode_all(Gst.filename_to_uri(os.path.join(root, "vod", "lesson.mp4")))
    # between the teacher's beeps (at every second + 0.5 s, 0.1 s long)
    during, before = rms_between(chunks, 15.0, 15.4), rms_between(chunks, 5.0, 5.4)
    after = rms_between(chunks, 30.0, 30.4)
    print("  D: lesson audio RMS before %.0f, during %.0f, after the turn %.0f"
          % (before, during, after))
    check(during > 500 and before < 100 and after < 100,
          "D: the stage microphone is heard in the lesson during the turn only")


def main():
    recorder = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="cr-package-")
    try:
        print("== A: VP8 + Opus, recorder killed and restarted")
        a = os.path.join(tmp, "a")
        lesson = build_a(a)
        # truncated run: 10.5-13.5 decode; after the restart: 21.5+
        check_lesson(recorder, a, "A", lesson, False, 28, [0.5, 10.5, 12.5, 22.5, 39.5])
        print("== B: H.264 + Opus, teacher reconnected")
        b = os.path.join(tmp, "b")
        lesson = build_b(b)
        check_lesson(recorder, b, "B", lesson, True, 26, [0.5, 14.5, 17.5, 29.5])
        with open(os.path.join(b, "vod", "info.json")) as f:
            titles = [c["title"] for c in json.load(f)["chapters"]]
        check("Teacher reconnected" in titles, "B: 'Teacher reconnected' chapter")
        print("== C: VP8 + Opus, screen shared from 10 s to 25 s")
        c = os.path.join(tmp, "c")
        lesson = build_c(c)
        check_lesson(recorder, c, "C", lesson, False, 33, [0.5, 15.5, 34.5], n_gaps=0)
        check_side(c, "C", "screen", "shared", (1280, 720), lesson, (10.0, 25.0))
        print("== D: VP8 + Opus, a classroom on stage from 10 s to 25 s")
        d = os.path.join(tmp, "d")
        lesson = build_d(d)
        check_lesson(recorder, d, "D", lesson, False, 33, [0.5, 15.5, 34.5], n_gaps=0)
        check_stage(d, lesson, (10.0, 25.0))
        print("== empty folder")
        e = os.path.join(tmp, "empty")
        os.makedirs(os.path.join(e, "tracks"))
        rc, events, _ = package(recorder, e)
        check(rc == 1 and events and events[-1].get("event") == "error",
              "empty recording: error event, exit 1 (%s)" % (events[-1] if events else None))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("RESULT: %s" % ("FAIL " + "; ".join(failures) if failures else "PASS"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
