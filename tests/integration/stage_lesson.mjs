#!/usr/bin/env node
// The stage in headless Chromium (docs/protocol.md, "The stage"): a teacher page and three
// classroom pages A, B and C in their own browser contexts. B sends its camera and fake
// microphone back and raises its hand with key H; the hand shows in the teacher's queue;
// the teacher clicks it on stage. A and C must decode B's video at the size B sends and
// receive B's audio (a level above silence) on their stage lines, and the teacher must
// hear B; the time from the teacher's click to A's first decoded frame of B is printed
// (target 500 ms on loopback). The teacher ends the turn: within a second A and C receive
// nothing more of B. Chat: the teacher's message reaches the classrooms, B's reaches the
// teacher; with chat closed for classrooms, B's next message is refused. A quick quiz:
// asked, answered by A, tallied for the teacher, its result shown to C.
//
// usage: node tests/integration/stage_lesson.mjs      (from the repository root)
//   CLASSRELAY_BIN, CHROMIUM as for browser_lesson.mjs
// Exit status 0 when everything held, 1 otherwise.
import {
  startServer, launchBrowser, openPage, pageStats, pageState, until, sleep, videoOut,
  dumpDiagnostics, cleanup,
} from './lib/browser.mjs';

const ROOM = 'demo';
const pages = [];
let server = null;

function ok(msg) { console.log(`ok   ${msg}`); }

// A classroom's stage lines in its subscribe stats: {audio, video} inbound entries.
async function stageIn(page) {
  const st = await pageState(page);
  const [aMid, vMid] = st.stageMids || [];
  const s = await pageStats(page);
  return {
    audio: s.sub.inbound.find((i) => i.mid === aMid) || null,
    video: s.sub.inbound.find((i) => i.mid === vMid) || null,
  };
}

async function classroom(browser, name) {
  const page = await openPage(browser, `${server.url}/classroom.html?room=${ROOM}&name=${encodeURIComponent(name)}`, name);
  pages.push(page);
  await until(`${name}: joined with its stage lines`, async () => {
    const st = await pageState(page);
    return st.joined && st.stageMids && st.stageMids.length === 2 && st.stageMids.every((m) => m !== null);
  }, { timeoutMs: 20000 });
  await page.click('#sound');
  return page;
}

// Packets received on both stage lines of page now.
async function stagePackets(page) {
  const s = await stageIn(page);
  return (s.audio ? s.audio.packetsReceived : 0) + (s.video ? s.video.packetsReceived : 0);
}

