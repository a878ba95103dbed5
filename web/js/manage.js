// The schedule page's management area (docs/scheduling.md "Data model"): schools and
// classrooms (admin and scheduler), users with their roles (admin). Lists with a delete
// button each and a small form to add one; the server's refusal (a name taken, a classroom
// still booked) is shown beside the form. The data lives in the schedule page's state;
// after a change, ctx.reload() fetches it again and everything re-renders.
import { $ } from './common.js';
import { api } from './api.js';
import { el, confirmDialog } from './dom.js';

const ROLE_LABELS = {
  admin: 'Admin', scheduler: 'Scheduler', teacher: 'Teacher', classroom: 'Classroom',
  researcher: 'Researcher', observer: 'Observer',
};

// 16 characters from an alphabet without look-alikes (no 0/O, 1/l/I).
function randomPassword(n = 16) {
  const abc = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(n * 2));
  let out = '';
  for (const b of bytes) {
    if (b >= 256 - (256 % abc.length)) continue;   // no modulo bias
    out += abc[b % abc.length];
    if (out.length === n) break;
  }
  return out.length === n ? out : randomPassword(n);
}

export function initManage({ state, reload }) {
  const writer = state.role === 'admin' || state.role === 'scheduler';
  const admin = state.role === 'admin';
  $('#manage').hidden = !writer;
  $('#users-section').hidden = !admin;
  if (!writer) return { render() {} };

  const formError = (form, text) => { form.querySelector('.error').textContent = text || ''; };

  // Submits a form's body; on success clears the inputs named in reset and reloads.
  async function submit(form, path, body, reset) {
    formError(form, '');
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      await api(path, { method: 'POST', body });
      for (const sel of reset) $(sel).value = '';
      await reload();
      return true;
    } catch (err) {
      formError(form, err.message);
      return false;
    } finally {
      button.disabled = false;
    }
  }

  async function remove(what, name, path, form) {
    const yes = await confirmDialog({
      title: `Delete ${what} “${name}”?`, text: 'This cannot be undone.',
      confirm: 'Delete 删除', cancel: 'Keep 保留',
    });
    if (!yes) return;
    formError(form, '');
    try {
      await api(path, { method: 'DELETE' });
      await reload();
    } catch (err) {
      formError(form, `Could not delete ${name}: ${err.message}`);
    }
  }

  const delButton = (label, onclick) =>
    el('button', { type: 'button', className: 'link danger-link', 'aria-label': label, title: label, onclick }, 'Delete');

  function renderSchools() {
    const ul = $('#school-list');
    ul.replaceChildren();
    if (!state.schools.length) ul.append(el('li', { className: 'muted small' }, 'No schools yet.'));
    for (const s of state.schools) {
      ul.append(el('li', { dataset: { id: String(s.id) } }, el('span', {}, s.name),
        delButton(`Delete school ${s.name}`, () => remove('school', s.name, `api/v1/schools/${s.id}`, $('#school-form')))));
    }
    const sel = $('#classroom-school');
    const keep = sel.value;
    sel.replaceChildren();
    if (!state.schools.length) sel.append(el('option', { value: '', disabled: true, selected: true }, 'Add a school first'));
    for (const s of state.schools) sel.append(el('option', { value: String(s.id) }, s.name));
    if (keep && state.schools.some((s) => String(s.id) === keep)) sel.value = keep;
  }

  function renderClassrooms() {
    const box = $('#classroom-list');
    box.replaceChildren();
    if (!state.classrooms.length) box.append(el('p', { className: 'muted small' }, 'No classrooms yet.'));
    for (const s of state.schools) {
      const list = state.classrooms.filter((c) => c.school_id === s.id);
      if (!list.length) continue;
      const ul = el('ul', { className: 'plain-list', 'aria-label': `Classrooms of ${s.name}` });
      for (const c of list) {
        ul.append(el('li', { dataset: { id: String(c.id) } }, el('span', {}, c.name),
          delButton(`Delete classroom ${c.name}`, () => remove('classroom', c.name, `api/v1/classrooms/${c.id}`, $('#classroom-form')))));
      }
      box.append(el('p', { className: 'cr-school' }, s.name), ul);
    }
    const sel = $('#user-classroom');
    sel.replaceChildren(el('option', { value: '' }, '—'));
    for (const c of state.classrooms) {
      const s = state.schools.find((x) => x.id === c.school_id);
      sel.append(el('option', { value: String(c.id) }, s ? `${c.name} (${s.name})` : c.name));
    }
  }

  function renderUsers() {
    if (!admin) return;
    const tbody = $('#user-list');
    tbody.replaceChildren();
    const meId = state.me && state.me.user ? state.me.user.id : null;
    for (const u of state.users) {
      tbody.append(el('tr', { dataset: { id: String(u.id) } },
        el('td', {}, el('code', {}, u.username)),
        el('td', {}, u.name || ''),
        el('td', {}, ROLE_LABELS[u.role] || u.role, u.disabled ? el('span', { className: 'badge' }, 'disabled') : null),
        el('td', {}, u.id === meId ? el('span', { className: 'muted small' }, 'you')
          : delButton(`Delete user ${u.username}`, () => remove('user', u.username, `api/v1/users/${u.id}`, $('#user-form'))))));
    }
  }

  $('#school-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('#school-name').value.trim();
    if (!name) { formError(e.target, 'Enter the school\'s name.'); return; }
    submit(e.target, 'api/v1/schools', { name }, ['#school-name']);
  });

  $('#classroom-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('#classroom-name').value.trim();
    const school = Number($('#classroom-school').value);
    if (!school) { formError(e.target, 'Choose the school (add one first).'); return; }
    if (!name) { formError(e.target, 'Enter the classroom\'s name.'); return; }
    submit(e.target, 'api/v1/classrooms', { school_id: school, name }, ['#classroom-name']);
  });

  const roleSel = $('#user-role');
  const syncRole = () => { $('#user-classroom-label').hidden = roleSel.value !== 'classroom'; };
  roleSel.addEventListener('change', syncRole);
  syncRole();
  $('#user-generate').addEventListener('click', () => {
    const p = $('#user-password');
    p.value = randomPassword();
    p.focus();
    p.select();
  });
  $('#user-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const form = e.target;
    const username = $('#user-username').value.trim();
    const name = $('#user-name').value.trim();
    const role = roleSel.value;
    const password = $('#user-password').value;
    if (!/^[A-Za-z0-9._-]{3,64}$/.test(username)) {
      formError(form, 'The username is 3 to 64 letters, digits, dots, dashes or underscores.');
      return;
    }
    if (!name) { formError(form, 'Enter the person\'s name.'); return; }
    if (password.length < 8) { formError(form, 'The password needs at least 8 characters.'); return; }
    const body = { username, password, name, role };
    if (role === 'classroom') {
      const c = Number($('#user-classroom').value);
      if (!c) { formError(form, 'Choose the classroom this account speaks for.'); return; }
      body.classroom_id = c;
    }
    submit(form, 'api/v1/users', body, ['#user-username', '#user-name', '#user-password']);
  });

  return {
    render() {
      renderSchools();
      renderClassrooms();
      renderUsers();
    },
  };
}
