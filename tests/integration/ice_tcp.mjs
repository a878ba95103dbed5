#!/usr/bin/env node
// ICE-TCP on the shared media port (RFC 6544 passive candidates beside the UDP ones, RFC
// 4571 framing): the server and a WHIP publisher in the hub namespace of tests/netem, the
// publisher on UDP; a WHEP player in a classroom namespace whose firewall drops every UDP
// packet it would send (nftables, what a school that lets only TCP out does) must connect
// over TCP to the same port number, decode increasing video frames and receive audio; the
// relay's log names the pair it selected for each, and the player's is tcp. The player then
// leaves, and the relay's ICE-TCP connection count returns to zero. Needs root.
//
// usage: node tests/integration/ice_tcp.mjs      (from the repository root)
//   CLASSRELAY_BIN, CHROMIUM as for browser_lesson.mjs
// Exit status 0 when everything held, 1 otherwise.
import { spawnSync } from 'node:child_process';
import {
  startServer, launchBrowser, openPage, openWhipPublisher, pageStats, pageState, until, sleep,
  videoIn, audioIn, runTest } from './lib/browser.mjs';
import { startNetwork } from './lib/netem.mjs';

const ROOM = 'tcp-test';
const pages = [];
let server = null;

function ok(msg) { console.log(`ok   ${msg}`); }

let hubPage = null; // the server is in the hub namespace: asked from a page there

async function relayStats() {
  return hubPage.evaluate(async (auth) => (await (await fetch('/api/v1/stats', { headers: auth })).json()).relay,
    server.auth);
}

async function main() {
  const netw = await startNetwork(1);
  const leaf = netw.leaves[0];
  server = await startServer({
    netns: netw.hub, bindIp: null, iceAddresses: [leaf.ip, leaf.hub_ip], mediaPort: true,
    args: ['--log-level', 'info'],
  });
  const port = server.serveArgs[server.serveArgs.indexOf('--media-port') + 1];
  console.log(`server ${server.url} in ${netw.hub}, media port ${port} (UDP and TCP)`);
  const rules = 'table inet cr_no_udp { chain out { type filter hook output priority 0; ' +
    'policy accept; meta l4proto udp drop; }; }';
  const nft = spawnSync('ip', ['netns', 'exec', leaf.ns, 'nft', '-f', '-'], { input: rules });
  if (nft.status !== 0) throw new Error(`nft in ${leaf.ns}: ${nft.stderr}`);
  ok(`${leaf.ns}: every UDP packet out is dropped`);
  const browser = await launchBrowser([], { netns: netw.hub });
  const publisher = await openWhipPublisher(browser, server, ROOM);
  pages.push(publisher);
  hubPage = publisher;
  ok('publisher sending over UDP');

  const origin = `http://${leaf.hub_ip}:${server.port}`;
  const tcpOnly = await launchBrowser([`--unsafely-treat-insecure-origin-as-secure=${origin}`], { netns: leaf.ns });
  const t0 = Date.now();
  const player = await openPage(tcpOnly, `${origin}/tools/whip.html?room=${ROOM}&mode=play&token=${server.token}`, 'tcp-player');
  pages.push(player);
  await until('tcp-player: decoded video over ICE-TCP', async () => {
    const st = await pageState(player);
    if (st.error) throw new Error(`player: ${st.error}`);
    const v = videoIn(await pageStats(player));
    return v && v.framesDecoded > 0;
  }, { timeoutMs: 30000, intervalMs: 50 });
  console.log(`time  tcp-player: page open → first decoded frame ${Date.now() - t0} ms`);
  const a = videoIn(await pageStats(player));
  await sleep(2000);
  const b = videoIn(await pageStats(player));
  if (!(b.framesDecoded > a.framesDecoded + 20)) throw new Error(`framesDecoded ${a.framesDecoded} → ${b.framesDecoded}`);
  await until('tcp-player: audio', async () => (audioIn(await pageStats(player)) || {}).packetsReceived > 0,
    { timeoutMs: 10000 });
  ok(`tcp-player: ${b.frameWidth}x${b.frameHeight}, framesDecoded ${a.framesDecoded} → ${b.framesDecoded}, ` +
     `audio packets ${audioIn(await pageStats(player)).packetsReceived}`);

  const pairs = server.log().split('\n').filter((l) => /selected pair/.test(l)).map((l) => l.replace(/.*selected pair /, ''));
  console.log(`pairs ${JSON.stringify(pairs)}`);
  // worker i serves the media port + i, over UDP and TCP alike
  const onPort = (p) => { const m = /:(\d+) ->/.exec(p); return m && m[1] - port >= 0 && m[1] - port < 16; };
  if (!pairs.some((p) => p.startsWith('udp ')) || !pairs.some((p) => p.startsWith('tcp ') && onPort(p)))
    throw new Error(`expected a udp pair (publisher) and a tcp pair on the media port (player): ${pairs}`);
  const st = await relayStats();
  if (!(st.tcp_connections >= 1)) throw new Error(`tcp_connections ${st.tcp_connections}`);
  ok(`selected: publisher ${pairs.find((p) => p.startsWith('udp '))}, player ${pairs.find((p) => p.startsWith('tcp '))}; ` +
     `${st.tcp_connections} ICE-TCP connection(s) open`);

  await player.evaluate(() => window.classrelay.stop());
  await player.context().close();
  pages.splice(pages.indexOf(player), 1);
  await until('the player\'s TCP connection closed', async () => (await relayStats()).tcp_connections === 0,
    { timeoutMs: 15000 });
  ok('player gone: no ICE-TCP connection left');
}

await runTest('ice_tcp', main, { pages, server: () => server });
