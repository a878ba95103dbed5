#!/usr/bin/env node
// The teacher's grid of classroom cameras in headless Chromium (docs/protocol.md, "Tiles get
// the small layer"): three classroom pages send their cameras back (two simulcast layers
// each); the teacher page, opened with ?grid=2 so that three classrooms make two pages of
// the grid, must receive and show only the page it shows — two tiles, each at the small
// layer — then, one page on, only the third classroom; a classroom of the other page called
// on stage joins the grid large and at its full layer, and leaves it when its turn ends.
// The page size is 16 in use; the parameter exists so that paging is tested with three
// classrooms rather than seventeen.
//
// usage: node tests/integration/teacher_grid.mjs      (from the repository root)
//   CLASSRELAY_BIN, CHROMIUM as for browser_lesson.mjs
// Exit status 0 when everything held, 1 otherwise.
import {
  startServer, launchBrowser, openPage, pageStats, pageState, until, sleep, runTest } from './lib/browser.mjs';

const ROOM = 'demo';
const pages = [];
let server = null;

function ok(msg) { console.log(`ok   ${msg}`); }

async function classroom(browser, name) {
  const page = await openPage(browser, `${server.url}/classroom.html?room=${ROOM}&name=${encodeURIComponent(name)}`, name);
  pages.push(page);
  await until(`${name}: joined`, async () => (await pageState(page)).joined, { timeoutMs: 20000 });
  await page.click('#send-camera');
  await until(`${name}: sending both layers`, async () =>
    (await pageStats(page)).pub.outbound.filter((s) => s.kind === 'video' && s.framesEncoded > 0).length >= 2,
  { timeoutMs: 20000 });
  return { page, id: (await pageState(page)).participant.id, name };
}

// The tiles the teacher shows now, and the videos it is decoding now (frames decoded in
// the last half second; a line given up keeps its old counters in getStats).
async function grid(teacher) {
  const before = new Map((await pageStats(teacher)).sub.inbound.map((s) => [s.ssrc, s.framesDecoded]));
  await sleep(500);
  const tiles = await teacher.$$eval('#classroom-videos .tile', (els) => els.map((e) => e.id.slice(4)));
  const videos = (await pageStats(teacher)).sub.inbound
    .filter((s) => s.kind === 'video' && s.framesDecoded > (before.get(s.ssrc) ?? 0));
  return { tiles, videos };
}

// Waits until the teacher shows exactly ids and decodes one video each, every one no
// taller than maxH; returns the grid.
async function expectGrid(teacher, what, ids, maxH) {
  let last = null;
  return until(what, async () => {
    const g = await grid(teacher);
    last = { tiles: g.tiles, videos: g.videos.map((v) => `${v.mid} ${v.frameWidth}x${v.frameHeight}`) };
    const same = g.tiles.length === ids.length && ids.every((id) => g.tiles.includes(id));
    return same && g.videos.length === ids.length &&
      g.videos.every((v) => v.frameHeight > 0 && v.frameHeight <= maxH) ? g : false;
  }, { timeoutMs: 20000 }).catch((err) => { throw new Error(`${err.message}; last ${JSON.stringify(last)}`); });
}

async function main() {
  server = await startServer();
  console.log(`server ${server.url} (data ${server.dataDir})`);
  const browser = await launchBrowser();
  const teacher = await openPage(browser, `${server.url}/teacher.html?room=${ROOM}&name=Teacher&grid=2`, 'teacher');
  pages.push(teacher);
  await until('teacher: joined', async () => (await pageState(teacher)).joined);

  const rooms = [];
  for (const name of ['A', 'B', 'C']) rooms.push(await classroom(browser, name));
  const full = await until('A: its top layer', async () => {
    const out = (await pageStats(rooms[0].page)).pub.outbound.filter((s) => s.kind === 'video' && s.frameHeight);
    return out.length >= 2 ? Math.max(...out.map((s) => s.frameHeight)) : false;
  });
  const senders = await until('teacher: three classrooms sending', async () => {
    const s = (await pageState(teacher)).grid.senders;
    return s.length === 3 ? s : false;
  });
  const [first, second, third] = senders;

  let g = await expectGrid(teacher, 'teacher: page 1 with two small tiles', [first, second], full / 2);
  if (await teacher.isHidden('#grid-pager')) throw new Error('no pager with two pages of cameras');
  ok(`page 1 of 2: tiles of ${first} and ${second} only, small (${g.videos.map((v) => `${v.frameWidth}x${v.frameHeight}`).join(', ')}); ` +
     `the teacher decodes ${g.videos.length} cameras of 3`);

  await teacher.click('#grid-next');
  g = await expectGrid(teacher, 'teacher: page 2 with the third classroom', [third], full / 2);
  ok(`page 2 of 2: only ${third}'s tile (${g.videos.length} camera decoded)`);

  // a classroom of page 1 on stage: on the grid, large and full, while the teacher looks at page 2
  await teacher.click(`#classrooms li[data-id="${first}"] button.stage-toggle`);
  await until(`teacher: ${first} on stage at its full layer beside page 2`, async () => {
    const gg = await grid(teacher);
    const tall = gg.videos.filter((v) => v.frameHeight === full);
    return gg.tiles.includes(first) && gg.tiles.includes(third) && tall.length === 1 &&
      await teacher.$(`#cam-${first}.onstage`);
  }, { timeoutMs: 20000 });
  ok(`${first}, called on stage from page 1, shows large at ${full}p beside page 2`);
  await teacher.click(`#classrooms li[data-id="${first}"] button.stage-toggle`);
  await expectGrid(teacher, 'teacher: back to page 2 alone', [third], full / 2);
  ok('its turn over, it leaves page 2 again');
}

await runTest('teacher_grid', main, { pages, server: () => server });
