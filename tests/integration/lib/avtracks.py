"""Synthetic aiortc media for the integration tests, and what to measure in decoded frames.

A 640x360 30 fps picture with a bright bar that moves 8 px per frame (so a decoded frame
tells where in the stream it is), a 440 Hz sine in 20 ms Opus-sized frames, the bar's
position in a decoded frame, whether a decoded audio frame is loud, a receiving side's
offer set up, a player that counts decoded frames, and a wait for a peer connection to
connect. Used by aiortc_whip_whep.py, stage_whip.py, admission.py and cluster_redirect.py.
Import it after peers.patch_aioice_loopback().
"""
import asyncio
import fractions
import time

import numpy as np
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack
from av import AudioFrame, VideoFrame

W, H = 640, 360
BAR_W = 32
BAR_STEP = 8           # pixels per frame


class MovingBarTrack(VideoStreamTrack):
    """640x360 yuv420p frames: dark background, a bright vertical bar moving right."""

    def __init__(self):
        super().__init__()
        self.n = 0
        self.sent = 0

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        img = np.full((H * 3 // 2, W), 128, dtype=np.uint8)   # U, V = 128 (grey)
        img[:H, :] = 16
        x = (self.n * BAR_STEP) % (W - BAR_W)
        img[:H, x:x + BAR_W] = 235
        self.n += 1
        frame = VideoFrame.from_ndarray(img, format="yuv420p")
        frame.pts = pts
        frame.time_base = time_base
        self.sent += 1
        return frame


class SineTrack(AudioStreamTrack):
    """48 kHz mono s16 440 Hz sine in 20 ms frames."""

    RATE = 48000
    SAMPLES = 960

    def __init__(self):
        super().__init__()
        self._t = 0
        self._start = None

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.time()
        else:
            wait = self._start + (self._t / self.RATE) - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        t = (np.arange(self.SAMPLES) + self._t) / self.RATE
        pcm = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16).reshape(1, -1)
        frame = AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = self.RATE
        frame.pts = self._t
        frame.time_base = fractions.Fraction(1, self.RATE)
        self._t += self.SAMPLES
        return frame


def bar_position(frame):
    """Column of the bright bar in a decoded frame, or None if there is no clear bar."""
    y = frame.to_ndarray(format="gray")
    cols = y.mean(axis=0)
    if cols.max() - np.median(cols) < 60:
        return None
    return int(np.argmax(cols)) // BAR_STEP


def audio_loud(frame):
    """A decoded audio frame with sound in it (RMS over 500 of 32767): the sine, not silence."""
    pcm = frame.to_ndarray().astype(np.float64)
    return bool(np.sqrt(np.mean(pcm * pcm)) > 500)


def receive_av(pc, tasks, consume):
    """Asks pc for one video and one audio track, received only; each track that arrives is
    read by consume(track) on a task of its own, kept in tasks."""
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")

    @pc.on("track")
    def on_track(track):
        tasks.append(asyncio.ensure_future(consume(track)))


class Player:
    """aiortc receiving one video and one audio track (a WHEP player); counts decoded video
    frames."""

    def __init__(self):
        from aiortc import RTCPeerConnection
        self.pc = RTCPeerConnection()
        self.frames = 0
        self.tasks = []

    async def offer(self):
        receive_av(self.pc, self.tasks, self._consume)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def _consume(self, track):
        try:
            while True:
                await track.recv()
                if track.kind == "video":
                    self.frames += 1
        except MediaStreamError:
            pass

    async def close(self):
        for t in self.tasks:
            t.cancel()
        await self.pc.close()


async def wait_connected(pc, timeout, who):
    """Seconds until pc is connected; RuntimeError if it fails or takes over timeout."""
    t0 = time.monotonic()
    while pc.connectionState != "connected":
        if pc.connectionState in ("failed", "closed"):
            raise RuntimeError("%s: connection %s" % (who, pc.connectionState))
        if time.monotonic() - t0 > timeout:
            raise RuntimeError("%s: not connected after %.0fs (ice=%s state=%s)" % (
                who, timeout, pc.iceConnectionState, pc.connectionState))
        await asyncio.sleep(0.05)
    return time.monotonic() - t0
