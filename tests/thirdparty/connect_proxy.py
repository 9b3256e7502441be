"""A forward proxy for HTTPS (HTTP CONNECT) that maps fixed `host:port` names to local
addresses and refuses every other target.

tap-salesforce always logs in at https://login.salesforce.com (or test.salesforce.com).
Pointing its standard `HTTPS_PROXY` setting at this proxy sends that one name to the devorg
without touching /etc/hosts or the tap's code; TLS runs end to end through the tunnel, so
the tap still checks the devorg's certificate (which names login.salesforce.com).
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Mapping

_MAX_HEADER_BYTES = 16_384


class _Handler(socketserver.BaseRequestHandler):
    server: ConnectProxy

    def handle(self) -> None:
        client: socket.socket = self.request
        client.settimeout(30)
        header = b""
        while b"\r\n\r\n" not in header:
            chunk = client.recv(4096)
            if not chunk or len(header) > _MAX_HEADER_BYTES:
                return
            header += chunk
        request_line = header.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        target = self.server.routes.get(parts[1].lower()) if len(parts) == 3 else None
        if parts[0] != "CONNECT" or target is None:
            self.server.refused.append(request_line)
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        self.server.tunnels.append(parts[1].lower())
        with socket.create_connection(target, timeout=30) as upstream:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            client.settimeout(None)
            upstream.settimeout(None)
            back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
            back.start()
            _pump(client, upstream)
            back.join(timeout=30)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


class ConnectProxy(socketserver.ThreadingTCPServer):
    """Listens on 127.0.0.1 (a free port); `routes` maps "host:port" to (address, port)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, routes: Mapping[str, tuple[str, int]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes = {k.lower(): v for k, v in routes.items()}
        self.tunnels: list[str] = []
        self.refused: list[str] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The proxy URL for HTTPS_PROXY."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> ConnectProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
