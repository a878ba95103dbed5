#!/usr/bin/env node
// A cluster of three nodes on this machine (issue 14, docs/cluster.md "Testing"): Redis,
// PostgreSQL and three ClassRelay nodes A, B and C, each node in a network namespace of its
// own, all started and removed here. tests/netem gives the namespaces: leaves 1-3 hold the
// nodes (10.77.<k>.2), leaf 4 a school whose headless Chromium holds every page, and the
// hub, which routes between the leaves, holds redis-server (TCP on the hub's addresses)
// and PostgreSQL (tools/pg_tmp.sh: a unix socket only; the namespaces share the file
// system, so every node reaches it). The nodes share --redis, --store and --secret-file.
//   1. a lesson booked through B's REST API is read back from C;
//   2. a teacher page publishes on A; classroom pages opened on A, B and C decode it, B and
//      C pulling the lesson from A by themselves (cascade links). Printed: each page's time
//      from opening to its first decoded frame (through B against on A: the extra delay of a
//      cascade) and the one-way delay of the teacher's sender reports to it;
//   3. the recording that A makes is in the catalogue read from C (its folder is on A);
//   4. 50 light subscribers on B (tests/bench/bench_subscribers, WHEP, no decoding) while B
//      pulls the teacher's stream from A once: A's link counters, B's packets in and out;
//   5. SIGKILL of C: its classroom's page goes to another node (the join reply's "nodes",
//      web/js/common.js) and decodes again within 5 s; C is started again (a new node), as
//      a supervisor would;
//   6. SIGKILL of redis-server, started again (empty) 5 s later: no classroom stops
//      decoding (no gap over 1 s, no page joins again); every node's lease comes back;
//   7. SIGKILL of A, the lesson's origin: the teacher page publishes again on another node,
//      and every classroom decodes again within 10 s.
// Recovery times are printed as "figure" lines (docs/benchmarks.md). At the end every
// node's selected ICE pairs must be on the test's addresses (lib/browser.mjs). Needs root.
//
// usage: node tests/integration/cluster_nodes.mjs      (from the repository root)
//   CLASSRELAY_BIN     server binary (default build/signaling/classrelay)
//   BENCH_SUBSCRIBERS  the light subscribers (default: build/tests/bench/bench_subscribers)
//   LIGHT              how many (default 50; 0 leaves step 4 out)
import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import {
  launchBrowser, onCleanup, openPage, pageState, pageStats, repoRoot, runTest, sleep, startServer,
  teacherPublishing, until, videoIn,
} from './lib/browser.mjs';
import { startNetwork } from './lib/netem.mjs';

const run = promisify(execFile);
const ROOM = 'demo';
const METRICS_TOKEN = 'm';
const LIMIT_C_MS = 5000;      // a dead edge's classrooms decode again through another node
const LIMIT_A_MS = 10000;     // a dead origin's teacher and classrooms are back
const MAX_GAP_MS = 1000;      // "no classroom stops decoding" while Redis is away
const REDIS_DOWN_MS = 5000;  // longer than a lease (3 s): the directory goes out of date
const LIGHT = Number(process.env.LIGHT ?? 50);
const BIN = process.env.CLASSRELAY_BIN || path.join(repoRoot, 'build', 'signaling', 'classrelay');
const BENCH = process.env.BENCH_SUBSCRIBERS ||
  path.join(path.dirname(path.dirname(BIN)), 'tests', 'bench', 'bench_subscribers');
const REDIS_TMP = path.join(repoRoot, 'tools', 'redis_tmp.sh');
const PG_TMP = path.join(repoRoot, 'tools', 'pg_tmp.sh');

const pages = [];
const failures = [];
const nodes = {};           // name -> the node now running under that name (lib/browser.mjs server)
const cl = {};              // the cluster: netw, school, redis, pg, secret, token, classrooms
const started = [];         // every node started, killed ones too (diagnostics)

function ok(msg) { console.log(`ok   ${msg}`); }
function check(cond, msg) {
  if (cond) ok(msg);
  else { failures.push(msg); console.log(`FAIL ${msg}`); }
  return cond;
}
const secs = (ms) => (ms / 1000).toFixed(2);

// ---- the cluster's parts ----

