"""Shared helpers for ClassRelay integration tests and benchmarks.

Plain standard library (plus aioice for the loopback patch): start and stop the
classrelay server on a free port with a throw-away data dir, WHIP/WHEP exchanges with
urllib, /api/v1/stats, and /proc readings of the server process.
Run everything with /usr/bin/python3 (Debian's python with aiortc and PyGObject).
"""
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def log(*args):
    print("[%7.3f]" % (time.monotonic() % 10000), *args, flush=True)


# A test's checks: each prints "ok" or "FAIL" and goes on; failures is what failed (the test
# prints "RESULT: FAIL" when it is not empty), checks[0] how many were made.
failures = []
checks = [0]


def check(cond, what):
    checks[0] += 1
    print(("  ok    " if cond else "  FAIL  ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def free_port():
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_port(run=16):
    """A UDP port that was free a moment ago on 127.0.0.1, with the run - 1 after it (the
    shared media port of each worker: --media-port P serves P, P+1, ...)."""
    while True:
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(run)]
        try:
            socks[0].bind(("127.0.0.1", 0))
            port = socks[0].getsockname()[1]
            for i, s in enumerate(socks[1:], 1):
                s.bind(("127.0.0.1", port + i))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()


def find_classrelay(argv_path=None):
    """The classrelay binary: argument, then $CLASSRELAY, then the usual build dirs."""
    candidates = [argv_path, os.environ.get("CLASSRELAY")]
    for d in ("build", "build-it"):
        candidates.append(os.path.join(SRC_ROOT, d, "signaling", "classrelay"))
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.abspath(c)
    raise SystemExit("classrelay binary not found (pass it as argument or set CLASSRELAY)")


# ---------------------------------------------------------------- HTTP

class HttpResult:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def text(self):
        return self.body.decode("utf-8", "replace")

    def header(self, name):
        return self.headers.get(name) if self.headers is not None else None


# The token sent with every request (Authorization: Bearer): Server.start() sets an admin
# token of the server it started, so WHIP/WHEP to any room and the REST API work as before
# access control (docs/scheduling.md). token=False sends none.
AUTH_TOKEN = None


def mint_token(binary, data_dir, role, room=None, ttl=86400, name=None, secret_file=None):
    """A token signed with data_dir's key, or secret_file's (a cluster's shared key):
    `classrelay token` (docs/scheduling.md)."""
    cmd = [binary, "token", "--data", data_dir, "--role", role, "--ttl", str(ttl)]
    if secret_file:
        cmd += ["--secret-file", secret_file]
    if room:
        cmd += ["--room", room]
    if name:
        cmd += ["--name", name]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def http(method, url, body=None, content_type=None, timeout=15.0, token=None):
    """One HTTP request; returns HttpResult for any status (4xx/5xx included)."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method)
    if content_type:
        req.add_header("Content-Type", content_type)
    token = AUTH_TOKEN if token is None else token
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return HttpResult(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return HttpResult(e.code, e.headers, e.read() if e.fp else b"")


class WhipError(Exception):
    pass


# ---------------------------------------------------------------- ICE addresses
# Every server started here gathers ICE candidates only on 127.0.0.1 (--bind-ip): test
# media must never reach the machine's other addresses. Checked twice, in this one place:
# every WHIP/WHEP answer's candidates (sdp_post), and every selected pair in the server's
# log when it stops (Server.stop). A violation prints "RESULT: FAIL" (ctest's failure
# pattern for these tests) and makes the process exit 1.

ICE_ADDRESSES = {"127.0.0.1"}
ICE_FAILURES = []


def _ice_fail(msg):
    if msg not in ICE_FAILURES:
        ICE_FAILURES.append(msg)
        print("RESULT: FAIL: ICE left the test's addresses (%s): %s"
              % (", ".join(sorted(ICE_ADDRESSES)), msg), flush=True)


def _ice_exit_status():
    if ICE_FAILURES:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)


atexit.register(_ice_exit_status)  # registered first, so it runs after every Server.stop


def check_answer_candidates(sdp):
    """Every a=candidate of an answer the server gave must be on an allowed address."""
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            f = line.split()
            if len(f) > 4 and f[4] not in ICE_ADDRESSES:
                _ice_fail("answer candidate " + line)


def check_log_pairs(logpath):
    """Every selected pair in a server log must have both ends on allowed addresses.

    Returns the number of pairs found."""
    try:
        with open(logpath, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return 0
    pairs = re.findall(r"(?:selected pair|new remote address:) (?:udp|tcp) (\S+) -> (\S+)", text)
    for local, remote in pairs:
        for hp in (local, remote):
            host = hp[1:hp.index("]")] if hp.startswith("[") else hp.rsplit(":", 1)[0]
            if host not in ICE_ADDRESSES:
                _ice_fail("selected pair %s -> %s in %s" % (local, remote, logpath))
    return len(pairs)


def sdp_post(base, path, offer_sdp, token=None):
    """POST an SDP offer (WHIP or WHEP) with token (default AUTH_TOKEN). Returns (absolute
    resource URL, answer SDP)."""
    url = base + path
    r = http("POST", url, offer_sdp, "application/sdp", token=token)
    if r.status != 201:
        raise WhipError("POST %s -> %d: %s" % (path, r.status, r.text().strip()[:500]))
    loc = r.header("Location")
    if not loc:
        raise WhipError("POST %s -> 201 without a Location header" % path)
    ctype = (r.header("Content-Type") or "").split(";")[0].strip()
    if ctype != "application/sdp":
        raise WhipError("POST %s -> 201 with Content-Type %r" % (path, ctype))
    check_answer_candidates(r.text())
    return urllib.parse.urljoin(url, loc), r.text()


def whip_publish(base, room, offer_sdp):
    return sdp_post(base, "/whip/" + urllib.parse.quote(room), offer_sdp)


def whep_play(base, room, offer_sdp):
    return sdp_post(base, "/whep/" + urllib.parse.quote(room), offer_sdp)


def resource_delete(url):
    return http("DELETE", url).status


def get_stats(base):
    r = http("GET", base + "/api/v1/stats")
    if r.status != 200:
        raise RuntimeError("GET /api/v1/stats -> %d %s" % (r.status, r.text()[:200]))
    return json.loads(r.body)


def stat(stats, key, default=None):
    """Finds key in the stats JSON, at top level or nested (e.g. {"relay": {...}})."""
    if isinstance(stats, dict):
        if key in stats:
            return stats[key]
        for v in stats.values():
            found = stat(v, key, None)
            if found is not None:
                return found
    return default


def sdp_summary(sdp):
    """Short human summary of an SDP (m-lines, codecs, extmaps, candidates)."""
    out = []
    for line in sdp.splitlines():
        if line.startswith(("m=", "a=rtpmap", "a=extmap", "a=candidate", "a=setup",
                            "a=group", "a=ssrc:", "a=mid", "a=sendonly", "a=recvonly",
                            "a=sendrecv", "a=inactive", "a=bundle-only", "a=rtcp-mux",
                            "a=fmtp", "a=ssrc-group")):
            out.append("    " + line)
    return "\n".join(out)


# ---------------------------------------------------------------- server

class Server:
    """classrelay serve on 127.0.0.1:<free port> with a temp data dir; always killed.

    ICE only on 127.0.0.1 (--bind-ip); the log's selected pairs are checked at stop()."""

    def __init__(self, binary, extra_args=(), env=None, name="classrelay", media_port=False,
                 secret_file=None):
        """media_port: every peer on one shared port, a free one (--media-port, ICE lite, the
        server's default); else a port per peer from any free ones (--media-port 0)."""
        self.binary = binary
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.data = tempfile.mkdtemp(prefix="cr-it-data-")
        self.logpath = os.path.join(tempfile.gettempdir(),
                                    "%s-%d-%d.log" % (name, os.getpid(), self.port))
        self.extra_args = list(extra_args)
        self.extra_args += ["--media-port", str(free_udp_port()) if media_port else "0"]
        self.secret_file = secret_file  # a cluster's shared token key (--secret-file)
        if secret_file:
            self.extra_args += ["--secret-file", secret_file]
        self.env = env
        self.proc = None
        self._logf = None

    def start(self, timeout=15.0):
        cmd = [self.binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
               "--data", self.data, "--bind-ip", "127.0.0.1"] + self.extra_args
        log("starting", " ".join(cmd), "(log:", self.logpath + ")")
        self._logf = open(self.logpath, "wb")
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen(cmd, stdout=self._logf, stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True)
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("classrelay exited with %d at start:\n%s"
                                   % (self.proc.returncode, self.log_tail()))
            try:
                if http("GET", self.base + "/healthz", timeout=1.0).status == 200:
                    log("server up, pid", self.proc.pid, "at", self.base)
                    global AUTH_TOKEN
                    self.token = AUTH_TOKEN = mint_token(self.binary, self.data, "admin",
                                                         secret_file=self.secret_file)
                    return self
            except (urllib.error.URLError, ConnectionError, socket.timeout, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError("classrelay did not answer /healthz in %.0fs:\n%s"
                           % (timeout, self.log_tail()))

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=60):
        try:
            with open(self.logpath, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join("    | " + l for l in lines[-n:])
        except OSError:
            return "    (no log)"

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log("server ignored SIGTERM for 5 s, killing it")
                self.proc.kill()
                self.proc.wait()
        if self._logf:
            self._logf.close()
            self._logf = None
            check_log_pairs(self.logpath)
        if self.data and os.path.isdir(self.data):
            shutil.rmtree(self.data, ignore_errors=True)
        self.data = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------- /proc

def proc_cpu_split(pid):
    """(utime, stime) of a process in seconds, from /proc/<pid>/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3); utime is field 14, stime field 15
    hz = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / hz, int(fields[12]) / hz


def proc_cpu_seconds(pid):
    """utime + stime of a process in seconds, from /proc/<pid>/stat."""
    return sum(proc_cpu_split(pid))


def proc_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ---------------------------------------------------------------- aioice

def patch_aioice_loopback():
    """aioice skips 127.0.0.1 when gathering host candidates; gather only on loopback.

    This changes only which local address aiortc gathers on, nothing in the SDP it sends.
    """
    import aioice.ice
    aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=False: ["127.0.0.1"]


def fail(msg, server=None):
    print("FAIL:", msg, flush=True)
    if server is not None:
        print("server log tail:\n" + server.log_tail(), flush=True)
    sys.exit(1)


# ---------------------------------------------------------------- a cluster's parts

REDIS_TMP = os.path.join(SRC_ROOT, "tools", "redis_tmp.sh")


def cluster_tmp(prefix):
    """A throw-away Redis (tools/redis_tmp.sh) and a key the nodes share (--secret-file):
    (Redis's dir, its URL, the key's path)."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    rdir = os.path.join(tmp, "redis")
    url = subprocess.run([REDIS_TMP, "start", rdir], check=True, capture_output=True,
                         text=True).stdout.strip()
    secret = os.path.join(tmp, "secret.key")
    with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
        f.write(os.urandom(32))
    return rdir, url, secret


def cluster_end(nodes, rdir, error=None):
    """Stops the nodes and Redis; prints the test's RESULT line. Returns the exit code."""
    if error is not None:
        check(False, "%s: %s" % (type(error).__name__, error))
        for s in nodes:
            print(s.log_tail(40))
    for s in nodes:
        s.stop()
    subprocess.run([REDIS_TMP, "stop", rdir])
    ok = not failures and not ICE_FAILURES
    print("RESULT:", "PASS" if ok else "FAIL", flush=True)
    return 0 if ok else 1
