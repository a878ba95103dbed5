#!/usr/bin/python3
"""/metrics read by a real Prometheus parser before, during and after a lesson; JSON logs.

Usage: /usr/bin/python3 tests/integration/metrics.py [path/to/classrelay] [--seconds 6]

1. A server with --metrics-token and --metrics-listen: /metrics on the main address answers
   401 without the token and with a wrong one (counted in classrelay_errors_total), 200
   with it; the metrics address answers without a token and serves nothing else; an
   error over the websocket is counted as one, apart from HTTP's. Every
   scrape is parsed by python3-prometheus-client's parser (text_string_to_metric_families).
2. A lesson: an aiortc publisher (VP8 640x360 30 fps + Opus) over WHIP and one aiortc
   player over WHEP, which loses one video packet in 25 on purpose once it decodes video.
   Scrapes before, once the player decodes video, --seconds later, and after both
   DELETEs: every counter only rises; RTP packets in rise as the publisher's own getStats
   says it sent them, and at least 50 a second (the audio alone); packets out keep up
   with twice packets in (the player, and the recorder's tap of each track) and the
   player received what it was sent; the player's NACKs are counted and repaired, its
   receiver reports show its loss; video forwarded by layer, bytes, keyframe requests,
   sessions, the recorder's gauges and the participants gauge (teacher over WHIP, player
   over WHEP) say what happened; every histogram has ascending le, cumulative buckets and
   +Inf equal to _count; join stages were timed for both peers and the first video for
   the player.
3. A server with --log-format json: a short lesson, and every line of its stderr is one
   JSON object with time, level, component and msg; lines about the lesson's peers carry
   the room and the peer id.
"""
import sys
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import argparse
import asyncio
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import peers  # noqa: E402
from peers import log  # noqa: E402

peers.patch_aioice_loopback()

from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from avtracks import MovingBarTrack, SineTrack, receive_av, wait_connected  # noqa: E402
from wsclient import WsClient  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

METRICS_TOKEN = "metrics-s3cret-token"
DROP_EVERY = 25
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        log("FAIL:", what)
    return cond


# ---------------------------------------------------------------- scrapes

class Scrape:
    """One /metrics reading: {(sample name, sorted labels): value} and the families."""

    def __init__(self, text):
        self.text = text
        self.families = list(text_string_to_metric_families(text))
        self.samples = {}
        self.types = {}
        for fam in self.families:
            self.types[fam.name] = fam.type
            for s in fam.samples:
                self.samples[(s.name, tuple(sorted(s.labels.items())))] = (fam, s.value)

    def get(self, name, **labels):
        found = self.samples.get((name, tuple(sorted(labels.items()))))
        return found[1] if found else None


def scrape(url, token=None):
    r = peers.http("GET", url, token=token if token is not None else "")
    if r.status != 200:
        raise RuntimeError("GET %s -> %d %s" % (url, r.status, r.text()[:200]))
    ctype = r.header("Content-Type") or ""
    check(ctype.startswith("text/plain") and "version=0.0.4" in ctype,
          "/metrics Content-Type %r" % ctype)
    return Scrape(r.text())


def check_shape(sc, when):
    """Names, types, and every histogram's buckets."""
    for fam in sc.families:
        check(fam.name.startswith("classrelay_"),
              "%s: family %s lacks the prefix" % (when, fam.name))
        check(fam.type in ("counter", "gauge", "histogram"),
              "%s: family %s has type %s" % (when, fam.name, fam.type))
        if fam.type != "histogram":
            continue
        series = {}
        for s in fam.samples:
            labels = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
            series.setdefault(labels, {"buckets": [], "count": None, "sum": None})
            if s.name.endswith("_bucket"):
                series[labels]["buckets"].append((float(s.labels["le"]), s.value))
            elif s.name.endswith("_count"):
                series[labels]["count"] = s.value
            elif s.name.endswith("_sum"):
                series[labels]["sum"] = s.value
        for labels, h in series.items():
            les = [le for le, _ in h["buckets"]]
            counts = [c for _, c in h["buckets"]]
            name = "%s%s" % (fam.name, dict(labels) or "")
            check(les == sorted(les) and len(set(les)) == len(les),
                  "%s: %s le not ascending: %s" % (when, name, les))
            check(les and les[-1] == float("inf"), "%s: %s has no +Inf bucket" % (when, name))
            check(all(a <= b for a, b in zip(counts, counts[1:])),
                  "%s: %s buckets not cumulative: %s" % (when, name, counts))
            check(counts and counts[-1] == h["count"],
                  "%s: %s +Inf %s != _count %s" % (when, name, counts[-1] if counts else None,
                                                   h["count"]))
            check(h["sum"] is not None and h["sum"] >= 0, "%s: %s _sum %s" % (when, name, h["sum"]))


