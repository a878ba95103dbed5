// WHIP/WHEP test page: publishes the camera with a WHIP POST, or plays a room with a WHEP
// POST, trickles later candidates with PATCH (application/trickle-ice-sdpfrag, RFC 8840)
// and ends the session with DELETE, exactly as an encoder or a third-party player would.
// ?room=NAME picks the room, ?mode=publish|play starts at once.
import { $, params, roomFromUrl, summarizeStats, showState, stateKind, log, tokenFromUrl } from './common.js';

// A room other than demo needs a token (docs/scheduling.md): this page's ?token= goes to
// the server as a Bearer token; without one, the signed-in session's cookie is sent.
const token = tokenFromUrl();
const auth = token ? { Authorization: `Bearer ${token}` } : {};

const room = roomFromUrl();
let pc = null;
let resource = null;     // URL of the session (the Location header)
let stream = null;
let mode = null;
let sessionError = null;
$('#room-name').textContent = room;

function setState(s) { showState($('#state'), s, stateKind(s)); }
function setError(text) { $('#error').textContent = text || ''; sessionError = text || null; }

function iceCredentials(sdp) {
  const ufrag = /a=ice-ufrag:(.*)/.exec(sdp);
  const pwd = /a=ice-pwd:(.*)/.exec(sdp);
  return { ufrag: ufrag ? ufrag[1].trim() : '', pwd: pwd ? pwd[1].trim() : '' };
}

// RFC 8840 §9 fragment: credentials, then per m-line its mid and candidates.
function sdpFragment(cands) {
  const { ufrag, pwd } = iceCredentials(pc.localDescription.sdp);
  const lines = [`a=ice-ufrag:${ufrag}`, `a=ice-pwd:${pwd}`];
  const byMid = new Map();
  for (const c of cands) {
    const mid = c ? c.sdpMid : pc.getTransceivers()[0].mid;
    if (!byMid.has(mid)) byMid.set(mid, []);
    byMid.get(mid).push(c);
  }
  for (const [mid, list] of byMid) {
    lines.push('m=audio 9 UDP/TLS/RTP/SAVPF 0', `a=mid:${mid}`);
    for (const c of list) lines.push(c ? `a=${c.candidate}` : 'a=end-of-candidates');
  }
  return lines.join('\r\n') + '\r\n';
}

async function patch(cands) {
  const res = await fetch(resource, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', ...auth },
    body: sdpFragment(cands),
  });
  if (res.status !== 204) log('PATCH', res.status, await res.text());
}

async function start(kind) {
  await stop();
  setError('');
  mode = kind;
  pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  const pending = [];
  pc.onicecandidate = (e) => {
    const c = e.candidate && e.candidate.candidate ? e.candidate : null;
    if (resource) patch([c]).catch((err) => log('PATCH failed', err.message));
    else pending.push(c);
  };
  pc.onconnectionstatechange = () => setState(pc.connectionState);
  if (kind === 'whip') {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: true, video: { width: { ideal: 1280 }, height: { ideal: 720 } },
    });
    for (const t of stream.getTracks()) pc.addTransceiver(t, { direction: 'sendonly', streams: [stream] });
    $('#video').srcObject = stream;
    $('#video-label').textContent = 'Publishing (local preview)';
  } else {
    const remote = new MediaStream();
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.ontrack = (e) => { remote.addTrack(e.track); };
    $('#video').srcObject = remote;
    $('#video-label').textContent = 'Playing';
  }
  await pc.setLocalDescription(await pc.createOffer());
  setState('posting');
  // in a cluster another node may serve the lesson: 307 to it (docs/cluster.md), which fetch
  // follows with the same body. The token rides in the query too: a redirect to another
  // origin drops the Authorization header, never the query
  const at = token ? `?token=${encodeURIComponent(token)}` : '';
  const res = await fetch(`/${kind}/${encodeURIComponent(room)}${at}`, {
    method: 'POST', headers: { 'Content-Type': 'application/sdp', ...auth }, body: pc.localDescription.sdp,
    redirect: 'follow',
  });
  const body = await res.text();
  if (res.status !== 201) {
    setState('failed');
    setError(`${kind.toUpperCase()} POST: ${res.status} ${body}`);
    return;
  }
  // the session lives on the node that answered (res.url after a redirect): PATCH and
  // DELETE go there
  resource = new URL(res.headers.get('Location'), res.url || location.href).href;
  $('#resource').textContent = res.headers.get('Location');
  $('#stop').disabled = false;
  await pc.setRemoteDescription({ type: 'answer', sdp: body });
  if (pending.length) await patch(pending.splice(0)).catch((err) => log('PATCH failed', err.message));
}

async function stop() {
  if (resource) {
    const url = resource;
    resource = null;
    await fetch(url, { method: 'DELETE', headers: auth }).catch(() => {});
  }
  if (pc) pc.close();
  pc = null;
  for (const t of stream ? stream.getTracks() : []) t.stop();
  stream = null;
  $('#stop').disabled = true;
  $('#resource').textContent = 'none';
  setState('idle');
}

$('#publish').addEventListener('click', () => start('whip').catch((e) => setError(e.message)));
$('#play').addEventListener('click', () => start('whep').catch((e) => setError(e.message)));
$('#stop').addEventListener('click', () => stop());

window.classrelay = {
  get pc() { return mode === 'whep' ? pc : null; },
  get pubPc() { return mode === 'whip' ? pc : null; },
  get state() { return { mode, resource, peer: pc ? pc.connectionState : 'idle', error: sessionError }; },
  stats: async () => ({
    sub: await summarizeStats(mode === 'whep' ? pc : null),
    pub: await summarizeStats(mode === 'whip' ? pc : null),
  }),
  publish: () => start('whip'),
  play: () => start('whep'),
  stop,
};

const m = params.get('mode');
if (m === 'publish') start('whip').catch((e) => setError(e.message));
if (m === 'play') start('whep').catch((e) => setError(e.message));
