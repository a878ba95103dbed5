#!/usr/bin/env node
// Headless Chromium across an emulated link: run inside a leaf namespace (ip netns exec),
// it loads URL (a page served from the hub), times the load, and gathers ICE candidates
// with an RTCPeerConnection (data channel only, no camera), as a classroom page would.
// Prints one JSON line {loadMs, text, candidates, types}; exit 0 when the page loaded and at
// least one candidate was gathered, 1 otherwise. Used by selftest.py.
//
// usage: node tests/netem/chromium_probe.mjs URL     (CHROMIUM overrides /usr/bin/chromium)
import { chromium } from 'playwright-core';

const FLAGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage', '--mute-audio', '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required',
];

async function gather(page) {
  return page.evaluate(async () => {
    const pc = new RTCPeerConnection();
    const cands = [];
    pc.onicecandidate = (e) => { if (e.candidate) cands.push(e.candidate.candidate); };
    pc.createDataChannel('probe');
    await pc.setLocalDescription(await pc.createOffer());
    const t0 = Date.now();
    while (pc.iceGatheringState !== 'complete' && Date.now() - t0 < 8000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    pc.close();
    return cands;
  });
}

async function main() {
  const url = process.argv[2];
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: FLAGS, headless: true,
  });
  let ok = false;
  try {
    const page = await (await browser.newContext()).newPage();
    const t0 = Date.now();
    await page.goto(url, { timeout: 30000 });
    const loadMs = Date.now() - t0;
    const text = await page.textContent('#x');
    const cands = await gather(page);
    const types = cands.map((c) => `${c.split(' ')[4]} ${c.split(' ')[7]}`);
    console.log(JSON.stringify({ loadMs, text, candidates: cands.length, types }));
    ok = text === 'served from the hub' && cands.length > 0;
  } finally {
    await browser.close();
  }
  process.exit(ok ? 0 : 1);
}

main().catch((err) => { console.error(err); process.exit(1); });
