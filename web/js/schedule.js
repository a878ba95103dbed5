// Schedule page (docs/scheduling.md): the week calendar of lessons, "Live now", lesson
// create/edit/delete, each lesson's join links, and (js/manage.js) the schools, classrooms
// and users behind them.
//
//   calendar    Monday–Sunday columns in local time, an hour per row, lessons placed from
//               GET /api/v1/lessons?from=&to= (occurrences of weekly lessons too); lessons
//               that overlap share their column side by side; ?week=YYYY-MM-DD keeps the
//               week across reloads
//   live        GET /api/v1/live every 10 s: the panel, and the calendar's highlight
//   dialogs     create/edit (POST/PUT /api/v1/lessons; a 409 double booking is shown in the
//               dialog, which stays open) and details with the join links
//               (GET /api/v1/lessons/{id}/links), each with "Copy link"
//
// Who may do what is the server's decision; the page only hides what the role cannot use
// (writes: admin and scheduler; users: admin). A 401 anywhere goes to the login page.
// Everything typed by users reaches the page through textContent (js/dom.js el()).
import { $, params, log } from './common.js';
import { api, listOf } from './api.js';
import { el, bi, dateValue, timeValue, localMs, fmtTime, fmtDay, fmtDateTime, confirmDialog } from './dom.js';
import { initManage } from './manage.js';

const LIVE_POLL_MS = 10000;
const WEEK_POLL_MS = 60000;
const MAX_LESSON_MS = 12 * 3600 * 1000;
const ROLE_NAMES = {
  admin: 'Admin 管理员', scheduler: 'Scheduler 排课', teacher: 'Teacher 主讲教师',
  classroom: 'Classroom 接收课堂', researcher: 'Researcher 教研', observer: 'Observer 巡课',
};

const state = {
  me: null,                 // GET /api/v1/me
  role: 'none',
  weekStart: null,          // Date: local Monday 00:00 of the week shown
  occurrences: [],          // this week's, from GET /api/v1/lessons
  teachers: new Map(),      // id -> user
  users: [],                // admin only
  schools: [],
  classrooms: [],
  live: [],                 // GET /api/v1/live
  liveIds: new Set(),       // lesson ids live now
  liveAt: 0,
  detail: null,             // the occurrence in the detail dialog
  editing: null,            // the lesson being edited; null: a new one
  links: null,              // the detail dialog's links answer
};
const canWrite = () => state.role === 'admin' || state.role === 'scheduler';
const canWatch = () => ['admin', 'researcher', 'observer'].includes(state.role);
const myUserId = () => (state.me && state.me.user ? state.me.user.id : null);

// ---- small helpers ----

function showPageError(text) {
  const p = $('#page-error');
  p.textContent = text || '';
  p.hidden = !text;
}

const occStart = (o) => o.occurrence_start_ms ?? o.start_ms;
const occEnd = (o) => o.occurrence_end_ms ?? o.end_ms;
const occKey = (o) => `${o.id}:${occStart(o)}`;
const roomOf = (o) => o.room || `lesson-${o.id}`;

function addDays(d, n) { return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n); }
function mondayOf(d) {
  const x = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  return addDays(x, -((x.getDay() + 6) % 7));
}

function teacherName(id, o = null) {
  const t = state.teachers.get(id);
  return (t && (t.name || t.username)) || (o && (o.teacher_name || o.teacher?.name)) || `teacher #${id}`;
}
function classroomName(id) {
  const c = state.classrooms.find((x) => x.id === id);
  if (!c) return `classroom #${id}`;
  const s = state.schools.find((x) => x.id === c.school_id);
  return s ? `${c.name} (${s.name})` : c.name;
}
function timeRange(o) { return `${fmtTime(occStart(o))}–${fmtTime(occEnd(o))}`; }

// Live: the server says so (the lesson's window is open) for the occurrence around now.
function isLive(o) {
  const now = Date.now();
  if (state.liveAt && state.liveIds.has(o.id))
    return now >= occStart(o) - 3600000 && now < occEnd(o) + 3600000;
  return !!o.live && !state.liveAt;
}

// ---- the week ----

