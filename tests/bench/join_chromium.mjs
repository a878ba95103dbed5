// Benchmark classroom: headless Chromium opens the classroom page of ROOM COUNT times in
// turn, each in a fresh browser context (a new machine), and prints the time from its join
// to its first decoded video frame as the page measures it (performance.now() at the join,
// at the first frame: window.classrelay.state.joinToFirstFrameMs), then the median. Used
// by forward_cpu.sh (JOIN=1) with hundreds of subscribers already watching.
//   node join_chromium.mjs http://127.0.0.1:8080 demo [COUNT]
import { chromium } from 'playwright-core';
const [base, room, count] = [process.argv[2], process.argv[3], +(process.argv[4] || 5)];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage', '--mute-audio', '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required'] });
const times = [];
for (let i = 0; i < count; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (process.env.JOIN_DEBUG)
    await page.addInitScript(() => {
      const poll = async () => {
        const pc = window.classrelay && window.classrelay.pc;
        if (pc) {
          let n = 0;
          (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') n += s.framesDecoded || 0; });
          if (n > 0 && !window.__decodedAt) window.__decodedAt = performance.now();
          const v = document.querySelector('#teacher-video');
          if (v && v.videoWidth > 0 && !window.__sizedAt) window.__sizedAt = performance.now();
        }
        if (!window.__decodedAt || !window.__sizedAt) setTimeout(poll, 10);
      };
      setTimeout(poll, 10);
    });
  await page.goto(`${base}/classroom.html?room=${room}&name=Bench%20classroom%20${i + 1}`);
  const t0 = Date.now();
  let ms = null;
  while (ms === null && Date.now() - t0 < 20000) {
    ms = await page.evaluate(() => window.classrelay && window.classrelay.state.joinToFirstFrameMs);
    if (ms === null) await new Promise((r) => setTimeout(r, 20));
  }
  times.push(ms === null ? Infinity : Math.round(ms));
  if (process.env.JOIN_DEBUG)
    console.log(JSON.stringify(await page.evaluate(async () => {
      const st = window.classrelay.state;
      const shown = document.querySelector('#teacher-video').srcObject?.getVideoTracks()[0]?.id;
      const out = { shown: window.classrelay.pc.getTransceivers().filter((t) => t.receiver.track.id === shown).map((t) => t.mid),
                    tracks: st.tracks.map((t) => [t.id, t.kind, t.source, t.codec, t.participant]),
                    phases: st.joinPhases, decodedBeforeFrame: Math.round(performance.now() - window.__decodedAt),
                    sizedBeforeFrame: Math.round(performance.now() - window.__sizedAt) };
      (await window.classrelay.pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video')
          out[s.mid] = { plis: s.pliCount, nacks: s.nackCount, lost: s.packetsLost, packets: s.packetsReceived,
                         frames: s.framesDecoded, keyframes: s.keyFramesDecoded };
      });
      return out;
    })));
  await context.close();
  await new Promise((r) => setTimeout(r, 1500)); // not in step with the teacher's keyframes
}
await browser.close();
const sorted = [...times].sort((a, b) => a - b);
console.log(`join → first frame ms: ${times.join(' ')} (median ${sorted[Math.floor(sorted.length / 2)]})`);
