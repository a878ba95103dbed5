"""What ffprobe makes of a recording's URL (HLS or MP4, over HTTP; ffprobe follows
redirects, RFC 9110 §15.4): its streams, the packets it read from each, its duration.

Used by replay_links.py and cluster_recordings.py. Needs ffprobe (Debian's ffmpeg package).
"""
import json
import subprocess

from peers import check, log


def ffprobe(url):
    """(exit status, ffprobe's JSON: "streams" with their packets counted, "format", stderr)."""
    r = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format",
                        "-count_packets", "-of", "json", url], capture_output=True, text=True,
                       timeout=120)
    try:
        out = json.loads(r.stdout)
    except ValueError:
        out = {}
    return r.returncode, out, r.stderr.strip()


def check_plays(url, what):
    """Checks that url plays: a video stream and an audio stream, each with packets. Returns
    its duration in seconds (0 when ffprobe gave none)."""
    rc, out, err = ffprobe(url)
    kinds = {}
    for s in out.get("streams", []):
        n = int(s.get("nb_read_packets", 0) or 0)
        kinds[s["codec_type"]] = max(kinds.get(s["codec_type"], 0), n)
    duration = float(out.get("format", {}).get("duration", 0) or 0)
    log("%s: exit %d, streams %s, %.2f s%s" % (what, rc, kinds, duration,
                                                 (", stderr: " + err[:300]) if err else ""))
    check(rc == 0 and kinds.get("video", 0) > 50 and kinds.get("audio", 0) > 100,
          "%s: ffprobe reads a video and an audio stream with packets" % what)
    return duration
