// Classroom page: joins a lesson as a receiving classroom, shows the teacher big and the
// courseware beside it, plays the teacher's sound after one click ("Enable sound": the
// browser's autoplay rules start video muted), and can send the classroom's own camera
// back. It looks after itself: websocket reconnect with backoff then a fresh join and
// subscribe; a fresh subscribe when the peer fails or stays disconnected for 5 s; a
// renegotiation whenever the room's tracks change.
// A scheduled lesson (docs/scheduling.md): the join link's ?token= admits the classroom
// (and names it, so the page joins at once); a refusal is shown plainly, and a lesson not
// open yet is joined again by itself every 30 s. The teacher's pause shows a slate over the
// picture; "mute all" turns our microphone off while it lasts; lesson_ended stops it all.
// ?observe=1: a staff member watching unseen (role observer: no camera back).
import {
  $, Signal, PeerLink, Subscriber, publishOffer, summarizeStats, roomFromUrl, params,
  showState, stateKind, log, tokenFromUrl, tokenClaims, simulcastEncodings,
} from './common.js';
import { Notice, watchRefusal, RETRY_NOT_OPEN_MS } from './access.js';
import { api } from './api.js';
import { Chat, Quiz } from './floor.js';

const room = roomFromUrl();
const token = tokenFromUrl();
const observe = params.get('observe') === '1';
const sig = new Signal();
const notice = new Notice($('#notice'));
const participants = new Map();     // id -> {id, role, name}
let me = null;
let joins = 0;                      // successful joins (reconnects count)
let joinUnderWay = false;           // join() awaiting its reply: an "open" meanwhile is not a second join
let name = '';
let soundOn = false;
let joinedAt = null;                // performance.now() of the join action
let firstFrameAt = null;
let joinPhases = {};                // ms after the join action: ws, sent (POST /ws), joined, answer, ice, connected, frame

// The join's timeline, each phase once (window.classrelay.state.joinPhases; the weak-link
// tests print it: where a slow join spends its time).
function phase(what) {
  if (joinedAt !== null && joinPhases[what] === undefined) joinPhases[what] = Math.round(performance.now() - joinedAt);
}
const mainStream = new MediaStream();
const screenStream = new MediaStream();
const audioEls = new Map();         // track id -> <audio>
let camStream = null;               // our own camera, when sent back
let pub = null;
let sendingCamera = false;
let lesson = { paused: false, muted_all: false };   // the server's lesson_state
let ended = false;
let refused = null;                 // the last join refusal {code, message}
let retryTimer = null;
let stage = { max: 1, on: [], hands: [], muted: [] };   // the server's "stage"
const stageStream = new MediaStream();
const chat = new Chat(sig, { role: observe ? 'observer' : 'classroom' });
const quiz = new Quiz(sig, { role: observe ? 'observer' : 'classroom' });

$('#room-name').textContent = room;
// srcObject is set when the first track arrives: a media element playing an empty
// MediaStream would hold back the page's load event indefinitely.

function setError(text) { $('#error').textContent = text || ''; }

// Tracks we want: everything not published by a classroom (the teacher's camera,
// microphone and courseware, or a WHIP encoder's).
// Three more lines follow whoever the teacher calls on stage (the server feeds them), and
// two the teacher's microphone and camera: with those the first offer leaves right behind
// the join, a round trip before the room's tracks are known (450 ms on a bad link).
// The teacher is the teacher's page or a WHIP encoder publishing as the teacher, which is
// not listed among the participants (WHIP classrooms are, as classrooms): what the server
// feeds the teacher lines with. Taken for a classroom's, a WHIP teacher's camera came on a
// line of its own in a second offer, and the first frame a second later.
const isTeacher = (t) => participants.get(t.participant)?.role !== 'classroom';
const TEACHER_FEEDS = [
  { kind: 'audio', feed: 'teacher', match: isTeacher },
  { kind: 'video', feed: 'teacher:camera@VP8', codec: 'VP8',
    match: (t) => isTeacher(t) && t.source === 'camera' && String(t.codec).toUpperCase() === 'VP8' },
];
const subscriber = new Subscriber(sig, isTeacher, { stage: true, feeds: TEACHER_FEEDS });

