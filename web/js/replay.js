// Replay page for teaching-research staff: the catalogue of recorded lessons (search by
// room, teacher, date, text) and one lesson's player, from the REST API in
// docs/recording.md. Plays HLS natively where the browser can, else with hls.js
// (web/node_modules, loaded on demand), else the MP4 file; each failure falls through to
// the next. Chapters and notes (comments, bookmarks, chapters other researchers added)
// seek on click; new notes are added at the current position.
// A lesson with a shared screen (REC.screen) shows the courseware as a second, muted
// video beside the lesson video, which is its clock: the courseware follows its play,
// pause, seeks and speed. The courseware is large while it was being shared (the marked
// stretches of the position bar), the camera otherwise, until the viewer picks one. A
// lesson with a stage (REC.stage) shows the classroom the teacher called on in a corner
// while its turn plays (its voice is in the lesson's sound). Both follow the lesson video
// (follow.js). The MP4 has neither: with it the second pictures are hidden.
//
//   replay.html                         the catalogue (?room=&teacher=&from=&to=&q=)
//   replay.html?id=<id>&t=<seconds>     one lesson, starting at t
//   &player=native|hlsjs|mp4            force one way of playing (tests, debugging;
//                                       hlsjs still falls back to the MP4)
// Keyboard: space play/pause, ←/→ ±5 s.
// REST answers 401 (no session, or it expired): off to login.html, back here afterwards.
import { $, params, log } from './common.js';
import { api } from './api.js';
import { el } from './dom.js';
import { Follower } from './follow.js';

// Every visible string of the page. A translation is one more table with the same keys;
// the HTML carries data-i18n="key" (text) and data-i18n-placeholder="key".
const STRINGS = {
  en: {
    pageTitle: 'Lesson replay', allLessons: '← All lessons',
    room: 'Room', teacher: 'Teacher', from: 'From', to: 'To', text: 'Text',
    textHint: 'title, teacher or note text', search: 'Search', more: 'More',
    found: '{n} lessons', shown: '{shown} of {n} lessons', noneFound: 'No lessons found.',
    listFailed: 'Could not load the lessons: {error}',
    untitled: 'Lesson in room {room}',
    meta: 'Room {room} · {teacher} · {date} · {duration}',
    recording: 'recording', packaging: 'preparing {p} %', ready: 'ready', failed: 'failed',
    waitRecording: 'This lesson is still being recorded. Its replay is prepared when it ends.',
    waitPackaging: 'Preparing the replay… {p} %',
    failedLong: 'This lesson could not be prepared for replay: {error}',
    notFound: 'No lesson {id}: {error}',
    back5: '−5 s', fwd5: '+5 s', play: 'Play', pause: 'Pause',
    speed: 'Speed', quality: 'Quality', auto: 'Auto', autoAt: 'Auto ({h}p)',
    hi: 'High', lo: 'Low (weak link)', renditionAt: '{label} ({h}p)',
    download: 'Download MP4', copyLink: 'Copy link at this time', copied: 'Link copied: {url}',
    linkHere: 'Link to this moment: {url}',
    mp4Fallback: 'Streaming does not work here; playing the MP4 file instead (no quality choice).',
    playFailed: 'The video cannot be played: {error}',
    chapters: 'Chapters', noChapters: 'No chapters.',
    notes: 'Comments & bookmarks', noNotes: 'No comments yet: add the first at the current time.',
    author: 'Your name', kind: 'Kind', comment: 'Comment', bookmark: 'Bookmark', chapter: 'Chapter',
    noteText: 'Text', addAt: 'Add at {time}', needText: 'Write something first.',
    needAuthor: 'Enter your name first.', addFailed: 'Could not save: {error}',
    del: 'Delete', delConfirm: 'Delete this note?', delFailed: 'Could not delete: {error}',
    by: '{author}, {date}',
    layout: 'Layout', screenLarge: 'Courseware large', cameraLarge: 'Camera large',
    position: 'Position', sharedLegend: 'Marked on the bar: courseware shared',
    screenTitle: 'Courseware (shared screen)', cameraTitle: 'Camera', swapHint: 'Click to make it large',
    layoutAuto: 'Auto', layoutAutoHint: 'Courseware large while it was being shared, else the camera',
    screenFailed: 'The courseware video cannot be played: {error}',
    stageTitle: 'On stage: the classroom the teacher called on',
    stageFailed: 'The stage video cannot be played: {error}',
    recorderOff: 'Recording is off: {why}. New lessons are not recorded.',
  },
};
const S = STRINGS[(navigator.language || 'en').split('-')[0]] || STRINGS.en;

