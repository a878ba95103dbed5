// ClassRelay browser client: the websocket protocol (docs/protocol.md), trickle ICE both
// ways, and the two peer roles every page needs (a publisher and a subscriber).
// Standard browser APIs only; loaded as an ES module, no build step.
//
//   Signal      websocket with request/reply promises, events, reconnect with backoff (to
//               another node of the cluster when this one does not answer)
//   PeerLink    one RTCPeerConnection toward the relay: serialized offer/answer through
//               "publish" or "subscribe", candidates trickled both ways
//   Subscriber  keeps a recvonly PeerLink in step with the room's track list: a new
//               transceiver per new track, inactive for a vanished one, a fresh peer
//               after failure (or "disconnected" for more than 5 s)
//   TURN        the join reply's ice_servers (short-lived TURN credentials) are kept for the
//               next peers and page loads; a peer made without them that has not
//               connected 2.5 s after its answer asks its owner for a fresh one that uses
//               them ("needs-turn"): a school that lets only TCP 443 out gets through
//   tokens      a join link's ?token= goes on the websocket URL (docs/scheduling.md); a
//               signed-in user without one is known by the cr_session cookie, which the
//               browser sends with the websocket upgrade by itself
//   begun over HTTP  a session's first requests (hold() ... release()) go in one POST /ws
//               when the websocket is not open yet; it takes the session over with resume
//               (docs/protocol.md "Joining in one request")

export const params = new URLSearchParams(location.search);

// The page URL's ?token= (a JWT: three base64url parts), or null.
export function tokenFromUrl() {
  const t = (params.get('token') || '').trim();
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(t) && t.length < 4096 ? t : null;
}

// The claims of a token, unverified: for what the page shows (a default name), never for a
// decision (the server verifies). null when it does not decode.
export function tokenClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part + '='.repeat((4 - part.length % 4) % 4)), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}

// The websocket URL of this server, carrying token when there is one.
export function wsUrl(token = tokenFromUrl()) {
  const base = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  return token ? `${base}?token=${encodeURIComponent(token)}` : base;
}

// What to tell a person whose join (or lesson request) the server refused: a heading and
// the server's own sentence (it names the lesson and when it opens, for not_open).
export function explainRefusal(err) {
  const msg = err.text ?? err.message;
  switch (err.code) {
    case 'unauthorized':
      return { title: 'This link or sign-in is not valid 链接无效或未登录', text: msg, login: true };
    case 'forbidden':
      return { title: 'You have no access to this lesson 无权进入本课堂', text: msg };
    case 'not_open':
      return { title: 'The lesson is not open yet 课堂尚未开放', text: msg };
    default:
      return { title: 'Could not join 无法进入课堂', text: msg };
  }
}

export function roomFromUrl() {
  const r = (params.get('room') || 'demo').trim();
  return /^[A-Za-z0-9_-]{1,64}$/.test(r) ? r : 'demo';
}

export function $(sel) { return document.querySelector(sel); }

export function log(...args) {
  console.log('[classrelay]', ...args);
}

export class RequestError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
    this.text = message;    // the server's sentence alone
  }
}

// ---- Signal: the websocket client ----

const KEEPALIVE_MS = 15000;
const MAX_REDIRECTS = 3;        // redirects to another node in a row (docs/cluster.md)
const RECONNECT_MAX_MS = 2000;  // the longest wait between two websocket attempts
// On a node of a cluster, a websocket that has not opened after this long (its host gone, the
// attempt unanswered rather than refused) is given up for another node (_another).
const CONNECT_TIMEOUT_MS = 3000;

// The socket the page opened while its modules loaded (classroom.html), once, if it is for
// this address and not closed; any other is closed.
function takeEarlySocket(url) {
  const ws = window.crEarlySocket;
  window.crEarlySocket = null;
  if (!ws) return null;
  if (ws.crUrl === url && ws.readyState <= WebSocket.OPEN) return ws;
  ws.close();
  return null;
}

// Whether s is a node's URL as the cluster gives them: http(s)://HOST:PORT.
function isNodeUrl(s) {
  try { return /^https?:$/.test(new URL(s).protocol); } catch { return false; }
}

