#!/usr/bin/python3
"""The recordings REST API and replay files against a real server (docs/recording.md).

Starts `classrelay serve` on a free port with a fresh data dir. Recordings come from the
recorder, not from the API, so once the server has created DATA/classrelay.db the test
writes rows into that same SQLite file (python's sqlite3 module) and lays out recording
folders DATA/recordings/<id>/vod/ by hand, then checks: list and its filters (room,
teacher, q, state, from/to, limit/offset, bad values → 400), GET of one recording (REC
shape, urls derived from info.json), notes (POST → 201 + Location, GET ordered by at_ms,
DELETE → 204, malformed JSON and missing fields → 400 with nothing stored, unknown ids →
404, wrong methods → 405), SQL meta-characters stored and returned verbatim, replay files
(MIME types, caching, Range: a-b, a-, -n → 206 with exactly those bytes, past the end →
416, HEAD), path traversal (plain and percent-encoded) → 404, DELETE of a recording in
progress → 409, DELETE of a finished one → 204 with its folder gone.

Usage: rest_recordings.py [path/to/classrelay]; ends with RESULT: PASS or RESULT: FAIL.
"""
import http.client as httpclient
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import peers  # noqa: E402
from peers import Server, find_classrelay, http, log  # noqa: E402

EVIL = "'); DROP TABLE recordings;--"
from peers import check, failures  # noqa: E402


def jget(srv, path):
    r = http("GET", srv.base + path)
    try:
        return r.status, json.loads(r.body) if r.body else None
    except ValueError:
        return r.status, None


def raw(srv, method, path, headers=None, body=None):
    """A request with the path sent exactly as given (no client-side normalisation)."""
    c = httpclient.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    c.putrequest(method, path, skip_accept_encoding=True)
    headers = dict(headers or {})
    if peers.AUTH_TOKEN:
        headers.setdefault("Authorization", "Bearer " + peers.AUTH_TOKEN)
    for k, v in headers.items():
        c.putheader(k, v)
    if body is not None:
        c.putheader("Content-Length", str(len(body)))
    c.endheaders(body)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data


def wait_for_db(srv):
    db = os.path.join(srv.data, "classrelay.db")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if os.path.exists(db):
            with sqlite3.connect(db) as c:
                if c.execute("PRAGMA user_version").fetchone()[0] >= 1:
                    return db
        time.sleep(0.1)
    raise RuntimeError("the server did not create " + db)


INFO = {"duration_ms": 60000, "transcoded": True, "hls": "master.m3u8", "mp4": "lesson.mp4",
        "renditions": [{"name": "hi", "width": 1280, "height": 720, "bandwidth": 1500000,
                        "playlist": "hi/index.m3u8"}],
        "chapters": [{"at_ms": 0, "title": "Lesson starts"}]}


def seed(srv, db):
    rows = [  # id, room, teacher, title, started_ms, state
        ("20260105-090000-math-0a1b", "math", "Ms Li", "Fractions", 1767603600000, "ready"),
        ("20260105-100000-art-0c2d", "art", "Mr Wu", "Colours", 1767607200000, "ready"),
        ("20260105-110000-evil-0e3f", EVIL, EVIL, EVIL, 1767610800000, "failed"),
        ("20260105-120000-music-0f4a", "music", "Ms Ko", "Songs", 1767614400000, "recording"),
    ]
    with sqlite3.connect(db) as c:
        for r in rows:
            c.execute("INSERT INTO recordings (id, room, teacher, title, started_ms, state, "
                      "progress, vod_json, duration_ms, size_bytes, tracks_json) "
                      "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                      r + (100 if r[5] == "ready" else 0,
                           json.dumps(INFO) if r[5] == "ready" else None,
                           INFO["duration_ms"] if r[5] == "ready" else None, 4096,
                           json.dumps([{"kind": "video", "source": "camera", "codec": "VP8"}])))
    vod = os.path.join(srv.data, "recordings", rows[0][0], "vod")
    os.makedirs(os.path.join(vod, "hi"))
    blob = bytes((i * 7 + 3) % 256 for i in range(200000))
    with open(os.path.join(vod, "lesson.mp4"), "wb") as f:
        f.write(blob)
    with open(os.path.join(vod, "master.m3u8"), "w") as f:
        f.write("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1500000,RESOLUTION=1280x720\n"
                "hi/index.m3u8\n")
    with open(os.path.join(vod, "hi", "seg-00001.ts"), "wb") as f:
        f.write(b"\x47" * 188 * 10)
    with open(os.path.join(vod, "info.json"), "w") as f:
        json.dump(INFO, f)
    with open(os.path.join(srv.data, "secret.txt"), "w") as f:
        f.write("not for the web")
    return [r[0] for r in rows], blob


