"""Appointments and their invitation links: who is booked when, whether the link was sent
and opened, the draft it opened or the submission that answers it, and the date-of-birth
check's failures and pause.

`submission_id` holds the draft an invitation link opened; submitting keeps the row's id,
so the submission that answers the appointment is that same row. A walk-in's submission is
attached when its name and date of birth match an appointment that day (or by hand).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from typing import Any

import sqlite_utils

from ..questionnaire import normalize_name
from . import audit
from .db import now, transaction

# The furthest an appointment's invitation got; in-progress and decided are read from the
# linked submission.
NEW, INVITED, OPENED, SUBMITTED = "new", "invited", "opened", "submitted"

_DAY_COLUMNS = (
    "a.*, s.status AS submission_status, s.outcome, s.decision, s.submitted_at, "
    "CASE WHEN s.status = 'draft' THEN s.answers END AS draft_answers, "
    "(SELECT d.defer_until FROM decisions d WHERE d.submission_id = s.id "
    "ORDER BY d.at DESC, d.id DESC LIMIT 1) AS defer_until, "
    # the latest invitation or reminder email: queued, sent or given up
    "(SELECT CASE WHEN o.sent_at IS NOT NULL THEN 'sent' WHEN o.failed_at IS NOT NULL "
    "THEN 'failed' ELSE 'queued' END FROM outbox o WHERE o.appointment_id = a.id "
    "AND o.kind IN ('invitation', 'reminder') ORDER BY o.id DESC LIMIT 1) AS mail_state"
)


def hash_token(token: str) -> str:
    """How a token is stored (as submissions.hash_token stores a draft's)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _later(**delta: float) -> str:
    then = dt.datetime.now(dt.UTC) + dt.timedelta(**delta)
    return then.replace(microsecond=0).isoformat()


def find_booked(db: sqlite_utils.Database, name: str, date_of_birth: str, day: str) -> int | None:
    """The id of an appointment for this person on this day, or None."""
    row = db.execute(
        "SELECT id FROM appointments WHERE name_key = ? AND date_of_birth = ? "
        "AND appointment_date = ?",
        [normalize_name(name), date_of_birth, day],
    ).fetchone()
    return row[0] if row else None


def add(
    db: sqlite_utils.Database,
    booking: dict[str, Any],
    link_nonce: str,
    token_hash: str,
    created_by: int | None = None,
) -> int:
    """Store one appointment (name, date_of_birth, email, phone, appointment_date,
    appointment_time, language) with its link's nonce and token hash; return its id."""
    with transaction(db):
        cur = db.execute(
            "INSERT INTO appointments (client_name, name_key, date_of_birth, email, phone, "
            "appointment_date, appointment_time, language, link_nonce, token_hash, status, "
            "created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                booking["name"],
                normalize_name(booking["name"]),
                booking["date_of_birth"],
                booking.get("email") or None,
                booking.get("phone") or None,
                booking["appointment_date"],
                booking.get("appointment_time") or None,
                booking.get("language") or None,
                link_nonce,
                token_hash,
                NEW,
                now(),
                created_by,
            ],
        )
        return cur.lastrowid


def last_language(db: sqlite_utils.Database, name_key: str, date_of_birth: str) -> str | None:
    """The language of this client's latest submission that has one, matched as a walk-in
    is matched to an appointment (the same name and date of birth), or None."""
    row = db.execute(
        "SELECT language FROM submissions WHERE status = 'submitted' AND name_key = ? "
        "AND date_of_birth = ? AND language IS NOT NULL ORDER BY submitted_at DESC, id DESC "
        "LIMIT 1",
        [name_key, date_of_birth],
    ).fetchone()
    return row[0] if row else None


def get(db: sqlite_utils.Database, appointment_id: int) -> dict | None:
    rows = list(
        db.query(
            f"SELECT {_DAY_COLUMNS} FROM appointments a "
            "LEFT JOIN submissions s ON s.id = a.submission_id WHERE a.id = ?",
            [appointment_id],
        )
    )
    return rows[0] if rows else None


def by_token_hash(db: sqlite_utils.Database, token_hash: str) -> dict | None:
    rows = list(db.query("SELECT * FROM appointments WHERE token_hash = ?", [token_hash]))
    return rows[0] if rows else None


def on_day(db: sqlite_utils.Database, day: dt.date) -> list[dict]:
    """A day's appointments by time (untimed last), then name, with their submission's state."""
    return list(
        db.query(
            f"SELECT {_DAY_COLUMNS} FROM appointments a "
            "LEFT JOIN submissions s ON s.id = a.submission_id WHERE a.appointment_date = ? "
            "ORDER BY a.appointment_time IS NULL, a.appointment_time, a.name_key, a.id",
            [day.isoformat()],
        )
    )


def upcoming_days(db: sqlite_utils.Database, first: dt.date, limit: int = 14) -> list[dict]:
    """Days from `first` on with appointments, and how many each has."""
    return list(
        db.query(
            "SELECT appointment_date AS day, count(*) AS count FROM appointments "
            "WHERE appointment_date >= ? GROUP BY appointment_date ORDER BY appointment_date "
            "LIMIT ?",
            [first.isoformat(), limit],
        )
    )


