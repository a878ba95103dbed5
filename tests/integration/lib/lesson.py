"""A lesson to record, and what to measure in a recording (recording_lesson.py).

Publisher: a GStreamer webrtcbin that publishes over WHIP (the WebrtcPeer of
webrtcbin_whip_whep.py). Its picture is black with one white frame at every whole second
of running time, and its sound is silence with a short 440 Hz tick at every whole second
(audiotestsrc wave=ticks), so a recording can be checked for audio/video sync: in a
synchronised file, each flash sits on a tick.

Frames are pushed by a thread that waits on the pipeline clock for running time k/15 s
and stamps frame k with exactly that time, so flash k*15 leaves when tick k does.
"""
import json
import os
import subprocess
import sys
import threading
import time

import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("GstPbutils", "1.0")
from gi.repository import Gst, GstPbutils  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import webrtcbin_whip_whep as wb  # noqa: E402
import peers  # noqa: E402
from peers import log  # noqa: E402

W, H, FPS = 320, 240, 15

ENCODERS = {
    "VP8": ("vp8enc deadline=1 keyframe-max-dist=150 target-bitrate=500000 ! "
            "rtpvp8pay pt=96 mtu=1200 ! "
            "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000"),
    "H264": ("x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 bitrate=500 ! "
             "video/x-h264,profile=constrained-baseline ! h264parse ! "
             "rtph264pay pt=102 mtu=1200 config-interval=-1 aggregate-mode=zero-latency ! "
             "application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000"),
}


def pipeline_desc(codec):
    return """
webrtcbin name=webrtc bundle-policy=max-bundle
appsrc name=frames is-live=true format=time do-timestamp=false
  caps=video/x-raw,format=GRAY8,width={w},height={h},framerate={fps}/1 !
  videoconvert ! video/x-raw,format=I420 ! queue ! {enc} ! webrtc.
audiotestsrc is-live=true wave=ticks tick-interval=1000000000 freq=440 volume=0.8
  sine-periods-per-tick=20 ! audioconvert ! audioresample !
  audio/x-raw,rate=48000,channels=1 ! queue ! opusenc ! rtpopuspay pt=111 !
  application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! webrtc.
""".format(w=W, h=H, fps=FPS, enc=ENCODERS[codec])


class Publisher:
    """WHIP publisher of the flash/tick lesson into room."""

    def __init__(self, base, room, codec="VP8"):
        self.base, self.room, self.codec = base, room, codec
        self.peer = wb.WebrtcPeer("teacher", pipeline_desc(codec))
        self.appsrc = self.peer.pipe.get_by_name("frames")
        self._stop = threading.Event()
        self.thread = None
        self.connected_at = None  # time.monotonic() when the WHIP session connected
        self.frames = 0

    def _push(self):
        pipe = self.peer.pipe
        clock = pipe.get_clock()
        base = pipe.get_base_time()
        black = bytes(W * H)
        white = bytes([235]) * (W * H)
        dur = Gst.SECOND // FPS
        k = 0
        while not self._stop.is_set():
            t = k * Gst.SECOND // FPS
            Gst.Clock.id_wait(clock.new_single_shot_id(base + t))
            buf = Gst.Buffer.new_wrapped(white if k % FPS == 0 else black)
            buf.pts = t
            buf.duration = dur
            if self.appsrc.emit("push-buffer", buf) != Gst.FlowReturn.OK:
                break
            k += 1
            self.frames = k

    def start(self):
        p = self.peer
        p.pipe.set_state(Gst.State.PLAYING)
        self.thread = threading.Thread(target=self._push, daemon=True)
        self.thread.start()
        p.set_sendonly()
        p.wait_sink_caps()
        offer = p.make_offer()
        p.url, answer = peers.whip_publish(self.base, self.room, offer)
        p.apply_answer(answer)
        log("teacher (%s) connected in %.2fs" % (self.codec, p.wait_connected()))
        self.connected_at = time.monotonic()
        return self

    def poll(self):
        self.peer.poll_bus()

    def stop(self, delete=True):
        self._stop.set()
        if delete and self.peer.url:
            peers.resource_delete(self.peer.url)
        self.peer.stop()