function t(key, vars = {}) {
  return (S[key] ?? STRINGS.en[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

function translatePage() {
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of document.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  document.title = `ClassRelay · ${t('pageTitle')}`;
}

// ---- formatting ----

function fmtTime(sec) {
  if (!Number.isFinite(sec) || sec < 0) sec = 0;
  const s = Math.floor(sec), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
function fmtDate(ms) {
  return ms ? new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '';
}
function lessonTitle(rec) { return rec.title || t('untitled', { room: rec.room }); }
function lessonMeta(rec) {
  return t('meta', { room: rec.room, teacher: rec.teacher || '–', date: fmtDate(rec.started_ms),
                     duration: fmtTime((rec.duration_ms || 0) / 1000) });
}
function stateText(rec) {
  return t(rec.state, { p: Math.floor(rec.progress || 0) });
}

// ---- REST (api.js: a 401 goes to login.html and back) ----

const recPath = (id) => `api/v1/recordings/${encodeURIComponent(id)}`;

// =====================================================================================
// The catalogue
// =====================================================================================

const PAGE = 20;
const list = { offset: 0, total: 0, shown: 0, pollTimer: null, items: new Map() };

function dayStartMs(value, plusDays = 0) {
  const [y, m, d] = value.split('-').map(Number);
  return new Date(y, m - 1, d + plusDays).getTime();   // local midnight
}

function listQuery() {
  const q = new URLSearchParams();
  for (const k of ['room', 'teacher', 'q']) if (params.get(k)) q.set(k, params.get(k));
  if (/^\d{4}-\d{2}-\d{2}$/.test(params.get('from') || '')) q.set('from', dayStartMs(params.get('from')));
  if (/^\d{4}-\d{2}-\d{2}$/.test(params.get('to') || '')) q.set('to', dayStartMs(params.get('to'), 1));
  return q;
}

function renderItem(rec) {
  const badge = el('span', { className: 'badge', dataset: { state: rec.state } }, stateText(rec));
  const li = el('li', { dataset: { id: rec.id } },
    el('a', { href: `replay.html?id=${encodeURIComponent(rec.id)}` },
      el('span', { className: 'rec-title' }, lessonTitle(rec)), ' ', badge,
      el('span', { className: 'muted rec-meta' }, lessonMeta(rec))));
  list.items.set(rec.id, rec);
  return li;
}

async function loadList(append = false) {
  const q = listQuery();
  q.set('limit', PAGE);
  q.set('offset', append ? list.shown : 0);
  $('#list-error').textContent = '';
  try {
    const data = await api(`api/v1/recordings?${q}`);
    if (!append) { $('#recordings').replaceChildren(); list.items.clear(); list.shown = 0; }
    for (const rec of data.recordings) $('#recordings').append(renderItem(rec));
    list.shown += data.recordings.length;
    list.total = data.total;
    $('#list-summary').textContent = !list.total ? t('noneFound')
      : list.shown < list.total ? t('shown', { shown: list.shown, n: list.total }) : t('found', { n: list.total });
    $('#more').hidden = list.shown >= list.total || !data.recordings.length;
  } catch (err) {
    $('#list-error').textContent = t('listFailed', { error: err.message });
  }
  schedulePollList();
}

// Lessons still recording or being packaged: refresh them in place until they settle.
function schedulePollList() {
  clearTimeout(list.pollTimer);
  const busy = [...list.items.values()].filter((r) => r.state === 'recording' || r.state === 'packaging');
  if (!busy.length) return;
  list.pollTimer = setTimeout(async () => {
    for (const r of busy.slice(0, 10)) {
      try {
        const rec = await api(recPath(r.id));
        const old = document.querySelector(`#recordings li[data-id="${CSS.escape(r.id)}"]`);
        if (old) old.replaceWith(renderItem(rec));
      } catch (err) { log('refresh', r.id, err.message); }
    }
    schedulePollList();
  }, 3000);
}

function startList() {
  $('#list-view').hidden = false;
  const form = $('#search');
  for (const k of ['room', 'teacher', 'from', 'to', 'q']) form.elements[k].value = params.get(k) || '';
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const k of ['room', 'teacher', 'from', 'to', 'q']) {
      const v = form.elements[k].value.trim();
      if (v) q.set(k, v);
    }
    location.search = q.toString();
  });
  $('#more').addEventListener('click', () => loadList(true));
  loadList();
}

// =====================================================================================
// One lesson
// =====================================================================================

const video = $('#video');
const AUTHOR_KEY = 'classrelay.replay.author';
const RENDITION_KEY = 'classrelay.replay.rendition';
const startAt = Math.max(0, Number(params.get('t')) || 0);
let rec = null;
let notes = [];
let engine = null;        // {kind:'native'|'hlsjs'|'mp4', hls?}
let engines = [];         // what is left to try, in order
let pendingSeek = startAt || null;
let notesTimer = null;

function setStatus(text, progress = null) {
  $('#status').hidden = !text;
  $('#status-text').textContent = text || '';
  $('#status-progress').hidden = progress === null;
  if (progress !== null) $('#status-progress').value = progress;
}
function playerNote(text) { $('#player-note').textContent = text || ''; }
function playerError(text) { $('#player-error').textContent = text || ''; }

function renderHead() {
  $('#lesson-title').textContent = lessonTitle(rec);
  $('#lesson-meta').textContent = `${lessonMeta(rec)} · ${stateText(rec)}`;
  document.title = `ClassRelay · ${lessonTitle(rec)}`;
  if (rec.mp4) {
    $('#download').href = rec.mp4;
    $('#download').download = `${rec.id}.mp4`;
  }
  $('#download').hidden = !rec.mp4;
}

async function startLesson(id) {
  $('#player-view').hidden = false;
  $('#to-list').hidden = false;
  $('#author').value = localStorage.getItem(AUTHOR_KEY) || '';
  $('#rendition').value = localStorage.getItem(RENDITION_KEY) || 'auto';
  $('#speed').value = '1';
  wirePlayer();
  wireNotes();
  for (;;) {
    try {
      rec = await api(recPath(id));
    } catch (err) {
      if (err.status === 404 || err.status === 400) {
        $('#lesson-title').textContent = t('notFound', { id, error: err.message });
        return;
      }
      setStatus(t('listFailed', { error: err.message }));   // server away: keep trying
      await new Promise((r) => setTimeout(r, 5000));
      continue;
    }
    renderHead();
    renderChapters();
    if (rec.state === 'ready') break;
    if (rec.state === 'failed') { setStatus(t('failedLong', { error: rec.error || '?' })); loadNotes(); return; }
    if (rec.state === 'packaging') setStatus(t('waitPackaging', { p: Math.floor(rec.progress || 0) }), rec.progress || 0);
    else setStatus(t('waitRecording'));
    if (!notes.length) loadNotes();
    await new Promise((r) => setTimeout(r, rec.state === 'packaging' ? 2000 : 5000));
  }
  setStatus(null);
  loadNotes();
  scheduleNotes();
  startPlayback();
}

// ---- engines: native HLS → hls.js → MP4 ----

function loadHlsJs() {
  if (window.Hls) return Promise.resolve(window.Hls);
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    const timer = setTimeout(() => reject(new Error('hls.js took too long to load')), 20000);
    s.src = 'node_modules/hls.js/dist/hls.min.js';
    s.onload = () => { clearTimeout(timer); window.Hls ? resolve(window.Hls) : reject(new Error('no Hls')); };
    s.onerror = () => { clearTimeout(timer); reject(new Error('hls.js could not be loaded')); };
    document.head.append(s);
  });
}

