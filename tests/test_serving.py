"""The server as `make run` starts it (gunicorn, 2 workers), seen from browsers."""

from __future__ import annotations

import socket
import time

import requests


def test_idle_browser_connections_do_not_stall_the_app(gunicorn):
    """Chromium opens connections it sends nothing on yet (preconnects, its PDF viewer). A
    sync worker waited on each for its 30 s timeout and was then killed: with two workers,
    two such sockets left every client and the front desk without an answer."""
    server = gunicorn(workers=2)
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(4)]
    try:
        time.sleep(0.5)  # the workers have accepted them
        started = time.monotonic()
        for _ in range(5):
            response = requests.get(server.url + "/", timeout=10)
            assert response.status_code == 200
        assert time.monotonic() - started < 5
    finally:
        for sock in idle:
            sock.close()
    assert "WORKER TIMEOUT" not in server.output()