# ------------------------------------------------------------ reading a recording

def _cookie(source):
    if peers.AUTH_TOKEN and source.find_property("cookies") is not None:
        source.set_property("cookies", ["cr_session=" + peers.AUTH_TOKEN])


def _signed_in(_element, source):
    """source-setup: every HTTP source of the decoder — the playlist's, and those an HLS
    demuxer adds deep inside for the segments — carries the test's token as the
    cr_session cookie (replay files need a token, docs/scheduling.md)."""
    _cookie(source)
    parent = source.get_parent()
    if parent is not None and not getattr(parent, "_cr_cookies", False):
        parent._cr_cookies = True
        parent.connect("deep-element-added", lambda _bin, _sub, el: _cookie(el))


def _decodebin_signed_in(pipe):
    for el in pipe.iterate_elements():
        if el.find_property("uri") is not None and el.get_factory() and \
                el.get_factory().get_name() == "uridecodebin":
            el.connect("source-setup", _signed_in)
    return pipe


def _discover(uri, timeout=30):
    """(duration s, has audio, has video, video caps string) of a file or URL."""
    d = GstPbutils.Discoverer.new(timeout * Gst.SECOND)
    d.connect("source-setup", _signed_in)
    info = d.discover_uri(uri)
    audio = info.get_audio_streams()
    video = info.get_video_streams()
    vcaps = video[0].get_caps().to_string() if video else ""
    return info.get_duration() / Gst.SECOND, bool(audio), bool(video), vcaps


def _analyse(uri):
    """Decodes a whole file: flash times (s) from the picture, tick onsets (s) from the
    sound, frame count. The file is read as fast as it decodes."""
    pipe = Gst.parse_launch(
        "uridecodebin name=d uri=%s "
        "d. ! queue ! videoconvert ! videoscale ! video/x-raw,format=GRAY8,width=32,height=24 ! "
        "appsink name=v sync=false emit-signals=false max-buffers=0 "
        "d. ! queue ! audioconvert ! audioresample ! "
        "audio/x-raw,format=S16LE,channels=1,rate=48000,layout=interleaved ! "
        "appsink name=a sync=false emit-signals=false max-buffers=0" % uri)
    _decodebin_signed_in(pipe)
    vsink, asink = pipe.get_by_name("v"), pipe.get_by_name("a")
    flashes, ticks, frames = [], [], 0
    state = {"bright": False, "loud": False, "audio_t": None}
    import array

    def pull_video():
        nonlocal frames
        s = vsink.emit("try-pull-sample", 0)
        if not s:
            return False
        buf = s.get_buffer()
        ok, m = buf.map(Gst.MapFlags.READ)
        mean = sum(m.data) / len(m.data)
        buf.unmap(m)
        frames += 1
        bright = mean > 128
        if bright and not state["bright"]:
            flashes.append(buf.pts / Gst.SECOND)
        state["bright"] = bright
        return True

    def pull_audio():
        s = asink.emit("try-pull-sample", 0)
        if not s:
            return False
        buf = s.get_buffer()
        ok, m = buf.map(Gst.MapFlags.READ)
        samples = array.array("h", bytes(m.data))
        buf.unmap(m)
        t0 = buf.pts / Gst.SECOND
        win = 48  # 1 ms
        for i in range(0, len(samples), win):
            peak = max(abs(x) for x in samples[i:i + win]) if samples[i:i + win] else 0
            loud = peak > 6000
            if loud and not state["loud"]:
                t = t0 + i / 48000.0
                if not ticks or t - ticks[-1] > 0.3:
                    ticks.append(t)
            state["loud"] = loud
        return True

    pipe.set_state(Gst.State.PLAYING)
    bus = pipe.get_bus()
    t_end = time.monotonic() + 300
    eos = False
    while not eos and time.monotonic() < t_end:
        got = pull_video() | pull_audio()
        msg = bus.pop_filtered(Gst.MessageType.EOS | Gst.MessageType.ERROR)
        if msg and msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            pipe.set_state(Gst.State.NULL)
            raise RuntimeError("decoding %s: %s" % (uri, err.message))
        if msg and msg.type == Gst.MessageType.EOS:
            eos = True
        if not got and not eos:
            time.sleep(0.002)
    while pull_video() or pull_audio():
        pass
    pipe.set_state(Gst.State.NULL)
    return flashes, ticks, frames


