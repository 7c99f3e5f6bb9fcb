"""A TCP proxy in front of the emulator, for a fault the emulator cannot
make itself because it happens before it has read a request: closing a
connection as soon as it is accepted (nothing of the request read). It
counts the connections it accepted. (TLS tests use the emulator's own
HTTPS mode, --tls-cert/--tls-key.)

    p = FaultProxy(emu.url)                 # http://127.0.0.1:<port>
    p.reject(2)     # the next two connections are closed at once
    p.connections   # accepted so far
    p.close()
"""
import socket
import threading
import urllib.parse


class FaultProxy:
    def __init__(self, upstream_url):
        u = urllib.parse.urlsplit(upstream_url)
        self.upstream = (u.hostname, u.port)
        self.lock = threading.Lock()
        self.connections = 0
        self.rejected = 0
        self._reject = 0
        self._live = set()
        self._stop = False
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def reject(self, n):
        """Closes the next n connections on accept, and every connection
        open now (so a kept-alive one cannot bypass the fault)."""
        with self.lock:
            self._reject = n
            live = list(self._live)
        for s in live:
            _close(s)

    def _accept(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
                drop = self._reject > 0
                if drop:
                    self._reject -= 1
                    self.rejected += 1
            if drop:
                # RST, before a byte of the request is read.
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             b"\x01\x00\x00\x00\x00\x00\x00\x00")
                c.close()
                continue
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    def _serve(self, c):
        try:
            c.settimeout(30)
            up = socket.create_connection(self.upstream, timeout=30)
        except OSError:
            _close(c)
            return
        with self.lock:
            self._live.update((c, up))
        t = threading.Thread(target=_pump, args=(up, c), daemon=True)
        t.start()
        _pump(c, up)
        t.join(30)
        with self.lock:
            self._live.discard(c)
            self._live.discard(up)

    def close(self):
        self._stop = True
        self.sock.close()
        self.thread.join(5)
        with self.lock:
            live = list(self._live)
        for s in live:
            _close(s)


def _close(s):
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


def _pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    _close(src)
    _close(dst)
