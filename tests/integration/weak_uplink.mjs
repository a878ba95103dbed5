#!/usr/bin/env node
// A classroom on a weak uplink, called on stage (issue 11): classroom S sends its camera and
// microphone back over the weak profile in the classroom → relay direction (600 kbit/s,
// 80 ± 20 ms, 3 % loss); classroom G, on a good link, watches the stage; the teacher
// (in the server's namespace) shows S large. Over STAGE_S seconds of S's turn it measures
// and prints, at the teacher and at G: S's video frames per second (median of 1 s windows)
// and freezes, S's audio concealed; and S's own send side (what Chromium's congestion
// control made of the link, from the relay's feedback). It asserts that S's audio is heard
// at both (concealed ≤ 2 %) and its video moves (≥ 15 frames a second, median).
//
// usage (root: namespaces and TUN devices): node tests/integration/weak_uplink.mjs
//   CLASSRELAY_BIN, LINKEMU as for weak_links.mjs
// Exit status 0 when everything held, 1 otherwise; everything it started is removed.
import {
  startServer, launchBrowser, CAMERA_30FPS, openPage, pageStats, pageState, until, sleep, runTest,
} from './lib/browser.mjs';
import { fpsMedian } from './lib/figures.mjs';
import { startNetwork } from './lib/netem.mjs';

const ROOM = 'demo';
const STAGE_S = 30;
const pages = [];
let server = null;
const failures = [];

function ok(msg) { console.log(`ok   ${msg}`); }
function fail(msg) { console.log(`FAIL ${msg}`); failures.push(msg); }

async function classroom(leaf, name) {
  const origin = `http://${leaf.hub_ip}:${server.port}`;
  const b = await launchBrowser([CAMERA_30FPS, `--unsafely-treat-insecure-origin-as-secure=${origin}`], { netns: leaf.ns });
  const page = await openPage(b, `${origin}/classroom.html?room=${ROOM}&name=${encodeURIComponent(name)}`, name);
  pages.push(page);
  await until(`${name}: joined with its stage lines`, async () => {
    const st = await pageState(page);
    return st.joined && st.stageMids && st.stageMids.every((m) => m !== null);
  }, { timeoutMs: 30000 });
  await page.click('#sound');
  return page;
}

// S as one page receives it: at the teacher the classroom's inbound lines, at G the stage
// lines (stage_lesson.mjs).
async function received(page, stage) {
  const s = await pageStats(page);
  let vin = s.sub.inbound.filter((i) => i.kind === 'video');
  let ain = s.sub.inbound.filter((i) => i.kind === 'audio');
  if (stage) {
    const mids = (await pageState(page)).stageMids;
    vin = vin.filter((i) => mids.includes(i.mid));
    ain = ain.filter((i) => mids.includes(i.mid));
  }
  const v = vin.sort((a, b) => b.framesDecoded - a.framesDecoded)[0] || {};
  const a = ain.sort((x, y) => y.packetsReceived - x.packetsReceived)[0] || {};
  return {
    t: Date.now() / 1000, frames: v.framesDecoded || 0, h: v.frameHeight || 0,
    freezes: v.freezeCount || 0, concealed: a.concealedSamples || 0, samples: a.totalSamplesReceived || 0,
    aPkts: a.packetsReceived || 0, aLost: a.packetsLost || 0,
  };
}

function report(who, w) {
  const first = w[0], last = w[w.length - 1];
  const d = (k) => last[k] - first[k];
  const fps = fpsMedian(w);
  const conc = 100 * d('concealed') / Math.max(1, d('samples'));
  const heights = [...new Set(w.map((s) => s.h))].join('/');
  console.log(`figures S at ${who} over ${(last.t - first.t).toFixed(0)} s: ${fps.toFixed(1)} fps median, ` +
    `${d('freezes')} freezes, ${heights}p; audio ${d('aPkts')} packets, ${d('aLost')} lost, ` +
    `${conc.toFixed(2)} % concealed`);
  if (conc > 2) fail(`S's audio at ${who}: ${conc.toFixed(2)} % concealed (more than 2 %)`);
  else ok(`S's audio at ${who}: ${conc.toFixed(2)} % concealed`);
  if (fps < 15) fail(`S's video at ${who}: ${fps.toFixed(1)} frames a second (fewer than 15)`);
  else ok(`S's video at ${who}: ${fps.toFixed(1)} frames a second`);
}

async function main() {
  const netw = await startNetwork(2);
  const [leafS, leafG] = netw.leaves;
  const weak = netw.profiles.weak.down;
  await netw.profile(leafS.name, 'good');
  await netw.set(leafS.name, 'up', weak); // S's uplink: the weak profile, classroom → relay
  await netw.profile(leafG.name, 'good');
  console.log(`network: server in ${netw.hub}; S in ${leafS.ns} (uplink ${JSON.stringify(weak)}), G in ${leafG.ns}`);
  server = await startServer({
    netns: netw.hub, bindIp: null, iceAddresses: netw.leaves.flatMap((l) => [l.ip, l.hub_ip]), mediaPort: true,
  });
  const teacherBrowser = await launchBrowser([], { netns: netw.hub });
  const teacher = await openPage(teacherBrowser, `${server.url}/teacher.html?room=${ROOM}&name=Teacher`, 'teacher', { token: server.token });
  pages.push(teacher);
  await until('teacher: camera and join', async () => (await pageState(teacher)).joined &&
    !(await teacher.isDisabled('#start')));
  await teacher.click('#start');

  const s = await classroom(leafS, 'S');
  const g = await classroom(leafG, 'G');
  const sId = (await pageState(s)).participant.id;
  await s.click('#send-camera');
  await until('S: sending its camera and microphone', async () => {
    const out = (await pageStats(s)).pub.outbound;
    return out.some((o) => o.kind === 'video' && o.framesEncoded > 0) && out.some((o) => o.kind === 'audio' && o.packetsSent > 0);
  }, { timeoutMs: 20000 });
  await teacher.click(`#classrooms li[data-id="${sId}"] button.stage-toggle`);
  await until('teacher: S on stage', () => teacher.$(`#cam-${sId}.onstage`), { timeoutMs: 15000 });
  await until('G: S\'s first frame on the stage line', async () => (await received(g, true)).frames > 0,
    { timeoutMs: 20000 });
  ok('S is on stage: the teacher shows it large, G decodes it on its stage line');
  await sleep(5000); // S's send side settles on its link

  const at = { teacher: [], G: [] };
  const t0 = Date.now();
  while (Date.now() - t0 < STAGE_S * 1000) {
    at.teacher.push(await received(teacher, false));
    at.G.push(await received(g, true));
    await sleep(250);
  }
  report('the teacher', at.teacher);
  report('G', at.G);
  const out = (await pageStats(s)).pub.outbound.filter((o) => o.kind === 'video');
  console.log(`S sends: ${out.map((o) => `${o.rid || '-'} ${o.frameHeight}p ${o.framesEncoded} frames ` +
    `${o.qualityLimitationReason || ''}`).join(', ')}`);
  const emu = await netw.stats();
  const up = emu.links?.[leafS.name]?.up;
  if (up) console.log(`link  S up: ${up.in_pkts} in, ${up.queue_drops} queue drops, ${up.loss_drops} lost, max backlog ${up.max_backlog_ms} ms`);
}

await runTest('weak_uplink', main, { pages, server: () => server, failures });
