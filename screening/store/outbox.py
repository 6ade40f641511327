"""The outbox: email waiting to go out, worked outside requests by the CLI and the app's
worker thread.

Each message has an idempotency key (`invitation:12`, `reminder:12`, `alert:12:40`), so
queuing it twice is a no-op and no command run twice sends anything twice. A worker claims
due rows in a transaction (a lease), so several gunicorn workers and a cron job never send
one row together. A sent row keeps who and what, not its body: the body held the link.
"""

from __future__ import annotations

import datetime as dt

import sqlite_utils

from . import appointments
from .db import now, transaction

LEASE_MINUTES = 5  # a claimed row not marked sent or failed by then is tried again


def _later(**delta: float) -> str:
    then = dt.datetime.now(dt.UTC) + dt.timedelta(**delta)
    return then.replace(microsecond=0).isoformat()


def enqueue(
    db: sqlite_utils.Database, kind: str, key: str, message, appointment_id: int | None = None
) -> bool:
    """Queue one message (its to, subject, text and html); False when a message with this
    key was queued before."""
    stamp = now()
    with transaction(db):
        cur = db.execute(
            "INSERT OR IGNORE INTO outbox (kind, appointment_id, idempotency_key, to_address, "
            "subject, text_body, html_body, next_try_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                kind,
                appointment_id,
                key,
                message.to,
                message.subject,
                message.text,
                message.html,
                stamp,
                stamp,
            ],
        )
        return cur.rowcount == 1


def queued(db: sqlite_utils.Database, key: str) -> bool:
    """Whether a message with this key was ever queued."""
    return (
        db.execute("SELECT 1 FROM outbox WHERE idempotency_key = ?", [key]).fetchone() is not None
    )


def pending_for(db: sqlite_utils.Database, appointment_id: int) -> bool:
    """Whether an invitation or reminder for this appointment is still waiting to go out."""
    row = db.execute(
        "SELECT 1 FROM outbox WHERE appointment_id = ? AND kind IN ('invitation', 'reminder') "
        "AND sent_at IS NULL AND failed_at IS NULL",
        [appointment_id],
    ).fetchone()
    return row is not None


def claim(db: sqlite_utils.Database, limit: int = 20) -> list[dict]:
    """Take up to `limit` due messages for this worker (a lease of LEASE_MINUTES)."""
    stamp = now()
    with transaction(db):
        rows = list(
            db.query(
                "SELECT id, kind, appointment_id, to_address, subject, text_body, html_body, "
                "attempts FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL "
                "AND next_try_at <= ? AND (claimed_until IS NULL OR claimed_until < ?) "
                "ORDER BY next_try_at, id LIMIT ?",
                [stamp, stamp, limit],
            )
        )
        if rows:
            marks = ", ".join("?" for _ in rows)
            db.execute(
                f"UPDATE outbox SET claimed_until = ? WHERE id IN ({marks})",
                [_later(minutes=LEASE_MINUTES), *(r["id"] for r in rows)],
            )
    return rows


def mark_sent(db: sqlite_utils.Database, row: dict) -> None:
    """The message went out: keep the row without its body; note it on the appointment."""
    stamp = now()
    with transaction(db):
        db.execute(
            "UPDATE outbox SET sent_at = ?, claimed_until = NULL, attempts = attempts + 1, "
            "text_body = NULL, html_body = NULL, last_error = NULL WHERE id = ?",
            [stamp, row["id"]],
        )
        if row["appointment_id"] is not None:
            appointments.mark_sent(db, row["appointment_id"], row["kind"], stamp)


def mark_failed(
    db: sqlite_utils.Database, row: dict, error: str, retry_in: dt.timedelta | None
) -> None:
    """A try failed: try again after `retry_in`, or give up (None). `error` names the kind
    of failure only (never an address)."""
    with transaction(db):
        if retry_in is None:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, claimed_until = NULL, "
                "failed_at = ?, last_error = ? WHERE id = ?",
                [now(), error, row["id"]],
            )
        else:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, claimed_until = NULL, "
                "next_try_at = ?, last_error = ? WHERE id = ?",
                [_later(seconds=retry_in.total_seconds()), error, row["id"]],
            )


def waiting(db: sqlite_utils.Database) -> int:
    """How many messages are still to go out (due or later)."""
    return db.execute(
        "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
    ).fetchone()[0]
