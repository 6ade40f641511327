"""Debian's Caddy running deploy/Caddyfile in front of a test gunicorn, and slow clients.

The deployed file is used as it is, but for three lines: the site address becomes
http://127.0.0.1:PORT (no certificate to fetch, loopback only), the upstream becomes the
test gunicorn, and the admin endpoint is off (tests run side by side). Every timeout, the
size limit and the buffering are the deployed ones.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import requests
from live import free_port

from screening.config import ROOT

CADDY = shutil.which("caddy") or "/usr/bin/caddy"
DEPLOYED = ROOT / "deploy" / "Caddyfile"
SITE = "screening.clinic.example {"
UPSTREAM = "reverse_proxy 127.0.0.1:8000 {"


def local_caddyfile(port: int, upstream_port: int) -> str:
    """deploy/Caddyfile serving http://127.0.0.1:port and proxying to upstream_port."""
    text = DEPLOYED.read_text()
    for line in (SITE, UPSTREAM, "\n{\n"):
        assert text.count(line) == 1, f"deploy/Caddyfile changed: expected one {line!r}"
    text = text.replace("\n{\n", "\n{\n\tadmin off\n", 1)
    text = text.replace(SITE, f"http://127.0.0.1:{port} {{\n\tbind 127.0.0.1")
    return text.replace(UPSTREAM, f"reverse_proxy 127.0.0.1:{upstream_port} {{")


class Caddy:
    """One Caddy process in its own process group, killed whole by `kill()`."""

    def __init__(self, workdir: Path, upstream_port: int):
        self.workdir = Path(workdir) / "caddy"
        self.workdir.mkdir(exist_ok=True)
        self.port = free_port()
        self.config = self.workdir / "Caddyfile"
        self.config.write_text(local_caddyfile(self.port, upstream_port))
        self.log = self.workdir / "caddy.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> Caddy:
        home = str(self.workdir)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,
            "XDG_DATA_HOME": home,
            "XDG_CONFIG_HOME": home,
        }
        command = [CADDY, "run", "--config", str(self.config), "--adapter", "caddyfile"]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"caddy exited {self.process.returncode}:\n{self.output()}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"caddy did not answer within {timeout} s:\n{self.output()}")

    def kill(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


HEADERS = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\nX-Padding: " + b"a" * 64
BODY_HEADERS = (
    b"POST /start HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\n"
)


class SlowClients:
    """`count` connections that each send one byte a second: of their headers ("headers"),
    or of a form body after whole headers ("bodies"). One thread drives them all; a socket
    the server closes is opened again, as an attacker would. Stops by itself at `seconds`."""

    def __init__(self, port: int, kind: str, count: int = 50, seconds: float = 30):
        assert kind in ("headers", "bodies")
        self.port, self.kind, self.count, self.seconds = port, kind, count, seconds
        self.stopping = threading.Event()
        self.opened = 0
        self.closed_by_server = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _open(self) -> tuple[socket.socket, bytes]:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.opened += 1
        if self.kind == "bodies":
            sock.sendall(BODY_HEADERS)
            return sock, b"x=" + b"a" * 3998
        return sock, HEADERS

    def _run(self) -> None:
        deadline = time.monotonic() + self.seconds
        conns = []
        for _ in range(self.count):
            try:
                conns.append(list(self._open()))
            except OSError:
                pass
        while not self.stopping.is_set() and time.monotonic() < deadline:
            for conn in conns:
                sock, rest = conn
                try:
                    sock.send(rest[:1])
                    conn[1] = rest[1:] or rest
                except OSError:
                    self.closed_by_server += 1
                    sock.close()
                    try:
                        conn[:] = list(self._open())
                    except OSError:
                        pass
            self.stopping.wait(1.0)
        for sock, _ in conns:
            sock.close()

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)


@dataclass
class Served:
    """What real clients saw: each request's time (s), and the ones that failed."""

    times: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times)
        return ordered[max(0, round(0.95 * len(ordered)) - 1)] if ordered else float("inf")

    def summary(self) -> str:
        total = len(self.times) + len(self.failures)
        return (
            f"{len(self.times)}/{total} requests answered, p95 {self.p95 * 1000:.0f} ms, "
            f"{len(self.failures)} failed or timed out"
        )


def real_clients(url: str, seconds: float, clients: int = 4, timeout: float = 5) -> Served:
    """`clients` browsers opening the start page, starting a questionnaire (a write) and
    opening its first step, over and over for `seconds`; every request timed."""
    served, lock = Served(), threading.Lock()

    def one(path: str, http: requests.Session, method: str = "GET", data=None):
        started = time.monotonic()
        try:
            response = http.request(
                method, url + path, data=data, timeout=timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            with lock:
                served.failures.append(f"{method} {path}: {type(exc).__name__}")
            return None
        took = time.monotonic() - started
        with lock:
            if response.status_code < 400:
                served.times.append(took)
            else:
                served.failures.append(f"{method} {path}: {response.status_code}")
        return response

    def browse() -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with requests.Session() as http:
                page = one("/", http)
                if page is None or page.status_code != 200:
                    continue
                token = page.text.split('name="csrf_token" value="', 1)[-1].split('"', 1)[0]
                if one("/start", http, "POST", {"csrf_token": token}) is not None:
                    one("/step/about", http)

    threads = [threading.Thread(target=browse, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 3 * timeout + 5)
    return served
