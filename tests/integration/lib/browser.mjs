// Shared helpers for the Chromium browser tests (tests/integration/browser_*.mjs):
// start a classrelay server on a free port with a temporary data directory, launch
// Debian's headless chromium through playwright-core with the flags that work here
// (../../../shared/TESTING.md: loopback ICE, fake camera and microphone), read a page's
// window.classrelay stats, poll with a deadline, and clean everything up on any exit.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..', '..');

export const CHROMIUM_FLAGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage', '--mute-audio', '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required',
  '--allow-loopback-in-peer-connection',
  // background tabs (several classrooms in one browser) must not be throttled
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];
// the fake camera at 30 frames a second (its default is 20): for tests whose figures are
// frame rates a classroom would see from a real camera
export const CAMERA_30FPS = '--use-fake-device-for-media-stream=fps=30';

// ---- a network of the test's own: loopback only ----
// Chromium gathers ICE candidates on every interface and nominates the machine's other
// addresses over loopback (checks from 192.0.2.x reach the server's 127.0.0.1), so a
// server bound to 127.0.0.1 alone does not keep test media on loopback. The test process
// therefore runs itself again in a new network namespace that has nothing but lo (as root,
// else in a user namespace), with the server and every browser it starts: no address but
// 127.0.0.1 exists there. CR_TEST_NET=host runs in the machine's network instead.
if (!process.env.CR_TEST_NET) {
  const userns = process.getuid() === 0 ? [] : ['--user', '--map-root-user'];
  const probe = spawnSync('unshare', [...userns, '--net', '--', 'ip', 'link', 'set', 'lo', 'up']);
  if (probe.status !== 0) {
    console.log(`note: cannot make a private network (unshare: ${(probe.stderr || probe.error || '').toString().trim()});` +
      ' running in the machine\'s network');
  } else {
    const child = spawn('unshare', [...userns, '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"',
      process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, CR_TEST_NET: 'private' } });
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
    const code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
    process.exit(code);
  }
}

const cleanups = [];
let cleaning = false;

// Registers fn to run once at exit (normal, error, or signal). Returns fn.
export function onCleanup(fn) {
  cleanups.push(fn);
  return fn;
}

export async function cleanup() {
  if (cleaning) return;
  cleaning = true;
  for (const fn of cleanups.reverse()) {
    try { await fn(); } catch (err) { console.error('cleanup:', err.message); }
  }
}

function killSync() { // last resort in 'exit', where nothing async runs
  for (const fn of cleanups) if (fn.sync) try { fn.sync(); } catch { /* ignore */ }
}
process.on('exit', killSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => { await cleanup(); process.exit(1); });
}
process.on('uncaughtException', async (err) => {
  console.error('FAIL (uncaught):', err);
  await cleanup();
  process.exit(1);
});
process.on('unhandledRejection', async (err) => {
  console.error('FAIL (unhandled rejection):', err);
  await cleanup();
  process.exit(1);
});