export class Signal extends EventTarget {
  constructor(url = wsUrl()) {
    super();
    this.url = url;
    this.ws = null;
    this.nextId = 1;
    this.pending = new Map();   // id -> {resolve, reject, timer}
    this.state = 'idle';        // idle | connecting | open | waiting (to reconnect)
    this.attempt = 0;
    this.wanted = false;
    this.retryTimer = null;
    this.keepalive = null;
    this.held = null;           // requests held for one POST /ws (hold() ... release())
    this.beginning = null;      // the POST /ws under way
    this.parkKey = null;        // a session begun over HTTP that the websocket is to take over
    this.outbox = [];           // requests waiting for the websocket that carries the session
    this.redirects = 0;         // "redirect" replies followed since the last join
    this.nodes = [];            // the cluster's nodes, from the last join reply
    this.tried = new Set();     // hosts that did not answer since the websocket was last open
  }

  // The websocket goes to node (http(s)://HOST:PORT) from now on: same path and query.
  _moveTo(node) {
    const next = new URL(node);
    const url = new URL(this.url);
    url.protocol = next.protocol === 'https:' ? 'wss:' : 'ws:';
    url.host = next.host;
    this.url = url.href;
    this.parkKey = null;
  }

  // A join answered "redirect" (docs/protocol.md): the lesson is served by another node of
  // the cluster. The same path and query (the token: every node checks it with the key they
  // share) on that node; the socket closes and reconnects there, and the page joins again
  // on 'open'. At most MAX_REDIRECTS in a row, then the page stays and shows the error.
  _follow(node) {
    if (!isNodeUrl(node) || this.redirects >= MAX_REDIRECTS) return false;
    this._moveTo(node);
    this.redirects++;
    log(`redirected to ${new URL(node).host} (${this.redirects} in a row)`);
    this.attempt = 0;
    if (this.ws) this.ws.close(1000, 'redirect'); // onclose reconnects, to this.url
    return true;
  }

  // This node did not answer (it died, or its host is gone): on a node of a cluster, the
  // next attempt goes to another node of the last join reply's list (docs/protocol.md,
  // "join": "nodes"), one not tried since the websocket was last open, at random so that a
  // dead node's classrooms spread over the others; after a round of them, again from all.
  // Any node serves any lesson. A node that cannot be reached ends a chain of redirects: a
  // teacher sent to the dead origin of its lesson comes back until the origin's lease
  // expires and a live node takes the lesson over. The backoff keeps growing.
  _another() {
    const here = new URL(this.url).host;
    this.tried.add(here);
    const hosts = this.nodes.filter((n) => new URL(n).host !== here);
    let left = hosts.filter((n) => !this.tried.has(new URL(n).host));
    if (!left.length) {
      this.tried = new Set([here]);
      left = hosts;
    }
    if (!left.length) return;
    this._moveTo(left[Math.floor(Math.random() * left.length)]);
    this.redirects = 0;
    log(`${here} does not answer: trying ${new URL(this.url).host}`);
  }

  // Requests may be made: the websocket is open, or a session is begun over HTTP.
  get ready() {
    return this.state === 'open' || this.held !== null || this.beginning !== null || this.parkKey !== null;
  }

  // Requests made from now until release() go together: on the websocket if it is open by
  // then, else in one POST /ws (under an Idempotency-Key, tried again once if the connection
  // fails) that the websocket takes over (resume) when it opens. On a school link the
  // page's HTTP connections are open already, while the websocket's TCP handshake can lose a
  // packet and wait a second for its retransmission (docs/protocol.md "Joining in one
  // request").
  hold() {
    if (!this.held) this.held = [];
  }

  async release() {
    const msgs = this.held || [];
    this.held = null;
    if (!msgs.length) return;
    if (this.ws && this.ws.readyState === WebSocket.OPEN && !this.beginning && this.parkKey === null) {
      for (const m of msgs) this.send(m);
      return;
    }
    this.beginning = this._begin(msgs);
    await this.beginning;
    this.beginning = null;
    this._carryOn();
  }

  async _begin(msgs) {
    const url = this.url.replace(/^ws/, 'http');
    const key = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
    const body = JSON.stringify(msgs);
    const post = async () => {
      const res = await fetch(url, {
        method: 'POST', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
        body, cache: 'no-store',
      });
      if (!res.ok) throw new Error(`POST /ws answered ${res.status}`);
      return res.json();
    };
    this.dispatchEvent(new Event('begin')); // the page's join timeline ("sent")
    try {
      // a connection that failed (not an answer): once more, under the same key, so that a
      // request the server did get is answered again rather than joined twice
      const answer = await post().catch((err) => (err instanceof TypeError ? post() : Promise.reject(err)));
      this.parkKey = typeof answer.resume === 'string' ? answer.resume : null;
      for (const m of answer.messages || []) this._dispatch(m);
    } catch (err) {
      log('could not begin over HTTP, the websocket carries the requests:', err.message);
      this.outbox.unshift(...msgs);
    }
  }

