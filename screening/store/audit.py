"""The append-only audit log: who did what, when, to which submission. Never an answer.

`detail` holds only codes (a decision, a target username, a print kind), never client
names or free text. Triggers refuse UPDATE and DELETE (migration 0003).
"""

from __future__ import annotations

import datetime as dt

import sqlite_utils

from ..vocab import AUDIT_ACTIONS
from .db import ago, local_midnight_utc, now, transaction


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


# Refused and failed logins: the first few in an hour are written one row each; the rest
# are counted, then written as one row (anyone can send them, and rows are never removed).
TALLY_FIRST = 3
TALLY_MINUTES = 60
TALLY_ACTION = "login_counted"


def tally(
    db: sqlite_utils.Database,
    action: str,
    *,
    user_id: int | None = None,
    username: str | None = None,
    detail: str | None = None,
) -> bool:
    """Record one of a kind of event anyone can repeat at will: a row of its own for the
    first few per account (unknown accounts together) and hour, a count for the others.
    True when it got a row of its own."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    key = user_id or 0
    with transaction(db):
        found = db.execute(
            "SELECT since, count FROM audit_tallies WHERE action = ? AND user_key = ?",
            [action, key],
        ).fetchone()
        if found and found[0] < ago(minutes=TALLY_MINUTES):
            _flush(db, action, key)
            found = None
        stamp = now()
        if found is None:
            db.execute(
                "INSERT INTO audit_tallies (action, user_key, user_id, username, since, last, "
                "count) VALUES (?, ?, ?, ?, ?, ?, 1)",
                [action, key, user_id, username, stamp, stamp],
            )
        else:
            db.execute(
                "UPDATE audit_tallies SET count = count + 1, last = ? "
                "WHERE action = ? AND user_key = ?",
                [stamp, action, key],
            )
        if found is None or found[1] < TALLY_FIRST:
            record(db, action, user_id=user_id, username=username, detail=detail)
            return True
    return False


def flush_tallies(db: sqlite_utils.Database, minutes: float = TALLY_MINUTES) -> int:
    """Write the counts of tallies begun `minutes` ago or earlier as one row each, and start
    them afresh; return how many rows were written."""
    written = 0
    with transaction(db):
        due = db.execute(
            "SELECT action, user_key FROM audit_tallies WHERE since <= ?", [ago(minutes=minutes)]
        ).fetchall()
        for action, key in due:
            written += _flush(db, action, key)
    return written


def _flush(db, action: str, key: int) -> int:
    row = db.execute(
        "SELECT user_id, username, since, last, count FROM audit_tallies "
        "WHERE action = ? AND user_key = ?",
        [action, key],
    ).fetchone()
    db.execute("DELETE FROM audit_tallies WHERE action = ? AND user_key = ?", [action, key])
    if row is None or row[4] <= TALLY_FIRST:
        return 0
    user_id, username, since, last, count = row
    record(
        db,
        TALLY_ACTION,
        user_id=user_id,
        username=username,
        detail=f"{count - TALLY_FIRST} more {action} from {since} to {last}",
    )
    return 1


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
