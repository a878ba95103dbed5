// What the lesson pages (teacher, classroom) show when the server does not let them in or
// ends the lesson (docs/scheduling.md, "Rooms and who gets in", "Lesson lifecycle"):
//
//   Notice        one prominent panel under the header: a heading, the server's sentence,
//                 and a sign-in link when signing in would help
//   watchRefusal  a join link whose token the server refuses at the websocket upgrade
//                 leaves the browser nothing but a closed socket: after two closes that
//                 never opened, ask GET /api/v1/me with the same token what is wrong
//   retryTimer    a lesson not open yet is joined again by itself every 30 s
import { explainRefusal, log } from './common.js';
import { api, loginUrl } from './api.js';

// The notice panel of a page: <section id="notice"> with #notice-title, #notice-text and
// #notice-actions inside.
export class Notice {
  constructor(root) {
    this.root = root;
    this.kind = null;
  }

  show({ title, text = '', kind = 'bad', login = false }) {
    const r = this.root;
    r.querySelector('#notice-title').textContent = title;
    r.querySelector('#notice-text').textContent = text;
    const actions = r.querySelector('#notice-actions');
    actions.replaceChildren();
    if (login) {
      const a = document.createElement('a');
      a.className = 'button';
      a.href = loginUrl();
      a.textContent = 'Sign in 登录';
      actions.append(a);
    }
    actions.hidden = !login;
    r.dataset.kind = kind;
    r.hidden = false;
    this.kind = kind;
  }

  // a refusal of the join (or of the websocket) as RequestError / ApiError
  refused(err) {
    const what = explainRefusal(err);
    if (err.code === 'not_open') what.text += ' This page joins by itself when it opens. 开放后本页会自动进入。';
    this.show({ ...what, kind: err.code === 'not_open' ? 'wait' : 'bad' });
    return what;
  }

  hide() {
    this.root.hidden = true;
    this.kind = null;
  }
}

// Calls onRefused(err) when the websocket keeps closing before it opens and the token is
// to blame (expired, tampered, malformed: the server says which). Network trouble is left
// to the Signal's own reconnecting.
export function watchRefusal(sig, token, onRefused) {
  let failedOpens = 0;
  let checking = false;
  sig.addEventListener('open', () => { failedOpens = 0; });
  sig.addEventListener('close', async (e) => {
    if (e.detail && e.detail.opened) { failedOpens = 0; return; }
    if (++failedOpens < 2 || checking) return;
    checking = true;
    try {
      await api('api/v1/me', { token, redirect401: false });
    } catch (err) {
      if (err.status === 401 || err.status === 403) {
        log('the server refuses this page\'s token:', err.message);
        onRefused({ code: err.status === 401 ? 'unauthorized' : 'forbidden', text: err.message, message: err.message });
      }
    } finally {
      checking = false;
    }
  });
}

export const RETRY_NOT_OPEN_MS = 30000;