async function main() {
  server = await startServer();
  console.log(`server ${server.url} (data ${server.dataDir})`);
  const browser = await launchBrowser();
  const teacher = await openPage(browser, `${server.url}/teacher.html?room=${ROOM}&name=Teacher`, 'teacher');
  pages.push(teacher);
  await until('teacher: camera and join', async () => (await pageState(teacher)).joined &&
    !(await teacher.isDisabled('#start')));
  await teacher.click('#start');

  const a = await classroom(browser, 'A');
  const b = await classroom(browser, 'B');
  const c = await classroom(browser, 'C');
  const bId = (await pageState(b)).participant.id;

  await b.click('#send-camera');
  const sent = await until('B: sending its camera', async () => {
    const v = videoOut(await pageStats(b));
    return v && v.framesEncoded > 0 && v.frameWidth ? { w: v.frameWidth, h: v.frameHeight } : false;
  }, { timeoutMs: 20000 });
  await until('teacher: B\'s tile', () => teacher.$(`#cam-${bId}`), { timeoutMs: 15000 });
  ok(`B sends its camera (${sent.w}x${sent.h}); its tile is on the teacher's grid`);
  await until('teacher: B outlined as the one speaking', () => teacher.$(`#cam-${bId}.speaking`), { timeoutMs: 10000, intervalMs: 50 });
  ok('B\'s tile is outlined as speaking (its RFC 6464 levels)');

  await b.locator('body').press('h');
  await until('teacher: B\'s raised hand in the queue', () => teacher.$(`#hands li[data-id="${bId}"]`), { timeoutMs: 5000 });
  ok('B raised its hand with key H; the teacher sees it in the queue');

  const before = { a: await stagePackets(a), c: await stagePackets(c) };
  if (before.a || before.c) throw new Error(`stage lines carried media before anyone was on stage: ${JSON.stringify(before)}`);
  const t0 = Date.now();
  await teacher.click(`#hands li[data-id="${bId}"] button.call`);
  await until('A: first decoded frame of B on the stage line', async () => {
    const s = await stageIn(a);
    return s.video && s.video.framesDecoded > 0;
  }, { timeoutMs: 10000, intervalMs: 20 });
  const clickToFrame = Date.now() - t0;
  console.log(`time  teacher's click → A's first decoded frame of B: ${clickToFrame} ms`);

  for (const [page, name] of [[a, 'A'], [c, 'C']]) {
    await until(`${name}: B's video at the size B sends, and B's audio`, async () => {
      const s = await stageIn(page);
      return s.video && s.video.frameWidth === sent.w && s.video.frameHeight === sent.h &&
        s.audio && s.audio.packetsReceived > 20 && s.audio.totalAudioEnergy > 0;
    }, { timeoutMs: 15000 });
    const s = await stageIn(page);
    ok(`${name} decodes B on stage: ${s.video.frameWidth}x${s.video.frameHeight}, ${s.video.framesDecoded} frames, ` +
       `audio energy ${s.audio.totalAudioEnergy.toFixed(4)} (not silence)`);
  }
  await until('teacher: hears B', async () => {
    const s = await pageStats(teacher);
    return s.sub.inbound.some((i) => i.kind === 'audio' && i.packetsReceived > 20 && i.totalAudioEnergy > 0);
  }, { timeoutMs: 10000 });
  ok('the teacher hears B');

  const t1 = Date.now();
  await teacher.click(`#classrooms li[data-id="${bId}"] button.stage-toggle`);
  await until('A and C: stage event with nobody on', async () =>
    (await pageState(a)).stage.on.length === 0 && (await pageState(c)).stage.on.length === 0, { timeoutMs: 2000 });
  await sleep(Math.max(0, 1000 - (Date.now() - t1)));
  const at1s = { a: await stagePackets(a), c: await stagePackets(c) };
  await sleep(1500);
  const later = { a: await stagePackets(a), c: await stagePackets(c) };
  if (later.a !== at1s.a || later.c !== at1s.c)
    throw new Error(`B's media still flows after the turn ended: ${JSON.stringify({ at1s, later })}`);
  ok('the turn ended: a second later A and C receive nothing more of B');

  await teacher.fill('#chat-text', '请B课堂回答 (B, your answer)');
  await teacher.press('#chat-text', 'Enter');
  for (const [page, name] of [[a, 'A'], [b, 'B']])
    await until(`${name}: the teacher's chat`, () => page.$('#chat-log li.chat-teacher'), { timeoutMs: 5000 });
  await b.fill('#chat-text', 'answer: 42');
  await b.press('#chat-text', 'Enter');
  await until('teacher: B\'s chat', async () => (await teacher.textContent('#chat-log')).includes('answer: 42'), { timeoutMs: 5000 });
  await teacher.uncheck('#chat-classrooms');
  await until('B: chat closed', () => b.isDisabled('#chat-text'), { timeoutMs: 5000 });
  ok('chat both ways; closed for classrooms at the teacher\'s switch');

  await teacher.fill('#quiz-question', '2 + 2 = ?');
  await teacher.fill('#quiz-options', '3\n4\n5');
  await teacher.click('#quiz-ask');
  await until('A: the quiz\'s buttons', () => a.$('#quiz-choices button'), { timeoutMs: 5000 });
  await a.click('#quiz-choices li:nth-child(2) button');
  await until('teacher: the tally', async () => (await teacher.textContent('#quiz-choices')).includes('4: 1'), { timeoutMs: 5000 });
  await teacher.click('#quiz-close');
  await until('C: the result', async () => (await c.textContent('#quiz-choices')).includes('4: 1'), { timeoutMs: 5000 });
  ok('quiz: asked, A answered, the teacher saw the tally, everyone the result');
  console.log(`fig  click → first frame of the stage ${clickToFrame} ms (target ≤ 500 ms)`);
}

main().then(async () => {
  await cleanup();
  process.exit(0);
}, async (err) => {
  console.log(`FAIL ${err.message}`);
  dumpDiagnostics(pages, server);
  await cleanup();
  process.exit(1);
});