def test_list(srv, ids):
    log("list and filters")
    st, v = jget(srv, "/api/v1/recordings")
    check(st == 200 and v["total"] == 4 and len(v["recordings"]) == 4, "list: 4 recordings")
    check([r["id"] for r in v["recordings"]] == ids[::-1], "list: newest first")
    for q, n in [("room=math", 1), ("teacher=Mr%20Wu", 1), ("q=fraction", 1), ("state=ready", 2),
                 ("from=1767607200000&to=1767614400000", 2), ("limit=1&offset=1", 4),
                 ("room=math&teacher=Mr%20Wu", 0), ("room=", 4),
                 ("q=" + "%27%29%3B%20DROP%20TABLE%20recordings%3B--", 1)]:
        st, v = jget(srv, "/api/v1/recordings?" + q)
        check(st == 200 and v["total"] == n, "list ?%s: total %d (got %s)"
              % (q, n, v and v.get("total")))
    st, v = jget(srv, "/api/v1/recordings?limit=1&offset=1")
    check(len(v["recordings"]) == 1 and v["recordings"][0]["id"] == ids[2], "list: paging")
    for q in ["limit=0", "limit=501", "limit=x", "offset=-1", "from=abc", "state=paused",
              "to=12x"]:
        st, v = jget(srv, "/api/v1/recordings?" + q)
        check(st == 400 and v["error"]["code"] == "bad_request", "list ?%s → 400" % q)
    r = http("POST", srv.base + "/api/v1/recordings", "{}", "application/json")
    check(r.status == 405 and "GET" in (r.header("Allow") or ""), "POST list → 405 with Allow")


def test_get(srv, ids):
    log("one recording")
    st, rec = jget(srv, "/api/v1/recordings/" + ids[0])
    check(st == 200, "GET recording → 200")
    keys = {"id", "room", "teacher", "title", "started_ms", "ended_ms", "duration_ms", "state",
            "progress", "error", "size_bytes", "tracks", "renditions", "hls", "mp4", "chapters"}
    check(rec is not None and keys <= set(rec), "REC has every field of docs/recording.md")
    check(rec["hls"] == "/recordings/%s/master.m3u8" % ids[0], "hls url")
    check(rec["mp4"] == "/recordings/%s/lesson.mp4" % ids[0], "mp4 url")
    check(rec["renditions"] == [{"name": "hi", "width": 1280, "height": 720,
                                 "bandwidth": 1500000,
                                 "url": "/recordings/%s/hi/index.m3u8" % ids[0]}], "renditions")
    check(rec["duration_ms"] is None or isinstance(rec["duration_ms"], int), "duration_ms type")
    st, rec = jget(srv, "/api/v1/recordings/" + ids[2])
    check(st == 200 and rec["title"] == EVIL and rec["room"] == EVIL and rec["teacher"] == EVIL,
          "SQL meta-characters come back verbatim")
    check(rec["hls"] is None and rec["renditions"] == [], "no vod yet: hls null, no renditions")
    for p in ["/api/v1/recordings/nope", "/api/v1/recordings/a.b", "/api/v1/recordings/%27x",
              "/api/v1/recordings/" + ids[0] + "/other", "/api/v1/recordings/" + ids[0] + "/notes/x"]:
        st, v = jget(srv, p)
        check(st == 404 and v["error"]["code"] == "not_found", "GET %s → 404" % p)
    r = http("PATCH", srv.base + "/api/v1/recordings/" + ids[0], "{}", "application/json")
    check(r.status == 405, "PATCH recording → 405")


