#!/usr/bin/env node
// The stage in headless Chromium (docs/protocol.md, "The stage"): a teacher page and three
// classroom pages A, B and C in their own browser contexts. B sends its camera (two
// simulcast layers) and fake microphone back; the teacher's tile of B gets the small layer
// only (the relay's cap for tiles), and the full one once B is on stage. B raises its hand
// with key H; the hand shows in the teacher's queue;
// the teacher clicks it on stage. A and C must decode B's video at the size B sends and
// receive B's audio (a level above silence) on their stage lines, and the teacher must
// hear B; the time from the teacher's click to A's first decoded frame of B is printed
// (target 500 ms on loopback). The teacher ends the turn: within a second A and C receive
// nothing more of B. Chat: the teacher's message reaches the classrooms, B's reaches the
// teacher; with chat closed for classrooms, B's next message is refused. A quick quiz:
// asked, answered by A, tallied for the teacher, its result shown to C. The recording: the
// teacher leaves, the lesson is packaged, and B's turn is in it as tracks of their own
// ("stage-camera", "stage-mic") lasting the turn, a stage stream whose turn matches, an
// "On stage" chapter with B's name, the quiz and its tally a chapter too; the replay page shows B's picture in its corner during
// the turn (frames decoded, in step with the lesson) and hides it outside the turn.
//
// usage: node tests/integration/stage_lesson.mjs      (from the repository root)
//   CLASSRELAY_BIN, CHROMIUM as for browser_lesson.mjs
// Exit status 0 when everything held, 1 otherwise.
import {
  startServer, launchBrowser, openPage, pageStats, pageState, until, sleep, videoIn, runTest } from './lib/browser.mjs';

const TURN_SLACK_S = 1.5; // the recorded turn against the clicks: keyframe wait, stop
const TURN_MIN_MS = 6000; // B's turn lasts at least this, for a recording worth measuring

const ROOM = 'demo';
const pages = [];
let server = null;

function ok(msg) { console.log(`ok   ${msg}`); }

// A classroom's stage lines in its subscribe stats: {audio, video (VP8), h264} inbound
// entries.
async function stageIn(page) {
  const st = await pageState(page);
  const [aMid, vMid, hMid] = st.stageMids || [];
  const s = await pageStats(page);
  return {
    audio: s.sub.inbound.find((i) => i.mid === aMid) || null,
    video: s.sub.inbound.find((i) => i.mid === vMid) || null,
    h264: s.sub.inbound.find((i) => i.mid === hMid) || null,
  };
}

