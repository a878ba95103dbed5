#!/usr/bin/python3
"""A cascade link between two classrelay nodes (docs/cluster.md), driven by hand.

Usage: /usr/bin/python3 tests/integration/cascade_link.py [path/to/classrelay] [--players 3]

Two nodes on loopback share a token key (--secret-file). An aiortc publisher (VP8 with a
moving bar, Opus sine) publishes over WHIP to node A. The test then does what an edge node's
cascade does: asks A for links to the lesson's publishers (POST /api/v1/rooms/demo/links,
one offer per publisher), posts each offer to node B as a WHIP publish there, and returns
B's answer to A (POST .../links/<id>). A's relay connects to B's as the ICE controlling side
(B on its shared media port, ICE lite) over DTLS-SRTP and mirrors the publisher's packets.
Then aiortc players on B over WHEP must decode the moving bar and the sine, and:
  * A's offers carry a signature under the cluster's key (checked here, written again from
    access/node_sig.c), and A takes B's answer only signed (403 without, or for another body);
  * A sends the lesson to B once: A's link packets (link_rtp_out) are A's whole rtp_out,
    and B takes in no more than A sent it, while B sends every player its own copy;
  * links are refused without a token that may open them (401, 403) and an answer to no
    link gets 404; closing the link on A (DELETE) removes it there.
"""
import sys
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "lib"))
sys.path.insert(0, here)
import peers  # noqa: E402
from peers import check, log  # noqa: E402

peers.patch_aioice_loopback()

from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc_whip_whep import Subscriber, codec_prefs  # noqa: E402
from avtracks import MovingBarTrack, SineTrack, wait_connected  # noqa: E402

SECONDS = 5
ROOM = "demo"


def secret_file():
    fd, path = tempfile.mkstemp(prefix="cr-it-secret-")
    os.write(fd, os.urandom(32))
    os.close(fd)
    return path


async def publish(base):
    pub = RTCPeerConnection()
    vt = pub.addTransceiver(MovingBarTrack(), direction="sendonly")
    vt.setCodecPreferences(codec_prefs("vp8"))
    pub.addTransceiver(SineTrack(), direction="sendonly")
    await pub.setLocalDescription(await pub.createOffer())
    loop = asyncio.get_running_loop()
    _, answer = await loop.run_in_executor(None, peers.whip_publish, base, ROOM,
                                           pub.localDescription.sdp)
    await pub.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    log("publisher on A connected in %.2fs" % await wait_connected(pub, 10, "publisher"))
    return pub