def test_notes(srv, db, ids):
    log("notes")
    base = srv.base + "/api/v1/recordings/" + ids[0] + "/notes"
    made = []
    for body in [{"kind": "bookmark", "at_ms": 30000, "text": "good question", "author": "r1"},
                 {"kind": "chapter", "at_ms": 15000, "text": "Group work", "author": "r1"},
                 {"kind": "comment", "at_ms": 1000, "text": EVIL, "author": EVIL[:20]},
                 {"at_ms": 2000, "text": "李老师 🙂"}]:
        r = http("POST", base, json.dumps(body), "application/json")
        note = json.loads(r.body) if r.status == 201 else {}
        ok = check(r.status == 201 and note.get("text") == body["text"] and
                   note.get("kind") == body.get("kind", "comment") and
                   note.get("at_ms") == body["at_ms"], "POST note %r → 201" % body["text"])
        if ok:
            check(r.header("Location") == "/api/v1/recordings/%s/notes/%d"
                  % (ids[0], note["id"]), "Location of the note")
            made.append(note)
    st, v = jget(srv, "/api/v1/recordings/" + ids[0] + "/notes")
    ats = [n["at_ms"] for n in v["notes"]]
    check(st == 200 and ats == [1000, 2000, 15000, 30000], "notes ordered by at_ms")
    check(any(n["text"] == EVIL and n["author"] == EVIL[:20] for n in v["notes"]),
          "a note's SQL meta-characters stored verbatim")
    st, rec = jget(srv, "/api/v1/recordings/" + ids[0])
    check([c["title"] for c in rec["chapters"]] == ["Lesson starts", "Group work"],
          "chapter notes among the chapters")

    def count():
        with sqlite3.connect(db) as c:
            return c.execute("SELECT count(*) FROM notes").fetchone()[0]
    before = count()
    bad = [("{not json", "bad_json"), ("", "bad_json"), ("[1,2]", "bad_json"),
           ('{"kind":"comment","text":"x"}', "bad_request"),
           ('{"kind":"comment","at_ms":"12","text":"x"}', "bad_request"),
           ('{"kind":"comment","at_ms":-1,"text":"x"}', "bad_request"),
           ('{"kind":"rant","at_ms":1,"text":"x"}', "bad_request"),
           ('{"kind":"comment","at_ms":1}', "bad_request"),
           ('{"kind":"comment","at_ms":1,"text":""}', "bad_request"),
           ('{"kind":"comment","at_ms":1,"text":"%s"}' % ("a" * 2001), "bad_request"),
           ('{"kind":"comment","at_ms":1,"text":"x","author":"%s"}' % ("a" * 65), "bad_request"),
           ('{"kind":"comment","at_ms":1,"text":"x","author":7}', "bad_request"),
           ('{"kind":"comment","at_ms":99999999,"text":"far past the end"}', "bad_request")]
    for body, code in bad:
        r = http("POST", base, body, "application/json")
        try:
            got = json.loads(r.body)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            got = None
        check(r.status == 400 and got == code, "POST %s → 400 %s" % (body[:40], code))
    check(count() == before, "nothing stored by the refused notes")
    r = http("POST", srv.base + "/api/v1/recordings/nope/notes",
             '{"kind":"comment","at_ms":1,"text":"x"}', "application/json")
    check(r.status == 404, "POST note to an unknown recording → 404")
    st, _ = jget(srv, "/api/v1/recordings/nope/notes")
    check(st == 404, "GET notes of an unknown recording → 404")
    r = http("PUT", base, "{}", "application/json")
    check(r.status == 405, "PUT notes → 405")
    if made:
        nid = made[0]["id"]
        r = http("GET", base + "/%d" % nid)
        check(r.status == 405 and "DELETE" in (r.header("Allow") or ""), "GET one note → 405")
        r = http("DELETE", base + "/%d" % nid)
        check(r.status == 204, "DELETE note → 204")
        r = http("DELETE", base + "/%d" % nid)
        check(r.status == 404, "DELETE it again → 404")
        r = http("DELETE", srv.base + "/api/v1/recordings/%s/notes/%d" % (ids[1], made[1]["id"]))
        check(r.status == 404, "DELETE a note through another recording → 404")
        st, v = jget(srv, "/api/v1/recordings/" + ids[0] + "/notes")
        check(len(v["notes"]) == 3, "3 notes left")


