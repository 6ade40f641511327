"""Reads for what leaves the app in bulk (CSV, FHIR) and for the rules preview: submitted
submissions matching the queue's filters, a page at a time, from one consistent snapshot.

Pages are keyset by id (never OFFSET), so 100,000 rows never load at once and the last
page costs what the first does. A snapshot is a read transaction on its own connection:
the count an export is audited with is exactly the rows it then lists, while clients keep
submitting.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from .db import connect
from .lists import queue_where

BATCH = 500
# What an export row holds: the submission, and its latest decision with who made it.
_EXPORT = (
    "SELECT s.id, s.submitted_at, s.appointment_date, s.client_name, s.date_of_birth, "
    "s.outcome, s.flags, s.answers, s.rules_version, s.questionnaire_version, s.decision, "
    "d.defer_until, d.at AS decision_at, u.username AS decision_username, "
    "u.name AS decision_name "
    "FROM (SELECT * FROM submissions WHERE {where} AND id > ? ORDER BY id LIMIT ?) s "
    "LEFT JOIN decisions d ON d.id = (SELECT id FROM decisions WHERE submission_id = s.id "
    "ORDER BY at DESC, id DESC LIMIT 1) "
    "LEFT JOIN users u ON u.id = d.user_id ORDER BY s.id"
)
# What the rules preview needs: the answers and how they were judged.
_JUDGED = (
    "SELECT id, submitted_at, answers, flags, outcome, rules_version, questionnaire_version "
    "FROM submissions WHERE {where} AND id > ? ORDER BY id LIMIT ?"
)


@dataclass(frozen=True)
class Filters:
    """Which submitted submissions: the queue's filters (all of them by default)."""

    since: dt.date | None = None
    until: dt.date | None = None
    outcome: str | None = None
    decided: str = "all"
    name: str | None = None

    def where(self) -> tuple[list[str], list]:
        return queue_where(self.outcome, self.decided, self.since, self.until, self.name)

    def describe(self) -> str:
        """The filters as an audit detail: codes and dates, never the name searched for."""
        parts = [
            f"from={self.since.isoformat()}" if self.since else "",
            f"to={self.until.isoformat()}" if self.until else "",
            f"outcome={self.outcome}" if self.outcome else "",
            f"decided={self.decided}" if self.decided != "all" else "",
            "name=searched" if self.name else "",
        ]
        return " ".join(p for p in parts if p) or "all"


class Snapshot:
    """The database as it was when first read, on a connection of its own (read only)."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db

    def count(self, filters: Filters) -> int:
        where, params = filters.where()
        sql = f"SELECT count(*) FROM submissions WHERE {' AND '.join(where)}"
        return self.db.execute(sql, params).fetchone()[0]

    def export_rows(self, filters: Filters, batch: int = BATCH) -> Iterator[dict]:
        """Each matching submission (answers and flags decoded) with its latest decision."""
        return self._pages(_EXPORT, filters, batch)

    def judged_rows(self, filters: Filters, batch: int = BATCH) -> Iterator[dict]:
        """Each matching submission's answers, flags, outcome and versions."""
        return self._pages(_JUDGED, filters, batch)

    def _pages(self, template: str, filters: Filters, batch: int) -> Iterator[dict]:
        where, params = filters.where()
        sql = template.format(where=" AND ".join(where))
        last = 0
        while True:
            rows = list(self.db.query(sql, [*params, last, batch]))
            for row in rows:
                row["answers"] = json.loads(row["answers"])
                row["flags"] = json.loads(row["flags"] or "[]")
                yield row
            if len(rows) < batch:
                return
            last = rows[-1]["id"]

    def close(self) -> None:
        if self.db.conn.in_transaction:
            self.db.conn.rollback()
        self.db.conn.close()


def open_snapshot(path: str | Path) -> Snapshot:
    """Begin a snapshot; the caller closes it (a streamed download closes it when done)."""
    db = connect(path)
    db.execute("BEGIN")  # deferred: the snapshot is taken by the first read
    return Snapshot(db)


@contextmanager
def snapshot(path: str | Path) -> Iterator[Snapshot]:
    """A snapshot for one block."""
    found = open_snapshot(path)
    try:
        yield found
    finally:
        found.close()


def rules_versions(db: sqlite_utils.Database) -> list[dict]:
    """Every rules version that judged a submission: hash, text, the time it was first used
    and how many submitted submissions it judged; oldest first."""
    return list(
        db.query(
            "SELECT v.hash, v.text, v.first_seen, coalesce(c.n, 0) AS submissions "
            "FROM rules_versions v LEFT JOIN (SELECT rules_version, count(*) AS n "
            "FROM submissions WHERE status = 'submitted' GROUP BY rules_version) c "
            "ON c.rules_version = v.hash ORDER BY v.first_seen, v.hash"
        )
    )
