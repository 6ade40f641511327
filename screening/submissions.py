"""The domain: drafts a client fills step by step, and submitting them (judge once, store).

A draft is found by a random token that lives only in the client's session cookie; the
database keeps its sha256, so a copy of the database cannot resume anyone's draft.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from .db import now, transaction
from .questionnaire import Questionnaire, normalize_name

OUTCOME_RANK = {"refer": 0, "defer": 1, "review": 2, "prep": 3, "clear": 4}
# How long the same review form posted again (a double tap, a retried request) still returns
# the first result; later, a replayed cookie reaches nothing.
REPLAY_MINUTES = 10


class InvalidAnswers(Exception):
    """The answers as a whole are not valid; `errors` maps question ids to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(f"{len(errors)} invalid answer(s)")
        self.errors = errors


@dataclass
class Draft:
    id: int
    answers: dict[str, Any]
    updated_at: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_draft(db: sqlite_utils.Database, keep_hours: int) -> str:
    """Create an empty draft and return its token (for the session cookie only)."""
    token = secrets.token_urlsafe(32)
    stamp = now()
    with transaction(db):
        # Abandoned drafts are health data nobody will finish: do not keep them.
        cutoff = _hours_ago(keep_hours)
        db.execute("DELETE FROM submissions WHERE status = 'draft' AND updated_at < ?", [cutoff])
        db.execute(
            "INSERT INTO submissions (token_hash, status, created_at, updated_at, answers) "
            "VALUES (?, 'draft', ?, ?, '{}')",
            [hash_token(token), stamp, stamp],
        )
    return token


def find_draft(db: sqlite_utils.Database, token: str | None, keep_hours: int) -> Draft | None:
    """The live draft for this token, or None (unknown, submitted, or older than keep_hours)."""
    if not token or not isinstance(token, str):
        return None
    rows = list(
        db.query(
            "SELECT id, answers, updated_at FROM submissions "
            "WHERE token_hash = ? AND status = 'draft' AND updated_at >= ?",
            [hash_token(token), _hours_ago(keep_hours)],
        )
    )
    if not rows:
        return None
    row = rows[0]
    return Draft(row["id"], json.loads(row["answers"]), row["updated_at"])


def save_answers(
    db: sqlite_utils.Database, draft_id: int, values: dict[str, Any], qn: Questionnaire
) -> dict[str, Any]:
    """Merge a step's answers into the draft at once; questions now hidden are cleared."""
    with transaction(db):
        row = db.execute(
            "SELECT answers FROM submissions WHERE id = ? AND status = 'draft'", [draft_id]
        ).fetchone()
        if row is None:
            return {}
        answers = {**json.loads(row[0]), **values}
        answers = {k: v for k, v in qn.normalize(answers).items() if v is not None}
        db.execute(
            "UPDATE submissions SET answers = ?, updated_at = ? WHERE id = ?",
            [json.dumps(answers), now(), draft_id],
        )
    return answers


def discard_draft(db: sqlite_utils.Database, token: str | None) -> None:
    """Delete a draft (kiosk start-over): nobody can reach it again."""
    if token and isinstance(token, str):
        with transaction(db):
            db.execute(
                "DELETE FROM submissions WHERE token_hash = ? AND status = 'draft'",
                [hash_token(token)],
            )


def first_incomplete_step(qn: Questionnaire, answers: dict[str, Any], today: dt.date):
    """The first step with a missing or invalid answer (where to resume), or None."""
    for section in qn.steps:
        ids = [q.id for q in section.step_questions]
        if qn.validate(answers, today, ids):
            return section
    return None


def scoped_submit_key(token: str, submit_key: str | None) -> str | None:
    """The key as stored: bound to the draft's token, so a key sent by one client (the form
    field is the client's to change) can never collide with another client's."""
    if not submit_key or not isinstance(token, str) or not isinstance(submit_key, str):
        return None
    return hashlib.sha256(f"{token}\0{submit_key}".encode()).hexdigest()


def find_by_submit_key(db: sqlite_utils.Database, token: str | None, submit_key: str | None):
    """A submission stored with this one-time key by this same session in the last few
    minutes (a double tap), or None: after that the old cookie opens nothing."""
    key = scoped_submit_key(token, submit_key)
    if key is None:
        return None
    row = db.execute(
        "SELECT id FROM submissions WHERE submit_key = ? AND token_hash = ? "
        "AND status = 'submitted' AND submitted_at >= ?",
        [key, hash_token(token), _minutes_ago(REPLAY_MINUTES)],
    ).fetchone()
    return row[0] if row else None


