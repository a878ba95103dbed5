"""Recording folders for packager tests and benchmarks (docs/recording.md, "On disk").

Writes what `classrelay-recorder record` writes: tracks/<key>/track.json,
tracks/<key>/run-NNN/run.json and seg-NNNNN.mkv from splitmuxsink + matroskamux
(streamable, max-size-time 10 s), timestamps = the run's running time.

Two kinds of media:
  - "flash": black video with a white flash of FLASH_S at every lesson second + 0.5 s and a
    1 kHz beep at exactly the same instants, for A/V sync checks (events_in()).
  - "test": videotestsrc/audiotestsrc content with motion, for speed benchmarks.
A shared screen (write_screen_run) is videotestsrc's SMPTE bars, slowly scrolling.
Run with /usr/bin/python3 (Debian's python with python3-gi and python3-gst-1.0).
"""
import json
import math
import os
import struct

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

Gst.init(None)

FLASH_S = 0.1
RATE = 48000


def events_in(t0, t1):
    """Lesson times of the flash/beep events inside [t0, t1)."""
    out = []
    k = math.ceil(t0 - 0.5)
    while k + 0.5 < t1:
        if k + 0.5 >= t0:
            out.append(k + 0.5)
        k += 1
    return out


def _venc(codec, kbps, fps):
    if codec == "VP8":
        return ("vp8enc deadline=1 cpu-used=8 threads=2 target-bitrate=%d "
                "keyframe-max-dist=%d end-usage=cbr" % (kbps * 1000, 3 * fps))
    return ("x264enc speed-preset=ultrafast tune=zerolatency bitrate=%d key-int-max=%d "
            "threads=2 ! video/x-h264,profile=constrained-baseline ! h264parse"
            % (kbps, 3 * fps))


def _split(path, name):
    return ("splitmuxsink name=%s max-size-time=10000000000 muxer-factory=matroskamux "
            "muxer-properties=\"properties,streamable=true\" location=%s/seg-%%05d.mkv "
            % (name, path))


def _run_pipeline(desc, feed=None):
    pipe = Gst.parse_launch(desc)
    pipe.set_state(Gst.State.PLAYING)
    if feed:
        feed(pipe)
    bus = pipe.get_bus()
    msg = bus.timed_pop_filtered(Gst.CLOCK_TIME_NONE,
                                 Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipe.set_state(Gst.State.NULL)
    if msg.type == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        raise RuntimeError("fixture pipeline: %s (%s)" % (err.message, dbg))


def _feed_flash(pipe, t0, dur, vdelay, w, h, fps):
    """Push raw frames and audio of the flash pattern; lesson time = t0 + running time."""
    vsrc, asrc = pipe.get_by_name("v"), pipe.get_by_name("a")
    ysize, csize = w * h, (w // 2) * (h // 2)
    black = bytes([16]) * ysize + bytes([128]) * (2 * csize)
    white = bytes([235]) * ysize + bytes([128]) * (2 * csize)
    beep = b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * 1000 * i / RATE)))
                    for i in range(RATE))
    events = events_in(t0, t0 + dur)
    chunk = RATE // 50  # 20 ms of audio, like Opus frames
    n_audio = int(dur * RATE) // chunk
    n_video = int((dur - vdelay) * fps)
    ai = vi = 0
    while ai < n_audio or vi < n_video:
        ta = ai * chunk / RATE
        tv = vdelay + vi / fps
        if vi >= n_video or (ai < n_audio and ta <= tv):
            data = bytearray(chunk * 2)
            for ev in events:
                rel = ev - t0
                a, b = max(rel, ta), min(rel + FLASH_S, ta + chunk / RATE)
                if b > a:
                    s0, s1 = int(round((a - ta) * RATE)), int(round((b - ta) * RATE))
                    data[2 * s0:2 * s1] = beep[2 * s0:2 * s1]
            buf = Gst.Buffer.new_wrapped(bytes(data))
            buf.pts, buf.duration = int(ta * Gst.SECOND), int(chunk * Gst.SECOND / RATE)
            asrc.emit("push-buffer", buf)
            ai += 1
        else:
            lt = t0 + tv
            lit = any(ev - 1e-6 <= lt < ev + FLASH_S - 1e-6 for ev in events)
            buf = Gst.Buffer.new_wrapped(white if lit else black)
            buf.pts, buf.duration = int(tv * Gst.SECOND), int(Gst.SECOND / fps)
            vsrc.emit("push-buffer", buf)
            vi += 1
    vsrc.emit("end-of-stream")
    asrc.emit("end-of-stream")