// redis-server on every address of the hub (each node reaches it over its own link).
async function startRedis() {
  const dir = path.join(cl.tmp, 'redis');
  const ns = ['netns', 'exec', cl.netw.hub];
  await run('ip', [...ns, REDIS_TMP, 'start', dir, '0.0.0.0']);
  const port = fs.readFileSync(path.join(dir, 'redis.port'), 'utf8').trim();
  onCleanup(() => run(REDIS_TMP, ['stop', dir]).catch(() => {}));
  return {
    port, url: (leaf) => `redis://${leaf.hub_ip}:${port}`,
    kill: () => run(REDIS_TMP, ['kill', dir]),
    start: () => run('ip', [...ns, REDIS_TMP, 'start', dir]),
  };
}

async function startPostgres() {
  const dir = path.join(cl.tmp, 'pg');
  const { stdout } = await run('ip', ['netns', 'exec', cl.netw.hub, PG_TMP, 'start', dir]);
  onCleanup(() => run(PG_TMP, ['stop', dir]).catch(() => {}));
  return stdout.trim();
}

// Node name on leaf: a classrelay serve in the leaf's namespace, its media on the leaf's
// address, in the cluster.
async function startNode(name, leaf) {
  const node = await startServer({
    netns: leaf.ns, bindIp: leaf.ip, mediaPort: true,
    iceAddresses: cl.netw.leaves.map((l) => l.ip),
    args: ['--node-url', `http://${leaf.ip}:8080`, '--redis', cl.redis.url(leaf), '--store', cl.pg,
      '--secret-file', cl.secret, '--metrics-token', METRICS_TOKEN],
  });
  Object.assign(node, { name, leaf, url: `http://${leaf.ip}:${node.port}`, startedAt: Date.now() });
  nodes[name] = node;
  started.push(node);
  return node;
}

function killNode(node) {
  node.proc.kill('SIGKILL');
  return Date.now();
}

// The last lines of every node's log, for runTest's diagnostics.
const allLogs = {
  log: () => started.map((n) => `=== node ${n.name} (${n.url}, data ${n.dataDir})\n` +
    n.log().split('\n').slice(-25).join('\n')).join('\n'),
};

// An HTTP request from the school's namespace (curl): {status, text, json()}; status 0 when
// nothing answered.
async function http(method, url, { body, token = cl.token } = {}) {
  const args = ['netns', 'exec', cl.school.ns, 'curl', '-sS', '-m', '5', '-X', method, '-w', '\n%{http_code}'];
  if (token) args.push('-H', `Authorization: Bearer ${token}`);
  if (body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body));
  try {
    const { stdout } = await run('ip', [...args, url], { maxBuffer: 1 << 24 });
    const nl = stdout.lastIndexOf('\n');
    const text = stdout.slice(0, nl);
    return { status: Number(stdout.slice(nl + 1)), text, json: () => JSON.parse(text) };
  } catch (err) {
    return { status: 0, text: err.message, json: () => null };
  }
}

async function metric(node, name) {
  const r = await http('GET', `${node.url}/metrics`, { token: METRICS_TOKEN });
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(r.text);
  return m ? Number(m[1]) : null;
}

async function relayStats(node) {
  const r = await http('GET', `${node.url}/api/v1/stats`);
  if (r.status !== 200) throw new Error(`${node.name}: /api/v1/stats ${r.status}`);
  return r.json();
}

// Every node of `live` knows all of them, and Redis.
async function clusterFormed(live, what, timeoutMs = 15000) {
  return until(what, async () => {
    for (const n of live) {
      if (await metric(n, 'classrelay_cluster_redis_up') !== 1) return false;
      if (await metric(n, 'classrelay_cluster_nodes') !== live.length) return false;
    }
    return Date.now();
  }, { timeoutMs, intervalMs: 100 });
}

// ---- pages ----

// What a classroom page shows now: joins so far, video frames decoded.
async function sampleClassroom(c) {
  const st = await pageState(c.page);
  const v = st.joined ? videoIn(await pageStats(c.page)) : null;
  return { t: Date.now(), joins: st.joins, frames: v ? v.framesDecoded : -1 };
}

// Every 250 ms until stopped, each classroom's samples (c.samples) and the teacher's;
// resolves once every page has one, to a function that stops it.
async function watchPages(teacher, classrooms) {
  let on = true;
  let rounds = 0;
  const loop = (async () => {
    while (on) {
      for (const c of classrooms) c.samples.push(await sampleClassroom(c).catch(() => ({ t: Date.now(), joins: -1, frames: -1 })));
      const st = await pageState(teacher.page).catch(() => ({}));
      teacher.samples.push({ t: Date.now(), joined: !!st.joined, publishing: await teacherPublishing(teacher.page).catch(() => false) });
      rounds++;
      await sleep(250);
    }
  })();
  await until('a first look at every page', () => rounds > 0, { intervalMs: 50 });
  return async () => { on = false; await loop; };
}

