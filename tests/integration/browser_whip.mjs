#!/usr/bin/env node
// WHIP and WHEP from Chromium: web/tools/whip.html publishes the fake camera and
// microphone with a WHIP POST (trickling later candidates with PATCH), two more pages play
// the room with WHEP POSTs, and each player must decode increasing video frames and
// receive audio. Then the HTTP surface: DELETE ends a session (peers drop in
// /api/v1/stats, a second DELETE is 404), OPTIONS advertises the methods, and bad requests
// get clear 4xx answers while the lesson keeps flowing.
//
// usage: node tests/integration/browser_whip.mjs      (from the repository root)
//   CLASSRELAY_BIN, CHROMIUM as for browser_lesson.mjs
// Exit status 0 when everything held, 1 otherwise.
import {
  startServer, launchBrowser, openPage, openWhipPublisher, pageStats, pageState, until, sleep,
  videoIn, audioIn, videoOut, runTest } from './lib/browser.mjs';

const ROOM = 'whip-test';
const pages = [];
let server = null;

function ok(msg) { console.log(`ok   ${msg}`); }
function expect(cond, msg) { if (!cond) throw new Error(msg); ok(msg); }

async function relayPeers() {
  const s = await (await fetch(`${server.url}/api/v1/stats`, { headers: server.auth })).json();
  return s.relay.peers;
}

async function play(browser, label) {
  const t0 = Date.now();
  const page = await openPage(browser, `${server.url}/tools/whip.html?room=${ROOM}&mode=play&token=${server.token}`, label);
  pages.push(page);
  await until(`${label}: decoded video over WHEP`, async () => {
    const st = await pageState(page);
    if (st.error) throw new Error(`${label}: ${st.error}`);
    const v = videoIn(await pageStats(page));
    return v && v.framesDecoded > 0;
  }, { timeoutMs: 30000, intervalMs: 50 });
  console.log(`time  ${label}: page open → first decoded frame ${Date.now() - t0} ms`);
  const a = videoIn(await pageStats(page));
  await sleep(1500);
  const s = await pageStats(page);
  const b = videoIn(s);
  if (!(b.framesDecoded > a.framesDecoded)) throw new Error(`${label}: framesDecoded not increasing`);
  await until(`${label}: audio over WHEP`, async () => {
    const au = audioIn(await pageStats(page));
    return au && au.packetsReceived > 0;
  }, { timeoutMs: 10000 });
  const au = audioIn(await pageStats(page));
  ok(`${label}: ${b.frameWidth}x${b.frameHeight}, framesDecoded ${a.framesDecoded} → ${b.framesDecoded}, audio packets ${au.packetsReceived}`);
  return page;
}

async function httpChecks(publisher) {
  const base = `${server.url}/whip/${ROOM}`;
  let r = await fetch(base, { method: 'OPTIONS' });
  expect(r.status === 204 && /POST/.test(r.headers.get('allow') || '') &&
         r.headers.get('accept-post') === 'application/sdp', 'OPTIONS /whip/<room>: 204, Allow POST, Accept-Post');
  r = await fetch(base, { method: 'POST', headers: { ...server.auth, 'Content-Type': 'text/plain' }, body: 'v=0\r\n' });
  expect(r.status === 400 && (await r.text()).includes('application/sdp'), 'POST with a wrong Content-Type: 400 with a reason');
  r = await fetch(base, { method: 'POST', headers: { ...server.auth, 'Content-Type': 'application/sdp' }, body: 'hello' });
  expect(r.status === 400, `POST with a non-SDP body: 400 (${(await r.text()).trim()})`);
  r = await fetch(base, { method: 'POST', headers: { ...server.auth, 'Content-Type': 'application/sdp' }, body: 'v=0\r\n'.padEnd(70000, 'x') });
  expect(r.status === 413, 'POST with a 70 kB body: 413');
  r = await fetch(`${base}/nosuchsession`, { method: 'DELETE', headers: server.auth });
  expect(r.status === 404, 'DELETE of an unknown session: 404');
  r = await fetch(`${server.url}/whep/${ROOM}`, { method: 'POST', headers: { ...server.auth, 'Content-Type': 'application/sdp' },
    body: 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\n' });
  expect(r.status === 400, `WHEP POST with a sendonly offer: 400 (${(await r.text()).trim()})`);
  // the publisher is still fine after all that
  const v1 = videoOut(await pageStats(publisher));
  await sleep(1000);
  const v2 = videoOut(await pageStats(publisher));
  expect(v2.framesEncoded > v1.framesEncoded && (await pageState(publisher)).peer === 'connected',
    'the WHIP publisher keeps sending through the bad requests');
}

async function main() {
  server = await startServer();
  console.log(`server ${server.url}`);
  const browser = await launchBrowser();

  const publisher = await openWhipPublisher(browser, server, ROOM);
  pages.push(publisher);
  const resource = (await pageState(publisher)).resource;
  expect(/\/whip\/whip-test\/[0-9a-z]+$/.test(resource), `WHIP 201 with Location ${new URL(resource).pathname}`);

  const p1 = await play(browser, 'whep-player-1');
  const p2 = await play(browser, 'whep-player-2');
  expect(await relayPeers() === 3, 'relay has 3 peers (1 WHIP + 2 WHEP)');

  await httpChecks(publisher);

  // DELETE one player's session: its peer goes away, a second DELETE is 404
  const playerUrl = (await pageState(p2)).resource;
  await p2.evaluate(() => window.classrelay.stop());
  await until('relay peers back to 2 after the WHEP DELETE', async () => (await relayPeers()) === 2);
  ok('WHEP DELETE closed the player session');
  const again = await fetch(playerUrl, { method: 'DELETE', headers: server.auth });
  expect(again.status === 404, 'second DELETE of the same session: 404');

  // the remaining player still decodes
  const a = videoIn(await pageStats(p1));
  await sleep(1000);
  expect(videoIn(await pageStats(p1)).framesDecoded > a.framesDecoded, 'whep-player-1 still decoding');

  await publisher.evaluate(() => window.classrelay.stop());
  await until('relay peers down to 1 after the WHIP DELETE', async () => (await relayPeers()) === 1);
  ok('WHIP DELETE closed the publisher session');
}

await runTest('browser_whip', main, { pages, server: () => server });