function setWeek(d, { push = true } = {}) {
  state.weekStart = mondayOf(d);
  if (push) {
    const q = new URLSearchParams(location.search);
    q.set('week', dateValue(state.weekStart.getTime()));
    history.replaceState(null, '', `${location.pathname}?${q}`);
  }
  renderWeekLabel();
  loadWeek();
}

function renderWeekLabel() {
  const a = state.weekStart, b = addDays(a, 6);
  const sameYear = a.getFullYear() === b.getFullYear();
  const left = a.toLocaleDateString(undefined, { day: 'numeric', month: 'short', ...(sameYear ? {} : { year: 'numeric' }) });
  const right = b.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
  $('#week-label').textContent = `${left} – ${right}`;
  const thisWeek = mondayOf(new Date()).getTime() === a.getTime();
  $('#today').setAttribute('aria-pressed', String(thisWeek));
}

let loadSeq = 0;
async function loadWeek() {
  const seq = ++loadSeq;
  const from = state.weekStart.getTime(), to = addDays(state.weekStart, 7).getTime();
  $('#week-status').textContent = 'Loading… 加载中';
  try {
    const data = await api(`api/v1/lessons?from=${from}&to=${to}`);
    if (seq !== loadSeq) return;
    let list = listOf(data, 'lessons');
    if (!list.length) list = listOf(data, 'occurrences');
    state.occurrences = list.filter((o) => Number.isFinite(occStart(o)) && Number.isFinite(occEnd(o)))
      .sort((x, y) => occStart(x) - occStart(y));
    const n = state.occurrences.length;
    $('#week-status').textContent = n === 0 ? 'No lessons this week. 本周无课程' : n === 1 ? '1 lesson' : `${n} lessons`;
    showPageError('');
  } catch (err) {
    if (seq !== loadSeq) return;
    state.occurrences = [];
    $('#week-status').textContent = '';
    showPageError(err.status === 403
      ? `Your account cannot see the schedule: ${err.message}`
      : `Could not load the lessons: ${err.message}`);
  }
  renderCalendar();
}

// Side-by-side lanes for lessons of one day that overlap: clusters of transitively
// overlapping lessons share the column width equally.
function layoutDay(items) {
  const out = [];
  let cluster = [], lanes = [], clusterEnd = -Infinity;
  const flush = () => {
    for (const c of cluster) c.lanes = lanes.length;
    out.push(...cluster);
    cluster = []; lanes = []; clusterEnd = -Infinity;
  };
  for (const it of items) {
    if (it.start >= clusterEnd) flush();
    let lane = lanes.findIndex((end) => end <= it.start);
    if (lane < 0) { lane = lanes.length; lanes.push(it.end); } else lanes[lane] = it.end;
    cluster.push({ ...it, lane });
    clusterEnd = Math.max(clusterEnd, it.end);
  }
  flush();
  return out;
}

