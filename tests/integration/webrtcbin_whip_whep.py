#!/usr/bin/python3
"""GStreamer webrtcbin publishes over WHIP and a webrtcbin player decodes over WHEP.

Usage: /usr/bin/python3 tests/integration/webrtcbin_whip_whep.py [path/to/classrelay]
       [--seconds 8]

Publisher: videotestsrc is-live (640x360 30 fps, moving ball) -> vp8enc deadline=1 ->
rtpvp8pay and audiotestsrc (sine) -> opusenc -> rtpopuspay into webrtcbin
(bundle-policy max-bundle, sendonly), WHIP exchange done here with urllib.
Player: webrtcbin with recvonly VP8 + Opus transceivers, WHEP exchange, each src pad ->
decodebin -> fakesink; buffers after the decoders are counted.
Pass: the player decodes >= 60 640x360 video frames and >= 100 audio buffers within
--seconds of its WHEP POST; WHEP and WHIP DELETE answer 200/204.
Both webrtcbins gather only on 127.0.0.1 (add-local-ip-address on their ice-agent).
"""
import sys
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import argparse
import os
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import peers  # noqa: E402
from peers import log  # noqa: E402

import gi  # noqa: E402
gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import Gst, GstSdp, GstWebRTC  # noqa: E402

W, H = 640, 360
MIN_VIDEO = 60
MIN_AUDIO = 100

PUB_PIPELINE = """
webrtcbin name=webrtc bundle-policy=max-bundle
videotestsrc is-live=true pattern=ball !
  video/x-raw,width={w},height={h},framerate=30/1 ! videoconvert ! queue !
  vp8enc deadline=1 keyframe-max-dist=3000 target-bitrate=800000 !
  rtpvp8pay pt=96 mtu=1200 !
  application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000 ! webrtc.
audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample !
  audio/x-raw,rate=48000,channels=1 ! queue ! opusenc ! rtpopuspay pt=111 !
  application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! webrtc.
""".format(w=W, h=H)


