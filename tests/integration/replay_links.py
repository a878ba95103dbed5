#!/usr/bin/python3
"""Replay links that work anywhere (docs/recording.md, "Replay links"), against a real server.

Makes a recording folder as the recorder writes it (lib/recfixture.py: 8 s of H.264 + Opus),
packages it with `classrelay-recorder package` into DATA/recordings/<id>/vod, then checks:
  - `ffprobe -show_streams -count_packets` plays the master playlist from a `?token=` link:
    a video and an audio stream, each with packets, through the variant playlists and
    segments the server rewrote to carry a grant; the MP4 likewise (Range requests), from
    a `?token=` link and from a `?grant=` link;
  - the rewritten master: every URI carries grant= (and never the token), the answer is
    "private, no-store"; the same playlist asked with an Authorization header is the file
    as it is on disk (no grant);
  - GET /api/v1/recordings/<id> hands out "links" (hls, mp4 with a grant, expires_ms no
    later than the token): ffprobe plays the HLS link as it is, without any token;
  - refusals, each a JSON error and counted in /api/v1/stats: no access (401), a grant
    altered (403), a grant of this recording on another one (403), a grant whose token
    expired (401), a malformed grant (403).

Usage: replay_links.py [path/to/classrelay]; ends with RESULT: PASS or RESULT: FAIL.
"""
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from peers import Server, find_classrelay, http, log, mint_token  # noqa: E402
from probe import check_plays  # noqa: E402

REC_ID = "20260105-090000-links-0a1b"
OTHER_ID = "20260105-100000-links-0c2d"
from peers import check, failures  # noqa: E402


def make_recording(binary, data):
    import recfixture as fx
    root = os.path.join(data, "recordings", REC_ID)
    dirs = fx.make_tracks(root, codec="H264")
    fx.write_run(dirs, 0, 0.0, 8.0, 1_767_603_600_000_000_000, codec="H264", w=640, h=360,
                 fps=15, kbps=500, media="test")
    recorder = os.path.join(os.path.dirname(os.path.dirname(binary)), "recorder",
                            "classrelay-recorder")
    t0 = time.monotonic()
    r = subprocess.run([recorder, "package", "--in", root], capture_output=True, text=True,
                       timeout=240)
    log("packaged in %.1f s (exit %d)" % (time.monotonic() - t0, r.returncode))
    if r.returncode != 0:
        log(r.stdout[-2000:], r.stderr[-2000:])
        raise RuntimeError("the packager failed")
    return os.path.join(root, "vod")


def add_row(srv, vod):
    """The catalogue row the recorder's controller would have written (rest_recordings.py)."""
    with open(os.path.join(vod, "info.json")) as f:
        info = f.read()
    with sqlite3.connect(os.path.join(srv.data, "classrelay.db")) as c:
        c.execute("INSERT INTO recordings (id, room, teacher, title, started_ms, state, progress, "
                  "vod_json, duration_ms, size_bytes, tracks_json) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                  (REC_ID, "links", "Ms Li", "Links", 1767603600000, "ready", 100, info,
                   json.loads(info)["duration_ms"], 4096, "[]"))


def test_rest_links(srv, binary):
    token = mint_token(binary, srv.data, "teacher", ttl=600)
    r = http("GET", "%s/api/v1/recordings/%s" % (srv.base, REC_ID), token=token)
    links = json.loads(r.body).get("links") if r.status == 200 else None
    ok = (isinstance(links, dict) and "?grant=" in (links.get("hls") or "") and
          "?grant=" in (links.get("mp4") or ""))
    check(ok, "REC has links with grants: %s" % (links if not ok else links["hls"][:70] + "..."))
    if not ok:
        return
    check(links["expires_ms"] <= (time.time() + 600 + 2) * 1000,
          "the links expire no later than the token")
    check_plays(srv.base + links["hls"], "the REC's HLS link, no token")