// When classroom c decodes again after `from`: its first new frame on a join later than the
// one it had then (rejoin), else its first new frame after a stall of at least 1 s.
function decodingAgain(c, from, rejoin) {
  const s = c.samples.filter((x) => x.t >= from);
  const before = c.samples.filter((x) => x.t < from).at(-1);
  let stalledSince = null;
  for (let i = 1; i < s.length; i++) {
    const grew = s[i].frames > s[i - 1].frames && s[i].frames > 0;
    if (rejoin) {
      if (grew && s[i].joins > before.joins) return s[i].t;
    } else if (!grew) {
      if (stalledSince === null) stalledSince = s[i - 1].t;
    } else if (stalledSince !== null && s[i - 1].t - stalledSince >= 1000) {
      return s[i].t;
    } else {
      stalledSince = null;
    }
  }
  return null;
}

// The longest time classroom c went without a new frame in [from, to], and whether it
// joined again meanwhile.
function longestGap(c, from, to) {
  const s = c.samples.filter((x) => x.t >= from && x.t <= to);
  let gap = 0;
  let last = s.length ? s[0].t : from;
  for (let i = 1; i < s.length; i++) {
    if (s[i].frames > s[i - 1].frames) last = s[i].t;
    gap = Math.max(gap, s[i].t - last);
  }
  return { gap, rejoined: s.length > 0 && s.at(-1).joins !== s[0].joins };
}

// The node whose address is the remote end of the page's selected pair for pcName.
async function servedBy(page, pcName = 'pc') {
  const ip = await page.evaluate(async (pcName) => {
    const pc = window.classrelay[pcName];
    if (!pc) return null;
    const report = await pc.getStats();
    let ip = null;
    report.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) {
        const pair = report.get(s.selectedCandidatePairId);
        ip = pair && report.get(pair.remoteCandidateId).address;
      }
    });
    return ip;
  }, pcName);
  const n = Object.values(nodes).find((x) => x.leaf.ip === ip);
  return n ? n.name : `? (${ip})`;
}

// The one-way delay from the teacher's browser to a classroom page, in ms: the teacher's
// sender reports cross the relay (and a cascade link) translated but with their NTP time
// kept, and getStats' remote-outbound-rtp gives that time (remoteTimestamp) beside the
// moment the report arrived (timestamp). Both browsers run on this machine, one clock.
// The median over the video reports that arrive in `ms`.
async function senderReportDelay(page, ms = 4000) {
  const seen = new Map();
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const got = await page.evaluate(async () => {
      const out = [];
      const pc = window.classrelay.pc;
      if (pc) {
        (await pc.getStats()).forEach((s) => {
          if (s.type === 'remote-outbound-rtp' && s.kind === 'video' && s.remoteTimestamp)
            out.push([s.remoteTimestamp, s.timestamp - s.remoteTimestamp]);
        });
      }
      return out;
    });
    for (const [k, d] of got) seen.set(k, d);
    await sleep(300);
  }
  const d = [...seen.values()].sort((a, b) => a - b);
  return d.length ? d[Math.floor(d.length / 2)] : null;
}

async function openTeacher(browser, node) {
  const page = await openPage(browser, `${node.url}/teacher.html?room=${ROOM}&name=Teacher`, 'teacher',
    { viewport: { width: 480, height: 360 } });
  pages.push(page);
  await until('teacher: camera and join', async () =>
    (await pageState(page)).joined && !(await page.isDisabled('#start')), { timeoutMs: 30000 });
  await page.click('#start');
  await until('teacher: publishing', () => teacherPublishing(page), { timeoutMs: 30000 });
  ok(`teacher publishing on ${await servedBy(page, 'pubPc')}`);
  return { page, samples: [] };
}

async function openClassroom(browser, name, node) {
  const t0 = Date.now();
  const page = await openPage(browser, `${node.url}/classroom.html?room=${ROOM}&name=${encodeURIComponent(name)}`, name,
    { viewport: { width: 320, height: 240 } });
  pages.push(page);
  await until(`${name}: first decoded frame through ${node.name}`, async () => {
    const v = videoIn(await pageStats(page));
    return v && v.framesDecoded > 0;
  }, { timeoutMs: 30000, intervalMs: 50 });
  const c = { name, page, firstFrameMs: Date.now() - t0, samples: [] };
  console.log(`time  ${name}: page opened on ${node.name} → first decoded frame ${c.firstFrameMs} ms (served by ${await servedBy(page)})`);
  return c;
}

