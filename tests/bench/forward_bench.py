#!/usr/bin/python3
"""Forwarding benchmark: 1 publisher, N non-decoding subscribers, relay CPU per packet.

Usage: /usr/bin/python3 tests/bench/forward_bench.py [path/to/classrelay]
       [--subscribers 10] [--seconds 30] [--warmup 5]

Publisher: webrtcbin sending a pre-encoded 1280x720 30 fps VP8 clip (~1.5 Mbit/s,
keyframe every 2 s; encoded once with vp8enc and cached under $TMPDIR) paced by clocksync,
plus live Opus (audiotestsrc -> opusenc). Pre-encoding keeps a 720p encoder (about half a
core) off this 2-core machine while the relay is measured.
Subscribers: N webrtcbin players in this one process; each RTP src pad goes straight into
a fakesink (no depayloader, no decoder): the cost per received packet is libnice + SRTP
unprotect + the jitterbuffer, all in C. That is cheaper than aiortc receivers, which spend
Python time per packet (parse, SRTP, jitterbuffer, NACK, RTCP) even with the decoder
short-circuited, and would compete with the relay for the 2 cores.

Measured over --seconds after --warmup: /api/v1/stats deltas (rtp_in, rtp_out, bytes_out),
the server's utime+stime from /proc/<pid>/stat, VmRSS with 0 and N subscribers; packets
seen by the subscribers as a cross-check. Prints a markdown row for docs/benchmarks.md.
"""
import sys
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import argparse
import datetime
import os
import resource
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import peers  # noqa: E402
from peers import log  # noqa: E402
from webrtcbin_whip_whep import WebrtcPeer  # noqa: E402
from gi.repository import Gst, GstWebRTC  # noqa: E402

CLIP_SECONDS = 75


