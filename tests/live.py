"""A real gunicorn serving the app for tests: a free localhost port, its own process group
(so SIGKILL reaches the master and every worker), stdout/stderr captured to files.

Used through the `gunicorn` fixture in conftest.py, which kills every server it started.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from helpers import TEST_ENV

from screening.config import ROOT
from screening.store import init_db

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
TESTS = Path(__file__).resolve().parent
SECRET_KEY = "live-test-secret-key"  # not JSON: SCREENING_* values are parsed as JSON
# Every logger in the server process at DEBUG: root (so the app's own loggers and werkzeug
# propagate to it) to stderr; gunicorn keeps its own error and access handlers.
DEBUG_LOGGING = {
    "root": {"level": "DEBUG", "handlers": ["error_console"]},
    "loggers": {"screening": {"level": "DEBUG"}, "werkzeug": {"level": "DEBUG"}},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One gunicorn master and its workers, on 127.0.0.1, over a database file of its own."""

    def __init__(
        self,
        workdir: Path,
        database: Path | None = None,
        workers: int = 4,
        app: str = "screening:create_app()",
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        name: str = "server",
        debug_logs: bool = False,
    ):
        self.workdir = Path(workdir)
        self.database = Path(database or self.workdir / "live.db")
        self.workers, self.app, self.args = workers, app, tuple(args)
        self.extra_env = dict(env or {})
        self.name = name
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.stdout_path = self.workdir / f"{name}-{self.port}.out"
        self.stderr_path = self.workdir / f"{name}-{self.port}.err"
        if debug_logs:  # everything at DEBUG, the access log on stdout
            config = self.workdir / f"{name}-{self.port}-logging.json"
            config.write_text(json.dumps(DEBUG_LOGGING))
            self.args += (
                "--log-level",
                "debug",
                "--access-logfile",
                "-",
                "--log-config-json",
                str(config),
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> Server:
        """Start gunicorn and wait until it answers; raise with its output if it cannot."""
        init_db(self.database)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SCREENING_", "FLASK_"))}
        env.update(
            {
                "SCREENING_DATABASE": str(self.database),
                "SCREENING_SECRET_KEY": SECRET_KEY,
                # Test-only app factories (an extra route that fails) live in tests/.
                "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS)]),
                "PYTHONUNBUFFERED": "1",
                **TEST_ENV,
                **self.extra_env,
            }
        )
        command = [
            GUNICORN,
            "-c",
            "python:screening.gunicorn_conf",
            "--preload",
            "-w",
            str(self.workers),
            "-b",
            f"127.0.0.1:{self.port}",
            # one control socket per user by default: several servers would share it
            "--no-control-socket",
            *self.args,
            self.app,
        ]
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            self.process = subprocess.Popen(
                command,
                cwd=self.workdir,
                env=env,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited {self.process.returncode}:\n{self.output()}")
            try:
                if requests.get(self.url + "/", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL the whole process group (master and workers), as a crash would."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        self._wait_group_gone()

    def stop(self, timeout: float = 10) -> None:
        """Stop gracefully (SIGTERM to the master), then make sure nothing is left."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def _wait_group_gone(self, timeout: float = 10) -> None:
        """Wait until no process of the group runs (zombies awaiting their reaper hold
        nothing: sockets and files are closed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._running_in_group():
            time.sleep(0.02)

    def _running_in_group(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.process.pid and fields[0] != "Z":
                return True
        return not Path("/proc/self/stat").exists()  # no /proc: trust killpg alone

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def output(self) -> str:
        """Everything the server printed: stdout (access log) then stderr (error log)."""
        return self.stdout() + self.stderr()
