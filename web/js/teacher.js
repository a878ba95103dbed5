// Teacher page: camera + microphone preview, Start lesson / Stop (publish), Share
// courseware (a second video track from getDisplayMedia), the list of classrooms that
// joined, and their cameras when they send them back: small tiles, 16 to a page (the relay
// forwards their lowest simulcast layer), a classroom on stage large and at its full
// layer, on whatever page. Rejoins and republishes on its own
// after the connection to the server drops.
// A scheduled lesson (docs/scheduling.md): the page's ?token= (a join link) or the signed-in
// session admits the teacher; a refusal is shown plainly (and a lesson not open yet is
// joined again by itself). The lesson controls — pause/resume, mute/unmute all classrooms,
// end — are buttons and keys P, M, E; the server's lesson_time events count down the
// overtime, and lesson_ended stops everything.
import {
  $, Signal, PeerLink, Subscriber, publishOffer, summarizeStats, roomFromUrl, params,
  showState, stateKind, log, tokenFromUrl, tokenClaims, simulcastEncodings,
} from './common.js';
import { Notice, watchRefusal, RETRY_NOT_OPEN_MS } from './access.js';
import { api } from './api.js';
import { confirmDialog } from './dom.js';
import { Chat, Quiz, renderHands } from './floor.js';

const room = roomFromUrl();
const token = tokenFromUrl();
const sig = new Signal();
const notice = new Notice($('#notice'));
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
let lesson = { paused: false, muted_all: false };   // the server's lesson_state
let ended = false;                       // lesson_ended: the page is done
let refused = null;                      // the last join refusal {code, message}
let retryTimer = null;
let lessonTime = null;                   // {state: 'overtime'|'closing', closes_ms}
let lessonTimeTimer = null;
let lessonTimes = null;                  // the join reply's {ends_ms, closes_ms}: a scheduled lesson
let busyAction = null;                   // a lesson request awaiting its reply
const queuedKeys = [];                   // P/M/E pressed while it was awaited: run after it
let stage = { max: 1, on: [], hands: [], muted: [], listen: null };   // the server's "stage"
const chat = new Chat(sig, { role: 'teacher' });
const quiz = new Quiz(sig, { role: 'teacher' });

$('#room-name').textContent = room;
const claimedName = token ? tokenClaims(token)?.name : null;
let nameReady = Promise.resolve();
if (params.get('name')) $('#name').value = params.get('name').slice(0, 64);
else if (typeof claimedName === 'string' && claimedName) $('#name').value = claimedName.slice(0, 64);
else if (!token) {
  // signed in (the cr_session cookie): join under the account's name, unless one was typed
  nameReady = api('api/v1/me', { redirect401: false }).then((who) => {
    const n = who && who.user && who.user.name;
    if (n && $('#name').value === $('#name').defaultValue) $('#name').value = n.slice(0, 64);
  }).catch(() => {});
}

// Layers for the camera: 720p/360p/180p when the camera gives at least ~960x540 (what
// three-layer simulcast needs), else a single encoding. The middle layer is what a rural
// classroom on a 600 kbit/s link watches: asked for 300 kbit/s (the encoder overshoots to
// 330-400), its 30 frames a second fit there with the lesson's audio (and its RED) and room
// for repairs; at 400 kbit/s they did not, and the classroom got 15. The lowest layer, at
// 100 kbit/s, keeps 15-30 frames a second on a 250 kbit/s link with 10 % loss.
function cameraEncodings(track) {
  return simulcastEncodings(track, 540, [['l', 4, 100000], ['m', 2, 300000], ['h', 1, 1500000]]);
}

function setError(text) { $('#error').textContent = text || ''; }