// The teacher's picture as this page decodes it, watched twice a second (not at the relay's
// quality reports: on a lossy link those come late over TCP, and a stall just after the
// first frame went unsaid for 4 s). Held: no frame decoded on the camera's line for
// PICTURE_HELD_MS although the relay still sends the picture (not paused for bandwidth,
// the lesson not paused): a weak link lost what even repairs could not bring back. The
// page says so rather than leave a frozen picture without a word.
const PICTURE_HELD_MS = 1500;
const PICTURE_HELD_TEXT = 'weak network: picture stopped 网络不佳，画面暂停';
let pictureHeld = false;
let framesSeen = -1;
let framesMovedAt = 0;
async function watchPicture() {
  const q = window.classrelay.quality;
  const cam = q && (q.tracks || []).find((t) => t.kind === 'video' && t.track);
  const st = subscriber.pc ? await summarizeStats(subscriber.pc) : null;
  // the camera's line as the relay names it; before its first report, the video line
  // that has shown frames (the stage lines have none until someone is called up)
  const lines = st ? st.inbound.filter((i) => i.kind === 'video' && (cam ? i.mid === cam.mid : i.framesDecoded > 0)) : [];
  const frames = lines.length ? lines[0].framesDecoded : -1;
  const now = performance.now();
  if (frames !== framesSeen) { framesSeen = frames; framesMovedAt = now; }
  const held = frames > 0 && !(cam && cam.paused) && !lesson.paused && now - framesMovedAt >= PICTURE_HELD_MS;
  if (held === pictureHeld) return;
  pictureHeld = held;
  window.classrelay.pictureStopped = held;
  if (q) renderQuality(q);
  else showState($('#quality'), held ? PICTURE_HELD_TEXT : '', held ? 'wait' : 'ok');
}
setInterval(() => { watchPicture().catch(() => {}); }, 500);

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
  const stopped = !!cam && !paused && !lesson.paused && pictureHeld;
  showState($('#quality'), paused ? 'low bandwidth: audio only 带宽不足，仅音频'
    : stopped ? PICTURE_HELD_TEXT : parts.join(' · '),
  paused || stopped || loss > 0.05 ? 'wait' : 'ok');
}

function renderState() {
  const s = ended ? 'ended' : refused && !me ? (refused.code === 'not_open' ? 'not open yet' : 'refused')
    : !me ? (sig.ready ? 'joining' : 'not joined') : subscriber.state;
  const text = s === 'connected' ? 'receiving 接收中' : s === 'idle' ? 'waiting for teacher' : s;
  showState($('#sub-state'), text, s === 'idle' ? 'wait' : stateKind(s));
  $('#waiting').hidden = mainStream.getVideoTracks().length > 0;
  $('#screen-tile').hidden = screenStream.getVideoTracks().length === 0;
  $('#sound').hidden = soundOn;
  $('#paused-slate').hidden = !lesson.paused;
  $('#muted-note').hidden = !lesson.muted_all;
  $('#send-camera').hidden = observe;
  const onStage = stage.on.find((id) => !me || id !== me.id);
  $('#stage-tile').hidden = !onStage;
  showStageVideo();
  $('#stage-name').textContent = onStage ? (participants.get(onStage)?.name || onStage) : '';
  $('#onstage-note').hidden = !(me && stage.on.includes(me.id));
  const raised = !!(me && stage.hands.some((h) => h.id === me.id));
  $('#hand').hidden = observe;
  $('#hand').setAttribute('aria-pressed', String(raised));
  $('#hand').innerHTML = raised ? '✋ Lower hand <span class="zh">放下</span> <kbd>H</kbd>'
    : '✋ Raise hand <span class="zh">举手</span> <kbd>H</kbd>';
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
subscriber.addEventListener('negotiated', () => phase('answer'));
subscriber.addEventListener('state', () => {
  if (subscriber.pc && subscriber.pc.connectionState === 'connected') phase('connected');
  renderState();
});
const stageVideos = new Map();   // codec -> the stage line's track of that codec

// The stage picture: the line of the codec the classroom on stage sends (VP8 from pages,
// often H.264 from classroom boxes); the server feeds only that one.
function showStageVideo() {
  const onStage = stage.on.find((id) => !me || id !== me.id);
  const cam = onStage && subscriber.roomTracks.find((t) => t.participant === onStage && t.kind === 'video');
  const codec = cam && stageVideos.has(String(cam.codec).toUpperCase()) ? String(cam.codec).toUpperCase() : 'VP8';
  const track = stageVideos.get(codec);
  if (track && !stageStream.getVideoTracks().includes(track)) replaceVideo($('#stage-video'), stageStream, track);
}

subscriber.addEventListener('stage-track', (e) => {
  const { kind, codec, track } = e.detail;
  if (kind === 'audio') {
    const el = $('#stage-audio');
    el.srcObject = new MediaStream([track]);
    el.muted = !soundOn;
    el.play().catch(() => {});
  } else {
    stageVideos.set(codec || 'VP8', track);
    showStageVideo();
  }
});

function applyStage(st) {
  if (st && Array.isArray(st.on)) stage = st;
  renderState();
}

async function toggleHand() {
  if (!me || observe) return;
  const up = !stage.hands.some((h) => h.id === me.id);
  try {
    const reply = await sig.request('hand', { up });
    applyStage(reply.stage);
  } catch (err) { setError(`Could not raise the hand: ${err.message}`); }
}

function watchFirstFrame() {
  const video = $('#teacher-video');
  const mark = () => {
    if (firstFrameAt === null && joinedAt !== null) {
      firstFrameAt = performance.now();
      phase('frame');
      log(`first frame ${Math.round(firstFrameAt - joinedAt)} ms after joining`);
    }
  };
  if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(mark);
  else video.addEventListener('playing', mark, { once: true });
}

// ---- sending our camera back ----

// Two simulcast layers (RFC 8853) for the camera sent back: the small one feeds the tile on
// the teacher's grid (and fits a weak school uplink), the full one goes only where the
// classroom is shown large, on stage. One encoding below 360p.
function backEncodings(track) {
  return simulcastEncodings(track, 360, [['l', 2, 120000], ['h', 1, 400000]]);
}

async function publishCamera() {
  if (pub) pub.close();
  const link = new PeerLink(sig, 'publish');
  pub = link;
  link.addEventListener('needs-turn', () => { if (link === pub && sendingCamera) publishCamera(); });
  const sources = new Map();
  for (const track of camStream.getTracks()) {
    const tr = link.pc.addTransceiver(track, {
      direction: 'sendonly', streams: [camStream],
      ...(track.kind === 'video' ? { sendEncodings: backEncodings(track) } : {}),
    });
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
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      video: { width: { ideal: 640 }, height: { ideal: 360 } },
    });
  } catch (err) {
    setError(`No camera or microphone: ${err.message}`);
    return;
  }
  sendingCamera = true;
  applyMute();
  $('#self-view').srcObject = camStream;
  $('#self-view').hidden = false;
  if (me) await publishCamera();
  renderState();
}

