#!/usr/bin/env node
// On a school network (issue 13): HTTPS, WSS, strict firewalls and TURN. The server runs in
// the hub namespace of tests/netem with HTTPS on 443 (its self-signed certificate, made at
// its first start; the browsers trust exactly its key with --ignore-certificate-errors-
// spki-list), coturn (Debian's) beside it from deploy/coturn.conf with TURN/TLS on another
// hub address's 443, and ClassRelay handing out TURN REST credentials (turn_uri,
// turn_secret). Three other namespaces:
//   leaf1  the teacher page, opened over https://, publishes (wss:// signaling);
//   leaf2  a classroom whose firewall drops every UDP packet out: ICE-TCP on the media port;
//   leaf3  a classroom whose firewall lets only TCP to port 443 out: its page loads over
//          HTTPS on 443, and its media goes through coturn's TURN over TLS on 443.
// Each classroom decodes the teacher's video and receives audio; the selected candidate
// pair of each page (type and protocol) is printed. Plain HTTP on the TLS port is answered
// with a redirect to https; WHIP and WHEP answers over HTTPS carry the TURN servers as Link
// headers (RFC 9725 §4.6), and a WHEP player decodes over HTTPS. Needs root.
//
// usage: node tests/integration/school_network.mjs      (from the repository root)
//   CLASSRELAY_BIN, CHROMIUM as for browser_lesson.mjs
// Exit status 0 when everything held, 1 otherwise.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  startServer, launchBrowser, openPage, pageStats, pageState, until, sleep, onCleanup, repoRoot,
  videoIn, audioIn, videoOut, runTest } from './lib/browser.mjs';
import { startNetwork } from './lib/netem.mjs';

const ROOM = 'demo';
const SECRET = crypto.randomBytes(24).toString('hex');
const pages = [];
let server = null;

function ok(msg) { console.log(`ok   ${msg}`); }

function nft(ns, rules) {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: rules });
  if (r.status !== 0) throw new Error(`nft in ${ns}: ${r.stderr}`);
}

// base64 SHA-256 of the certificate's public key, as Chromium's spki list wants it.
function spkiHash(certPath) {
  const cert = new crypto.X509Certificate(fs.readFileSync(certPath));
  const der = cert.publicKey.export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(der).digest('base64');
}

// coturn from deploy/coturn.conf, with this network's addresses, ports and the server's
// certificate filled in; the shipped hardening stays, with the hub's addresses allowed.
function startCoturn(ns, ip, certDir) {
  const dir = fs.mkdtempSync(path.join('/tmp', 'cr-coturn-'));
  let conf = fs.readFileSync(path.join(repoRoot, 'deploy', 'coturn.conf'), 'utf8')
    .replace(/^static-auth-secret=.*$/m, `static-auth-secret=${SECRET}`)
    .replace(/^cert=.*$/m, `cert=${certDir}/cert.pem`)
    .replace(/^pkey=.*$/m, `pkey=${certDir}/key.pem`)
    .replace(/^syslog$/m, `log-file=${dir}/turn.log`);
  conf += `listening-ip=${ip}\nrelay-ip=${ip}\nallowed-peer-ip=10.77.0.0-10.77.255.255\n` +
    `pidfile=${dir}/turn.pid\nuserdb=${dir}/turndb\n`;
  fs.writeFileSync(path.join(dir, 'turnserver.conf'), conf);
  const proc = spawn('ip', ['netns', 'exec', ns, 'turnserver', '-c', path.join(dir, 'turnserver.conf')],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let exited = null;
  proc.on('exit', (code) => { exited = code; });
  onCleanup(async () => {
    if (exited === null) proc.kill('SIGTERM');
    for (let i = 0; i < 50 && exited === null; i++) await sleep(50);
    if (exited === null) proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }).sync = () => { if (exited === null) proc.kill('SIGKILL'); };
  return { proc, log: () => { try { return fs.readFileSync(path.join(dir, 'turn.log'), 'utf8'); } catch { return ''; } },
    get exited() { return exited; } };
}

// The page's selected candidate pair: {local: "relay/udp via tls", remote: ...}.
async function selectedPair(page, pcName = 'pc') {
  return page.evaluate(async (pcName) => {
    const pc = window.classrelay[pcName];
    if (!pc) return null;
    const report = await pc.getStats();
    let pair = null;
    report.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId); });
    if (!pair) return null;
    const l = report.get(pair.localCandidateId), r = report.get(pair.remoteCandidateId);
    return {
      local: `${l.candidateType}/${l.protocol}${l.relayProtocol ? ` via ${l.relayProtocol}` : ''} ${l.address}:${l.port}`,
      remote: `${r.candidateType}/${r.protocol} ${r.address}:${r.port}`,
      localType: l.candidateType, relayProtocol: l.relayProtocol || null, protocol: l.protocol,
    };
  }, pcName);
}