def check_monotonic(a, b, what):
    """Every counter (and histogram series) of a is there in b and no lower."""
    for key, (fam, va) in a.samples.items():
        if fam.type not in ("counter", "histogram"):
            continue
        vb = b.get(key[0], **dict(key[1]))
        check(vb is not None and vb >= va, "%s: %s%s fell from %s to %s"
              % (what, key[0], dict(key[1]), va, vb))


def errors(sc, code, via):
    """classrelay_errors_total for code and via, whatever its status label."""
    return sum(v for (n, k), (f, v) in sc.samples.items()
               if n == "classrelay_errors_total" and ("code", code) in k and ("via", via) in k)


def delta(a, b, name, **labels):
    return (b.get(name, **labels) or 0) - (a.get(name, **labels) or 0)


# ---------------------------------------------------------------- access

def check_access(server, metrics_base):
    url = server.base + "/metrics"
    r = peers.http("GET", url, token="")
    body = {}
    try:
        body = json.loads(r.body)
    except ValueError:
        pass
    check(r.status == 401, "/metrics without a token: %d, want 401" % r.status)
    check(body.get("error", {}).get("code") == "unauthorized",
          "/metrics 401 body %r" % r.body[:200])
    r = peers.http("GET", url, token="not-" + METRICS_TOKEN)
    check(r.status == 401, "/metrics with a wrong token: %d, want 401" % r.status)
    r = peers.http("GET", url, token=server.token)  # an admin's API token is not it
    check(r.status == 401, "/metrics with an API token: %d, want 401" % r.status)
    ws = WsClient("127.0.0.1", server.port)  # an error over the websocket, counted apart
    try:
        rid = ws.request({"type": "publish", "sdp": "v=0\r\n"})
        reply = ws.recv(5)
        check(reply and reply.get("id") == rid and reply.get("error", {}).get("code") ==
              "not_joined", "publish before join answered %r" % reply)
        sc = scrape(url, METRICS_TOKEN)
    finally:
        ws.close()
    check(sc.get("classrelay_websocket_connections_open") == 1,
          "websocket connections open: %s" % sc.get("classrelay_websocket_connections_open"))
    check(errors(sc, "not_joined", "websocket") == 1 and errors(sc, "not_joined", "http") == 0,
          "the websocket's not_joined is not counted as one: %s" % sorted(
              (k, v) for (n, k), (f, v) in sc.samples.items()
              if n == "classrelay_errors_total" and v))
    check(errors(sc, "unauthorized", "http") >= 3,
          "the three 401s are not counted: %s" % errors(sc, "unauthorized", "http"))
    check(sc.get("classrelay_errors_total", code="unauthorized", status="401", via="http")
          == errors(sc, "unauthorized", "http"), "unauthorized is not labelled status 401")
    open_sc = scrape(metrics_base + "/metrics")  # no token: its own address is open
    check(set(f.name for f in open_sc.families) == set(f.name for f in sc.families),
          "the metrics address serves other families")
    r = peers.http("GET", metrics_base + "/healthz", token="")
    check(r.status == 404, "the metrics address served /healthz: %d" % r.status)
    log("access: 401 without, with a wrong and with an API token; 200 with the metrics "
        "token; open on %s; %d families; a websocket error counted as one" % (
            metrics_base, len(sc.families)))
    return sc