function startPlayback() {
  const forced = params.get('player');
  const nativeHls = !!video.canPlayType('application/vnd.apple.mpegurl');
  engines = [];
  if (rec.hls && (forced === 'native' || (!forced && nativeHls))) engines.push('native');
  if (rec.hls && (!forced || forced === 'hlsjs')) engines.push('hlsjs');
  if (rec.mp4 && forced !== 'native') engines.push('mp4');
  nextEngine(null);
}

function renditionOf(name) { return (rec.renditions || []).find((r) => r.name === name); }

function hlsUrl() {
  const r = renditionOf($('#rendition').value);
  return r && r.url ? r.url : rec.hls;
}

// Tears down the current engine (keeping the position, speed, paused state) and starts
// the next one that is left; err is why the previous one gave up.
async function nextEngine(err) {
  const resume = engine ? { at: video.currentTime, paused: video.paused } : null;
  if (resume && resume.at > 0) pendingSeek = resume.at;
  if (err) log(`${engine ? engine.kind : 'player'} failed:`, err.message || err);
  if (engine && engine.hls) engine.hls.destroy();
  engine = null;
  const kind = engines.shift();
  if (!kind) {
    playerError(t('playFailed', { error: err ? err.message || String(err) : 'no playable file' }));
    return;
  }
  const rate = Number($('#speed').value);
  if (kind === 'hlsjs') {
    let Hls;
    try {
      Hls = await loadHlsJs();
      if (!Hls.isSupported()) throw new Error('this browser has no Media Source Extensions');
    } catch (e) { nextEngine(e); return; }
    startHlsJs(Hls);
  } else {
    engine = { kind };
    video.src = kind === 'native' ? hlsUrl() : rec.mp4;
    if (kind === 'mp4') {
      $('#rendition').disabled = true;
      if (rec.hls) playerNote(t('mp4Fallback'));
    }
  }
  video.playbackRate = rate;
  video.defaultPlaybackRate = rate;
  if (resume && !resume.paused) video.play().catch(() => {});
  log('playing with', kind);
  enableControls(true);
  const Hls = kind === 'hlsjs' ? engine && engine.hls && engine.hls.constructor : null;
  startScreen(Hls);
  startStage(Hls);
}