def node_sig(secret, kind, link_id, body):
    """access/node_sig.c, written again here: BASE64URL(HMAC-SHA256(the cluster's key,
    "cr-node:KIND:ROOM:ID\n" + body)), unpadded."""
    with open(secret, "rb") as f:
        key = f.read()
    msg = ("cr-node:%s:%s:%s\n" % (kind, ROOM, link_id)).encode() + body.encode()
    mac = hmac.new(key, msg, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def link(a, b, secret):
    """What an edge's cascade does: A's offers (their signatures checked), B's answers
    (signed). Returns [(link id, B's WHIP resource URL)]."""
    r = peers.http("POST", a.base + "/api/v1/rooms/%s/links" % ROOM, token=a.token)
    check(r.status == 201, "A opens links: %d %s" % (r.status, r.text()[:300]))
    out = []
    for ln in json.loads(r.body)["links"]:
        log("link %s for %s %s; offer:\n%s" % (ln["id"], ln["role"], ln["source"],
                                               peers.sdp_summary(ln["sdp"])))
        check(ln.get("sig") == node_sig(secret, "offer", ln["id"], ln["sdp"]),
              "A's offer is signed with the cluster's key")
        url, answer = peers.sdp_post(b.base, "/whip/" + ROOM, ln["sdp"], token=b.token)
        path = a.base + "/api/v1/rooms/%s/links/%s" % (ROOM, ln["id"])
        r = peers.http("POST", path, answer, "application/sdp", token=a.token)
        check(r.status == 403, "A refuses an answer without a signature: %d" % r.status)
        forged = node_sig(secret, "answer", ln["id"], answer.replace("a=", "a= ", 1))
        r = peers.http("POST", path + "?sig=" + forged, answer, "application/sdp", token=a.token)
        check(r.status == 403, "... and one whose signature is another body's: %d" % r.status)
        sig = node_sig(secret, "answer", ln["id"], answer)
        r = peers.http("POST", path + "?sig=" + sig, answer, "application/sdp", token=a.token)
        check(r.status == 204, "A takes B's signed answer: %d %s" % (r.status, r.text()[:300]))
        out.append((ln["id"], url))
    return out


def refused(a, secret):
    """Without a token that may open links, and with a bad answer: clear refusals."""
    r = peers.http("POST", a.base + "/api/v1/rooms/%s/links" % ROOM, token="")
    check(r.status == 401, "links without a token: 401 (got %d)" % r.status)
    tok = peers.mint_token(a.binary, a.data, "teacher", room=ROOM, secret_file=a.secret_file)
    r = peers.http("POST", a.base + "/api/v1/rooms/%s/links" % ROOM, token=tok)
    check(r.status == 403, "links with a teacher's token: 403 (got %d)" % r.status)
    sig = node_sig(secret, "answer", "77", "v=0\r\n")
    r = peers.http("POST", a.base + "/api/v1/rooms/%s/links/77?sig=%s" % (ROOM, sig), "v=0\r\n",
                   "application/sdp", token=a.token)
    check(r.status == 404, "a signed answer to no link: 404 (got %d)" % r.status)


async def play(b, n):
    subs = [Subscriber("player%d" % i, b.base, ROOM) for i in range(1, n + 1)]
    for s in subs:
        await s.start(SECONDS)
    for s in subs:
        await wait_connected(s.pc, 10, s.name)
    t_end = time.monotonic() + SECONDS + 4
    while time.monotonic() < t_end:
        if all(s.first_video is not None and time.monotonic() - s.t_post >
               s.first_video + SECONDS + 0.3 for s in subs):
            break
        await asyncio.sleep(0.1)
    for s in subs:
        log("%s on B: %d video frames, %d bar positions, %d loud audio frames, first video "
            "%s s after its POST" % (s.name, s.video_frames, len(s.bar_positions), s.audio_loud,
                                     "%.2f" % s.first_video if s.first_video else "never"))
        check(s.video_frames >= 60 and len(s.bar_positions) >= 3,
              "%s decodes the moving bar through the link" % s.name)
        check(s.audio_loud >= 100, "%s hears the sine through the link" % s.name)
    return subs


def counters(a, b, n):
    sa, sb = peers.get_stats(a.base), peers.get_stats(b.base)
    got = {k: peers.stat(sa, k) for k in ("links", "link_rtp_out", "rtp_out", "link_nacks_in")}
    bin_, bout = peers.stat(sb, "rtp_in"), peers.stat(sb, "rtp_out")
    log("A (origin): %s; B (edge): rtp_in %d, rtp_out %d with %d players" % (got, bin_, bout, n))
    check(got["links"] == 1, "A has one link open")
    check(got["link_rtp_out"] > 0 and got["rtp_out"] <= got["link_rtp_out"] * 1.02 + 20,
          "A sends the lesson once: its packets out are the link's")
    check(bin_ <= got["link_rtp_out"] + 20, "B takes in what A sent it once")
    check(bout >= bin_ * n * 0.8, "B sends each of its %d players a copy" % n)


async def main_async(args):
    secret = secret_file()
    a = peers.Server(args.binary, ["--no-record"], name="cr-origin", media_port=True,
                     secret_file=secret).start()
    b = peers.Server(args.binary, ["--no-record"], name="cr-edge", media_port=True,
                     secret_file=secret).start()
    try:
        pub = await publish(a.base)
        await asyncio.sleep(1.0)
        refused(a, secret)
        links = link(a, b, secret)
        check(len(links) == 1, "one link: the teacher's")
        subs = await play(b, args.players)
        counters(a, b, args.players)
        r = peers.http("DELETE", a.base + "/api/v1/rooms/%s/links/%s" % (ROOM, links[0][0]),
                       token=a.token)
        check(r.status == 204, "A closes the link: %d" % r.status)
        check(peers.stat(peers.get_stats(a.base), "links") == 0, "A's link is gone")
        # the edge ends its side (a WHIP peer gave its DTLS state back once it connected, so
        # it does not hear A's close_notify: the edge's cascade closes both ends)
        check(peers.resource_delete(links[0][1]) in (200, 204), "B's side of the link closes")
        left = [p["target"] for p in peers.get_stats(b.base)["peers"]]
        check(left == ["whep"] * args.players, "B keeps its players' peers only (%s)" % left)
        for s in subs:
            await s.close()
        await pub.close()
    except Exception as e:  # noqa: BLE001
        check(False, "%s: %s" % (type(e).__name__, e))
    finally:
        a.stop()
        b.stop()
        os.unlink(secret)
    return not peers.failures and not peers.ICE_FAILURES


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=None)
    ap.add_argument("--players", type=int, default=3)
    args = ap.parse_args()
    args.binary = peers.find_classrelay(args.binary)
    ok = asyncio.run(main_async(args))
    print("RESULT:", "PASS" if ok else "FAIL", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
