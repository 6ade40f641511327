"""The staff lists: the provider queue (a worklist, or most severe first) and a day's clients.

The queue pages by keyset (the last row's sort values), never OFFSET, so the last of 2,000
pages costs what the first does. The worklist is three segments (appointments in the coming
days, the rest, appointments passed), each read in the order of its own index; a page that
reaches the end of one segment goes on with the next from its start.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field, replace

import sqlite_utils

from ..vocab import OUTCOMES, WORKLIST_GROUPS
from .db import local_midnight_utc
from .submissions import normalize_reference

PAGE_SIZE = 50
COUNT_CAP = 1000  # a group count above this shows as "1,000+"
SQLITE_MAX = 2**63 - 1  # SQLite's largest integer; Python's have no limit
UPCOMING_DAYS = 7  # "the coming days" (vocab.WORKLIST_GROUPS says 7 in words)
ORDERS = ("worklist", "severity")
COLUMNS = (
    "id, client_name, date_of_birth, submitted_at, appointment_date, day, outcome, "
    "outcome_rank, flag_count, decision, reference, "
    # the date of a current "defer until" decision (the latest decision's)
    "(SELECT d.defer_until FROM decisions d WHERE d.submission_id = submissions.id "
    "ORDER BY d.at DESC, d.id DESC LIMIT 1) AS defer_until"
)
# What joins the parts of one name: removed from a search, as the index holds names joined
# (migration 0006_staff_workflow) as well as split.
_JOINERS = re.compile("['\u2019\u2018\u02bc`\\-\u2010\u2011]")
_SEVERITY = (("outcome_rank", False), ("submitted_at", False), ("id", False))


@dataclass(frozen=True)
class Segment:
    """A part of a queue order: which rows, and their order as (column, descending)."""

    code: str
    where: str
    params: tuple
    order: tuple[tuple[str, bool], ...]
    count_parts: tuple[tuple[str, tuple], ...] = ()  # `where` as disjoint index ranges


@dataclass(frozen=True)
class QueueFilter:
    """What the provider asked the queue for; the name search is kept out of URLs."""

    order: str = "worklist"
    decided: str = "no"
    outcome: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    name: str | None = None

    def conditions(self, name: bool = True) -> tuple[list[str], list]:
        """SQL terms and their parameters; `name=False` leaves the name search out."""
        where, params = ["status = 'submitted'"], []
        if self.decided in ("no", "yes"):
            where.append("decision IS NULL" if self.decided == "no" else "decision IS NOT NULL")
        if self.outcome in OUTCOMES:  # by rank: the queue's indexes hold it
            where.append("outcome_rank = ?")
            params.append(OUTCOMES.rank(self.outcome))
        if self.since:
            where.append("submitted_at >= ?")
            params.append(local_midnight_utc(self.since))
        if self.until:
            where.append("submitted_at < ?")
            params.append(local_midnight_utc(self.until + dt.timedelta(days=1)))
        found, found_params = name_filter(self.name) if name else (None, [])
        if found:
            where.append(found)
            params.extend(found_params)
        return where, params

    def fixed_columns(self) -> set[str]:
        """Sort columns this filter holds to a single value."""
        return {"outcome_rank"} if self.outcome in OUTCOMES else set()

    def undecided(self) -> QueueFilter:
        return replace(self, decided="no")


@dataclass
class Page:
    rows: list[dict]
    first_key: str | None = None
    last_key: str | None = None
    has_prev: bool = False
    has_next: bool = False
    params: dict = field(default_factory=dict)


def name_match(text: str | None) -> str | None:
    """An FTS5 query matching names with words starting with each typed word; apostrophes
    and hyphens are ignored ("obrien" and "o'brien" both find O'Brien)."""
    words = re.findall(r"\w+", _JOINERS.sub("", text or ""))
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


def queue_where(
    outcome: str | None = None,
    decided: str = "no",
    since: dt.date | None = None,
    until: dt.date | None = None,
    name: str | None = None,
) -> tuple[list[str], list]:
    """The queue's filters as SQL conditions on `submissions` and their parameters (the
    queue page and its CSV download select the same rows)."""
    chosen = QueueFilter(decided=decided, outcome=outcome, since=since, until=until, name=name)
    return chosen.conditions()


def segments(order: str, today: dt.date) -> list[Segment]:
    """The queue's order as segments: the worklist's three groups, or one (most severe)."""
    if order != "worklist":
        return [Segment("all", "1 = 1", (), _SEVERITY)]
    start = today.isoformat()
    horizon = (today + dt.timedelta(days=UPCOMING_DAYS)).isoformat()
    by_code = {
        "upcoming": Segment(
            "upcoming",
            "appointment_date >= ? AND appointment_date <= ?",
            (start, horizon),
            (("appointment_date", False), *_SEVERITY),
        ),
        "unbooked": Segment(
            "unbooked",
            "(appointment_date IS NULL OR appointment_date > ?)",
            (horizon,),
            _SEVERITY,
            (("appointment_date IS NULL", ()), ("appointment_date > ?", (horizon,))),
        ),
        "past": Segment(
            "past", "appointment_date < ?", (start,), (("appointment_date", True), *_SEVERITY)
        ),
    }
    return [by_code[code] for code in WORKLIST_GROUPS.codes]


def _key(index: int, row: dict) -> str:
    """A row's place in the order as a pager link carries it: its segment and its id (the
    sort values are read again from the row: a date in a URL would be a client's answer)."""
    return f"{index}~{row['id']}"


def _cursor(db, key: str | None, segs: list[Segment]) -> tuple[int, list] | None:
    """(segment, the row's sort values) from a pager key, or None for anything else (a
    typed URL, a row that is gone)."""
    parts = (key or "").split("~")
    if len(parts) != 2 or not all(re.fullmatch(r"[0-9]{1,19}", part) for part in parts):
        return None
    index, row_id = int(parts[0]), int(parts[1])
    if index >= len(segs) or row_id > SQLITE_MAX:
        return None
    columns = ", ".join(column for column, _ in segs[index].order)
    found = db.execute(
        f"SELECT {columns} FROM submissions WHERE id = ? AND status = 'submitted'", [row_id]
    ).fetchone()
    return (index, list(found)) if found else None


def _beyond(order: tuple[tuple[str, bool], ...], values: list, forward: bool):
    """SQL and parameters for the rows after (forward) or before a cursor in this order."""
    ops = ["<" if descending == forward else ">" for _, descending in order]
    columns = [column for column, _ in order]
    if len(set(ops)) == 1:  # one direction: a row value, which an index range serves
        marks = ", ".join("?" * len(values))
        return f"({', '.join(columns)}) {ops[0]} ({marks})", list(values)
    rest, rest_params = _beyond(order[1:], values[1:], forward)
    first, op = columns[0], ops[0]
    return (
        f"({first} {op}= ? AND ({first} {op} ? OR ({first} = ? AND {rest})))",
        [values[0], values[0], values[0], *rest_params],
    )


def _read(db, query: QueueFilter, segment: Segment, cursor, forward: bool, limit: int):
    """Up to `limit` rows of a segment after (or before) a cursor's sort values."""
    where, params = query.conditions()
    where, params = [*where, segment.where], [*params, *segment.params]
    if cursor is not None:
        # A column the filter holds to one value is equal on both sides: left out of the
        # comparison, the rest is one index range after "rank = ?" (kept, the range ran on
        # past that rank's rows to the end of the index). It stays in ORDER BY, which then
        # reads as the index does.
        fixed = query.fixed_columns()
        compared = [
            (key, value)
            for key, value in zip(segment.order, cursor, strict=True)
            if key[0] not in fixed
        ]
        sql, more = _beyond(tuple(k for k, _ in compared), [v for _, v in compared], forward)
        where.append(sql)
        params.extend(more)
    ordering = ", ".join(
        f"{column} {'DESC' if descending == forward else 'ASC'}"
        for column, descending in segment.order
    )
    # The page's ids from the index alone, then their rows: when SQLite sorts part of the
    # order itself (a date's rows by severity), it would build the full row of every row of
    # that date first (the answers' overflow pages, the decision subquery): 16 ms, not 0.5.
    ids = [
        row[0]
        for row in db.execute(
            f"SELECT id FROM submissions WHERE {' AND '.join(where)} "
            f"ORDER BY {ordering} LIMIT {int(limit)}",
            params,
        )
    ]
    return _rows(db, ids)


def _rows(db, ids: list[int]) -> list[dict]:
    """The list columns of these submissions, in this order."""
    found = {
        row["id"]: row
        for row in db.query(
            f"SELECT {COLUMNS} FROM submissions WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps(ids)],
        )
    }
    return [found[i] for i in ids if i in found]


def queue(
    db: sqlite_utils.Database,
    query: QueueFilter,
    today: dt.date,
    after: str | None = None,
    before: str | None = None,
    last: bool = False,
    size: int = PAGE_SIZE,
) -> Page:
    """A page of submitted submissions in the filter's order; each row carries its
    `segment` (the worklist group) and `key` (its place in the order)."""
    segs = segments(query.order, today)
    forward_from, backward_from = _cursor(db, after, segs), _cursor(db, before, segs)
    cursor = forward_from or backward_from
    forward = not last and (cursor is None or forward_from is not None)
    if last:
        index, values = len(segs) - 1, None
    elif cursor:
        index, values = cursor
    else:
        index, values = 0, None
    rows: list[dict] = []
    while 0 <= index < len(segs) and len(rows) <= size:
        segment = segs[index]
        for row in _read(db, query, segment, values, forward, size + 1 - len(rows)):
            row["segment"], row["key"] = segment.code, _key(index, row)
            rows.append(row)
        index, values = index + (1 if forward else -1), None
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    page = Page(rows)
    if rows:
        page.first_key, page.last_key = rows[0]["key"], rows[-1]["key"]
    if last:
        page.has_prev, page.has_next = more, False
    elif not forward:  # a "previous" page
        page.has_prev, page.has_next = more, True
    else:
        page.has_prev, page.has_next = cursor is not None, more
    return page


def counts(db: sqlite_utils.Database, query: QueueFilter, today: dt.date) -> dict[str, int]:
    """How many rows the filter finds in each segment (the worklist's group counts), each
    counted up to COUNT_CAP + 1: "more than 1,000 waiting" says enough, and counting all
    55,000 undecided rows of a 100,000-row database cost more than the rest of the page."""
    segs = segments(query.order, today)
    match = None if normalize_reference(query.name) else name_match(query.name)
    if match:  # from the clients of that name, each read once (not the groups' ranges)
        where, params = query.conditions(name=False)
        sums = ", ".join(f"coalesce(sum({segment.where}), 0)" for segment in segs)
        row = db.execute(
            f"SELECT {sums} FROM names_fts CROSS JOIN submissions "
            f"ON submissions.id = names_fts.rowid "
            f"WHERE names_fts MATCH ? AND {' AND '.join(where)}",
            [*(p for segment in segs for p in segment.params), match, *params],
        ).fetchone()
        return {segment.code: row[i] for i, segment in enumerate(segs)}
    where, params = query.conditions()
    found = {}
    for segment in segs:
        found[segment.code] = 0
        # Disjoint parts, each an index range ("IS NULL OR > ?" would scan past the others).
        for part, part_params in segment.count_parts or ((segment.where, segment.params),):
            left = COUNT_CAP + 1 - found[segment.code]
            if left <= 0:
                break
            sql = (
                f"SELECT count(*) FROM (SELECT 1 FROM submissions "
                f"WHERE {' AND '.join([*where, part])} LIMIT {left})"
            )
            found[segment.code] += db.execute(sql, [*params, *part_params]).fetchone()[0]
    return found


def key_of(db: sqlite_utils.Database, order: str, submission_id: int, today: dt.date) -> str | None:
    """A submission's place in a queue order (as a pager key), or None if not submitted."""
    for index, segment in enumerate(segments(order, today)):
        found = db.execute(
            f"SELECT 1 FROM submissions WHERE id = ? AND status = 'submitted' AND {segment.where}",
            [submission_id, *segment.params],
        ).fetchone()
        if found:
            return _key(index, {"id": submission_id})
    return None


def neighbours(
    db: sqlite_utils.Database, query: QueueFilter, submission_id: int, today: dt.date
) -> tuple[int | None, int | None]:
    """The ids before and after a submission in the filtered queue (None at either end)."""
    key = key_of(db, query.order, submission_id, today)
    if key is None:
        return None, None
    before = queue(db, query, today, before=key, size=1).rows
    after = queue(db, query, today, after=key, size=1).rows
    return (before[0]["id"] if before else None), (after[0]["id"] if after else None)


def next_undecided(
    db: sqlite_utils.Database, query: QueueFilter, submission_id: int, today: dt.date
) -> int | None:
    """The next submission without a decision after this one in the filtered queue."""
    key = key_of(db, query.order, submission_id, today)
    if key is None:
        return None
    rows = queue(db, query.undecided(), today, after=key, size=1).rows
    return rows[0]["id"] if rows else None


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


def clients_by_ids(
    db: sqlite_utils.Database, ids: list[int], day: dt.date | None = None
) -> list[dict]:
    """These submitted submissions (of this day, when given; others left out), in the day
    list's order."""
    where, params = (
        ["status = 'submitted'", "id IN (SELECT value FROM json_each(?))"],
        [f"[{','.join(str(int(i)) for i in ids)}]"],
    )
    if day is not None:
        where.append("day = ?")
        params.append(day.isoformat())
    return list(
        db.query(
            f"SELECT {COLUMNS} FROM submissions WHERE {' AND '.join(where)} "
            "ORDER BY day, name_key, id",
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
