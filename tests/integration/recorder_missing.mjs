#!/usr/bin/env node
// A server without its recorder says so on the pages (issue 9): the classrelay binary is
// copied alone into an empty folder, so no classrelay-recorder is beside it (nor at
// ../recorder/). The stats must say recording is not enabled and why; the teacher page
// (demo room) and the replay page must show "Recording is off: classrelay-recorder was not
// found beside the server …" in their banners; a normal server shows neither banner.
//
// usage: node tests/integration/recorder_missing.mjs      (from the repository root)
//   CLASSRELAY_BIN  server binary (default build/signaling/classrelay)
//   CHROMIUM        browser (default /usr/bin/chromium)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  startServer, launchBrowser, openPage, pageState, until, onCleanup, repoRoot,
  runTest } from './lib/browser.mjs';

const pages = [];
let server = null;
function ok(msg) { console.log(`ok   ${msg}`); }

const NOTICE = /Recording is off: classrelay-recorder was not found beside the server/;

async function stats(srv) {
  const res = await fetch(`${srv.url}/api/v1/stats`, { headers: srv.auth });
  if (!res.ok) throw new Error(`GET /api/v1/stats -> ${res.status}`);
  return (await res.json()).recording;
}

// The teacher page's banner and the replay page's notice on srv: their texts ('' if hidden).
async function banners(browser, srv, label) {
  const teacher = await openPage(browser, `${srv.url}/teacher.html?room=demo&name=T`, `teacher (${label})`);
  pages.push(teacher);
  await until(`${label}: teacher joined`, async () => (await pageState(teacher)).joined, { timeoutMs: 15000 });
  const replay = await openPage(browser, `${srv.url}/replay.html`, `replay (${label})`, { token: srv.token });
  pages.push(replay);
  await replay.waitForSelector('#recordings', { state: 'attached' });
  await until(`${label}: the replay page asked for the stats`, () =>
    replay.evaluate(() => window.classrelay && 'recorderOff' in window.classrelay.state), { timeoutMs: 10000 });
  const shown = async (page, sel) => ((await page.isVisible(sel)) ? (await page.textContent(sel)).trim() : '');
  return { teacher, replay, shown };
}

async function main() {
  const bin = process.env.CLASSRELAY_BIN || path.join(repoRoot, 'build', 'signaling', 'classrelay');
  const alone = fs.mkdtempSync(path.join(os.tmpdir(), 'cr-no-recorder-'));
  onCleanup(() => fs.rmSync(alone, { recursive: true, force: true }));
  fs.copyFileSync(bin, path.join(alone, 'classrelay'));
  fs.chmodSync(path.join(alone, 'classrelay'), 0o755);
  server = await startServer({ bin: path.join(alone, 'classrelay'), args: ['--web-dir', path.join(repoRoot, 'web')] });

  const rec = await stats(server);
  if (rec.enabled !== false || !/classrelay-recorder was not found beside the server/.test(rec.problem || ''))
    throw new Error(`the stats do not say the recorder is missing: ${JSON.stringify(rec)}`);
  ok(`/api/v1/stats: recording enabled=false, problem "${rec.problem}"`);
  if (!/ERROR recording: classrelay-recorder was not found/.test(server.log()))
    throw new Error('the server log has no ERROR about the missing recorder');

  const browser = await launchBrowser();
  const a = await banners(browser, server, 'no recorder');
  await a.teacher.waitForSelector('#rec-banner:not([hidden])', { timeout: 10000 });
  const teacherText = await a.shown(a.teacher, '#rec-banner');
  if (!NOTICE.test(teacherText)) throw new Error(`the teacher page's banner says "${teacherText}"`);
  ok(`teacher page: "${teacherText}"`);
  await a.replay.waitForSelector('#recorder-notice:not([hidden])', { timeout: 10000 });
  const replayText = await a.shown(a.replay, '#recorder-notice');
  if (!NOTICE.test(replayText)) throw new Error(`the replay page's notice says "${replayText}"`);
  ok(`replay page: "${replayText}"`);

  // the same pages on a server with its recorder: no such notice
  const normal = await startServer();
  await until('the recorder to run', async () => (await stats(normal)).recorder_running, { timeoutMs: 15000 });
  const b = await banners(browser, normal, 'with recorder');
  const t2 = await b.shown(b.teacher, '#rec-banner'), r2 = await b.shown(b.replay, '#recorder-notice');
  if (t2 || r2) throw new Error(`a server with its recorder shows "${t2}" / "${r2}"`);
  ok('with the recorder beside the server, neither page shows a notice');
}

await runTest('recorder_missing', main, { pages, server: () => server });