function startHlsJs(Hls) {
  const hls = new Hls({ startPosition: pendingSeek ?? -1, maxBufferLength: 30, maxMaxBufferLength: 60 });
  engine = { kind: 'hlsjs', hls, recovered: 0, retried: 0 };
  const mine = engine;
  hls.on(Hls.Events.MANIFEST_PARSED, () => applyRendition());
  hls.on(Hls.Events.ERROR, (_, data) => {
    if (!data.fatal || engine !== mine) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mine.recovered++ < 2) {
      hls.recoverMediaError();
    } else if (data.type === Hls.ErrorTypes.NETWORK_ERROR && mine.retried++ < 3) {
      setTimeout(() => { if (engine === mine) hls.startLoad(); }, 1000 * mine.retried);
    } else {
      nextEngine(new Error(`hls.js: ${data.details}`));
    }
  });
  hls.loadSource(rec.hls);
  hls.attachMedia(video);
  pendingSeek = null;   // startPosition does it
}

// hls.js switches level in place; the native player reloads the chosen playlist.
function applyRendition() {
  const choice = $('#rendition').value;
  if (!engine) return;
  if (engine.kind === 'hlsjs') {
    const hls = engine.hls;
    const r = renditionOf(choice);
    let idx = -1;
    if (r) {
      // a level's URL may carry a grant (a playlist fetched through another node's 307)
      idx = hls.levels.findIndex((l) => (r.url && l.url && l.url.some((u) => u.split('?')[0].endsWith(r.url.split('/').slice(-2).join('/'))))
                                        || (r.height && l.height === r.height));
    }
    hls.currentLevel = idx;
  } else if (engine.kind === 'native') {
    const url = new URL(hlsUrl(), location.href).href;
    if (video.src === url) return;
    const at = video.currentTime, paused = video.paused;
    pendingSeek = at;
    video.src = url;
    if (!paused) video.play().catch(() => {});
  }
}

