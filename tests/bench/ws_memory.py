#!/usr/bin/env python3
"""Server memory per websocket connection, plain and with RFC 7692 permessage-deflate
(what browsers negotiate): starts classrelay on a loopback port, opens N connections of
each kind, each sending five 2.4 KB requests (compressed when negotiated, as a browser
does) and reading the replies, and prints the growth of the server's resident memory per
connection. Not a test: it prints figures (docs/benchmarks.md).

usage: python3 tests/bench/ws_memory.py [N]      (from the repository root; N default 200)
  CLASSRELAY_BIN  server binary (default build/signaling/classrelay)"""
import base64
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
BIN = os.environ.get("CLASSRELAY_BIN", "build/signaling/classrelay")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(next(line for line in f if line.startswith("VmRSS")).split()[1])


def frame(data, rsv1):
    mask = os.urandom(4)
    n = len(data)
    first = 0x81 | (0x40 if rsv1 else 0)
    head = struct.pack("!BB", first, 0x80 | n) if n < 126 else struct.pack("!BBH", first, 0xFE, n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def connect(port, deflate):
    s = socket.create_connection(("127.0.0.1", port))
    ext = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if deflate else ""
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n" % (key, ext)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    if deflate and b"permessage-deflate" not in head:
        raise SystemExit("the server did not accept permessage-deflate")
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    for i in range(5):
        msg = ('{"type":"ping","id":%d,"pad":"%s"}' % (i + 1, "abcdefgh" * 300)).encode()
        if deflate:
            z = comp.compress(msg) + comp.flush(zlib.Z_SYNC_FLUSH)
            s.sendall(frame(z[:-4], True))
        else:
            s.sendall(frame(msg, False))
        s.recv(65536)
    return s


def main():
    port = free_port()
    data = tempfile.mkdtemp(prefix="cr-wsmem-")
    srv = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:%d" % port, "--data", data],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.1)
        for deflate in (False, True):
            before = rss_kib(srv.pid)
            conns = [connect(port, deflate) for _ in range(N)]
            time.sleep(0.5)
            grown = rss_kib(srv.pid) - before
            print("%s: %.1f KiB of server memory per connection (%d connections)" %
                  ("permessage-deflate" if deflate else "plain", grown / N, N))
            for c in conns:
                c.close()
            time.sleep(1)
    finally:
        srv.terminate()
        srv.wait()
        subprocess.run(["rm", "-rf", data])


if __name__ == "__main__":
    main()
