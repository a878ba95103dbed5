#!/usr/bin/env node
// A whole lesson in headless Chromium: one teacher page publishes the fake camera
// (1280x720) and microphone; three classroom pages, each in its own browser context, join
// and must decode the teacher's video at the size the teacher sends, with increasing
// framesDecoded, and receive audio. Prints each classroom's time from the Join click to
// its first decoded frame. The teacher then shares courseware (a second video track:
// renegotiation on both sides) and stops again; one classroom leaves and a new page
// rejoins and must get frames again; a classroom whose receiving connection closes must
// make a new one and get frames again; finally the server restarts and every page must
// recover on its own (websocket reconnect, fresh join, republish, resubscribe). One
// classroom reaches the server through a proxy that holds every websocket upgrade for 3 s
// (a school link's lost SYN, exaggerated): it must decode before its websocket opens, by
// the session begun over HTTP (POST /ws), which the websocket then takes over. The server
// runs two media workers and spreads the lesson over both from its second peer on
// (--room-spread 1): classrooms decode on either, handed the teacher's packets between them.
//
// usage: node tests/integration/browser_lesson.mjs      (from the repository root)
//   CLASSRELAY_BIN  server binary (default build/signaling/classrelay)
//   CHROMIUM        browser (default /usr/bin/chromium)
//   SKIP_RESTART=1  leave out the server-restart phase
// Exit status 0 when everything held, 1 otherwise; the server and browser are always
// stopped and the temporary data directory removed.
import net from 'node:net';
import {
  startServer, restartServer, launchBrowser, openPage, pageStats, pageState, until, sleep,
  videoIn, audioIn, videoOut, runTest } from './lib/browser.mjs';

const ROOM = 'demo';
const HOLD_UPGRADE_MS = 3000;
const pages = [];
let server = null;
let proxy = null;