  // The websocket is open and no POST /ws is under way: it takes over a session begun over
  // HTTP (resume, then what waited for it) or starts a fresh one ('open': the page joins).
  _carryOn() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || this.beginning) return;
    const key = this.parkKey;
    this.parkKey = null;
    const carried = key !== null || this.outbox.length > 0;
    if (key !== null) {
      this.request('resume', { key }).then(
        () => this.dispatchEvent(new Event('resumed')),
        (err) => { // too late, or the server restarted: a fresh session
          log('resume refused:', err.message);
          this.dispatchEvent(new CustomEvent('close', { detail: { opened: true, code: 4000, reason: 'resume' } }));
          this.dispatchEvent(new Event('open'));
        });
    }
    for (const m of this.outbox.splice(0)) this.send(m);
    if (!carried) this.dispatchEvent(new Event('open'));
  }

  start() {
    this.wanted = true;
    if (!this.ws) this._connect();
  }

  stop() {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    if (this.ws) this.ws.close(1000, 'leaving');
    this._setState('idle');
  }

  _setState(s) {
    if (this.state === s) return;
    this.state = s;
    this.dispatchEvent(new CustomEvent('state', { detail: s }));
  }

  _connect() {
    this._setState('connecting');
    const ws = takeEarlySocket(this.url) || new WebSocket(this.url);
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.tried.clear();
      this._setState('open');
      this._carryOn();
      // a quiet page still speaks every KEEPALIVE_MS: the server hangs up a connection it
      // has not heard from in 45 s, and on a lossy school link its own ping and our pong
      // can miss that (a classroom was dropped mid-lesson)
      clearInterval(this.keepalive);
      this.keepalive = setInterval(() => this.request('ping').catch(() => {}), KEEPALIVE_MS);
    };
    ws.onmessage = (e) => this._onMessage(e.data);
    for (const text of ws.crQueued || []) this._onMessage(text);
    ws.crQueued = null;
    if (ws.readyState === WebSocket.OPEN) queueMicrotask(() => { if (this.ws === ws) ws.onopen(); });
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.keepalive);
      // a session begun over HTTP outlives a websocket that never opened: the next one
      // takes it over
      const begun = !opened && (this.beginning || this.parkKey !== null);
      if (!begun) {
        for (const [, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new RequestError('disconnected', 'the connection to the server closed'));
        }
        this.pending.clear();
        this.outbox = [];
        // opened false: the server refused the upgrade or cannot be reached
        this.dispatchEvent(new CustomEvent('close', { detail: { opened, code: e.code, reason: e.reason } }));
      }
      if (!this.wanted) { this._setState('idle'); return; }
      if (!opened && !begun) this._another();
      // backoff: 0.25 s, 0.5 s, 1 s, then every 2 s, each ±20 % (jitter: a restarted server
      // is not met by every classroom at the same instant). Short, so that a page is back
      // within 2.4 s of the server answering again, however long it was away
      // (tests/integration/restart_pages.mjs: a 5 s step left pages asleep up to 6 s); a
      // refused TCP connection every 2 s costs a server nothing.
      const delay = Math.min(RECONNECT_MAX_MS, 250 * 2 ** Math.min(this.attempt++, 3)) * (0.8 + 0.4 * Math.random());
      this._setState('waiting');
      this.retryTimer = setTimeout(() => { if (this.wanted) this._connect(); }, delay);
    };
    if (this.nodes.length > 1)
      setTimeout(() => { if (this.ws === ws && !opened) ws.close(); }, CONNECT_TIMEOUT_MS);
  }

  _onMessage(text) {
    let msg;
    try { msg = JSON.parse(text); } catch { return; }
    this._dispatch(msg);
  }

  _dispatch(msg) {
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'reply') {
      const p = this.pending.get(msg.id);
      if (!p) {
        if (!msg.ok) log('server error', msg.error);
        return;
      }
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.ok && msg.participant) { // joined
        this.redirects = 0;
        if (Array.isArray(msg.nodes) && msg.nodes.length) this.nodes = msg.nodes.filter(isNodeUrl);
      }
      // a redirect followed is not the page's error: it joins again once reconnected
      const moved = !msg.ok && msg.error.code === 'redirect' && msg.redirect && this._follow(msg.redirect.url);
      if (msg.ok) p.resolve(msg);
      else p.reject(new RequestError(moved ? 'redirected' : msg.error.code, msg.error.message));
    } else if (msg.type === 'event') {
      this.dispatchEvent(new CustomEvent(msg.event, { detail: msg }));
    }
  }

  send(obj) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  request(type, fields = {}, timeoutMs = 15000) {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const msg = { v: 1, type, id, ...fields };
      if (this.held) this.held.push(msg);
      else if (this.beginning || this.parkKey !== null) this.outbox.push(msg);
      else if (!this.send(msg)) {
        reject(new RequestError('disconnected', 'not connected to the server'));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestError('timeout', `${type}: no reply in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (r) => { if (r && Array.isArray(r.ice_servers)) setIceServers(r.ice_servers); resolve(r); },
        reject, timer,
      });
    });
  }
}

// ---- TURN: ICE servers handed out by the server (docs/protocol.md, "join") ----

const ICE_KEY = 'classrelay.iceServers';
const TURN_FALLBACK_MS = 2500;

function storedIceServers() {
  try {
    const v = JSON.parse(localStorage.getItem(ICE_KEY));
    if (v && Array.isArray(v.servers) && v.expires > Date.now() / 1000 + 300) return v.servers;
  } catch { /* none, or storage off */ }
  return [];
}

let iceServers = storedIceServers();

// Keeps servers (their username is "EXPIRY:ID", draft-uberti-behave-turn-rest) for the next
// peer connections and, until they expire, the next page loads.
export function setIceServers(servers) {
  iceServers = servers;
  const expires = Math.min(...servers.map((s) => parseInt(String(s.username || '0'), 10) || 0));
  try { localStorage.setItem(ICE_KEY, JSON.stringify({ servers, expires })); } catch { /* storage off */ }
}

// ---- SDP, deflated: "sdpz" (docs/protocol.md) ----

// An offer of 5-6 KB deflates to about 1.2 KB (base64: 1.6 KB): one burst that a 250 kbit/s
// school link's router queue holds, where the plain text overflows it and waits seconds for
// TCP's retransmission timeout. {sdpz} where the browser can deflate, else {sdp}.
const canDeflate = (() => {
  try { new CompressionStream('deflate-raw'); new DecompressionStream('deflate-raw'); return true; } catch { return false; }
})();

async function sdpField(sdp) {
  if (!canDeflate) return { sdp };
  const s = new Blob([sdp]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  const bytes = new Uint8Array(await new Response(s).arrayBuffer());
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { sdpz: btoa(bin) };
}

async function inflate(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const s = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Response(s).text();
}

// ---- PeerLink: one peer connection toward the relay ----

const FIRST_CANDIDATE_MS = 150;

export class PeerLink extends EventTarget {
  // target: 'publish' | 'subscribe'
  constructor(signal, target) {
    super();
    this.signal = signal;
    this.target = target;
    this.withTurn = iceServers.length > 0;
    this.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require', iceServers });
    this.turnTimer = null;
    this.localQueue = [];      // our candidates gathered before the offer went out
    this.onFirstCandidate = null;
    this.offerSent = false;
    this.remoteQueue = [];     // relay candidates that came before its answer
    this.busy = Promise.resolve();
    this.closed = false;
    this.pc.onicecandidate = (e) => this._onLocalCandidate(e.candidate);
    this.onRemoteCandidate = (e) => {
      const ev = e.detail;
      if (ev.target === this.target) this.addRemoteCandidate(ev.mid, ev.candidate);
    };
    signal.addEventListener('candidate', this.onRemoteCandidate);
    this.pc.onconnectionstatechange = () =>
      this.dispatchEvent(new CustomEvent('state', { detail: this.pc.connectionState }));
  }

  get state() { return this.closed ? 'closed' : this.pc.connectionState; }

  _onLocalCandidate(c) {
    const msg = {
      target: this.target,
      mid: c ? c.sdpMid : null,
      candidate: c && c.candidate ? c.candidate : null,
    };
    if (!this.offerSent) {
      this.localQueue.push(msg);
      if (this.onFirstCandidate) this.onFirstCandidate();
      return;
    }
    this.signal.request('candidate', msg).catch((err) => log('candidate refused', err.message));
  }

  // The first offer waits (at most ms) for a first candidate of ours to go with it: the
  // relay checks toward us as soon as it has one, so its side of the pair is proven by the
  // time our nominating check arrives, and its DTLS hello follows at once instead of one
  // round trip later (400 ms on a bad school link).
  _firstCandidate(ms) {
    if (this.offerSent || this.localQueue.length || this.pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); this.onFirstCandidate = null; resolve(); };
      const timer = setTimeout(done, ms);
      this.onFirstCandidate = done;
    });
  }

  // A peer made without TURN that does not connect soon after its answer, while TURN
  // servers are known now: its owner makes a fresh one with them (event "needs-turn").
  _watchConnect() {
    if (this.withTurn || this.turnTimer) return;
    this.turnTimer = setTimeout(() => {
      if (this.closed || this.pc.connectionState === 'connected' || !iceServers.length) return;
      log(`${this.target}: not connected ${TURN_FALLBACK_MS} ms after the answer: again through TURN`);
      this.dispatchEvent(new Event('needs-turn'));
    }, TURN_FALLBACK_MS);
  }

  addRemoteCandidate(mid, candidate) {
    if (this.closed) return;
    if (!this.pc.remoteDescription) { this.remoteQueue.push({ mid, candidate }); return; }
    const init = candidate ? { candidate, sdpMid: mid } : undefined;
    this.pc.addIceCandidate(init).catch((err) => log('addIceCandidate', err.message));
  }

  // Offer → request(type) → answer. fields(pc) builds the request's extra fields after
  // setLocalDescription, when every transceiver has its mid. Calls are serialized.
  // sent() is called once the request is made (Signal.hold() waits for it).
  negotiate(type, fields = () => ({}), sent = () => {}) {
    const run = async () => {
      if (this.closed) throw new RequestError('closed', 'peer closed');
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription(offer);
      await this._firstCandidate(FIRST_CANDIDATE_MS);
      const reply = this.signal.request(type, { ...await sdpField(this.pc.localDescription.sdp),
        ...fields(this.pc) });
      sent();
      if (!this.offerSent) {
        this.offerSent = true;
        for (const m of this.localQueue.splice(0))
          this.signal.request('candidate', m).catch((err) => log('candidate refused', err.message));
      }
      let answer;
      try {
        answer = await reply;
      } catch (err) {
        // leave the connection in a state that can offer again
        if (!this.closed && this.pc.signalingState === 'have-local-offer')
          await this.pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
        throw err;
      }
      if (this.closed) throw new RequestError('closed', 'peer closed');
      const sdp = answer.sdpz !== undefined ? await inflate(answer.sdpz) : answer.sdp;
      if (this.closed) throw new RequestError('closed', 'peer closed');
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
      for (const c of this.remoteQueue.splice(0)) this.addRemoteCandidate(c.mid, c.candidate);
      this._watchConnect();
      return answer;
    };
    const p = this.busy.then(run, run);
    this.busy = p.catch(() => {});
    return p;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.turnTimer);
    this.signal.removeEventListener('candidate', this.onRemoteCandidate);
    this.pc.close();
    this.dispatchEvent(new CustomEvent('state', { detail: 'closed' }));
  }
}

// ---- Subscriber: receive the room's tracks that a page wants ----

// A receive line offers only what the relay uses: the codec it feeds the line (Opus for
// audio; H.264 in packetization mode 1) with its repair formats (RTX, RED, ULPFEC), and
// the header extensions it answers. Chromium's full offer is about 8 KB, 2-3 KB a video
// line; a 250 kbit/s school link with a 100 ms router queue holds 3 KB, and the rest of a
// burst that size is lost and waits for TCP's retransmission timeout (seconds before the
// classroom sees a frame). Returns the transceiver.
const RECV_EXTENSIONS = new Set([
  'urn:ietf:params:rtp-hdrext:sdes:mid',
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
  'urn:3gpp:video-orientation',
  'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
]);
function offerOnly(transceiver, kind, codec) {
  const want = `${kind}/${codec || (kind === 'audio' ? 'opus' : '')}`.toLowerCase();
  const caps = transceiver.setCodecPreferences && RTCRtpReceiver.getCapabilities
    ? RTCRtpReceiver.getCapabilities(kind) : null;
  const repair = /\/(rtx|red|ulpfec)$/;
  const mode0 = (c) => /packetization-mode=0/.test(c.sdpFmtpLine || '') ||
    (c.mimeType.toLowerCase() === 'video/h264' && !/packetization-mode/.test(c.sdpFmtpLine || ''));
  const keep = caps ? caps.codecs.filter((c) => (c.mimeType.toLowerCase() === want && !mode0(c)) ||
    repair.test(c.mimeType.toLowerCase())) : [];
  if (keep.some((c) => c.mimeType.toLowerCase() === want)) { // else not one we know: offer all
    try { transceiver.setCodecPreferences(keep); } catch (err) { log('codec preferences:', err.message); }
  }
  if (transceiver.getHeaderExtensionsToNegotiate && transceiver.setHeaderExtensionsToNegotiate) {
    const exts = transceiver.getHeaderExtensionsToNegotiate()
      .map((e) => (RECV_EXTENSIONS.has(e.uri) || e.direction === 'stopped' ? e : { ...e, direction: 'stopped' }));
    try { transceiver.setHeaderExtensionsToNegotiate(exts); } catch (err) { log('header extensions:', err.message); }
  }
  return transceiver;
}

// The lines that follow the stage (docs/protocol.md, "Stage lines"), in this order.
const STAGE_LINES = [
  { kind: 'audio', feed: 'stage', codec: null },
  { kind: 'video', feed: 'stage@VP8', codec: 'VP8' },
  { kind: 'video', feed: 'stage@H264', codec: 'H264' },
];

export class Subscriber extends EventTarget {
  // wants(track) -> bool decides which tracks of the room to receive. stage: also lines that
  // follow whoever is on stage (audio, VP8 video, H.264 video: a classroom box may send
  // either); the server feeds them, no renegotiation. feeds: lines named by a feed, not a
  // track ([{kind, feed, codec, match(track) -> bool}]): known before the room's tracks
  // are, they go in the first offer, which can then leave right behind the join (prime());
  // a wanted track that match()es takes its feed's line, without renegotiating.
  // Events: 'track' {info, track}, 'removed' {info}, 'stage-track' {kind, codec, track, mid},
  // 'state' (a string)
  constructor(signal, wants, { stage = false, feeds = [] } = {}) {
    super();
    this.signal = signal;
    this.wants = wants;
    this.stage = stage;
    this.feeds = feeds;
    this.active = false;         // primed or given tracks since the last reset
    this.stageLines = [];        // the stage transceivers of the current peer
    this.feedLines = [];         // [{spec, transceiver, id}]: feed lines and the track each shows
    this.link = null;
    this.byTrack = new Map();    // track id -> {info, transceiver}
    this.roomTracks = [];
    this.restartTimer = null;
    this.disconnectedTimer = null;
    this.failures = 0;
    this.running = false;
    this.again = false;
    this.offerSent = null;     // prime()'s resolve, until its offer is requested
    this.onPeerState = (e) => {
      const ev = e.detail;
      if (ev.target === 'subscribe' && (ev.state === 'failed' || ev.state === 'closed') && this.link) {
        log('relay reports subscribe peer', ev.state, ev.reason || '');
        this._restartSoon();
      }
    };
    signal.addEventListener('peer_state', this.onPeerState);
  }

  get pc() { return this.link ? this.link.pc : null; }
  get state() { return this.link ? this.link.state : 'idle'; }

  // Called with the room's full track list (join reply, "tracks" event).
  update(tracks) {
    this.roomTracks = tracks;
    this.active = true;
    this._sync();
  }

  // The first offer, with the stage and feed lines, before the room's tracks are known:
  // called right after sending join, it reaches the server one round trip earlier.
  // Resolves once the offer's request is made (or there is none to make).
  prime() {
    this.active = true;
    return new Promise((resolve) => {
      this.offerSent = resolve;
      this._sync();
    });
  }

  _offerSent() {
    const f = this.offerSent;
    this.offerSent = null;
    if (f) f();
  }

  // Forget the peer (websocket closed: the server closed it too).
  reset() {
    clearTimeout(this.restartTimer);
    clearTimeout(this.disconnectedTimer);
    if (this.link) this.link.close();
    this.link = null;
    for (const [, t] of this.byTrack) this.dispatchEvent(new CustomEvent('removed', { detail: { info: t.info } }));
    this.byTrack.clear();
    this.roomTracks = [];
    this.stageLines = [];
    this.feedLines = [];
    this.active = false;
    this._emitState();
  }

  _emitState() { this.dispatchEvent(new CustomEvent('state', { detail: this.state })); }

  _restartSoon(now = false) {
    if (this.restartTimer || !this.active) return;
    const delay = now ? 0 : Math.min(10000, 1000 * 2 ** Math.min(this.failures++, 4));
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      const tracks = this.roomTracks; // a fresh peer for the same room: reset forgets them
      this.reset();
      this.update(tracks);
    }, delay);
  }

  _newLink() {
    const link = new PeerLink(this.signal, 'subscribe');
    link.addEventListener('needs-turn', () => { if (link === this.link) this._restartSoon(true); });
    link.addEventListener('state', (e) => {
      if (link !== this.link) return;
      const s = e.detail;
      clearTimeout(this.disconnectedTimer);
      if (s === 'connected') this.failures = 0;
      if (s === 'failed') this._restartSoon();
      if (s === 'disconnected')
        this.disconnectedTimer = setTimeout(() => {
          if (link === this.link && link.state === 'disconnected') this._restartSoon();
        }, 5000);
      this._emitState();
    });
    return link;
  }

  async _sync() {
    if (this.running) { this.again = true; return; }
    this.running = true;
    try {
      do {
        this.again = false;
        await this._syncOnce();
      } while (this.again);
    } catch (err) {
      log('subscribe failed:', err.message);
      if (err.code !== 'disconnected' && err.code !== 'closed') this._restartSoon();
    } finally {
      this.running = false;
      this._offerSent();
    }
  }

  // Feed lines follow the room's tracks: one whose track left is free again, a wanted
  // track that matches a free one takes it (and is shown at once: the line is there).
  _mapFeeds(wanted) {
    for (const fl of this.feedLines) {
      if (fl.id === null || wanted.has(fl.id)) continue;
      const t = this.byTrack.get(fl.id);
      this.byTrack.delete(fl.id);
      fl.id = null;
      if (t) this.dispatchEvent(new CustomEvent('removed', { detail: { info: t.info } }));
    }
    for (const info of wanted.values()) {
      if (this.byTrack.has(info.id)) continue;
      const fl = this.feedLines.find((f) => f.id === null && f.spec.kind === info.kind && f.spec.match(info));
      if (!fl) continue;
      fl.id = info.id;
      this.byTrack.set(info.id, { info, transceiver: fl.transceiver, feed: true });
      this.dispatchEvent(new CustomEvent('track', { detail: { info, track: fl.transceiver.receiver.track } }));
    }
  }

  async _syncOnce() {
    if (!this.signal.ready || !this.active) return;
    const wanted = new Map(this.roomTracks.filter((t) => this.wants(t)).map((t) => [t.id, t]));
    this._mapFeeds(wanted);
    const added = [...wanted.values()].filter((t) => !this.byTrack.has(t.id));
    const removed = [...this.byTrack.keys()].filter((id) => !wanted.has(id));
    const needStage = this.stage && !this.stageLines.length;
    const needFeeds = this.feeds.length > 0 && !this.feedLines.length;
    if (!added.length && !removed.length && !needStage && !needFeeds) return;
    const fresh = !this.link;
    if (fresh) this.link = this._newLink();
    const link = this.link;
    const recvLine = (kind, codec) => offerOnly(link.pc.addTransceiver(kind, { direction: 'recvonly' }), kind, codec);
    if (needStage) this.stageLines = STAGE_LINES.map(({ kind, codec }) => recvLine(kind, codec));
    if (needFeeds) {
      this.feedLines = this.feeds.map((spec) => ({ spec, transceiver: recvLine(spec.kind, spec.codec), id: null }));
      this._mapFeeds(wanted);
    }
    for (const id of removed) {
      const t = this.byTrack.get(id);
      if (t.transceiver.currentDirection !== 'stopped') t.transceiver.direction = 'inactive';
      this.byTrack.delete(id);
      this.dispatchEvent(new CustomEvent('removed', { detail: { info: t.info } }));
    }
    for (const info of wanted.values()) {
      if (!this.byTrack.has(info.id)) this.byTrack.set(info.id, { info, transceiver: recvLine(info.kind, info.codec) });
    }
    const reply = await link.negotiate('subscribe', () => {
      const tracks = {};
      for (const [id, t] of this.byTrack) if (!t.feed && t.transceiver.mid !== null) tracks[t.transceiver.mid] = id;
      this.stageLines.forEach((tr, i) => { if (tr.mid !== null) tracks[tr.mid] = STAGE_LINES[i].feed; });
      for (const fl of this.feedLines) if (fl.transceiver.mid !== null) tracks[fl.transceiver.mid] = fl.spec.feed;
      return fresh ? { tracks, restart: true } : { tracks };
    }, () => this._offerSent());
    if (link !== this.link) return;
    this.dispatchEvent(new CustomEvent('negotiated'));
    if (needStage)
      this.stageLines.forEach((tr, i) => this.dispatchEvent(new CustomEvent('stage-track', {
        detail: { kind: tr.receiver.track.kind, codec: STAGE_LINES[i].codec, track: tr.receiver.track, mid: tr.mid },
      })));
    for (const info of added) {
      const t = this.byTrack.get(info.id);
      if (!t || t.feed) continue;
      if (reply.tracks[t.transceiver.mid] == null) log('relay gave no media for track', info.id);
      this.dispatchEvent(new CustomEvent('track', { detail: { info, track: t.transceiver.receiver.track } }));
    }
    this._emitState();
  }
}

// ---- Publisher helpers ----

// Simulcast encodings (RFC 8853) for a camera track: layers is [[rid, scaleDown, maxBitrate],
// ...] from the smallest up, each with three temporal layers; one encoding at the top rate
// when the camera gives fewer than minHeight lines (too small to be worth splitting).
export function simulcastEncodings(track, minHeight, layers) {
  const { height = 0 } = track.getSettings();
  if (height < minHeight) return [{ maxBitrate: layers[layers.length - 1][2] }];
  return layers.map(([rid, scaleResolutionDownBy, maxBitrate]) =>
    ({ rid, scaleResolutionDownBy, maxBitrate, scalabilityMode: 'L1T3' }));
}

// Publishes transceivers of link.pc: sources maps a transceiver to its source name.
export function publishOffer(link, sources) {
  return link.negotiate('publish', (pc) => {
    const map = {};
    for (const tr of pc.getTransceivers()) {
      const src = sources.get(tr);
      if (src && tr.mid !== null && tr.currentDirection !== 'stopped') map[tr.mid] = src;
    }
    return { sources: map };
  });
}

// ---- stats for tests and the status line ----

export async function summarizeStats(pc) {
  if (!pc || pc.connectionState === 'closed') return { inbound: [], outbound: [], pair: null };
  const report = await pc.getStats();
  const inbound = [], outbound = [];
  let pair = null;
  report.forEach((s) => {
    if (s.type === 'inbound-rtp') {
      inbound.push({
        kind: s.kind, mid: s.mid, ssrc: s.ssrc, trackIdentifier: s.trackIdentifier,
        packetsReceived: s.packetsReceived || 0, packetsLost: s.packetsLost || 0,
        bytesReceived: s.bytesReceived || 0, jitter: s.jitter,
        framesDecoded: s.framesDecoded || 0, frameWidth: s.frameWidth || 0,
        frameHeight: s.frameHeight || 0, framesPerSecond: s.framesPerSecond || 0,
        keyFramesDecoded: s.keyFramesDecoded || 0, nackCount: s.nackCount || 0,
        pliCount: s.pliCount || 0, codecId: s.codecId,
        freezeCount: s.freezeCount || 0, totalFreezesDuration: s.totalFreezesDuration || 0,
        jitterBufferDelay: s.jitterBufferDelay || 0, jitterBufferEmittedCount: s.jitterBufferEmittedCount || 0,
        concealedSamples: s.concealedSamples || 0, totalSamplesReceived: s.totalSamplesReceived || 0,
        retransmittedPacketsReceived: s.retransmittedPacketsReceived || 0,
        fecPacketsReceived: s.fecPacketsReceived || 0, fecPacketsDiscarded: s.fecPacketsDiscarded || 0,
        audioLevel: s.audioLevel || 0, totalAudioEnergy: s.totalAudioEnergy || 0,
      });
    } else if (s.type === 'outbound-rtp') {
      outbound.push({
        kind: s.kind, mid: s.mid, ssrc: s.ssrc, rid: s.rid,
        packetsSent: s.packetsSent || 0, bytesSent: s.bytesSent || 0,
        framesEncoded: s.framesEncoded || 0, frameWidth: s.frameWidth || 0,
        frameHeight: s.frameHeight || 0, framesPerSecond: s.framesPerSecond || 0,
        qualityLimitationReason: s.qualityLimitationReason,
        targetBitrate: s.targetBitrate, nackCount: s.nackCount || 0, pliCount: s.pliCount || 0,
        firCount: s.firCount || 0, keyFramesEncoded: s.keyFramesEncoded || 0,
      });
    } else if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
      pair = {
        currentRoundTripTime: s.currentRoundTripTime,
        availableOutgoingBitrate: s.availableOutgoingBitrate,
        bytesSent: s.bytesSent, bytesReceived: s.bytesReceived,
      };
    }
  });
  return { inbound, outbound, pair };
}

// Shows a state word with a colour class on an element.
export function showState(el, text, kind) {
  if (!el) return;
  el.textContent = text;
  el.dataset.kind = kind;
}

export function stateKind(s) {
  if (s === 'connected' || s === 'open' || s === 'live') return 'ok';
  if (s === 'failed' || s === 'closed' || s === 'error' || s === 'refused' || s === 'ended') return 'bad';
  return 'wait';
}