function renderCalendar() {
  const cal = $('#calendar');
  const focusedKey = document.activeElement?.closest?.('.lesson-block')?.dataset.key;
  const days = Array.from({ length: 8 }, (_, i) => addDays(state.weekStart, i));
  const dayOf = (ms) => days.findIndex((d, i) => i < 7 && ms >= d.getTime() && ms < days[i + 1].getTime());

  // the hours shown: 07–20 at least, more when a lesson needs it
  let first = 7, last = 20;
  const placed = [];
  for (const o of state.occurrences) {
    const s = occStart(o), i = dayOf(s);
    if (i < 0) continue;
    const dayStart = days[i].getTime(), dayEnd = days[i + 1].getTime();
    const startMin = (s - dayStart) / 60000;
    const endMin = (Math.min(occEnd(o), dayEnd) - dayStart) / 60000;
    first = Math.min(first, Math.floor(startMin / 60));
    last = Math.max(last, Math.ceil(endMin / 60));
    placed.push({ o, day: i, start: startMin, end: Math.max(endMin, startMin + 1) });
  }
  last = Math.min(24, Math.max(last, first + 1));
  const span = (last - first) * 60;

  const grid = el('div', { className: 'cal-grid', style: `--hours: ${last - first}` });
  grid.append(el('div', { className: 'cal-corner', 'aria-hidden': 'true' }));
  const todayStart = new Date(new Date().toDateString()).getTime();
  for (let i = 0; i < 7; i++) {
    const d = days[i];
    const isToday = d.getTime() === todayStart;
    grid.append(el('div', { className: `cal-dayhead${isToday ? ' today' : ''}`, 'aria-hidden': 'true' },
      el('span', { className: 'dow' }, d.toLocaleDateString(undefined, { weekday: 'short' })),
      el('span', { className: 'dnum' }, String(d.getDate()))));
  }
  const hours = el('div', { className: 'cal-hours', 'aria-hidden': 'true' });
  for (let h = first; h < last; h++) {
    hours.append(el('span', { style: `top: ${((h - first) * 60 / span) * 100}%` },
      `${String(h).padStart(2, '0')}:00`));
  }
  grid.append(hours);

  for (let i = 0; i < 7; i++) {
    const d = days[i];
    const isToday = d.getTime() === todayStart;
    const items = layoutDay(placed.filter((p) => p.day === i).sort((a, b) => a.start - b.start || b.end - a.end));
    const list = el('ol', { className: 'cal-lessons' });
    for (const it of items) {
      const o = it.o;
      const live = isLive(o);
      const width = 100 / it.lanes;
      const label = `${o.title}, ${fmtDay(occStart(o))} ${timeRange(o)}, ${teacherName(o.teacher_id, o)}` +
        (live ? ', live now' : '');
      const block = el('button', {
        type: 'button', className: `lesson-block${live ? ' live' : ''}${it.end - it.start < 50 ? ' short' : ''}`, 'aria-label': label,
        dataset: { key: occKey(o), id: String(o.id) }, onclick: () => openDetail(o),
      },
      el('span', { className: 'lb-title' }, o.title),
      el('span', { className: 'lb-time' }, timeRange(o), live ? el('span', { className: 'lb-live' }, 'LIVE') : null),
      el('span', { className: 'lb-meta' }, teacherName(o.teacher_id, o)));
      list.append(el('li', {
        style: `top: ${((it.start - first * 60) / span) * 100}%; height: ${((it.end - it.start) / span) * 100}%;` +
          ` left: calc(${it.lane * width}% + 2px); width: calc(${width}% - 4px);`,
      }, block));
    }
    const col = el('section', {
      className: `cal-day${isToday ? ' today' : ''}`,
      'aria-label': d.toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long' }) +
        (items.length ? `, ${items.length} lesson${items.length > 1 ? 's' : ''}` : ', no lessons'),
      dataset: { date: dateValue(d.getTime()) },
    }, list);
    if (isToday) {
      const nowMin = (Date.now() - d.getTime()) / 60000;
      if (nowMin >= first * 60 && nowMin <= last * 60)
        col.append(el('div', { className: 'now-line', style: `top: ${((nowMin - first * 60) / span) * 100}%`, 'aria-hidden': 'true' }));
    }
    // a click on an empty slot books a lesson there (the "New lesson" button does it by keyboard)
    col.addEventListener('click', (e) => {
      if (!canWrite() || e.target !== col) return;
      const r = col.getBoundingClientRect();
      const min = first * 60 + Math.floor(((e.clientY - r.top) / r.height) * span / 30) * 30;
      openLessonForm(null, { date: dateValue(d.getTime()), startMin: min });
    });
    grid.append(col);
  }
  cal.replaceChildren(grid);
  if (focusedKey) cal.querySelector(`.lesson-block[data-key="${CSS.escape(focusedKey)}"]`)?.focus();
}

// ---- live now ----

function liveItems(data) {
  for (const k of ['lessons', 'live', 'rooms']) {
    const l = listOf(data, k);
    if (l.length) return l;
  }
  return [];
}

function lessonIdOf(item) {
  const id = item.id ?? item.lesson_id ?? (typeof item.lesson === 'number' ? item.lesson : item.lesson?.id);
  if (Number.isFinite(id)) return id;
  const m = /^lesson-(\d+)$/.exec(item.room || '');
  return m ? Number(m[1]) : null;
}