// A UDP port that was free a moment ago on 127.0.0.1, with the `run - 1` after it (the shared
// media port of each worker: --media-port P serves P, P+1, ...).
export async function freeUdpPort(run = 16) {
  const bind = (port) => new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.on('error', () => resolve(null));
    sock.bind(port, '127.0.0.1', () => resolve(sock));
  });
  for (;;) {
    const first = await bind(0);
    const port = first.address().port;
    const rest = [];
    for (let i = 1; i < run; i++) rest.push(await bind(port + i));
    const all = [first, ...rest];
    await Promise.all(all.filter(Boolean).map((s) => new Promise((r) => s.close(r))));
    if (rest.every(Boolean)) return port;
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn() until it returns a truthy value; throws with the last value after timeoutMs.
export async function until(what, fn, { timeoutMs = 20000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` +
        (last !== undefined ? ` (last: ${JSON.stringify(last)})` : ''));
    }
    await sleep(intervalMs);
  }
}

const serverBin = () => process.env.CLASSRELAY_BIN || path.join(repoRoot, 'build', 'signaling', 'classrelay');

// ---- ICE stays on the test's own addresses ----
// Every server a test starts gathers ICE candidates only on bindIp (--bind-ip): loopback,
// or in an emulated network (weak_links) an address of its namespace. Media must never go
// to the machine's other addresses. When the server stops, its log's selected pairs
// ("ice: selected pair udp L -> R", "peer nominated a new remote address") are checked:
// both ends must be among server.iceAddresses; otherwise the test fails, whatever it said.
const iceFailures = [];

function pairAddresses(log) {
  const out = [];
  const re = /(?:selected pair|new remote address:) (?:udp|tcp) (\S+) -> (\S+)/g;
  const host = (hp) => (hp.startsWith('[') ? hp.slice(1, hp.indexOf(']')) : hp.slice(0, hp.lastIndexOf(':')));
  for (const m of log.matchAll(re)) out.push({ local: host(m[1]), remote: host(m[2]), line: m[0] });
  return out;
}

// Checks the pairs in the server's log now; returns the number of pairs seen.
export function checkIceAddresses(server) {
  const pairs = pairAddresses(server.log());
  const bad = pairs.filter((p) => !server.iceAddresses.has(p.local) || !server.iceAddresses.has(p.remote));
  for (const p of bad) {
    const msg = `ICE left the test's addresses (${[...server.iceAddresses].join(', ')}): ${p.line}`;
    if (!iceFailures.includes(msg)) { iceFailures.push(msg); console.log(`FAIL ${msg}`); }
  }
  return pairs.length;
}

process.on('exit', () => {
  if (!iceFailures.length) return;
  console.log(`FAIL: ${iceFailures.length} ICE pair(s) outside the test's addresses (see above)`);
  process.exitCode = 1;    // also after process.exit(0): 'exit' listeners may still change it
});

// Starts `classrelay serve` on a free port with a fresh data directory. netns: run it
// inside that network namespace, listening on every address there. bindIp: the one local
// address ICE uses (default loopback; null: every address of the server's namespace);
// iceAddresses: the addresses that may appear in a selected pair besides it (weak_links:
// the emulated network's). bin: another classrelay binary than CLASSRELAY_BIN. mediaPort:
// every peer on one shared port (--media-port, ICE lite: the server's default), a free one;
// false: a port per peer (--media-port 0, libnice).
export async function startServer({
  args = [], env = {}, quiet = true, netns = null, bin = serverBin(), bindIp = '127.0.0.1',
  iceAddresses = [], mediaPort = false,
} = {}) {
  const mediaArgs = ['--media-port', mediaPort ? String(netns ? 40000 : await freeUdpPort()) : '0'];
  args = [...args, ...mediaArgs];
  if (!fs.existsSync(bin)) throw new Error(`no classrelay binary at ${bin} (set CLASSRELAY_BIN)`);
  const port = netns ? 8080 : await freePort(); // a namespace of our own has every port free
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'classrelay-test-'));
  const logPath = path.join(dataDir, 'server.log');
  const logFd = fs.openSync(logPath, 'a');
  // a namespace's server listens on every address there, where HTTPS would be the default
  const argv = ['serve', '--listen', `${netns ? '0.0.0.0' : '127.0.0.1'}:${port}`, '--data', dataDir,
    ...(netns && !args.includes('--tls') ? ['--no-tls'] : []), ...(bindIp ? ['--bind-ip', bindIp] : []), ...args];
  const proc = spawn(netns ? 'ip' : bin, netns ? ['netns', 'exec', netns, bin, ...argv] : argv, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', logFd],
  });
  fs.closeSync(logFd);
  let stdout = '';
  proc.stdout.on('data', (d) => { stdout += d; });
  let exited = null;
  proc.on('exit', (code, signal) => { exited = { code, signal }; });
  const server = {
    proc, port, dataDir, logPath, bin, bindIp, serveArgs: args, // kept for restartServer
    iceAddresses: new Set(['127.0.0.1', ...(bindIp ? [bindIp] : []), ...iceAddresses]),
    url: `http://127.0.0.1:${port}`,
    log: () => { try { return fs.readFileSync(logPath, 'utf8'); } catch { return ''; } },
    // everything the server printed on stdout so far (the URL, first-start credentials)
    stdout: () => stdout,
    async waitForOutput(re, { timeoutMs = 10000 } = {}) {
      return until(`the server to print ${re}`, () => {
        const m = re.exec(stdout);
        if (m) return m;
        if (exited) throw new Error(`classrelay exited (${JSON.stringify(exited)}) before printing ${re}`);
        return false;
      }, { timeoutMs, intervalMs: 50 });
    },
    async stop() {
      if (exited) return exited;
      proc.kill('SIGTERM');
      const t0 = Date.now();
      while (!exited && Date.now() - t0 < 5000) await sleep(50);
      if (!exited) { proc.kill('SIGKILL'); while (!exited) await sleep(50); }
      return exited;
    },
    get exited() { return exited; },
  };
  const fn = onCleanup(async () => {
    await server.stop();
    const pairs = checkIceAddresses(server);
    if (!quiet || process.env.KEEP_DATA) console.log(`ICE: ${pairs} selected pair(s) in the server log, all on ${[...server.iceAddresses].join(', ')}`);
    if (!process.env.KEEP_DATA) fs.rmSync(dataDir, { recursive: true, force: true });
    else console.log(`kept ${dataDir}`);
  });
  fn.sync = () => { if (!exited) proc.kill('SIGKILL'); };
  await until('the server to print its URL', () => {
    if (exited) throw new Error(`classrelay exited early (${JSON.stringify(exited)}):\n${server.log()}`);
    return stdout.includes('ClassRelay serving');
  }, { timeoutMs: 10000, intervalMs: 50 });
  if (!quiet) console.log(stdout.trim());
  // an admin token of this server (docs/scheduling.md): REST calls and rooms outside the
  // schedule need one; server.auth is the header to send with fetch
  server.token = mintToken(server, { role: 'admin' });
  server.auth = { Authorization: `Bearer ${server.token}` };
  return server;
}

