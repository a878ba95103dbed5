// Teacher page: camera + microphone preview, Start lesson / Stop (publish), Share
// courseware (a second video track from getDisplayMedia), the list of classrooms that
// joined, and their cameras when they send them back. Rejoins and republishes on its own
// after the connection to the server drops.
import {
  $, Signal, PeerLink, Subscriber, publishOffer, summarizeStats, roomFromUrl, params,
  showState, stateKind, log,
} from './common.js';

const room = roomFromUrl();
const sig = new Signal();
const participants = new Map();          // id -> {id, role, name}
let me = null;
let camStream = null;
let screenStream = null;
let pub = null;                          // PeerLink while publishing
let sources = new Map();                 // RTCRtpTransceiver -> 'mic' | 'camera' | 'screen'
let screenTransceiver = null;
let live = false;                        // the teacher wants the lesson on air
let republishTimer = null;
let republishFailures = 0;

$('#room-name').textContent = room;
if (params.get('name')) $('#name').value = params.get('name').slice(0, 64);

// Layers for the camera: 720p/360p/180p when the camera gives at least ~960x540 (what
// three-layer simulcast needs), else a single encoding.
function cameraEncodings(track) {
  const { height = 0 } = track.getSettings();
  if (height < 540) return [{ maxBitrate: 1500000 }];
  return [
    { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 150000, scalabilityMode: 'L1T3' },
    { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 500000, scalabilityMode: 'L1T3' },
    { rid: 'h', scaleResolutionDownBy: 1, maxBitrate: 1500000, scalabilityMode: 'L1T3' },
  ];
}

function setError(text) { $('#error').textContent = text || ''; }

function renderPubState() {
  const s = !live ? 'not started' : pub ? pub.state : 'starting';
  showState($('#pub-state'), s === 'connected' ? 'live 直播中' : s, s === 'connected' ? 'ok' : stateKind(s));
  $('#start').disabled = live || !camStream;
  $('#stop').disabled = !live;
  $('#share').disabled = !camStream;
  $('#share').innerHTML = screenStream
    ? 'Stop sharing <span class="zh">停止共享</span>'
    : 'Share courseware <span class="zh">共享课件</span>';
}

function renderClassrooms() {
  const list = $('#classrooms');
  list.replaceChildren();
  const rooms = [...participants.values()].filter((p) => p.role === 'classroom');
  for (const p of rooms) {
    const li = document.createElement('li');
    li.textContent = p.name;
    li.dataset.id = p.id;
    list.append(li);
  }
  $('#classroom-count').textContent = String(rooms.length);
}

// ---- the classrooms' cameras (when they send them back) ----

const subscriber = new Subscriber(sig, (t) => participants.get(t.participant)?.role === 'classroom');
subscriber.addEventListener('track', (e) => {
  const { info, track } = e.detail;
  let tile = document.getElementById(`cam-${info.participant}`);
  if (!tile) {
    tile = document.createElement('div');
    tile.className = 'tile small';
    tile.id = `cam-${info.participant}`;
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.srcObject = new MediaStream();
    const label = document.createElement('span');
    label.className = 'label';
    label.textContent = participants.get(info.participant)?.name || info.participant;
    tile.append(video, label);
    $('#classroom-videos').append(tile);
  }
  const video = tile.querySelector('video');
  video.srcObject.addTrack(track);
  video.play().catch(() => { video.muted = true; video.play().catch(() => {}); });
});
subscriber.addEventListener('removed', (e) => {
  const tile = document.getElementById(`cam-${e.detail.info.participant}`);
  if (!tile) return;
  const stream = tile.querySelector('video').srcObject;
  for (const t of stream.getTracks()) if (t.kind === e.detail.info.kind) stream.removeTrack(t);
  if (!stream.getTracks().length) tile.remove();
});

// ---- publishing ----

function addScreen() {
  if (!pub || !screenStream || screenTransceiver) return;
  const track = screenStream.getVideoTracks()[0];
  screenTransceiver = pub.pc.addTransceiver(track, { direction: 'sendonly', streams: [screenStream] });
  sources.set(screenTransceiver, 'screen');
}

async function startPublishing() {
  clearTimeout(republishTimer);
  if (pub) pub.close();
  const link = new PeerLink(sig, 'publish');
  pub = link;
  sources = new Map();
  screenTransceiver = null;
  link.addEventListener('state', (e) => {
    if (link !== pub) return;
    if (e.detail === 'connected') republishFailures = 0;
    if (e.detail === 'failed') republishSoon('peer failed');
    renderPubState();
  });
  const audio = camStream.getAudioTracks()[0];
  const video = camStream.getVideoTracks()[0];
  if (audio) sources.set(link.pc.addTransceiver(audio, { direction: 'sendonly', streams: [camStream] }), 'mic');
  if (video) {
    // Three simulcast layers (RFC 8853): the relay forwards to each classroom the one its
    // link carries. VP8 with three temporal layers gives finer steps between them.
    sources.set(link.pc.addTransceiver(video, {
      direction: 'sendonly', streams: [camStream], sendEncodings: cameraEncodings(video),
    }), 'camera');
  }
  addScreen();
  renderPubState();
  try {
    const reply = await publishOffer(link, sources);
    log('publishing, tracks', reply.tracks);
    setError('');
  } catch (err) {
    if (link !== pub) return;
    setError(`Could not start the lesson: ${err.message}`);
    if (err.code !== 'disconnected') republishSoon(err.message);
  }
  renderPubState();
}

