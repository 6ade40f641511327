"""The server as `make run` starts it (gunicorn, 2 workers), seen from browsers."""

from __future__ import annotations

import collections
import concurrent.futures
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


def test_clients_that_keep_their_connections_are_served_by_both_workers(gunicorn):
    """Browsers keep connections open. A threaded worker takes any number of them, so kept
    alive they bunched on one worker while the other sat idle: half the speed under load.
    Each response closes its connection, and the next request goes to a free worker."""
    server = gunicorn(
        workers=2, args=("--access-logfile", "-", "--access-logformat", "%(p)s %(s)s")
    )

    def browse(_):
        with requests.Session() as browser:  # keeps its connection when the server lets it
            return [browser.get(server.url + "/", timeout=10).status_code for _ in range(25)]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = [s for batch in pool.map(browse, range(8)) for s in batch]
    assert statuses == [200] * 200
    time.sleep(0.5)  # the access log is written
    served = collections.Counter(
        line.split()[0] for line in server.stdout().splitlines() if line.endswith(" 200")
    )
    assert len(served) == 2 and min(served.values()) >= 40, served  # each a fifth or more