function renderPubState() {
  const s = ended ? 'ended' : refused && !me ? (refused.code === 'not_open' ? 'not open yet' : 'refused')
    : !live ? 'not started' : pub ? pub.state : 'starting';
  showState($('#pub-state'), s === 'connected' ? 'live 直播中' : s === 'ended' ? 'ended 已结束' : s,
            s === 'connected' ? 'ok' : s === 'ended' ? 'bad' : stateKind(s));
  $('#start').disabled = ended || live || !camStream;
  $('#stop').disabled = ended || !live;
  $('#share').disabled = ended || !camStream;
  $('#share').innerHTML = screenStream
    ? 'Stop sharing <span class="zh">停止共享</span>'
    : 'Share courseware <span class="zh">共享课件</span>';
}

// One action button of a classroom's row: label by state, request on click.
function floorButton(cls, on, labels, request) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `small ${cls}`;
  b.setAttribute('aria-pressed', String(on));
  b.innerHTML = on ? labels[1] : labels[0];
  b.addEventListener('click', request);
  return b;
}

// A tile shows its classroom on stage (outlined, large) and a raised hand (✋).
function markTile(tile, id) {
  if (!tile) return;
  tile.classList.toggle('onstage', stage.on.includes(id));
  tile.classList.toggle('hand', stage.hands.some((h) => h.id === id));
}

function renderClassrooms() {
  const list = $('#classrooms');
  list.replaceChildren();
  const rooms = [...participants.values()].filter((p) => p.role === 'classroom');
  for (const p of rooms) {
    const li = document.createElement('li');
    li.dataset.id = p.id;
    const onStage = stage.on.includes(p.id), muted = stage.muted.includes(p.id);
    li.classList.toggle('onstage', onStage);
    const name = document.createElement('span');
    name.textContent = p.name;
    li.append(name, ' ',
      floorButton('stage-toggle', onStage, ['Call on stage <span class="zh">上台</span>', 'End turn <span class="zh">下台</span>'],
                  () => floorRequest('stage', { participant: p.id, on: !onStage })),
      floorButton('mute-one', muted, ['Mute <span class="zh">静音</span>', 'Unmute <span class="zh">取消静音</span>'],
                  () => floorRequest('mute', { participant: p.id, muted: !muted })),
      floorButton('listen', stage.listen === p.id, ['Listen <span class="zh">旁听</span>', 'Stop listening <span class="zh">停止旁听</span>'],
                  () => floorRequest('listen', { participant: stage.listen === p.id ? null : p.id })));
    list.append(li);
    markTile(document.getElementById(`cam-${p.id}`), p.id);
  }
  $('#classroom-count').textContent = String(rooms.length);
}

// ---- the stage (docs/protocol.md "The stage") ----

function applyStage(st) {
  if (!st || !Array.isArray(st.on)) return;
  const previous = stage;
  stage = { ...st, listen: 'listen' in st ? st.listen : previous.listen };
  renderHands(stage, participants, { previous, onCall: (id) => floorRequest('stage', { participant: id }) });
  renderClassrooms();
  if (String(previous.on) !== String(stage.on) || previous.listen !== stage.listen)
    subscriber.update(subscriber.roomTracks);
}

async function floorRequest(type, fields) {
  try {
    const reply = await sig.request(type, fields);
    applyStage(reply.stage);
    setError('');
  } catch (err) {
    setError(`${type}: ${err.message}`);
  }
}

// A classroom's tile opens the same actions as its row: click calls it on stage or ends
// its turn.
$('#classroom-videos').addEventListener('click', (e) => {
  const tile = e.target.closest('.tile');
  const id = tile && tile.id.startsWith('cam-') ? tile.id.slice(4) : null;
  if (id) floorRequest('stage', { participant: id, on: !stage.on.includes(id) });
});
$('#hands-down').addEventListener('click', () => floorRequest('hands_down', {}));
$('#chat-classrooms').addEventListener('change', (e) => {
  sig.request('chat_mode', { classrooms: e.target.checked })
    .catch((err) => setError(`chat: ${err.message}`));
});

