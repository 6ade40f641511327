"""Fail loudly at start-up: instance/config.py and the database are usable, or the app stops
with one line naming the file and the cause. The database's integrity (PRAGMA quick_check)
is checked in the background, once per worker: at 100,000 submissions it takes 0.4 s with
the file in the page cache and 5 to 6 s from a cold disk on this project's test machine,
too long to hold up start-up. Until it has passed every page works as usual; if it fails,
every write is refused (and /healthz answers 503 "corrupt") until the file is restored.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask, current_app, request

from . import web
from .store import checks, get_db
from .store import errors as store_errors

log = logging.getLogger(__name__)

# Commands that must run without a usable database: `rules` checks a rules file on a laptop,
# `init-db` creates or upgrades the database, and "" is `flask --app screening --help`.
NO_DATABASE_COMMANDS = ("rules", "init-db", "")
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def stop(message: str) -> NoReturn:
    """Stop start-up with one clear message and no traceback."""
    raise SystemExit(f"screening: cannot start: {message}")


def read_config_file(app: Flask) -> None:
    """Load instance/config.py if there is one; any problem is one line (file, line, cause),
    never a traceback, and never the text of the line (it may hold the SECRET_KEY)."""
    path = Path(app.instance_path) / "config.py"
    try:
        app.config.from_pyfile("config.py", silent=True)
    except SyntaxError as exc:
        stop(f"{path}:{exc.lineno}: not valid Python ({exc.msg})")
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        stop(f"{path} cannot be read by user {checks._user()} ({reason}): fix its owner or mode")
    except Exception as exc:  # noqa: BLE001 - any failure of the file becomes its one line
        lines = [
            f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)
        ]
        where = f"{path}:{lines[-1]}" if lines else str(path)
        stop(f"{where}: {type(exc).__name__} while reading the settings")


def command() -> str | None:
    """The `flask` command this process runs (`rules`, `init-db`..., "" for none), or None
    when it is not the flask command line (gunicorn, an app built in code)."""
    if click.get_current_context(silent=True) is None:
        return None
    args, words = sys.argv[1:], []
    while args:
        arg = args.pop(0)
        if arg in ("--app", "-A", "--env-file", "-e"):
            args = args[1:]
        elif not arg.startswith("-"):
            words.append(arg)
    return words[0] if words else ""


def needs_database() -> bool:
    return command() not in NO_DATABASE_COMMANDS


def check_database(app: Flask) -> None:
    """Stop start-up unless the database exists, is readable and writable with its folder,
    is an SQLite database and is at this app's schema."""
    try:
        checks.check(app.config["DATABASE"])
    except checks.DatabaseProblem as exc:
        stop(f"database {exc}")


class Integrity:
    """PRAGMA quick_check of the database, run once per process in a background thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._done = threading.Event()
        self.findings: list[str] = []

    @property
    def failed(self) -> bool:
        return self._done.is_set() and bool(self.findings)

    @property
    def state(self) -> str:
        if self._pid != os.getpid():
            return "not checked"
        if not self._done.is_set():
            return "checking"
        return "failed" if self.findings else "ok"

    def start(self, path: str) -> None:
        """Start the check in this process unless it has started already (a forked worker
        starts its own: threads do not survive a fork)."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid, self._done, self.findings = os.getpid(), threading.Event(), []
            threading.Thread(
                target=self._run, args=(path,), name="quick_check", daemon=True
            ).start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the check to finish (tests, and callers who must know)."""
        return self._done.wait(timeout)

    def _run(self, path: str) -> None:
        try:
            findings = checks.quick_check(path)
        except Exception as exc:  # noqa: BLE001 - a check that cannot run is a finding
            findings = [f"the check could not run ({type(exc).__name__})"]
        self.findings = findings
        self._done.set()
        if findings:
            log.error(
                "database %s failed its integrity check (PRAGMA quick_check: %s); refusing "
                "every write: stop the app and %s",
                path,
                "; ".join(findings)[:300],
                checks.RESTORE,
            )


def integrity(app: Flask | None = None) -> Integrity:
    return (app or current_app).extensions["integrity"]


def _guard() -> None:
    """Before each request: start this process's integrity check; once it has failed,
    refuse writes (a post gets the database error page; any other write fails in SQLite)."""
    state = integrity()
    state.start(current_app.config["DATABASE"])
    if not state.failed or request.endpoint in ("static", "health.healthz"):
        return
    if request.method in WRITES:
        return web.database_error_page(store_errors.CORRUPT)
    checks.refuse_writes(get_db())


def init_app(app: Flask, check: bool) -> None:
    """Keep the per-process integrity state; with `check`, guard every request with it."""
    app.extensions["integrity"] = Integrity()
    if check:
        app.before_request(_guard)