def sync_offsets(flashes, ticks):
    """For each flash, flash time minus the nearest tick (s)."""
    out = []
    for f in flashes:
        if not ticks:
            break
        t = min(ticks, key=lambda x: abs(x - f))
        if abs(t - f) < 0.45:
            out.append(f - t)
    return out


def _middle_frame(uri, at_s):
    """Seeks to at_s and decodes one picture: returns its timestamp (s) or None."""
    pipe = Gst.parse_launch(
        "uridecodebin uri=%s ! videoconvert ! video/x-raw,format=GRAY8 ! "
        "appsink name=v sync=false" % uri)
    _decodebin_signed_in(pipe)
    sink = pipe.get_by_name("v")
    pipe.set_state(Gst.State.PAUSED)
    pipe.get_state(20 * Gst.SECOND)
    pipe.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT,
                     int(at_s * Gst.SECOND))
    pipe.set_state(Gst.State.PLAYING)
    s = sink.emit("try-pull-sample", 20 * Gst.SECOND)
    pipe.set_state(Gst.State.NULL)
    return s.get_buffer().pts / Gst.SECOND if s else None


# ------------------------------------------------------------ each reading in a process of its own
# PyGObject with GStreamer crashes now and then (SIGSEGV, about once in fifteen runs of
# recording_lesson.py, inside discover or analyse, while a decoder is torn down); reading
# the same file again works. So each reading runs in a child process: a crash there is
# said and the reading done once more; a second crash, or an error, fails the test. What
# is read — the server's files — is the same both times.

READERS = {"discover": (_discover, [str, int]), "analyse": (_analyse, [str]),
           "middle_frame": (_middle_frame, [str, float])}


def _in_child(what, *args):
    env = dict(os.environ, CR_LESSON_TOKEN=peers.AUTH_TOKEN or "")
    cmd = [sys.executable, os.path.abspath(__file__), what] + [str(a) for a in args]
    for attempt in (1, 2):
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=400)
        if p.returncode >= 0:
            break
        log("reading %s (%s) crashed with signal %d in its own process%s" % (
            args[0], what, -p.returncode, "; reading it again" if attempt == 1 else ""))
    lines = p.stdout.strip().splitlines()
    if p.returncode != 0 or not lines:
        tail = (p.stderr.strip().splitlines() or ["exit status %d" % p.returncode])[-1]
        raise RuntimeError("%s %s: %s" % (what, args[0], tail))
    return json.loads(lines[-1])


def discover(uri, timeout=30):
    """(duration s, has audio, has video, video caps string) of a file or URL."""
    return tuple(_in_child("discover", uri, timeout))


def analyse(uri):
    """Flash times (s), tick onsets (s) and the frame count of a whole file."""
    return tuple(_in_child("analyse", uri))


def middle_frame(uri, at_s):
    """The timestamp (s) of the picture decoded after seeking to at_s, or None."""
    return _in_child("middle_frame", uri, at_s)


if __name__ == "__main__":
    Gst.init(None)
    peers.AUTH_TOKEN = os.environ.get("CR_LESSON_TOKEN") or None
    fn, types = READERS[sys.argv[1]]
    print(json.dumps(fn(*[t(a) for t, a in zip(types, sys.argv[2:])])), flush=True)
