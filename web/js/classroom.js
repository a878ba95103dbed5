// Classroom page: joins a lesson as a receiving classroom, shows the teacher big and the
// courseware beside it, plays the teacher's sound after one click ("Enable sound": the
// browser's autoplay rules start video muted), and can send the classroom's own camera
// back. It looks after itself: websocket reconnect with backoff then a fresh join and
// subscribe; a fresh subscribe when the peer fails or stays disconnected for 5 s; a
// renegotiation whenever the room's tracks change.
import {
  $, Signal, PeerLink, Subscriber, publishOffer, summarizeStats, roomFromUrl, params,
  showState, stateKind, log,
} from './common.js';

const room = roomFromUrl();
const sig = new Signal();
const participants = new Map();     // id -> {id, role, name}
let me = null;
let joins = 0;                      // successful joins (reconnects count)
let name = '';
let soundOn = false;
let joinedAt = null;                // performance.now() of the join action
let firstFrameAt = null;
const mainStream = new MediaStream();
const screenStream = new MediaStream();
const audioEls = new Map();         // track id -> <audio>
let camStream = null;               // our own camera, when sent back
let pub = null;
let sendingCamera = false;

$('#room-name').textContent = room;
// srcObject is set when the first track arrives: a media element playing an empty
// MediaStream would hold back the page's load event indefinitely.

function setError(text) { $('#error').textContent = text || ''; }

// Tracks we want: everything not published by a classroom (the teacher's camera,
// microphone and courseware, or a WHIP encoder's).
const subscriber = new Subscriber(sig, (t) => participants.get(t.participant)?.role !== 'classroom');

// What the relay reports about this classroom's link every 2 s ("quality" event): the
// camera layer forwarded (of how many), the bandwidth estimate, loss and round trip.
function renderQuality(q) {
  window.classrelay.quality = q;
  const video = (q.tracks || []).filter((t) => t.kind === 'video' && t.track);
  const cam = video[0];
  const parts = [];
  if (cam && cam.layers > 1) parts.push(`layer ${cam.layer + 1}/${cam.layers}`);
  if (cam && cam.bitrate_bps) parts.push(`${(cam.bitrate_bps / 1e6).toFixed(2)} Mbit/s`);
  if (q.estimate_bps) parts.push(`est. ${(q.estimate_bps / 1e6).toFixed(2)} Mbit/s`);
  const loss = Math.max(0, ...(q.tracks || []).map((t) => t.loss || 0));
  parts.push(`loss ${(loss * 100).toFixed(1)} %`);
  if (q.rtt_ms) parts.push(`RTT ${q.rtt_ms} ms`);
  const paused = cam && cam.paused;
  showState($('#quality'), paused ? 'low bandwidth: audio only 带宽不足，仅音频' : parts.join(' · '),
            paused || loss > 0.05 ? 'wait' : 'ok');
}

function renderState() {
  const s = !me ? (sig.state === 'open' ? 'joining' : 'not joined') : subscriber.state;
  const text = s === 'connected' ? 'receiving 接收中' : s === 'idle' ? 'waiting for teacher' : s;
  showState($('#sub-state'), text, s === 'idle' ? 'wait' : stateKind(s));
  $('#waiting').hidden = mainStream.getVideoTracks().length > 0;
  $('#screen-tile').hidden = screenStream.getVideoTracks().length === 0;
  $('#sound').hidden = soundOn;
  $('#send-camera').innerHTML = sendingCamera
    ? 'Stop our camera <span class="zh">停止发送画面</span>'
    : 'Send our camera <span class="zh">发送本课堂画面</span>';
}

function replaceVideo(el, stream, track) {
  for (const t of stream.getVideoTracks()) stream.removeTrack(t);
  stream.addTrack(track);
  if (el.srcObject !== stream) el.srcObject = stream;
  el.play().catch(() => {});
}

subscriber.addEventListener('track', (e) => {
  const { info, track } = e.detail;
  if (info.kind === 'audio') {
    const el = document.createElement('audio');
    el.autoplay = true;
    el.muted = !soundOn;
    el.srcObject = new MediaStream([track]);
    $('#audio-sinks').append(el);
    audioEls.set(info.id, el);
    el.play().catch(() => {});
  } else if (info.source === 'screen') {
    replaceVideo($('#screen-video'), screenStream, track);
  } else {
    replaceVideo($('#teacher-video'), mainStream, track);
  }
  track.__classrelayId = info.id;
  renderState();
});

subscriber.addEventListener('removed', (e) => {
  const { info } = e.detail;
  const el = audioEls.get(info.id);
  if (el) { el.srcObject = null; el.remove(); audioEls.delete(info.id); }
  for (const stream of [mainStream, screenStream]) {
    for (const t of stream.getTracks()) if (t.__classrelayId === info.id) stream.removeTrack(t);
  }
  renderState();
});
subscriber.addEventListener('state', renderState);