# ---------------------------------------------------------------- the lesson

class Lesson:
    """An aiortc WHIP publisher and one aiortc WHEP player in room."""

    def __init__(self, base, room):
        self.base, self.room = base, room
        self.pub = RTCPeerConnection()
        self.sub = RTCPeerConnection()
        self.tasks = []
        self.first_video = None
        self.pub_url = self.sub_url = None
        self.dropping = False  # the player loses 1 video packet in DROP_EVERY (NACKed)
        self.seen = self.dropped = 0

    async def start(self):
        self.pub.addTransceiver(MovingBarTrack(), direction="sendonly")
        self.pub.addTransceiver(SineTrack(), direction="sendonly")
        await self.pub.setLocalDescription(await self.pub.createOffer())
        loop = asyncio.get_running_loop()
        self.pub_url, answer = await loop.run_in_executor(
            None, peers.whip_publish, self.base, self.room, self.pub.localDescription.sdp)
        await self.pub.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await wait_connected(self.pub, 10, "publisher")
        await asyncio.sleep(0.5)
        receive_av(self.sub, self.tasks, self._consume)
        await self.sub.setLocalDescription(await self.sub.createOffer())
        self.sub_url, answer = await loop.run_in_executor(
            None, peers.whep_play, self.base, self.room, self.sub.localDescription.sdp)
        await self.sub.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        self._lose_video()
        await wait_connected(self.sub, 10, "player")
        t0 = time.monotonic()
        while self.first_video is None and time.monotonic() - t0 < 5:
            await asyncio.sleep(0.05)
        if self.first_video is None:
            raise RuntimeError("the player decoded no video in 5 s")

    def _lose_video(self):
        """The player's video receiver drops a packet now and then (not RTX) before aiortc
        sees it: its NACK generator asks for it, and the relay repairs it by RTX."""
        for r in self.sub.getReceivers():
            if r.track.kind != "video":
                continue
            async def lossy(packet, arrival_time_ms, r=r, handle=r._handle_rtp_packet):
                codec = r._RTCRtpReceiver__codecs.get(packet.payload_type)
                rtx = codec is not None and codec.mimeType.lower() == "video/rtx"
                if self.dropping and not rtx:
                    self.seen += 1
                    if self.seen % DROP_EVERY == 0:
                        self.dropped += 1
                        return
                await handle(packet, arrival_time_ms=arrival_time_ms)
            r._handle_rtp_packet = lossy

    async def _consume(self, track):
        try:
            while True:
                await track.recv()
                if track.kind == "video" and self.first_video is None:
                    self.first_video = time.monotonic()
        except Exception:  # noqa: BLE001 (the track ends with the connection)
            pass

    async def packets(self):
        """(RTP packets the publisher sent, RTP packets the player received)."""
        sent = sum(s.packetsSent for s in (await self.pub.getStats()).values()
                   if s.type == "outbound-rtp")
        # aiortc 1.4 files every SSRC's inbound-rtp stats of a receiver under one id, the
        # last (an RTX stream's) hiding the media's: its per-SSRC counters instead
        got = sum(st.packets_received for r in self.sub.getReceivers()
                  for st in r._RTCRtpReceiver__remote_streams.values())
        return sent, got

    def delete(self):
        codes = [peers.resource_delete(u) for u in (self.sub_url, self.pub_url) if u]
        check(all(c in (200, 204) for c in codes), "DELETEs answered %s" % codes)

    async def close(self):
        for t in self.tasks:
            t.cancel()
        await self.sub.close()
        await self.pub.close()