// participants: a count (GET /api/v1/live) or a list of {role}
function countPeople(p) {
  if (Array.isArray(p)) return p.length;
  return Number.isFinite(p) ? p : null;
}
const LIVE_STATES = { opening: 'opening 即将开始', running: 'in progress 进行中', overtime: 'overtime 超时' };
function teacherOnAir(item) {
  const p = item.participants;
  return Array.isArray(p) ? p.some((x) => x.role === 'teacher') : !!(p && p.teacher);
}
function recordingState(item) {
  const r = item.recording;
  if (typeof r === 'string') return r;
  if (r && typeof r === 'object') return r.state || null;
  return r === true ? 'recording' : null;
}

async function loadLive() {
  try {
    const data = await api('api/v1/live');
    state.live = liveItems(data);
    state.liveIds = new Set(state.live.map(lessonIdOf).filter((x) => x !== null));
    state.liveAt = Date.now();
    renderLive();
    $('#live-status').textContent = `Updated ${fmtTime(Date.now())} 已更新`;
  } catch (err) {
    $('#live-status').textContent = `Could not refresh: ${err.message}`;
  }
  renderCalendar();
  if (state.detail) $('#detail-live').hidden = !isLive(state.detail);
}

function renderLive() {
  const ul = $('#live-list');
  ul.replaceChildren();
  if (!state.live.length) {
    ul.append(el('li', { className: 'muted empty' }, 'Nothing is live right now. 当前没有直播'));
    return;
  }
  for (const item of state.live) {
    const id = lessonIdOf(item);
    const occ = state.occurrences.find((o) => o.id === id) || null;
    const title = item.title || occ?.title || item.room || `lesson ${id}`;
    const room = item.room || (id !== null ? `lesson-${id}` : null);
    const n = countPeople(item.participants);
    const rec = recordingState(item);
    const end = item.occurrence_end_ms ?? item.end_ms ?? (occ && occEnd(occ));
    const teacherId = item.teacher_id ?? occ?.teacher_id;
    const facts = [];
    if (teacherId !== undefined) facts.push(teacherName(teacherId, item));
    if (LIVE_STATES[item.state]) facts.push(LIVE_STATES[item.state]);
    if (Number.isFinite(end)) facts.push(`until ${fmtTime(end)}`);
    if (n !== null) facts.push(n === 1 ? '1 in the room' : `${n} in the room`);
    const actions = el('div', { className: 'live-actions' });
    if (room && canWatch()) {
      actions.append(el('a', {
        className: 'button', href: `classroom.html?room=${encodeURIComponent(room)}&observe=1`, target: '_blank',
        rel: 'noopener', title: 'Watch the lesson without being listed among the participants',
      }, 'Watch 观看'));
    } else if (room && state.role === 'teacher' && teacherId === myUserId()) {
      actions.append(el('a', { className: 'button', href: `teacher.html?room=${encodeURIComponent(room)}`, target: '_blank', rel: 'noopener' },
        'Teach 进入主讲'));
    }
    if (id !== null) {
      actions.append(el('button', { type: 'button', onclick: () => openDetailById(id, occ) }, 'Details 详情'));
    }
    ul.append(el('li', { className: 'live-item', dataset: { id: String(id) } },
      el('p', { className: 'live-title' }, title),
      el('p', { className: 'muted small' }, facts.join(' · '),
        teacherOnAir(item) ? el('span', { className: 'badge ok' }, 'teacher on air') : null,
        rec === 'recording' ? el('span', { className: 'badge rec' }, 'REC') : null),
      actions));
  }
}

// ---- detail dialog ----

async function openDetailById(id, occ) {
  if (occ) { openDetail(occ); return; }
  try {
    const data = await api(`api/v1/lessons/${id}`);
    openDetail(data.lesson || data);
  } catch (err) {
    showPageError(`Could not open lesson ${id}: ${err.message}`);
  }
}

function metaRow(dl, term, ...value) {
  dl.append(el('dt', {}, term), el('dd', {}, ...value));
}

