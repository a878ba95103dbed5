// Small DOM helpers for the pages that build their content from server data (schedule,
// login). Text always goes in through textContent / text nodes, never innerHTML: lesson
// titles, names and messages are typed by users and may hold markup.

// el('button', {className: 'primary', type: 'button', onclick: f}, 'Save', child, ...)
// Props: a property of the element when it has one (className, type, value, disabled,
// hidden, on*), "dataset" (an object), else an attribute. Children: strings (as text) and
// nodes; null, undefined and false are skipped.
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null) continue;
    if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k in e && !k.startsWith('aria') && k !== 'role') e[k] = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// "English 中文": the English words with the Chinese beside them, in a muted span.
export function bi(en, zh) {
  const f = document.createDocumentFragment();
  f.append(en);
  if (zh) f.append(' ', el('span', { className: 'zh' }, zh));
  return f;
}

const pad = (n) => String(n).padStart(2, '0');

// Local date as the value of <input type="date"> and back.
export function dateValue(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
export function timeValue(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
// Local date "YYYY-MM-DD" and time "HH:MM" → ms since the epoch; NaN when malformed.
export function localMs(date, time = '00:00') {
  const dm = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date || '');
  const tm = /^(\d{2}):(\d{2})$/.exec(time || '');
  if (!dm || !tm) return NaN;
  return new Date(+dm[1], +dm[2] - 1, +dm[3], +tm[1], +tm[2]).getTime();
}

// 24-hour clock, like the calendar's hour rows
export function fmtTime(ms) {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
}
export function fmtDay(ms) {
  return new Date(ms).toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
}
export function fmtDateTime(ms) {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' });
}

// A promise-based confirmation in a <dialog> (window.confirm blocks the page and cannot be
// styled). Resolves true when the user confirms. The safe answer has the focus.
export function confirmDialog({ title, text, confirm = 'Confirm', cancel = 'Cancel', danger = true }) {
  return new Promise((resolve) => {
    const ok = el('button', { type: 'button', className: danger ? 'danger' : 'primary', value: 'ok' }, confirm);
    const no = el('button', { type: 'button', value: 'cancel' }, cancel);
    const heading = el('h2', { id: `confirm-${Date.now()}` }, title);
    const dlg = el('dialog', { className: 'dialog confirm', 'aria-labelledby': heading.id },
      heading, el('p', {}, text), el('div', { className: 'dialog-actions' }, no, ok));
    let answered = false;
    const done = (v) => {
      if (answered) return;
      answered = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    ok.addEventListener('click', () => done(true));
    no.addEventListener('click', () => done(false));
    dlg.addEventListener('cancel', () => done(false));
    dlg.addEventListener('close', () => done(false));
    document.body.append(dlg);
    dlg.showModal();
    no.focus();
  });
}