async function classroom(browser, name) {
  const page = await openPage(browser, `${server.url}/classroom.html?room=${ROOM}&name=${encodeURIComponent(name)}`, name);
  pages.push(page);
  await until(`${name}: joined with its stage lines`, async () => {
    const st = await pageState(page);
    return st.joined && st.stageMids && st.stageMids.length === 3 && st.stageMids.every((m) => m !== null);
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
  server = await startServer({ env: { CLASSRELAY_RECORD_END_AFTER: '1' } });
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
  const sent = await until('B: sending both layers of its camera', async () => {
    const out = (await pageStats(b)).pub.outbound.filter((s) => s.kind === 'video' && s.framesEncoded > 0 && s.frameHeight);
    if (out.length < 2) return false;
    const top = out.sort((x, y) => y.frameHeight - x.frameHeight)[0];
    return { w: top.frameWidth, h: top.frameHeight, layers: out.map((s) => `${s.rid} ${s.frameWidth}x${s.frameHeight}`) };
  }, { timeoutMs: 20000 });
  await until('teacher: B\'s tile', () => teacher.$(`#cam-${bId}`), { timeoutMs: 15000 });
  ok(`B sends its camera (${sent.layers.join(', ')}); its tile is on the teacher's grid`);
  const tileAt = Date.now();
  await until('teacher: B outlined as the one speaking', () => teacher.$(`#cam-${bId}.speaking`), { timeoutMs: 10000, intervalMs: 50 });
  ok('B\'s tile is outlined as speaking (its RFC 6464 levels)');
  await sleep(Math.max(0, 3000 - (Date.now() - tileAt))); // time for the estimate to allow more
  const tile = videoIn(await pageStats(teacher));
  if (!tile || !tile.framesDecoded || !(tile.frameHeight > 0 && tile.frameHeight <= sent.h / 2))
    throw new Error(`the teacher's tile of B is not the small layer: ${tile ? `${tile.frameWidth}x${tile.frameHeight}` : 'none'}`);
  ok(`the teacher's tile of B gets the small layer (${tile.frameWidth}x${tile.frameHeight}), not ${sent.w}x${sent.h}`);

  await b.locator('body').press('h');
  await until('teacher: B\'s raised hand in the queue', () => teacher.$(`#hands li[data-id="${bId}"]`), { timeoutMs: 5000 });
  await until('teacher: the hand on B\'s tile', () => teacher.$(`#cam-${bId}.hand`), { timeoutMs: 5000 });
  ok('B raised its hand with key H; the teacher sees it in the queue and on B\'s tile');

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
    if (s.h264 && s.h264.packetsReceived > 0)
      throw new Error(`${name}'s H.264 stage line carries B's VP8 too: ${s.h264.packetsReceived} packets`);
    ok(`${name} decodes B on stage: ${s.video.frameWidth}x${s.video.frameHeight}, ${s.video.framesDecoded} frames, ` +
       `audio energy ${s.audio.totalAudioEnergy.toFixed(4)} (not silence)`);
  }
  const large = await until('teacher: B at its full layer while on stage', async () => {
    const v = videoIn(await pageStats(teacher));
    return v && v.frameHeight === sent.h ? v : false;
  }, { timeoutMs: 15000 });
  ok(`the teacher sees B on stage at its full layer (${large.frameWidth}x${large.frameHeight})`);
  await until('teacher: hears B', async () => {
    const s = await pageStats(teacher);
    return s.sub.inbound.some((i) => i.kind === 'audio' && i.packetsReceived > 20 && i.totalAudioEnergy > 0);
  }, { timeoutMs: 10000 });
  ok('the teacher hears B');

  await sleep(Math.max(0, TURN_MIN_MS - (Date.now() - t0)));
  const t1 = Date.now();
  await teacher.click(`#classrooms li[data-id="${bId}"] button.stage-toggle`);
  const turnS = (t1 - t0) / 1000;
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
  await checkRecording(browser, teacher, turnS);
  console.log(`fig  click → first frame of the stage ${clickToFrame} ms (target ≤ 500 ms)`);
}

async function api(p) {
  const r = await fetch(`${server.url}${p}`, { headers: server.auth });
  if (!r.ok) throw new Error(`GET ${p}: HTTP ${r.status}`);
  return r.json();
}

function near(got, want, what) {
  if (!(Math.abs(got - want) <= TURN_SLACK_S))
    throw new Error(`${what}: ${got.toFixed(2)} s, the turn lasted ${want.toFixed(2)} s`);
}

// The teacher leaves; the packaged lesson holds B's turn, and the replay page shows it.
async function checkRecording(browser, teacher, turnS) {
  await teacher.context().close();
  pages.splice(pages.indexOf(teacher), 1);
  const rec = await until('the recording to be ready', async () => {
    const list = (await api(`/api/v1/recordings?room=${ROOM}`)).recordings;
    const r = list && list[0];
    if (r && r.state === 'failed') throw new Error(`packaging failed: ${r.error}`);
    return r && r.state === 'ready' ? r : false;
  }, { timeoutMs: 120000, intervalMs: 500 });
  const info = await api(`/recordings/${encodeURIComponent(rec.id)}/info.json`);
  for (const source of ['stage-camera', 'stage-mic']) {
    const tr = info.tracks.filter((x) => x.source === source);
    if (tr.length !== 1) throw new Error(`${tr.length} ${source} tracks: ${JSON.stringify(info.tracks)}`);
    near(tr[0].duration_ms / 1000, turnS, `the recorded ${source}`);
  }
  const turns = (rec.stage && rec.stage.turns) || [];
  if (!rec.stage || !rec.stage.url || turns.length !== 1)
    throw new Error(`REC.stage: ${JSON.stringify(rec.stage)}`);
  near(turns[0].duration_ms / 1000, turnS, 'the stage stream\'s turn');
  const chapter = (rec.chapters || []).find((c) => c.title === 'On stage 上台: B');
  if (!chapter) throw new Error(`no "On stage" chapter for B: ${JSON.stringify(rec.chapters)}`);
  console.log(`fig  recorded turn ${(turns[0].duration_ms / 1000).toFixed(2)} s of a ${turnS.toFixed(2)} s turn; ` +
    `tracks ${JSON.stringify(info.tracks.filter((x) => x.source.startsWith('stage')))}`);
  ok(`B's turn is recorded: stage-camera and stage-mic tracks and the stage stream last the turn (±${TURN_SLACK_S} s), ` +
     `with an "On stage" chapter at ${(chapter.at_ms / 1000).toFixed(1)} s`);
  const notes = (await api(`/api/v1/recordings/${encodeURIComponent(rec.id)}/notes`)).notes || [];
  const quiz = notes.find((n) => n.kind === 'chapter' && n.text.startsWith('Quiz 测验: 2 + 2 = ?'));
  if (!quiz || !quiz.text.includes('4: 1')) throw new Error(`no quiz chapter with its tally: ${JSON.stringify(notes)}`);
  ok(`the quiz and its tally are a chapter of the recording: "${quiz.text}"`);

  const mid = (turns[0].at_ms + turns[0].duration_ms / 2) / 1000;
  const page = await openPage(browser, `${server.url}/replay.html?id=${encodeURIComponent(rec.id)}&t=${mid.toFixed(1)}`,
    'replay', { token: server.token });
  pages.push(page);
  // the page's own Play button, once its player has the lesson (a play() before that is
  // cut short when the player loads)
  await until('replay: player loaded', async () => {
    const s = await page.evaluate(() => window.classrelay.state);
    if (s.error) throw new Error(`replay: ${s.error}`);
    return s.engine && page.evaluate(() => window.classrelay.video.readyState >= 1);
  }, { timeoutMs: 20000 });
  if (await page.evaluate(() => window.classrelay.video.paused)) await page.click('#play');
  const st = await until('replay: B\'s picture in the corner, in step', async () => {
    const s = (await page.evaluate(() => window.classrelay.state)).stage;
    const t = await page.evaluate(() => window.classrelay.video.currentTime);
    return s && s.shown && s.readyState >= 2 && s.width > 0 && !s.paused &&
      Math.abs(s.currentTime - t) < 0.5 ? { ...s, lesson: t } : false;
  }, { timeoutMs: 20000 });
  const frames = await page.evaluate(() => window.classrelay.stageVideo.getVideoPlaybackQuality().totalVideoFrames);
  if (!(frames > 0)) throw new Error(`the stage video decoded ${frames} frames`);
  await page.evaluate((at) => window.classrelay.seek(at), Math.max(0, turns[0].at_ms / 1000 - 3));
  await until('replay: the corner empty before the turn', async () => {
    const s = (await page.evaluate(() => window.classrelay.state)).stage;
    return s && !s.shown;
  }, { timeoutMs: 10000 });
  ok(`the replay shows B (${st.width}x${st.height}, ${frames} frames, ${st.currentTime.toFixed(2)} s against the ` +
     `lesson's ${st.lesson.toFixed(2)} s) during the turn, nothing before it`);
}

await runTest('stage_lesson', main, { pages, server: () => server });