class WebrtcPeer:
    """A webrtcbin in its own pipeline; offers, gathers on ip (127.0.0.1), HTTP exchange."""

    def __init__(self, name, pipeline_desc=None, ip="127.0.0.1"):
        self.name = name
        if pipeline_desc:
            self.pipe = Gst.parse_launch(pipeline_desc)
            self.webrtc = self.pipe.get_by_name("webrtc")
        else:
            self.pipe = Gst.Pipeline.new(name)
            self.webrtc = Gst.ElementFactory.make("webrtcbin", "webrtc")
            self.webrtc.set_property("bundle-policy", "max-bundle")
            self.pipe.add(self.webrtc)
        # Keep this reference for the whole run (PyGObject double-unref otherwise).
        self.agent = self.webrtc.get_property("ice-agent")
        ok = self.agent.emit("add-local-ip-address", ip)
        if not ok:
            raise RuntimeError("%s: add-local-ip-address %s refused" % (name, ip))
        self.candidates = []
        self.webrtc.connect("on-ice-candidate", self._on_candidate)
        self.errors = []
        self.bus = self.pipe.get_bus()
        self.url = None

    def _on_candidate(self, _el, mline, cand):
        self.candidates.append((mline, cand))

    def poll_bus(self):
        while True:
            msg = self.bus.pop_filtered(Gst.MessageType.ERROR | Gst.MessageType.WARNING)
            if msg is None:
                return
            if msg.type == Gst.MessageType.ERROR:
                err, dbg = msg.parse_error()
                self.errors.append("%s: %s (%s)" % (msg.src.get_name(), err.message, dbg))
                log("%s ERROR %s" % (self.name, self.errors[-1]))
            else:
                err, dbg = msg.parse_warning()
                log("%s warning from %s: %s" % (self.name, msg.src.get_name(), err.message))

    def _promise(self, signal, *args):
        p = Gst.Promise.new()
        self.webrtc.emit(signal, *args, p)
        res = p.wait()
        if res != Gst.PromiseResult.REPLIED:
            raise RuntimeError("%s: %s promise %s" % (self.name, signal, res))
        return p.get_reply()

    def _set_desc(self, signal, sdp_type, text):
        ok, msg = GstSdp.SDPMessage.new_from_text(text)
        if ok != GstSdp.SDPResult.OK:
            raise RuntimeError("%s: cannot parse SDP for %s" % (self.name, signal))
        desc = GstWebRTC.WebRTCSessionDescription.new(sdp_type, msg)
        reply = self._promise(signal, desc)
        if reply is not None and reply.has_field("error"):
            raise RuntimeError("%s: %s failed: %s" % (self.name, signal,
                                                      reply.get_value("error").message))

    def make_offer(self, timeout=10.0):
        reply = self._promise("create-offer", None)
        offer = reply.get_value("offer")
        text = offer.sdp.as_text()
        self._set_desc("set-local-description", GstWebRTC.WebRTCSDPType.OFFER, text)
        t0 = time.monotonic()
        while (self.webrtc.get_property("ice-gathering-state")
               != GstWebRTC.WebRTCICEGatheringState.COMPLETE):
            if time.monotonic() - t0 > timeout:
                raise RuntimeError("%s: ICE gathering did not complete" % self.name)
            time.sleep(0.02)
        local = self.webrtc.get_property("local-description").sdp.as_text()
        if "a=candidate" not in local:
            # Older webrtcbin keeps candidates out of the description: add them per m-line.
            local = add_candidates(local, self.candidates)
        return local

    def wait_sink_caps(self, timeout=10.0):
        """Waits until every webrtcbin sink pad has caps (its payloader produced output),
        so that the offer carries a=ssrc lines for every track."""
        t0 = time.monotonic()
        while True:
            pads = [p for p in self.webrtc.sinkpads]
            caps = [p.get_current_caps() for p in pads]
            if pads and all(c is not None and c.get_structure(0).has_field("ssrc")
                            for c in caps):
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise RuntimeError("%s: sink pads without caps after %.0fs" % (
                    self.name, timeout))
            self.poll_bus()
            time.sleep(0.02)

    def set_sendonly(self):
        for i in range(8):
            t = self.webrtc.emit("get-transceiver", i)
            if t is None:
                break
            t.set_property("direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)

    def apply_answer(self, text):
        self._set_desc("set-remote-description", GstWebRTC.WebRTCSDPType.ANSWER, text)

    def wait_connected(self, timeout=10.0):
        t0 = time.monotonic()
        while True:
            st = self.webrtc.get_property("connection-state")
            if st == GstWebRTC.WebRTCPeerConnectionState.CONNECTED:
                return time.monotonic() - t0
            if st == GstWebRTC.WebRTCPeerConnectionState.FAILED:
                raise RuntimeError("%s: connection failed" % self.name)
            if time.monotonic() - t0 > timeout:
                raise RuntimeError("%s: not connected after %.0fs (ice %s, state %s)" % (
                    self.name, timeout,
                    self.webrtc.get_property("ice-connection-state").value_nick,
                    st.value_nick))
            self.poll_bus()
            time.sleep(0.05)

    def stop(self):
        self.pipe.set_state(Gst.State.NULL)


def add_candidates(sdp, candidates):
    lines = sdp.rstrip("\r\n").split("\r\n")
    out, idx = [], -1
    for line in lines:
        if line.startswith("m="):
            idx += 1
        out.append(line)
        if line.startswith("a=mid:"):
            out += ["a=" + c for m, c in candidates if m == idx]
    return "\r\n".join(out) + "\r\n"


VP8_CAPS = "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000"
H264_CAPS = ("application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000,"
             "packetization-mode=(string)1,profile-level-id=(string)42e01f")


class Player(WebrtcPeer):
    def __init__(self, name, video_caps=VP8_CAPS):
        super().__init__(name)
        self.lock = threading.Lock()
        self.video_frames = 0
        self.video_right_size = 0
        self.sizes = set()
        self.audio_buffers = 0
        self.first_video = None
        self.first_audio = None
        self.t_post = None
        self.deadline = None
        self.rtp_pads = []
        for caps in (video_caps,
                     "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,"
                     "clock-rate=48000,encoding-params=(string)2"):
            self.webrtc.emit("add-transceiver",
                             GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
                             Gst.Caps.from_string(caps))
        self.webrtc.connect("pad-added", self._on_pad)

    def _on_pad(self, _el, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        caps = pad.get_current_caps() or pad.query_caps(None)
        self.rtp_pads.append(caps.to_string())
        log("%s: webrtcbin src pad %s" % (self.name, caps.to_string()))
        dec = Gst.ElementFactory.make("decodebin")
        dec.connect("pad-added", self._on_decoded_pad)
        self.pipe.add(dec)
        dec.sync_state_with_parent()
        pad.link(dec.get_static_pad("sink"))

    def _on_decoded_pad(self, _dec, pad):
        caps = pad.get_current_caps() or pad.query_caps(None)
        kind = caps.get_structure(0).get_name()
        q = Gst.ElementFactory.make("queue")
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("sync", False)
        self.pipe.add(q)
        self.pipe.add(sink)
        q.link(sink)
        q.sync_state_with_parent()
        sink.sync_state_with_parent()
        pad.link(q.get_static_pad("sink"))
        log("%s: decoded pad %s" % (self.name, kind))
        sink.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, self._count, kind)

    def _count(self, pad, info, kind):
        now = time.monotonic()
        if self.deadline is None or now > self.deadline:
            return Gst.PadProbeReturn.OK
        with self.lock:
            if kind.startswith("video/"):
                if self.first_video is None:
                    self.first_video = now - self.t_post
                self.video_frames += 1
                caps = pad.get_current_caps()
                if caps:
                    s = caps.get_structure(0)
                    size = (s.get_value("width"), s.get_value("height"))
                    self.sizes.add(size)
                    if size == (W, H):
                        self.video_right_size += 1
            elif kind.startswith("audio/"):
                if self.first_audio is None:
                    self.first_audio = now - self.t_post
                self.audio_buffers += 1
        return Gst.PadProbeReturn.OK


def run(server, seconds, variant):
    """variant "ssrc": the offer is made once media flows, so it has a=ssrc for both tracks.
    variant "nossrc": the offer is made before any media flowed (pipeline PAUSED), as an
    application that negotiates at once does: no a=ssrc lines, no mid header extension
    (webrtcbin adds none by default); the relay must map the streams by payload type."""
    ok = True
    room = "webrtcbin-" + variant
    log("=== room %s: webrtcbin VP8+Opus publisher (%s), webrtcbin player ===" % (
        room, variant))
    pub = WebrtcPeer("publisher", PUB_PIPELINE)
    player = None
    try:
        if variant == "ssrc":
            pub.pipe.set_state(Gst.State.PLAYING)
            pub.set_sendonly()
            pub.wait_sink_caps()
        else:
            pub.pipe.set_state(Gst.State.PAUSED)
            pub.set_sendonly()
        offer = pub.make_offer()
        has_ssrc = ["a=ssrc:" in m for m in offer.split("m=")[1:]]
        log("publisher offer (webrtcbin), a=ssrc per m-line %s:\n%s" % (
            has_ssrc, peers.sdp_summary(offer)))
        pub.url, answer = peers.whip_publish(server.base, room, offer)
        log("WHIP 201, Location %s; answer:\n%s" % (pub.url, peers.sdp_summary(answer)))
        pub.apply_answer(answer)
        pub.pipe.set_state(Gst.State.PLAYING)
        log("publisher connected in %.2fs" % pub.wait_connected())
        time.sleep(1.0)

        player = Player("player")
        player.pipe.set_state(Gst.State.PLAYING)
        offer = player.make_offer()
        log("player offer (webrtcbin):\n" + peers.sdp_summary(offer))
        player.t_post = time.monotonic()
        player.deadline = player.t_post + seconds
        player.url, answer = peers.whep_play(server.base, room, offer)
        log("WHEP 201, Location %s; answer:\n%s" % (player.url, peers.sdp_summary(answer)))
        player.apply_answer(answer)
        log("player connected in %.2fs" % player.wait_connected())
        while time.monotonic() < player.deadline + 0.3:
            pub.poll_bus()
            player.poll_bus()
            time.sleep(0.1)

        st = peers.get_stats(server.base)
        log("server stats:", {k: peers.stat(st, k) for k in (
            "peers", "rtp_in", "rtp_out", "bytes_out", "bad_packets", "keyframe_requests")})
        with player.lock:
            log("player: video %d frames (%d at %dx%d, sizes %s), audio %d buffers; "
                "first video %s, first audio %s after WHEP POST; rtp pads %s" % (
                    player.video_frames, player.video_right_size, W, H,
                    sorted(player.sizes), player.audio_buffers,
                    "%.2fs" % player.first_video if player.first_video else "never",
                    "%.2fs" % player.first_audio if player.first_audio else "never",
                    player.rtp_pads))
            if player.video_right_size < MIN_VIDEO:
                log("FAIL: player decoded %d %dx%d video frames, need >= %d" % (
                    player.video_right_size, W, H, MIN_VIDEO))
                ok = False
            if player.audio_buffers < MIN_AUDIO:
                log("FAIL: player decoded %d audio buffers, need >= %d" % (
                    player.audio_buffers, MIN_AUDIO))
                ok = False
        for p in (pub, player):
            if p.errors:
                log("FAIL: %s pipeline errors: %s" % (p.name, p.errors))
                ok = False
        for p, what in ((player, "WHEP"), (pub, "WHIP")):
            code = peers.resource_delete(p.url)
            log("%s DELETE -> %d" % (what, code))
            if code not in (200, 204):
                log("FAIL: %s DELETE returned %d" % (what, code))
                ok = False
    finally:
        if player:
            player.stop()
        pub.stop()
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("classrelay", nargs="?")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--variants", default="ssrc,nossrc")
    args = ap.parse_args()
    Gst.init(None)
    binary = peers.find_classrelay(args.classrelay)
    server = peers.Server(binary, name="webrtcbin-it", media_port=True)  # the shared port
    ok = False
    try:
        server.start()
        ok = True
        for variant in args.variants.split(","):
            v_ok = run(server, args.seconds, variant.strip())
            log("variant %s: %s" % (variant, "PASS" if v_ok else "FAIL"))
            ok &= v_ok
            if not server.alive():
                break
        if not server.alive():
            log("FAIL: server exited with %s" % server.proc.returncode)
            ok = False
    except Exception as e:  # noqa: BLE001
        log("FAIL: %s: %s" % (type(e).__name__, e))
        ok = False
    if not ok:
        print("server log tail:\n" + server.log_tail(80), flush=True)
    server.stop()
    print("RESULT:", "PASS" if ok else "FAIL", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