// ---- joining ----

// join and the first subscribe (with a first candidate) go together: on the websocket if
// it is open, else in one POST /ws that the websocket takes over when it opens
async function join() {
  if (ended || joinUnderWay) return;
  clearTimeout(retryTimer);
  joinUnderWay = true;
  try {
    subscriber.reset();
    sig.hold();
    const joining = sig.request('join', { room, role: observe ? 'observer' : 'classroom', name });
    await Promise.race([subscriber.prime(), new Promise((r) => setTimeout(r, 1000))]);
    sig.release();
    const reply = await joining;
    me = reply.participant;
    joins++;
    phase('joined');
    refused = null;
    notice.hide();
    $('#lesson').hidden = false;
    applyLessonState(reply.lesson_state || reply.lesson || reply);
    applyStage(reply.stage);
    chat.setOpen(reply.chat ? reply.chat.classrooms : true);
    quiz.show(reply.quiz);
    participants.clear();
    participants.set(me.id, me);
    for (const p of reply.participants) participants.set(p.id, p);
    subscriber.update(reply.tracks);
    const pc = subscriber.pc;
    if (pc) pc.addEventListener('iceconnectionstatechange', () => { if (pc.iceConnectionState === 'connected') phase('ice'); });
    if (sendingCamera) await publishCamera();
    setError('');
  } catch (err) {
    if (!me) subscriber.reset();
    if (err.code === 'redirected') { /* this node is full: the signal reconnects to another, 'open' joins */ }
    else if (['unauthorized', 'forbidden', 'not_open'].includes(err.code)) showRefusal(err);
    else setError(`Could not join room ${room}: ${err.message}`);
  } finally {
    joinUnderWay = false;
  }
  renderState();
}

// The server said no: the refusal replaces the lesson view ("waiting for the teacher"
// would mislead); a lesson not open yet is tried again.
function showRefusal(err) {
  refused = { code: err.code, message: err.text };
  notice.refused(err);
  $('#lesson').hidden = true;
  if (err.code === 'not_open')
    retryTimer = setTimeout(() => { if (sig.state === 'open' && !me) join(); }, RETRY_NOT_OPEN_MS);
}

// ---- the teacher's lesson controls (docs/scheduling.md "Lesson lifecycle") ----

// While the teacher has muted all classrooms, our microphone sends nothing (the relay
// stops forwarding it too; disabling the track makes it plain on this side).
function applyMute() {
  for (const t of camStream ? camStream.getAudioTracks() : []) t.enabled = !lesson.muted_all;
}

function applyLessonState(st) {
  if (!st || typeof st !== 'object') return;
  if (typeof st.paused === 'boolean') lesson.paused = st.paused;
  if (typeof st.muted_all === 'boolean') lesson.muted_all = st.muted_all;
  applyMute();
  renderState();
}

