#!/usr/bin/python3
"""The permission matrix against a real server (docs/scheduling.md, "Rooms and who gets in"
and "REST API"): every principal tries every action on its own lesson, on another, on a
lesson whose window is closed and on an ad-hoc room; the test prints the matrix and fails
on any action allowed that should be refused, or refused that should be allowed.

Starts `classrelay serve` on a free port with a fresh data dir (--no-record). Sets up
through the REST API as admin (a `classrelay token --role admin` token): a school,
classrooms C1 and C2, one user per role (admin, scheduler, teachers T1 and T2, a
classroom account bound to C1, researcher, observer), each logged in with POST
/api/v1/login; lessons L1 (T1 in C1, open now), L2 (T2 in C2, open now) and L3 (T1 in C1,
in three days: closed); L1's join links; a `classrelay token --room adhoc-1 --role
teacher` token.

Principals (rows): anonymous, the sessions of every role, L1's teacher link and C1 link,
the ad-hoc teacher token. Actions (columns), per room: websocket join as teacher, as
classroom and as observer; publish and subscribe after the best join the principal got
(teacher, else classroom, else observer); lesson control (pause, then resume); WHIP and
WHEP POSTs with real SDP offers made by aiortc. REST: GET/POST lessons, users, audit,
links, recordings, stats. The demo room admits anonymous everything.

The expected verdicts are written out below (EXPECT_ROOM, EXPECT_REST) from the document,
not derived from signaling/perm.c. Then the unseen watchers: an observer and a researcher
in L1 never show up in participant_joined/participant_left nor in a later joiner's
participants list.

Usage: permission_matrix.py [path/to/classrelay]; ends with RESULT: PASS or RESULT: FAIL.
"""
import asyncio
import http.client as httpclient
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import peers  # noqa: E402
from peers import Server, find_classrelay, log, mint_token  # noqa: E402
from wsclient import WsClient  # noqa: E402

MIN = 60 * 1000
HOUR = 60 * MIN
DAY = 24 * HOUR
PASSWORD = "matrix-pass-1234"

# ------------------------------------------------------------------ the expected table

ROOM_ACTIONS = ["join T", "join C", "join O", "publish", "subscribe", "control", "WHIP", "WHEP"]
ROOMS = ["L1", "L2", "L3", "adhoc-1"]
ROWS = ["anonymous", "admin", "scheduler", "teacher T1", "teacher T2", "classroom C1",
        "researcher", "observer", "link T1@L1", "link C1@L1", "adhoc token"]

