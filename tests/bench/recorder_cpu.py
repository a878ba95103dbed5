#!/usr/bin/python3
"""Recorder CPU per recorded track: classrelay-recorder record fed N lessons at once.

Usage: /usr/bin/python3 tests/bench/recorder_cpu.py build/recorder/classrelay-recorder
       [--lessons 1,4,8] [--seconds 20]

One sender pipeline encodes a 1280x720 30 fps VP8 picture at 1.5 Mbit/s and Opus once and
fans the same RTP out (tee) to N camera + N mic tracks of the recorder, so the sender's
encoding does not grow with N. The recorder's utime+stime over a steady window, divided
by the number of tracks, is printed for each N, with the bytes it wrote.
"""
import sys
sys.dont_write_bytecode = True

import argparse
import os
import shutil
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import recorder_crash as rc  # noqa: E402
from recorder_crash import Gst  # noqa: E402


def sender(aports, vports):
    a = " ".join("at. ! queue ! udpsink host=127.0.0.1 port=%d sync=false async=false" % p
                 for p in aports)
    v = " ".join("vt. ! queue ! udpsink host=127.0.0.1 port=%d sync=false async=false" % p
                 for p in vports)
    desc = ("audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! "
            "audio/x-raw,rate=48000,channels=1 ! opusenc ! rtpopuspay pt=111 ! tee name=at "
            + a + " videotestsrc is-live=true pattern=zone-plate kx2=20 ky2=20 kt=1 ! "
            "video/x-raw,width=1280,height=720,framerate=30/1 ! "
            "vp8enc deadline=1 cpu-used=16 end-usage=cbr max-quantizer=63 target-bitrate=1500000 keyframe-max-dist=300 "
            "threads=2 ! rtpvp8pay pt=96 mtu=1200 ! tee name=vt " + v)
    pipe = Gst.parse_launch(desc)
    pipe.set_state(Gst.State.PLAYING)
    return pipe


def measure(binary, n, seconds):
    work = tempfile.mkdtemp(prefix="cr-rec-bench-")
    rec = rc.Recorder(binary, "bench", work)
    aports, vports = [], []
    for i in range(n):
        aports.append(rec.start("%d-mic" % i, os.path.join(work, "tracks/%d-mic" % i),
                                "audio", "OPUS", 111, 48000))
        vports.append(rec.start("%d-camera" % i, os.path.join(work, "tracks/%d-camera" % i),
                                "video", "VP8", 96, 90000))
    snd = sender(aports, vports)
    time.sleep(3)
    cpu0, t0 = rec.cpu_seconds(), time.time()
    time.sleep(seconds)
    cpu1, t1 = rec.cpu_seconds(), time.time()
    snd.set_state(Gst.State.NULL)
    rec.kill()
    rec.proc.wait()
    written = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(work) for f in fs)
    shutil.rmtree(work, ignore_errors=True)
    pct = 100.0 * (cpu1 - cpu0) / (t1 - t0)
    print("%d lesson(s), %d tracks: recorder CPU %.1f %% of a core, %.2f %% per track "
          "(%.2f %% per camera+mic lesson); %.1f MB written" % (
              n, 2 * n, pct, pct / (2 * n), pct / n, written / 1e6), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("recorder")
    ap.add_argument("--lessons", default="1,4,8")
    ap.add_argument("--seconds", type=float, default=20)
    args = ap.parse_args()
    Gst.init(None)
    for n in args.lessons.split(","):
        measure(args.recorder, int(n), args.seconds)


if __name__ == "__main__":
    main()