def check_lesson(s0, s1, s2, s3, p1, p2, elapsed):
    """s0 before, s1 with video flowing, s2 elapsed seconds later, s3 after the DELETEs;
    p1, p2: (publisher sent, player received) right after s1 and s2."""
    for a, b, what in ((s0, s1, "before → flowing"), (s1, s2, "during"), (s2, s3, "after")):
        check_monotonic(a, b, what)
    rtp = "classrelay_rtp_packets_total"
    d_in, d_out = delta(s1, s2, rtp, direction="in"), delta(s1, s2, rtp, direction="out")
    d_sent, d_got = p2[0] - p1[0], p2[1] - p1[1]
    log("over %.1f s: relay in %d (%.0f/s), out %d; publisher sent %d, player received %d"
        % (elapsed, d_in, d_in / elapsed, d_out, d_sent, d_got))
    check(s0.get(rtp, direction="in") == 0, "packets in before the lesson: %s"
          % s0.get(rtp, direction="in"))
    check(d_in >= 50 * elapsed, "packets in rose %d in %.1f s: fewer than the audio's 50/s"
          % (d_in, elapsed))
    check(abs(d_in - d_sent) <= 0.15 * d_sent + 30,
          "packets in rose %d while the publisher sent %d" % (d_in, d_sent))
    # one subscriber gets what comes in, and so does the recorder, through a tap per track
    taps = s2.get("classrelay_recording_taps")
    check(taps == 2, "recording taps during the lesson: %s, want 2" % taps)
    check(d_out >= 0.9 * 2 * d_in, "packets out rose %d, packets in %d: the player and the "
          "recorder each get what comes in" % (d_out, d_in))
    check(0.9 * d_in - 30 <= d_got <= 1.1 * d_out / 2 + 30,
          "the player received %d while packets in rose %d, out %d" % (d_got, d_in, d_out))
    for name, want in (("classrelay_recorder_up", 1), ("classrelay_recording_lessons", 1),
                       ("classrelay_recording_tracks", 2)):
        check(s2.get(name) == want, "%s during the lesson: %s" % (name, s2.get(name)))
    b_in = delta(s1, s2, "classrelay_rtp_bytes_total", direction="in")
    b_out = delta(s1, s2, "classrelay_rtp_bytes_total", direction="out")
    check(b_in >= 12 * d_in and b_out >= 12 * d_out,
          "bytes in %d / out %d for %d / %d packets" % (b_in, b_out, d_in, d_out))
    d_video = delta(s1, s2, "classrelay_video_forwarded_packets_total", layer="0")
    check(0 < d_video <= d_out, "video forwarded (layer 0) rose %d, packets out %d"
          % (d_video, d_out))
    fd = "classrelay_forward_delay_seconds_count"
    d_fd = sum(delta(s1, s2, fd, worker=w) for w in ("0", "1"))
    check(0 < d_fd <= d_out, "forwarding delays timed %d, packets out %d" % (d_fd, d_out))
    check(s2.get("classrelay_keyframe_requests_total", direction="sent") >= 1,
          "no keyframe request reached the publisher")
    for role, via, want in (("teacher", "whip", 1), ("player", "whep", 1),
                            ("classroom", "websocket", 0)):
        check(s2.get("classrelay_participants", role=role, via=via) == want,
              "participants %s/%s during the lesson: %s, want %d"
              % (role, via, s2.get("classrelay_participants", role=role, via=via), want))
        after = s3.get("classrelay_participants", role=role, via=via)
        check(after == 0, "participants %s/%s after: %s" % (role, via, after))
    check(s2.get("classrelay_peers") == 2, "peers during: %s" % s2.get("classrelay_peers"))
    check(s3.get("classrelay_peers") == 0, "peers after: %s" % s3.get("classrelay_peers"))
    for kind in ("whip", "whep"):
        check(delta(s0, s3, "classrelay_sessions_total", kind=kind) == 1,
              "%s sessions: %s" % (kind, delta(s0, s3, "classrelay_sessions_total", kind=kind)))
    js = "classrelay_join_stage_seconds_count"
    check(s2.get(js, stage="ice") >= 2 and s2.get(js, stage="connected") >= 2,
          "join stages timed: ice %s, connected %s (two peers)"
          % (s2.get(js, stage="ice"), s2.get(js, stage="connected")))
    fv_n = s2.get("classrelay_join_first_video_seconds_count")
    fv_sum = s2.get("classrelay_join_first_video_seconds_sum")
    check(fv_n == 1 and 0 < fv_sum < 10, "first video: %s samples, sum %s s" % (fv_n, fv_sum))
    log("join: ice %.3f s, connected %.3f s (mean of %d), first video %.3f s; estimate "
        "samples %s, loss reports %s; keyframe requests received %s, sent %s; NACKs %s/%s"
        % (s2.get("classrelay_join_stage_seconds_sum", stage="ice") / s2.get(js, stage="ice"),
           s2.get("classrelay_join_stage_seconds_sum", stage="connected")
           / s2.get(js, stage="connected"), s2.get(js, stage="connected"), fv_sum,
           s2.get("classrelay_subscriber_estimate_bits_per_second_count"),
           s2.get("classrelay_subscriber_loss_ratio_count"),
           s2.get("classrelay_keyframe_requests_total", direction="received"),
           s2.get("classrelay_keyframe_requests_total", direction="sent"),
           s2.get("classrelay_nacks_received_total"), s2.get("classrelay_nacks_repaired_total")))
    check(delta(s1, s2, "classrelay_subscriber_loss_ratio_count") >= 1,
          "no receiver report from the player was measured")
    check(delta(s1, s2, "classrelay_process_cpu_seconds_total") > 0, "CPU time did not rise")


