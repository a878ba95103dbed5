#!/usr/bin/env node
// Patrol (巡课) in headless Chromium: two live lessons — the open demo room and a scheduled
// lesson running now — each with a teacher page publishing and a classroom page; an observer's
// patrol.html (an observer token) must show both, decode both teachers' cameras, hear a
// lesson once clicked large, and stay unlisted: neither teacher's page nor GET
// /api/v1/rooms/<room> counts it among the participants.
//
// usage: node tests/integration/patrol_page.mjs      (from the repository root)
//   CLASSRELAY_BIN, CHROMIUM as for browser_lesson.mjs
import {
  startServer, launchBrowser, openPage, pageStats, pageState, until, mintToken, runTest } from './lib/browser.mjs';

const pages = [];
let server = null;

function ok(msg) { console.log(`ok   ${msg}`); }

async function lesson(browser, room, token) {
  const q = token ? `&token=${token}` : '';
  const teacher = await openPage(browser, `${server.url}/teacher.html?room=${room}&name=Teacher%20${room}${q}`, `teacher ${room}`);
  pages.push(teacher);
  await until(`teacher ${room}: camera and join`, async () => (await pageState(teacher)).joined &&
    !(await teacher.isDisabled('#start')));
  await teacher.click('#start');
  const cls = await openPage(browser, `${server.url}/classroom.html?room=${room}&name=Class%20${room}${q}`, `classroom ${room}`);
  pages.push(cls);
  await until(`classroom ${room}: decoding`, async () => {
    const s = await pageStats(cls);
    return s.sub.inbound.some((i) => i.kind === 'video' && i.framesDecoded > 0);
  }, { timeoutMs: 20000 });
  return teacher;
}

// A lesson in the schedule running now (docs/scheduling.md); its room's name.
async function scheduledRoom() {
  const post = async (path, body) => {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST', headers: { ...server.auth, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const t = await post('/api/v1/users', { username: 'ms-li', password: 'teacher-password-1', name: 'Ms. Li', role: 'teacher' });
  const now = Date.now();
  const l = await post('/api/v1/lessons', { title: 'Fractions', teacher_id: t.id, start_ms: now - 60000, end_ms: now + 3600000 });
  return l.room;
}

async function main() {
  server = await startServer();
  const browser = await launchBrowser();
  const room2 = await scheduledRoom();
  const teachers = [await lesson(browser, 'demo', null), await lesson(browser, room2, server.token)];
  const observer = mintToken(server, { role: 'observer' });
  const patrol = await openPage(browser, `${server.url}/patrol.html?token=${observer}`, 'patrol');
  pages.push(patrol);
  await until('patrol: both lessons decoding', async () => {
    const f = await patrol.evaluate(() => window.classrelay.frames());
    return f.demo > 0 && f[room2] > 0;
  }, { timeoutMs: 20000 });
  ok('the patrol page shows both live lessons and decodes both teachers\' cameras');
  await patrol.click(`.patrol-tile[data-room="${room2}"]`);
  await until('patrol: hears the lesson clicked large', () => patrol.evaluate(async () => {
    const st = window.classrelay.state;
    return st.focused && document.querySelector('.patrol-tile.focused video').muted === false;
  }), { timeoutMs: 5000 });
  ok('a click makes a lesson large and unmuted');
  for (const [t, room] of [[teachers[0], 'demo'], [teachers[1], room2]]) {
    const n = (await pageState(t)).classrooms;
    const names = await t.$$eval('#classrooms li', (els) => els.map((e) => e.dataset.id));
    const res = await fetch(`${server.url}/api/v1/rooms/${room}`, { headers: server.auth });
    const listed = (await res.json()).participants.map((p) => p.role);
    if (n !== 1 || names.length !== 1 || listed.includes('observer') || listed.length !== 2)
      throw new Error(`${room}: the teacher sees ${n} classrooms ${JSON.stringify(names)}, REST lists ${JSON.stringify(listed)}`);
  }
  ok('neither lesson lists the patrol: one classroom each on the teacher\'s page and over REST');
}

await runTest('patrol_page', main, { pages, server: () => server });
