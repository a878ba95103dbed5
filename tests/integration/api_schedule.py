#!/usr/bin/python3
"""The schedule's REST API against a real server (docs/scheduling.md, "REST API").

Starts `classrelay serve` on a free port with a fresh data dir (--no-record). Gets an admin
token from `classrelay token --data DIR --role admin` and logs in with the first-start
admin password the server prints. Then checks:

  login (good, bad, unknown user with the same answer and cost, disabled, lockout → 429
  with Retry-After), the cr_session cookie (HttpOnly, SameSite=Strict, Max-Age), /me,
  logout; CRUD of schools, classrooms, users and lessons (201 + Location, 204, 404, 405 +
  Allow, 409 for taken names and things in use); passwords never shown; a weekly lesson
  listed across weeks; double bookings (teacher, classroom) refused with a message naming
  the clash and nothing changed; half-open intervals; join links (JWT payloads name the
  lesson's room, the right role, sub, classroom and expiry); /live; iCalendar feeds
  (VCALENDAR, RRULE, CRLF, ?token=); the audit log; bad input for every text field of every
  resource (wrong types, empty, too long, control characters, SQL meta-characters
  round-tripping), malformed JSON, duplicate keys, unknown and read-only fields, a body over
  64 KiB (413), bad dates (end before start, over 12 h, strings, bad recurrences), bad ids
  and query arguments; tampered, foreign-key, alg-none and expired tokens (401), roles
  without the right (403). Every refused request must leave the store as it was (the
  listings are compared before and after).

Usage: api_schedule.py [path/to/classrelay]; ends with RESULT: PASS or RESULT: FAIL.
"""
import base64
import hashlib
import hmac
import http.client as httpclient
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from peers import Server, find_classrelay, log  # noqa: E402

EVIL = "'; DROP TABLE lessons; --"
HOUR = 3600 * 1000
DAY = 24 * HOUR
WEEK = 7 * DAY
# Monday 2030-01-07 00:00 UTC: far enough ahead for links to hit the 30-day cap
MON = 1894060800000
from peers import check, checks, failures  # noqa: E402


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def code(self):
        e = self.json.get("error") if isinstance(self.json, dict) else None
        return e.get("code") if isinstance(e, dict) else None

    def msg(self):
        e = self.json.get("error") if isinstance(self.json, dict) else None
        return e.get("message", "") if isinstance(e, dict) else ""

    def __repr__(self):
        return "%d %s" % (self.status, self.body[:300])