// ---- the steps ----

async function booking(B, C) {
  const u = await http('POST', `${B.url}/api/v1/users`, {
    body: { username: 'wangli', password: 'pw-wangli-123', name: 'Wang Li', role: 'teacher' },
  });
  if (u.status !== 201) throw new Error(`POST user on B: ${u.status} ${u.text}`);
  const start = Math.ceil(Date.now() / 60000) * 60000 + 86400000;
  const body = { title: 'Fractions, booked on B', teacher_id: u.json().id, start_ms: start, end_ms: start + 45 * 60000, classrooms: [] };
  const l = await http('POST', `${B.url}/api/v1/lessons`, { body });
  if (l.status !== 201) throw new Error(`POST lesson on B: ${l.status} ${l.text}`);
  const lesson = l.json();
  const got = await http('GET', `${C.url}/api/v1/lessons/${lesson.id}`);
  check(got.status === 200 && got.json().title === body.title && got.json().room === lesson.room &&
    got.json().start_ms === start, `the lesson booked through B (${lesson.room}) is read back from C: ${got.status}`);
}

async function recordingOnA(A, C) {
  const r = await until('the recording in the catalogue read from C', async () => {
    const x = await http('GET', `${C.url}/api/v1/recordings?room=${ROOM}`);
    return x.status === 200 && x.json().recordings.length ? x.json().recordings : false;
  }, { timeoutMs: 15000, intervalMs: 250 });
  const folder = path.join(A.dataDir, 'recordings', String(r[0].id));
  check(r.length === 1 && fs.existsSync(folder), `C's catalogue lists the recording ${r[0].id} of ${ROOM} (state ${r[0].state}), ` +
    `its folder on A (${r.length} recording(s) of ${ROOM} listed)`);
}

// 50 light subscribers on B (in B's namespace) while B pulls the lesson from A once.
async function lightSubscribers(A, B) {
  const seconds = 14;
  const proc = execFile('ip', ['netns', 'exec', B.leaf.ns, 'env', `BENCH_LOCAL_IP=${B.leaf.ip}`, BENCH,
    `${B.leaf.ip}:${B.port}`, ROOM, String(LIGHT), String(seconds)], { maxBuffer: 1 << 24 });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const ended = new Promise((resolve) => proc.on('exit', resolve));
  onCleanup(() => { if (proc.exitCode === null) proc.kill('SIGKILL'); });
  await until(`${LIGHT} light subscribers connected on B`, () => {
    if (proc.exitCode !== null) throw new Error(`bench_subscribers exited: ${out}`);
    return out.includes(`connected ${LIGHT}/${LIGHT}`);
  }, { timeoutMs: 20000, intervalMs: 200 });
  await sleep(1000);
  const [a0, b0] = [await relayStats(A), await relayStats(B)];
  await sleep(5000);
  const [a1, b1] = [await relayStats(A), await relayStats(B)];
  const d = (x1, x0, k) => x1.relay[k] - x0.relay[k];
  const teacherIn = d(a1, a0, 'rtp_in');
  const linkOut = d(a1, a0, 'link_rtp_out');
  const bIn = d(b1, b0, 'rtp_in');
  const bOut = d(b1, b0, 'rtp_out');
  const whep = b1.peers.filter((p) => p.target === 'whep').length;
  console.log(`figure light subscribers: in 5 s A took ${teacherIn} packets from the teacher and sent ` +
    `${linkOut} over ${a1.relay.links} link(s); B, serving ${whep} WHEP subscribers and 1 classroom, took in ` +
    `${bIn} and sent ${bOut} (${(bOut / Math.max(bIn, 1)).toFixed(1)} per packet in)`);
  check(a1.relay.links === 2, `A has one link to each edge (${a1.relay.links})`);
  check(bIn <= teacherIn * 1.05 + 50, `B pulls the teacher's stream once: ${bIn} packets in, the teacher sent A ${teacherIn}`);
  check(linkOut <= 2 * teacherIn * 1.05 + 50, `A sends each edge the stream once: ${linkOut} link packets for 2 edges`);
  // each light subscriber gets one simulcast layer and the audio: a good share of what
  // B takes in (all the layers), so 50 copies are well over 0.3 × 50 × B's packets in
  check(whep >= LIGHT && bOut >= 0.3 * LIGHT * bIn, `B fans it out to its ${whep} light subscribers`);
  await ended;
  const total = /total packets (\d+), fewest for one subscriber (\d+)/.exec(out);
  check(total && Number(total[2]) > 0, `every light subscriber received packets (${total ? `${total[1]} in all, fewest ${total[2]}` : out.slice(-200)})`);
}