def clip_path(bitrate):
    d = os.path.join(tempfile.gettempdir(), "classrelay-bench")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "vp8-1280x720-30-%dk-%ds.webm" % (bitrate // 1000, CLIP_SECONDS))
    if os.path.exists(path):
        return path
    log("encoding %ds 1280x720 VP8 clip at %d kbit/s target into %s (once)..." % (
        CLIP_SECONDS, bitrate // 1000, path))
    tmp = path + ".part"
    subprocess.run([
        "gst-launch-1.0", "-q", "videotestsrc", "num-buffers=%d" % (CLIP_SECONDS * 30),
        "pattern=colors", "horizontal-speed=4", "!",
        "video/x-raw,width=1280,height=720,framerate=30/1", "!", "videoconvert", "!",
        "vp8enc", "deadline=1", "cpu-used=16", "threads=2", "end-usage=cbr",
        "target-bitrate=%d" % bitrate, "keyframe-max-dist=60", "!",
        "webmmux", "!", "filesink", "location=" + tmp], check=True)
    os.rename(tmp, path)
    return path


def pub_pipeline(clip):
    return """
webrtcbin name=webrtc bundle-policy=max-bundle
filesrc location={clip} ! matroskademux ! queue ! clocksync !
  rtpvp8pay pt=96 mtu=1200 !
  application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000 ! webrtc.
audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample !
  audio/x-raw,rate=48000,channels=1 ! queue ! opusenc ! rtpopuspay pt=111 !
  application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! webrtc.
""".format(clip=clip)


class RawReceiver(WebrtcPeer):
    """recvonly VP8 + Opus; every RTP src pad of webrtcbin goes straight to a fakesink."""

    def __init__(self, name):
        super().__init__(name)
        self.webrtc.set_property("latency", 50)
        self.lock = threading.Lock()
        self.packets = 0
        self.bytes = 0
        for caps in ("application/x-rtp,media=video,encoding-name=VP8,payload=96,"
                     "clock-rate=90000",
                     "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,"
                     "clock-rate=48000,encoding-params=(string)2"):
            self.webrtc.emit("add-transceiver",
                             GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
                             Gst.Caps.from_string(caps))
        self.webrtc.connect("pad-added", self._on_pad)

    def _on_pad(self, _el, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("sync", False)
        sink.set_property("async", False)
        self.pipe.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))
        sink.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, self._count)

    def _count(self, _pad, info):
        with self.lock:
            self.packets += 1
            self.bytes += info.get_buffer().get_size()
        return Gst.PadProbeReturn.OK

    def counters(self):
        with self.lock:
            return self.packets, self.bytes


def cpu_idle_fraction():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[3] + v[4], sum(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("classrelay", nargs="?")
    ap.add_argument("--subscribers", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--bitrate", type=int, default=1600000,
                    help="vp8enc target (the clip comes out at ~1.4-1.5 Mbit/s)")
    ap.add_argument("--server-arg", action="append", default=[],
                    help="extra argument for classrelay serve (repeatable), e.g. "
                         "--server-arg=--no-ice-tcp")
    args = ap.parse_args()
    if args.warmup + args.seconds + 20 > CLIP_SECONDS:
        sys.exit("clip too short for --warmup + --seconds")
    Gst.init(None)
    clip = clip_path(args.bitrate)
    binary = peers.find_classrelay(args.classrelay)
    server = peers.Server(binary, extra_args=args.server_arg, name="forward-bench")
    server.start()
    pid = server.pid
    pub, subs = None, []
    rc = 1
    try:
        time.sleep(0.5)
        rss_idle = peers.proc_rss_kb(pid)
        room = "demo"  # open to all: the benchmark peers carry no token
        pub = WebrtcPeer("publisher", pub_pipeline(clip))
        pub.pipe.set_state(Gst.State.PLAYING)
        pub.set_sendonly()
        pub.wait_sink_caps()     # offer with a=ssrc for both tracks
        pub.url, answer = peers.whip_publish(server.base, room, pub.make_offer())
        pub.apply_answer(answer)
        log("publisher connected in %.2fs" % pub.wait_connected())
        time.sleep(3.0)
        rss_pub = peers.proc_rss_kb(pid)

        for i in range(args.subscribers):
            s = RawReceiver("sub%d" % i)
            s.pipe.set_state(Gst.State.PLAYING)
            s.url, answer = peers.whep_play(server.base, room, s.make_offer())
            s.apply_answer(answer)
            subs.append(s)
        for s in subs:
            s.wait_connected()
        log("%d subscribers connected; warm-up %.0fs" % (len(subs), args.warmup))
        time.sleep(args.warmup)

        st0 = peers.get_stats(server.base)
        split0 = peers.proc_cpu_split(pid)
        cpu0, t0 = sum(split0), time.monotonic()
        self0 = resource.getrusage(resource.RUSAGE_SELF)
        idle0 = cpu_idle_fraction()
        rx0 = [s.counters() for s in subs]
        log("measuring %.0fs..." % args.seconds)
        time.sleep(args.seconds)
        st1 = peers.get_stats(server.base)
        split1 = peers.proc_cpu_split(pid)
        cpu1, t1 = sum(split1), time.monotonic()
        self1 = resource.getrusage(resource.RUSAGE_SELF)
        idle1 = cpu_idle_fraction()
        rx1 = [s.counters() for s in subs]
        rss_subs = peers.proc_rss_kb(pid)
        for p in [pub] + subs:
            p.poll_bus()

        dt = t1 - t0

        def d(key):
            a, b = peers.stat(st0, key), peers.stat(st1, key)
            return None if a is None or b is None else b - a

        d_in, d_out, d_bytes_out = d("rtp_in"), d("rtp_out"), d("bytes_out")
        d_bytes_in = d("bytes_in")
        d_cpu = cpu1 - cpu0
        d_srv_cpu_json = d("cpu_seconds")
        rx = [(b[0] - a[0], b[1] - a[1]) for a, b in zip(rx0, rx1)]
        rx_pk = sum(r[0] for r in rx)
        self_cpu = (self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime)
        idle = (idle1[0] - idle0[0]) / max(1, idle1[1] - idle0[1])
        log("stats before:", st0)
        log("stats after: ", st1)
        if not d_out:
            log("FAIL: rtp_out did not grow (%r); nothing was forwarded" % d_out)
            print("server log tail:\n" + server.log_tail(60))
            return 1
        pps_out = d_out / dt
        pps_in = d_in / dt if d_in is not None else float("nan")
        us_per_pkt = d_cpu / d_out * 1e6
        mbit_in = d_bytes_in * 8 / dt / 1e6 if d_bytes_in is not None else float("nan")
        mbit_out = d_bytes_out * 8 / dt / 1e6 if d_bytes_out is not None else float("nan")
        rss_per_sub = (rss_subs - rss_pub) / max(1, len(subs))
        print()
        print("window %.1fs, %d subscribers, clip %s, server args %s" % (
            dt, len(subs), os.path.basename(clip), " ".join(args.server_arg) or "(none)"))
        print("rtp_in              %8.0f pkt/s  (%.2f Mbit/s in)" % (pps_in, mbit_in))
        print("rtp_out (forwarded) %8.0f pkt/s  (%.2f Mbit/s out, %.1fx rtp_in)" % (
            pps_out, mbit_out, d_out / d_in if d_in else float("nan")))
        print("subscribers got     %8.0f pkt/s  (min %d, max %d packets per subscriber)" % (
            rx_pk / dt, min(r[0] for r in rx), max(r[0] for r in rx)))
        print("relay CPU           %8.1f %% of a core  (%.3f s in %.1f s; stats cpu_seconds "
              "delta %s)" % (100 * d_cpu / dt, d_cpu, dt,
                             "%.3f" % d_srv_cpu_json if d_srv_cpu_json is not None else "n/a"))
        print("relay CPU per fwd   %8.2f us/packet (user %.2f + system %.2f)" % (
            us_per_pkt, (split1[0] - split0[0]) / d_out * 1e6,
            (split1[1] - split0[1]) / d_out * 1e6))
        print("server RSS          %8d kB idle, %d kB with publisher, %d kB with %d subs "
              "-> %.0f kB per subscriber" % (rss_idle, rss_pub, rss_subs, len(subs),
                                            rss_per_sub))
        print("bench process CPU   %8.1f %% of a core; machine idle %.0f %% of 2 cores" % (
            100 * self_cpu / dt, 100 * idle))
        print("bad_packets delta %s, keyframe_requests delta %s, nacks_in delta %s" % (
            d("bad_packets"), d("keyframe_requests"), d("nacks_in")))
        if idle < 0.15:
            print("WARNING: the machine was nearly saturated; figures are pessimistic")
        try:
            commit = subprocess.run(["git", "-C", peers.SRC_ROOT, "describe", "--always",
                                     "--dirty"], capture_output=True, text=True).stdout.strip()
        except OSError:
            commit = "?"
        print()
        print("| date | commit | publisher | subs | rtp_in pkt/s | forwarded pkt/s | out Mbit/s "
              "| relay CPU %% | CPU us/fwd pkt | RSS pub only | RSS %d subs | RSS/sub |"
              % len(subs))
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        print("| %s | %s | webrtcbin 720p30 VP8 %.2f Mbit/s + Opus | %d | %.0f | %.0f | %.1f "
              "| %.1f | %.2f | %.1f MB | %.1f MB | %.0f kB |" % (
                  datetime.date.today().isoformat(), commit, mbit_in, len(subs), pps_in,
                  pps_out, mbit_out, 100 * d_cpu / dt, us_per_pkt, rss_pub / 1024,
                  rss_subs / 1024, rss_per_sub))
        rc = 0
        if min(r[0] for r in rx) == 0:
            log("FAIL: a subscriber received nothing")
            rc = 1
    except Exception as e:  # noqa: BLE001
        log("FAIL: %s: %s" % (type(e).__name__, e))
        print("server log tail:\n" + server.log_tail(60))
    finally:
        for s in subs:
            s.stop()
        if pub:
            pub.stop()
        server.stop()
    return rc


if __name__ == "__main__":
    sys.exit(main())
