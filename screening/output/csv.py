"""The clinic's spreadsheet: one row per submission, then one column per question.

UTF-8 with a byte order mark, so Excel reads accented names correctly. A cell beginning
with = + - @, a tab or a carriage return would be read as a formula by a spreadsheet
(OWASP "CSV injection"): it gets a leading apostrophe, which spreadsheets show as text.
Answers are written as stored: yes/no, choice ids, lists of ids joined with ";", ISO dates.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from typing import Any

from ..questionnaire import Question, Questionnaire
from .display import decided_by, decision_text

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Words with spaces, so no question id (the columns after them) can take the same name.
COLUMNS = (
    "Submission id",
    "Submitted",
    "Appointment",
    "Name",
    "Date of birth",
    "Outcome",
    "Flags",
    "Decision",
    "Decision date",
    "Decided by",
    "Rules version",
    "Questionnaire version",
)
ROWS_PER_CHUNK = 200


def neutralise(cell: str) -> str:
    """A cell a spreadsheet cannot run as a formula (OWASP: prefix a single quote)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def local_stamp(stamp: str | None) -> str:
    """A stored UTC time in the clinic's time, as a spreadsheet parses it."""
    if not stamp:
        return ""
    return dt.datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def answer_cell(question: Question, value: Any) -> str:
    """An answer as it is stored, flattened into one cell (unanswered or hidden: empty)."""
    if value is None:
        return ""
    if question.type == "boolean":
        return "yes" if value else "no"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def header(qn: Questionnaire) -> list[str]:
    return [*COLUMNS, *qn.questions]


def row(sub: dict, qn: Questionnaire) -> list[str]:
    """One submission (an export row from the store) as the cells of one line."""
    decided = bool(sub.get("decision"))
    fixed = [
        str(sub["id"]),
        local_stamp(sub["submitted_at"]),
        sub.get("appointment_date") or "",
        sub.get("client_name") or "",
        sub.get("date_of_birth") or "",
        sub["outcome"],
        ";".join(flag["id"] for flag in sub["flags"]),
        decision_text(sub["decision"], sub.get("defer_until")) if decided else "",
        local_stamp(sub.get("decision_at")) if decided else "",
        decided_by({"name": sub.get("decision_name"), "username": sub.get("decision_username")})
        if decided
        else "",
        sub.get("rules_version") or "",
        sub.get("questionnaire_version") or "",
    ]
    answers = sub["answers"]
    cells = [answer_cell(q, answers.get(q.id)) for q in qn.questions.values()]
    return [neutralise(cell) for cell in fixed + cells]


def chunks(subs: Iterable[dict], qn: Questionnaire) -> Iterator[bytes]:
    """The whole file as UTF-8 pieces (the BOM and header first), for a file or a download."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow([neutralise(name) for name in header(qn)])
    for number, sub in enumerate(subs, 1):
        writer.writerow(row(sub, qn))
        if number % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def filename(today: dt.date) -> str:
    """The download's name: the date, never a client's name."""
    return f"screenings-{today.isoformat()}.csv"
