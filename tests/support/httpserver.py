"""A real HTTP server on 127.0.0.1 for tests: a dict of path → (status, headers, bytes).

    with HTTPTestServer({"/feed.xml": (200, {"Content-Type": "application/rss+xml"}, body)}) as srv:
        srv.url("/feed.xml")

Routes can be added while it runs (``srv.route(path, status, headers, body, delay=…)``);
``delay`` seconds pass before the answer (ended early when the server stops).
Unknown paths answer 404. Requests are counted per path in ``srv.hits``.
The path key includes the query string when the request has one and a route
for it exists; otherwise the bare path is looked up.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass
class Route:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0


def _as_route(value: Route | tuple[Any, ...]) -> Route:
    if isinstance(value, Route):
        return value
    return Route(*value)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence
        pass

    def _answer(self, send_body: bool) -> None:
        owner = self.server.owner
        path = self.path if self.path in owner.routes else self.path.split("?", 1)[0]
        with owner.lock:
            owner.hits[path] += 1
            route = owner.routes.get(path)
        if route is None:
            route = Route(404, {"Content-Type": "text/plain; charset=utf-8"}, b"not found")
        if route.delay and owner.stopping.wait(route.delay):
            return  # server stopping: drop the connection
        try:
            self.send_response(route.status)
            headers = {k.lower(): v for k, v in route.headers.items()}
            for name, value in route.headers.items():
                self.send_header(name, value)
            if "content-length" not in headers:
                self.send_header("Content-Length", str(len(route.body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if send_body:
                self.wfile.write(route.body)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            pass
        self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802
        self._answer(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(send_body=False)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: HTTPTestServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away (timeouts are tested on purpose)


class HTTPTestServer:
    def __init__(self, routes: dict[str, Route | tuple[Any, ...]] | None = None) -> None:
        self.routes: dict[str, Route] = {p: _as_route(r) for p, r in (routes or {}).items()}
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- routes

    def route(
        self,
        path: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        body: bytes | str = b"",
        delay: float = 0.0,
    ) -> str:
        """Serve ``body`` at ``path``; returns the full URL."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        with self.lock:
            self.routes[path] = Route(status, dict(headers or {}), body, delay)
        return self.url(path)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return self._server.server_address[1]

    # --- life cycle

    def start(self) -> HTTPTestServer:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="http-test-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> HTTPTestServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


__all__ = ["HTTPTestServer", "Route"]