# Cells: ok = allowed (join/publish/subscribe/lesson: reply ok; WHIP/WHEP: 201 Created);
# 401 = unauthorized; 403 = forbidden; NO = 403 not_open (the lesson's window is closed);
# "-" = not tried (no join was allowed, so nothing to publish, subscribe or control).
# publish after a teacher join is the teacher's stream (publish main), after a classroom
# join the camera back, after an observer join it must be refused.
# L1 = T1's lesson booking C1, open now; L2 = T2's lesson booking C2, open now;
# L3 = T1's lesson booking C1, in three days (window closed); adhoc-1 = not scheduled, the
# ad-hoc token names it.
EXPECT_ROOM = {
    "L1": {
        "anonymous":    "401 401 401 -   -   -   401 401",
        "admin":        "ok  ok  ok  ok  ok  ok  ok  ok",
        "scheduler":    "403 403 403 -   -   -   403 403",
        "teacher T1":   "ok  ok  403 ok  ok  ok  ok  ok",   # own lesson
        "teacher T2":   "403 403 403 -   -   -   403 403",  # another's lesson
        "classroom C1": "403 ok  403 ok  ok  403 403 ok",   # booked, in window
        "researcher":   "403 403 ok  403 ok  403 403 ok",   # any lesson, unseen
        "observer":     "403 403 ok  403 ok  403 403 ok",
        "link T1@L1":   "ok  ok  403 ok  ok  ok  ok  ok",   # token room, teacher
        "link C1@L1":   "403 ok  403 ok  ok  403 403 ok",   # token room, classroom
        "adhoc token":  "403 403 403 -   -   -   403 403",  # token for another room
    },
    "L2": {
        "anonymous":    "401 401 401 -   -   -   401 401",
        "admin":        "ok  ok  ok  ok  ok  ok  ok  ok",
        "scheduler":    "403 403 403 -   -   -   403 403",
        "teacher T1":   "403 403 403 -   -   -   403 403",
        "teacher T2":   "ok  ok  403 ok  ok  ok  ok  ok",
        "classroom C1": "403 403 403 -   -   -   403 403",  # not booked
        "researcher":   "403 403 ok  403 ok  403 403 ok",
        "observer":     "403 403 ok  403 ok  403 403 ok",
        "link T1@L1":   "403 403 403 -   -   -   403 403",
        "link C1@L1":   "403 403 403 -   -   -   403 403",
        "adhoc token":  "403 403 403 -   -   -   403 403",
    },
    "L3": {
        "anonymous":    "401 401 401 -   -   -   401 401",
        "admin":        "ok  ok  ok  ok  ok  ok  ok  ok",   # admin: any room
        "scheduler":    "403 403 403 -   -   -   403 403",
        "teacher T1":   "NO  NO  403 -   -   -   NO  NO",   # own, but closed
        "teacher T2":   "403 403 403 -   -   -   403 403",
        "classroom C1": "403 NO  403 -   -   -   403 NO",   # booked, but closed
        "researcher":   "403 403 NO  -   -   -   403 NO",
        "observer":     "403 403 NO  -   -   -   403 NO",
        "link T1@L1":   "403 403 403 -   -   -   403 403",
        "link C1@L1":   "403 403 403 -   -   -   403 403",
        "adhoc token":  "403 403 403 -   -   -   403 403",
    },
    "adhoc-1": {  # only a token naming the room, or an admin session, admits anyone
        "anonymous":    "401 401 401 -   -   -   401 401",
        "admin":        "ok  ok  ok  ok  ok  ok  ok  ok",
        "scheduler":    "403 403 403 -   -   -   403 403",
        "teacher T1":   "403 403 403 -   -   -   403 403",
        "teacher T2":   "403 403 403 -   -   -   403 403",
        "classroom C1": "403 403 403 -   -   -   403 403",
        "researcher":   "403 403 403 -   -   -   403 403",  # "any lesson / token room"
        "observer":     "403 403 403 -   -   -   403 403",
        "link T1@L1":   "403 403 403 -   -   -   403 403",
        "link C1@L1":   "403 403 403 -   -   -   403 403",
        "adhoc token":  "ok  ok  403 ok  ok  ok  ok  ok",
    },
    "demo": {  # open to everyone without a token (lesson control: not a lesson, not tried)
        "anonymous":    "ok  ok  ok  ok  ok  -   ok  ok",
    },
}

REST_ACTIONS = ["GET lessons", "POST lessons", "GET users", "GET teachers", "GET audit",
                "links L1", "links L2", "GET recordings", "GET stats"]
# GET teachers = GET /users?role=teacher (what a scheduler needs to book a teacher).
# Join links and room tokens carry no REST rights; a classroom has none but /me.
EXPECT_REST = {
    "anonymous":    "401 401 401 401 401 401 401 401 401",
    "admin":        "ok  ok  ok  ok  ok  ok  ok  ok  ok",
    "scheduler":    "ok  ok  403 ok  403 ok  ok  ok  ok",
    "teacher T1":   "ok  403 403 403 403 ok  403 ok  ok",
    "teacher T2":   "ok  403 403 403 403 403 ok  ok  ok",
    "classroom C1": "403 403 403 403 403 403 403 403 403",
    "researcher":   "ok  403 403 403 403 403 403 ok  ok",
    "observer":     "ok  403 403 403 403 403 403 ok  ok",
    "link T1@L1":   "403 403 403 403 403 403 403 403 403",
    "link C1@L1":   "403 403 403 403 403 403 403 403 403",
    "adhoc token":  "403 403 403 403 403 403 403 403 403",
}


def expand(spec):
    return ["403 not_open" if c == "NO" else c for c in spec.split()]


failures = []


def fail(what):
    print("  FAIL  " + what, flush=True)
    failures.append(what)


# ------------------------------------------------------------------ HTTP


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def text(self):
        return self.body.decode("utf-8", "replace").strip()

    def code(self):
        e = self.json.get("error") if isinstance(self.json, dict) else None
        return e.get("code") if isinstance(e, dict) else None


def req(port, method, path, body=None, token=None, ctype=None):
    h = {}
    if token:
        h["Authorization"] = "Bearer " + token
    if isinstance(body, (dict, list)):
        body, ctype = json.dumps(body), ctype or "application/json"
    if isinstance(body, str):
        body = body.encode()
    if ctype:
        h["Content-Type"] = ctype
    c = httpclient.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        c.close()