// ---- the classrooms' cameras (when they send them back), GRID_PAGE at a time ----

// 16 tiles to a page; ?grid=N another size (tests page with a few classrooms)
const GRID_PAGE = Math.max(1, Math.min(16, Number(params.get('grid')) || 16));
let gridPage = 0;

// Classrooms sending their camera, in the room's order.
function cameraSenders(tracks) {
  const ids = [];
  for (const t of tracks) {
    if (t.kind === 'video' && participants.get(t.participant)?.role === 'classroom' && !ids.includes(t.participant))
      ids.push(t.participant);
  }
  return ids;
}

// What the teacher receives: the cameras of the page shown, and whoever is on stage or
// listened to (the only microphones the server lets through to the teacher).
function wantsTrack(t) {
  if (participants.get(t.participant)?.role !== 'classroom') return false;
  if (stage.on.includes(t.participant) || stage.listen === t.participant) return true;
  if (t.kind === 'audio') return false;
  return Math.floor(cameraSenders(subscriber.roomTracks).indexOf(t.participant) / GRID_PAGE) === gridPage;
}

function renderGridPager() {
  const pages = Math.max(1, Math.ceil(cameraSenders(subscriber.roomTracks).length / GRID_PAGE));
  const page = Math.min(gridPage, pages - 1);
  $('#grid-pager').hidden = pages <= 1;
  $('#grid-page-info').textContent = `${page + 1} / ${pages}`;
  $('#grid-prev').disabled = page === 0;
  $('#grid-next').disabled = page >= pages - 1;
  if (page !== gridPage) showGridPage(page);
}

function showGridPage(page) {
  gridPage = page;
  subscriber.update(subscriber.roomTracks);
  renderGridPager();
}

$('#grid-prev').addEventListener('click', () => showGridPage(gridPage - 1));
$('#grid-next').addEventListener('click', () => showGridPage(gridPage + 1));

const subscriber = new Subscriber(sig, wantsTrack);
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
    markTile(tile, info.participant);
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
  link.addEventListener('needs-turn', () => { if (link === pub && live) startPublishing(); });
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
  if (ended) return;
  clearTimeout(retryTimer);
  await Promise.race([nameReady, new Promise((r) => setTimeout(r, 2000))]);
  const name = $('#name').value.trim().slice(0, 64) || 'Teacher';
  try {
    const reply = await sig.request('join', { room, role: 'teacher', name });
    me = reply.participant;
    refused = null;
    notice.hide();
    participants.clear();
    for (const p of reply.participants) participants.set(p.id, p);
    applyStage(reply.stage);
    renderClassrooms();
    if (reply.chat) $('#chat-classrooms').checked = reply.chat.classrooms;
    quiz.show(reply.quiz);
    applyLessonState(reply.lesson_state || reply.lesson || reply);
    // the room's recording state now (a "Saving replay…"/"Replay ready" shown stays)
    if (reply.recording && !(reply.recording.state === 'off' && ['packaging', 'ready'].includes(recording.state)))
      renderRecording(reply.recording);
    renderIngest(reply.ingest || null);
    lessonTimes = reply.lesson && Number.isFinite(reply.lesson.ends_ms) && Number.isFinite(reply.lesson.closes_ms)
      ? { ends_ms: reply.lesson.ends_ms, closes_ms: reply.lesson.closes_ms } : null;
    checkLessonTime();
    subscriber.update(reply.tracks);
    renderGridPager();
    if (live) await startPublishing();
  } catch (err) {
    if (err.code === 'redirected') {
      // the lesson's origin is another node: the signal reconnects there, 'open' joins again
    } else if (['unauthorized', 'forbidden', 'not_open'].includes(err.code)) {
      refused = { code: err.code, message: err.text };
      notice.refused(err);
      if (err.code === 'not_open')
        retryTimer = setTimeout(() => { if (sig.state === 'open' && !me) join(); }, RETRY_NOT_OPEN_MS);
    } else {
      setError(`Could not join room ${room}: ${err.message}`);
    }
  }
  renderLessonControls();
  renderPubState();
}