function openDetail(o) {
  state.detail = o;
  state.links = null;
  const dlg = $('#detail-dialog');
  $('#detail-title').textContent = o.title;
  $('#detail-live').hidden = !isLive(o);
  $('#detail-error').textContent = '';
  const dl = $('#detail-meta');
  dl.replaceChildren();
  metaRow(dl, bi('When', '时间'), `${fmtDay(occStart(o))}, ${timeRange(o)}`);
  const until = o.recurrence && o.recurrence.until_ms;
  metaRow(dl, bi('Repeats', '重复'), until ? `Weekly until ${new Date(until).toLocaleDateString(undefined, { dateStyle: 'medium' })}` : 'Once');
  metaRow(dl, bi('Teacher', '主讲'), teacherName(o.teacher_id, o));
  if (o.subject) metaRow(dl, bi('Subject', '学科'), o.subject);
  const crs = Array.isArray(o.classrooms) ? o.classrooms : [];
  const names = crs.map((id, i) => (state.classrooms.some((c) => c.id === id) || !o.classroom_names
    ? classroomName(id) : o.classroom_names[i]));
  metaRow(dl, bi('Classrooms', '接收课堂'), names.length ? names.join(', ') : 'none');
  metaRow(dl, bi('Recording', '录制'), o.record ? 'Yes' : 'No');
  metaRow(dl, bi('Room', '房间'), el('code', {}, roomOf(o)));
  $('#detail-edit').hidden = !canWrite();
  $('#detail-delete').hidden = !canWrite();
  $('#links').replaceChildren();
  const mayLinks = canWrite() || (state.role === 'teacher' && o.teacher_id === myUserId());
  $('#links-status').textContent = mayLinks ? 'Loading… 加载中'
    : 'Join links are handed out by the schedulers and the lesson\'s teacher. 进入链接由排课老师或主讲教师分发。';
  if (!dlg.open) dlg.showModal();
  if (mayLinks) loadLinks(o);
}

async function loadLinks(o) {
  try {
    const data = await api(`api/v1/lessons/${o.id}/links`);
    if (state.detail !== o) return;
    state.links = data;
    renderLinks(data, o);
  } catch (err) {
    if (state.detail !== o) return;
    $('#links-status').textContent = `Could not get the join links: ${err.message}`;
  }
}

function absUrl(u) {
  try { return new URL(u, location.href).href; } catch { return String(u || ''); }
}

function linkRow({ kind, id, label, sub, url }) {
  const input = el('input', { className: 'link-url', readOnly: true, value: absUrl(url), 'aria-label': `Join link: ${label}`, spellcheck: false });
  input.addEventListener('focus', () => input.select());
  const status = el('span', { className: 'copy-status', role: 'status', 'aria-live': 'polite' });
  const copy = el('button', { type: 'button', className: 'copy', onclick: () => copyLink(input, status) }, 'Copy link 复制链接');
  const open = el('a', { className: 'button', href: absUrl(url), target: '_blank', rel: 'noopener' }, 'Open 打开');
  return el('li', { className: 'link-row', dataset: { kind, classroom: id === null ? '' : String(id) } },
    el('span', { className: 'link-name' }, label, sub ? el('span', { className: 'muted small' }, ` ${sub}`) : null),
    input, el('span', { className: 'link-buttons' }, copy, open, status));
}

function renderLinks(data, o) {
  const ul = $('#links');
  ul.replaceChildren();
  if (data.teacher && data.teacher.url) {
    ul.append(linkRow({ kind: 'teacher', id: null, label: 'Teacher 主讲教师', sub: teacherName(o.teacher_id, o), url: data.teacher.url }));
  }
  for (const c of listOf(data, 'classrooms')) {
    ul.append(linkRow({ kind: 'classroom', id: c.classroom, label: c.name || classroomName(c.classroom), url: c.url }));
  }
  $('#links-status').textContent = Number.isFinite(data.expires_ms)
    ? `Send each classroom its own link. The links work until ${fmtDateTime(data.expires_ms)}. 每个课堂使用自己的链接。`
    : 'Send each classroom its own link. 每个课堂使用自己的链接。';
}

// navigator.clipboard where the page may use it (a secure context), else select the text
// and let the browser copy it (or the person press Ctrl+C).
async function copyLink(input, status) {
  const text = input.value;
  status.textContent = '';
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = 'Copied ✓ 已复制';
    return true;
  } catch { /* no clipboard API here, or refused */ }
  input.focus();
  input.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  status.textContent = ok ? 'Copied ✓ 已复制' : 'Selected: press Ctrl+C to copy 请按 Ctrl+C 复制';
  return ok;
}

