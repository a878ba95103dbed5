#!/usr/bin/env node
// Record a lesson and replay it, all real parts (docs/recording.md): a classrelay server
// with a fresh data directory records what a teacher page publishes from Chromium's fake
// camera and microphone for ~35 s; the teacher stops and leaves; the recording must be
// packaged ("ready") within 120 s. Then web/replay.html must play it: frames decoded and
// audio decoded (and audible), playback from the middle after a seek, ←/→ keys, 1.5×
// speed measured against the wall clock; the hls.js and MP4 paths play too, and the MP4
// when hls.js cannot be loaded. The catalogue finds it by room, date and text. A comment
// added at the current position in one browser context must show, at its time, in a
// second context (phone-sized), and seek there on click. The teacher also shares a
// screen (courseware: getDisplayMedia, Chromium's fake screen) from SHARE_FROM_S to
// SHARE_TO_S of the lesson: the replay shows it as a second video, large while it was
// shared, kept in step with the lesson after a seek and at 1.5×, showing a picture (not
// black) in the shared stretch; hidden beside the MP4. Prints the figures.
//
// usage: node tests/integration/replay_page.mjs      (from the repository root)
//   CLASSRELAY_BIN  server binary (default build/signaling/classrelay); the recorder is
//                   found beside it (or CLASSRELAY_RECORDER)
//   CHROMIUM        browser (default /usr/bin/chromium)
//   LESSON_S        seconds the teacher publishes (default 35)
//   SHARE_FROM_S, SHARE_TO_S   when the teacher shares the screen (default 10, 24)
//   SCREENSHOTS     a folder: screenshots of the player with the courseware go there
// Exit status 0 when everything held, 1 otherwise (with the reason).
import fs from 'node:fs';
import path from 'node:path';
import {
  startServer, launchBrowser, openPage, pageStats, pageState, until, sleep, videoOut, repoRoot, runTest } from './lib/browser.mjs';

const ROOM = 'demo';
const LESSON_S = Number(process.env.LESSON_S || 35);
const SHARE_FROM_S = Number(process.env.SHARE_FROM_S || 10);
const SHARE_TO_S = Number(process.env.SHARE_TO_S || 24);
const pages = [];
let server = null;

function ok(msg) { console.log(`ok   ${msg}`); }
function fig(msg) { console.log(`fig  ${msg}`); }

async function api(p, init) {
  const res = await fetch(`${server.url}${p}`, { ...init, headers: { ...server.auth, ...(init?.headers || {}) } });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method || 'GET'} ${p}: HTTP ${res.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : null;
}

// What the replay page's <video> is doing.
function sample(page) {
  return page.evaluate(() => {
    const v = window.classrelay.video;
    const q = v.getVideoPlaybackQuality();
    return {
      t: v.currentTime, wall: performance.now(), frames: q.totalVideoFrames, dropped: q.droppedVideoFrames,
      audioBytes: v.webkitAudioDecodedByteCount, videoBytes: v.webkitVideoDecodedByteCount,
      w: v.videoWidth, h: v.videoHeight, paused: v.paused, duration: v.duration, readyState: v.readyState,
      rate: v.playbackRate, engine: window.classrelay.state.engine, error: window.classrelay.state.error,
    };
  });
}

// Opens the replay page for id and waits until its player has the media's metadata.
async function openReplay(browser, id, label, { query = '', viewport = null } = {}) {
  const page = await openPage(browser, `${server.url}/replay.html?id=${encodeURIComponent(id)}${query}`, label, { viewport, token: server.token });
  pages.push(page);
  await until(`${label}: player loaded`, async () => {
    const s = await sample(page);
    if (s.error) throw new Error(`${label}: ${s.error}`);
    return s.engine && s.readyState >= 1 && s.duration > 0 ? s : false;
  }, { timeoutMs: 20000, intervalMs: 200 });
  return page;
}