def must(r, status, what):
    if r.status != status:
        raise SystemExit("setup: %s → %d %s (wanted %d)" % (what, r.status, r.text()[:300], status))
    return r.json


def http_cell(r, ok_status):
    """The matrix cell for an HTTP answer, and the server's words."""
    if r.status == ok_status:
        return "ok", ""
    text = r.text()
    if r.status == 403:
        low = text.lower()
        if r.code() == "not_open" or "not open" in low or "is over" in low:
            return "403 not_open", text
        return "403", text
    if r.status == 401:
        return "401", text
    return "%d" % r.status, text


# ------------------------------------------------------------------ websocket


class Ws:
    """A websocket of one principal (token in the URL, as the pages open it)."""

    def __init__(self, port, token):
        path = "/ws" + ("?token=" + urllib.parse.quote(token) if token else "")
        self.c = WsClient("127.0.0.1", port, path=path)
        self.events = []

    def call(self, msg, timeout=10.0):
        rid = self.c.request(msg)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            m = self.c.recv(max(left, 0.01))
            if m is None:
                if time.monotonic() >= deadline:
                    raise TimeoutError("no reply to %s" % msg.get("type"))
                continue
            if m.get("type") == "reply" and m.get("id") == rid:
                return m
            self.events.append(m)

    def drain(self, seconds):
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            m = self.c.recv(left)
            if m is None:
                return
            self.events.append(m)

    def close(self):
        self.c.close()


def ws_cell(reply):
    if reply.get("ok"):
        return "ok", ""
    err = reply.get("error") or {}
    code, msg = err.get("code"), err.get("message", "")
    return {"unauthorized": "401", "forbidden": "403", "not_open": "403 not_open"}.get(
        code, "ERR " + str(code)), msg


# ------------------------------------------------------------------ SDP offers


def make_offers():
    """A sendonly and a recvonly offer (audio + video), made by aiortc on loopback."""
    peers.patch_aioice_loopback()
    from aiortc import RTCPeerConnection
    from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

    async def run():
        out = {}
        for d in ("sendonly", "recvonly"):
            pc = RTCPeerConnection()
            if d == "sendonly":
                pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
                pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
            else:
                pc.addTransceiver("audio", direction="recvonly")
                pc.addTransceiver("video", direction="recvonly")
            await pc.setLocalDescription(await pc.createOffer())
            out[d] = pc.localDescription.sdp
            await pc.close()
        return out

    return asyncio.run(run())


# ------------------------------------------------------------------ setup


def setup(srv, binary):
    port = srv.port
    root = mint_token(binary, srv.data, "admin", ttl=3600)
    now = int(time.time() * 1000)
    school = must(req(port, "POST", "/api/v1/schools", {"name": "Matrix School"}, root),
                  201, "POST school")["id"]
    c1 = must(req(port, "POST", "/api/v1/classrooms", {"school_id": school, "name": "C1"}, root),
              201, "POST classroom C1")["id"]
    c2 = must(req(port, "POST", "/api/v1/classrooms", {"school_id": school, "name": "C2"}, root),
              201, "POST classroom C2")["id"]
    users = {}
    for row, username, role, extra in (
            ("admin", "head", "admin", {}), ("scheduler", "sched", "scheduler", {}),
            ("teacher T1", "teacher1", "teacher", {}), ("teacher T2", "teacher2", "teacher", {}),
            ("classroom C1", "room-c1", "classroom", {"classroom_id": c1}),
            ("researcher", "res", "researcher", {}), ("observer", "obs", "observer", {})):
        body = dict({"username": username, "password": PASSWORD, "name": row, "role": role},
                    **extra)
        users[row] = must(req(port, "POST", "/api/v1/users", body, root), 201,
                          "POST user " + username)
    tokens = {"anonymous": None}
    for row, u in users.items():
        j = must(req(port, "POST", "/api/v1/login",
                     {"username": u["username"], "password": PASSWORD}), 200,
                 "login " + u["username"])
        tokens[row] = j["token"]
    t1, t2 = users["teacher T1"]["id"], users["teacher T2"]["id"]

    def lesson(title, teacher, room, start, end):
        return must(req(port, "POST", "/api/v1/lessons",
                        {"title": title, "teacher_id": teacher, "classrooms": [room],
                         "start_ms": start, "end_ms": end, "record": False}, root),
                    201, "POST lesson " + title)["id"]

    lessons = {
        "L1": lesson("Fractions", t1, c1, now - 5 * MIN, now + 40 * MIN),
        "L2": lesson("Poems", t2, c2, now - 5 * MIN, now + 40 * MIN),
        "L3": lesson("Geometry", t1, c1, now + 3 * DAY, now + 3 * DAY + 45 * MIN),
    }
    links = must(req(port, "GET", "/api/v1/lessons/%d/links" % lessons["L1"], token=root), 200,
                 "GET links of L1")
    tokens["link T1@L1"] = links["teacher"]["token"]
    mine = [c for c in links["classrooms"] if c["classroom"] == c1]
    if len(mine) != 1:
        raise SystemExit("setup: L1's links have no link for C1: %r" % links)
    tokens["link C1@L1"] = mine[0]["token"]
    tokens["adhoc token"] = mint_token(binary, srv.data, "teacher", room="adhoc-1", ttl=3600)
    rooms = {k: "lesson-%d" % v for k, v in lessons.items()}
    rooms["adhoc-1"] = "adhoc-1"
    rooms["demo"] = "demo"
    return root, tokens, lessons, rooms, t1