function updateRenditionLabels() {
  const h = video.videoHeight;
  const sel = $('#rendition');
  for (const opt of sel.options) {
    const base = t(opt.dataset.i18n);
    const r = renditionOf(opt.value);
    opt.textContent = opt.value === 'auto' ? (h && engine && engine.kind !== 'mp4' ? t('autoAt', { h }) : base)
      : r && r.height ? t('renditionAt', { label: base, h: r.height }) : base;
    if (opt.value !== 'auto') opt.disabled = !r;
  }
  if (sel.selectedOptions[0] && sel.selectedOptions[0].disabled) sel.value = 'auto';
}

// ---- the player's controls ----

function enableControls(on) {
  video.controls = on;     // the browser's own bar too, once there is something to play
  for (const id of ['#back5', '#play', '#fwd5', '#add-note']) $(id).disabled = !on;
  updateRenditionLabels();
}

function seekTo(sec, play = false) {
  if (!engine) { pendingSeek = sec; return; }
  const d = Number.isFinite(video.duration) ? video.duration : (rec.duration_ms || 0) / 1000;
  video.currentTime = Math.max(0, Math.min(sec, d ? d - 0.1 : sec));
  if (play) video.play().catch(() => {});
}

function togglePlay() {
  if (!engine) return;
  if (video.paused || video.ended) video.play().catch((err) => playerError(t('playFailed', { error: err.message })));
  else video.pause();
}

function renderClock() {
  const d = Number.isFinite(video.duration) && video.duration ? video.duration : (rec ? rec.duration_ms / 1000 : 0);
  $('#clock').textContent = `${fmtTime(video.currentTime)} / ${fmtTime(d)}`;
  $('#add-note').textContent = t('addAt', { time: fmtTime(video.currentTime) });
  markCurrentChapter();
  renderSeekbar(d);
  autoLayout();
}

function wirePlayer() {
  $('#play').addEventListener('click', togglePlay);
  $('#back5').addEventListener('click', () => seekTo(video.currentTime - 5));
  $('#fwd5').addEventListener('click', () => seekTo(video.currentTime + 5));
  $('#speed').addEventListener('change', () => {
    video.playbackRate = video.defaultPlaybackRate = Number($('#speed').value);
  });
  // the browser's own controls can change the speed too
  video.addEventListener('ratechange', () => {
    const v = String(video.playbackRate);
    if ([...$('#speed').options].some((o) => o.value === v)) $('#speed').value = v;
  });
  $('#rendition').addEventListener('change', () => {
    localStorage.setItem(RENDITION_KEY, $('#rendition').value);
    applyRendition();
  });
  $('#copy-link').addEventListener('click', async () => {
    const u = new URL(location.href);
    u.searchParams.set('t', String(Math.floor(video.currentTime)));
    history.replaceState(null, '', u);
    try {
      await navigator.clipboard.writeText(u.href);
      playerNote(t('copied', { url: u.href }));
    } catch {
      playerNote(t('linkHere', { url: u.href }));  // no clipboard on plain http: show it
    }
  });
  video.addEventListener('loadedmetadata', () => {
    if (pendingSeek !== null) { const at = pendingSeek; pendingSeek = null; seekTo(at); }
    video.playbackRate = Number($('#speed').value);
    renderClock();
  });
  video.addEventListener('play', () => { $('#play').textContent = t('pause'); });
  video.addEventListener('pause', () => { $('#play').textContent = t('play'); });
  video.addEventListener('timeupdate', renderClock);
  video.addEventListener('durationchange', renderClock);
  video.addEventListener('resize', updateRenditionLabels);
  for (const ev of ['timeupdate', 'seeking', 'seeked', 'ratechange', 'play', 'playing', 'pause', 'waiting', 'ended'])
    video.addEventListener(ev, () => { syncScreen(); syncStage(); });
  wireScreen();
  video.addEventListener('error', () => {
    if (!engine || engine.kind === 'hlsjs') return;  // hls.js reports its own errors
    const e = video.error;
    nextEngine(new Error(e ? `${e.code} ${e.message || ''}`.trim() : 'media error'));
  });

  window.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || !engine) return;
    if (e.target.closest && e.target.closest('input, textarea, select, [contenteditable]')) return;
    if (e.key === ' ' || e.key === 'k') togglePlay();
    else if (e.key === 'ArrowLeft') seekTo(video.currentTime - 5);
    else if (e.key === 'ArrowRight') seekTo(video.currentTime + 5);
    else return;
    e.preventDefault();     // no page scroll, no second toggle from the video's own controls
  }, true);
}