function lessonEnded(e) {
  if (ended) return;
  const reason = e && e.detail && e.detail.reason;
  ended = true;
  clearTimeout(retryTimer);
  sig.stop();
  me = null;
  subscriber.reset();
  if (pub) { pub.close(); pub = null; }
  for (const t of camStream ? camStream.getTracks() : []) t.stop();
  camStream = null;
  sendingCamera = false;
  $('#self-view').hidden = true;
  for (const v of [$('#teacher-video'), $('#screen-video'), $('#self-view')]) v.srcObject = null;
  lesson = { paused: false, muted_all: false };
  $('#lesson').hidden = true;
  $('#join-form').hidden = true;
  notice.show({
    title: 'The lesson has ended 本节课已结束',
    text: `${reason === 'time' ? 'The lesson\'s time is over. ' : reason === 'unscheduled' ? 'The lesson was moved or removed from the schedule. ' : ''}` +
      'Thank you for joining. You can close this page. 感谢参与，可以关闭本页面。',
    kind: 'ended',
  });
  setError('');
  renderState();
}

function startJoin(n) {
  name = (n || '').trim().slice(0, 64) || 'Classroom';
  joinedAt = performance.now();
  firstFrameAt = null;
  joinPhases = {};
  watchFirstFrame();
  $('#join-form').hidden = true;
  $('#lesson').hidden = false;
  sig.start();
  join();
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
  for (const el of [...audioEls.values(), $('#stage-audio')]) { el.muted = false; el.play().catch(() => {}); }
  renderState();
}

sig.addEventListener('state', (e) => {
  if (e.detail === 'open') phase('ws');
  showState($('#ws-state'), e.detail === 'open' ? 'connected' : e.detail === 'waiting' ? 'reconnecting…' : e.detail, stateKind(e.detail));
  renderState();
});
sig.addEventListener('open', join);
sig.addEventListener('begin', () => phase('sent'));
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
sig.addEventListener('lesson_state', (e) => applyLessonState(e.detail));
sig.addEventListener('lesson_ended', lessonEnded);
sig.addEventListener('stage', (e) => applyStage(e.detail.stage));
if (token) {
  watchRefusal(sig, token, (err) => {
    showRefusal(err);
    sig.stop();
    renderState();
  });
}
sig.addEventListener('peer_state', (e) => {
  const ev = e.detail;
  if (ev.target === 'publish' && ev.state === 'failed' && sendingCamera && me) setTimeout(publishCamera, 1000);
});

$('#join-form').addEventListener('submit', (e) => { e.preventDefault(); startJoin($('#name').value); });
$('#sound').addEventListener('click', enableSound);
$('#send-camera').addEventListener('click', toggleCamera);
$('#leave').addEventListener('click', leave);
$('#hand').addEventListener('click', toggleHand);
document.addEventListener('keydown', (e) => {
  if (e.key.toLowerCase() !== 'h' || e.repeat || e.ctrlKey || e.metaKey || e.altKey) return;
  if (['INPUT', 'TEXTAREA'].includes(document.activeElement?.tagName)) return;
  toggleHand();
});

window.classrelay = {
  get pc() { return subscriber.pc; },
  get pubPc() { return pub ? pub.pc : null; },
  get state() {
    return {
      ws: sig.state, joined: !!me, joins, participant: me, subscribe: subscriber.state,
      publish: pub ? pub.state : 'idle', sound: soundOn,
      lesson: { ...lesson }, ended, refused, observe,
      micEnabled: camStream ? camStream.getAudioTracks().some((t) => t.enabled) : null,
      tracks: [...subscriber.byTrack.values()].map((t) => t.info),
      stage: { ...stage }, stageMids: subscriber.stageLines.map((tr) => tr.mid),
      joinToFirstFrameMs: firstFrameAt !== null && joinedAt !== null ? firstFrameAt - joinedAt : null,
      joinPhases: { ...joinPhases },
    };
  },
  stats: async () => ({ sub: await summarizeStats(subscriber.pc), pub: await summarizeStats(pub && pub.pc) }),
  join: startJoin,
  leave,
  enableSound,
};

// A join link names the classroom in its token and joins at once; so does ?name= and an
// observer (who is never listed, so the name matters little).
const claimedName = token ? tokenClaims(token)?.name : null;
const autoName = params.get('name') || (typeof claimedName === 'string' && claimedName) ||
  (observe ? 'Observer' : '');
if (observe) document.title = 'ClassRelay · Watching 巡课';
if (autoName) {
  $('#name').value = autoName.slice(0, 64);
  startJoin(autoName);
} else if (token) {
  startJoin('Classroom');
} else {
  // a signed-in classroom account: offer its name
  api('api/v1/me', { redirect401: false }).then((who) => {
    const n = who && who.user && who.user.name;
    if (n && !$('#name').value) $('#name').value = n.slice(0, 64);
  }).catch(() => {});
}
renderState();
