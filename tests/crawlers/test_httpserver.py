"""The test HTTP server itself (tests/support/httpserver.py)."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request

import pytest

from tests.support.httpserver import HTTPTestServer


def test_serves_routes_bytes_status_and_headers() -> None:
    with HTTPTestServer({"/a": (200, {"Content-Type": "text/html; charset=gbk"}, "农信".encode("gbk"))}) as srv:
        with urllib.request.urlopen(srv.url("/a"), timeout=5) as resp:
            assert resp.read() == "农信".encode("gbk")
            assert resp.headers["Content-Type"] == "text/html; charset=gbk"
        srv.route("/err", 503, {}, b"down")
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(srv.url("/err?x=1"), timeout=5)
        assert info.value.code == 503
        info.value.close()
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(srv.url("/missing"), timeout=5)
        assert info.value.code == 404
        info.value.close()
        assert srv.hits["/a"] == 1 and srv.hits["/err"] == 1


def test_delay_and_quick_stop() -> None:
    srv = HTTPTestServer().start()
    srv.route("/slow", 200, {}, b"late", delay=30)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=0.5) as client:
        client.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(TimeoutError):
            client.recv(100)
    started = time.monotonic()
    srv.stop()
    assert time.monotonic() - started < 5