// ---- the shared screen (courseware): a second, muted video that follows the lesson ----

const screenVideo = $('#screen');
const screen = {
  on: false,
  user: null,          // the layout the viewer chose ('screen' | 'camera'), null: automatic
  large: null,         // which video fills the tile now
  dragging: false,
};
const screenFollow = new Follower(screenVideo, video, { name: 'courseware', onFail: screenFailed });

// Whether lesson second sec lies in one of spans ([{at_ms, duration_ms}]).
function within(spans, sec) {
  const ms = sec * 1000;
  return (spans || []).some((s) => ms >= s.at_ms && ms < s.at_ms + s.duration_ms);
}

function sharedAt(sec) { return !!(rec && rec.screen && within(rec.screen.shared, sec)); }

function showScreen(on) {
  screen.on = on;
  screenVideo.hidden = !on;
  $('#stage').classList.toggle('with-screen', on);
  for (const id of ['#layout', '#seekbar', '#shared-legend']) $(id).hidden = !on;
  if (on) {
    screen.large = null;
    renderSharedMarks();
    autoLayout();
  } else {
    delete $('#stage').dataset.large;
    video.classList.remove('large', 'inset');
    screenVideo.classList.remove('large', 'inset');
    video.controls = !!engine;
  }
}

// Called whenever the lesson's engine changes: the courseware plays the same way (the
// same HLS player), and not at all beside the MP4. Hls: the hls.js class, when that is it.
function startScreen(Hls) {
  const url = rec && rec.screen && rec.screen.url;
  showScreen(screenFollow.start(url, engine && engine.kind, Hls));
}

function screenFailed(err) {
  showScreen(false);
  playerNote(t('screenFailed', { error: err.message || String(err) }));
}

function syncScreen() { if (screen.on) screenFollow.sync(); }

function autoLayout() {
  if (!screen.on) return;
  const large = screen.user || (sharedAt(video.currentTime) ? 'screen' : 'camera');
  if (large !== screen.large) applyLayout(large);
}

const stacked = matchMedia('(max-width: 520px)');

function applyLayout(large) {
  screen.large = large;
  $('#stage').dataset.large = large;
  video.classList.toggle('large', large === 'camera');
  video.classList.toggle('inset', large !== 'camera');
  screenVideo.classList.toggle('large', large === 'screen');
  screenVideo.classList.toggle('inset', large !== 'screen');
  // the small picture is a button that makes it large, so it has no controls of its own
  video.controls = !!engine && (large === 'camera' || stacked.matches);
  const inset = large === 'screen' ? video : screenVideo;
  const big = large === 'screen' ? screenVideo : video;
  inset.title = `${t(large === 'screen' ? 'cameraTitle' : 'screenTitle')} · ${t('swapHint')}`;
  big.title = large === 'screen' ? t('screenTitle') : '';
  for (const b of document.querySelectorAll('#layout button')) {
    const v = b.dataset.layout;
    b.setAttribute('aria-pressed', String(v === 'auto' ? !screen.user : !!screen.user && v === large));
    if (v === 'auto') b.title = t('layoutAutoHint');
  }
}

function chooseLayout(choice) {
  screen.user = choice === 'auto' ? null : choice;
  screen.large = null;
  autoLayout();
}

function renderSharedMarks() {
  const d = Number($('#seek').max);
  const marks = $('#shared-marks');
  if (!rec || !rec.screen || !d) { marks.replaceChildren(); return; }
  marks.replaceChildren(...(rec.screen.shared || []).map((s) => {
    const m = el('span', { title: `${fmtTime(s.at_ms / 1000)} – ${fmtTime((s.at_ms + s.duration_ms) / 1000)}` });
    m.style.left = `${Math.min(100, (s.at_ms / 1000 / d) * 100)}%`;
    m.style.width = `${Math.min(100, (s.duration_ms / 1000 / d) * 100)}%`;
    return m;
  }));
}