// Plays for ms and checks that the position and the decoded frames and audio advance.
async function checkPlays(page, label, ms = 2500) {
  if ((await sample(page)).paused) await page.click('#play');
  const a = await until(`${label}: playing`, async () => {
    const s = await sample(page);
    return !s.paused && s.readyState >= 3 ? s : false;
  }, { timeoutMs: 15000 });
  await sleep(ms);
  const b = await sample(page);
  const dt = b.t - a.t, frames = b.frames - a.frames, audio = b.audioBytes - a.audioBytes;
  if (!(dt > ms / 1000 * 0.5)) throw new Error(`${label}: currentTime ${a.t.toFixed(2)} → ${b.t.toFixed(2)} in ${ms} ms`);
  if (!(frames > 5)) throw new Error(`${label}: totalVideoFrames ${a.frames} → ${b.frames}`);
  if (!(audio > 0)) throw new Error(`${label}: no audio decoded (webkitAudioDecodedByteCount ${a.audioBytes} → ${b.audioBytes})`);
  fig(`${label}: ${b.engine}, ${b.w}x${b.h}, t ${a.t.toFixed(2)} → ${b.t.toFixed(2)} s, ` +
      `${frames} frames (${b.dropped} dropped in all), ${audio} audio bytes decoded in ${ms} ms`);
  return { a, b };
}

async function screenshot(page, name) {
  if (!process.env.SCREENSHOTS) return;
  fs.mkdirSync(process.env.SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(process.env.SCREENSHOTS, `${name}.png`), fullPage: true });
}

// The courseware video: its position, and how much picture it shows (the luma variance
// of a 160x90 copy; the grey filler outside the shared time has next to none).
function screenSample(page) {
  return page.evaluate(() => {
    const v = window.classrelay.screenVideo, m = window.classrelay.video;
    const out = { t: v.currentTime, main: m.currentTime, paused: v.paused, mainPaused: m.paused,
                  rate: v.playbackRate, readyState: v.readyState, w: v.videoWidth, h: v.videoHeight,
                  hidden: v.hidden, state: window.classrelay.state.screen };
    if (v.readyState >= 2 && v.videoWidth) {
      const c = document.createElement('canvas');
      c.width = 160; c.height = 90;
      const g = c.getContext('2d', { willReadFrequently: true });
      g.drawImage(v, 0, 0, 160, 90);
      const d = g.getImageData(0, 0, 160, 90).data;
      let n = 0, sum = 0, sum2 = 0;
      for (let i = 0; i < d.length; i += 4) {
        const y = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
        sum += y; sum2 += y * y; n++;
      }
      out.mean = sum / n;
      out.variance = sum2 / n - out.mean * out.mean;
    }
    return out;
  });
}

// Plays (if paused) and waits until the courseware plays within 0.5 s of the lesson.
async function inSync(page, label, { timeoutMs = 8000 } = {}) {
  if ((await sample(page)).paused) await page.click('#play');
  let last = null;
  const s = await until(`${label}: the courseware plays in step with the lesson`, async () => {
    last = await screenSample(page);
    if (last.hidden || !last.state) throw new Error(`${label}: no courseware video (${JSON.stringify(last)})`);
    return !last.paused && !last.mainPaused && last.readyState >= 2 && Math.abs(last.t - last.main) < 0.5 ? last : false;
  }, { timeoutMs }).catch((err) => { throw new Error(`${err.message}; last ${JSON.stringify(last)}`); });
  // and stays there
  await sleep(1500);
  const s2 = await screenSample(page);
  if (!(Math.abs(s2.t - s2.main) < 0.5) || s2.paused)
    throw new Error(`${label}: the courseware drifted: ${JSON.stringify(s2)}`);
  fig(`${label}: courseware ${s2.state.engine} ${s2.w}x${s2.h}, at ${s2.t.toFixed(2)} s, lesson ${s2.main.toFixed(2)} s ` +
      `(off by ${(s2.t - s2.main).toFixed(3)} s), rate ${s2.rate.toFixed(2)}`);
  return { s, s2 };
}

