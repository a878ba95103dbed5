"""Emulated weak school links for ClassRelay's network tests (this kernel has no netem).

Creates one hub namespace (the server side) and K leaf namespaces (classrooms), named after
the PID so that two runs cannot collide (cr<pid>h, cr<pid>l1, ...), starts linkemu to join
each leaf to the hub through its own emulated link (10.77.<k>.1 in the hub, 10.77.<k>.2 in
leaf k, default route via the hub), applies named profiles, runs commands inside the
namespaces (as processes with ip netns exec, or as sockets and threads of the calling
process with in_netns), and tears everything down on exit: the context manager, atexit and
SIGTERM all kill the processes started here and linkemu, and delete the namespaces.

    from netem import Network
    with Network(leaves=2, profile="weak") as net:
        server = net.popen(net.hub, [classrelay, "--listen", "0.0.0.0:8080"])
        net.run(net.leaf(1).ns, ["curl", f"http://{net.leaf(1).hub_ip}:8080/"])
        net.apply_profile("good", "leaf1")          # the "recovery" step, live
        print(net.stats()["links"]["leaf1"]["down"]["delivered_pkts"])

From another language: `/usr/bin/python3 tests/netem/netem.py up --leaves 2 --profile weak`
prints one JSON line (namespaces, addresses, control socket) and keeps the network up until
it gets SIGTERM or SIGINT or its stdin closes. `netem.py gc` deletes the namespaces of runs
that were killed outright (SIGKILL skips every clean-up; linkemu then exits by itself). The control socket takes linkemu's lines
("set leaf1 down rate=600 delay=80", "stats"; see emu_cmd.h). Needs root and /usr/bin/python3's
standard library only. "down" is hub -> leaf (server to classroom), "up" is leaf -> hub.
"""
import atexit
import ctypes
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import stat
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
LINKEMU_SOURCES = ["linkemu.c", "emu_model.c", "emu_heap.c", "emu_cmd.c", "emu_tun.c"]

# Named link profiles: downlink (server -> classroom) as the issue states, a milder uplink.
# Keys are linkemu's: rate kbit/s (0 = unlimited), delay/jitter ms, loss %, queue ms.
PROFILES = {
    "none": {"down": {}, "up": {}},
    "good": {"down": {"rate": 20000, "delay": 20},
             "up": {"rate": 20000, "delay": 20}},
    "weak": {"down": {"rate": 600, "delay": 80, "jitter": 20, "loss": 3},
             "up": {"rate": 1000, "delay": 80, "jitter": 10, "loss": 1}},
    "bad": {"down": {"rate": 250, "delay": 200, "loss": 10},
            "up": {"rate": 500, "delay": 200, "loss": 5}},
}

_counter = 0


class Leaf:
    """One classroom: its namespace, its address and the hub's address on its link."""

    def __init__(self, k, ns):
        self.k = k
        self.name = "leaf%d" % k  # the link's name on linkemu's control socket
        self.ns = ns
        self.ip = "10.77.%d.2" % k
        self.hub_ip = "10.77.%d.1" % k

    def as_dict(self):
        return {"name": self.name, "ns": self.ns, "ip": self.ip, "hub_ip": self.hub_ip}


def _sources_mtime():
    return max(os.path.getmtime(os.path.join(HERE, f))
               for f in LINKEMU_SOURCES + glob.glob(os.path.join(HERE, "*.h")))


def find_linkemu(build_dir=None):
    """$LINKEMU, else a build's linkemu newer than the sources, else one compiled now."""
    env = os.environ.get("LINKEMU")
    if env:
        return env
    newest = _sources_mtime()
    for cand in sorted(glob.glob(os.path.join(SRC_ROOT, "build*", "tests", "netem", "linkemu"))):
        if os.access(cand, os.X_OK) and os.path.getmtime(cand) >= newest:
            return cand
    out = os.path.join(build_dir or tempfile.mkdtemp(prefix="linkemu-"), "linkemu")
    cmd = ["gcc", "-std=gnu11", "-O2", "-Wall", "-Wextra", "-D_GNU_SOURCE", "-o", out]
    subprocess.run(cmd + [os.path.join(HERE, f) for f in LINKEMU_SOURCES] + ["-lm"], check=True)
    return out