function watchFirstFrame() {
  const video = $('#teacher-video');
  const mark = () => {
    if (firstFrameAt === null && joinedAt !== null) {
      firstFrameAt = performance.now();
      log(`first frame ${Math.round(firstFrameAt - joinedAt)} ms after joining`);
    }
  };
  if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(mark);
  else video.addEventListener('playing', mark, { once: true });
}

// ---- sending our camera back ----

async function publishCamera() {
  if (pub) pub.close();
  const link = new PeerLink(sig, 'publish');
  pub = link;
  const sources = new Map();
  for (const track of camStream.getTracks()) {
    const tr = link.pc.addTransceiver(track, { direction: 'sendonly', streams: [camStream] });
    sources.set(tr, track.kind === 'audio' ? 'mic' : 'camera');
  }
  try {
    await publishOffer(link, sources);
  } catch (err) {
    if (link === pub) setError(`Could not send our camera: ${err.message}`);
  }
}

async function toggleCamera() {
  if (sendingCamera) {
    sendingCamera = false;
    if (pub) { pub.close(); pub = null; }
    await sig.request('unpublish').catch(() => {});
    for (const t of camStream ? camStream.getTracks() : []) t.stop();
    camStream = null;
    $('#self-view').hidden = true;
    renderState();
    return;
  }
  try {
    camStream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true },
      video: { width: { ideal: 640 }, height: { ideal: 360 } },
    });
  } catch (err) {
    setError(`No camera or microphone: ${err.message}`);
    return;
  }
  sendingCamera = true;
  $('#self-view').srcObject = camStream;
  $('#self-view').hidden = false;
  if (me) await publishCamera();
  renderState();
}

// ---- joining ----

async function join() {
  try {
    const reply = await sig.request('join', { room, role: 'classroom', name });
    me = reply.participant;
    joins++;
    participants.clear();
    participants.set(me.id, me);
    for (const p of reply.participants) participants.set(p.id, p);
    subscriber.reset();
    subscriber.update(reply.tracks);
    if (sendingCamera) await publishCamera();
    setError('');
  } catch (err) {
    setError(`Could not join room ${room}: ${err.message}`);
  }
  renderState();
}

function startJoin(n) {
  name = (n || '').trim().slice(0, 64) || 'Classroom';
  joinedAt = performance.now();
  firstFrameAt = null;
  watchFirstFrame();
  $('#join-form').hidden = true;
  $('#lesson').hidden = false;
  sig.start();
  if (sig.state === 'open') join();
}

async function leave() {
  await sig.request('leave').catch(() => {});
  sig.stop();
  me = null;
  subscriber.reset();
  if (pub) { pub.close(); pub = null; }
  $('#lesson').hidden = true;
  $('#join-form').hidden = false;
  renderState();
}

function enableSound() {
  soundOn = true;
  for (const el of audioEls.values()) { el.muted = false; el.play().catch(() => {}); }
  renderState();
}

sig.addEventListener('state', (e) => {
  showState($('#ws-state'), e.detail === 'open' ? 'connected' : e.detail === 'waiting' ? 'reconnecting…' : e.detail, stateKind(e.detail));
  renderState();
});
sig.addEventListener('open', join);
sig.addEventListener('close', () => {
  me = null;
  subscriber.reset();
  if (pub) { pub.close(); pub = null; }
  renderState();
});
sig.addEventListener('participant_joined', (e) => participants.set(e.detail.participant.id, e.detail.participant));
sig.addEventListener('participant_left', (e) => participants.delete(e.detail.participant.id));
sig.addEventListener('tracks', (e) => subscriber.update(e.detail.tracks));
sig.addEventListener('quality', (e) => renderQuality(e.detail));
sig.addEventListener('peer_state', (e) => {
  const ev = e.detail;
  if (ev.target === 'publish' && ev.state === 'failed' && sendingCamera && me) setTimeout(publishCamera, 1000);
});

$('#join-form').addEventListener('submit', (e) => { e.preventDefault(); startJoin($('#name').value); });
$('#sound').addEventListener('click', enableSound);
$('#send-camera').addEventListener('click', toggleCamera);
$('#leave').addEventListener('click', leave);

window.classrelay = {
  get pc() { return subscriber.pc; },
  get pubPc() { return pub ? pub.pc : null; },
  get state() {
    return {
      ws: sig.state, joined: !!me, joins, participant: me, subscribe: subscriber.state,
      publish: pub ? pub.state : 'idle', sound: soundOn,
      tracks: [...subscriber.byTrack.values()].map((t) => t.info),
      joinToFirstFrameMs: firstFrameAt !== null && joinedAt !== null ? firstFrameAt - joinedAt : null,
    };
  },
  stats: async () => ({ sub: await summarizeStats(subscriber.pc), pub: await summarizeStats(pub && pub.pc) }),
  join: startJoin,
  leave,
  enableSound,
};

if (params.get('name')) {
  $('#name').value = params.get('name').slice(0, 64);
  startJoin(params.get('name'));
}
renderState();