class Api:
    def __init__(self, srv):
        self.srv = srv

    def req(self, method, path, body=None, token=None, headers=None):
        """body: dict/list (sent as JSON), str or bytes (sent as is), or None."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        if body is not None:
            h.setdefault("Content-Type", "application/json")
        c = httpclient.HTTPConnection("127.0.0.1", self.srv.port, timeout=30)
        try:
            c.putrequest(method, path, skip_accept_encoding=True)
            for k, v in h.items():
                c.putheader(k, v)
            if body is not None:
                c.putheader("Content-Length", str(len(body)))
            c.endheaders(body)
            r = c.getresponse()
            data = r.read()
            hdrs = {}
            for k, v in r.getheaders():
                hdrs.setdefault(k.lower(), v)
            return Resp(r.status, hdrs, data)
        finally:
            c.close()


def cli_token(binary, data, role, ttl=None, room=None, sub=None, name=None):
    cmd = [binary, "token", "--data", data, "--role", role]
    for flag, v in (("--ttl", ttl), ("--room", room), ("--sub", sub), ("--name", name)):
        if v is not None:
            cmd += [flag, str(v)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), out.stderr.strip()))
    return out.stdout.strip()


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt_payload(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def jwt_sign(key, payload, header=None):
    h = b64url(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    p = b64url(json.dumps(payload).encode())
    sig = hmac.new(key, (h + "." + p).encode(), hashlib.sha256).digest()
    return h + "." + p + "." + b64url(sig)


# ------------------------------------------------------------------ snapshots

class State:
    """The listings every refused request must leave unchanged."""

    def __init__(self, api, admin):
        self.api = api
        self.admin = admin

    def snap(self):
        out = {}
        for path in ("/api/v1/schools", "/api/v1/classrooms", "/api/v1/users",
                     "/api/v1/lessons?from=%d&to=%d" % (MON - WEEK, MON + 8 * WEEK)):
            r = self.api.req("GET", path, token=self.admin)
            out[path] = r.body if r.status == 200 else ("status %d" % r.status)
        return out


def refused(api, state, what, method, path, body, status, token, code=None, contains=None):
    """Sends a request that must be refused with status; the store must not change."""
    before = state.snap()
    r = api.req(method, path, body, token=token)
    ok = r.status == status and (code is None or r.code() == code)
    if contains is not None:
        ok = ok and contains.lower() in r.msg().lower()
    check(ok, "%s → %d%s (got %s)" % (what, status, " " + code if code else "", repr(r)[:160]))
    after = state.snap()
    check(before == after, "%s: nothing changed" % what)
    return r


# ------------------------------------------------------------------ sections

def test_first_start(api, srv, binary):
    log("first start: the admin's password on stdout, login, cookie, me, logout")
    line = None
    deadline = time.monotonic() + 5
    while line is None and time.monotonic() < deadline:
        with open(srv.logpath, "rb") as f:
            m = re.search(rb"first start: log in at (\S+) as admin / (\S+)", f.read())
        if m:
            line = m
        else:
            time.sleep(0.2)
    if not check(line is not None, "the server printed the first-start credentials"):
        return None
    url, password = line.group(1).decode(), line.group(2).decode()
    check(url.endswith("/login.html"), "first-start line names login.html (%s)" % url)
    check(len(password) == 16, "first-start password has 16 characters")
    r = api.req("POST", "/api/v1/login", {"username": "admin", "password": password})
    if not check(r.status == 200 and r.json and r.json.get("token"), "admin login → 200 (%r)" % r):
        return None
    tok = r.json["token"]
    check(r.json["user"]["username"] == "admin" and r.json["user"]["role"] == "admin",
          "login answers the user")
    check("pw_hash" not in r.json["user"] and "password" not in r.json["user"],
          "login answer has no hash")
    now_ms = time.time() * 1000
    check(abs(r.json["expires_ms"] - (now_ms + 12 * HOUR)) < 120000, "session lasts 12 h")
    cookie = r.headers.get("set-cookie", "")
    check(cookie.startswith("cr_session=" + tok), "Set-Cookie cr_session=<token>")
    for attr in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"):
        check(attr.lower() in cookie.lower(), "cookie has " + attr)
    p = jwt_payload(tok)
    check(p.get("role") == "admin" and re.fullmatch(r"u\d+", p.get("sub", "")) is not None,
          "session token: role admin, sub u<id>")
    r = api.req("GET", "/api/v1/me", headers={"Cookie": "cr_session=" + tok})
    check(r.status == 200 and r.json["user"] and r.json["user"]["username"] == "admin" and
          r.json["role"] == "admin" and r.json["room"] is None, "me by cookie (%r)" % r)
    r = api.req("GET", "/api/v1/me", token=tok)
    check(r.status == 200 and r.json["expires_ms"] == p["exp"] * 1000, "me by bearer")
    r = api.req("GET", "/api/v1/me")
    check(r.status == 401 and r.code() == "unauthorized", "me without a token → 401")
    r = api.req("POST", "/api/v1/logout", headers={"Cookie": "cr_session=" + tok})
    c = r.headers.get("set-cookie", "")
    check(r.status in (200, 204) and c.startswith("cr_session=;") and "max-age=0" in c.lower(),
          "logout clears the cookie (%s)" % c)
    cli = cli_token(binary, srv.data, "admin")
    r = api.req("GET", "/api/v1/me", token=cli)
    check(r.status == 200 and r.json["user"] is None and r.json["role"] == "admin",
          "me with a CLI token: user null")
    return tok


def test_schools_classrooms(api, st, admin):
    log("schools and classrooms")
    r = api.req("POST", "/api/v1/schools", {"name": "North School"}, token=admin)
    check(r.status == 201 and r.json["name"] == "North School", "POST school → 201")
    north = r.json["id"]
    check(r.headers.get("location") == "/api/v1/schools/%d" % north, "Location of the school")
    r = api.req("POST", "/api/v1/schools", {"name": EVIL}, token=admin)
    check(r.status == 201 and r.json["name"] == EVIL, "school named with SQL meta-characters")
    evil_school = r.json["id"]
    r = api.req("GET", "/api/v1/schools/%d" % evil_school, token=admin)
    check(r.status == 200 and r.json["name"] == EVIL, "... round-trips unchanged")
    r = api.req("PUT", "/api/v1/schools/%d" % evil_school, {"name": "South School"}, token=admin)
    check(r.status == 200 and r.json["name"] == "South School", "PUT school renames it")
    south = evil_school
    r = api.req("GET", "/api/v1/schools", token=admin)
    check(r.status == 200 and sorted(s["name"] for s in r.json["schools"]) ==
          ["North School", "South School"], "GET schools lists both")

    rooms = {}
    for school, name in ((north, "Grade 3 A"), (north, "Grade 3 B"), (south, "Village 1"),
                         (south, "Village 2")):
        r = api.req("POST", "/api/v1/classrooms", {"school_id": school, "name": name},
                    token=admin)
        check(r.status == 201 and r.json["school_id"] == school and r.json["name"] == name,
              "POST classroom %s → 201" % name)
        check(r.headers.get("location") == "/api/v1/classrooms/%d" % r.json["id"],
              "Location of classroom %s" % name)
        rooms[name] = r.json["id"]
    r = api.req("GET", "/api/v1/classrooms?school=%d" % north, token=admin)
    check(r.status == 200 and sorted(c["name"] for c in r.json["classrooms"]) ==
          ["Grade 3 A", "Grade 3 B"], "classrooms ?school= filters")
    r = api.req("GET", "/api/v1/classrooms", token=admin)
    check(r.status == 200 and len(r.json["classrooms"]) == 4, "all classrooms")
    r = api.req("POST", "/api/v1/classrooms", {"school_id": south, "name": EVIL}, token=admin)
    check(r.status == 201 and r.json["name"] == EVIL, "classroom with SQL meta-characters")
    r2 = api.req("GET", "/api/v1/classrooms/%d" % r.json["id"], token=admin)
    check(r2.status == 200 and r2.json["name"] == EVIL, "... round-trips unchanged")
    r = api.req("DELETE", "/api/v1/classrooms/%d" % r.json["id"], token=admin)
    check(r.status == 204 and not r.body, "DELETE classroom → 204")
    refused(api, st, "classroom name taken in its school", "POST", "/api/v1/classrooms",
            {"school_id": north, "name": "Grade 3 A"}, 409, admin, "conflict")
    r = api.req("POST", "/api/v1/classrooms", {"school_id": south, "name": "Grade 3 A"},
                token=admin)
    check(r.status == 201, "the same name in another school is fine")
    api.req("DELETE", "/api/v1/classrooms/%d" % r.json["id"], token=admin)
    refused(api, st, "classroom of a school that does not exist", "POST", "/api/v1/classrooms",
            {"school_id": 999999, "name": "X"}, 400, admin)
    refused(api, st, "school with classrooms: DELETE", "DELETE", "/api/v1/schools/%d" % north,
            None, 409, admin, "conflict")
    r = api.req("POST", "/api/v1/schools", {"name": "Temp"}, token=admin)
    tmp = r.json["id"]
    r = api.req("DELETE", "/api/v1/schools/%d" % tmp, token=admin)
    check(r.status == 204, "DELETE empty school → 204")
    r = api.req("GET", "/api/v1/schools/%d" % tmp, token=admin)
    check(r.status == 404 and r.code() == "not_found", "deleted school → 404")
    r = api.req("DELETE", "/api/v1/schools/%d" % tmp, token=admin)
    check(r.status == 404, "DELETE it again → 404")
    return north, south, rooms


def test_users(api, st, admin, rooms):
    log("users")
    users = {}
    for username, name, role, extra in (
            ("wangli", "Wang Li", "teacher", {}),
            ("zhaomin", "Zhao Min", "teacher", {}),
            ("liufang", "Liu Fang", "teacher", {}),
            ("planner", "Plan Ner", "scheduler", {}),
            ("watcher", "Watch Er", "observer", {}),
            ("g3a", "Grade 3 A PC", "classroom", {"classroom_id": rooms["Grade 3 A"]})):
        body = dict(username=username, password="pw-" + username + "-123", name=name, role=role)
        body.update(extra)
        r = api.req("POST", "/api/v1/users", body, token=admin)
        ok = check(r.status == 201 and r.json["username"] == username and r.json["role"] == role,
                   "POST user %s (%s) → 201 (%r)" % (username, role, r))
        if ok:
            check(r.headers.get("location") == "/api/v1/users/%d" % r.json["id"],
                  "Location of user " + username)
            check("pw_hash" not in r.json and "password" not in r.json and
                  "scrypt" not in r.body.decode(), "no hash in the answer for " + username)
            users[username] = r.json
    check(users.get("g3a", {}).get("classroom_id") == rooms["Grade 3 A"],
          "classroom account keeps its classroom_id")
    r = api.req("GET", "/api/v1/users", token=admin)
    check(r.status == 200 and len(r.json["users"]) == 7, "GET users: admin + 6")
    check(b"scrypt" not in r.body and b"pw_hash" not in r.body, "no hash in the user list")
    r = api.req("GET", "/api/v1/users?role=teacher", token=admin)
    check(r.status == 200 and sorted(u["username"] for u in r.json["users"]) ==
          ["liufang", "wangli", "zhaomin"], "GET users ?role=teacher")
    r = api.req("GET", "/api/v1/users?role=wizard", token=admin)
    check(r.status == 400, "GET users ?role=wizard → 400")

    refused(api, st, "username taken", "POST", "/api/v1/users",
            dict(username="wangli", password="longenough", name="X", role="teacher"), 409,
            admin, "conflict")
    refused(api, st, "password of 7 bytes", "POST", "/api/v1/users",
            dict(username="shorty", password="1234567", name="X", role="teacher"), 400, admin,
            "bad_request", "password")
    refused(api, st, "password of 201 bytes", "POST", "/api/v1/users",
            dict(username="longpw", password="x" * 201, name="X", role="teacher"), 400, admin,
            "bad_request", "password")
    refused(api, st, "role wizard", "POST", "/api/v1/users",
            dict(username="wiz", password="longenough", name="X", role="wizard"), 400, admin,
            "bad_request", "role")
    refused(api, st, "username with SQL meta-characters", "POST", "/api/v1/users",
            dict(username=EVIL, password="longenough", name="X", role="teacher"), 400, admin)
    refused(api, st, "username of 2 characters", "POST", "/api/v1/users",
            dict(username="ab", password="longenough", name="X", role="teacher"), 400, admin)
    refused(api, st, "user without a password", "POST", "/api/v1/users",
            dict(username="nopw", name="X", role="teacher"), 400, admin, "bad_request",
            "password")

    # a password and name made of SQL meta-characters work
    r = api.req("POST", "/api/v1/users", dict(username="evil.user", password=EVIL, name=EVIL,
                                              role="researcher"), token=admin)
    check(r.status == 201 and r.json["name"] == EVIL, "user named with SQL meta-characters")
    evil_id = r.json["id"]
    r = api.req("POST", "/api/v1/login", {"username": "evil.user", "password": EVIL})
    check(r.status == 200 and r.json["user"]["name"] == EVIL,
          "login with a password of SQL meta-characters")
    researcher = r.json["token"] if r.status == 200 else None

    # password change, disable
    wid = users["wangli"]["id"]
    r = api.req("PUT", "/api/v1/users/%d" % wid, {"password": "new-password-1"}, token=admin)
    check(r.status == 200 and r.json["name"] == "Wang Li", "PUT password keeps the other fields")
    r = api.req("POST", "/api/v1/login", {"username": "wangli", "password": "pw-wangli-123"})
    check(r.status == 401, "old password refused after the change")
    r = api.req("POST", "/api/v1/login", {"username": "wangli", "password": "new-password-1"})
    check(r.status == 200, "new password works")
    r = api.req("PUT", "/api/v1/users/%d" % evil_id, {"disabled": True}, token=admin)
    check(r.status == 200 and r.json["disabled"] is True, "PUT disabled: true")
    r = api.req("GET", "/api/v1/me", token=researcher)
    check(r.status == 401, "a disabled user's session token is refused")
    r = api.req("POST", "/api/v1/login", {"username": "evil.user", "password": EVIL})
    check(r.status in (401, 403) and not (r.json or {}).get("token"),
          "a disabled user cannot log in (%d)" % r.status)
    r = api.req("DELETE", "/api/v1/users/%d" % evil_id, token=admin)
    check(r.status == 204, "DELETE user → 204")
    r = api.req("GET", "/api/v1/users/%d" % evil_id, token=admin)
    check(r.status == 404, "deleted user → 404")
    return users


def login(api, username, password):
    r = api.req("POST", "/api/v1/login", {"username": username, "password": password})
    if r.status != 200:
        raise RuntimeError("login %s: %r" % (username, r))
    return r.json["token"]


def test_self(api, st, admin, admin_session):
    log("an admin cannot delete, disable or demote themselves")
    if admin_session is None:  # no first-start password: a second admin of our own
        r = api.req("POST", "/api/v1/users", dict(username="admin2", password="admin2-password",
                                                  name="Second Admin", role="admin"), token=admin)
        check(r.status == 201, "POST a second admin")
        admin_session = login(api, "admin2", "admin2-password")
    me = api.req("GET", "/api/v1/me", token=admin_session).json["user"]["id"]
    refused(api, st, "admin deletes their own account", "DELETE", "/api/v1/users/%d" % me, None,
            400, admin_session)
    refused(api, st, "admin disables their own account", "PUT", "/api/v1/users/%d" % me,
            {"disabled": True}, 400, admin_session)
    refused(api, st, "admin drops their own admin role", "PUT", "/api/v1/users/%d" % me,
            {"role": "observer"}, 400, admin_session)
    r = api.req("PUT", "/api/v1/users/%d" % me, {"name": "Still Admin"}, token=admin_session)
    check(r.status == 200 and r.json["name"] == "Still Admin", "admin renames themselves")


def lesson_body(title, teacher, start, minutes, rooms=(), until=None, **kw):
    b = {"title": title, "teacher_id": teacher, "start_ms": start,
         "end_ms": start + minutes * 60000, "classrooms": list(rooms)}
    if until is not None:
        b["recurrence"] = {"freq": "weekly", "until_ms": until}
    b.update(kw)
    return b


def occurrences(api, token, frm, to, **q):
    qs = "from=%d&to=%d" % (frm, to) + "".join("&%s=%s" % kv for kv in q.items())
    r = api.req("GET", "/api/v1/lessons?" + qs, token=token)
    return r.json["lessons"] if r.status == 200 else None


def test_lessons(api, st, admin, users, rooms):
    log("lessons: CRUD, weekly recurrence, conflicts")
    wang, zhao = users["wangli"]["id"], users["zhaomin"]["id"]
    a, b, v1 = rooms["Grade 3 A"], rooms["Grade 3 B"], rooms["Village 1"]
    start = MON + 9 * HOUR  # Monday 09:00 UTC
    r = api.req("POST", "/api/v1/lessons",
                lesson_body("Fractions", wang, start, 45, (a, b), until=start + 3 * WEEK,
                            subject="Maths"), token=admin)
    if not check(r.status == 201, "POST weekly lesson → 201 (%r)" % r):
        return None
    les = r.json
    lid = les["id"]
    check(r.headers.get("location") == "/api/v1/lessons/%d" % lid, "Location of the lesson")
    check(les["room"] == "lesson-%d" % lid, "room is lesson-<id>")
    check(les["record"] is True, "record defaults to true")
    check(les["recurrence"] == {"freq": "weekly", "until_ms": start + 3 * WEEK}, "recurrence")
    check(les["teacher_name"] == "Wang Li", "teacher_name")
    check(les["classrooms"] == [a, b] and les.get("classroom_names") == ["Grade 3 A", "Grade 3 B"],
          "classrooms and their names")
    check(les["subject"] == "Maths" and les["title"] == "Fractions", "title and subject")
    check(isinstance(les["created_ms"], int) and isinstance(les["updated_ms"], int), "timestamps")

    occ = occurrences(api, admin, MON, MON + WEEK)
    check(occ is not None and len(occ) == 1 and occ[0]["occurrence_start_ms"] == start and
          occ[0]["occurrence_end_ms"] == start + 45 * 60000 and occ[0]["live"] is False,
          "week 1: one occurrence")
    occ = occurrences(api, admin, MON, MON + 5 * WEEK)
    check(occ is not None and [o["occurrence_start_ms"] for o in occ] ==
          [start + i * WEEK for i in range(4)], "five weeks: four weekly occurrences")
    check(all(o["id"] == lid and o["room"] == "lesson-%d" % lid for o in occ or []),
          "each occurrence is the lesson")
    occ = occurrences(api, admin, MON + 4 * WEEK, MON + 5 * WEEK)
    check(occ == [], "after until: none")
    occ = occurrences(api, admin, MON + 2 * WEEK, MON + 3 * WEEK, teacher=zhao)
    check(occ == [], "?teacher= filters")
    occ = occurrences(api, admin, MON + 2 * WEEK, MON + 3 * WEEK, classroom=b)
    check(occ is not None and len(occ) == 1, "?classroom= filters")
    r = api.req("GET", "/api/v1/lessons", token=admin)
    now = time.time() * 1000
    days = int(now // DAY)
    monday = (days - (days + 3) % 7) * DAY
    check(r.status == 200 and r.json["from_ms"] == monday and r.json["to_ms"] == monday + WEEK,
          "default range: this week from Monday 00:00 UTC")
    for q, why in (("from=%d&to=%d" % (MON, MON + 63 * DAY), "over 62 days"),
                   ("from=%d&to=%d" % (MON, MON), "to = from"),
                   ("from=%d&to=%d" % (MON, MON - 1), "to before from"),
                   ("from=abc", "from not a number"), ("to=12x", "to not a number"),
                   ("teacher=x", "teacher not an id"), ("classroom=-1", "classroom negative")):
        r = api.req("GET", "/api/v1/lessons?" + q, token=admin)
        check(r.status == 400, "GET lessons ?%s (%s) → 400" % (q, why))

    # conflicts: the teacher, a classroom; nothing changes
    r = refused(api, st, "teacher double-booked in week 3", "POST", "/api/v1/lessons",
                lesson_body("Decimals", wang, start + 2 * WEEK + 30 * 60000, 45, (v1,)), 409,
                admin, "conflict")
    err = (r.json or {}).get("error", {})
    check("Fractions" in err.get("message", "") and "Wang Li" in err.get("message", ""),
          "the message names the clash (%s)" % err.get("message"))
    cs = err.get("conflicts") or []
    check(len(cs) >= 1 and cs[0].get("lesson") == lid and cs[0].get("with") == "teacher" and
          cs[0].get("title") == "Fractions" and cs[0].get("start_ms") == start + 2 * WEEK,
          "conflicts: [{lesson, title, start_ms, with: teacher}] (%s)" % cs)
    r = refused(api, st, "classroom double-booked", "POST", "/api/v1/lessons",
                lesson_body("Reading", zhao, start + WEEK + 10 * 60000, 30, (v1, b)), 409,
                admin, "conflict")
    cs = ((r.json or {}).get("error") or {}).get("conflicts") or []
    check(any(c.get("with") == "classroom" and c.get("classroom") == b for c in cs),
          "conflicts names the classroom (%s)" % cs)
    r = api.req("POST", "/api/v1/lessons",
                lesson_body("Reading", zhao, start, 30, (v1,), record=False), token=admin)
    check(r.status == 201 and r.json["record"] is False, "another teacher and room at that time")
    reading = r.json["id"] if r.status == 201 else None
    r = api.req("POST", "/api/v1/lessons", lesson_body("Follow-up", wang, start + 45 * 60000, 30,
                                                       (a,)), token=admin)
    check(r.status == 201, "a lesson starting when the other ends (half-open) is fine")
    follow = r.json["id"] if r.status == 201 else None

    # update
    r = api.req("PUT", "/api/v1/lessons/%d" % lid, {"title": "Fractions II"}, token=admin)
    check(r.status == 200 and r.json["title"] == "Fractions II" and r.json["classrooms"] == [a, b]
          and r.json["start_ms"] == start, "PUT title keeps the rest")
    check(r.json["updated_ms"] >= les["updated_ms"], "updated_ms moves on")
    refused(api, st, "PUT into a clash", "PUT", "/api/v1/lessons/%d" % reading,
            {"classrooms": [a]}, 409, admin, "conflict")
    r = api.req("PUT", "/api/v1/lessons/%d" % lid, {"recurrence": None}, token=admin)
    check(r.status == 200 and r.json["recurrence"] is None, "PUT recurrence null: once")
    check(len(occurrences(api, admin, MON, MON + 5 * WEEK, teacher=wang)) == 2,
          "now one occurrence (and the follow-up)")
    r = api.req("PUT", "/api/v1/lessons/%d" % lid, {"recurrence": {"freq": "weekly",
                                                                    "until_ms": start + 3 * WEEK}},
                token=admin)
    check(r.status == 200 and r.json["recurrence"]["until_ms"] == start + 3 * WEEK,
          "PUT weekly again")
    r = api.req("DELETE", "/api/v1/lessons/%d" % follow, token=admin)
    check(r.status == 204, "DELETE lesson → 204")
    r = api.req("GET", "/api/v1/lessons/%d" % follow, token=admin)
    check(r.status == 404, "deleted lesson → 404")
    r = api.req("GET", "/api/v1/lessons/%d" % lid, token=admin)
    check(r.status == 200 and r.json["id"] == lid, "GET one lesson")
    refused(api, st, "classroom booked in a lesson: DELETE", "DELETE",
            "/api/v1/classrooms/%d" % a, None, 409, admin, "conflict")
    refused(api, st, "teacher of a lesson: DELETE", "DELETE", "/api/v1/users/%d" % wang, None,
            409, admin, "conflict")
    return lid


def test_bad_lessons(api, st, admin, users, rooms):
    log("lessons: bad times and shapes")
    wang = users["liufang"]["id"]
    s = MON + 6 * WEEK + 14 * HOUR
    cases = [
        ("end before start", dict(title="T", teacher_id=wang, start_ms=s, end_ms=s - 60000)),
        ("end = start", dict(title="T", teacher_id=wang, start_ms=s, end_ms=s)),
        ("longer than 12 h", dict(title="T", teacher_id=wang, start_ms=s,
                                  end_ms=s + 12 * HOUR + 60000)),
        ("start_ms a string", dict(title="T", teacher_id=wang, start_ms=str(s), end_ms=s + HOUR)),
        ("end_ms a date string", dict(title="T", teacher_id=wang, start_ms=s,
                                      end_ms="2030-02-18T15:00:00Z")),
        ("start_ms a float", dict(title="T", teacher_id=wang, start_ms=s + 0.5, end_ms=s + HOUR)),
        ("start_ms negative", dict(title="T", teacher_id=wang, start_ms=-HOUR, end_ms=0)),
        ("start_ms missing", dict(title="T", teacher_id=wang, end_ms=s + HOUR)),
        ("teacher_id a string", dict(title="T", teacher_id=str(wang), start_ms=s,
                                     end_ms=s + HOUR)),
        ("teacher_id not a teacher", dict(title="T", teacher_id=users["planner"]["id"],
                                          start_ms=s, end_ms=s + HOUR)),
        ("teacher_id unknown", dict(title="T", teacher_id=999999, start_ms=s, end_ms=s + HOUR)),
        ("recurrence freq daily", dict(title="T", teacher_id=wang, start_ms=s, end_ms=s + HOUR,
                                       recurrence={"freq": "daily", "until_ms": s + WEEK})),
        ("recurrence until before start", dict(title="T", teacher_id=wang, start_ms=s,
                                               end_ms=s + HOUR,
                                               recurrence={"freq": "weekly",
                                                           "until_ms": s - WEEK})),
        ("recurrence over 52 weeks", dict(title="T", teacher_id=wang, start_ms=s,
                                          end_ms=s + HOUR,
                                          recurrence={"freq": "weekly",
                                                      "until_ms": s + 60 * WEEK})),
        ("recurrence unknown field", dict(title="T", teacher_id=wang, start_ms=s,
                                          end_ms=s + HOUR,
                                          recurrence={"freq": "weekly", "until_ms": s + WEEK,
                                                      "count": 3})),
        ("recurrence a string", dict(title="T", teacher_id=wang, start_ms=s, end_ms=s + HOUR,
                                     recurrence="weekly")),
        ("record a string", dict(title="T", teacher_id=wang, start_ms=s, end_ms=s + HOUR,
                                 record="yes")),
        ("classrooms not an array", dict(title="T", teacher_id=wang, start_ms=s,
                                         end_ms=s + HOUR, classrooms=rooms["Village 2"])),
        ("classrooms with a string", dict(title="T", teacher_id=wang, start_ms=s,
                                          end_ms=s + HOUR, classrooms=["1"])),
        ("classrooms twice the same", dict(title="T", teacher_id=wang, start_ms=s,
                                           end_ms=s + HOUR,
                                           classrooms=[rooms["Village 2"]] * 2)),
        ("classrooms unknown id", dict(title="T", teacher_id=wang, start_ms=s, end_ms=s + HOUR,
                                       classrooms=[999999])),
        ("room is read-only", dict(title="T", teacher_id=wang, start_ms=s, end_ms=s + HOUR,
                                   room="lesson-1")),
        ("id is read-only", dict(id=5, title="T", teacher_id=wang, start_ms=s, end_ms=s + HOUR)),
    ]
    for what, body in cases:
        refused(api, st, "lesson: " + what, "POST", "/api/v1/lessons", body, 400, admin)
    r = api.req("POST", "/api/v1/lessons", dict(title="T", teacher_id=wang, start_ms=s,
                                                end_ms=s + HOUR, strat_ms=s), token=admin)
    check(r.status == 400 and "strat_ms" in r.msg(), "unknown field named in the message (%s)"
          % r.msg())
    r = api.req("POST", "/api/v1/lessons", dict(title="T", teacher_id=wang, start_ms="x",
                                                end_ms=s + HOUR), token=admin)
    check(r.status == 400 and "start_ms" in r.msg(), "wrong type named in the message (%s)"
          % r.msg())
    r = api.req("POST", "/api/v1/lessons",
                dict(title="T", teacher_id=wang, start_ms=s, end_ms=s + HOUR + 1,
                     recurrence={"freq": "weekly", "until_ms": s + 51 * WEEK}), token=admin)
    check(r.status == 201, "a weekly lesson of 52 occurrences is fine (%r)" % r)
    if r.status == 201:
        api.req("DELETE", "/api/v1/lessons/%d" % r.json["id"], token=admin)


def test_text_fields(api, st, admin, users, rooms, north):
    log("bad input for every text field")
    teacher = users["liufang"]["id"]
    s = MON + 7 * WEEK + 10 * HOUR
    resources = [
        ("school", "/api/v1/schools", lambda: {"name": "Ok School"}, ["name"], []),
        ("classroom", "/api/v1/classrooms", lambda: {"school_id": north, "name": "Ok Room"},
         ["name"], []),
        ("user", "/api/v1/users",
         lambda: {"username": "okuser", "password": "okpassword", "name": "Ok",
                  "role": "teacher"}, ["username", "password", "name", "role"], []),
        ("lesson", "/api/v1/lessons",
         lambda: {"title": "Ok", "subject": "Ok", "teacher_id": teacher, "start_ms": s,
                  "end_ms": s + HOUR}, ["title", "subject"], ["subject"]),
    ]
    bad_values = [
        ("a number", 42), ("null", None), ("an array", ["x"]), ("an object", {"x": 1}),
        ("true", True), ("201 characters", "x" * 201), ("10 KB", "y" * 10000),
        ("a control character", "a\u0001b"), ("a newline", "a\nb"), ("a DEL", "a\u007fb"),
    ]
    for what, path, good, fields, may_be_empty in resources:
        for f in fields:
            values = list(bad_values)
            if f not in may_be_empty:
                values.append(("empty", ""))
            for vname, v in values:
                if f == "password" and vname in ("a control character", "a newline", "a DEL"):
                    continue  # a password is bytes: any are fine within its length
                body = good()
                body[f] = v
                refused(api, st, "%s.%s %s" % (what, f, vname), "POST", path, body, 400, admin)
        # the same through PUT on an existing row
        r = api.req("POST", path, good(), token=admin)
        if not check(r.status == 201, "%s: a good one → 201 (%r)" % (what, r)):
            continue
        item = "%s/%d" % (path, r.json["id"])
        for f in fields:
            refused(api, st, "PUT %s.%s a number" % (what, f), "PUT", item, {f: 7}, 400, admin)
            if f not in may_be_empty and f != "password":
                refused(api, st, "PUT %s.%s empty" % (what, f), "PUT", item, {f: ""}, 400, admin)
            refused(api, st, "PUT %s.%s 201 characters" % (what, f), "PUT", item,
                    {f: "z" * 201}, 400, admin)
        for f in fields:
            if f in ("username", "role", "password"):
                continue
            r = api.req("PUT", item, {f: EVIL}, token=admin)
            r2 = api.req("GET", item, token=admin)
            check(r.status == 200 and r2.status == 200 and r2.json.get(f) == EVIL,
                  "%s.%s: SQL meta-characters round-trip" % (what, f))
            uni = "课 — Ünïcödé 😀"
            r = api.req("PUT", item, {f: uni}, token=admin)
            r2 = api.req("GET", item, token=admin)
            check(r.status == 200 and r2.json.get(f) == uni, "%s.%s: Unicode round-trips" % (what, f))
            r = api.req("PUT", item, {f: "é" * 200}, token=admin)
            check(r.status == 200, "%s.%s: 200 characters (400 bytes) fit" % (what, f))
        # malformed bodies
        for bname, raw in (("malformed JSON", b'{"name": '), ("a JSON array", b"[1,2]"),
                           ("a JSON string", b'"x"'), ("empty", b""),
                           ("trailing garbage", b'{"name":"x"} x'),
                           ("invalid UTF-8", b'{"name":"\xff\xfe"}'),
                           ("a NUL escape", b'{"name":"a\\u0000b"}')):
            refused(api, st, "%s POST %s" % (what, bname), "POST", path, raw, 400, admin)
            refused(api, st, "%s PUT %s" % (what, bname), "PUT", item, raw, 400, admin)
        dup = json.dumps(good())[:-1] + ', "%s": "again"}' % fields[0]
        refused(api, st, "%s duplicate key" % what, "POST", path, dup, 400, admin)
        body = good()
        body["colour"] = "blue"
        r = refused(api, st, "%s unknown field" % what, "POST", path, body, 400, admin)
        check("colour" in r.msg(), "%s: the unknown field is named (%s)" % (what, r.msg()))
        big = good()
        big[fields[0]] = "w" * (70 * 1024)
        refused(api, st, "%s body over 64 KiB" % what, "POST", path, big, 413, admin)
        refused(api, st, "%s PUT body over 64 KiB" % what, "PUT", item, big, 413, admin)
        r = api.req("DELETE", item, token=admin)
        check(r.status == 204, "%s: DELETE the good one" % what)

    log("login bodies")
    for what, body in (("username a number", {"username": 1, "password": "x" * 10}),
                       ("password missing", {"username": "admin"}),
                       ("unknown field", {"username": "admin", "password": "x" * 10, "otp": 1}),
                       ("an array", [1])):
        r = api.req("POST", "/api/v1/login", body)
        check(r.status == 400 and not (r.json or {}).get("token"), "login %s → 400" % what)
    r = api.req("POST", "/api/v1/login", b'{"username":')
    check(r.status == 400 and r.code() == "bad_json", "login malformed JSON → 400 bad_json")


def test_ids_and_methods(api, admin):
    log("ids and methods")
    for p in ("/api/v1/schools/abc", "/api/v1/schools/0", "/api/v1/schools/-1",
              "/api/v1/schools/01", "/api/v1/schools/1.0", "/api/v1/schools/%2B1",
              "/api/v1/schools/99999999999999999999", "/api/v1/lessons/1x",
              "/api/v1/lessons/999999", "/api/v1/lessons/999999/links",
              "/api/v1/lessons/1/nope", "/api/v1/users/9223372036854775808",
              "/api/v1/calendar/teacher/abc.ics", "/api/v1/calendar/teacher/1",
              "/api/v1/calendar/room/1.ics", "/api/v1/classrooms/1/2/3/4/5"):
        r = api.req("GET", p, token=admin)
        check(r.status == 404, "GET %s → 404 (%d)" % (p, r.status))
    for method, p, allow in (("DELETE", "/api/v1/schools", "POST"),
                             ("POST", "/api/v1/schools/1", "PUT"),
                             ("PATCH", "/api/v1/lessons/1", "DELETE"),
                             ("GET", "/api/v1/login", "POST"),
                             ("PUT", "/api/v1/me", "GET"),
                             ("POST", "/api/v1/live", "GET"),
                             ("DELETE", "/api/v1/audit", "GET"),
                             ("POST", "/api/v1/lessons/1/links", "GET"),
                             ("DELETE", "/api/v1/calendar/teacher/1.ics", "GET")):
        r = api.req(method, p, "{}" if method in ("POST", "PUT", "PATCH") else None, token=admin)
        check(r.status == 405 and allow in (r.headers.get("allow") or ""),
              "%s %s → 405 with Allow (%d, %s)" % (method, p, r.status, r.headers.get("allow")))


def test_links(api, admin, users, lid, rooms):
    log("join links")
    r = api.req("GET", "/api/v1/lessons/%d/links" % lid, token=admin)
    if not check(r.status == 200, "GET links → 200 (%r)" % r):
        return
    v = r.json
    room = "lesson-%d" % lid
    now = time.time()
    t = v["teacher"]
    check(t["url"].startswith("/teacher.html?room=%s&token=" % room), "teacher url")
    check(t["url"].endswith(t["token"]), "the teacher url carries its token")
    p = jwt_payload(t["token"])
    check(p.get("room") == room and p.get("role") == "teacher" and
          p.get("sub") == "u%d" % users["wangli"]["id"] and p.get("name") == "Wang Li",
          "teacher token: room, role, sub, name (%s)" % p)
    # the lesson is in 2030: the link is capped at 30 days
    check(abs(p["exp"] - (now + 30 * 86400)) < 120 and v["expires_ms"] == p["exp"] * 1000,
          "far lessons: links expire after 30 days at most")
    names = {"Grade 3 A": rooms["Grade 3 A"], "Grade 3 B": rooms["Grade 3 B"]}
    check(len(v["classrooms"]) == 2, "one link per classroom")
    for c in v["classrooms"]:
        cp = jwt_payload(c["token"])
        check(c["name"] in names and c["classroom"] == names[c["name"]], "classroom %s" % c["name"])
        check(c["url"] == "/classroom.html?room=%s&name=%s&token=%s"
              % (room, urllib.parse.quote(c["name"], safe=""), c["token"]),
              "classroom url with the name encoded (%s)" % c["url"][:80])
        check(cp.get("room") == room and cp.get("role") == "classroom" and
              cp.get("sub") == "link:%d" % c["classroom"] and cp.get("classroom") == c["classroom"],
              "classroom token: room, role, sub, classroom (%s)" % cp)
        r = api.req("GET", "/api/v1/lessons", token=c["token"])
        check(r.status == 403, "a classroom link cannot read the schedule")
    wang = login(api, "wangli", "new-password-1")
    r = api.req("GET", "/api/v1/lessons/%d/links" % lid, token=wang)
    check(r.status == 200, "the lesson's own teacher gets its links")
    zhao = login(api, "zhaomin", "pw-zhaomin-123")
    r = api.req("GET", "/api/v1/lessons/%d/links" % lid, token=zhao)
    check(r.status == 403, "another teacher does not")
    r = api.req("GET", "/api/v1/lessons/999999/links", token=zhao)
    check(r.status == 403, "... nor learns which lessons exist")
    planner = login(api, "planner", "pw-planner-123")
    r = api.req("GET", "/api/v1/lessons/%d/links" % lid, token=planner)
    check(r.status == 200, "a scheduler gets the links")
    watcher = login(api, "watcher", "pw-watcher-123")
    r = api.req("GET", "/api/v1/lessons/%d/links" % lid, token=watcher)
    check(r.status == 403, "an observer does not")


def test_live(api, admin, users, rooms):
    log("live now, and links of a near lesson")
    now = int(time.time() * 1000)
    liu = users["liufang"]["id"]
    start = now + 5 * 60000  # inside the 10-minute early window
    r = api.req("POST", "/api/v1/lessons",
                lesson_body("Live One", liu, start, 60, (rooms["Village 2"],)), token=admin)
    if not check(r.status == 201, "a lesson starting in 5 minutes (%r)" % r):
        return
    live_id = r.json["id"]
    r = api.req("POST", "/api/v1/lessons",
                lesson_body("Later", liu, now + 3 * HOUR, 40, (rooms["Village 2"],)), token=admin)
    later = r.json["id"] if r.status == 201 else None
    r = api.req("GET", "/api/v1/live", token=admin)
    if check(r.status == 200, "GET live → 200"):
        items = r.json["live"]
        ids = [i.get("id") for i in items]
        check(live_id in ids and later not in ids, "live lists the open lesson only (%s)" % ids)
        it = next((i for i in items if i.get("id") == live_id), {})
        check(it.get("room") == "lesson-%d" % live_id and it.get("title") == "Live One" and
              it.get("occurrence_start_ms") == start, "live item: room, title, occurrence")
        check(it.get("participants") == 0 and "recording" in it, "live item: participants, recording")
    r = api.req("GET", "/api/v1/lessons?from=%d&to=%d" % (now - HOUR, now + 4 * HOUR), token=admin)
    flags = {o["id"]: o["live"] for o in r.json["lessons"]} if r.status == 200 else {}
    check(flags.get(live_id) is True and flags.get(later) is False, "lessons: live flags")
    r = api.req("GET", "/api/v1/lessons/%d/links" % live_id, token=admin)
    if check(r.status == 200, "links of the near lesson"):
        exp = jwt_payload(r.json["teacher"]["token"])["exp"]
        want = (start + 60 * 60000) // 1000 + 900
        check(abs(exp - want) <= 1, "near lesson: links expire at its end + overtime (%d vs %d)"
              % (exp, want))
    for i in (live_id, later):
        api.req("DELETE", "/api/v1/lessons/%d" % i, token=admin)


def test_ics(api, admin, users, rooms):
    log("iCalendar")
    wang = users["wangli"]["id"]
    r = api.req("GET", "/api/v1/calendar/teacher/%d.ics" % wang, token=admin)
    if not check(r.status == 200, "teacher calendar → 200 (%r)" % r):
        return
    ct = r.headers.get("content-type", "")
    check(ct.startswith("text/calendar") and "utf-8" in ct.lower(), "text/calendar; charset=utf-8")
    text = r.body.decode("utf-8")
    check(text.startswith("BEGIN:VCALENDAR\r\n") and text.rstrip("\r\n").endswith("END:VCALENDAR"),
          "BEGIN/END:VCALENDAR")
    check("\n" not in text.replace("\r\n", ""), "every line ends in CRLF")
    check("RRULE:FREQ=WEEKLY" in text, "RRULE for the weekly lesson")
    check("Fractions II" in text, "the lesson's title")
    check("X-WR-CALNAME:ClassRelay — Wang Li" in text.replace("\r\n ", ""), "X-WR-CALNAME")
    check(text.count("BEGIN:VEVENT") == 1, "one VEVENT (the follow-up was deleted)")
    r = api.req("GET", "/api/v1/calendar/teacher/%d.ics?token=%s" % (wang, admin))
    check(r.status == 200 and b"BEGIN:VCALENDAR" in r.body, "calendar with ?token= (calendar apps)")
    r = api.req("GET", "/api/v1/calendar/classroom/%d.ics" % rooms["Grade 3 B"], token=admin)
    check(r.status == 200 and b"Fractions II" in r.body, "classroom calendar")
    r = api.req("GET", "/api/v1/calendar/teacher/%d.ics" % users["planner"]["id"], token=admin)
    check(r.status == 404, "a scheduler has no teacher calendar")
    r = api.req("GET", "/api/v1/calendar/classroom/999999.ics", token=admin)
    check(r.status == 404, "unknown classroom calendar → 404")
    r = api.req("GET", "/api/v1/calendar/teacher/%d.ics" % wang)
    check(r.status == 401, "calendar without a token → 401")


def test_audit(api, admin):
    log("audit log")
    r = api.req("GET", "/api/v1/audit?limit=1000", token=admin)
    if not check(r.status == 200, "GET audit → 200"):
        return
    entries = r.json["entries"]
    actions = {e["action"] for e in entries}
    for a in ("login", "login_failed", "school_create", "school_update", "school_delete",
              "classroom_create", "classroom_delete", "user_create", "user_update", "user_delete",
              "lesson_create", "lesson_update", "lesson_delete", "links"):
        check(a in actions, "audit has %s" % a)
    ats = [e["at_ms"] for e in entries]
    check(ats == sorted(ats, reverse=True), "newest first")
    lc = [e for e in entries if e["action"] == "lesson_create"]
    check(any(re.match(r'lesson \d+ "Fractions"', e["detail"]) for e in lc),
          "lesson_create detail: lesson <id> \"title\"")
    check(all((e.get("room") or "").startswith("lesson-") for e in lc), "lesson entries name the room")
    r = api.req("GET", "/api/v1/audit?action=lesson_create", token=admin)
    check(r.status == 200 and r.json["entries"] and
          all(e["action"] == "lesson_create" for e in r.json["entries"]), "?action= filters")
    r = api.req("GET", "/api/v1/audit?limit=2", token=admin)
    check(r.status == 200 and len(r.json["entries"]) == 2, "?limit=2")
    for q in ("limit=0", "limit=1001", "limit=x", "from=abc"):
        r = api.req("GET", "/api/v1/audit?" + q, token=admin)
        check(r.status == 400, "audit ?%s → 400" % q)
    fails = [e for e in entries if e["action"] == "login_failed"]
    check(any("wangli" in e["detail"] for e in fails), "login_failed names the username")


def test_tokens(api, st, srv, binary, admin):
    log("tokens: tampered, foreign, none, expired; roles without the right")
    with open(os.path.join(srv.data, "secret.key"), "rb") as f:
        key = f.read()
    h, p, s = admin.split(".")
    payload = base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))
    flipped = payload.replace(b'"admin"', b'"admio"') if b'"admin"' in payload else payload[:-2] + b"0}"
    bad = [("a payload character flipped", h + "." + b64url(flipped) + "." + s),
           ("the last signature character changed", admin[:-1] + ("A" if admin[-1] != "A" else "B")),
           ("another key", jwt_sign(b"k" * 32, {"sub": "cli", "role": "admin",
                                                "iat": int(time.time()), "exp": int(time.time()) + 600})),
           ("alg none", b64url(b'{"alg":"none","typ":"JWT"}') + "." + p + "."),
           ("expired 2 minutes ago", jwt_sign(key, {"sub": "cli", "role": "admin",
                                                    "iat": int(time.time()) - 3600,
                                                    "exp": int(time.time()) - 120})),
           ("garbage", "not.a.token"),
           ("a user that does not exist", jwt_sign(key, {"sub": "u999999", "role": "admin",
                                                         "iat": int(time.time()),
                                                         "exp": int(time.time()) + 600}))]
    for what, tok in bad:
        refused(api, st, "token: " + what, "POST", "/api/v1/schools", {"name": "Nope"}, 401, tok,
                "unauthorized")
    r = api.req("GET", "/api/v1/schools", token=jwt_sign(key, {
        "sub": "cli", "role": "admin", "iat": int(time.time()), "exp": int(time.time()) + 600}))
    check(r.status == 200, "a token signed with the server's key is accepted (control)")
    r = api.req("GET", "/api/v1/schools", token=jwt_sign(key, {
        "sub": "cli", "role": "admin", "iat": int(time.time()) - 60, "exp": int(time.time()) - 5}))
    check(r.status == 200, "expired 5 s ago: within the 30 s leeway")
    short = cli_token(binary, srv.data, "admin", ttl=1)
    r = api.req("GET", "/api/v1/schools", token=short)
    check(r.status == 200, "--ttl 1 token works at once")
    r = api.req("GET", "/api/v1/schools", token="Bearer-less")
    check(r.status == 401, "a malformed token → 401")

    log("roles without the right → 403; no token → 401")
    toks = {role: cli_token(binary, srv.data, role) for role in
            ("scheduler", "teacher", "researcher", "observer")}
    toks["classroom"] = cli_token(binary, srv.data, "classroom", room="lesson-1")
    toks["teacher-room"] = cli_token(binary, srv.data, "teacher", room="lesson-1")
    cases = [
        ("observer", "POST", "/api/v1/schools", {"name": "X"}),
        ("teacher", "POST", "/api/v1/lessons", {"title": "X"}),
        ("researcher", "PUT", "/api/v1/schools/1", {"name": "X"}),
        ("scheduler", "GET", "/api/v1/users", None),
        ("scheduler", "POST", "/api/v1/users", {"username": "sneaky", "password": "longenough",
                                                 "name": "S", "role": "admin"}),
        ("scheduler", "GET", "/api/v1/audit", None),
        ("teacher", "GET", "/api/v1/users?role=teacher", None),
        ("researcher", "GET", "/api/v1/users", None),
        ("classroom", "GET", "/api/v1/schools", None),
        ("classroom", "GET", "/api/v1/live", None),
        ("teacher-room", "GET", "/api/v1/lessons", None),
        ("observer", "DELETE", "/api/v1/classrooms/1", None),
        ("teacher", "GET", "/api/v1/audit", None),
    ]
    for role, method, path, body in cases:
        refused(api, st, "%s %s %s" % (role, method, path), method, path, body, 403, toks[role],
                "forbidden")
    for role, path in (("scheduler", "/api/v1/users?role=teacher"), ("teacher", "/api/v1/lessons"),
                       ("researcher", "/api/v1/schools"), ("observer", "/api/v1/live"),
                       ("teacher", "/api/v1/classrooms")):
        r = api.req("GET", path, token=toks[role])
        check(r.status == 200, "%s may GET %s" % (role, path))
    r = api.req("GET", "/api/v1/me", token=toks["classroom"])
    check(r.status == 200 and r.json["room"] == "lesson-1", "a classroom token may GET /me")
    for method, path in (("GET", "/api/v1/schools"), ("POST", "/api/v1/schools"),
                         ("GET", "/api/v1/classrooms"), ("GET", "/api/v1/users"),
                         ("GET", "/api/v1/lessons"), ("POST", "/api/v1/lessons"),
                         ("GET", "/api/v1/lessons/1"), ("DELETE", "/api/v1/lessons/1"),
                         ("GET", "/api/v1/lessons/1/links"), ("GET", "/api/v1/live"),
                         ("GET", "/api/v1/audit"), ("GET", "/api/v1/calendar/teacher/1.ics")):
        refused(api, st, "no token: %s %s" % (method, path), method, path,
                {} if method == "POST" else None, 401, None, "unauthorized")


def test_lockout(api):
    log("login: same answer for unknown users, lockout after 10 failures")
    r1 = api.req("POST", "/api/v1/login", {"username": "zhaomin", "password": "wrong-pass"})
    r2 = api.req("POST", "/api/v1/login", {"username": "nobody-here", "password": "wrong-pass"})
    check(r1.status == 401 and r2.status == 401 and r1.body == r2.body,
          "unknown user and wrong password: the same 401 (%r / %r)" % (r1, r2))
    check("wrong username or password" in r1.msg(), "message: wrong username or password")
    times = {"known": [], "unknown": []}
    for _ in range(3):
        for k, u in (("known", "liufang"), ("unknown", "ghost-%d" % len(times["unknown"]))):
            t0 = time.monotonic()
            api.req("POST", "/api/v1/login", {"username": u, "password": "wrong-pass"})
            times[k].append(time.monotonic() - t0)
    tk, tu = sorted(times["known"])[1], sorted(times["unknown"])[1]
    check(tu > tk * 0.4 and tu < tk * 2.5,
          "an unknown username costs about what a wrong password does (%.0f vs %.0f ms)"
          % (tu * 1000, tk * 1000))
    # zhaomin: 1 failure so far
    for i in range(9):
        r = api.req("POST", "/api/v1/login", {"username": "zhaomin", "password": "wrong-%d" % i})
        if r.status != 401:
            break
    check(r.status == 401, "failures 2..10 → 401")
    r = api.req("POST", "/api/v1/login", {"username": "zhaomin", "password": "wrong-x"})
    check(r.status == 429, "11th attempt → 429 (%r)" % r)
    ra = r.headers.get("retry-after", "")
    check(ra.isdigit() and 0 < int(ra) <= 600, "Retry-After in seconds (%s)" % ra)
    r = api.req("POST", "/api/v1/login", {"username": "zhaomin", "password": "pw-zhaomin-123"})
    check(r.status == 429 and not (r.json or {}).get("token"),
          "locked: even the right password → 429")
    r = api.req("POST", "/api/v1/login", {"username": "liufang", "password": "pw-liufang-123"})
    check(r.status == 200, "another username is not locked")
    for i in range(10):
        api.req("POST", "/api/v1/login", {"username": "phantom", "password": "x%d" % i})
    r = api.req("POST", "/api/v1/login", {"username": "phantom", "password": "y"})
    check(r.status == 429, "an unknown username locks the same way")


def main():
    binary = find_classrelay(sys.argv[1] if len(sys.argv) > 1 else None)
    srv = Server(binary, extra_args=["--no-record"], name="api_schedule").start()
    api = Api(srv)
    try:
        admin = cli_token(binary, srv.data, "admin", ttl=7200)
        st = State(api, admin)
        session = test_first_start(api, srv, binary)
        north, _south, rooms = test_schools_classrooms(api, st, admin)
        users = test_users(api, st, admin, rooms)
        test_self(api, st, admin, login_again(api, srv) if session else None)
        lid = test_lessons(api, st, admin, users, rooms)
        test_bad_lessons(api, st, admin, users, rooms)
        test_text_fields(api, st, admin, users, rooms, north)
        test_ids_and_methods(api, admin)
        if lid:
            test_links(api, admin, users, lid, rooms)
        test_live(api, admin, users, rooms)
        test_ics(api, admin, users, rooms)
        test_tokens(api, st, srv, binary, admin)
        test_lockout(api)
        test_audit(api, admin)
        check(srv.alive(), "the server is still running")
    except Exception as e:  # report, do not hang ctest
        import traceback
        traceback.print_exc()
        failures.append("exception: %r" % e)
        print(srv.log_tail())
    finally:
        srv.stop()
    with open(srv.logpath, "rb") as f:
        bad = [l for l in f.read().decode("utf-8", "replace").splitlines()
               if "runtime error" in l or "Sanitizer" in l]
    check(not bad, "no sanitizer reports in the server log (%s)" % bad[:3])
    print("%d checks, %d failed" % (checks[0], len(failures)))
    for f in failures:
        print("   FAIL", f)
    print("RESULT:", "FAIL" if failures else "PASS", flush=True)
    return 1 if failures else 0


def login_again(api, srv):
    with open(srv.logpath, "rb") as f:
        m = re.search(rb"first start: log in at \S+ as admin / (\S+)", f.read())
    if not m:
        return None
    r = api.req("POST", "/api/v1/login", {"username": "admin", "password": m.group(1).decode()})
    return r.json["token"] if r.status == 200 else None


if __name__ == "__main__":
    sys.exit(main())