def submit(
    db: sqlite_utils.Database,
    token: str,
    submit_key: str,
    final: dict[str, Any],
    qn: Questionnaire,
    ruleset,
    today: dt.date,
    keep_hours: int,
) -> int | None:
    """Validate the whole draft, judge it once and store it as submitted, in one transaction.

    Returns the submission id (the first one when the same key is sent twice), or None when
    the draft is gone. Raises InvalidAnswers when the answers as a whole are not valid.
    """
    with transaction(db):
        earlier = find_by_submit_key(db, token, submit_key)
        if earlier is not None:
            return earlier
        draft = find_draft(db, token, keep_hours)
        if draft is None:
            return None
        answers = qn.normalize({**draft.answers, **final})
        errors = qn.validate(answers, today)
        if errors:
            raise InvalidAnswers(errors)
        _store(db, draft.id, answers, qn, ruleset, today, scoped_submit_key(token, submit_key))
        return draft.id


def import_answers(
    db: sqlite_utils.Database,
    raw: Any,
    qn: Questionnaire,
    ruleset,
    today: dt.date,
    submitted_at: str | None = None,
) -> int:
    """Create a submitted submission from an answers object (the wizard's validation)."""
    if not isinstance(raw, dict):
        raise InvalidAnswers({"(file)": "expected a JSON object of answers by question id"})
    errors = {qid: f"{qid}: not a question of this questionnaire" for qid in qn.unknown_ids(raw)}
    answers = qn.normalize(raw)
    errors.update(qn.validate(answers, today))
    if errors:
        raise InvalidAnswers(errors)
    stamp = submitted_at or now()
    with transaction(db):
        cur = db.execute(
            "INSERT INTO submissions (status, created_at, updated_at, answers) "
            "VALUES ('draft', ?, ?, '{}')",
            [stamp, stamp],
        )
        _store(db, cur.lastrowid, answers, qn, ruleset, today, None, stamp)
        return cur.lastrowid


def _store(
    db,
    submission_id: int,
    answers: dict[str, Any],
    qn: Questionnaire,
    ruleset,
    today: dt.date,
    submit_key: str | None,
    stamp: str | None = None,
) -> None:
    """Judge the answers with the rules and store the submission (inside a transaction)."""
    stamp = stamp or now()
    flags, outcome, version = [], "clear", None
    if ruleset is not None:
        evaluation = ruleset.evaluate(answers, today)
        flags, outcome, version = evaluation.flags, evaluation.outcome, ruleset.version
        db.execute(
            "INSERT OR IGNORE INTO rules_versions (hash, text, first_seen) VALUES (?, ?, ?)",
            [version, ruleset.text, stamp],
        )
    name = " ".join(str(answers["full_name"]).split())
    day = answers.get("appointment_date") or local_day(stamp)
    db.execute(
        "UPDATE submissions SET status = 'submitted', submitted_at = ?, updated_at = ?, "
        "client_name = ?, name_key = ?, date_of_birth = ?, appointment_date = ?, day = ?, "
        "answers = ?, questionnaire_version = ?, rules_version = ?, flags = ?, outcome = ?, "
        "outcome_rank = ?, flag_count = ?, submit_key = ? WHERE id = ?",
        [
            stamp,
            stamp,
            name,
            normalize_name(name),
            answers["date_of_birth"],
            answers.get("appointment_date"),
            day,
            json.dumps(answers),
            qn.version,
            version,
            json.dumps(flags),
            outcome,
            OUTCOME_RANK[outcome],
            len(flags),
            submit_key,
            submission_id,
        ],
    )


def get_submission(db: sqlite_utils.Database, submission_id: int) -> dict | None:
    """A submitted submission with its answers and flags decoded, or None."""
    rows = list(
        db.query("SELECT * FROM submissions WHERE id = ? AND status = 'submitted'", [submission_id])
    )
    if not rows:
        return None
    row = rows[0]
    row["answers"] = json.loads(row["answers"])
    row["flags"] = json.loads(row["flags"] or "[]")
    return row


def local_day(stamp: str) -> str:
    """The clinic's (server's local) date of a stored UTC time."""
    return dt.datetime.fromisoformat(stamp).astimezone().date().isoformat()


def _hours_ago(hours: int) -> str:
    return _minutes_ago(hours * 60)


def _minutes_ago(minutes: float) -> str:
    then = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
    return then.replace(microsecond=0).isoformat()
