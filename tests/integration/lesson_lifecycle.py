#!/usr/bin/python3
"""Scheduled lessons open and close on their own (docs/scheduling.md, "Lesson lifecycle").

A real server with a fresh database and a short overtime (8 s). Two lessons booked through
the REST API, both running now:
  A ends in 4 s: its room is open before anyone joins (/api/v1/live), the teacher's and the
    classroom's join links get in, the classroom may not use the teacher's controls, mute
    all and pause reach the classroom as lesson_state, everyone is warned that the room is
    closing, and at end + overtime everyone hears lesson_ended ("time"); the classroom's
    link is then refused (not_open).
  B runs 2 minutes: the teacher ends it with one request; everyone hears lesson_ended and
    the classroom's link is refused until the window closes ("the teacher has ended").
  C: a GStreamer webrtcbin publisher (WHIP) and player (WHEP) in the lesson's room: while
    the teacher has paused the lesson the relay forwards none of the teacher's video (the
    player decodes no frames), and after resume the frames come back.
The audit log shows the joins, the controls and the ends.

usage: lesson_lifecycle.py [path/to/classrelay]
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
from peers import Server, find_classrelay, log  # noqa: E402
from wsclient import WsClient  # noqa: E402

from peers import check, failures  # noqa: E402


def api(srv, method, path, body=None):
    r = peers.http(method, srv.base + path, json.dumps(body) if body is not None else None,
                   "application/json" if body is not None else None)
    if r.status >= 300:
        raise RuntimeError("%s %s -> %d %s" % (method, path, r.status, r.text()[:300]))
    return json.loads(r.body) if r.body else None


class Member:
    """A websocket participant that keeps every event it hears."""

    def __init__(self, srv, room, role, token, name):
        self.ws = WsClient("127.0.0.1", srv.port)
        self.events = []
        self.reply = self.call({"type": "join", "room": room, "role": role, "name": name,
                                "token": token})

    def call(self, msg, timeout=10.0):
        rid = self.ws.request(msg)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.ws.recv(0.2)
            if m is None:
                continue
            if m.get("type") == "reply" and m.get("id") == rid:
                return m
            self.events.append(m)
        raise RuntimeError("no reply to %r" % msg)

    def wait_event(self, name, timeout, pred=lambda e: True):
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events:
                if e.get("event") == name and pred(e):
                    return e
            if time.monotonic() >= deadline:
                return None
            m = self.ws.recv(0.2)
            if m is not None:
                self.events.append(m)


def book(srv, title, teacher_id, classroom_id, start_ms, end_ms):
    return api(srv, "POST", "/api/v1/lessons",
               {"title": title, "subject": "Maths", "teacher_id": teacher_id,
                "start_ms": start_ms, "end_ms": end_ms, "classrooms": [classroom_id],
                "record": False})


def frames_in(player, seconds, pub):
    """Video frames the player decoded in the next seconds."""
    before = player.video_frames
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        pub.poll_bus()
        player.poll_bus()
        time.sleep(0.1)
    return player.video_frames - before


def media_pause(srv, teacher_id, classroom_id):
    import webrtcbin_whip_whep as wb  # GStreamer: only this phase needs it
    wb.Gst.init(None)
    print("lesson C (pause stops the teacher's media in the relay):", flush=True)
    now = int(time.time() * 1000)
    c = book(srv, "Geometry", teacher_id, classroom_id, now - 1000, now + 600000)
    links = api(srv, "GET", "/api/v1/lessons/%d/links" % c["id"])
    t_tok, c_tok = links["teacher"]["token"], links["classrooms"][0]["token"]
    time.sleep(1.5)  # the room opens at the next lifecycle tick
    teacher = Member(srv, c["room"], "teacher", t_tok, "Wang Li")
    pub = wb.WebrtcPeer("publisher", wb.PUB_PIPELINE)
    player = wb.Player("player")
    try:
        pub.pipe.set_state(wb.Gst.State.PLAYING)
        pub.set_sendonly()
        pub.wait_sink_caps()
        pub.url, answer = peers.whip_publish(srv.base, c["room"], pub.make_offer())
        pub.apply_answer(answer)
        pub.wait_connected()
        player.pipe.set_state(wb.Gst.State.PLAYING)
        offer = player.make_offer()
        player.t_post = time.monotonic()
        player.deadline = player.t_post + 60
        peers.AUTH_TOKEN, admin = c_tok, peers.AUTH_TOKEN  # the classroom's link plays
        try:
            player.url, answer = peers.whep_play(srv.base, c["room"], offer)
        finally:
            peers.AUTH_TOKEN = admin
        player.apply_answer(answer)
        player.wait_connected()
        running = frames_in(player, 3, pub)
        check(running > 10, "the classroom's player decodes the teacher's video: %d frames in 3 s"
              % running)
        check(teacher.call({"type": "lesson", "action": "pause"})["ok"], "teacher: pause")
        frames_in(player, 0.5, pub)  # what was in flight
        paused = frames_in(player, 3, pub)
        check(paused == 0, "paused: the player decodes %d frames in 3 s" % paused)
        check(teacher.call({"type": "lesson", "action": "resume"})["ok"], "teacher: resume")
        resumed = frames_in(player, 4, pub)
        check(resumed > 10, "resumed: %d frames in 4 s" % resumed)
    finally:
        pub.stop()
        player.stop()


def main():
    binary = find_classrelay(sys.argv[1] if len(sys.argv) > 1 else None)
    with Server(binary, ["--overtime", "8", "--no-record"], name="lifecycle") as srv:
        school = api(srv, "POST", "/api/v1/schools", {"name": "Hill School"})
        rooms = [api(srv, "POST", "/api/v1/classrooms",
                     {"school_id": school["id"], "name": "Grade %d" % g}) for g in (3, 4)]
        teachers = [api(srv, "POST", "/api/v1/users",
                        {"username": u, "password": "correct horse", "name": n,
                         "role": "teacher"}) for u, n in (("wang", "Wang Li"), ("zhao", "Zhao Min"))]
        now = int(time.time() * 1000)
        a = book(srv, "Fractions", teachers[0]["id"], rooms[0]["id"], now - 60000, now + 4000)
        b = book(srv, "Decimals", teachers[1]["id"], rooms[1]["id"], now - 60000, now + 120000)
        print("lesson A (ends in 4 s, overtime 8 s):", flush=True)
        room_a = a["room"]
        t0 = time.monotonic()
        live = None
        while time.monotonic() - t0 < 5:
            live = [x for x in api(srv, "GET", "/api/v1/live")["live"] if x["room"] == room_a]
            if live and live[0].get("open"):
                break
            time.sleep(0.2)
        check(bool(live and live[0].get("open")), "the room opened on its own before anyone joined")
        links = api(srv, "GET", "/api/v1/lessons/%d/links" % a["id"])
        t_tok, c_tok = links["teacher"]["token"], links["classrooms"][0]["token"]
        teacher = Member(srv, room_a, "teacher", t_tok, "Wang Li")
        cls = Member(srv, room_a, "classroom", c_tok, "Grade 3")
        check(teacher.reply.get("ok") and cls.reply.get("ok"), "teacher and classroom links join")
        lesson = teacher.reply.get("lesson", {})
        check(lesson.get("lesson_id") == a["id"] and lesson.get("closes_ms", 0) > now,
              "the join reply carries the lesson and when its room closes: %r" % lesson)
        r = cls.call({"type": "lesson", "action": "pause"})
        check(not r["ok"] and r["error"]["code"] == "forbidden",
              "a classroom may not pause the lesson: %s" % r.get("error"))
        check(teacher.call({"type": "lesson", "action": "mute_all"})["ok"], "teacher: mute all")
        e = cls.wait_event("lesson_state", 3, lambda e: e.get("muted_all"))
        check(e is not None, "the classroom hears it is muted")
        check(teacher.call({"type": "lesson", "action": "pause"})["ok"], "teacher: pause")
        e = cls.wait_event("lesson_state", 3, lambda e: e.get("paused"))
        check(e is not None, "the classroom hears the lesson is paused")
        w = teacher.wait_event("lesson_time", 5, lambda e: e.get("state") == "closing")
        check(w is not None and w.get("seconds_left", 99) <= 60,
              "the teacher is warned that the room closes: %r" % w)
        end_t = teacher.wait_event("lesson_ended", 20)
        end_c = cls.wait_event("lesson_ended", 5)
        check(end_t is not None and end_t.get("reason") == "time" and end_c is not None,
              "at end + overtime everyone hears lesson_ended (time) %.1f s after joining"
              % (time.monotonic() - t0))
        again = Member(srv, room_a, "classroom", c_tok, "Grade 3")
        check(not again.reply["ok"] and again.reply["error"]["code"] == "not_open",
              "the classroom's link is refused afterwards: %s" % again.reply.get("error"))

        print("lesson B (the teacher ends it):", flush=True)
        links = api(srv, "GET", "/api/v1/lessons/%d/links" % b["id"])
        t_tok, c_tok = links["teacher"]["token"], links["classrooms"][0]["token"]
        teacher = Member(srv, b["room"], "teacher", t_tok, "Zhao Min")
        cls = Member(srv, b["room"], "classroom", c_tok, "Grade 4")
        check(teacher.reply["ok"] and cls.reply["ok"], "teacher and classroom join lesson B")
        check(teacher.call({"type": "lesson", "action": "end"})["ok"], "teacher: end the lesson")
        e = cls.wait_event("lesson_ended", 3)
        check(e is not None and "teacher" in e.get("reason", ""),
              "the classroom hears the teacher ended it: %r" % e)
        time.sleep(1.5)  # a lifecycle tick must not reopen it
        again = Member(srv, b["room"], "classroom", c_tok, "Grade 4")
        check(not again.reply["ok"] and "ended" in again.reply["error"]["message"],
              "rejoining is refused: %s" % again.reply.get("error"))

        media_pause(srv, teachers[0]["id"], rooms[0]["id"])

        audit = api(srv, "GET", "/api/v1/audit?limit=200")["entries"]
        actions = {(x["action"], x.get("room")) for x in audit}
        for want in (("join", room_a), ("mute_all", room_a), ("lesson_pause", room_a),
                     ("lesson_end", room_a), ("lesson_end", b["room"]), ("refused", room_a)):
            check(want in actions, "audit log has %s in %s" % want)
    print("RESULT: %s" % ("FAIL (%d)" % len(failures) if failures else "PASS"))
    return 1 if failures else 0


if __name__ == "__main__":
    log("lesson lifecycle test")
    sys.exit(main())