def ns_argv(ns, argv):
    """argv run inside namespace ns (for subprocess calls made elsewhere)."""
    return ["ip", "netns", "exec", ns] + list(argv)


def in_netns(ns, fn, *args, **kwargs):
    """fn(*args, **kwargs) called in a thread that has entered namespace ns; its result.

    Sockets keep the namespace they were made in, so in_netns(ns, socket.socket, ...)
    gives this process a socket inside ns; urllib or http.server run inside ns this way."""
    box = {}

    def body():
        try:
            in_netns_here(ns)
            box["result"] = fn(*args, **kwargs)
        except BaseException as e:  # handed to the caller
            box["error"] = e

    t = threading.Thread(target=body, name="netns-" + ns)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


def start_in_netns(ns, fn, *args, **kwargs):
    """Like in_netns, but fn runs in a daemon thread of its own; the thread is returned."""
    def body():
        in_netns_here(ns)
        fn(*args, **kwargs)

    t = threading.Thread(target=body, name="netns-" + ns, daemon=True)
    t.start()
    return t


def in_netns_here(ns):
    """Moves the calling thread (never the main thread, on purpose) into namespace ns."""
    if threading.current_thread() is threading.main_thread():
        raise RuntimeError("in_netns_here() would move the main thread; use in_netns()")
    fd = os.open("/run/netns/" + ns, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc().setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + ns)
    finally:
        os.close(fd)


_LIBC = None
CLONE_NEWNET = 0x40000000


def _libc():
    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)
    return _LIBC


def settings_line(settings):
    return " ".join("%s=%s" % (k, v) for k, v in settings.items())


