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

// The quick quiz (随堂测验): the teacher's form (#quiz-question, #quiz-options: one option
// per line, #quiz-ask, #quiz-close) and the tally; a classroom's question with one button
// per option, answered once. All in #quiz.
export class Quiz {
  constructor(sig, { role }) {
    this.sig = sig;
    this.role = role;
    this.quiz = null;
    this.answered = null;
    sig.addEventListener('quiz', (e) => this.show(e.detail.quiz));
    sig.addEventListener('quiz_tally', (e) => this.show(e.detail.quiz));
    if (role === 'teacher') {
      $('#quiz-ask').addEventListener('click', () => this.ask());
      $('#quiz-close').addEventListener('click', () => this.request('quiz', { close: true }));
    }
  }

  async request(type, fields) {
    try {
      const reply = await this.sig.request(type, fields);
      if (reply.quiz) this.show(reply.quiz);
      $('#quiz-note').textContent = '';
      return true;
    } catch (err) {
      $('#quiz-note').textContent = err.message;
      return false;
    }
  }

  ask() {
    const options = $('#quiz-options').value.split('\n').map((o) => o.trim()).filter(Boolean);
    this.request('quiz', { question: $('#quiz-question').value.trim(), options });
  }

  async answer(i) {
    if (await this.request('quiz_answer', { choice: i })) { this.answered = { id: this.quiz.id, choice: i }; this.show(this.quiz); }
  }

  show(q) {
    if (!q) return;
    if (this.quiz && q.id !== this.quiz.id) this.answered = null;
    this.quiz = q;
    $('#quiz').hidden = false;
    $('#quiz-text').textContent = `${q.question}${q.open ? '' : ' (closed 已结束)'}`;
    const list = $('#quiz-choices');
    list.replaceChildren();
    q.options.forEach((o, i) => {
      const li = document.createElement('li');
      if (this.role === 'classroom' && q.open && !this.answered) {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = o;
        b.addEventListener('click', () => this.answer(i));
        li.append(b);
      } else {
        li.textContent = `${o}${q.tally ? `: ${q.tally[i]}` : ''}${this.answered && this.answered.choice === i ? ' ✓' : ''}`;
      }
      list.append(li);
    });
    if (this.role === 'teacher') $('#quiz-close').disabled = !q.open;
  }
}