# The date-of-birth check -------------------------------------------------------------


def locked(row: dict) -> bool:
    """Whether the link is paused after too many wrong dates of birth."""
    return bool(row.get("locked_until")) and row["locked_until"] > now()


def check_attempt(
    db: sqlite_utils.Database, appointment_id: int, right: bool, max_failures: int, minutes: int
) -> tuple[str, int]:
    """Count one date-of-birth answer: ("ok" | "wrong" | "locked" (by this answer) |
    "paused" (already), tries left). The count and the pause are one transaction, so
    parallel guesses cannot slip past the limit."""
    with transaction(db):
        row = db.execute(
            "SELECT dob_failures, locked_until FROM appointments WHERE id = ?", [appointment_id]
        ).fetchone()
        failures, until = row
        if until and until > now():
            return "paused", 0
        if right:
            db.execute(
                "UPDATE appointments SET dob_failures = 0, locked_until = NULL WHERE id = ?",
                [appointment_id],
            )
            return "ok", max_failures
        failures += 1
        if failures >= max_failures:
            db.execute(
                "UPDATE appointments SET dob_failures = 0, locked_until = ? WHERE id = ?",
                [_later(minutes=minutes), appointment_id],
            )
            return "locked", 0
        db.execute(
            "UPDATE appointments SET dob_failures = ?, locked_until = NULL WHERE id = ?",
            [failures, appointment_id],
        )
        return "wrong", max_failures - failures


# Drafts opened by a link -------------------------------------------------------------


def open_draft(
    db: sqlite_utils.Database, appointment_id: int, answers: dict[str, Any], keep_hours: int
) -> str | None:
    """After the date-of-birth check: a new token for the appointment's live draft (so the
    same draft continues on this device, and no longer on the last one), or a new draft
    holding `answers`. None when the appointment is already answered."""
    token = secrets.token_urlsafe(32)
    stamp = now()
    cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=keep_hours)).replace(microsecond=0)
    with transaction(db):
        row = db.execute(
            "SELECT a.submission_id, s.status, s.updated_at FROM appointments a "
            "LEFT JOIN submissions s ON s.id = a.submission_id WHERE a.id = ?",
            [appointment_id],
        ).fetchone()
        submission_id, status, updated = row
        db.execute(
            "UPDATE appointments SET opened_at = coalesce(opened_at, ?), "
            "status = CASE WHEN status IN (?, ?) THEN ? ELSE status END WHERE id = ?",
            [stamp, NEW, INVITED, OPENED, appointment_id],
        )
        if status == "submitted":
            return None
        if status == "draft" and updated >= cutoff.isoformat():
            db.execute(
                "UPDATE submissions SET token_hash = ?, updated_at = ? WHERE id = ?",
                [hash_token(token), stamp, submission_id],
            )
            return token
        if status == "draft":  # abandoned: its answers are not kept (as start_draft does)
            db.execute("DELETE FROM submissions WHERE id = ?", [submission_id])
        cur = db.execute(
            "INSERT INTO submissions (token_hash, status, created_at, updated_at, answers) "
            "VALUES (?, 'draft', ?, ?, ?)",
            [hash_token(token), stamp, stamp, json.dumps(answers)],
        )
        db.execute(
            "UPDATE appointments SET submission_id = ? WHERE id = ?",
            [cur.lastrowid, appointment_id],
        )
        return token


def submitted_on(db: sqlite_utils.Database, appointment_id: int) -> str | None:
    """When the appointment's submission was sent, or None."""
    row = db.execute(
        "SELECT s.submitted_at FROM appointments a JOIN submissions s ON s.id = a.submission_id "
        "WHERE a.id = ? AND s.status = 'submitted'",
        [appointment_id],
    ).fetchone()
    return row[0] if row else None


# Attaching submissions -----------------------------------------------------------------


def on_submitted(db: sqlite_utils.Database, submission_id: int) -> int | None:
    """A submission was just stored: mark its appointment answered, or attach it to the one
    appointment that day with the same name and date of birth that has no submission yet.
    An automatic attachment is audited. Returns the appointment it was newly attached to."""
    with transaction(db):
        cur = db.execute(
            "UPDATE appointments SET status = ? WHERE submission_id = ?",
            [SUBMITTED, submission_id],
        )
        if cur.rowcount:
            return None
        matches = db.execute(
            "SELECT a.id FROM appointments a JOIN submissions n ON n.id = ? "
            "LEFT JOIN submissions s ON s.id = a.submission_id "
            "WHERE a.appointment_date = n.day AND a.name_key = n.name_key "
            "AND a.date_of_birth = n.date_of_birth "
            "AND (s.id IS NULL OR s.status = 'draft')",
            [submission_id],
        ).fetchall()
        if len(matches) != 1:
            return None
        appointment_id = matches[0][0]
        attach(db, appointment_id, submission_id)
        audit.record(
            db,
            "appointment_attach",
            submission_id=submission_id,
            detail=f"appointment {appointment_id} automatic",
        )
        return appointment_id


