// Patrol page (巡课) for researchers, observers and admins: every live lesson the token
// may watch (GET /api/v1/rooms), as a grid of the teachers' cameras, 16 to a page, each
// with its room, teacher, classroom count and who is on stage. Each tile joins its room as
// an observer over its own websocket (docs/protocol.md: observers watch unseen, never
// listed) and receives the teacher's camera; a click makes a tile large and plays its
// sound, a second click returns it to the grid. The list is read again every 5 s.
import { $, Signal, Subscriber, log, tokenFromUrl } from './common.js';
import { api } from './api.js';

const PAGE = 16;
const REFRESH_MS = 5000;
const tiles = new Map();        // room -> Tile
let rooms = [];                 // the last list
let page = 0;
let focused = null;             // the room shown large

class Tile {
  constructor(info) {
    this.room = info.room;
    this.el = document.createElement('div');
    this.el.className = 'tile patrol-tile';
    this.el.dataset.room = info.room;
    this.video = document.createElement('video');
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.video.muted = true;
    this.stream = new MediaStream();
    this.label = document.createElement('span');
    this.label.className = 'label';
    this.el.append(this.video, this.label);
    this.el.addEventListener('click', () => focus(this.room));
    this.participants = new Map();
    this.sig = new Signal();
    // the teacher's camera always; its microphone while this tile is the large one
    this.subscriber = new Subscriber(this.sig, (t) => this.participants.get(t.participant)?.role === 'teacher' &&
      (t.source === 'camera' || (t.kind === 'audio' && focused === this.room)));
    this.subscriber.addEventListener('track', (e) => {
      this.stream.addTrack(e.detail.track);
      this.video.srcObject = this.stream;
      this.video.play().catch(() => {});
    });
    this.subscriber.addEventListener('removed', (e) => {
      for (const t of this.stream.getTracks()) if (t.kind === e.detail.info.kind) this.stream.removeTrack(t);
    });
    this.sig.addEventListener('open', () => this.join());
    this.sig.addEventListener('tracks', (e) => this.subscriber.update(e.detail.tracks));
    this.sig.addEventListener('participant_joined', (e) => this.participants.set(e.detail.participant.id, e.detail.participant));
    this.sig.addEventListener('close', () => this.subscriber.reset());
    this.sig.start();
    this.update(info);
  }

  async join() {
    try {
      const reply = await this.sig.request('join', { room: this.room, role: 'observer', name: 'Patrol' });
      this.participants.clear();
      for (const p of reply.participants) this.participants.set(p.id, p);
      this.subscriber.reset();
      this.subscriber.update(reply.tracks);
    } catch (err) { log('patrol join', this.room, err.message); }
  }

  update(info) {
    this.info = info;
    const stage = info.on_stage.length ? ` · 🎤 ${info.on_stage.length} on stage 上台` : '';
    this.label.textContent = `${info.title || info.room} · ${info.teacher || 'no teacher yet 等待教师'} · ` +
      `${info.classrooms} classrooms 课堂${stage}`;
  }

  resync() { this.subscriber.update(this.subscriber.roomTracks); }

  close() {
    this.sig.stop();
    this.subscriber.reset();
    this.el.remove();
  }
}

function focus(room) {
  focused = focused === room ? null : room;
  for (const t of tiles.values()) {
    t.el.classList.toggle('focused', t.room === focused);
    t.video.muted = t.room !== focused;
    t.resync();
  }
}

function render() {
  const pages = Math.max(1, Math.ceil(rooms.length / PAGE));
  page = Math.min(page, pages - 1);
  const shown = rooms.slice(page * PAGE, (page + 1) * PAGE);
  const keep = new Set(shown.map((r) => r.room));
  for (const [room, t] of tiles) if (!keep.has(room)) { t.close(); tiles.delete(room); }
  for (const info of shown) {
    const t = tiles.get(info.room);
    if (t) t.update(info);
    else tiles.set(info.room, new Tile(info));
    $('#patrol-grid').append(tiles.get(info.room).el);   // in list order
  }
  if (focused && !keep.has(focused)) focused = null;
  $('#live-count').textContent = String(rooms.length);
  $('#none').hidden = rooms.length > 0;
  $('#page-info').textContent = `page ${page + 1} / ${pages}`;
  $('#prev').disabled = page === 0;
  $('#next').disabled = page >= pages - 1;
}

async function refresh() {
  try {
    const data = await api('api/v1/rooms', { token: tokenFromUrl() });
    rooms = data.rooms;
    $('#error').textContent = '';
    render();
  } catch (err) {
    $('#error').textContent = `Could not read the live lessons: ${err.message}`;
  }
}

$('#prev').addEventListener('click', () => { page--; render(); });
$('#next').addEventListener('click', () => { page++; render(); });

window.classrelay = {
  get state() {
    return {
      rooms: rooms.map((r) => r.room), focused,
      tiles: [...tiles.values()].map((t) => ({ room: t.room, subscribe: t.subscriber.state, joined: t.sig.state })),
    };
  },
  // what each tile decodes now: {room: framesDecoded}
  frames: async () => {
    const out = {};
    for (const t of tiles.values()) {
      const pc = t.subscriber.pc;
      let n = 0;
      if (pc) (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') n += s.framesDecoded || 0; });
      out[t.room] = n;
    }
    return out;
  },
};

refresh();
setInterval(refresh, REFRESH_MS);