// A token signed with the server's key: `classrelay token` (docs/scheduling.md).
export function mintToken(server, { role, room = null, ttl = 86400, name = null }) {
  const bin = server.bin || serverBin();
  const args = ['token', '--data', server.dataDir, '--role', role, '--ttl', String(ttl)];
  if (room) args.push('--room', room);
  if (name) args.push('--name', name);
  return execFileSync(bin, args, { encoding: 'utf8' }).trim();
}

// Restarts a stopped server on the same port and data directory.
export async function restartServer(server, { args = [] } = {}) {
  await server.stop();
  const logFd = fs.openSync(server.logPath, 'a');
  const proc = spawn(server.bin, ['serve', '--listen', `127.0.0.1:${server.port}`, '--data', server.dataDir,
    ...(server.bindIp ? ['--bind-ip', server.bindIp] : []), ...server.serveArgs, ...args], {
    stdio: ['ignore', 'pipe', logFd],
  });
  fs.closeSync(logFd);
  let stdout = '';
  let exited = null;
  proc.stdout.on('data', (d) => { stdout += d; });
  proc.on('exit', (code, signal) => { exited = { code, signal }; });
  server.proc = proc;
  server.stop = async () => {
    if (exited) return exited;
    proc.kill('SIGTERM');
    const t0 = Date.now();
    while (!exited && Date.now() - t0 < 5000) await sleep(50);
    if (!exited) { proc.kill('SIGKILL'); while (!exited) await sleep(50); }
    return exited;
  };
  onCleanup(() => server.stop()).sync = () => { if (!exited) proc.kill('SIGKILL'); };
  await until('the restarted server', () => {
    if (exited) throw new Error(`classrelay exited early (${JSON.stringify(exited)})`);
    return stdout.includes('ClassRelay serving');
  }, { timeoutMs: 10000, intervalMs: 50 });
}

