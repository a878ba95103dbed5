// Emulated classroom links for the Node browser tests: brings up tests/netem/netem.py (a hub
// namespace for the server and the teacher, one leaf namespace per classroom, joined by
// linkemu), applies its named profiles per leaf, and reads linkemu's counters. The
// namespaces go away when this process ends (netem.py's stdin closes). Needs root.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

import { onCleanup, repoRoot, until } from './browser.mjs';

// Brings the network up: {hub, leaves: [{name, ns, ip, hub_ip}], ctl, profiles}, plus
// set(), profile() and stats().
export async function startNetwork(leaves) {
  const proc = spawn('/usr/bin/python3', [path.join(repoRoot, 'tests', 'netem', 'netem.py'),
    'up', '--leaves', String(leaves)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let exited = null;
  proc.stdout.on('data', (d) => { out += d; });
  proc.on('exit', (code) => { exited = code; });
  onCleanup(async () => {
    proc.stdin.end();
    const t0 = Date.now();
    while (exited === null && Date.now() - t0 < 8000) await new Promise((r) => setTimeout(r, 50));
    if (exited === null) proc.kill('SIGTERM');
  }).sync = () => { if (exited === null) proc.kill('SIGTERM'); };
  const line = await until('the emulated network', () => {
    if (exited !== null) throw new Error(`netem.py exited with ${exited}`);
    const nl = out.indexOf('\n');
    return nl >= 0 ? out.slice(0, nl) : false;
  }, { timeoutMs: 20000, intervalMs: 50 });
  const desc = JSON.parse(line);
  const network = {
    ...desc,
    command: (text) => command(desc.ctl, text),
    // leaf: "leaf1" or "all"; dir: "down", "up" or "both"
    async set(leaf, dir, settings, clear = true) {
      const kv = Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(' ');
      const reply = await command(desc.ctl, `set ${leaf} ${dir} ${clear ? 'clear ' : ''}${kv}`);
      if (reply !== 'ok') throw new Error(`linkemu refused "${kv}": ${reply}`);
    },
    async profile(leaf, name) {
      const p = desc.profiles[name];
      if (!p) throw new Error(`no link profile ${name}`);
      await network.set(leaf, 'down', p.down);
      await network.set(leaf, 'up', p.up);
    },
    async stats() { return JSON.parse(await command(desc.ctl, 'stats')); },
  };
  return network;
}

// One line to linkemu's control socket, one line back.
function command(ctl, text) {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(ctl);
    let buf = '';
    sock.setTimeout(5000, () => { sock.destroy(); reject(new Error(`linkemu: no reply to ${text}`)); });
    sock.on('error', reject);
    sock.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) { sock.end(); resolve(buf.slice(0, nl).trim()); }
    });
    sock.write(`${text}\n`);
  });
}
