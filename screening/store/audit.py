"""The append-only audit log: who did what, when, to which submission. Never an answer.

`detail` holds only codes (a decision, a target username, a print kind), never client
names or free text. Triggers refuse UPDATE and DELETE (migration 0003).
"""

from __future__ import annotations

import datetime as dt

import sqlite_utils

from ..vocab import AUDIT_ACTIONS
from .db import local_midnight_utc, now, transaction


def record(
    db: sqlite_utils.Database,
    action: str,
    *,
    user_id: int | None = None,
    username: str | None = None,
    submission_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Append one row; inside a caller's transaction it is stored with that transaction's
    writes or not at all."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    with transaction(db):
        db.execute(
            "INSERT INTO audit (at, user_id, username, action, submission_id, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [now(), user_id, username, action, submission_id, detail],
        )


def rows(
    db: sqlite_utils.Database,
    action: str | None = None,
    username: str | None = None,
    submission_id: int | None = None,
    day: dt.date | None = None,
    before: int | None = None,
    limit: int = 100,
) -> tuple[list[dict], bool]:
    """Audit rows, newest first, and whether older ones exist."""
    where, params = ["1 = 1"], []
    for column, value in (
        ("action", action),
        ("username", username),
        ("submission_id", submission_id),
    ):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if day:
        where.append("at >= ? AND at < ?")
        params += [local_midnight_utc(day), local_midnight_utc(day + dt.timedelta(days=1))]
    if before:
        where.append("id < ?")
        params.append(before)
    found = list(
        db.query(
            f"SELECT * FROM audit WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT {limit + 1}",
            params,
        )
    )
    return found[:limit], len(found) > limit
