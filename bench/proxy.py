"""A loopback TCP proxy the benchmarks control: put it in front of a server (PostgreSQL, Chroma) and cut every
connection through it, refuse new ones for a while, then accept again, without touching the server itself.

    proxy = TcpProxy("127.0.0.1", 5432)      # listens on 127.0.0.1:proxy.port
    proxy.cut(refuse_s=5)                     # drop all connections now, refuse (ECONNREFUSED) for 5 s, then accept
    proxy.close()

While refusing, nothing listens on the port (a client's connect is refused, as when the server is down); the same
port is bound again afterwards (SO_REUSEADDR). Counts connections accepted and cut.
"""

from __future__ import annotations

import socket
import threading
import time


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int, port: int = 0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.lock = threading.Lock()
        self.pairs: set[tuple[socket.socket, socket.socket]] = set()
        self.accepted = self.cut_connections = self.cuts = 0
        self.refusing = False
        self._closed = False
        self._listener: socket.socket | None = None
        self.port = self._listen(port)

    def _listen(self, port: int) -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return listener.getsockname()[1]

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # closed: cut() or close()
            try:
                server = socket.create_connection(self.upstream, timeout=10)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = (client, server)
            with self.lock:
                self.pairs.add(pair)
                self.accepted += 1
            threading.Thread(target=self._pump, args=(client, server, pair), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, pair), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, pair) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(pair)

    def _drop(self, pair) -> int:
        with self.lock:
            if pair not in self.pairs:
                return 0
            self.pairs.discard(pair)
        for s in pair:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        return 1

    @property
    def open_connections(self) -> int:
        with self.lock:
            return len(self.pairs)

    def refuse(self) -> int:
        """Stop listening and drop every open connection; returns how many were dropped."""
        with self.lock:
            listener, self._listener, self.refusing = self._listener, None, True
            pairs = list(self.pairs)
            self.cuts += 1
        if listener is not None:
            try:  # wakes the accepting thread and stops listening at once (close() alone waits for accept)
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        dropped = sum(self._drop(pair) for pair in pairs)
        with self.lock:
            self.cut_connections += dropped
        return dropped

    def accept(self) -> None:
        """Listen again on the same port."""
        with self.lock:
            if self._closed or self._listener is not None:
                return
        deadline = time.monotonic() + 10
        while True:
            try:
                self._listen(self.port)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        with self.lock:
            self.refusing = False

    def cut(self, refuse_s: float) -> int:
        """Drop every connection, refuse new ones for `refuse_s` seconds, then accept again; returns the dropped."""
        dropped = self.refuse()
        time.sleep(refuse_s)
        self.accept()
        return dropped

    def close(self) -> None:
        with self.lock:
            self._closed = True
        self.refuse()