// netns: the browser runs inside that network namespace (through a wrapper script that
// `ip netns exec`s chromium; playwright talks to it over a pipe, which crosses namespaces).
export async function launchBrowser(extraArgs = [], { netns = null } = {}) {
  let executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (netns) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cr-ns-chromium-'));
    const wrapper = path.join(dir, 'chromium');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${netns} ${executablePath} "$@"\n`, { mode: 0o755 });
    onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
    executablePath = wrapper;
  }
  const browser = await chromium.launch({
    executablePath,
    args: [...CHROMIUM_FLAGS, ...extraArgs],
    headless: true,
  });
  onCleanup(() => browser.close());
  return browser;
}

// web/tools/whip.html publishing the fake camera and microphone to room by WHIP, once it is
// connected and encoding (the caller keeps the page in its list to close).
export async function openWhipPublisher(browser, server, room, label = 'whip-publisher') {
  const page = await openPage(browser, `${server.url}/tools/whip.html?room=${room}&mode=publish&token=${server.token}`, label);
  await until(`${label}: connected and sending`, async () => {
    const st = await pageState(page);
    if (st.error) throw new Error(`${label}: ${st.error}`);
    const v = videoOut(await pageStats(page));
    return st.peer === 'connected' && v && v.framesEncoded > 0;
  }, { timeoutMs: 30000 });
  return page;
}

// Opens url in a new context (a separate simulated machine) and keeps its console.
// viewport: a smaller window costs less to composite (several browsers share 2 cores).
// token: signed in as that token's holder (the cr_session cookie that login sets).
export async function openPage(browser, url, label, { viewport = null, token = null } = {}) {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'], ...(viewport ? { viewport } : {}) });
  if (token) await context.addCookies([{ name: 'cr_session', value: token, url: new URL(url).origin }]);
  return keepConsole(await context.newPage(), url, label);
}

// Keeps the last 200 console lines of page (for diagnostics), then opens url if given.
async function keepConsole(page, url, label) {
  page.consoleLines = [];
  page.label = label;
  page.on('console', (m) => {
    page.consoleLines.push(`${m.type()}: ${m.text()}`);
    if (page.consoleLines.length > 200) page.consoleLines.shift();
  });
  page.on('pageerror', (e) => page.consoleLines.push(`pageerror: ${e.message}`));
  if (url) await page.goto(url);
  return page;
}

export function pageStats(page) {
  return page.evaluate(() => window.classrelay.stats());
}

export function pageState(page) {
  return page.evaluate(() => window.classrelay.state);
}

export function videoIn(stats) {
  return stats.sub.inbound.filter((s) => s.kind === 'video').sort((a, b) => b.framesDecoded - a.framesDecoded)[0];
}

export function audioIn(stats) {
  return stats.sub.inbound.filter((s) => s.kind === 'audio').sort((a, b) => b.packetsReceived - a.packetsReceived)[0];
}

export function videoOut(stats) {
  return stats.pub.outbound.filter((s) => s.kind === 'video').sort((a, b) => b.framesEncoded - a.framesEncoded)[0];
}

// A teacher page is publishing: joined, its publishing connection connected and encoding.
export async function teacherPublishing(teacher) {
  const st = await pageState(teacher);
  const v = videoOut(await pageStats(teacher));
  return st.joined && st.publish === 'connected' && v && v.framesEncoded > 0;
}

// Prints what helps to diagnose a failure: each page's console and the server log tail.
export function dumpDiagnostics(pages, server) {
  for (const p of pages) {
    if (!p) continue;
    console.error(`--- console of ${p.label} (last 40 lines) ---`);
    console.error(p.consoleLines.slice(-40).join('\n'));
  }
  if (server) {
    console.error('--- server log (last 60 lines) ---');
    console.error(server.log().split('\n').slice(-60).join('\n'));
  }
}

// Runs a test's main once: prints "PASS name", or "FAIL name: why" with each page's console
// and the server log; cleans up and exits with the status. Checks noted in failures (and not
// thrown) fail the test too. server is a function: the server as it is when main ends.
export async function runTest(name, main, { pages, server, failures = [] }) {
  let status = 0;
  try {
    await main();
    if (failures.length) throw new Error(`${failures.length} check(s) failed`);
    console.log(`PASS ${name}`);
  } catch (err) {
    status = 1;
    console.error(`FAIL ${name}: ${err.message}`);
    dumpDiagnostics(pages, server());
  }
  await cleanup();
  process.exit(status);
}

// Opens url in a new context without camera permission or cookies of any other context
// (a fresh machine), keeping its console like openPage. options go to newContext.
export async function openFreshPage(browser, url, label, options = {}) {
  const context = await browser.newContext(options);
  return keepConsole(await context.newPage(), url, label);
}