async function checkScreen(page, label, sharedS) {
  await until(`${label}: the courseware video`, async () => {
    const s = await screenSample(page);
    return !s.hidden && s.state && s.readyState >= 1 ? s : false;
  }, { timeoutMs: 15000 });
  // in the shared stretch: courseware large (automatic), a picture, in step after a seek
  const mid = (sharedS.from + sharedS.to) / 2;
  await page.evaluate((m) => window.classrelay.seek(m), mid - 2);
  const { s2 } = await inSync(page, `${label}, after a seek to ${(mid - 2).toFixed(1)} s (shared)`);
  if (s2.state.large !== 'screen' || !s2.state.shared)
    throw new Error(`${label}: in the shared time the courseware is not large: ${JSON.stringify(s2.state)}`);
  if (!(s2.variance > 50)) throw new Error(`${label}: the courseware shows no picture in the shared time (${JSON.stringify(s2)})`);
  fig(`${label}: courseware picture at ${s2.t.toFixed(1)} s: luma mean ${s2.mean.toFixed(1)}, variance ${s2.variance.toFixed(0)}`);
  await screenshot(page, 'replay-courseware-large');
  // 1.5×
  await page.selectOption('#speed', '1.5');
  await sleep(2000);
  const fast = await screenSample(page);
  if (!(Math.abs(fast.t - fast.main) < 0.5) || fast.paused || !(fast.rate > 1.3))
    throw new Error(`${label}: at 1.5× the courseware is off: ${JSON.stringify(fast)}`);
  fig(`${label}: at 1.5× off by ${(fast.t - fast.main).toFixed(3)} s (rate ${fast.rate.toFixed(2)})`);
  await page.selectOption('#speed', '1');
  // pause: the courseware pauses too, at the same place
  await page.click('#play');
  const paused = await until(`${label}: the courseware pauses with the lesson`, async () => {
    const s = await screenSample(page);
    return s.paused && s.mainPaused && Math.abs(s.t - s.main) < 0.3 ? s : false;
  }, { timeoutMs: 5000 });
  // before the share: the camera is large, the courseware grey
  await page.evaluate(() => window.classrelay.seek(2));
  const before = await until(`${label}: camera large before the share`, async () => {
    const s = await screenSample(page);
    return s.state.large === 'camera' && Math.abs(s.t - s.main) < 0.3 && !s.state.shared && s.mean !== undefined ? s : false;
  }, { timeoutMs: 8000 });
  await screenshot(page, 'replay-camera-large');
  fig(`${label}: paused together at ${paused.t.toFixed(2)} s; at 2 s the camera is large, ` +
      `courseware luma variance ${before.variance.toFixed(0)}`);
  // the viewer's choice holds
  await page.click('#layout-screen');
  await page.evaluate(() => window.classrelay.seek(4));
  await sleep(500);
  const chosen = (await screenSample(page)).state;
  if (chosen.large !== 'screen' || chosen.user !== 'screen') throw new Error(`${label}: the chosen layout did not hold: ${JSON.stringify(chosen)}`);
  await page.click('#layout-auto');
  const back = (await screenSample(page)).state;
  if (back.large !== 'camera' || back.user) throw new Error(`${label}: back to automatic: ${JSON.stringify(back)}`);
  ok(`${label}: courseware in step, large while shared, the viewer's layout choice holds`);
  await page.click('#play');   // playing again, as before
  await until(`${label}: playing again`, async () => !(await sample(page)).paused, { timeoutMs: 3000 });
}

