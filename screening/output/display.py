"""How stored values read to people, on staff pages and in PDFs alike: dates, stored times,
decisions, ages. Registered for Jinja by `init_app`."""

from __future__ import annotations

import datetime as dt
import math

from flask import Flask

from ..questionnaire import age_on
from ..vocab import DECISIONS, DEFER_UNTIL


def long_date(day: dt.date | str) -> str:
    """A date (or a stored one) as the front desk reads it: Wednesday 2 December 2026."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return day.strftime("%A %-d %B %Y")


def local_time(stamp: str | None) -> str:
    """A stored UTC time as the clinic reads it: 2026-11-25 14:05."""
    if not stamp:
        return ""
    return dt.datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")


def now_local() -> str:
    """The clinic's current time, as `local_time` shows a stored one."""
    return dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")


def decision_text(decision: str | None, defer_until: str | None = None) -> str:
    """A decision as staff read it in lists and histories: "Defer until 2027-03-01"."""
    if not decision:
        return "Not yet"
    if decision == DEFER_UNTIL and defer_until:
        return f"Defer until {defer_until}"
    return DECISIONS.label(decision)


def decided_by(entry: dict) -> str:
    """Who made a decision in the history: their name, else username."""
    return entry.get("name") or entry.get("username") or "staff"


def answers_read(submission: dict) -> set[str]:
    """The question ids that a fired flag read: marked in the answer list."""
    return {qid for flag in submission["flags"] for qid in flag.get("fields", {})}


def flag_readings(flag: dict, qn) -> list[tuple[str, str]]:
    """The answers a flag read, as (question, answer) in words: *why* it fired."""
    readings = []
    for qid, value in flag.get("fields", {}).items():
        question = qn.questions.get(qid)
        if question is None:  # a derived value (age, today) or a question since removed
            readings.append((qid, "Not answered" if value is None else str(value)))
        else:
            readings.append((question.name, question.display(value)))
    return readings


# A printed summary has a page budget: 2,000 lines of notes made a 37-page summary that
# joined the day's batch. Each typed text prints at most this many lines (a line break
# costs a whole line), then "… continued in the app"; a 2,000-character answer of prose,
# printed across the page, still fits whole. Only the latest decisions print.
PDF_BUDGET = {
    "answer": (30, 95),  # lines, characters a line holds across the page (roughly)
    "note": (8, 95),  # a decision's note
}
PDF_DECISIONS = 3
CONTINUED = "… continued in the app"


def clip(text: str | None, kind: str = "answer") -> str:
    """Text cut to the printed budget, ending with "… continued in the app" when cut."""
    if not text:
        return text or ""
    lines, width = PDF_BUDGET[kind]
    kept, used = [], 0
    for line in text.split("\n"):
        cost = max(1, math.ceil(len(line) / width))
        if used + cost > lines:
            room = (lines - used) * width
            if room > 0:
                kept.append(line[:room])
            return "\n".join(kept).rstrip() + " " + CONTINUED
        kept.append(line)
        used += cost
    return text


def answer_sections(
    submission: dict, qn, printed: bool = False
) -> list[tuple[str, list[tuple[str, str, bool]]]]:
    """Every question by section as (title, [(question, answer, read by a flag)]); a question
    the client was not shown says so instead of "No". `printed`: typed text is clipped to
    the PDF's budget."""
    answers, read = submission["answers"], answers_read(submission)

    def shown(q) -> str:
        if not q.is_shown(answers):
            return "Not asked"
        text = q.display(answers.get(q.id))
        return clip(text) if printed and q.type in ("text", "longtext") else text

    return [
        (section.title, [(q.label, shown(q), q.id in read) for q in section.questions])
        for section in qn.sections
    ]


def phone(submission: dict, qn) -> str | None:
    """The client's phone as they typed it, when the questionnaire asks for one."""
    return qn.phone(submission["answers"])


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        age_on=age_on,
        local_time=local_time,
        long_date=long_date,
        decision_text=decision_text,
        decided_by=decided_by,
        flag_readings=flag_readings,
        answer_sections=answer_sections,
        clip=clip,
        PDF_DECISIONS=PDF_DECISIONS,
        client_phone=phone,
    )
