"""Rate counters shared by every worker: how often an address did something this hour.

Fixed one-hour windows (by the UTC hour): simple to read and to prune. A limit of 0 means
no limit.
"""

from __future__ import annotations

import datetime as dt

import sqlite_utils

from .db import transaction


def _window(at: dt.datetime | None = None) -> str:
    return (at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H")


def take(db: sqlite_utils.Database, key: str, limit: int) -> bool:
    """Count one more for `key` this hour, unless `limit` are counted already (then count
    nothing and return False)."""
    if not limit:
        return True
    window = _window()
    with transaction(db):
        row = db.execute(
            "SELECT count FROM rate_counts WHERE key = ? AND window = ?", [key, window]
        ).fetchone()
        if row and row[0] >= limit:
            return False
        db.execute(
            "INSERT INTO rate_counts (key, window, count) VALUES (?, ?, 1) "
            "ON CONFLICT (key, window) DO UPDATE SET count = count + 1",
            [key, window],
        )
    return True


def prune(db: sqlite_utils.Database) -> int:
    """Forget the counts of past hours."""
    with transaction(db):
        return db.execute("DELETE FROM rate_counts WHERE window < ?", [_window()]).rowcount