async function deleteLesson() {
  const o = state.detail;
  if (!o) return;
  const weekly = !!(o.recurrence && o.recurrence.until_ms);
  const yes = await confirmDialog({
    title: `Delete “${o.title}”?`,
    text: weekly ? 'This deletes every week of this lesson. Its join links stop working.'
      : 'The lesson is removed from the schedule and its join links stop working.',
    confirm: 'Delete lesson 删除', cancel: 'Keep it 保留',
  });
  if (!yes) return;
  try {
    await api(`api/v1/lessons/${o.id}`, { method: 'DELETE' });
    $('#detail-dialog').close();
    loadWeek();
  } catch (err) {
    $('#detail-error').textContent = `Could not delete: ${err.message}`;
  }
}

// ---- create / edit dialog ----

function fillTeacherSelect(selected) {
  const sel = $('#lesson-teacher');
  sel.replaceChildren();
  const teachers = [...state.teachers.values()].sort((a, b) => (a.name || '').localeCompare(b.name || ''));
  if (!teachers.length) {
    sel.append(el('option', { value: '', disabled: true, selected: true }, 'No teachers yet: add one under Users'));
    return;
  }
  sel.append(el('option', { value: '', disabled: true, selected: selected == null }, 'Choose a teacher… 选择教师'));
  for (const t of teachers) {
    sel.append(el('option', { value: String(t.id), selected: t.id === selected }, `${t.name} (${t.username})`));
  }
}

function fillClassroomPick(selected) {
  const box = $('#lesson-classrooms');
  box.replaceChildren();
  if (!state.classrooms.length) {
    box.append(el('p', { className: 'muted small' }, 'No classrooms yet: add them below the calendar.'));
    return;
  }
  const bySchool = new Map();
  for (const c of state.classrooms) {
    if (!bySchool.has(c.school_id)) bySchool.set(c.school_id, []);
    bySchool.get(c.school_id).push(c);
  }
  for (const [sid, list] of bySchool) {
    const school = state.schools.find((s) => s.id === sid);
    const headId = `cr-school-${sid}`;
    const group = el('div', { className: 'cr-group', role: 'group', 'aria-labelledby': headId },
      el('p', { className: 'cr-school', id: headId }, school ? school.name : `School #${sid}`));
    for (const c of list.sort((a, b) => a.name.localeCompare(b.name))) {
      group.append(el('label', { className: 'check' },
        el('input', { type: 'checkbox', name: 'classroom', value: String(c.id), checked: selected.includes(c.id) }),
        c.name));
    }
    box.append(group);
  }
}

function showConflict(err) {
  const box = $('#lesson-conflict');
  $('#lesson-conflict-text').textContent = err.message;
  const ul = $('#lesson-conflict-list');
  ul.replaceChildren();
  const body = err.body || {};
  const conflicts = Array.isArray(body.conflicts) ? body.conflicts
    : Array.isArray(body.error?.conflicts) ? body.error.conflicts : [];
  for (const c of conflicts) {
    const who = c.with === 'classroom' ? `classroom ${classroomName(c.classroom)}` : 'the same teacher';
    const when = Number.isFinite(c.start_ms) ? `${fmtDay(c.start_ms)} ${fmtTime(c.start_ms)}–${fmtTime(c.end_ms)}` : '';
    ul.append(el('li', {}, `“${c.title}” (lesson ${c.lesson}) ${when} — ${who}`));
  }
  box.hidden = false;
  box.scrollIntoView({ block: 'nearest' });
}

function clearFormErrors() {
  $('#lesson-conflict').hidden = true;
  $('#lesson-form-error').textContent = '';
}