// A TCP proxy on loopback in front of the server: a connection whose request is a
// websocket upgrade is passed on only after holdMs, any other at once.
function upgradeHoldingProxy(port, holdMs) {
  const sockets = new Set();
  const srv = net.createServer((down) => {
    sockets.add(down);
    down.once('data', (first) => {
      const go = () => {
        if (down.destroyed) return;
        const up = net.connect(port, '127.0.0.1', () => { up.write(first); down.pipe(up); up.pipe(down); });
        sockets.add(up);
        for (const [a, b] of [[up, down], [down, up]]) {
          a.on('error', () => b.destroy());
          a.on('close', () => { b.destroy(); sockets.delete(a); });
        }
      };
      if (/^upgrade: *websocket/im.test(first.toString('latin1'))) setTimeout(go, holdMs);
      else go();
    });
    down.on('error', () => {});
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${srv.address().port}`,
    close: () => { for (const s of sockets) s.destroy(); srv.close(); },
  })));
}

function ok(msg) { console.log(`ok   ${msg}`); }

// The largest picture the teacher's camera sends: with simulcast, its top layer, which a
// classroom on a good link must get.
async function teacherSize(teacher) {
  const st = await pageStats(teacher);
  const layers = st.pub.outbound
    .filter((o) => o.kind === 'video' && o.frameWidth);
  if (!layers.length) return null;
  const top = layers.reduce((a, b) => (b.frameWidth * b.frameHeight > a.frameWidth * a.frameHeight ? b : a));
  return { w: top.frameWidth, h: top.frameHeight };
}

// Clicks Join on a fresh classroom page and waits for the first decoded frame.
async function joinClassroom(browser, name, { viaUrl = false, origin = server.url } = {}) {
  const base = `${origin}/classroom.html?room=${ROOM}`;
  let page;
  let t0;
  if (viaUrl) {
    t0 = Date.now();
    page = await openPage(browser, `${base}&name=${encodeURIComponent(name)}`, name);
  } else {
    page = await openPage(browser, base, name);
    await page.fill('#name', name);
    t0 = Date.now();
    await page.click('#join');
  }
  pages.push(page);
  await until(`${name}: first decoded video frame`, async () => {
    const v = videoIn(await pageStats(page));
    return v && v.framesDecoded > 0;
  }, { timeoutMs: 30000, intervalMs: 50 });
  const ms = Date.now() - t0;
  const st = await pageState(page);
  const inPage = st.joinToFirstFrameMs !== null ? `, page-measured ${Math.round(st.joinToFirstFrameMs)} ms` : '';
  console.log(`time  ${name}: join → first decoded frame ${ms} ms${inPage}`);
  return { page, ms };
}

// The audio codec of a page's connection (pcName 'pc' receives, 'pubPc' sends), from
// getStats, and whether the negotiated audio has RED (RFC 2198). Chromium's stats name
// the Opus inside RED ('audio/opus'), so that RED really flows is read from the relay's
// red_in/red_out counters (/api/v1/stats).
async function audioCodec(page, pcName) {
  return page.evaluate(async (pcName) => {
    const pc = window.classrelay[pcName];
    if (!pc) return null;
    const report = await pc.getStats();
    let rtp = null;
    report.forEach((s) => {
      if ((s.type === 'inbound-rtp' || s.type === 'outbound-rtp') && s.kind === 'audio' && s.codecId) rtp = s;
    });
    const codec = rtp && report.get(rtp.codecId);
    const sdp = pc.remoteDescription ? pc.remoteDescription.sdp : '';
    const red = /\r\na=rtpmap:\d+ red\/48000\/2\r\n/.test(sdp);
    return codec ? {
      mimeType: codec.mimeType, fmtp: codec.sdpFmtpLine || '', red,
      samples: rtp.totalSamplesReceived || 0, concealed: rtp.concealedSamples || 0,
    } : null;
  }, pcName);
}

// framesDecoded grows, the decoded size matches what the teacher sends, audio arrives.
async function checkReceiving(page, teacher, name) {
  const a = videoIn(await pageStats(page));
  await sleep(1500);
  const b = videoIn(await pageStats(page));
  if (!(b.framesDecoded > a.framesDecoded))
    throw new Error(`${name}: framesDecoded not increasing (${a.framesDecoded} → ${b.framesDecoded})`);
  let last = null;
  await until(`${name}: decoded size equal to the teacher's sent size`, async () => {
    const sent = await teacherSize(teacher);
    const v = videoIn(await pageStats(page));
    last = { sent, got: { w: v.frameWidth, h: v.frameHeight } };
    return sent && v.frameWidth === sent.w && v.frameHeight === sent.h ? last : false;
  }, { timeoutMs: 25000, intervalMs: 250 }).catch((err) => {
    throw new Error(`${err.message}; last ${JSON.stringify(last)}`);
  });
  await until(`${name}: audio packets`, async () => {
    const au = audioIn(await pageStats(page));
    return au && au.packetsReceived > 0;
  }, { timeoutMs: 10000 });
  const ac = await until(`${name}: audio codec in getStats`, () => audioCodec(page, 'pc'), { timeoutMs: 10000 });
  if (!ac.red || !/useinbandfec=1/.test(ac.fmtp))
    throw new Error(`${name}: audio negotiated without RED or in-band FEC: ${JSON.stringify(ac)}`);
  // decoded, not concealed, over a whole second: the relay's RED parses in Chromium. Just
  // after a server restart the receiver's jitter buffer is still settling, so up to three
  // one-second windows are looked at; the line says how many it took.
  let from = ac, ac2 = null, samples = 0, concealed = 0, windows = 0;
  while (windows < 3) {
    await sleep(1000);
    ac2 = await audioCodec(page, 'pc');
    windows++;
    samples = ac2.samples - from.samples;
    concealed = ac2.concealed - from.concealed;
    if (samples > 0 && concealed < samples * 0.1) break;
    from = ac2;
  }
  if (!(samples > 0 && concealed < samples * 0.1))
    throw new Error(`${name}: audio not decoded in 3 windows of 1 s: ${JSON.stringify({ ac, ac2 })}`);
  ok(`${name}: audio ${ac.mimeType} ${ac.fmtp} in RED, ${concealed} of ${samples} samples concealed in 1 s ` +
     `(window ${windows}; ${ac2.concealed} of ${ac2.samples} since join)`);
  // The relay's quality report reaches the page: the camera's top layer of three is
  // forwarded on this good link.
  const q = await until(`${name}: quality report from the relay`, async () => {
    const r = await page.evaluate(() => window.classrelay.quality);
    const cam = r && (r.tracks || []).find((t) => t.kind === 'video' && t.layers === 3);
    return cam && cam.layer >= 0 && cam.layer === cam.target ? r : false;
  }, { timeoutMs: 10000 });
  const cam = q.tracks.find((t) => t.kind === 'video' && t.layers === 3);
  ok(`${name}: relay forwards layer ${cam.layer + 1}/3 at ${cam.bitrate_bps} bit/s, loss ${cam.loss}, RTT ${q.rtt_ms} ms`);
  const v = videoIn(await pageStats(page));
  const au = audioIn(await pageStats(page));
  ok(`${name}: ${v.frameWidth}x${v.frameHeight}, framesDecoded ${a.framesDecoded} → ${v.framesDecoded}, ` +
     `audio packets ${au.packetsReceived}`);
}

