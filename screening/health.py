"""/healthz for monitoring: 200 when the database can be written and rules are in force, 503
with the problem's class otherwise. No data, no login, and no access-log line at INFO (a
monitor asking every minute would bury the log).
"""

from __future__ import annotations

import logging
import os
import threading
import time

from flask import Blueprint, Flask, current_app, jsonify

from . import content
from .store import checks

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)
PATH = "/healthz"
# A worker probes the database at most every HEALTH_PROBE_SECONDS (default 2); in between
# it repeats its last answer (the page needs no login: anyone may ask it, at any rate).
PROBE_SECONDS = 2.0


class _Probe:
    """The last database probe of this process, and when it was made."""

    def __init__(self, every: float):
        self.lock = threading.Lock()
        self.every = every
        self.at = -every
        self.pid = 0
        self.problem = None
        self.reported = None  # the problem last logged, so a change is logged once

    def database(self, path: str):
        now = time.monotonic()
        with self.lock:
            if self.pid != os.getpid() or now - self.at >= self.every:
                self.problem, self.at, self.pid = checks.probe(path), now, os.getpid()
                name = self.problem.name if self.problem else None
                if name != self.reported:
                    if name:
                        log.warning("health: database %s: %s", path, name)
                    elif self.reported:
                        log.warning("health: database %s: writable again", path)
                    self.reported = name
            return self.problem


@bp.get(PATH)
def healthz():
    """This worker's view: database, rules in force (version), integrity check."""
    app = current_app
    problem = app.extensions["health_probe"].database(app.config["DATABASE"])
    integrity = app.extensions["integrity"]
    state = content.rules_in_force()
    database = problem.name if problem else "ok"
    if integrity.failed:
        database = "corrupt"
    body = {
        "status": "ok" if database == "ok" else "unavailable",
        "database": database,
        "integrity_check": integrity.state,
        "rules_version": state.ruleset.version,
        "rules_file": "ok" if state.problem is None else "cannot be used (see staff pages)",
        "worker": os.getpid(),
    }
    return jsonify(body), 200 if database == "ok" else 503


class QuietHealthz(logging.Filter):
    """Drop /healthz access lines below WARNING: gunicorn's access log (its atoms carry the
    path as "U") and Werkzeug's development server (the request line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        args = record.args
        if isinstance(args, dict):
            return args.get("U") != PATH
        if isinstance(args, tuple) and args and isinstance(args[0], str):
            parts = args[0].split(" ")  # "GET /healthz HTTP/1.1"
            return not (len(parts) > 1 and parts[1].split("?")[0] == PATH)
        return True


_QUIET = QuietHealthz()


def init_app(app: Flask) -> None:
    app.extensions["health_probe"] = _Probe(
        float(app.config.get("HEALTH_PROBE_SECONDS", PROBE_SECONDS))
    )
    app.register_blueprint(bp)
    for name in ("gunicorn.access", "werkzeug"):
        logger = logging.getLogger(name)
        if _QUIET not in logger.filters:
            logger.addFilter(_QUIET)
