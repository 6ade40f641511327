"""Summary PDFs prepared in advance, and the queue of those to prepare.

A stored summary is served only while it is current: the same latest decision, rules
version, layout and age as when it was rendered. Jobs are claimed in a transaction with a
lease, so two workers (threads, processes, a batch's pool) never render one job together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlite_utils

from .db import now, transaction

LEASE_SECONDS = 120  # a claimed job not done by then may be claimed again
MAX_ATTEMPTS = 3  # a summary that fails this often is left for printing to render


def _later(seconds: float) -> str:
    then = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return then.replace(microsecond=0).isoformat()


def latest_decision(db: sqlite_utils.Database, submission_id: int) -> int | None:
    """The id of the decision a summary shows as current (history's order), or None."""
    row = db.execute(
        "SELECT id FROM decisions WHERE submission_id = ? ORDER BY at DESC, id DESC LIMIT 1",
        [submission_id],
    ).fetchone()
    return row[0] if row else None


def queue(db: sqlite_utils.Database, submission_ids: Iterable[int], renew: bool = True) -> None:
    """Ask for these summaries to be (re)rendered. `renew`: a job already waiting or being
    rendered is asked for again (what it shows changed); else it is left as it is."""
    stamp = now()
    conflict = (
        "DO UPDATE SET generation = generation + 1, queued_at = excluded.queued_at, attempts = 0"
        if renew
        else "DO NOTHING"
    )
    with transaction(db):
        for submission_id in submission_ids:
            db.execute(
                "INSERT INTO summary_jobs (submission_id, queued_at) VALUES (?, ?) "
                f"ON CONFLICT (submission_id) {conflict}",
                [submission_id, stamp],
            )


def due(db: sqlite_utils.Database) -> bool:
    """Whether any job waits unclaimed (a read, so idle polling takes no write lock)."""
    row = db.execute(
        "SELECT 1 FROM summary_jobs WHERE claimed_until IS NULL OR claimed_until < ? LIMIT 1",
        [now()],
    ).fetchone()
    return row is not None


def claim(
    db: sqlite_utils.Database, limit: int = 1, only: Iterable[int] | None = None
) -> list[tuple[int, int]]:
    """Take up to `limit` unclaimed jobs (of `only`, when given) for LEASE_SECONDS:
    [(submission_id, generation)], oldest first."""
    stamp = now()
    with transaction(db):
        where = "(claimed_until IS NULL OR claimed_until < ?)"
        args: list = [stamp]
        if only is not None:
            ids = list(only)
            if not ids:
                return []
            where += f" AND submission_id IN ({', '.join('?' for _ in ids)})"
            args += ids
        rows = db.execute(
            f"SELECT submission_id, generation FROM summary_jobs WHERE {where} "
            "ORDER BY queued_at, submission_id LIMIT ?",
            [*args, limit],
        ).fetchall()
        for submission_id, _generation in rows:
            db.execute(
                "UPDATE summary_jobs SET claimed_until = ? WHERE submission_id = ?",
                [_later(LEASE_SECONDS), submission_id],
            )
    return [(r[0], r[1]) for r in rows]


def done(db: sqlite_utils.Database, submission_id: int, generation: int) -> None:
    """The job was served: remove it, unless it was queued again meanwhile (then free it)."""
    with transaction(db):
        db.execute(
            "DELETE FROM summary_jobs WHERE submission_id = ? AND generation = ?",
            [submission_id, generation],
        )
        db.execute(
            "UPDATE summary_jobs SET claimed_until = NULL WHERE submission_id = ?",
            [submission_id],
        )


def finish(
    db: sqlite_utils.Database, submission_id: int, generation: int, prepared: dict | None
) -> None:
    """Keep a rendered summary (when there is one) and mark its job done: one write
    transaction, not two (a batch of 50 stores 50 of them)."""
    with transaction(db):
        if prepared is not None:
            save(db, submission_id, prepared)
        done(db, submission_id, generation)


def failed(db: sqlite_utils.Database, submission_id: int) -> None:
    """A render failed: try again after the lease, or give up after MAX_ATTEMPTS."""
    with transaction(db):
        db.execute(
            "UPDATE summary_jobs SET attempts = attempts + 1 WHERE submission_id = ?",
            [submission_id],
        )
        db.execute(
            "DELETE FROM summary_jobs WHERE submission_id = ? AND attempts >= ?",
            [submission_id, MAX_ATTEMPTS],
        )


def waiting(db: sqlite_utils.Database) -> int:
    """How many summaries are queued to render."""
    return db.execute("SELECT count(*) FROM summary_jobs").fetchone()[0]


def save(db: sqlite_utils.Database, submission_id: int, prepared: dict) -> None:
    """Keep a rendered summary with what it shows: decision_id, rules_version, layout, age,
    prepared_at and the pdf bytes."""
    with transaction(db):
        db.execute(
            "INSERT OR REPLACE INTO summaries (submission_id, decision_id, rules_version, "
            "layout, age, prepared_at, pdf) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                submission_id,
                prepared["decision_id"],
                prepared["rules_version"],
                prepared["layout"],
                prepared["age"],
                prepared["prepared_at"],
                prepared["pdf"],
            ],
        )


def current(
    db: sqlite_utils.Database, submission_ids: list[int], layout: str, ages: dict[int, int]
) -> dict[int, dict]:
    """The stored summaries of these submissions that are still current (by id):
    {id: {"pdf", "prepared_at"}}. `ages` is each client's age today."""
    if not submission_ids:
        return {}
    found: dict[int, dict] = {}
    for start in range(0, len(submission_ids), 500):
        chunk = submission_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = db.execute(
            "SELECT s.submission_id, s.pdf, s.prepared_at, s.age FROM summaries s "
            "JOIN submissions sub ON sub.id = s.submission_id "
            f"WHERE s.submission_id IN ({marks}) AND s.layout = ? "
            "AND s.rules_version IS sub.rules_version "
            "AND s.decision_id IS (SELECT d.id FROM decisions d "
            "WHERE d.submission_id = s.submission_id ORDER BY d.at DESC, d.id DESC LIMIT 1)",
            [*chunk, layout],
        ).fetchall()
        for submission_id, data, prepared_at, age in rows:
            if ages.get(submission_id) == age:
                found[submission_id] = {"pdf": data, "prepared_at": prepared_at}
    return found