# ------------------------------------------------------------------ the room actions


def whip_whep(port, kind, room, token, offer, out, msgs):
    r = req(port, "POST", "/%s/%s" % (kind, room), offer, token, ctype="application/sdp")
    cell, text = http_cell(r, 201)
    if r.status == 201:
        loc = r.headers.get("location", "")
        d = req(port, "DELETE", loc) if loc else None
        if d is None or d.status != 200:
            fail("%s %s: DELETE %s → %s" % (kind, room, loc, d.status if d else "no Location"))
    elif r.status == 400:
        text = "bad offer? " + text
    out[kind.upper()] = cell
    if text:
        msgs[kind.upper()] = text


def room_row(port, ws, room, token, offers, demo=False):
    """One principal in one room: returns ({action: cell}, {action: server message})."""
    out, msgs = {}, {}
    joined = None
    for jr, col in (("teacher", "join T"), ("classroom", "join C"), ("observer", "join O")):
        rep = ws.call({"type": "join", "room": room, "role": jr, "name": "matrix " + jr})
        out[col], m = ws_cell(rep)
        if m:
            msgs[col] = m
        if rep.get("ok"):
            joined = joined or jr
            left = ws.call({"type": "leave"})
            if not left.get("ok"):
                fail("%s: leave after join as %s → %r" % (room, jr, left))
    if joined:
        rep = ws.call({"type": "join", "room": room, "role": joined, "name": "matrix " + joined})
        if not rep.get("ok"):
            fail("%s: rejoin as %s → %r" % (room, joined, rep))
        else:
            rep = ws.call({"type": "publish", "sdp": offers["sendonly"]})
            out["publish"], m = ws_cell(rep)
            if m:
                msgs["publish"] = m
            rep = ws.call({"type": "subscribe", "sdp": offers["recvonly"], "tracks": {}})
            out["subscribe"], m = ws_cell(rep)
            if m:
                msgs["subscribe"] = m
            if demo:
                out["control"] = "-"
            else:
                rep = ws.call({"type": "lesson", "action": "pause"})
                out["control"], m = ws_cell(rep)
                if m:
                    msgs["control"] = m
                if rep.get("ok"):
                    rep = ws.call({"type": "lesson", "action": "resume"})
                    if not rep.get("ok"):
                        out["control"], m = ws_cell(rep)
                        msgs["control"] = "resume: " + m
            left = ws.call({"type": "leave"})
            if not left.get("ok"):
                fail("%s: leave → %r" % (room, left))
    else:
        for col in ("publish", "subscribe", "control"):
            out[col] = "-"
    whip_whep(port, "whip", room, token, offers["sendonly"], out, msgs)
    whip_whep(port, "whep", room, token, offers["recvonly"], out, msgs)
    return out, msgs


# ------------------------------------------------------------------ REST