async function openLessonForm(lessonOrNull, { date = null, startMin = null } = {}) {
  let lesson = lessonOrNull;
  if (lesson) {
    try {
      const data = await api(`api/v1/lessons/${lesson.id}`);
      lesson = data.lesson || data;
    } catch (err) {
      $('#detail-error').textContent = `Could not open the lesson: ${err.message}`;
      return;
    }
  }
  state.editing = lesson;
  clearFormErrors();
  const title = $('#lesson-dialog-title');
  title.replaceChildren(bi(lesson ? 'Edit lesson' : 'New lesson', lesson ? '编辑课程' : '新建课程'));
  $('#lesson-save').replaceChildren(bi(lesson ? 'Save changes' : 'Create lesson', '保存'));
  fillTeacherSelect(lesson ? lesson.teacher_id : null);
  fillClassroomPick(lesson && Array.isArray(lesson.classrooms) ? lesson.classrooms : []);
  $('#lesson-title').value = lesson ? lesson.title : '';
  $('#lesson-subject').value = lesson ? lesson.subject || '' : '';
  if (lesson) {
    $('#lesson-date').value = dateValue(lesson.start_ms);
    $('#lesson-start').value = timeValue(lesson.start_ms);
    $('#lesson-end').value = timeValue(lesson.end_ms);
    const until = lesson.recurrence && lesson.recurrence.until_ms;
    $('#lesson-until').value = until ? dateValue(until) : '';
    $('#lesson-record').checked = !!lesson.record;
  } else {
    const now = new Date();
    const d = date || dateValue(now.getTime());
    let s = startMin;
    if (s === null) s = Math.min(23 * 60, Math.ceil((now.getHours() * 60 + now.getMinutes() + 1) / 15) * 15);
    const e = Math.min(s + 45, 23 * 60 + 59);
    const hm = (m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
    $('#lesson-date').value = d;
    $('#lesson-start').value = hm(s);
    $('#lesson-end').value = hm(e);
    $('#lesson-until').value = '';
    $('#lesson-record').checked = true;
  }
  const dlg = $('#lesson-dialog');
  if ($('#detail-dialog').open) $('#detail-dialog').close();
  if (!dlg.open) dlg.showModal();
  $('#lesson-title').focus();
}

// The form → the API's lesson body, or a sentence saying what to fix.
function lessonBody() {
  const title = $('#lesson-title').value.trim();
  const subject = $('#lesson-subject').value.trim();
  const teacher = Number($('#lesson-teacher').value);
  const date = $('#lesson-date').value;
  const start = localMs(date, $('#lesson-start').value);
  const end = localMs(date, $('#lesson-end').value);
  const untilDate = $('#lesson-until').value;
  if (!title) return { error: 'Give the lesson a title.', field: '#lesson-title' };
  if (!teacher) return { error: 'Choose the teacher.', field: '#lesson-teacher' };
  if (!Number.isFinite(start)) return { error: 'Enter the date and start time.', field: '#lesson-date' };
  if (!Number.isFinite(end)) return { error: 'Enter the end time.', field: '#lesson-end' };
  if (end <= start) return { error: 'The lesson must end after it starts (on the same day).', field: '#lesson-end' };
  if (end - start > MAX_LESSON_MS) return { error: 'A lesson lasts at most 12 hours.', field: '#lesson-end' };
  let recurrence = null;
  if (untilDate) {
    const until = localMs(untilDate, '23:59') + 59999;
    if (!Number.isFinite(until) || until < start) return { error: 'The weekly repeat must end on or after the first lesson.', field: '#lesson-until' };
    if (until - start > 52 * 7 * 86400000) return { error: 'A weekly lesson repeats for at most 52 weeks.', field: '#lesson-until' };
    recurrence = { freq: 'weekly', until_ms: until };
  }
  const classrooms = [...document.querySelectorAll('#lesson-classrooms input[name="classroom"]:checked')].map((i) => Number(i.value));
  return {
    body: {
      title, subject, teacher_id: teacher, start_ms: start, end_ms: end, classrooms,
      record: $('#lesson-record').checked, recurrence,
    },
  };
}

let saving = false;
async function saveLesson(e) {
  e.preventDefault();
  if (saving) return;
  clearFormErrors();
  const { body, error, field } = lessonBody();
  if (error) {
    $('#lesson-form-error').textContent = error;
    if (field) $(field).focus();
    return;
  }
  saving = true;
  $('#lesson-save').disabled = true;
  const editing = state.editing;
  try {
    const data = await api(editing ? `api/v1/lessons/${editing.id}` : 'api/v1/lessons',
      { method: editing ? 'PUT' : 'POST', body });
    const saved = (data && (data.lesson || data)) || { ...body, id: editing && editing.id };
    $('#lesson-dialog').close();
    // show the week of the lesson, then its details and join links to hand out
    const week = mondayOf(new Date(saved.start_ms ?? body.start_ms));
    if (week.getTime() !== state.weekStart.getTime()) setWeek(week);
    else await loadWeek();
    const occ = state.occurrences.find((o) => o.id === saved.id) || saved;
    if (occ && occ.id !== undefined && occ.id !== null) openDetail(occ);
  } catch (err) {
    if (err.status === 409 || err.code === 'conflict') showConflict(err);
    else $('#lesson-form-error').textContent = `Could not save: ${err.message}`;
  } finally {
    saving = false;
    $('#lesson-save').disabled = false;
  }
}

// ---- people and places (also used by js/manage.js) ----

async function loadDirectory() {
  const tasks = [
    api('api/v1/schools').then((d) => { state.schools = listOf(d, 'schools'); }),
    api('api/v1/classrooms').then((d) => { state.classrooms = listOf(d, 'classrooms'); }),
  ];
  if (state.role === 'admin') {
    tasks.push(api('api/v1/users').then((d) => {
      state.users = listOf(d, 'users');
      state.teachers = new Map(state.users.filter((u) => u.role === 'teacher').map((u) => [u.id, u]));
    }));
  } else {
    tasks.push(api('api/v1/users?role=teacher').then((d) => {
      state.teachers = new Map(listOf(d, 'users').map((u) => [u.id, u]));
    }));
  }
  const results = await Promise.allSettled(tasks);
  const failed = results.filter((r) => r.status === 'rejected' && r.reason.status !== 403);
  if (failed.length) showPageError(`Some data could not be loaded: ${failed[0].reason.message}`);
  if (state.role === 'teacher' && state.me?.user) state.teachers.set(state.me.user.id, state.me.user);
}

// ---- start ----

async function logout() {
  try { await api('api/v1/logout', { method: 'POST', redirect401: false }); } catch { /* going anyway */ }
  location.assign('login.html');
}

async function main() {
  $('#tz').textContent = Intl.DateTimeFormat().resolvedOptions().timeZone || 'browser time';
  $('#logout').addEventListener('click', logout);
  $('#prev-week').addEventListener('click', () => setWeek(addDays(state.weekStart, -7)));
  $('#next-week').addEventListener('click', () => setWeek(addDays(state.weekStart, 7)));
  $('#today').addEventListener('click', () => setWeek(new Date()));
  $('#new-lesson').addEventListener('click', () => openLessonForm(null));
  $('#lesson-form').addEventListener('submit', saveLesson);
  $('#lesson-cancel').addEventListener('click', () => $('#lesson-dialog').close());
  $('#detail-close').addEventListener('click', () => $('#detail-dialog').close());
  $('#detail-dialog').addEventListener('close', () => { state.detail = null; });
  $('#detail-edit').addEventListener('click', () => state.detail && openLessonForm(state.detail));
  $('#detail-delete').addEventListener('click', deleteLesson);

  const me = await api('api/v1/me');
  if (!me || (!me.user && (!me.role || me.role === 'none'))) {
    location.assign('login.html?next=schedule.html');
    return;
  }
  state.me = me;
  state.role = me.role || me.user?.role || 'none';
  const who = me.user ? `${me.user.name || me.user.username} · ${ROLE_NAMES[state.role] || state.role}`
    : ROLE_NAMES[state.role] || state.role;
  $('#who').textContent = who;
  $('#new-lesson').hidden = !canWrite();

  const wk = params.get('week');
  const start = /^\d{4}-\d{2}-\d{2}$/.test(wk || '') ? new Date(localMs(wk)) : new Date();
  state.weekStart = mondayOf(Number.isFinite(start.getTime()) ? start : new Date());
  renderWeekLabel();
  await loadDirectory();
  const manage = initManage({ state, reload: async () => { await loadDirectory(); manage.render(); renderCalendar(); } });
  manage.render();
  await loadWeek();
  await loadLive();
  setInterval(loadLive, LIVE_POLL_MS);
  setInterval(() => { if (!document.querySelector('dialog[open]')) loadWeek(); }, WEEK_POLL_MS);
  log('schedule ready for', who);
}

window.classrelay = {
  state,
  reload: () => loadWeek(),
  live: () => loadLive(),
};

main().catch((err) => showPageError(`The schedule could not start: ${err.message}`));