class Network:
    """A hub and `leaves` classrooms joined by linkemu; see the module docstring."""

    def __init__(self, leaves=1, profile=None, linkemu=None, seed=None):
        global _counter
        _counter += 1
        tag = "cr%d" % os.getpid() + ("" if _counter == 1 else "x%d" % _counter)
        self.hub = tag + "h"
        self.leaves = [Leaf(k, "%sl%d" % (tag, k)) for k in range(1, leaves + 1)]
        self.tmp = tempfile.mkdtemp(prefix="netem-%s-" % tag)
        self.ctl_path = os.path.join(self.tmp, "ctl")
        self.log_path = os.path.join(self.tmp, "linkemu.out")
        self._namespaces = []
        self._procs = []
        self._emu = None
        self._closed = False
        self._final = None
        self._linkemu = linkemu
        self._seed = seed
        self._profile = profile

    # ---------------------------------------------------------------- life cycle

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self):
        atexit.register(self.close)
        _install_sigterm()
        try:
            for ns in [self.hub] + [leaf.ns for leaf in self.leaves]:
                self._add_namespace(ns)
            self._start_linkemu()
            if self._profile:
                self.apply_profile(self._profile)
        except BaseException:
            self.close()
            raise
        return self

    def _add_namespace(self, ns):
        subprocess.run(["ip", "netns", "add", ns], check=True)
        self._namespaces.append(ns)
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)

    def _start_linkemu(self):
        exe = self._linkemu or find_linkemu(self.tmp)
        argv = [exe, "--hub", self.hub, "--ctl", self.ctl_path, "--die-with-parent"]
        for leaf in self.leaves:
            argv += ["--leaf", leaf.ns]
        if self._seed is not None:
            argv += ["--seed", str(self._seed)]
        with open(self.log_path, "wb") as log:
            self._emu = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._emu.poll() is not None:
                raise RuntimeError("linkemu exited: " + self.linkemu_log())
            try:
                if self.command("ping") == "ok":
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("linkemu did not come up: " + self.linkemu_log())

    def linkemu_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        """Stops everything started here and deletes the namespaces; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for p in reversed(self._procs):
            _stop(p, group=True)
        if self._emu:
            _stop(self._emu, group=False)
            lines = [l for l in self.linkemu_log().splitlines() if l.startswith("{")]
            self._final = json.loads(lines[-1]) if lines else None
        for ns in self._namespaces:
            _kill_in(ns)  # what others started there (ip netns exec) and left running
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def final_stats(self):
        """linkemu's exit report (after close()), parsed, or None."""
        return self._final

    # ---------------------------------------------------------------- links

    def leaf(self, k):
        """Leaf k, 1-based."""
        return self.leaves[k - 1]

    def command(self, line, timeout=5):
        """One line to linkemu's control socket; its one-line reply."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.ctl_path)
            s.sendall(line.encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        return buf.decode().strip()

    def set(self, link, direction, clear=False, **settings):
        """set("leaf1", "down", rate=600, delay=80); link may be "all", direction "both"."""
        line = "set %s %s %s%s" % (link, direction, "clear " if clear else "",
                                   settings_line(settings))
        reply = self.command(line)
        if reply != "ok":
            raise ValueError("linkemu: %s -> %s" % (line, reply))

    def apply_profile(self, profile, link="all"):
        """A named profile (PROFILES) or a {"down": {...}, "up": {...}} dict, live."""
        p = PROFILES[profile] if isinstance(profile, str) else profile
        for direction in ("down", "up"):
            self.set(link, direction, clear=True, **p.get(direction, {}))

    def stats(self):
        return json.loads(self.command("stats"))

    def reset_stats(self):
        self.command("reset")

    # ---------------------------------------------------------------- processes

    def run(self, ns, argv, **kw):
        """subprocess.run inside namespace ns."""
        return subprocess.run(ns_argv(ns, argv), **kw)

    def popen(self, ns, argv, **kw):
        """subprocess.Popen inside ns, in its own process group, stopped by close()."""
        p = subprocess.Popen(ns_argv(ns, argv), start_new_session=True, **kw)
        self._procs.append(p)
        return p

    def socket(self, ns, family=socket.AF_INET, type=socket.SOCK_DGRAM, proto=0):
        """A socket of this process inside namespace ns (see in_netns)."""
        return in_netns(ns, socket.socket, family, type, proto)

    def describe(self):
        return {"hub": self.hub, "leaves": [l.as_dict() for l in self.leaves],
                "ctl": self.ctl_path, "linkemu_pid": self._emu.pid if self._emu else None,
                "profiles": PROFILES}


def _stop(p, group):
    """SIGTERM (to the process group if it has one), then SIGKILL after 3 s."""
    if p.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 3), (signal.SIGKILL, 3)):
        try:
            if group:
                os.killpg(p.pid, sig)
            else:
                p.send_signal(sig)
        except ProcessLookupError:
            return
        try:
            p.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _kill_in(ns):
    """SIGKILL to every process still running in namespace ns."""
    pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
    for pid in pids.stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


STALE_NS = re.compile(r"^cr(\d+)(x\d+)?(h|l\d+)$")


def gc_stale():
    """Deletes namespaces left by runs whose process is gone (killed with SIGKILL), after
    killing what still runs in them. Returns the names deleted."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    gone = []
    for line in out.splitlines():
        ns = line.split()[0] if line.split() else ""
        m = STALE_NS.match(ns)
        if not m or os.path.exists("/proc/%s" % m.group(1)):
            continue
        _kill_in(ns)
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        gone.append(ns)
    return gone


def _install_sigterm():
    """SIGTERM becomes SystemExit so that `with` blocks and atexit still clean up."""
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(128 + sig))


def _main(argv):
    import argparse
    ap = argparse.ArgumentParser(description="Bring up an emulated classroom network.")
    ap.add_argument("action", choices=["up", "gc"])
    ap.add_argument("--leaves", type=int, default=1)
    ap.add_argument("--profile", default="none", help=", ".join(PROFILES))
    ap.add_argument("--seed", type=int)
    args = ap.parse_args(argv)
    if args.action == "gc":
        for ns in gc_stale():
            print("deleted", ns)
        return 0
    with Network(leaves=args.leaves, profile=args.profile, seed=args.seed) as net:
        print(json.dumps(net.describe()), flush=True)
        try:
            mode = os.fstat(0).st_mode
            if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(0):
                sys.stdin.read()  # until the caller closes our stdin, or a signal
            else:
                while True:
                    signal.pause()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
