#!/usr/bin/python3
"""A classroom camera for the tests: a GStreamer RTSP server (gst-rtsp-server, RFC 2326)
serving H.264 + AAC, as classroom recording systems and IP cameras do.

Usage: /usr/bin/python3 tests/integration/lib/rtsp_camera.py --port P [--user U --password W]
       [--path /cam] [--no-audio] [--tcp-only]
Serves rtsp://127.0.0.1:P/cam: videotestsrc (640x360, 30 fps, a moving ball) -> x264enc
(zerolatency, a keyframe every 30 frames) and audiotestsrc -> avenc_aac; with --user, Basic
authentication; with --tcp-only, RTP only interleaved in the RTSP connection (RFC 2326
§10.12), as behind a firewall that drops UDP. Prints "READY rtsp://..." (the URL without the password) once it listens,
then runs until killed. A test kills it and starts another on the same port to play a
camera switched off and on again.
"""
import argparse
import sys

import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

VIDEO = ("videotestsrc is-live=1 pattern=ball ! video/x-raw,width=640,height=360,framerate=30/1 "
         "! x264enc tune=zerolatency key-int-max=30 speed-preset=ultrafast bitrate=800 "
         "! rtph264pay name=pay0 pt=96")
AUDIO = ("audiotestsrc is-live=1 wave=sine freq=440 ! audioconvert ! audioresample "
         "! audio/x-raw,rate=48000,channels=1 ! avenc_aac ! rtpmp4apay name=pay1 pt=97")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/cam")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--no-audio", action="store_true")
    ap.add_argument("--tcp-only", action="store_true")
    args = ap.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer.new()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory.new()
    launch = VIDEO if args.no_audio else VIDEO + " " + AUDIO
    factory.set_launch("( " + launch + " )")
    factory.set_shared(True)
    if args.tcp_only:
        factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)
    if args.user:
        auth = GstRtspServer.RTSPAuth.new()
        token = GstRtspServer.RTSPToken.new()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "camera-user")
        basic = GstRtspServer.RTSPAuth.make_basic(args.user, args.password or "")
        auth.add_basic(basic, token)
        server.set_auth(auth)
        factory.add_role_from_structure(Gst.Structure.from_string(
            "camera-user, media.factory.access=(boolean)true, "
            "media.factory.construct=(boolean)true")[0])
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print("FAILED to listen on port %d" % args.port, flush=True)
        sys.exit(1)
    print("READY rtsp://%s127.0.0.1:%d%s" % (args.user + "@" if args.user else "", args.port,
                                              args.path), flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