async function main() {
  // every peer on one UDP port (ICE lite), and the lesson spread over two workers from its
  // second peer on: classrooms on both, each part forwarding the other's tracks
  server = await startServer({ mediaPort: true, args: ['--workers', '2', '--room-spread', '1'] });
  console.log(`server ${server.url} (data ${server.dataDir})`);
  // getDisplayMedia picks the (fake) screen without a dialog
  const browser = await launchBrowser(['--auto-select-desktop-capture-source=Entire screen']);

  const teacher = await openPage(browser, `${server.url}/teacher.html?room=${ROOM}&name=Master%20teacher`, 'teacher');
  pages.push(teacher);
  await until('teacher: camera and join', async () => {
    const st = await pageState(teacher);
    return st.joined && !(await teacher.isDisabled('#start'));
  });
  await teacher.click('#start');
  await until('teacher: publishing connected and encoding', async () => {
    const st = await pageState(teacher);
    const v = videoOut(await pageStats(teacher));
    return st.publish === 'connected' && v && v.framesEncoded > 0;
  }, { timeoutMs: 30000 });
  ok(`teacher publishing, sending ${JSON.stringify(await teacherSize(teacher))}`);
  const tac = await until('teacher: audio codec in getStats', () => audioCodec(teacher, 'pubPc'), { timeoutMs: 10000 });
  ok(`teacher sends audio ${tac.mimeType} ${tac.fmtp}${tac.red ? ' in RED' : ''}`);

  const classrooms = [];
  for (const name of ['Grade 3, Village school A', 'Grade 3, Village school B']) {
    classrooms.push({ name, ...(await joinClassroom(browser, name)) });
  }
  // its websocket held: the join and first subscribe go in one POST /ws, and the websocket
  // takes the session over when it opens (later events, such as the courseware, come on it)
  proxy = await upgradeHoldingProxy(server.port, HOLD_UPGRADE_MS);
  const held = { name: 'Grade 4, Hill school', ...(await joinClassroom(browser, 'Grade 4, Hill school', { viaUrl: true, origin: proxy.url })) };
  classrooms.push(held);
  await until(`${held.name}: its websocket took the session over`, async () =>
    (await pageState(held.page)).ws === 'open', { timeoutMs: 10000 });
  const hp = (await pageState(held.page)).joinPhases;
  if (!(hp.frame < hp.ws)) throw new Error(`${held.name}: no frame before its websocket opened: ${JSON.stringify(hp)}`);
  const begun = (await (await fetch(`${server.url}/api/v1/stats`, { headers: server.auth })).json()).signaling;
  if (!(begun.ws_begun >= 1 && begun.ws_resumed >= 1 && begun.ws_park_expired === 0))
    throw new Error(`sessions begun over HTTP: ${JSON.stringify({ b: begun.ws_begun, r: begun.ws_resumed, x: begun.ws_park_expired })}`);
  ok(`${held.name}: first frame ${hp.frame} ms after joining, its websocket open at ${hp.ws} ms and resumed ` +
     `(begun over HTTP ${begun.ws_begun}, resumed ${begun.ws_resumed})`);
  for (const c of classrooms) await checkReceiving(c.page, teacher, c.name);
  const list = await teacher.$$eval('#classrooms li', (els) => els.map((e) => e.textContent));
  if (list.length !== 3) throw new Error(`teacher lists ${list.length} classrooms: ${list}`);
  ok(`teacher lists 3 classrooms`);

  // courseware: a second video track from getDisplayMedia, renegotiated on both sides
  await teacher.click('#share');
  for (const c of classrooms) {
    await until(`${c.name}: courseware decoded beside the teacher`, async () => {
      const st = await pageState(c.page);
      const screen = st.tracks.find((t) => t.source === 'screen');
      if (!screen || await c.page.isHidden('#screen-tile')) return false;
      const vids = (await pageStats(c.page)).sub.inbound.filter((s) => s.kind === 'video' && s.framesDecoded > 0);
      return vids.length >= 2;
    }, { timeoutMs: 20000, intervalMs: 200 });
  }
  ok('all classrooms show the courseware');
  await teacher.click('#share'); // stop sharing
  for (const c of classrooms) {
    await until(`${c.name}: courseware gone after the teacher stops sharing`, async () =>
      c.page.isHidden('#screen-tile'), { timeoutMs: 10000 });
  }
  ok('courseware removed everywhere after stop');

  // one classroom leaves (Leave button, page closed) and comes back in a new page
  const leaver = classrooms[1];
  await leaver.page.click('#leave');
  await until('teacher: 2 classrooms after a leave', async () =>
    (await teacher.$$eval('#classrooms li', (els) => els.length)) === 2);
  await leaver.page.context().close();
  pages.splice(pages.indexOf(leaver.page), 1);
  ok(`${leaver.name} left`);
  const back = await joinClassroom(browser, leaver.name, { viaUrl: true });
  await checkReceiving(back.page, teacher, `${leaver.name} (rejoined)`);
  classrooms[1] = { name: leaver.name, ...back };

  // a classroom's receiving connection dies (its peer closed; the relay reports it): the
  // page makes a new one on the same websocket and decodes the teacher again
  const broken = classrooms[0];
  const oldPc = await broken.page.evaluate(() => { window.__oldPc = window.classrelay.pc; window.__oldPc.close(); return true; });
  const tBroken = Date.now();
  await until(`${broken.name}: frames on a new receiving connection`, async () => {
    const fresh = await broken.page.evaluate(() => window.classrelay.pc && window.classrelay.pc !== window.__oldPc &&
      window.classrelay.pc.connectionState === 'connected');
    if (!oldPc || !fresh) return false;
    const v = videoIn(await pageStats(broken.page));
    return v && v.framesDecoded > 10;
  }, { timeoutMs: 30000, intervalMs: 200 });
  console.log(`time  ${broken.name}: frames on a new receiving connection ${Date.now() - tBroken} ms after the old one closed`);

  if (!process.env.SKIP_RESTART) {
    // the server restarts: the teacher republishes, each classroom rejoins on its own
    for (const c of classrooms) c.before = (await pageState(c.page)).joins;
    const t0 = Date.now();
    await restartServer(server);
    for (const c of classrooms) {
      await until(`${c.name}: frames again after the server restart`, async () => {
        const st = await pageState(c.page);
        if (!st.joined || st.joins === c.before) return false; // not yet rejoined
        const v = videoIn(await pageStats(c.page));
        return v && v.framesDecoded > 0 && st.subscribe === 'connected';
      }, { timeoutMs: 45000, intervalMs: 250 });
      console.log(`time  ${c.name}: frames again ${Date.now() - t0} ms after the restart began`);
    }
    for (const c of classrooms) await checkReceiving(c.page, teacher, `${c.name} (after restart)`);
  }

  const health = await (await fetch(`${server.url}/healthz`)).json();
  ok(`healthz ${JSON.stringify(health)}`);
  const stats = await (await fetch(`${server.url}/api/v1/stats`, { headers: server.auth })).json();
  console.log(`relay ${JSON.stringify(stats.relay)}`);
  // every classroom took RED: the relay sent its audio as RED (and the teacher's RED came in)
  if (!(stats.relay.red_out > 0 && stats.relay.red_in > 0))
    throw new Error(`no RED audio through the relay: red_in ${stats.relay.red_in}, red_out ${stats.relay.red_out}`);
  ok(`RED audio: ${stats.relay.red_in} packets in from the teacher, ${stats.relay.red_out} out to classrooms`);
  const w = stats.relay.workers;
  if (!(w.length === 2 && w[0].peers > 0 && w[1].peers > 0 && stats.relay.handoff_in > 0 &&
        stats.relay.handoff_dropped === 0))
    throw new Error(`the lesson did not spread over two workers: ${JSON.stringify({ w, h: stats.relay.handoff_in })}`);
  ok(`one lesson on two workers: peers ${w[0].peers} + ${w[1].peers}, ${stats.relay.handoff_in} packets handed over`);
}

await runTest('browser_lesson', async () => {
  try { await main(); } finally { if (proxy) proxy.close(); }
}, { pages, server: () => server });