// ---- the lesson: state, controls, time left, end (docs/scheduling.md "Lesson lifecycle") ----

function applyLessonState(st) {
  if (!st || typeof st !== 'object') return;
  if (typeof st.paused === 'boolean') lesson.paused = st.paused;
  if (typeof st.muted_all === 'boolean') lesson.muted_all = st.muted_all;
  renderLessonControls();
}

function setLabel(button, en, zh, key) {
  const z = document.createElement('span');
  z.className = 'zh';
  z.textContent = zh;
  const k = document.createElement('kbd');
  k.textContent = key;
  button.replaceChildren(`${en} `, z, ' ', k);
}

function renderLessonControls() {
  const can = !!me && !ended && !busyAction;
  const pause = $('#pause'), mute = $('#mute-all'), end = $('#end');
  pause.disabled = mute.disabled = end.disabled = !can;
  pause.setAttribute('aria-pressed', String(lesson.paused));
  mute.setAttribute('aria-pressed', String(lesson.muted_all));
  if (lesson.paused) setLabel(pause, 'Resume lesson', '继续', 'P');
  else setLabel(pause, 'Pause lesson', '暂停', 'P');
  if (lesson.muted_all) setLabel(mute, 'Unmute classrooms', '取消静音', 'M');
  else setLabel(mute, 'Mute all classrooms', '全体静音', 'M');
  const notes = [];
  if (lesson.paused) notes.push('Paused: the classrooms see a pause slate. 已暂停');
  if (lesson.muted_all) notes.push('All classrooms are muted. 全体静音中');
  $('#lesson-note').textContent = notes.join(' · ');
  $('#paused-flag').hidden = !lesson.paused || ended;
  $('#muted-flag').hidden = !lesson.muted_all || ended;
}

const ACTION_NAMES = {
  pause: 'Pausing the lesson', resume: 'Resuming the lesson', mute_all: 'Muting all classrooms',
  unmute_all: 'Unmuting the classrooms', end: 'Ending the lesson',
};

async function lessonAction(action) {
  if (!me || ended || busyAction) return false;
  busyAction = action;
  renderLessonControls();
  try {
    const reply = await sig.request('lesson', { action });
    setError('');
    if (action === 'pause' || action === 'resume') lesson.paused = action === 'pause';
    if (action === 'mute_all' || action === 'unmute_all') lesson.muted_all = action === 'mute_all';
    busyAction = null;
    applyLessonState(reply.lesson_state || reply);
    if (action === 'end') lessonEnded();
    return true;
  } catch (err) {
    if (ended) return true;        // lesson_ended came first and closed the connection
    setError(`${ACTION_NAMES[action]} was refused: ${err.text || err.message}`);
    return false;
  } finally {
    busyAction = null;
    renderLessonControls();
    const next = queuedKeys.shift();
    if (next) setTimeout(next);
  }
}

const togglePause = () => lessonAction(lesson.paused ? 'resume' : 'pause');
const toggleMuteAll = () => lessonAction(lesson.muted_all ? 'unmute_all' : 'mute_all');
async function endLesson() {
  if (!me || ended || busyAction) return false;
  const yes = await confirmDialog({
    title: 'End the lesson for everyone? 结束本节课？',
    text: 'Every classroom leaves, the room closes and the recording ends. This cannot be undone.',
    confirm: 'End lesson 结束', cancel: 'Keep teaching 继续上课',
  });
  return yes ? lessonAction('end') : false;
}

