// Benchmark publisher: headless Chromium sends its fake 1280x720 camera (capped at
// BITRATE bit/s) and microphone to ROOM by WHIP, for SECONDS.
//   node publish_chromium.mjs http://127.0.0.1:8080 demo 60 [BITRATE]
import { chromium } from 'playwright-core';
const [base, room, secs, bitrate] = [process.argv[2], process.argv[3], +process.argv[4],
                                     +(process.argv[5] || 1500000)];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage', '--mute-audio', '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
  // the camera off 127.0.0.1 too (saturate.sh serves on a veth address over plain HTTP)
  `--unsafely-treat-insecure-origin-as-secure=${new URL(base).origin}`] });
const page = await (await browser.newContext()).newPage();
await page.goto(base + '/healthz');
await page.evaluate(async ([base, room, bitrate]) => {
  const s = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
  const pc = new RTCPeerConnection();
  window.pc = pc;
  for (const t of s.getTracks())
    pc.addTransceiver(t, { direction: 'sendonly',
                           sendEncodings: t.kind === 'video' ? [{ maxBitrate: bitrate }] : undefined });
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise(r => setTimeout(r, 300));
  const res = await fetch(base + '/whip/' + room, { method: 'POST',
    headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
  if (res.status !== 201) throw new Error('WHIP ' + res.status + ' ' + await res.text());
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
}, [base, room, bitrate]);
console.log('publishing');
await new Promise(r => setTimeout(r, secs * 1000));
await browser.close();