def rest_row(port, token, lessons, teacher_id, k):
    out, msgs, created = {}, {}, []
    start = int(time.time() * 1000) + 10 * DAY + k * 2 * HOUR
    probes = [
        ("GET lessons", "GET", "/api/v1/lessons", None, 200),
        ("POST lessons", "POST", "/api/v1/lessons",
         {"title": "matrix probe %d" % k, "teacher_id": teacher_id, "start_ms": start,
          "end_ms": start + 45 * MIN, "record": False}, 201),
        ("GET users", "GET", "/api/v1/users", None, 200),
        ("GET teachers", "GET", "/api/v1/users?role=teacher", None, 200),
        ("GET audit", "GET", "/api/v1/audit", None, 200),
        ("links L1", "GET", "/api/v1/lessons/%d/links" % lessons["L1"], None, 200),
        ("links L2", "GET", "/api/v1/lessons/%d/links" % lessons["L2"], None, 200),
        ("GET recordings", "GET", "/api/v1/recordings", None, 200),
        ("GET stats", "GET", "/api/v1/stats", None, 200),
    ]
    for col, method, path, body, ok in probes:
        r = req(port, method, path, body, token)
        out[col], text = http_cell(r, ok)
        if text:
            msgs[col] = text
        if col == "POST lessons" and r.status == 201:
            created.append(r.json["id"])
    return out, msgs, created


# ------------------------------------------------------------------ printing


def print_block(title, cols, rows, got, expect):
    """got/expect: {row: {col: cell}}; returns the mismatches [(row, col, want, got)]."""
    bad = []
    w0 = max(len(r) for r in rows) + 2
    widths = [max(len(c), 14) + 1 for c in cols]
    print("\n" + title, flush=True)
    print((" " * w0 + "".join(c.ljust(w) for c, w in zip(cols, widths))).rstrip())
    for row in rows:
        line = row.ljust(w0)
        for c, w in zip(cols, widths):
            g, e = got[row][c], expect[row][c]
            if g == e:
                cell = g
            elif e == "-":  # reachable only because a join was wrongly allowed
                cell = g + " *"
            else:
                cell = g + " ✗"
                bad.append((row, c, e, g))
            line += cell.ljust(w)
        print(line.rstrip())
    return bad


# ------------------------------------------------------------------ unseen watchers


def check_unseen(port, tokens, room):
    log("unseen watchers in", room)
    t1 = Ws(port, tokens["teacher T1"])
    obs = Ws(port, tokens["observer"])
    res = Ws(port, tokens["researcher"])
    c1 = Ws(port, tokens["link C1@L1"])
    try:
        r = t1.call({"type": "join", "room": room, "role": "teacher", "name": "T1"})
        if not r.get("ok"):
            fail("unseen: T1 cannot join %s: %r" % (room, r))
            return
        t1_id = r["participant"]["id"]
        hidden = {}
        for name, ws in (("observer", obs), ("researcher", res)):
            r = ws.call({"type": "join", "room": room, "role": "observer", "name": name})
            if not r.get("ok"):
                fail("unseen: %s cannot join %s as observer: %r" % (name, room, r))
                return
            hidden[r["participant"]["id"]] = name
            seen = [p["id"] for p in r.get("participants", [])]
            if t1_id not in seen:
                fail("unseen: the %s's join reply does not list the teacher (%r)" % (name, seen))
        r = c1.call({"type": "join", "room": room, "role": "classroom", "name": "C1"})
        if not r.get("ok"):
            fail("unseen: C1's link cannot join %s: %r" % (room, r))
            return
        live = req(port, "GET", "/api/v1/live", token=tokens["teacher T1"])
        items = [x for x in (live.json or {}).get("live", []) if x.get("room") == room]
        n_live = items[0].get("participants") if items else None
        if n_live != 2:  # the teacher and the classroom; the two watchers stay unseen
            fail("unseen: GET /api/v1/live counts %r participants in %s, not 2" % (n_live, room))
        else:
            print("  ok    GET /api/v1/live counts the 2 seen participants, not the watchers")
        c1_id = r["participant"]["id"]
        listed = [p["id"] for p in r.get("participants", [])]
        leaked = [hidden[i] for i in listed if i in hidden]
        ok = t1_id in listed and not leaked and \
            all(p.get("role") != "observer" for p in r.get("participants", []))
        (print if ok else fail)(("  ok    " if ok else "") +
                                "a later joiner's participants list %r: teacher listed, "
                                "watchers not (leaked: %r)" % (listed, leaked))
        for name, ws in (("observer", obs), ("researcher", res)):
            r = ws.call({"type": "leave"})
            if not r.get("ok"):
                fail("unseen: %s leave → %r" % (name, r))
        r = c1.call({"type": "leave"})
        t1.drain(0.5)
        events = [(e.get("event"), (e.get("participant") or {}).get("id"))
                  for e in t1.events if e.get("type") == "event"
                  and e.get("event") in ("participant_joined", "participant_left")]
        about_hidden = [(ev, hidden[i]) for ev, i in events if i in hidden]
        sane = ("participant_joined", c1_id) in events and ("participant_left", c1_id) in events
        ok = not about_hidden and sane
        (print if ok else fail)(("  ok    " if ok else "") +
                                "the teacher heard %r: the classroom came and went, nothing "
                                "about the watchers (%r)" % (events, about_hidden))
        t1.call({"type": "leave"})
    finally:
        for ws in (t1, obs, res, c1):
            ws.close()