async function killC(classrooms) {
  const C = nodes.C;
  const mine = classrooms.filter((c) => c.node === C);
  const t = killNode(C);
  console.log(`C (${C.url}) killed (SIGKILL)`);
  for (const c of mine) {
    const back = await until(`${c.name}: decoding again after C died`, () => decodingAgain(c, t, true),
      { timeoutMs: 20000, intervalMs: 100 }).catch(() => null);
    if (!back) console.log(`${c.name}'s samples since the kill (ms, joins, frames): ` +
      c.samples.filter((x) => x.t >= t - 1000).map((x) => `${x.t - t},${x.joins},${x.frames}`).join(' '));
    c.node = nodes[await servedBy(c.page)] || c.node;
    console.log(`figure SIGKILL C: ${c.name} decodes again through ${c.node.name} ${back ? secs(back - t) : 'never'} s after the kill`);
    check(back && back - t <= LIMIT_C_MS, `${c.name} back within ${LIMIT_C_MS / 1000} s through another node`);
  }
  for (const c of classrooms.filter((x) => !mine.includes(x))) {
    const { gap } = longestGap(c, t, Date.now());
    check(gap < MAX_GAP_MS, `${c.name} (on ${c.node.name}) kept decoding (longest gap ${gap} ms)`);
  }
  const again = await startNode('C', C.leaf); // as a supervisor would: a new node
  const formed = await clusterFormed(Object.values(nodes), 'C back in the cluster');
  console.log(`C started again: in the cluster ${secs(formed - again.startedAt)} s after its start`);
}

async function killRedis(classrooms) {
  const t = Date.now();
  await cl.redis.kill();
  console.log('redis-server killed (SIGKILL)');
  await sleep(REDIS_DOWN_MS);
  const down = await metric(nodes.B, 'classrelay_cluster_redis_up');
  await cl.redis.start();
  const tUp = Date.now();
  console.log(`redis-server started again (empty) after ${secs(tUp - t)} s`);
  const back = await clusterFormed(Object.values(nodes), 'every lease back in the new Redis', 10000);
  const claim = await until('the claim of the lesson back', async () => {
    const { stdout } = await run('ip', ['netns', 'exec', cl.netw.hub, 'redis-cli', '-p', cl.redis.port, 'GET', `cr:lesson:${ROOM}`]);
    return stdout.trim() ? Date.now() : false;
  }, { timeoutMs: 10000, intervalMs: 100 });
  await sleep(2000);
  console.log(`figure SIGKILL Redis: down ${secs(tUp - t)} s; every node's lease back ${secs(back - tUp)} s, ` +
    `the lesson's claim ${secs(claim - tUp)} s after it was started again`);
  check(down === 0, `B noticed Redis gone (classrelay_cluster_redis_up ${down})`);
  const gaps = [];
  for (const c of classrooms) {
    const { gap, rejoined } = longestGap(c, t, Date.now());
    gaps.push(gap);
    check(gap < MAX_GAP_MS && !rejoined, `Redis away: ${c.name} (on ${c.node.name}) kept decoding (longest gap ${gap} ms${rejoined ? ', joined again' : ''})`);
  }
  console.log(`figure SIGKILL Redis: longest gap in any classroom's frames ${Math.max(...gaps)} ms`);
}

async function killA(teacher, classrooms) {
  const A = nodes.A;
  const t = killNode(A);
  console.log(`A (${A.url}), the lesson's origin, killed (SIGKILL)`);
  const tTeacher = await until('the teacher publishing again', () => {
    const s = teacher.samples.filter((x) => x.t >= t);
    const down = s.findIndex((x) => !x.joined);
    const up = down >= 0 ? s.slice(down).find((x) => x.publishing) : null;
    return up ? up.t : false;
  }, { timeoutMs: 30000, intervalMs: 100 }).catch(() => null);
  const on = await servedBy(teacher.page, 'pubPc');
  console.log(`figure SIGKILL A: the teacher publishes again on ${on} ${tTeacher ? secs(tTeacher - t) : 'never'} s after the kill`);
  check(tTeacher && tTeacher - t <= LIMIT_A_MS, `the teacher back within ${LIMIT_A_MS / 1000} s`);
  for (const c of classrooms) {
    const rejoin = c.node === A;
    const back = await until(`${c.name}: decoding again after A died`, () => decodingAgain(c, t, rejoin),
      { timeoutMs: 20000, intervalMs: 100 }).catch(() => null);
    const now = await servedBy(c.page);
    console.log(`figure SIGKILL A: ${c.name} (was on ${c.node.name}) decodes again through ${now} ` +
      `${back ? secs(back - t) : 'never'} s after the kill`);
    check(back && back - t <= LIMIT_A_MS, `${c.name} back within ${LIMIT_A_MS / 1000} s`);
  }
}

