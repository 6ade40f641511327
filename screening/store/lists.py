"""The staff lists: the provider queue and a day's clients.

The queue pages by keyset (the last row's severity, time and id), never OFFSET, so the
last of 2,000 pages costs what the first does.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import sqlite_utils

from .db import local_midnight_utc
from .submissions import normalize_reference

PAGE_SIZE = 50
SQLITE_MAX = 2**63 - 1  # SQLite's largest integer; Python's have no limit
ORDER = "outcome_rank, submitted_at, id"
COLUMNS = (
    "id, client_name, date_of_birth, submitted_at, appointment_date, day, outcome, "
    "flag_count, decision, reference, "
    # the date of a current "defer until" decision (the latest decision's)
    "(SELECT d.defer_until FROM decisions d WHERE d.submission_id = submissions.id "
    "ORDER BY d.at DESC, d.id DESC LIMIT 1) AS defer_until"
)


@dataclass
class Page:
    rows: list[dict]
    first_key: str | None = None
    last_key: str | None = None
    has_prev: bool = False
    has_next: bool = False
    params: dict = field(default_factory=dict)


def name_match(text: str) -> str | None:
    """An FTS5 query matching names with words starting with each typed word."""
    words = re.findall(r"\w+", text or "")
    return " ".join(f'"{w}"*' for w in words[:5]) or None


def name_filter(text: str | None) -> tuple[str | None, list]:
    """The WHERE clause finding a typed name, or the reference code the client was given on
    the done page, and its parameters; (None, []) when nothing was typed."""
    match = name_match(text)
    by_name = "id IN (SELECT rowid FROM names_fts WHERE names_fts MATCH ?)"
    reference = normalize_reference(text)
    if reference:
        return f"(reference = ? OR {by_name})", [reference, match]
    return (by_name, [match]) if match else (None, [])


def _key(row: dict) -> str:
    return f"{row['outcome_rank']}~{row['submitted_at']}~{row['id']}"


def _parse_key(key: str | None):
    """(rank, time, id) from a pager link, or None for anything else (a typed URL)."""
    try:
        rank, stamp, row_id = (key or "").split("~")
        rank, row_id = int(rank), int(row_id)
    except ValueError:
        return None
    if not all(-SQLITE_MAX <= n <= SQLITE_MAX for n in (rank, row_id)):
        return None
    return rank, stamp, row_id


def queue_where(
    outcome: str | None = None,
    decided: str = "no",
    since: dt.date | None = None,
    until: dt.date | None = None,
    name: str | None = None,
) -> tuple[list[str], list]:
    """The queue's filters as SQL conditions on `submissions` and their parameters (the
    queue page and its CSV download select the same rows)."""
    where, params = ["status = 'submitted'"], []
    if decided in ("no", "yes"):
        where.append(f"(decision IS NULL) = {1 if decided == 'no' else 0}")
    if outcome:
        where.append("outcome = ?")
        params.append(outcome)
    if since:
        where.append("submitted_at >= ?")
        params.append(local_midnight_utc(since))
    if until:
        where.append("submitted_at < ?")
        params.append(local_midnight_utc(until + dt.timedelta(days=1)))
    found, found_params = name_filter(name)
    if found:
        where.append(found)
        params.extend(found_params)
    return where, params


def queue(
    db: sqlite_utils.Database,
    outcome: str | None = None,
    decided: str = "no",
    since: dt.date | None = None,
    until: dt.date | None = None,
    name: str | None = None,
    after: str | None = None,
    before: str | None = None,
    last: bool = False,
) -> Page:
    """A page of submitted submissions: most severe first, then waiting longest first."""
    where, params = queue_where(outcome, decided, since, until, name)
    descending = last
    cursor = _parse_key(after) or _parse_key(before)
    if cursor and not last:
        descending = _parse_key(after) is None
        where.append(f"(outcome_rank, submitted_at, id) {'<' if descending else '>'} (?, ?, ?)")
        params.extend(cursor)
    order = ", ".join(f"{c} DESC" for c in ORDER.split(", ")) if descending else ORDER
    sql = (
        f"SELECT {COLUMNS}, outcome_rank FROM submissions WHERE {' AND '.join(where)} "
        f"ORDER BY {order} LIMIT {PAGE_SIZE + 1}"
    )
    rows = list(db.query(sql, params))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if descending:
        rows.reverse()
    page = Page(rows)
    if rows:
        page.first_key, page.last_key = _key(rows[0]), _key(rows[-1])
    if last:
        page.has_prev, page.has_next = more, False
    elif descending:  # a "previous" page
        page.has_prev, page.has_next = more, True
    else:
        page.has_prev, page.has_next = cursor is not None, more
    return page


def day_clients(db: sqlite_utils.Database, day: dt.date, name: str | None = None) -> list[dict]:
    """A date's clients (by appointment date, else submission date), by name."""
    where, params = ["status = 'submitted'", "day = ?"], [day.isoformat()]
    found, found_params = name_filter(name)
    if found:
        where.append(found)
        params.extend(found_params)
    return list(
        db.query(
            f"SELECT {COLUMNS} FROM submissions WHERE {' AND '.join(where)} ORDER BY name_key, id",
            params,
        )
    )


def name_on_other_days(
    db: sqlite_utils.Database, day: dt.date, name: str | None, limit: int = 10
) -> list[dict]:
    """Clients matching a name on dates other than `day`, nearest dates first: the front
    desk searched the wrong day (a client who booked for another date, or came early)."""
    found, found_params = name_filter(name)
    if not found:
        return []
    return list(
        db.query(
            f"SELECT {COLUMNS} FROM submissions WHERE status = 'submitted' AND day != ? "
            f"AND {found} "
            "ORDER BY abs(julianday(day) - julianday(?)), day, name_key LIMIT ?",
            [day.isoformat(), *found_params, day.isoformat(), limit],
        )
    )
