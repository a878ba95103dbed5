#!/usr/bin/env node
// RTSP ingest seen from the pages (docs/recording.md, "RTSP ingest"): a classroom camera
// (lib/rtsp_camera.py: gst-rtsp-server, H.264 + AAC, a password in its URL) becomes the
// demo room's teacher source over REST. The teacher page shows "Source: RTSP camera
// <redacted URL> — playing"; a Chromium classroom page decodes the camera's H.264. The camera
// process is killed and started again on the same port: the teacher page shows the loss,
// and the classroom page decodes again by itself (the seconds from the camera's restart to
// its next decoded frames are printed). The password is never on a page.
//
// usage: node tests/integration/rtsp_ingest_pages.mjs      (from the repository root)
//   CLASSRELAY_BIN, CHROMIUM as for browser_lesson.mjs
// Exit status 0 when everything held, 1 otherwise.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

import {
  startServer, launchBrowser, openPage, pageStats, pageState, until, sleep, videoIn, runTest,
  onCleanup, freePort, repoRoot } from './lib/browser.mjs';

const ROOM = 'demo';
const PASSWORD = 's3cret-Pw9';
const pages = [];
let server = null;

function ok(msg) { console.log(`ok   ${msg}`); }
function expect(cond, msg) { if (!cond) throw new Error(msg); ok(msg); }

// The camera on port; resolves once it listens. kill() is a power cut.
async function camera(port) {
  const proc = spawn('/usr/bin/python3', [path.join(repoRoot, 'tests/integration/lib/rtsp_camera.py'),
    '--port', String(port), '--user', 'cam', '--password', PASSWORD], { stdio: ['ignore', 'pipe', 'inherit'] });
  onCleanup(() => proc.kill('SIGKILL'));
  const line = await new Promise((resolve, reject) => {
    readline.createInterface({ input: proc.stdout }).once('line', resolve);
    proc.once('exit', () => reject(new Error('the RTSP camera exited')));
  });
  if (!line.startsWith('READY')) throw new Error(`the RTSP camera did not start: ${line}`);
  return { kill: () => proc.kill('SIGKILL') };
}

async function frames(page) {
  const v = videoIn(await pageStats(page));
  return v ? v.framesDecoded : 0;
}

async function main() {
  const port = await freePort();
  let cam = await camera(port);
  server = await startServer({ mediaPort: true });
  console.log(`server ${server.url} (data ${server.dataDir})`);
  const url = `rtsp://cam:${PASSWORD}@127.0.0.1:${port}/cam`;
  const r = await fetch(`${server.url}/api/v1/rooms/${ROOM}/ingest`, {
    method: 'POST', headers: { ...server.auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ url }) });
  const body = await r.text();
  expect(r.status === 201 && !body.includes(PASSWORD), `POST ingest: ${r.status} ${body.slice(0, 120)}`);

  const browser = await launchBrowser();
  const teacher = await openPage(browser, `${server.url}/teacher.html?room=${ROOM}&name=Teacher`, 'teacher');
  pages.push(teacher);
  await until('teacher page: the source plays', async () => {
    const st = await pageState(teacher);
    return st.ingest && st.ingest.state === 'playing';
  }, { timeoutMs: 20000 });
  const note = await teacher.textContent('#source-note');
  expect(note.includes('RTSP camera rtsp://cam:***@') && !note.includes(PASSWORD), `teacher page: "${note}"`);

  const t0 = Date.now();
  const cls = await openPage(browser, `${server.url}/classroom.html?room=${ROOM}&name=Grade%203`, 'classroom');
  pages.push(cls);
  await until('classroom: decodes the camera', async () => (await frames(cls)) > 0, { timeoutMs: 30000, intervalMs: 50 });
  console.log(`time  classroom: page open → first decoded frame ${Date.now() - t0} ms`);
  await sleep(3000);
  const before = await frames(cls);
  expect(before > 30, `classroom: ${before} frames decoded`);

  cam.kill();
  await until('teacher page: the source is lost', async () => {
    const st = await pageState(teacher);
    return st.ingest && st.ingest.state === 'lost';
  }, { timeoutMs: 10000 });
  ok(`teacher page: "${await teacher.textContent('#source-note')}"`);
  await sleep(2000);
  const stalled = await frames(cls);
  cam = await camera(port);
  const tRestart = Date.now();
  await until('classroom: decodes again by itself', async () => (await frames(cls)) > stalled + 10,
    { timeoutMs: 30000, intervalMs: 50 });
  console.log(`time  camera restarted → classroom decodes again ${Date.now() - tRestart} ms`);
  await until('teacher page: the source plays again', async () => (await pageState(teacher)).ingest?.state === 'playing',
    { timeoutMs: 10000 });
  const html = (await teacher.content()) + (await cls.content());
  expect(!html.includes(PASSWORD), 'the password is on no page');
  const d = await fetch(`${server.url}/api/v1/rooms/${ROOM}/ingest`, { method: 'DELETE', headers: server.auth });
  expect(d.status === 204, `DELETE ingest: ${d.status}`);
  await until('teacher page: no source', async () => !(await pageState(teacher)).ingest, { timeoutMs: 5000 });
  expect(!server.log().includes(PASSWORD), 'the password is not in the server log');
}

await runTest('rtsp_ingest_pages', main, { pages, server: () => server });