function fmtLeft(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function renderLessonTime() {
  const banner = $('#time-banner');
  if (!lessonTime || ended) { banner.hidden = true; clearInterval(lessonTimeTimer); return; }
  const left = lessonTime.closes_ms - Date.now();
  const at = new Date(lessonTime.closes_ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  banner.dataset.state = lessonTime.state;
  banner.dataset.urgent = String(left <= 60000);
  if (left <= 0) banner.textContent = 'The room is closing now. 课堂即将关闭';
  else if (lessonTime.state === 'overtime')
    banner.textContent = `Overtime: the lesson's time is up. The room closes in ${fmtLeft(left)} (at ${at}). 已超时`;
  else
    banner.textContent = `The room closes in ${fmtLeft(left)} (at ${at}): finish the lesson. 课堂即将关闭`;
  banner.hidden = false;
}

// The server warns the room once at each step; a teacher who joins (or reconnects) later
// learns the times from the join reply and the page counts on its own.
function checkLessonTime() {
  if (!lessonTimes || ended) return;
  const now = Date.now();
  if (now < lessonTimes.ends_ms) return;
  const state = lessonTimes.closes_ms - now <= 300000 ? 'closing' : 'overtime';
  if (!lessonTime || lessonTime.closes_ms !== lessonTimes.closes_ms || (state === 'closing' && lessonTime.state !== 'closing'))
    onLessonTime({ state, closes_ms: lessonTimes.closes_ms });
}
setInterval(checkLessonTime, 1000);

function onLessonTime(ev) {
  if (!Number.isFinite(ev.closes_ms)) return;
  lessonTime = { state: ev.state, closes_ms: ev.closes_ms };
  clearInterval(lessonTimeTimer);
  lessonTimeTimer = setInterval(renderLessonTime, 1000);
  renderLessonTime();
}

// The lesson is over (the server's lesson_ended, or our own "end"): stop the camera and
// every peer, stay off the server, and say so.
const END_REASONS = {
  time: 'The lesson\'s time is over. ',
  unscheduled: 'The lesson was moved or removed from the schedule. ',
};
function lessonEnded(e) {
  if (ended) return;
  const reason = e && e.detail && e.detail.reason;
  ended = true;
  live = false;
  clearTimeout(republishTimer);
  clearTimeout(retryTimer);
  clearInterval(lessonTimeTimer);
  if (pub) { pub.close(); pub = null; }
  subscriber.reset();
  sig.stop();
  me = null;
  for (const s of [camStream, screenStream]) for (const t of s ? s.getTracks() : []) t.stop();
  $('#preview').srcObject = null;
  $('#screen-tile').hidden = true;
  notice.show({
    title: 'The lesson has ended 本节课已结束',
    text: `${END_REASONS[reason] || ''}The room is closed and its recording is finished. You can close this page.`,
    kind: 'ended',
  });
  setError('');
  renderLessonTime();
  renderLessonControls();
  renderPubState();
}

sig.addEventListener('state', (e) => showState($('#ws-state'), e.detail === 'open' ? 'connected' : e.detail, stateKind(e.detail)));
sig.addEventListener('open', join);
sig.addEventListener('close', () => {
  me = null;
  if (pub) { pub.close(); pub = null; }
  subscriber.reset();
  renderPubState();
  renderLessonControls();
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
sig.addEventListener('tracks', (e) => { subscriber.update(e.detail.tracks); renderGridPager(); });
sig.addEventListener('peer_state', (e) => {
  const ev = e.detail;
  if (ev.target === 'publish' && (ev.state === 'failed' || ev.state === 'closed') && live)
    republishSoon(`relay reports ${ev.state}`);
});
sig.addEventListener('lesson_time', (e) => onLessonTime(e.detail));
sig.addEventListener('lesson_state', (e) => applyLessonState(e.detail));
sig.addEventListener('lesson_ended', lessonEnded);
sig.addEventListener('stage', (e) => applyStage(e.detail.stage));
// the classroom heard loudest now: its tile is outlined (from RFC 6464 levels, no decoding)
sig.addEventListener('speaker', (e) => {
  for (const t of document.querySelectorAll('#classroom-videos .tile')) t.classList.toggle('speaking', t.id === `cam-${e.detail.participant}`);
});
sig.addEventListener('chat_mode', (e) => { $('#chat-classrooms').checked = e.detail.classrooms; });
if (token) {
  watchRefusal(sig, token, (err) => {
    refused = { code: err.code, message: err.text };
    notice.refused(err);
    sig.stop();
    renderPubState();
  });
}

// ---- recording indicator: the server's "recording" event (docs/recording.md) ----
// A red "REC" while the lesson is recorded, a banner when the recording has a problem
// (the lesson itself goes on) or when the server cannot record at all ("unavailable": no
// recorder binary), nothing when the room is not recorded.
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
  banner.hidden = s !== 'error' && s !== 'unavailable';
  if (s === 'error')
    banner.textContent = `Recording has a problem: ${recording.message || 'unknown error'}. The lesson continues.`;
  else if (s === 'unavailable')
    banner.textContent = `Recording is off: ${recording.message || 'the server cannot record'}. ` +
      'The lesson goes on, but it is not recorded. 本节课不会被录制。';
  else banner.textContent = '';
}
sig.addEventListener('recording', (e) => renderRecording(e.detail));

// ---- the lesson's RTSP source: the server's "ingest" event (docs/protocol.md) ----
// A classroom camera or recording system may be the lesson's teacher source (set in the
// schedule or over REST). Its URL comes redacted (no password); its state says whether the
// camera plays, is being reached, or was lost and is tried again.
const INGEST_STATES = {
  starting: 'starting 启动中', connecting: 'connecting 连接中', playing: 'playing 正常',
  lost: 'lost, retrying 信号中断，重连中', restarting: 'restarting 重启中',
};
let ingest = null;
function renderIngest(ev) {
  ingest = ev && ev.url ? ev : null;
  const note = $('#source-note');
  note.hidden = !ingest;
  if (!ingest) return;
  note.dataset.state = ingest.state;
  note.textContent = `Source 信号源: RTSP camera ${ingest.url} — ` +
    `${INGEST_STATES[ingest.state] || ingest.state}${ingest.message ? ` (${ingest.message})` : ''}`;
}
sig.addEventListener('ingest', (e) => renderIngest(e.detail.ingest || null));

$('#start').addEventListener('click', startLesson);
$('#stop').addEventListener('click', stopLesson);
$('#share').addEventListener('click', toggleShare);
$('#pause').addEventListener('click', togglePause);
$('#mute-all').addEventListener('click', toggleMuteAll);
$('#end').addEventListener('click', endLesson);

// One-key controls, documented in the buttons' tooltips: P, M, E (E asks first). Not while
// typing in a field, with a modifier held, or while a dialog is open. A key pressed while
// the previous action awaits its reply runs after that reply (P then M at once pauses and
// mutes), instead of being lost; each toggle reads the state when it runs.
document.addEventListener('keydown', (e) => {
  if (e.repeat || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
  const t = e.target;
  if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
  if (document.querySelector('dialog[open]')) return;
  const key = e.key.toLowerCase();
  const run = { p: togglePause, m: toggleMuteAll, e: endLesson }[key];
  if (!run || !me || ended) return;
  e.preventDefault();
  if (busyAction) {
    if (queuedKeys.length < 4) queuedKeys.push(run);
  } else run();
});

async function openCamera() {
  try {
    camStream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
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
      recording, ingest, lesson: { ...lesson }, ended, refused, lessonTime, stage: { ...stage },
      grid: { page: gridPage, senders: cameraSenders(subscriber.roomTracks) },
    };
  },
  stats: async () => ({ pub: await summarizeStats(pub && pub.pc), sub: await summarizeStats(subscriber.pc) }),
  start: startLesson,
  stop: stopLesson,
  lessonAction,
};

renderPubState();
renderLessonControls();
openCamera();
sig.start();