def attach(db: sqlite_utils.Database, appointment_id: int, submission_id: int) -> bool:
    """Make this submitted submission the one that answers the appointment (replacing an
    unfinished draft). False when either is taken or missing."""
    with transaction(db):
        free = db.execute(
            "SELECT 1 FROM submissions s WHERE s.id = ? AND s.status = 'submitted' "
            "AND NOT EXISTS (SELECT 1 FROM appointments WHERE submission_id = s.id)",
            [submission_id],
        ).fetchone()
        row = db.execute(
            "SELECT s.status FROM appointments a LEFT JOIN submissions s "
            "ON s.id = a.submission_id WHERE a.id = ?",
            [appointment_id],
        ).fetchone()
        if free is None or row is None or row[0] == "submitted":
            return False
        db.execute(
            "UPDATE appointments SET submission_id = ?, status = ? WHERE id = ?",
            [submission_id, SUBMITTED, appointment_id],
        )
        return True


def detach(db: sqlite_utils.Database, appointment_id: int) -> int | None:
    """Unlink the appointment's submitted submission (kept, just no longer its answer);
    return that submission's id, or None when there was none."""
    with transaction(db):
        row = db.execute(
            "SELECT a.submission_id, a.invited_at, a.opened_at FROM appointments a "
            "JOIN submissions s ON s.id = a.submission_id "
            "WHERE a.id = ? AND s.status = 'submitted'",
            [appointment_id],
        ).fetchone()
        if row is None:
            return None
        submission_id, invited, opened = row
        status = OPENED if opened else INVITED if invited else NEW
        db.execute(
            "UPDATE appointments SET submission_id = NULL, status = ? WHERE id = ?",
            [status, appointment_id],
        )
        return submission_id


def unattached_on(db: sqlite_utils.Database, day: dt.date) -> list[dict]:
    """A day's submitted submissions that answer no appointment (walk-ins), by name."""
    return list(
        db.query(
            "SELECT s.id, s.client_name, s.date_of_birth, s.submitted_at, s.outcome "
            "FROM submissions s WHERE s.status = 'submitted' AND s.day = ? AND NOT EXISTS "
            "(SELECT 1 FROM appointments a WHERE a.submission_id = s.id) ORDER BY s.name_key",
            [day.isoformat()],
        )
    )


# What is due for email ------------------------------------------------------------------


def to_invite(db: sqlite_utils.Database, first: dt.date, last: dt.date | None) -> list[dict]:
    """Appointments from `first` (to `last`) with an email address and no invitation queued."""
    where, params = ["a.email IS NOT NULL", "a.appointment_date >= ?"], [first.isoformat()]
    if last is not None:
        where.append("a.appointment_date <= ?")
        params.append(last.isoformat())
    return list(
        db.query(
            "SELECT a.* FROM appointments a WHERE "
            + " AND ".join(where)
            + " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.appointment_id = a.id "
            "AND o.kind = 'invitation') ORDER BY a.appointment_date, a.id",
            params,
        )
    )


def to_remind(
    db: sqlite_utils.Database, first: dt.date, last: dt.date, invited_before: str
) -> list[dict]:
    """Appointments from `first` to `last`, invited by email before `invited_before`, not
    answered and never reminded."""
    return list(
        db.query(
            "SELECT a.* FROM appointments a LEFT JOIN submissions s ON s.id = a.submission_id "
            "WHERE a.email IS NOT NULL AND a.appointment_date BETWEEN ? AND ? "
            "AND a.invited_at IS NOT NULL AND a.invited_at <= ? "
            "AND (s.status IS NULL OR s.status != 'submitted') "
            "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.appointment_id = a.id "
            "AND o.kind = 'reminder') ORDER BY a.appointment_date, a.id",
            [first.isoformat(), last.isoformat(), invited_before],
        )
    )


def to_alert(db: sqlite_utils.Database, first: dt.date, outcomes: tuple[str, ...]) -> list[dict]:
    """Appointments from `first` on answered with one of `outcomes`, with no alert queued for
    that submission yet."""
    marks = ", ".join("?" for _ in outcomes)
    return list(
        db.query(
            "SELECT a.id, a.appointment_date, a.appointment_time, s.id AS submission_id, "
            "s.submitted_at FROM appointments a JOIN submissions s ON s.id = a.submission_id "
            f"WHERE a.appointment_date >= ? AND s.status = 'submitted' AND s.outcome IN ({marks}) "
            "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.idempotency_key = "
            "'alert:' || a.id || ':' || s.id) ORDER BY a.id",
            [first.isoformat(), *outcomes],
        )
    )


def mark_sent(db: sqlite_utils.Database, appointment_id: int, kind: str, at: str) -> None:
    """An invitation or reminder went out (inside the outbox's transaction)."""
    if kind == "invitation":
        db.execute(
            "UPDATE appointments SET invited_at = ?, "
            "status = CASE WHEN status = ? THEN ? ELSE status END WHERE id = ?",
            [at, NEW, INVITED, appointment_id],
        )
    elif kind == "reminder":
        db.execute("UPDATE appointments SET reminded_at = ? WHERE id = ?", [at, appointment_id])
