#!/usr/bin/python3
"""Recordings in a cluster (issue 14, docs/cluster.md "Recordings"): the origin records, the
catalogue in PostgreSQL names the node that holds the files, any node serves them.

Usage: /usr/bin/python3 tests/integration/cluster_recordings.py [path/to/classrelay]

A throwaway PostgreSQL (tools/pg_tmp.sh) and Redis (tools/redis_tmp.sh), and two classrelay
nodes on loopback, A and B, each with its own data folder (no shared recordings folder),
sharing --store, --redis and --secret-file:
  * an aiortc WHIP teacher publishes lesson "hist" on A for LESSON_S seconds: A records it;
    the catalogue row names A ("node");
  * B starts while A records: it leaves A's unfinished recording alone (before, a node
    packaged every unfinished row at start, and marked a live recording of another node
    "packaging");
  * the teacher leaves; A packages; B's /api/v1/recordings lists the recording, ready, held
    by A;
  * B has no file of it: GET /recordings/<id>/master.m3u8 on B with an Authorization header
    answers 307 to the same path on A with a grant added (CORS allowed, not cached), which A
    serves without any token; with ?token= the 307 keeps the query; ffprobe plays the HLS
    master and the MP4 from B's ?token= URLs (following the 307), lasting the recording's
    duration; A serves its own files itself;
  * a missing file of A's recording on B: 307, then A's 404; an unknown recording, and one
    whose holder is B itself or nobody (rows written with psql), are B's own 404;
  * the recording deleted on B: gone from the catalogue, and A removes its folder (the
    removal B left it in the catalogue) within seconds;
  * PostgreSQL paused: B's list answers 500 (not an empty list); A records and packages a
    lesson meanwhile; PostgreSQL resumed: the recording's row (made late, from its
    recording.json) is in the catalogue, ready, held by A, within 20 s.
Prints "RESULT: PASS" or "RESULT: FAIL: ..." (ctest's pattern).
"""
import sys
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import asyncio
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import peers  # noqa: E402
from peers import check, log  # noqa: E402
from probe import check_plays  # noqa: E402

peers.patch_aioice_loopback()

from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from avtracks import MovingBarTrack, SineTrack, wait_connected  # noqa: E402

TOOLS = os.path.join(peers.SRC_ROOT, "tools")
ROOM = "hist"
ROOM_AWAY = "geog"  # recorded while PostgreSQL is away
LESSON_S = 8.0


def get_once(url, token=None):
    """GET without following redirects: (status, headers, body)."""
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request("GET", u.path + ("?" + u.query if u.query else ""),
              headers={"Authorization": "Bearer " + token} if token else {})
    r = c.getresponse()
    out = (r.status, r.headers, r.read())
    c.close()
    return out


def catalogue(base, token, room):
    r = peers.http("GET", base + "/api/v1/recordings?room=" + room, token=token)
    return json.loads(r.body)["recordings"] if r.status == 200 else []


