"""Real local receivers for notification tests: an HTTP server that records JSON
POSTs (answering with a configurable status and body) and an aiosmtpd SMTP server."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


class _Handler(BaseHTTPRequestHandler):
    server: Any
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802
        owner = self.server.owner
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with owner.lock:
            owner.received.append((self.path, self.headers.get("Content-Type", ""), json.loads(body.decode("utf-8"))))
            answer = owner.answers.get(self.path, (200, {"errcode": 0, "code": 0}))
            if isinstance(answer, list):  # a sequence of answers, the last one repeats
                answer = answer.pop(0) if len(answer) > 1 else answer[0]
            status, answer_body = answer
        data = json.dumps(answer_body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class HTTPReceiver:
    def __init__(self) -> None:
        self.received: list[tuple[str, str, Any]] = []
        self.answers: dict[str, Any] = {}
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def __enter__(self) -> HTTPReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class SMTPReceiver:
    def __init__(self) -> None:
        self.box = _Mailbox()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[Any]:
        return self.box.messages

    def __enter__(self) -> SMTPReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
