"""Providers' decisions on submissions and contacts with the client: a history, never
edited (triggers refuse it)."""

from __future__ import annotations

import sqlite_utils

from ..vocab import CONTACT_METHODS, DECISIONS, DEFER_UNTIL
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


def record_contact(
    db: sqlite_utils.Database,
    submission_id: int,
    method: str,
    *,
    user: dict,
    note: str = "",
    at: str | None = None,
) -> None:
    """Store that staff contacted the client (how, a note) and its audit row: all or none."""
    if method not in CONTACT_METHODS:
        raise ValueError(f"unknown contact method {method!r}")
    with transaction(db):
        db.execute(
            "INSERT INTO contacts (submission_id, method, note, user_id, at) "
            "VALUES (?, ?, ?, ?, ?)",
            [submission_id, method, note, user["id"], at or now()],
        )
        audit.record(
            db,
            "contact",
            user_id=user["id"],
            username=user["username"],
            submission_id=submission_id,
            detail=method,
        )


def timeline(db: sqlite_utils.Database, submission_id: int) -> list[dict]:
    """Decisions and contacts together, newest first; each has `kind` ("decision" or
    "contact") and the latest decision has `current` set."""
    entries = [{**d, "kind": "decision", "current": False} for d in history(db, submission_id)]
    if entries:
        entries[0]["current"] = True
    entries += [
        {**c, "kind": "contact"}
        for c in db.query(
            "SELECT c.method, c.note, c.at, u.username, u.name "
            "FROM contacts c LEFT JOIN users u ON u.id = c.user_id "
            "WHERE c.submission_id = ? ORDER BY c.at DESC, c.id DESC",
            [submission_id],
        )
    ]
    return sorted(entries, key=lambda e: e["at"], reverse=True)