def wait_rec(base, token, want, timeout, room=ROOM):
    """The lesson's recording once its state is one of want (None: any), else None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        recs = catalogue(base, token, room)
        if recs and (want is None or recs[0]["state"] in want):
            return recs[0]
        time.sleep(0.3)
    return None


async def teach(a, token, during, room=ROOM, seconds=LESSON_S):
    """An aiortc teacher on A for seconds; during() runs once it is connected."""
    pc = RTCPeerConnection()
    pc.addTransceiver(MovingBarTrack(), direction="sendonly")
    pc.addTransceiver(SineTrack(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    loop = asyncio.get_running_loop()
    res, answer = await loop.run_in_executor(None, lambda: peers.sdp_post(
        a.base, "/whip/" + room, pc.localDescription.sdp, token))
    await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    await wait_connected(pc, 10, "teacher")
    t0 = time.monotonic()
    await loop.run_in_executor(None, during)
    await asyncio.sleep(max(0.0, seconds - (time.monotonic() - t0)))
    await loop.run_in_executor(None, lambda: peers.http("DELETE", res, token=token))
    await pc.close()


def b_starts_while_a_records(a, b, token):
    rec = wait_rec(a.base, token, ("recording",), 10)
    check(rec is not None and rec.get("node") == a.base,
          "A records the lesson; its row names A: %s" % (rec and rec.get("node")))
    b.start()
    rec = wait_rec(b.base, token, None, 5)
    check(rec is not None and rec["state"] == "recording",
          "B started: A's recording is still \"recording\" (%s)" % (rec and rec["state"]))
    with open(b.logpath, "rb") as f:
        check(b"left unfinished" not in f.read(), "B packages none of A's recordings")


def check_redirects(a, b, rec, token):
    path = "/recordings/%s/master.m3u8" % rec["id"]
    status, hdr, _ = get_once(b.base + path, token)
    loc = hdr.get("Location") or ""
    check(status == 307 and loc.startswith(a.base + path + "?grant="),
          "B, with an Authorization header: %d to %s (want 307 to A with a grant)" % (status, loc))
    check(hdr.get("Access-Control-Allow-Origin") == "*" and
          "no-store" in (hdr.get("Cache-Control") or ""),
          "the 307 allows any origin and is not cached")
    status, _, body = get_once(loc)
    check(status == 200 and body.startswith(b"#EXTM3U") and b"grant=" in body,
          "A serves the redirect's URL without a token (%d), its URIs carrying the grant" % status)
    q = "?token=" + urllib.parse.quote(token)
    status, hdr, _ = get_once(b.base + path + q)
    loc = hdr.get("Location") or ""
    check(status == 307 and loc.startswith(a.base + path + q + "&grant="),
          "B, with ?token=: 307 to A with the same query: %s" % loc[:len(a.base) + 80])
    status, _, _ = get_once(a.base + path, token)
    check(status == 200, "A serves its own file (%d)" % status)
    status, hdr, _ = get_once(b.base + "/recordings/%s/nothing.m3u8" % rec["id"], token)
    check(status == 307, "a file B lacks of A's recording: 307 (%d)" % status)
    status, _, _ = get_once(hdr.get("Location") or a.base)
    check(status == 404, "... and A's 404 (%d)" % status)


def check_own_404(b, pg_uri, token):
    for rid, node in (("20260101-000000-ghost-b", b.base), ("20260101-000000-ghost-x", "")):
        subprocess.run(["psql", pg_uri, "-q", "-c",
                        "INSERT INTO recordings (id, room, started_ms, state, node_url) "
                        "VALUES ('%s', 'ghost', 1, 'ready', '%s')" % (rid, node)], check=True)
        status, _, _ = get_once(b.base + "/recordings/%s/master.m3u8" % rid, token)
        check(status == 404, "held by %s, missing: B's own 404 (%d)" % (node or "nobody", status))
    status, _, _ = get_once(b.base + "/recordings/20260101-000000-none-0000/master.m3u8", token)
    check(status == 404, "an unknown recording: 404 (%d)" % status)


def run(a, b, pg_uri, token):
    asyncio.run(teach(a, token, lambda: b_starts_while_a_records(a, b, token)))
    rec = wait_rec(b.base, token, ("ready", "failed"), 120)
    check(rec is not None and rec["state"] == "ready" and rec.get("node") == a.base,
          "B lists the recording, ready, held by A: %s" % (
              rec and {k: rec.get(k) for k in ("id", "state", "node", "error")}))
    if not rec or rec["state"] != "ready":
        return
    check(not os.path.exists(os.path.join(b.data, "recordings", rec["id"])),
          "B has no folder of it (no shared recordings folder)")
    check_redirects(a, b, rec, token)
    q = "?token=" + urllib.parse.quote(token)
    lesson_s = rec["duration_ms"] / 1000
    for name in ("master.m3u8", "lesson.mp4"):
        got = check_plays("%s/recordings/%s/%s%s" % (b.base, rec["id"], name, q),
                          "ffprobe %s from B" % name)
        check(abs(got - lesson_s) < 1.0,
              "%s from B lasts the recording (%.2f s, catalogue %.2f s)" % (name, got, lesson_s))
    check_own_404(b, pg_uri, token)
    check_delete(a, b, rec["id"], token)


def check_delete(a, b, rid, token):
    r = peers.http("DELETE", "%s/api/v1/recordings/%s" % (b.base, rid), token=token)
    check(r.status == 204, "DELETE of A's recording on B: %d" % r.status)
    gone = peers.http("GET", "%s/api/v1/recordings/%s" % (a.base, rid), token=token).status
    check(gone == 404, "A no longer lists it (%d)" % gone)
    folder, deadline = os.path.join(a.data, "recordings", rid), time.monotonic() + 15
    while os.path.exists(folder) and time.monotonic() < deadline:
        time.sleep(0.3)
    check(not os.path.exists(folder), "A removed its files of the deleted recording")


def check_db_away(a, b, pdir, token):
    """PostgreSQL away while a lesson is recorded and packaged: its row lands once it is back."""
    subprocess.run([os.path.join(TOOLS, "pg_tmp.sh"), "pause", pdir], check=True)
    status = peers.http("GET", b.base + "/api/v1/recordings", token=token).status
    check(status == 500, "PostgreSQL away: B's list is an error, not an empty list (%d)" % status)
    asyncio.run(teach(a, token, lambda: None, ROOM_AWAY, 4.0))
    deadline, ready = time.monotonic() + 60, False
    while not ready and time.monotonic() < deadline:
        time.sleep(0.3)
        with open(a.logpath, "rb") as f:
            ready = any(b"-%s-" % ROOM_AWAY.encode() in l and b"ready for replay" in l
                        for l in f.read().splitlines())
    check(ready, "A recorded and packaged the lesson while the database was away")
    subprocess.run([os.path.join(TOOLS, "pg_tmp.sh"), "resume", pdir], check=True)
    rec = wait_rec(b.base, token, ("ready",), 20, ROOM_AWAY)
    check(rec is not None and rec.get("node") == a.base and rec["duration_ms"] > 3000 and
          rec.get("hls") and rec.get("ended_ms"),
          "the database back: B lists it, ready, held by A, within 20 s: %s" % (
              rec and {k: rec.get(k) for k in ("id", "state", "node", "duration_ms")}))


def main():
    binary = peers.find_classrelay(sys.argv[1] if len(sys.argv) > 1 else None)
    tmp = tempfile.mkdtemp(prefix="cr-it-clrec-")
    os.chmod(tmp, 0o755)  # as root, PostgreSQL runs as postgres and must reach its folder
    pdir, rdir = os.path.join(tmp, "pg"), os.path.join(tmp, "redis")
    ok, nodes = False, []
    try:
        pg_uri = subprocess.run([os.path.join(TOOLS, "pg_tmp.sh"), "start", pdir], check=True,
                                capture_output=True, text=True).stdout.strip()
        redis = subprocess.run([os.path.join(TOOLS, "redis_tmp.sh"), "start", rdir], check=True,
                               capture_output=True, text=True).stdout.strip()
        secret = os.path.join(tmp, "secret.key")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
            f.write(os.urandom(32))
        common = ["--redis", redis, "--store", pg_uri, "--record-end-after", "2"]
        nodes = [peers.Server(binary, common, name="clrec-" + n, media_port=True,
                              secret_file=secret) for n in "ab"]
        nodes[0].start()
        run(nodes[0], nodes[1], pg_uri, nodes[0].token)
        check_db_away(nodes[0], nodes[1], pdir, nodes[0].token)
        ok = not peers.failures
        if not ok:
            print("RESULT: FAIL: %s" % "; ".join(peers.failures), flush=True)
    except Exception as e:  # noqa: BLE001
        print("RESULT: FAIL: %s" % e, flush=True)
        for s in nodes:
            print(s.log_tail(30))
    finally:
        for s in nodes:
            s.stop()
        subprocess.run([os.path.join(TOOLS, "redis_tmp.sh"), "stop", rdir])
        subprocess.run([os.path.join(TOOLS, "pg_tmp.sh"), "stop", pdir])
        shutil.rmtree(tmp, ignore_errors=True)
    print("RESULT: PASS" if ok else "", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