def lossy_reports(s1, s2):
    return (delta(s1, s2, "classrelay_subscriber_loss_ratio_count")
            - delta(s1, s2, "classrelay_subscriber_loss_ratio_bucket", le="0"))


def check_repairs(s1, s2, dropped):
    """The player lost dropped video packets on purpose: it NACKed them, the relay resent
    them."""
    got = delta(s1, s2, "classrelay_nacks_received_total")
    repaired = delta(s1, s2, "classrelay_nacks_repaired_total")
    log("the player lost %d video packets: the relay received %d NACK entries, repaired %d; "
        "%d of its receiver reports showed loss" % (dropped, got, repaired, lossy_reports(s1, s2)))
    check(dropped >= 3, "the player lost only %d packets" % dropped)
    check(got >= dropped / 2, "NACK entries received %d for %d packets lost" % (got, dropped))
    check(0 < repaired <= got, "NACK entries repaired %d of %d" % (repaired, got))
    check(delta(s1, s2, "classrelay_nacks_sent_total") == 0,
          "NACKs to the publisher on a clean uplink")
    check(lossy_reports(s1, s2) >= 1, "no receiver report of the player showed its loss")


async def run_metrics(binary, seconds):
    mport = peers.free_port()
    server = peers.Server(binary, extra_args=(
        "--metrics-token", METRICS_TOKEN, "--metrics-listen", "127.0.0.1:%d" % mport),
        name="metrics-it", media_port=True)
    server.start()
    metrics_url = server.base + "/metrics"
    lesson = None
    try:
        s0 = check_access(server, "http://127.0.0.1:%d" % mport)
        check_shape(s0, "before")
        lesson = Lesson(server.base, "metrics")
        await lesson.start()
        lesson.dropping = True
        s1 = scrape(metrics_url, METRICS_TOKEN)
        p1 = await lesson.packets()
        t1 = time.monotonic()
        await asyncio.sleep(seconds)
        s2 = scrape(metrics_url, METRICS_TOKEN)
        p2 = await lesson.packets()
        elapsed = time.monotonic() - t1
        lesson.delete()
        t0 = time.monotonic()
        while True:
            s3 = scrape(metrics_url, METRICS_TOKEN)
            if s3.get("classrelay_peers") == 0 or time.monotonic() - t0 > 3:
                break
            await asyncio.sleep(0.1)
        for sc, when in ((s1, "flowing"), (s2, "during"), (s3, "after")):
            check_shape(sc, when)
        check_lesson(s0, s1, s2, s3, p1, p2, elapsed)
        check_repairs(s1, s2, lesson.dropped)
    finally:
        if lesson:
            await lesson.close()
        if FAILURES:
            print("server log tail:\n" + server.log_tail(40), flush=True)
        server.stop()