def refused(srv, url, status, what):
    r = http("GET", url, token=False)
    try:
        code = json.loads(r.body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    check(r.status == status and code is not None,
          "%s: %d with a JSON error (got %d, %s)" % (what, status, r.status, code))


def errors(srv):
    st = json.loads(http("GET", srv.base + "/api/v1/stats").body)
    return st["signaling"]["errors"]


def test_links(srv, binary):
    token = mint_token(binary, srv.data, "teacher", ttl=3600)
    base = "%s/recordings/%s/" % (srv.base, REC_ID)
    q = "?token=" + urllib.parse.quote(token)
    r = http("GET", base + "master.m3u8" + q, token=False)
    text = r.body.decode()
    uris = [l for l in text.splitlines() if l and not l.startswith("#")]
    grants = set(re.findall(r"grant=([0-9]+\.[A-Za-z0-9_-]+)", text))
    check(r.status == 200 and uris and all("?grant=" in u for u in uris) and len(grants) == 1,
          "master from a token link: every URI carries one grant (%d URIs)" % len(uris))
    check(token not in text, "the token is not in the playlist")
    check(r.header("Cache-Control") == "private, no-store" and not r.header("ETag"),
          "a rewritten playlist: private, no-store, no validator")
    check_plays(base + "master.m3u8" + q, "HLS master ?token=")
    check_plays(base + "lesson.mp4" + q, "MP4 ?token=")
    if not grants:
        return None
    grant = grants.pop()
    exp = int(grant.split(".")[0])
    check(exp <= time.time() + 3600 + 2, "the grant expires no later than the token")
    plain = http("GET", base + "master.m3u8")  # Authorization header: nothing to carry
    check(plain.status == 200 and "grant=" not in plain.text(),
          "the same playlist with an Authorization header is the file as it is")
    variant = http("GET", base + uris[0].split("?")[0] + "?grant=" + grant, token=False)
    segs = [l for l in variant.text().splitlines() if l and not l.startswith("#")]
    check(variant.status == 200 and segs and all(("grant=" + grant) in s for s in segs),
          "a variant from a grant link passes the same grant on (%d segments)" % len(segs))
    seg = http("GET", base + os.path.dirname(uris[0]) + "/" + segs[0], token=False)
    check(seg.status == 200 and seg.body[:1] == b"\x47", "a segment from its grant link")
    check_plays(base + "lesson.mp4?grant=" + grant, "MP4 ?grant=")
    return grant


def test_refusals(srv, binary, grant):
    base = "%s/recordings/%s/" % (srv.base, REC_ID)
    before = errors(srv)
    refused(srv, base + "hi/index.m3u8", 401, "no access")
    sig = grant.split(".")[1]
    bad = grant.split(".")[0] + "." + ("A" if sig[0] != "A" else "B") + sig[1:]
    refused(srv, base + "hi/index.m3u8?grant=" + bad, 403, "a grant altered")
    later = str(int(grant.split(".")[0]) + 86400) + "." + sig
    refused(srv, base + "lesson.mp4?grant=" + later, 403, "a grant with its expiry moved")
    refused(srv, "%s/recordings/%s/master.m3u8?grant=%s" % (srv.base, OTHER_ID, grant), 403,
            "a grant of one recording on another")
    refused(srv, base + "lesson.mp4?grant=not-a-grant", 403, "a malformed grant")
    short = mint_token(binary, srv.data, "teacher", ttl=1)
    r = http("GET", base + "master.m3u8?token=" + urllib.parse.quote(short), token=False)
    g = re.findall(r"grant=([0-9]+\.[A-Za-z0-9_-]+)", r.text())
    check(r.status == 200 and g, "a master from a token about to expire")
    time.sleep(2.2)
    if g:
        refused(srv, base + "hi/index.m3u8?grant=" + g[0], 401, "a grant past its token's expiry")
    after = errors(srv)
    check(after["unauthorized"] - before["unauthorized"] >= 2 and
          after["forbidden"] - before["forbidden"] >= 4,
          "refusals counted (unauthorized +%d, forbidden +%d)"
          % (after["unauthorized"] - before["unauthorized"],
             after["forbidden"] - before["forbidden"]))


def main():
    binary = find_classrelay(sys.argv[1] if len(sys.argv) > 1 else None)
    with Server(binary, name="replay-links") as srv:
        vod = make_recording(binary, srv.data)
        check(os.path.exists(os.path.join(vod, "master.m3u8")), "packaged: vod/master.m3u8")
        add_row(srv, vod)
        test_rest_links(srv, binary)
        grant = test_links(srv, binary)
        if grant:
            test_refusals(srv, binary, grant)
    print("RESULT: %s" % ("FAIL: " + "; ".join(failures) if failures else "PASS"), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