def test_files(srv, ids, blob):
    log("replay files")
    p = "/recordings/%s/" % ids[0]
    st, h, body = raw(srv, "GET", p + "lesson.mp4")
    check(st == 200 and body == blob, "whole MP4 (%d bytes)" % len(blob))
    check(h.get("content-type") == "video/mp4" and h.get("accept-ranges") == "bytes",
          "video/mp4, Accept-Ranges: bytes")
    for rng, a, b in [("bytes=0-99", 0, 99), ("bytes=1000-", 1000, len(blob) - 1),
                      ("bytes=-500", len(blob) - 500, len(blob) - 1),
                      ("bytes=199990-300000", 199990, len(blob) - 1),
                      ("bytes=-999999", 0, len(blob) - 1), ("bytes=12345-12345", 12345, 12345)]:
        st, h, body = raw(srv, "GET", p + "lesson.mp4", {"Range": rng})
        check(st == 206 and body == blob[a:b + 1] and
              h.get("content-range") == "bytes %d-%d/%d" % (a, b, len(blob)) and
              h.get("content-length") == str(b - a + 1),
              "Range %s → 206, bytes %d-%d exactly" % (rng, a, b))
    for rng in ["bytes=200000-", "bytes=999999-1000000", "bytes=-0"]:
        st, h, _ = raw(srv, "GET", p + "lesson.mp4", {"Range": rng})
        check(st == 416 and h.get("content-range") == "bytes */%d" % len(blob),
              "Range %s → 416 with Content-Range */size" % rng)
    for rng in ["bytes=0-1,5-6", "items=0-1", "bytes=abc"]:
        st, _, body = raw(srv, "GET", p + "lesson.mp4", {"Range": rng})
        check(st == 200 and len(body) == len(blob), "Range %s ignored → 200 whole" % rng)
    st, h, body = raw(srv, "HEAD", p + "lesson.mp4")
    check(st == 200 and body == b"" and h.get("content-length") == str(len(blob)),
          "HEAD: length, no body")
    st, h, body = raw(srv, "GET", p + "master.m3u8")
    check(st == 200 and body.startswith(b"#EXTM3U") and
          h.get("content-type") == "application/vnd.apple.mpegurl" and
          h.get("cache-control") == "no-cache", "playlist: MIME type, no-cache")
    st, h, body = raw(srv, "GET", p + "hi/seg-00001.ts")
    check(st == 200 and len(body) == 1880 and h.get("content-type") == "video/mp2t" and
          "max-age" in h.get("cache-control", ""), "segment: video/mp2t, cacheable")
    st, h, _ = raw(srv, "GET", p + "info.json")
    check(st == 200 and h.get("content-type") == "application/json", "info.json")
    for bad in ["/recordings/../../etc/passwd", p + "../../../etc/passwd",
                p + "%2e%2e/%2e%2e/%2e%2e/classrelay.db", p + "..%2f..%2f..%2fsecret.txt",
                "/recordings/%2e%2e/secret.txt", "/recordings/..%2f..%2fsecret.txt",
                p + "hi/../../../../secret.txt", p + "%2e%2e%2fhi%2fseg-00001.ts", p,
                p + "hi", p + "hi/", p + "nope.mp4", "/recordings/nope/lesson.mp4",
                p + ".hidden", "/recordings/" + ids[0],
                "/recordings/%s/vod/lesson.mp4" % ids[0]]:
        st, _, body = raw(srv, "GET", bad)
        check(st == 404 and b"not for the web" not in body and b"SQLite" not in body,
              "GET %s → 404" % bad)
    st, _, _ = raw(srv, "POST", p + "lesson.mp4", body=b"x")
    check(st in (404, 405), "POST to a replay file refused (%d)" % st)


def test_delete(srv, ids):
    log("delete")
    folder = os.path.join(srv.data, "recordings", ids[0])
    r = http("DELETE", srv.base + "/api/v1/recordings/" + ids[3])
    check(r.status == 409 and json.loads(r.body)["error"]["code"] == "conflict",
          "DELETE while recording → 409")
    st, _ = jget(srv, "/api/v1/recordings/" + ids[3])
    check(st == 200, "... and it is still there")
    r = http("DELETE", srv.base + "/api/v1/recordings/" + ids[0])
    check(r.status == 204, "DELETE finished recording → 204")
    check(not os.path.exists(folder), "its folder is gone")
    check(os.path.exists(os.path.join(srv.data, "secret.txt")), "nothing else removed")
    st, _ = jget(srv, "/api/v1/recordings/" + ids[0])
    check(st == 404, "GET it → 404")
    st, _, _ = raw(srv, "GET", "/recordings/%s/lesson.mp4" % ids[0])
    check(st == 404, "its files → 404")
    r = http("DELETE", srv.base + "/api/v1/recordings/" + ids[0])
    check(r.status == 404, "DELETE again → 404")
    r = http("DELETE", srv.base + "/api/v1/recordings/..")
    check(r.status == 404, "DELETE /api/v1/recordings/.. → 404")
    st, v = jget(srv, "/api/v1/recordings")
    check(st == 200 and v["total"] == 3, "3 recordings left")


def main():
    binary = find_classrelay(sys.argv[1] if len(sys.argv) > 1 else None)
    srv = Server(binary, name="rest_recordings").start()
    try:
        db = wait_for_db(srv)
        ids, blob = seed(srv, db)
        test_list(srv, ids)
        test_get(srv, ids)
        test_notes(srv, db, ids)
        test_files(srv, ids, blob)
        test_delete(srv, ids)
        check(srv.alive(), "the server is still running")
    except Exception as e:  # report, do not hang ctest
        import traceback
        traceback.print_exc()
        failures.append("exception: %r" % e)
        print(srv.log_tail())
    finally:
        srv.stop()
    if failures:
        print("%d failures:" % len(failures))
        for f in failures:
            print("   ", f)
    print("RESULT:", "FAIL" if failures else "PASS", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
