"""Real-browser helpers: the app under gunicorn on a free port, screenshots."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from helpers import TEST_ENV

from screening.config import ROOT
from screening.store import init_db

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "build" / "screenshots"
# The screenshots README.md and docs/ show: written there by `make screenshots` only, so
# that running the tests leaves the checkout as it was (build/screenshots/docs otherwise).
DOCS = ROOT / "docs" if os.environ.get("SCREENING_UPDATE_DOCS") else SCREENSHOTS / "docs"
DOCS.mkdir(parents=True, exist_ok=True)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving the app on 127.0.0.1 with a temporary instance."""

    def __init__(self, folder: Path, **settings):
        self.folder = folder
        self.database = folder / "screening.db"
        init_db(self.database)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "SCREENING_DATABASE": str(self.database),
            "SCREENING_SECRET_KEY": "browser-tests-secret",
            "SCREENING_BASE_URL": self.url,  # emailed links lead here
            **TEST_ENV,
        }
        env.update({f"SCREENING_{k}": str(v) for k, v in settings.items()})
        self.env = env
        self.log = open(folder / "server.log", "wb")  # noqa: SIM115 - open until stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--preload",
                "--bind",
                f"127.0.0.1:{self.port}",
                "screening:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/", timeout=1).read()
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            "the server did not start: " + (folder / "server.log").read_text()[-2000:]
        )

    def flask(self, *args: str, input: str | None = None) -> str:
        """Run a `flask --app screening` command against this server's instance."""
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "screening", *args],
            cwd=ROOT,
            env=self.env,
            check=False,
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr + result.stdout
        return result.stdout

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


def screenshot(page, name: str) -> None:
    """Keep a full-page screenshot in build/screenshots/ (not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
