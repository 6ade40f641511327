"""Regular clean-up: expired drafts deleted (counted in the audit log), counted login
refusals written, old login attempts and rate counts forgotten.

Each worker runs it on its first request (so at start-up) and then hourly, inside the app;
`flask --app screening purge` runs it from cron too. Running it twice is harmless.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import sqlite_utils
from flask import Flask, current_app

from .store import audit, get_db, limits, transaction
from .store import staff as staff_store
from .store.submissions import purge_drafts

log = logging.getLogger(__name__)
EVERY_SECONDS = 3600


def run(db: sqlite_utils.Database, draft_hours: int) -> dict[str, int]:
    """One round; returns what it removed or wrote, by kind."""
    with transaction(db):
        drafts = purge_drafts(db, draft_hours)
        if drafts:
            audit.record(db, "drafts_purged", detail=f"{drafts} older than {draft_hours} h")
    return {
        "drafts": drafts,
        "counted logins written": audit.flush_tallies(db),
        "login attempts": staff_store.prune_attempts(db),
        "rate counts": limits.prune(db),
    }


@dataclass
class Schedule:
    """When this process runs the next round (monotonic seconds; 0: at the next request)."""

    every: float = EVERY_SECONDS
    next_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def due(self) -> bool:
        return time.monotonic() >= self.next_at


def _maybe_run() -> None:
    schedule: Schedule = current_app.extensions["housekeeping"]
    if not schedule.due() or not schedule.lock.acquire(blocking=False):
        return
    try:
        schedule.next_at = time.monotonic() + schedule.every
        run(get_db(), current_app.config["DRAFT_HOURS"])
    except Exception as exc:  # noqa: BLE001 - the request goes on; the next round retries
        log.error("housekeeping failed: %s", type(exc).__name__)
    finally:
        schedule.lock.release()


def init_app(app: Flask) -> None:
    app.extensions["housekeeping"] = Schedule()
    app.before_request(_maybe_run)
