"""Providers' decisions on submissions: a history, never edited (triggers refuse it)."""

from __future__ import annotations

import sqlite_utils

from ..vocab import DECISIONS, DEFER_UNTIL
from . import audit, summaries
from .db import now, transaction


def record(
    db: sqlite_utils.Database,
    submission_id: int,
    decision: str,
    *,
    user: dict,
    defer_until: str | None = None,
    note: str = "",
    at: str | None = None,
) -> None:
    """Store a decision, the submission's current decision and its audit row: all or none.

    `user` is {"id", "username"} of the provider deciding.
    """
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    if decision != DEFER_UNTIL:
        defer_until = None
    with transaction(db):
        db.execute(
            "INSERT INTO decisions (submission_id, decision, defer_until, note, user_id, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [submission_id, decision, defer_until, note, user["id"], at or now()],
        )
        db.execute("UPDATE submissions SET decision = ? WHERE id = ?", [decision, submission_id])
        audit.record(
            db,
            "decision",
            user_id=user["id"],
            username=user["username"],
            submission_id=submission_id,
            detail=decision,
        )
        summaries.queue(db, [submission_id])  # the stored summary shows the last decision


def history(db: sqlite_utils.Database, submission_id: int) -> list[dict]:
    """A submission's decisions, newest first, with who made them."""
    return list(
        db.query(
            "SELECT d.decision, d.defer_until, d.note, d.at, u.username, u.name "
            "FROM decisions d LEFT JOIN users u ON u.id = d.user_id "
            "WHERE d.submission_id = ? ORDER BY d.at DESC, d.id DESC",
            [submission_id],
        )
    )
