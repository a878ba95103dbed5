#!/usr/bin/python3
"""Benchmark teacher that costs almost no CPU: publishes by WHIP a pre-encoded 1280x720 30 fps
VP8 clip (~1.5 Mbit/s, keyframe every 2 s; forward_bench.py encodes it once) paced by
clocksync, and live Opus, from webrtcbin, gathering on one address. Used by saturate.sh,
where an encoding browser would take the CPU the relay's workers are measured on.

Usage: /usr/bin/python3 tests/bench/publish_clip.py BASE_URL ROOM SECONDS [LOCAL_IP]
"""
import sys
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

import os
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from forward_bench import CLIP_SECONDS, clip_path, pub_pipeline  # noqa: E402
import peers  # noqa: E402  (forward_bench put tests/integration/lib on the path)
from peers import log  # noqa: E402
from webrtcbin_whip_whep import WebrtcPeer  # noqa: E402
from gi.repository import Gst  # noqa: E402


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    base, room, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    ip = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1"
    if seconds + 5 > CLIP_SECONDS:
        sys.exit("the clip lasts %d s" % CLIP_SECONDS)
    peers.ICE_ADDRESSES.add(urllib.parse.urlparse(base).hostname)  # the relay's, on purpose
    Gst.init(None)
    pub = WebrtcPeer("publisher", pub_pipeline(clip_path(1600000)), ip=ip)
    pub.pipe.set_state(Gst.State.PLAYING)
    pub.set_sendonly()
    pub.wait_sink_caps()  # offer with a=ssrc for both tracks
    pub.url, answer = peers.whip_publish(base, room, pub.make_offer())
    pub.apply_answer(answer)
    log("publisher connected in %.2fs" % pub.wait_connected())
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pub.poll_bus()
        time.sleep(0.5)
    pub.pipe.set_state(Gst.State.NULL)


if __name__ == "__main__":
    main()