async function main() {
  if (!fs.existsSync(path.join(repoRoot, 'web', 'node_modules', 'hls.js', 'dist', 'hls.min.js')))
    console.log('note: web/node_modules/hls.js is missing (cd web && npm ci); the hls.js check will fail');
  // the lesson ends 3 s after the teacher's tracks go (default 20 s)
  server = await startServer({ env: { CLASSRELAY_RECORD_END_AFTER: '3' } });
  console.log(`server ${server.url} (data ${server.dataDir})`);
  // getDisplayMedia picks the (fake) screen without a dialog
  const browser = await launchBrowser(['--auto-select-desktop-capture-source=Entire screen']);

  // ---- the lesson: a teacher publishes, the page shows REC ----
  const teacher = await openPage(browser, `${server.url}/teacher.html?room=${ROOM}&name=Replay%20teacher`, 'teacher');
  pages.push(teacher);
  await until('teacher: camera and join', async () => {
    const st = await pageState(teacher);
    return st.joined && !(await teacher.isDisabled('#start'));
  });
  await teacher.click('#start');
  const t0 = Date.now();
  await until('teacher: publishing connected and encoding', async () => {
    const st = await pageState(teacher);
    const v = videoOut(await pageStats(teacher));
    return st.publish === 'connected' && v && v.framesEncoded > 0;
  }, { timeoutMs: 30000 });
  // the largest picture the camera sends (with simulcast, its top layer)
  const top = await until('teacher: the size of the top layer', async () => {
    const layers = (await pageStats(teacher)).pub.outbound.filter((o) => o.kind === 'video' && o.frameWidth);
    const best = layers.sort((x, y) => y.frameWidth * y.frameHeight - x.frameWidth * x.frameHeight)[0];
    return best && best.frameHeight >= 360 ? { w: best.frameWidth, h: best.frameHeight } : false;
  }, { timeoutMs: 20000, intervalMs: 500 }).catch(() => null);
  ok(`teacher publishing, top layer ${top ? `${top.w}x${top.h}` : 'below 360p'}`);
  const recEv = await until('teacher page: "recording" event and the REC indicator', async () => {
    const st = await pageState(teacher);
    return st.recording.state === 'recording' && await teacher.isVisible('#rec') ? st.recording : false;
  }, { timeoutMs: 15000 });
  ok(`teacher page shows REC (recording ${recEv.id})`);
  const listed = await until('the catalogue lists the lesson as recording', async () => {
    const l = await api(`/api/v1/recordings?room=${ROOM}`);
    return l.recordings.find((r) => r.id === recEv.id && r.state === 'recording');
  }, { timeoutMs: 10000 });
  ok(`catalogue: ${listed.id} ${listed.state}`);

  // courseware for part of the lesson: a second video track, recorded as the screen
  const waitFor = async (s) => { const ms = s * 1000 - (Date.now() - t0); if (ms > 0) await sleep(ms); };
  await waitFor(SHARE_FROM_S);
  const videosOut = async () => (await pageStats(teacher)).pub.outbound.filter((o) => o.kind === 'video').length;
  const camOnly = await videosOut();
  await teacher.click('#share');
  const shareAt = (Date.now() - t0) / 1000;
  await until('teacher: sharing the screen', async () =>
    await teacher.isVisible('#screen-tile') && await videosOut() > camOnly, { timeoutMs: 15000, intervalMs: 250 });
  ok(`teacher shares the screen from ${shareAt.toFixed(1)} s`);
  await waitFor(SHARE_TO_S);
  await teacher.click('#share');
  const unshareAt = (Date.now() - t0) / 1000;
  await until('teacher: sharing stopped', async () => teacher.isHidden('#screen-tile'), { timeoutMs: 10000 });
  ok(`teacher stops sharing at ${unshareAt.toFixed(1)} s`);

  const left = LESSON_S * 1000 - (Date.now() - t0);
  if (left > 0) await sleep(left);
  await teacher.click('#stop');
  const stopped = Date.now();
  const afterStop = await until('teacher page: recording state after stop', async () => {
    const s = (await pageState(teacher)).recording.state;
    return s !== 'recording' ? s : false;
  }, { timeoutMs: 30000 }).catch(() => 'still recording');
  fig(`teacher page after stop: ${afterStop} (${Date.now() - stopped} ms)`);
  await teacher.context().close();
  pages.splice(pages.indexOf(teacher), 1);
  ok(`teacher published ${((stopped - t0) / 1000).toFixed(1)} s, stopped and left`);

  // ---- packaging ----
  let lastProgress = null;
  const rec = await until('the recording to be ready', async () => {
    const r = await api(`/api/v1/recordings/${encodeURIComponent(recEv.id)}`);
    if (r.state === 'failed') throw new Error(`packaging failed: ${r.error}`);
    if (r.state === 'packaging' && r.progress !== lastProgress) {
      lastProgress = r.progress;
      console.log(`     packaging ${r.progress} %`);
    }
    return r.state === 'ready' ? r : false;
  }, { timeoutMs: 120000, intervalMs: 1000 });
  fig(`ready ${((Date.now() - stopped) / 1000).toFixed(1)} s after stop: duration ${rec.duration_ms} ms, ` +
      `${rec.size_bytes} bytes, tracks ${JSON.stringify(rec.tracks)}, renditions ` +
      `${(rec.renditions || []).map((r) => `${r.name} ${r.width}x${r.height}`).join(', ')}`);
  if (!rec.hls || !rec.mp4) throw new Error(`ready without hls or mp4: ${JSON.stringify(rec)}`);
  const lessonS = (stopped - t0) / 1000;
  if (!(rec.duration_ms > (lessonS - 8) * 1000 && rec.duration_ms < (lessonS + 25) * 1000))
    throw new Error(`duration ${rec.duration_ms} ms for a ${lessonS.toFixed(1)} s lesson`);
  // the replay keeps the picture the teacher sent: the high rendition is as tall as the
  // camera's top layer (up to 720p), not a lower simulcast layer the recording began with
  const hi = [...(rec.renditions || [])].sort((x, y) => y.height - x.height)[0];
  if (top && !(hi && hi.height >= Math.min(720, top.h)))
    throw new Error(`the replay's best rendition is ${hi ? `${hi.width}x${hi.height}` : 'missing'}, ` +
      `the teacher sent ${top.w}x${top.h}`);
  // the shared screen: its own stream, shared roughly while the teacher shared
  if (!rec.screen || !rec.screen.url || !(rec.screen.shared || []).length)
    throw new Error(`no shared screen in REC: ${JSON.stringify(rec.screen)}`);
  const shared = rec.screen.shared.slice().sort((x, y) => y.duration_ms - x.duration_ms)[0];
  const sharedS = { from: shared.at_ms / 1000, to: (shared.at_ms + shared.duration_ms) / 1000 };
  fig(`screen ${rec.screen.width}x${rec.screen.height}, shared ${JSON.stringify(rec.screen.shared)} ` +
      `(the teacher shared ${shareAt.toFixed(1)}–${unshareAt.toFixed(1)} s after starting)`);
  if (!(sharedS.to - sharedS.from > (unshareAt - shareAt) - 6 && sharedS.to - sharedS.from < (unshareAt - shareAt) + 6))
    throw new Error(`shared ${sharedS.from}–${sharedS.to} s for a ${(unshareAt - shareAt).toFixed(1)} s share`);
  const range = await fetch(`${server.url}${rec.mp4}`, { headers: { ...server.auth, Range: 'bytes=0-99' } });
  if (range.status !== 206) throw new Error(`MP4 Range request: HTTP ${range.status}`);
  await range.arrayBuffer();
  ok(`MP4 answers a Range request with 206`);

  // ---- the catalogue: search by room, date and text, then open the lesson ----
  const list = await openPage(browser, `${server.url}/replay.html`, 'catalogue', { token: server.token });
  pages.push(list);
  // the list and its summary read in one step: two reads could straddle the page's render
  const listed2 = async (what) => until(`catalogue: ${what}`, async () => {
    const got = await list.evaluate(() => ({
      st: [...document.querySelectorAll('#recordings li')].map((e) => ({
        id: e.dataset.id, state: e.querySelector('.badge')?.textContent })),
      summary: document.querySelector('#list-summary')?.textContent || '',
    }));
    return got.summary ? got : false;
  }, { timeoutMs: 10000 });
  const today = await list.evaluate(() => {
    const d = new Date();
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  });
  await list.fill('input[name=room]', ROOM);
  await list.fill('input[name=from]', today);
  await list.fill('input[name=to]', today);
  await list.click('#search button[type=submit]');
  await list.waitForURL(/room=demo/);
  let got = await listed2('search by room and date');
  const item = got.st.find((i) => i.id === rec.id);
  if (!item || item.state !== 'ready') throw new Error(`catalogue search room+date: ${JSON.stringify(got)}`);
  await list.fill('input[name=q]', 'no-such-lesson-text-42');
  await list.click('#search button[type=submit]');
  await list.waitForURL(/q=no-such/);
  got = await listed2('a text search that finds nothing');
  if (got.st.length) throw new Error(`text search for nonsense found ${JSON.stringify(got)}`);
  ok(`catalogue: found by room and today's date ("${item.state}"), nothing for a nonsense text`);
  await list.goto(`${server.url}/replay.html?room=${ROOM}`);
  await list.click(`#recordings li[data-id="${rec.id}"] a`);
  await list.waitForURL(/replay\.html\?id=/);
  await until('catalogue click: the player', async () => (await sample(list)).readyState >= 1, { timeoutMs: 15000 });
  await list.context().close();
  pages.splice(pages.indexOf(list), 1);
  ok('a click in the catalogue opens the player');

  // ---- replay in a first context ----
  const a = await openReplay(browser, rec.id, 'researcher A');
  const dl = await a.getAttribute('#download', 'href');
  if (dl !== rec.mp4) throw new Error(`download link ${dl}, expected ${rec.mp4}`);
  // audio level through an analyser (decoded bytes say audio is there, this that it is not silence)
  await a.evaluate(() => {
    const v = window.classrelay.video;
    const ctx = new AudioContext();
    const an = ctx.createAnalyser();
    an.fftSize = 2048;
    ctx.createMediaElementSource(v).connect(an);
    an.connect(ctx.destination);
    const buf = new Float32Array(an.fftSize);
    window.__audio = { peak: 0, samples: 0 };
    setInterval(() => {
      an.getFloatTimeDomainData(buf);
      for (const x of buf) window.__audio.peak = Math.max(window.__audio.peak, Math.abs(x));
      window.__audio.samples += buf.length;
    }, 40);
  });
  await checkPlays(a, 'from the start', 3000);
  const level = await a.evaluate(() => window.__audio);
  fig(`audio peak ${level.peak.toFixed(3)} over ${level.samples} analysed samples`);
  if (!(level.peak > 0.01)) throw new Error(`the replay's audio is silent (peak ${level.peak})`);

  const dur = (await sample(a)).duration;
  const mid = dur / 2;
  await a.evaluate((m) => window.classrelay.seek(m), mid);
  const seek = await checkPlays(a, `after a seek to ${mid.toFixed(1)} s`, 2000);
  if (!(seek.a.t >= mid - 1 && seek.a.t < mid + 4)) throw new Error(`seek to ${mid} played from ${seek.a.t}`);

  const beforeKey = (await sample(a)).t;
  await a.keyboard.press('ArrowLeft');
  await a.keyboard.press('ArrowLeft');
  const afterKey = (await sample(a)).t;
  if (!(afterKey < beforeKey - 8 && afterKey > beforeKey - 12))
    throw new Error(`← ← moved ${beforeKey.toFixed(2)} → ${afterKey.toFixed(2)}`);
  await a.keyboard.press(' ');
  await until('space pauses', async () => (await sample(a)).paused, { timeoutMs: 3000 });
  await a.keyboard.press(' ');
  await until('space plays', async () => !(await sample(a)).paused, { timeoutMs: 3000 });
  ok(`keys: ← ← ${beforeKey.toFixed(1)} → ${afterKey.toFixed(1)} s, space pauses and plays`);

  // speed 1.5×: media time runs 1.5 times as fast as the wall clock
  await a.evaluate(() => window.classrelay.seek(2));
  await a.selectOption('#speed', '1.5');
  await sleep(1000);
  const s0 = await sample(a);
  await sleep(3000);
  const s1 = await sample(a);
  const ratio = (s1.t - s0.t) / ((s1.wall - s0.wall) / 1000);
  fig(`speed 1.5×: ${(s1.t - s0.t).toFixed(2)} s of media in ${((s1.wall - s0.wall) / 1000).toFixed(2)} s, ratio ${ratio.toFixed(2)}`);
  if (s1.rate !== 1.5 || !(ratio > 1.25 && ratio < 1.75)) throw new Error(`speed 1.5× gave a ratio ${ratio} (rate ${s1.rate})`);
  await a.selectOption('#speed', '1');

  await checkScreen(a, 'researcher A', sharedS);

  // a comment at the current position
  await a.keyboard.press(' ');
  await until('paused for the comment', async () => (await sample(a)).paused, { timeoutMs: 3000 });
  const text = `Replay test comment ${Date.now()}`;
  await a.fill('#author', 'Researcher A');
  await a.fill('#note-text', text);
  const atS = (await sample(a)).t;
  await a.click('#add-note');
  const note = await until('researcher A: the comment in the list', async () => {
    const st = await a.evaluate(() => window.classrelay.state.notes);
    return st.find((n) => n.text === text);
  }, { timeoutMs: 10000 });
  if (Math.abs(note.at_ms / 1000 - atS) > 0.5) throw new Error(`comment at ${note.at_ms} ms, position was ${atS} s`);
  const remembered = await a.evaluate(() => localStorage.getItem('classrelay.replay.author'));
  if (remembered !== 'Researcher A') throw new Error(`author not remembered: ${remembered}`);
  ok(`comment added at ${note.at_ms} ms (id ${note.id}), author remembered`);

  // ---- a second researcher, on a phone-sized screen ----
  const b = await openReplay(browser, rec.id, 'researcher B (phone)', { viewport: { width: 390, height: 844 } });
  const shown = await until('researcher B: the comment at its time', async () => {
    const items = await b.$$eval('#notes li', (els) => els.map((e) => ({
      at: e.dataset.at, time: e.querySelector('button.at')?.textContent, text: e.querySelector('.note-text')?.textContent,
    })));
    return items.find((i) => i.text === text);
  }, { timeoutMs: 10000 });
  const mmss = `${Math.floor(note.at_ms / 60000)}:${String(Math.floor(note.at_ms / 1000) % 60).padStart(2, '0')}`;
  if (Number(shown.at) !== note.at_ms || shown.time !== mmss)
    throw new Error(`researcher B sees the comment at ${JSON.stringify(shown)}, expected ${note.at_ms} ms (${mmss})`);
  const overflow = await b.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 1) throw new Error(`the phone-sized page is ${overflow} px wider than the screen`);
  // on a phone the two videos are stacked, each the width of the screen
  const boxes = await until('researcher B: both videos', async () => {
    const bx = await b.evaluate(() => ['#video', '#screen'].map((s) => {
      const r = document.querySelector(s).getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, w: r.width, h: r.height };
    }));
    return bx[1].w > 0 ? bx : false;
  }, { timeoutMs: 10000 });
  if (!(boxes.every((x) => x.w >= 390 - 30) && (boxes[0].bottom <= boxes[1].top + 1 || boxes[1].bottom <= boxes[0].top + 1)))
    throw new Error(`phone: the lesson and the courseware are not stacked: ${JSON.stringify(boxes)}`);
  await screenshot(b, 'replay-phone');
  await b.locator('#notes li', { hasText: text }).locator('button.at').click();
  await until('researcher B: the click seeks to the comment', async () =>
    Math.abs((await sample(b)).t - note.at_ms / 1000) < 0.5, { timeoutMs: 5000 });
  await checkPlays(b, 'researcher B from the comment', 2000);
  const viaApi = await api(`/api/v1/recordings/${encodeURIComponent(rec.id)}/notes`);
  if (!viaApi.notes.some((n) => n.id === note.id)) throw new Error('the comment is not in GET .../notes');
  ok(`researcher B (390 px wide, no overflow) sees "${text}" at ${shown.time} and plays from it`);

  // ---- the other ways of playing: hls.js (web/node_modules) and the MP4 file ----
  for (const player of ['hlsjs', 'mp4']) {
    const p = await openReplay(browser, rec.id, `player=${player}`, { query: `&player=${player}&t=5` });
    const s = await sample(p);
    if (s.engine !== player) {
      throw new Error(`player=${player} fell back to ${s.engine}` +
        (player === 'hlsjs' ? ' (is hls.js installed? cd web && npm ci)' : ''));
    }
    await checkPlays(p, `player=${player} from t=5`, 2000);
    if (player === 'mp4') {
      const st = await p.evaluate(() => window.classrelay.state.screen);
      if (st || await p.isVisible('#screen')) throw new Error(`player=mp4 shows the courseware: ${JSON.stringify(st)}`);
      ok('player=mp4: no courseware video');
    } else {
      await inSync(p, `player=${player}`);
    }
    if (player === 'hlsjs') {
      const levels = await p.evaluate(() => window.classrelay.state.level);
      await p.selectOption('#rendition', 'lo');
      const lo = (rec.renditions || []).find((r) => r.name === 'lo');
      if (lo) {
        await until('hls.js: the low rendition after choosing it', async () =>
          (await sample(p)).h === lo.height, { timeoutMs: 15000 });
        ok(`hls.js switches to the low rendition (${lo.width}x${lo.height}) from level ${levels}`);
      }
    }
    await p.context().close();
    pages.splice(pages.indexOf(p), 1);
  }
  // hls.js cannot be loaded (a proxy or a half-installed server): the MP4 still plays
  {
    const ctx = await browser.newContext();
    await ctx.addCookies([{ name: 'cr_session', value: server.token, url: server.url }]);
    await ctx.route('**/node_modules/hls.js/**', (route) => route.abort());
    const p = await ctx.newPage();
    p.label = 'no hls.js';
    p.consoleLines = [];
    p.on('console', (m) => p.consoleLines.push(`${m.type()}: ${m.text()}`));
    pages.push(p);
    await p.goto(`${server.url}/replay.html?id=${encodeURIComponent(rec.id)}&player=hlsjs`);
    await until('no hls.js: the MP4 instead', async () => (await sample(p)).engine === 'mp4' &&
      (await sample(p)).readyState >= 1, { timeoutMs: 20000 });
    const note = await p.textContent('#player-note');
    if (!note) throw new Error('no hls.js: the page does not say it plays the MP4 instead');
    await checkPlays(p, 'no hls.js, MP4 fallback', 2000);
    await ctx.close();
    pages.splice(pages.indexOf(p), 1);
    ok(`without hls.js the page plays the MP4 and says so ("${note}")`);
  }
  const engine = (await sample(b)).engine;
  ok(`default player here: ${engine}`);
}

await runTest('replay_page', main, { pages, server: () => server });