def write_run(track_dirs, run, t0, dur, base_unix_ns, codec="VP8", w=640, h=360, fps=30,
              kbps=800, media="flash", vdelay=0.0):
    """One recorder run of a camera and a mic track: lesson [t0, t0+dur)."""
    vdir = os.path.join(track_dirs["video"], "run-%03d" % run)
    adir = os.path.join(track_dirs["audio"], "run-%03d" % run)
    for d in (vdir, adir):
        os.makedirs(d)
        with open(os.path.join(d, "run.json"), "w") as f:
            json.dump({"base_unix_ns": base_unix_ns}, f)
    venc = _venc(codec, kbps, fps)
    if media == "flash":
        vcaps = "video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1" % (w, h, fps)
        acaps = "audio/x-raw,format=S16LE,layout=interleaved,rate=%d,channels=1" % RATE
        desc = (_split(vdir, "sv") + _split(adir, "sa") +
                "appsrc name=v format=time block=true max-bytes=4000000 caps=%s ! %s ! sv.video "
                "appsrc name=a format=time block=true caps=%s ! audioconvert ! "
                "opusenc bitrate=48000 frame-size=20 ! sa.audio_0"
                % (vcaps, venc, acaps))
        _run_pipeline(desc, lambda p: _feed_flash(p, t0, dur, vdelay, w, h, fps))
    else:
        nv, na = int(dur * fps), int(dur * 50)
        desc = (_split(vdir, "sv") + _split(adir, "sa") +
                "videotestsrc num-buffers=%d pattern=smpte horizontal-speed=4 ! "
                "video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1 ! "
                "%s ! sv.video "
                "audiotestsrc num-buffers=%d samplesperbuffer=960 wave=ticks ! "
                "audio/x-raw,rate=48000,channels=1 ! opusenc bitrate=48000 ! sa.audio_0"
                % (nv, w, h, fps, venc, na))
        _run_pipeline(desc)
    return vdir, adir


def make_tracks(root, vkey="2-camera", akey="1-mic", codec="VP8"):
    dirs = {"video": os.path.join(root, "tracks", vkey),
            "audio": os.path.join(root, "tracks", akey)}
    for kind, key, src, cc, clock in (("video", vkey, "camera", codec, 90000),
                                      ("audio", akey, "mic", "opus", 48000)):
        os.makedirs(dirs[kind], exist_ok=True)
        with open(os.path.join(dirs[kind], "track.json"), "w") as f:
            json.dump({"track": key, "kind": kind, "source": src, "codec": cc,
                       "clock_rate": clock}, f)
    return dirs


def write_screen_run(root, key, run, dur, base_unix_ns, w=1280, h=720, fps=5, kbps=600):
    """One run of a VP8 screen-share track KEY (source "screen") lasting DUR seconds, its
    running time 0 at BASE_UNIX_NS; returns the run folder."""
    tdir = os.path.join(root, "tracks", key)
    rdir = os.path.join(tdir, "run-%03d" % run)
    os.makedirs(rdir)
    with open(os.path.join(tdir, "track.json"), "w") as f:
        json.dump({"track": key, "kind": "video", "source": "screen", "codec": "VP8",
                   "clock_rate": 90000}, f)
    with open(os.path.join(rdir, "run.json"), "w") as f:
        json.dump({"base_unix_ns": base_unix_ns}, f)
    _run_pipeline(_split(rdir, "sv") +
                  "videotestsrc num-buffers=%d pattern=smpte horizontal-speed=1 ! "
                  "video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1 ! %s ! sv.video"
                  % (int(dur * fps), w, h, fps, _venc("VP8", kbps, fps)))
    return rdir


def write_stage_run(root, vkey, akey, label, dur, base_unix_ns, w=1280, h=720, fps=15,
                    tone_hz=300, volume=0.06):
    """A classroom's turn on stage as the server records it (docs/recording.md): a VP8
    camera track VKEY (source "stage-camera", SMPTE bars) and an Opus mic track AKEY
    ("stage-mic", a steady TONE_HZ sine, quieter than the teacher's beeps), both labelled
    LABEL, one run each lasting DUR seconds from BASE_UNIX_NS."""
    dirs = []
    for key, kind, src, codec, clock in ((vkey, "video", "stage-camera", "VP8", 90000),
                                         (akey, "audio", "stage-mic", "opus", 48000)):
        tdir = os.path.join(root, "tracks", key)
        rdir = os.path.join(tdir, "run-000")
        os.makedirs(rdir)
        with open(os.path.join(tdir, "track.json"), "w") as f:
            json.dump({"track": key, "kind": kind, "source": src, "codec": codec,
                       "clock_rate": clock, "label": label}, f)
        with open(os.path.join(rdir, "run.json"), "w") as f:
            json.dump({"base_unix_ns": base_unix_ns}, f)
        dirs.append(rdir)
    _run_pipeline(_split(dirs[0], "sv") + _split(dirs[1], "sa") +
                  "videotestsrc num-buffers=%d pattern=smpte horizontal-speed=2 ! "
                  "video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1 ! %s ! sv.video "
                  "audiotestsrc num-buffers=%d samplesperbuffer=960 wave=sine freq=%d "
                  "volume=%f ! audio/x-raw,rate=48000,channels=1 ! opusenc bitrate=48000 ! "
                  "sa.audio_0"
                  % (int(dur * fps), w, h, fps, _venc("VP8", 500, fps), int(dur * 50), tone_hz,
                     volume))
    return dirs


def truncate_last_segment(run_dir, keep=0.6):
    """Cut the run's last segment like a SIGKILL would; returns (path, old, new) sizes."""
    segs = sorted(s for s in os.listdir(run_dir) if s.endswith(".mkv"))
    path = os.path.join(run_dir, segs[-1])
    size = os.path.getsize(path)
    new = int(size * keep)
    with open(path, "r+b") as f:
        f.truncate(new)
    return path, size, new
