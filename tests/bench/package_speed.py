#!/usr/bin/python3
"""Packaging speed of classrelay-recorder package, in times real time (docs/benchmarks.md).

Makes two 10-minute recording folders in the recorder's layout (tests/integration/lib/
recfixture.py): VP8 720p30 ~1.5-2 Mbit/s + Opus, and H.264 720p30 ~1.5 Mbit/s + Opus, in
10 s Matroska segments (see fixture()); then packages each and prints wall time, CPU time
and lesson length / wall time. Variants:
  vp8            VP8 transcoded to hi (x264) and lo
  h264           H.264 copied to hi, decoded and transcoded to lo
  h264-copy      hi only (CLASSRELAY_PACKAGE_SKIP_LO=1): the no-transcode path (audio
                 is still Opus -> AAC)
  vp8+screen     vp8 plus a screen shared the whole lesson (1080p VP8, 5 frames/s), which
                 adds the screen/ stream (decoded, scaled to 720p, x264 at 10 frames/s)
usage: package_speed.py RECORDER [--minutes N] [--keep DIR] [--preset P] [--only V,V]
  --keep DIR reuses (or leaves) the fixtures in DIR; they take a few minutes to make.
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "integration", "lib"))
import recfixture as fx  # noqa: E402

BASE_NS = 1_760_000_000_000_000_000


def fixture(root, codec, seconds, run_s=60):
    """SECONDS of lesson as back-to-back runs of RUN_S: one run is encoded, the others are
    copies of its segments at later base_unix_ns (a real 720p encode of 10 minutes takes
    longer than the benchmark); the packager still reads and converts every second."""
    if os.path.isdir(os.path.join(root, "tracks")):
        return
    t0 = time.monotonic()
    d = fx.make_tracks(root, codec=codec)
    vdir, adir = fx.write_run(d, 0, 0.0, run_s, BASE_NS, codec=codec, w=1280, h=720, fps=30,
                              kbps=1500, media="test")
    for k in range(1, int(round(seconds / run_s))):
        for src in (vdir, adir):
            dst = os.path.join(os.path.dirname(src), "run-%03d" % k)
            shutil.copytree(src, dst)
            with open(os.path.join(dst, "run.json"), "w") as f:
                json.dump({"base_unix_ns": BASE_NS + int(k * run_s * 1e9)}, f)
    size = sum(os.path.getsize(os.path.join(vdir, f)) for f in os.listdir(vdir)
               if f.endswith(".mkv"))
    print("fixture %s: %d s (%d runs of %d s), video %.2f Mbit/s, made in %.0f s"
          % (codec, seconds, round(seconds / run_s), run_s, size * 8 / run_s / 1e6,
             time.monotonic() - t0), flush=True)


def screen_fixture(root, vp8_root, seconds, run_s=60):
    """The vp8 lesson (its tracks linked) plus a screen track: one encoded run of RUN_S,
    copied back to back like fixture()."""
    if os.path.isdir(os.path.join(root, "tracks")):
        return
    os.makedirs(os.path.join(root, "tracks"))
    for key in os.listdir(os.path.join(vp8_root, "tracks")):
        os.symlink(os.path.join(vp8_root, "tracks", key), os.path.join(root, "tracks", key))
    rdir = fx.write_screen_run(root, "3-screen", 0, run_s, BASE_NS, w=1920, h=1080, kbps=1000)
    for k in range(1, int(round(seconds / run_s))):
        dst = os.path.join(os.path.dirname(rdir), "run-%03d" % k)
        shutil.copytree(rdir, dst)
        with open(os.path.join(dst, "run.json"), "w") as f:
            json.dump({"base_unix_ns": BASE_NS + int(k * run_s * 1e9)}, f)


def package(recorder, root, env):
    out = os.path.join(root, "vod")
    shutil.rmtree(out, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run([recorder, "package", "--in", root], capture_output=True, text=True,
                       env=env)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    events = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    if p.returncode != 0:
        print(p.stderr)
        raise SystemExit("packaging failed: %s" % events[-1:])
    return wall, cpu, events[-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("recorder")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--keep")
    ap.add_argument("--preset")
    ap.add_argument("--only", help="comma-separated variants (default: all)")
    a = ap.parse_args()
    seconds = a.minutes * 60
    root = a.keep or tempfile.mkdtemp(prefix="cr-package-bench-")
    try:
        vp8, h264 = os.path.join(root, "vp8"), os.path.join(root, "h264")
        fixture(vp8, "VP8", seconds)
        vp8s = os.path.join(root, "vp8-screen")
        fixture(h264, "H264", seconds)
        screen_fixture(vp8s, vp8, seconds)
        base = dict(os.environ)
        if a.preset:
            base["CLASSRELAY_PACKAGE_PRESET"] = a.preset
        runs = (("vp8", vp8, {}), ("h264", h264, {}),
                ("h264-copy", h264, {"CLASSRELAY_PACKAGE_SKIP_LO": "1"}),
                ("vp8+screen", vp8s, {}))
        if a.only:
            runs = [r for r in runs if r[0] in a.only.split(",")]
        print("%-10s %8s %8s %8s %10s" % ("variant", "lesson", "wall", "cpu", "x realtime"))
        for name, folder, extra in runs:
            wall, cpu, done = package(os.path.abspath(a.recorder), folder, {**base, **extra})
            lesson = done["duration_ms"] / 1000
            print("%-10s %7.0fs %7.1fs %7.1fs %9.1fx" % (name, lesson, wall, cpu, lesson / wall),
                  flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
