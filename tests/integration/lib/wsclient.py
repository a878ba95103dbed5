"""A minimal websocket client (RFC 6455) for the signaling protocol in tests: text frames
only, client frames masked, no extensions. Debian's python here has no websocket module,
and the protocol needs no more than this."""
import base64
import json
import os
import select
import socket
import struct


class WsClient:
    def __init__(self, host, port, path="/ws", timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n" % (path, host, port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise ConnectionError("websocket handshake: %r" % status)
        self.buf = head.split(b"\r\n\r\n", 1)[1]
        self.next_id = 1

    def send(self, msg):
        data = json.dumps(msg).encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            header = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(header + mask + body)

    def request(self, msg):
        msg = dict(msg, v=1, id=self.next_id)
        self.next_id += 1
        self.send(msg)
        return msg["id"]

    def _frame(self):
        """One whole frame from the buffer, or None."""
        b = self.buf
        if len(b) < 2:
            return None
        op, n = b[0] & 0x0F, b[1] & 0x7F
        pos = 2
        if n == 126:
            if len(b) < 4:
                return None
            n, pos = struct.unpack("!H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, pos = struct.unpack("!Q", b[2:10])[0], 10
        if len(b) < pos + n:
            return None
        self.buf = b[pos + n:]
        return op, b[pos:pos + n]

    def recv(self, timeout):
        """The next JSON message, or None after timeout seconds."""
        while True:
            f = self._frame()
            if f:
                op, payload = f
                if op == 0x1:
                    return json.loads(payload)
                if op == 0x9:  # ping: answer with a masked pong
                    mask = os.urandom(4)
                    self.sock.sendall(struct.pack("!BB", 0x8A, 0x80 | len(payload)) + mask +
                                      bytes(x ^ mask[i % 4] for i, x in enumerate(payload)))
                if op == 0x8:
                    raise ConnectionError("websocket closed by the server")
                continue
            r, _, _ = select.select([self.sock], [], [], timeout)
            if not r:
                return None
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("websocket: connection closed")
            self.buf += chunk

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