async function watch(browser, origin, name) {
  const t0 = Date.now();
  const page = await openPage(browser, `${origin}/classroom.html?room=${ROOM}&name=${encodeURIComponent(name)}`, name);
  pages.push(page);
  await until(`${name}: first decoded video frame`, async () => {
    const st = await pageState(page);
    if (st.error) throw new Error(`${name}: ${st.error}`);
    const v = videoIn(await pageStats(page));
    return v && v.framesDecoded > 0;
  }, { timeoutMs: 45000, intervalMs: 100 });
  console.log(`time  ${name}: page open → first decoded frame ${Date.now() - t0} ms`);
  const a = videoIn(await pageStats(page));
  await sleep(2000);
  const b = videoIn(await pageStats(page));
  if (!(b.framesDecoded > a.framesDecoded + 20)) throw new Error(`${name}: framesDecoded ${a.framesDecoded} → ${b.framesDecoded}`);
  await until(`${name}: audio`, async () => (audioIn(await pageStats(page)) || {}).packetsReceived > 50,
    { timeoutMs: 15000 });
  const pair = await selectedPair(page);
  ok(`${name}: ${b.frameWidth}x${b.frameHeight}, framesDecoded ${a.framesDecoded} → ${b.framesDecoded}, ` +
     `audio packets ${audioIn(await pageStats(page)).packetsReceived}; selected pair ${pair.local} → ${pair.remote}`);
  return { page, pair };
}

