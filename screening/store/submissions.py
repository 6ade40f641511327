"""Submissions: drafts a client fills step by step, and submitting them (judge once, store).

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

from ..questionnaire import Questionnaire, normalize_name
from ..vocab import CLEAR, OUTCOMES
from . import appointments, summaries
from .db import ago, local_day, now, transaction

# How long the same review form posted again (a double tap, a retried request) still returns
# the first result; later, a replayed cookie reaches nothing.
REPLAY_MINUTES = 10

# A client's reference code: six characters a person can read out and type back without
# mixing them up (no 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G, U/V), shown as two groups of three.
REFERENCE_ALPHABET = "ACDEFHJKMNPRTVWXY34679"
REFERENCE_LENGTH = 6


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

    @property
    def revision(self) -> str:
        """Names the answers a page was rendered from: a form posted with another revision
        was made from older answers, and must not overwrite the ones saved since."""
        text = json.dumps(self.answers, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_draft(db: sqlite_utils.Database, keep_hours: int) -> str:
    """Create an empty draft and return its token (for the session cookie only). Old drafts
    are removed by `purge_drafts` on a schedule, not here."""
    token = secrets.token_urlsafe(32)
    stamp = now()
    with transaction(db):
        db.execute(
            "INSERT INTO submissions (token_hash, status, created_at, updated_at, answers) "
            "VALUES (?, 'draft', ?, ?, '{}')",
            [hash_token(token), stamp, stamp],
        )
    return token


def purge_drafts(db: sqlite_utils.Database, keep_hours: int) -> int:
    """Delete drafts not saved for `keep_hours` (health data nobody will finish, which would
    otherwise land in backups); return how many."""
    with transaction(db):
        return db.execute(
            "DELETE FROM submissions WHERE status = 'draft' AND updated_at < ?",
            [ago(hours=keep_hours)],
        ).rowcount


def find_draft(db: sqlite_utils.Database, token: str | None, keep_hours: int) -> Draft | None:
    """The live draft for this token, or None (unknown, submitted, or older than keep_hours)."""
    if not token or not isinstance(token, str):
        return None
    rows = list(
        db.query(
            "SELECT id, answers, updated_at FROM submissions "
            "WHERE token_hash = ? AND status = 'draft' AND updated_at >= ?",
            [hash_token(token), ago(hours=keep_hours)],
        )
    )
    if not rows:
        return None
    row = rows[0]
    return Draft(row["id"], json.loads(row["answers"]), row["updated_at"])


def save_answers(
    db: sqlite_utils.Database,
    draft_id: int,
    values: dict[str, Any],
    qn: Questionnaire,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Merge a step's answers into the draft at once; questions now hidden are cleared."""
    with transaction(db):
        row = db.execute(
            "SELECT answers FROM submissions WHERE id = ? AND status = 'draft'", [draft_id]
        ).fetchone()
        if row is None:
            return {}
        answers = {**json.loads(row[0]), **values}
        answers = {k: v for k, v in qn.normalize(answers, today).items() if v is not None}
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
        [key, hash_token(token), ago(minutes=REPLAY_MINUTES)],
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
    language: str | None = None,
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
        checked = qn.check_answers({**draft.answers, **final}, today)
        if checked.errors:
            raise InvalidAnswers(checked.errors)
        _store(
            db, draft.id, checked.answers, qn, ruleset, today, scoped_submit_key(token, submit_key)
        )
        if language:  # the language the client read the questions in
            db.execute("UPDATE submissions SET language = ? WHERE id = ?", [language, draft.id])
        return draft.id


def import_answers(
    db: sqlite_utils.Database,
    raw: Any,
    qn: Questionnaire,
    ruleset,
    today: dt.date,
    submitted_at: str | None = None,
) -> int:
    """Create a submitted submission from an answers object, checked as the wizard checks
    them (`Questionnaire.check_answers`, which `rules evaluate` uses too)."""
    checked = qn.check_answers(raw, today)
    if checked.errors:
        raise InvalidAnswers(checked.errors)
    answers = checked.answers
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
    evaluation = ruleset.evaluate(answers, today) if ruleset is not None else None
    if evaluation is not None:
        keep_rules_version(db, ruleset, stamp)
    row = submitted_row(answers, qn, evaluation, stamp)
    row["submit_key"] = submit_key
    row["reference"] = new_reference(db)
    columns = ", ".join(f"{name} = ?" for name in row)
    db.execute(f"UPDATE submissions SET {columns} WHERE id = ?", [*row.values(), submission_id])
    appointments.on_submitted(db, submission_id)  # its appointment, by link or by name
    summaries.queue(db, [submission_id])  # its summary, prepared before anyone prints it


def new_reference(db) -> str:
    """A reference code no other submission has (call inside the storing transaction)."""
    while True:
        code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        code = f"{code[:3]}-{code[3:]}"
        taken = db.execute("SELECT 1 FROM submissions WHERE reference = ?", [code]).fetchone()
        if taken is None:
            return code


def normalize_reference(text: str | None) -> str | None:
    """A reference code as stored ("K7Q-4MX") from what someone typed ("k7q 4mx"), or None
    when the text cannot be one."""
    compact = "".join(str(text or "").upper().split()).replace("-", "")
    if len(compact) != REFERENCE_LENGTH or any(c not in REFERENCE_ALPHABET for c in compact):
        return None
    return f"{compact[:3]}-{compact[3:]}"


def keep_rules_version(db, ruleset, stamp: str) -> None:
    """Store the text of the rules that judged a submission, once per version."""
    db.execute(
        "INSERT OR IGNORE INTO rules_versions (hash, text, first_seen) VALUES (?, ?, ?)",
        [ruleset.version, ruleset.text, stamp],
    )


def submitted_row(answers: dict[str, Any], qn: Questionnaire, evaluation, stamp: str) -> dict:
    """The columns of a submitted submission: what it is filed and found under, and how it
    was judged. The questionnaire names the questions that hold the client's identity."""
    name = " ".join(str(qn.client_name(answers)).split())
    appointment = qn.appointment_date(answers)
    flags = evaluation.flags if evaluation is not None else []
    outcome = evaluation.outcome if evaluation is not None else CLEAR
    return {
        "status": "submitted",
        "submitted_at": stamp,
        "updated_at": stamp,
        "client_name": name,
        "name_key": normalize_name(name),
        "date_of_birth": qn.date_of_birth(answers),
        "appointment_date": appointment,
        "day": appointment or local_day(stamp),
        "answers": json.dumps(answers),
        "questionnaire_version": qn.version,
        "rules_version": evaluation.rules_version if evaluation is not None else None,
        "flags": json.dumps(flags),
        "outcome": outcome,
        "outcome_rank": OUTCOMES.rank(outcome),
        "flag_count": len(flags),
    }


def next_id(db) -> int:
    """The id the next submission would get (for rows built before they are inserted)."""
    return db.execute("SELECT coalesce(max(id), 0) + 1 FROM submissions").fetchone()[0]


def insert_submitted(db, rows) -> None:
    """Insert submitted rows in bulk (each a `submitted_row` plus created_at)."""
    with transaction(db):
        db["submissions"].insert_all(rows, batch_size=2000)


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
