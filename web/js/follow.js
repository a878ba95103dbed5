// A second, muted video that follows the lesson video on the replay page (replay.js): the
// shared screen (REC.screen), the stage (REC.stage). It plays the way the lesson does
// (native HLS, or hls.js with the lesson's Hls class; never beside the MP4, which has no
// second picture), and the lesson video is its clock: play, pause, seeks and speed follow.
// Small drift is made up by playing a little faster or slower; more than DRIFT_MAX moves
// it, aimed ahead by what its seeks take while playing.
import { log } from './common.js';

const DRIFT_MAX = 0.25; // seconds a follower may be off the lesson before it is moved

export class Follower {
  // side: the following <video>; lead: the lesson <video>; onFail(err): it cannot play.
  constructor(side, lead, { name, onFail }) {
    Object.assign(this, { side, lead, name, onFail });
    this.hls = null;
    this.kind = null;     // 'native' | 'hlsjs' while it plays, else null
    this.seekFrom = 0;
    this.seekTakes = 0.15; // seconds, learnt from its seeks
    side.addEventListener('loadedmetadata', () => this.sync());
    side.addEventListener('seeked', () => {
      const took = (performance.now() - this.seekFrom) / 1000;
      if (this.seekFrom && took < 3) this.seekTakes = 0.5 * this.seekTakes + 0.5 * took;
      this.seekFrom = 0;
      this.sync();
    });
    side.addEventListener('error', () => {
      if (!this.kind || this.kind === 'hlsjs') return; // hls.js reports its own errors
      const e = side.error;
      this.fail(new Error(e ? `${e.code} ${e.message || ''}`.trim() : 'media error'));
    });
  }

  // Plays url the lesson's way (kind: the lesson engine's; Hls: the hls.js class when that
  // is it). False when there is nothing to follow with.
  start(url, kind, Hls) {
    this.stop();
    if (!url || !kind || kind === 'mp4') return false;
    this.kind = kind;
    this.side.muted = true;
    if (kind === 'hlsjs' && Hls) {
      const hls = new Hls({ maxBufferLength: 20, maxMaxBufferLength: 40 });
      const tries = { recovered: 0, retried: 0 };
      this.hls = hls;
      hls.on(Hls.Events.ERROR, (_, data) => {
        if (!data.fatal || this.hls !== hls) return;
        if (data.type === Hls.ErrorTypes.MEDIA_ERROR && tries.recovered++ < 2) hls.recoverMediaError();
        else if (data.type === Hls.ErrorTypes.NETWORK_ERROR && tries.retried++ < 3) {
          setTimeout(() => { if (this.hls === hls) hls.startLoad(); }, 1000 * tries.retried);
        } else this.fail(new Error(`hls.js: ${data.details}`));
      });
      hls.loadSource(url);
      hls.attachMedia(this.side);
    } else {
      this.side.src = url;
    }
    return true;
  }

  stop() {
    if (this.hls) this.hls.destroy();
    this.hls = null;
    this.kind = null;
    this.side.removeAttribute('src');
    this.side.load();
  }

  fail(err) {
    log(`${this.name} failed:`, err.message || err);
    this.stop();
    this.onFail(err);
  }

  // Follows the lesson video now: position, speed, playing or not.
  sync() {
    if (!this.kind) return;
    const s = this.side, v = this.lead;
    const rate = v.playbackRate;
    if (s.defaultPlaybackRate !== rate) s.defaultPlaybackRate = rate;
    const runs = !v.paused && !v.ended && !v.seeking && v.readyState >= 3;
    if (s.readyState >= 1 && !s.seeking) {
      const end = Number.isFinite(s.duration) && s.duration > 0.1 ? s.duration - 0.05 : Infinity;
      const want = Math.min(v.currentTime, end);
      const drift = s.currentTime - want;
      if (Math.abs(drift) > DRIFT_MAX) {
        this.seekFrom = performance.now();
        s.currentTime = Math.min(want + (runs ? Math.min(1, this.seekTakes) * rate : 0), end);
        s.playbackRate = rate;
      } else {
        const nudge = runs && Math.abs(drift) > 0.04 ? (drift > 0 ? 0.9 : 1.1) : 1;
        if (s.playbackRate !== rate * nudge) s.playbackRate = rate * nudge;
      }
    }
    if (runs) {
      if (s.paused && s.readyState >= 1) s.play().catch(() => {});
    } else if (!s.paused) {
      s.pause();
    }
  }

  get state() {
    const s = this.side;
    return {
      engine: this.kind, currentTime: s.currentTime, paused: s.paused, rate: s.playbackRate,
      readyState: s.readyState, width: s.videoWidth, height: s.videoHeight,
    };
  }
}