async function main() {
  const netw = await startNetwork(3);
  const [teacherLeaf, noUdpLeaf, only443Leaf] = netw.leaves;
  const httpsIp = teacherLeaf.hub_ip;    // the server's HTTPS address, port 443
  const turnIp = only443Leaf.hub_ip;     // coturn's address, TURN/TLS on its 443
  const turnUri = `turn:${turnIp}:3478?transport=udp,turns:${turnIp}:443?transport=tcp`;
  server = await startServer({
    netns: netw.hub, bindIp: null, mediaPort: true,
    iceAddresses: netw.leaves.flatMap((l) => [l.ip, l.hub_ip]),
    args: ['--listen', `${httpsIp}:443`, '--tls', 'on', '--turn-uri', turnUri, '--log-level', 'info'],
    env: { CLASSRELAY_TURN_SECRET: SECRET },
  });
  const fp = /HTTPS certificate \(self-signed, (\S+)\) SHA-256 fingerprint: ([0-9A-F:]+)/.exec(server.stdout());
  if (!fp) throw new Error(`no certificate fingerprint printed: ${server.stdout()}`);
  ok(`server prints its self-signed certificate's fingerprint ${fp[2].slice(0, 23)}...`);
  const certDir = path.dirname(fp[1]);
  const spki = spkiHash(fp[1]);
  const origin = `https://${httpsIp}`;

  // plain HTTP on the TLS port: only a redirect, query kept
  const plain = spawnSync('ip', ['netns', 'exec', teacherLeaf.ns, 'curl', '-s', '-o', '/dev/null', '-w',
    '%{http_code} %{redirect_url}', `http://${httpsIp}:443/classroom.html?room=${ROOM}&name=a%20b`]);
  const [code, loc] = plain.stdout.toString().split(' ');
  if (code !== '307' || loc !== `${origin}/classroom.html?room=${ROOM}&name=a%20b`)
    throw new Error(`plain HTTP on 443: ${plain.stdout} ${plain.stderr}`);
  ok(`plain HTTP on the TLS port: ${code} → ${loc}`);

  const turn = startCoturn(netw.hub, turnIp, certDir);
  await until('coturn listening on 443', () => {
    if (turn.exited !== null) throw new Error(`turnserver exited ${turn.exited}`);
    const r = spawnSync('ip', ['netns', 'exec', netw.hub, 'ss', '-ltn', `sport = :443`]);
    return r.stdout.toString().includes(`${turnIp}:443`);
  }, { timeoutMs: 10000 });
  ok(`coturn: TURN on ${turnIp}:3478, TURN/TLS on ${turnIp}:443`);

  nft(noUdpLeaf.ns, 'table inet cr_fw { chain out { type filter hook output priority 0; ' +
    'policy accept; meta l4proto udp drop; }; }');
  nft(only443Leaf.ns, 'table inet cr_fw { chain out { type filter hook output priority 0; policy drop; ' +
    'oif lo accept; ct state established,related accept; tcp dport 443 accept; }; }');
  ok(`${noUdpLeaf.ns}: no UDP out; ${only443Leaf.ns}: only TCP 443 out`);

  const trust = [`--ignore-certificate-errors-spki-list=${spki}`];
  const tb = await launchBrowser(trust, { netns: teacherLeaf.ns });
  const teacher = await openPage(tb, `${origin}/teacher.html?room=${ROOM}&name=Master%20teacher`, 'teacher');
  pages.push(teacher);
  if (!teacher.url().startsWith('https://')) throw new Error(`teacher page at ${teacher.url()}`);
  await until('teacher: camera and join over wss', async () => {
    const st = await pageState(teacher);
    return st.joined && !(await teacher.isDisabled('#start'));
  }, { timeoutMs: 30000 });
  await teacher.click('#start');
  await until('teacher: publishing', async () => {
    const st = await pageState(teacher);
    const v = videoOut(await pageStats(teacher));
    return st.publish === 'connected' && v && v.framesEncoded > 0;
  }, { timeoutMs: 30000 });
  const tp = await selectedPair(teacher, 'pubPc');
  ok(`teacher publishing from ${teacherLeaf.ns} over https and wss; selected pair ${tp ? `${tp.local} → ${tp.remote}` : '?'}`);

  const b2 = await launchBrowser(trust, { netns: noUdpLeaf.ns });
  const noUdp = await watch(b2, origin, 'classroom-no-udp');
  if (noUdp.pair.protocol !== 'tcp') throw new Error(`no-UDP classroom on ${noUdp.pair.local}`);

  const b3 = await launchBrowser(trust, { netns: only443Leaf.ns });
  const only443 = await watch(b3, origin, 'classroom-only-443');
  if (only443.pair.localType !== 'relay' || only443.pair.relayProtocol !== 'tls')
    throw new Error(`443-only classroom on ${only443.pair.local}, not TURN over TLS`);
  const st = await only443.page.evaluate(() => JSON.parse(localStorage.getItem('classrelay.iceServers')));
  if (!st || !/^\d+:/.test(st.servers[0].username)) throw new Error(`no TURN credentials kept: ${JSON.stringify(st)}`);
  ok(`TURN credentials handed out: username ${st.servers[0].username}, valid ${Math.round(st.expires - Date.now() / 1000)} s`);

  // WHEP over TLS: a player page (tools/whip.html) in the no-UDP classroom decodes
  const player = await openPage(b2, `${origin}/tools/whip.html?room=${ROOM}&mode=play&token=${server.token}`, 'whep-player');
  pages.push(player);
  await until('whep-player: decoded video over https', async () => {
    const s2 = await pageState(player);
    if (s2.error) throw new Error(`whep-player: ${s2.error}`);
    const v = videoIn(await pageStats(player));
    return v && v.framesDecoded > 10;
  }, { timeoutMs: 30000, intervalMs: 100 });
  ok('WHEP player over https decodes');
  // WHIP and WHEP answers over TLS carry the TURN servers as Link headers (RFC 9725 §4.6)
  const answers = await player.evaluate(async (token) => {
    const post = async (url, direction) => {
      const pc = new RTCPeerConnection();
      pc.addTransceiver('audio', { direction });
      pc.addTransceiver('video', { direction });
      await pc.setLocalDescription(await pc.createOffer());
      const r = await fetch(url, { method: 'POST', body: pc.localDescription.sdp,
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` } });
      const out = { status: r.status, link: r.headers.get('Link') };
      if (r.headers.get('Location'))
        await fetch(r.headers.get('Location'), { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
      pc.close();
      return out;
    };
    return [await post('/whep/demo', 'recvonly'), await post('/whip/tls-whip', 'sendonly')];
  }, server.token);
  const want = [`<turn:${turnIp}:3478?transport=udp>; rel="ice-server"`, `<turns:${turnIp}:443?transport=tcp>; rel="ice-server"`];
  for (const links of answers) {
    if (links.status !== 201 || !links.link || !want.every((w) => links.link.includes(w)) ||
        !/username="\d+:[^"]+"; credential="[A-Za-z0-9+/=]{28}"; credential-type="password"/.test(links.link))
      throw new Error(`WHIP/WHEP answer's Link headers: ${JSON.stringify(answers)}`);
  }
  const links = answers[0];
  ok(`WHEP and WHIP 201 over https, each with ${links.link.split('rel="ice-server"').length - 1} ice-server Link headers`);
}

await runTest('school_network', main, { pages, server: () => server });
