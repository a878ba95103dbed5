// The interactive lesson on the pages (docs/protocol.md, "The stage" and "Chat"): the
// chat panel both pages share, the teacher's queue of raised hands with its sound cue,
// and a classroom's hand button (also key H). The server decides; these send requests and
// draw what its "stage", "chat" and "chat_mode" events say.
import { $, log } from './common.js';

// A short two-tone cue (Web Audio): a hand went up. Browsers allow it once the page was
// clicked; before that it is silently skipped.
let audioCtx = null;
export function handCue() {
  try {
    audioCtx = audioCtx || new AudioContext();
    const t = audioCtx.currentTime;
    for (const [f, at] of [[660, 0], [880, 0.12]]) {
      const o = audioCtx.createOscillator(), g = audioCtx.createGain();
      o.frequency.value = f;
      g.gain.setValueAtTime(0.15, t + at);
      g.gain.exponentialRampToValueAtTime(0.001, t + at + 0.25);
      o.connect(g).connect(audioCtx.destination);
      o.start(t + at);
      o.stop(t + at + 0.3);
    }
  } catch (err) { log('no sound cue:', err.message); }
}

// The chat panel: #chat-log, #chat-form with #chat-text, #chat-note.
export class Chat {
  constructor(sig, { role }) {
    this.sig = sig;
    this.role = role;
    this.open = true;
    sig.addEventListener('chat', (e) => this.add(e.detail));
    sig.addEventListener('chat_mode', (e) => this.setOpen(e.detail.classrooms));
    $('#chat-form').addEventListener('submit', (e) => { e.preventDefault(); this.send(); });
  }

  setOpen(classrooms) {
    this.open = classrooms !== false;
    const closed = this.role === 'classroom' && !this.open;
    $('#chat-text').disabled = closed;
    $('#chat-note').textContent = closed ? 'The teacher has closed chat 老师已关闭聊天' : '';
  }

  add(m) {
    const li = document.createElement('li');
    li.className = `chat-${m.from.role}`;
    const who = document.createElement('b');
    who.textContent = `${m.from.name}: `;
    const text = document.createElement('span');
    text.textContent = m.text;
    li.append(who, text);
    $('#chat-log').append(li);
    li.scrollIntoView({ block: 'nearest' });
  }

  async send() {
    const input = $('#chat-text');
    const text = input.value.trim();
    if (!text) return;
    try {
      await this.sig.request('chat', { text });
      input.value = '';
      $('#chat-note').textContent = '';
    } catch (err) {
      $('#chat-note').textContent = err.message;
    }
  }
}

// The teacher's queue: #hands, one entry per raised hand in order, each with its call
// button; a cue when a new hand goes up.
export function renderHands(stage, participants, { onCall, previous }) {
  const list = $('#hands');
  list.replaceChildren();
  for (const h of stage.hands) {
    const li = document.createElement('li');
    li.dataset.id = h.id;
    const name = document.createElement('span');
    name.textContent = participants.get(h.id)?.name || h.id;
    const call = document.createElement('button');
    call.type = 'button';
    call.className = 'call';
    call.innerHTML = 'Call on stage <span class="zh">上台</span>';
    call.addEventListener('click', () => onCall(h.id));
    li.append('✋ ', name, ' ', call);
    list.append(li);
  }
  $('#hands-count').textContent = String(stage.hands.length);
  if (stage.hands.some((h) => !previous || !previous.hands.some((p) => p.id === h.id))) handCue();
}
