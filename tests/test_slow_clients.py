"""Slow clients against gunicorn as `make run` serves it (2 workers x 4 threads), with and
without deploy/Caddyfile in front: 50 connections sending their headers one byte a second,
or 50 sending a form body one byte a second, while four real clients browse and write.

Behind Caddy the real clients are served as usual; bare gunicorn gives every thread to the
slow connections and the real clients wait or time out (docs/deploy.md gives the figures).
Run with `pytest -m load tests/test_slow_clients.py`; each test takes about 20 s.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from proxy import CADDY, Caddy, SlowClients, real_clients

pytestmark = pytest.mark.load

SETTLE_SECONDS = 2  # the slow connections are open and have sent their first bytes
BROWSE_SECONDS = 12  # longer than gunicorn's 5 s wait for a request's first bytes


@pytest.fixture
def caddy(tmp_path):
    """Start Caddy with the deployed Caddyfile in front of a port; killed at teardown."""
    if not Path(CADDY).exists():
        pytest.fail("Debian's caddy is missing: run `make caddy` (`make test` does)")
    started = []

    def start(upstream_port: int) -> Caddy:
        proxy = Caddy(tmp_path, upstream_port)
        started.append(proxy)
        return proxy.start()

    yield start
    for proxy in started:
        proxy.kill()


def attack(port: int, url: str, kind: str):
    with SlowClients(port, kind, count=50, seconds=SETTLE_SECONDS + BROWSE_SECONDS + 10) as slow:
        time.sleep(SETTLE_SECONDS)
        served = real_clients(url, BROWSE_SECONDS)
    return served, slow


@pytest.mark.parametrize("kind", ["headers", "bodies"])
def test_behind_caddy_slow_clients_leave_real_clients_served(gunicorn, caddy, kind):
    server = gunicorn(workers=2)
    proxy = caddy(server.port)
    served, slow = attack(proxy.port, proxy.url, kind)
    print(f"\nbehind Caddy, 50 slow {kind}: {served.summary()} ({slow.opened} slow sockets)")
    assert not served.failures, served.failures[:5]
    assert len(served.times) >= 40, served.summary()
    assert served.p95 < 1.0, served.summary()
    assert "WORKER TIMEOUT" not in server.output()


@pytest.mark.parametrize("kind", ["headers", "bodies"])
def test_bare_gunicorn_is_held_by_slow_clients(gunicorn, kind):
    """Why deploy/Caddyfile is not optional. If this starts failing, gunicorn got better:
    measure again and update docs/deploy.md."""
    server = gunicorn(workers=2)
    served, slow = attack(server.port, server.url, kind)
    print(f"\nbare gunicorn, 50 slow {kind}: {served.summary()} ({slow.opened} slow sockets)")
    assert served.failures or served.p95 >= 2.0, served.summary()
