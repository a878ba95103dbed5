// Login page: username and password → POST /api/v1/login (docs/scheduling.md). The server
// answers with a token and sets the HttpOnly cr_session cookie, which every later page
// request and websocket carries by itself; this page keeps nothing. On success it goes to
// ?next= when that is a path of this site, else to the schedule. Tells 401 (wrong pair)
// and 429 (too many attempts) apart in plain words.
import { $, params } from './common.js';
import { api, safeNext } from './api.js';

const next = safeNext(params.get('next'));
const form = $('#login-form');
const error = $('#login-error');
const submit = $('#login-submit');

function showError(text) {
  error.textContent = text || '';
  for (const id of ['#username', '#password']) $(id).setAttribute('aria-invalid', text ? 'true' : 'false');
}

let waitTimer = null;
function holdOff(seconds) {
  clearInterval(waitTimer);
  let left = Math.max(1, Math.round(seconds));
  const tick = () => {
    if (left <= 0) {
      clearInterval(waitTimer);
      submit.disabled = false;
      showError('You can try again now. 可以重试了。');
      return;
    }
    submit.disabled = true;
    showError(`Too many sign-in attempts. Try again in ${left} s. 尝试次数过多，请稍后再试。`);
    left--;
  };
  tick();
  waitTimer = setInterval(tick, 1000);
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const username = $('#username').value.trim();
  const password = $('#password').value;
  if (!username || !password) {
    showError('Enter your username and password. 请输入用户名和密码。');
    (username ? $('#password') : $('#username')).focus();
    return;
  }
  showError('');
  submit.disabled = true;
  submit.setAttribute('aria-busy', 'true');
  try {
    await api('api/v1/login', { method: 'POST', body: { username, password }, redirect401: false });
    location.assign(next);
    return;
  } catch (err) {
    if (err.status === 401) {
      showError('Wrong username or password. 用户名或密码错误。');
      $('#password').select();
      $('#password').focus();
    } else if (err.status === 429) {
      holdOff(err.retryAfter || 60);
      return;
    } else if (err.status === 403) {
      showError(`This account cannot sign in: ${err.message}`);
    } else {
      showError(`Sign-in failed: ${err.message}`);
    }
  } finally {
    submit.removeAttribute('aria-busy');
  }
  submit.disabled = false;
});

// Already signed in? Say so and offer the way on (the form still works to switch user).
api('api/v1/me', { redirect401: false }).then((me) => {
  if (!me || !me.user) return;
  const p = $('#signed-in');
  const a = document.createElement('a');
  a.href = next;
  a.textContent = 'Continue →';
  p.replaceChildren(`You are signed in as ${me.user.name || me.user.username} (${me.role}). `, a);
  p.hidden = false;
}).catch(() => {});

window.classrelay = { next };