function renderSeekbar(d) {
  if (!screen.on) return;
  const seek = $('#seek');
  if (d && Math.abs(Number(seek.max) - d) > 0.05) { seek.max = String(d); renderSharedMarks(); }
  if (!screen.dragging) seek.value = String(video.currentTime);
  seek.setAttribute('aria-valuetext', fmtTime(video.currentTime));
}

function wireScreen() {
  $('#layout').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-layout]');
    if (b) chooseLayout(b.dataset.layout);
  });
  // a click on the small picture makes it the large one
  for (const v of [video, screenVideo]) {
    v.addEventListener('click', (e) => {
      if (!screen.on || !v.classList.contains('inset') || stacked.matches) return;
      e.preventDefault();
      chooseLayout(v === video ? 'camera' : 'screen');
    });
  }
  stacked.addEventListener('change', () => { if (screen.on) applyLayout(screen.large); });
  const seek = $('#seek');
  seek.addEventListener('input', () => {
    screen.dragging = true;
    seekTo(Number(seek.value));
  });
  seek.addEventListener('change', () => { screen.dragging = false; });
}

// ---- the stage: the classroom the teacher called on, in a corner while its turn plays ----

const stageVideo = $('#stage-video');
const stage = { on: false };
const stageFollow = new Follower(stageVideo, video, {
  name: 'stage',
  onFail: (err) => {
    stage.on = false;
    syncStage();
    playerNote(t('stageFailed', { error: err.message || String(err) }));
  },
});

function turnAt(sec) { return !!(rec && rec.stage && within(rec.stage.turns, sec)); }

function startStage(Hls) {
  const url = rec && rec.stage && rec.stage.url;
  stage.on = stageFollow.start(url, engine && engine.kind, Hls);
  stageVideo.title = t('stageTitle');
  syncStage();
}

// Shown while a turn plays; kept in step all the time, so it is ready when the next begins.
function syncStage() {
  stageVideo.hidden = !(stage.on && turnAt(video.currentTime));
  if (stage.on) stageFollow.sync();
}

// ---- chapters and notes ----

function timeButton(ms) {
  return el('button', { type: 'button', className: 'at', dataset: { at: ms }, title: fmtTime(ms / 1000) },
    fmtTime(ms / 1000));
}

function allChapters() {
  const fromNotes = notes.filter((n) => n.kind === 'chapter').map((n) => ({ at_ms: n.at_ms, title: n.text }));
  return [...(rec.chapters || []), ...fromNotes].sort((a, b) => a.at_ms - b.at_ms);
}

function renderChapters() {
  const chapters = allChapters();
  const ol = $('#chapters');
  ol.replaceChildren(...chapters.map((c) =>
    el('li', { dataset: { at: c.at_ms } }, timeButton(c.at_ms), ' ', el('span', {}, c.title))));
  if (!chapters.length) ol.append(el('li', { className: 'muted' }, t('noChapters')));
  markCurrentChapter();
}

function markCurrentChapter() {
  const now = video.currentTime * 1000;
  let current = null;
  for (const li of document.querySelectorAll('#chapters li[data-at]')) {
    li.classList.remove('current');
    if (Number(li.dataset.at) <= now + 250) current = li;
  }
  if (current) current.classList.add('current');
}

function renderNotes() {
  const me = $('#author').value.trim();
  const ol = $('#notes');
  const items = notes.map((n) => {
    const del = n.author && n.author === me
      ? el('button', { type: 'button', className: 'link del', dataset: { id: n.id } }, t('del')) : null;
    return el('li', { dataset: { id: n.id, kind: n.kind, at: n.at_ms } },
      timeButton(n.at_ms), ' ',
      el('span', { className: 'badge', dataset: { kind: n.kind } }, t(n.kind) || n.kind), ' ',
      el('span', { className: 'note-text' }, n.text),
      el('span', { className: 'note-foot' },
        el('span', { className: 'muted note-by' }, t('by', { author: n.author || '–', date: fmtDate(n.created_ms) })),
        del));
  });
  ol.replaceChildren(...items);
  if (!notes.length) ol.append(el('li', { className: 'muted' }, t('noNotes')));
  $('#note-count').textContent = String(notes.length);
}