# ------------------------------------------------------------------ main


def main():
    t0 = time.monotonic()
    binary = find_classrelay(sys.argv[1] if len(sys.argv) > 1 else None)
    offers = make_offers()
    srv = Server(binary, extra_args=["--no-record"], name="permission_matrix").start()
    try:
        root, tokens, lessons, rooms, t1_id = setup(srv, binary)
        log("lessons", lessons, "rooms", rooms)
        for key, spec in EXPECT_ROOM.items():
            for row in spec:
                assert len(expand(spec[row])) == len(ROOM_ACTIONS), (key, row)
        for row in EXPECT_REST:
            assert len(expand(EXPECT_REST[row])) == len(REST_ACTIONS), row

        got = {k: {} for k in EXPECT_ROOM}
        details = {}
        for row in ROWS:
            ws = Ws(srv.port, tokens[row])
            try:
                for key in ROOMS + ["demo"]:
                    if row not in EXPECT_ROOM[key]:
                        continue
                    out, msgs = room_row(srv.port, ws, rooms[key], tokens[row], offers,
                                         demo=(key == "demo"))
                    got[key][row] = out
                    for col, m in msgs.items():
                        details[(key, row, col)] = m
            finally:
                ws.close()
        log("room actions done in %.1fs" % (time.monotonic() - t0))

        rest_got, created = {}, []
        for k, row in enumerate(ROWS):
            out, msgs, made = rest_row(srv.port, tokens[row], lessons, t1_id, k)
            rest_got[row] = out
            created += made
            for col, m in msgs.items():
                details[("REST", row, col)] = m
        for lid in created:
            r = req(srv.port, "DELETE", "/api/v1/lessons/%d" % lid, token=root)
            if r.status != 204:
                fail("cleanup: DELETE lesson %d → %d" % (lid, r.status))

        print("\nLegend: ok = allowed; 401/403 = refused; 403 not_open = outside the lesson's "
              "window;\n- = not tried (no join allowed); ✗ = differs from docs/scheduling.md; "
              "* = reached only\nthrough a wrongly allowed join (not counted again). join T/C/O "
              "= websocket join as\nteacher/classroom/observer; publish/subscribe/control after "
              "the best join allowed.")
        mismatches = []
        for key in ROOMS + ["demo"]:
            rows = [r for r in ROWS if r in EXPECT_ROOM[key]]
            expect = {r: dict(zip(ROOM_ACTIONS, expand(EXPECT_ROOM[key][r]))) for r in rows}
            title = "room %s (%s)" % (key, rooms[key]) if key.startswith("L") else "room " + key
            bad = print_block(title, ROOM_ACTIONS, rows, got[key], expect)
            mismatches += [(key,) + b for b in bad]
        expect = {r: dict(zip(REST_ACTIONS, expand(EXPECT_REST[r]))) for r in ROWS}
        bad = print_block("REST /api/v1", REST_ACTIONS, ROWS, rest_got, expect)
        mismatches += [("REST",) + b for b in bad]

        print("\nunseen watchers", flush=True)
        check_unseen(srv.port, tokens, rooms["L1"])

        n_cells = sum(len(v) * len(ROOM_ACTIONS) for v in got.values()) + \
            len(ROWS) * len(REST_ACTIONS)
        if os.environ.get("PM_VERBOSE"):
            print("\nthe server's words for every refusal")
            for (key, row, col), m in sorted(details.items()):
                print("  %-8s %-13s %-14s %s" % (key, row, col, m))
        print("\nsummary: %d cells, %d mismatches" % (n_cells, len(mismatches)))
        for key, row, col, want, g in mismatches:
            m = details.get((key, row, col), "")
            print(("  MISMATCH %-8s %-13s %-14s expected %-13s got %-13s %s"
                   % (key, row, col, want, g, ("(" + m + ")") if m else "")).rstrip())
            failures.append("%s %s %s" % (key, row, col))
        if not srv.alive():
            fail("the server died:\n" + srv.log_tail())
    finally:
        srv.stop()
    print("runtime %.1fs" % (time.monotonic() - t0))
    print("RESULT: %s" % ("FAIL" if failures else "PASS"), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