async function main() {
  cl.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cr-cluster-'));
  fs.chmodSync(cl.tmp, 0o755); // pg_tmp.sh runs postgres as its own user, inside it
  onCleanup(() => fs.rmSync(cl.tmp, { recursive: true, force: true }));
  cl.netw = await startNetwork(4);
  const [la, lb, lc, school] = cl.netw.leaves;
  cl.school = school;
  await run('ip', ['netns', 'exec', cl.netw.hub, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  cl.redis = await startRedis();
  cl.pg = await startPostgres();
  cl.secret = path.join(cl.tmp, 'secret.key');
  fs.writeFileSync(cl.secret, crypto.randomBytes(32), { mode: 0o600 });
  console.log(`network: hub ${cl.netw.hub} (redis-server on :${cl.redis.port}, PostgreSQL on a unix socket); ` +
    `nodes A ${la.ip}, B ${lb.ip}, C ${lc.ip}; the school's browser in ${school.ns} (${school.ip})`);
  const A = await startNode('A', la);
  const B = await startNode('B', lb);
  const C = await startNode('C', lc);
  cl.token = execFileSync(BIN, ['token', '--data', A.dataDir, '--role', 'admin', '--secret-file', cl.secret],
    { encoding: 'utf8' }).trim();
  const formed = await clusterFormed([A, B, C], 'the three nodes in the cluster');
  ok(`three nodes in the cluster ${secs(formed - A.startedAt)} s after A's start`);

  await booking(B, C);

  const origins = [A, B, C].map((n) => n.url).join(',');
  const browser = await launchBrowser([`--unsafely-treat-insecure-origin-as-secure=${origins}`], { netns: school.ns });
  const teacher = await openTeacher(browser, A);
  await sleep(2000); // the teacher's encoder ramps up its layers
  const classrooms = [];
  for (const [name, node] of [['Grade 3 on A', A], ['Grade 4 on B', B], ['Grade 5 on C', C]]) {
    const c = await openClassroom(browser, name, node);
    c.node = node;
    classrooms.push(c);
  }
  const [onA, onB, onC] = classrooms;
  // one more classroom on B, now that B pulls the lesson: the first frame through a link
  // that is up (its page is closed again: two cores)
  const warm = await openClassroom(browser, 'Grade 6 on B', B);
  await warm.page.context().close();
  console.log(`figure first decoded frame: on A ${onA.firstFrameMs} ms; through B ${onB.firstFrameMs} ms and ` +
    `C ${onC.firstFrameMs} ms, each the edge's first classroom (it opens its link); through B once its ` +
    `link is up ${warm.firstFrameMs} ms. A cascade adds ${onB.firstFrameMs - onA.firstFrameMs} / ` +
    `${onC.firstFrameMs - onA.firstFrameMs} ms to an edge's first classroom, ${warm.firstFrameMs - onA.firstFrameMs} ms later`);
  const delays = await Promise.all(classrooms.map((c) => senderReportDelay(c.page)));
  const f = (d) => (d === null ? '?' : d.toFixed(1));
  console.log(`figure teacher → classroom one-way delay (sender reports, median over 4 s): on A ${f(delays[0])} ms, ` +
    `through B ${f(delays[1])} ms, through C ${f(delays[2])} ms: a cascade adds ` +
    `${delays[1] !== null && delays[0] !== null ? (delays[1] - delays[0]).toFixed(1) : '?'} ms`);
  const stopWatching = await watchPages(teacher, classrooms);
  onCleanup(stopWatching);

  await recordingOnA(A, C);
  if (LIGHT > 0) await lightSubscribers(A, B);
  await killC(classrooms);
  await killRedis(classrooms);
  await killA(teacher, classrooms);
  await stopWatching();
}

await runTest('cluster_nodes', main, { pages, server: () => allLogs, failures });