function setNotes(list) {
  notes = list.slice().sort((a, b) => a.at_ms - b.at_ms || a.created_ms - b.created_ms);
  renderNotes();
  renderChapters();
}

async function loadNotes() {
  try {
    const data = await api(`${recPath(rec.id)}/notes`);
    setNotes(data.notes || []);
  } catch (err) {
    log('notes', err.message);
  }
}

// Other researchers' notes appear without a reload.
function scheduleNotes() {
  clearTimeout(notesTimer);
  notesTimer = setTimeout(async () => {
    if (!document.hidden) await loadNotes();
    scheduleNotes();
  }, 15000);
}

function wireNotes() {
  // a click on any time (chapter or note) seeks there
  for (const id of ['#chapters', '#notes']) {
    $(id).addEventListener('click', (e) => {
      const b = e.target.closest('button.at');
      if (b) seekTo(Number(b.dataset.at) / 1000);
    });
  }
  $('#notes').addEventListener('click', async (e) => {
    const b = e.target.closest('button.del');
    if (!b || !confirm(t('delConfirm'))) return;
    try {
      await api(`${recPath(rec.id)}/notes/${encodeURIComponent(b.dataset.id)}`, { method: 'DELETE' });
      setNotes(notes.filter((n) => String(n.id) !== b.dataset.id));
    } catch (err) {
      $('#note-error').textContent = t('delFailed', { error: err.message });
    }
  });
  $('#author').addEventListener('change', () => {
    localStorage.setItem(AUTHOR_KEY, $('#author').value.trim());
    renderNotes();
  });
  $('#note-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const author = $('#author').value.trim();
    const kind = $('#kind').value;
    let text = $('#note-text').value.trim();
    if (!text && kind === 'bookmark') text = t('bookmark');
    $('#note-error').textContent = '';
    if (!author) { $('#note-error').textContent = t('needAuthor'); $('#author').focus(); return; }
    if (!text) { $('#note-error').textContent = t('needText'); $('#note-text').focus(); return; }
    localStorage.setItem(AUTHOR_KEY, author);
    const atMs = Math.round(video.currentTime * 1000);
    $('#add-note').disabled = true;
    try {
      const note = await api(`${recPath(rec.id)}/notes`, { method: 'POST', body: { kind, at_ms: atMs, text, author } });
      setNotes([...notes.filter((n) => n.id !== note.id), note]);
      $('#note-text').value = '';
    } catch (err) {
      $('#note-error').textContent = t('addFailed', { error: err.message });
    } finally {
      $('#add-note').disabled = !engine;
    }
  });
}

// ---- the server's recorder: a notice when new lessons are not being recorded ----
// /api/v1/stats "recording" (docs/recording.md): enabled is false when the server runs
// with --no-record or has no classrelay-recorder; problem says which. Readers who may not
// read the stats see no notice.
let recorderOff = null;
async function checkRecorder() {
  try {
    const res = await fetch('api/v1/stats', { cache: 'no-store' });
    if (!res.ok) return;
    const r = (await res.json()).recording;
    recorderOff = r && r.enabled === false ? (r.problem || 'the server does not record') : null;
  } catch { return; }
  $('#recorder-notice').hidden = !recorderOff;
  $('#recorder-notice').textContent = recorderOff ? t('recorderOff', { why: recorderOff }) : '';
}

// ---- for tests and the console ----

window.classrelay = {
  get state() {
    return {
      view: params.get('id') ? 'lesson' : 'list',
      rec, notes, engine: engine ? engine.kind : null, recorderOff,
      level: engine && engine.hls ? engine.hls.currentLevel : null,
      currentTime: video.currentTime, paused: video.paused, rate: video.playbackRate,
      videoHeight: video.videoHeight, error: $('#player-error').textContent,
      screen: screen.on ? {
        ...screenFollow.state, large: screen.large, user: screen.user, shared: sharedAt(video.currentTime),
      } : null,
      stage: stage.on ? { ...stageFollow.state, shown: !stageVideo.hidden, turn: turnAt(video.currentTime) } : null,
    };
  },
  video, screenVideo, stageVideo,
  seek: seekTo,
};

translatePage();
checkRecorder();
if (params.get('id')) startLesson(params.get('id'));
else startList();