# ---------------------------------------------------------------- JSON logs

TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def check_json_lines(path):
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8").splitlines()
    about_peers = 0
    for i, line in enumerate(lines):
        try:
            v = json.loads(line)
        except ValueError:
            check(False, "stderr line %d is not JSON: %r" % (i + 1, line[:200]))
            continue
        ok = (isinstance(v, dict) and TIME_RE.match(str(v.get("time", ""))) and
              v.get("level") in ("error", "warn", "info", "debug") and
              isinstance(v.get("component"), str) and isinstance(v.get("msg"), str) and
              isinstance(v.get("room", ""), str) and isinstance(v.get("peer", 0), int) and
              isinstance(v.get("participant", ""), str))
        check(ok, "stderr line %d lacks the fields: %r" % (i + 1, line[:200]))
        if v.get("room") == "metrics-json" and v.get("peer", 0) > 0:
            about_peers += 1
    check(len(lines) > 20, "only %d log lines" % len(lines))
    check(about_peers >= 3, "%d lines name the room and a peer" % about_peers)
    log("JSON logs: %d lines, each an object with time, level, component and msg; %d "
        "name room metrics-json and a peer id" % (len(lines), about_peers))


def healthy(base):
    try:
        return peers.http("GET", base + "/healthz", timeout=1.0, token="").status == 200
    except OSError:  # not listening yet (urllib's URLError is one)
        return False


async def run_json_logs(binary):
    port = peers.free_port()
    data = tempfile.mkdtemp(prefix="cr-it-data-")
    err_path = os.path.join(tempfile.gettempdir(), "metrics-json-%d-%d.err" % (os.getpid(), port))
    cmd = [binary, "serve", "--listen", "127.0.0.1:%d" % port, "--data", data, "--bind-ip",
           "127.0.0.1", "--media-port", str(peers.free_udp_port()), "--log-format", "json",
           "--log-level", "debug"]
    log("starting", " ".join(cmd), "(stderr:", err_path + ")")
    with open(err_path, "wb") as err, open(os.devnull, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, start_new_session=True)
    base = "http://127.0.0.1:%d" % port
    lesson = None
    try:
        t0 = time.monotonic()
        while not healthy(base):
            if proc.poll() is not None or time.monotonic() - t0 > 15:
                raise RuntimeError("the JSON-logging server did not start")
            await asyncio.sleep(0.1)
        peers.AUTH_TOKEN = peers.mint_token(binary, data, "admin")
        lesson = Lesson(base, "metrics-json")
        await lesson.start()
        await asyncio.sleep(1.0)
        lesson.delete()
        await asyncio.sleep(0.5)
    finally:
        if lesson:
            await lesson.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(data, ignore_errors=True)
    check(peers.check_log_pairs(err_path) >= 1, "no selected pair in the JSON log")
    check_json_lines(err_path)
    if not FAILURES:
        os.unlink(err_path)


async def main_async(args):
    binary = peers.find_classrelay(args.classrelay)
    try:
        await run_metrics(binary, args.seconds)
        await run_json_logs(binary)
    except Exception as e:  # noqa: BLE001
        check(False, "%s: %s" % (type(e).__name__, e))
    return not FAILURES and not peers.ICE_FAILURES


def main():
    logging.basicConfig(level=logging.WARNING,
                        format="[aiortc log] %(levelname)s %(name)s: %(message)s")
    ap = argparse.ArgumentParser()
    ap.add_argument("classrelay", nargs="?")
    ap.add_argument("--seconds", type=float, default=6.0)
    args = ap.parse_args()
    ok = asyncio.run(main_async(args))
    print("RESULT:", "PASS" if ok else "FAIL", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