function republishSoon(why) {
  if (!live || republishTimer) return;
  const delay = Math.min(10000, 1000 * 2 ** Math.min(republishFailures++, 4));
  log('republishing in', delay, 'ms:', why);
  republishTimer = setTimeout(() => {
    republishTimer = null;
    if (live && sig.state === 'open') startPublishing();
  }, delay);
}

async function startLesson() {
  live = true;
  setError('');
  if (sig.state === 'open' && me) await startPublishing();
  renderPubState();
}

async function stopLesson() {
  live = false;
  clearTimeout(republishTimer);
  republishTimer = null;
  if (pub) {
    pub.close();
    pub = null;
    await sig.request('unpublish').catch(() => {});
  }
  renderPubState();
}

async function toggleShare() {
  if (screenStream) { await stopShare(); return; }
  try {
    screenStream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
  } catch (err) {
    setError(`Screen sharing was not started: ${err.message}`);
    return;
  }
  const track = screenStream.getVideoTracks()[0];
  track.contentHint = 'detail';
  track.addEventListener('ended', () => stopShare());
  $('#screen-preview').srcObject = screenStream;
  $('#screen-tile').hidden = false;
  if (pub) {
    addScreen();
    await publishOffer(pub, sources).catch((err) => setError(`Sharing failed: ${err.message}`));
  }
  renderPubState();
}

async function stopShare() {
  if (!screenStream) return;
  for (const t of screenStream.getTracks()) t.stop();
  screenStream = null;
  $('#screen-tile').hidden = true;
  $('#screen-preview').srcObject = null;
  if (pub && screenTransceiver) {
    screenTransceiver.stop();
    sources.delete(screenTransceiver);
    screenTransceiver = null;
    await publishOffer(pub, sources).catch((err) => setError(`Stopping the share failed: ${err.message}`));
  }
  renderPubState();
}

// ---- signaling ----

async function join() {
  const name = $('#name').value.trim().slice(0, 64) || 'Teacher';
  try {
    const reply = await sig.request('join', { room, role: 'teacher', name });
    me = reply.participant;
    participants.clear();
    for (const p of reply.participants) participants.set(p.id, p);
    renderClassrooms();
    subscriber.update(reply.tracks);
    if (live) await startPublishing();
  } catch (err) {
    setError(`Could not join room ${room}: ${err.message}`);
  }
}

sig.addEventListener('state', (e) => showState($('#ws-state'), e.detail === 'open' ? 'connected' : e.detail, stateKind(e.detail)));
sig.addEventListener('open', join);
sig.addEventListener('close', () => {
  me = null;
  if (pub) { pub.close(); pub = null; }
  subscriber.reset();
  renderPubState();
});
sig.addEventListener('participant_joined', (e) => {
  participants.set(e.detail.participant.id, e.detail.participant);
  renderClassrooms();
});
sig.addEventListener('participant_left', (e) => {
  participants.delete(e.detail.participant.id);
  renderClassrooms();
  subscriber.update(subscriber.roomTracks);
});
sig.addEventListener('tracks', (e) => subscriber.update(e.detail.tracks));
sig.addEventListener('peer_state', (e) => {
  const ev = e.detail;
  if (ev.target === 'publish' && (ev.state === 'failed' || ev.state === 'closed') && live)
    republishSoon(`relay reports ${ev.state}`);
});

// ---- recording indicator: the server's "recording" event (docs/recording.md) ----
// A red "REC" while the lesson is recorded, a banner when the recording has a problem
// (the lesson itself goes on), nothing when the room is not recorded.
let recording = { state: 'off', message: '', id: null };
function renderRecording(ev) {
  recording = { state: ev.state || 'off', message: ev.message || '', id: ev.id || null };
  const dot = $('#rec');
  const banner = $('#rec-banner');
  const s = recording.state;
  dot.dataset.state = s;
  dot.hidden = !['recording', 'packaging', 'ready'].includes(s);
  if (s === 'recording') dot.textContent = 'REC';
  else if (s === 'packaging') dot.textContent = 'Saving replay…';
  else if (s === 'ready' && recording.id) {
    const a = document.createElement('a');
    a.href = `replay.html?id=${encodeURIComponent(recording.id)}`;
    a.target = '_blank';
    a.textContent = 'Replay ready';
    dot.replaceChildren(a);
  } else dot.hidden = true;
  banner.hidden = s !== 'error';
  banner.textContent = s === 'error'
    ? `Recording has a problem: ${recording.message || 'unknown error'}. The lesson continues.` : '';
}
sig.addEventListener('recording', (e) => renderRecording(e.detail));

$('#start').addEventListener('click', startLesson);
$('#stop').addEventListener('click', stopLesson);
$('#share').addEventListener('click', toggleShare);

async function openCamera() {
  try {
    camStream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true },
      video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
    });
    $('#preview').srcObject = camStream;
  } catch (err) {
    setError(`No camera or microphone: ${err.message}. Allow them and reload. 请允许使用摄像头和麦克风。`);
  }
  renderPubState();
}

window.classrelay = {
  get pc() { return subscriber.pc; },
  get pubPc() { return pub ? pub.pc : null; },
  get state() {
    return {
      ws: sig.state, joined: !!me, participant: me, live,
      publish: pub ? pub.state : 'idle', subscribe: subscriber.state,
      classrooms: [...participants.values()].filter((p) => p.role === 'classroom').length,
      recording,
    };
  },
  stats: async () => ({ pub: await summarizeStats(pub && pub.pc), sub: await summarizeStats(subscriber.pc) }),
  start: startLesson,
  stop: stopLesson,
};

renderPubState();
openCamera();
sig.start();
