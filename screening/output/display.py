"""How stored values read to people, on staff pages, the done page and in PDFs alike: dates,
stored times, decisions, ages, answers, the client's dated plan and the sources of a flag.
Registered for Jinja by `init_app`."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from flask import Flask

from .. import content
from ..questionnaire import age_on, parse_date
from ..store.db import local_day
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


def answered_on(submission: dict) -> dt.date:
    """The clinic's day the client sent their answers (what "today" was for them)."""
    return dt.date.fromisoformat(local_day(submission["submitted_at"]))


def answer_text(q, submission: dict, printed: bool = False) -> str:
    """One stored answer in words. A question the client was not shown says so instead of
    "No"; one added to the questionnaire after they answered names the version they saw
    (stored answers hold every question of their version, hidden ones as null).
    `printed`: typed text is clipped to the PDF's budget."""
    answers = submission["answers"]
    if q.id not in answers:
        return f"Not asked (questionnaire version {submission.get('questionnaire_version')})"
    value = answers[q.id]
    if value is None and not q.is_shown(answers, answered_on(submission)):
        return "Not asked"
    text = q.display(value)
    return clip(text) if printed and q.type in ("text", "longtext") else text


def answer_sections(
    submission: dict, qn, printed: bool = False
) -> list[tuple[str, list[tuple[str, str, bool]]]]:
    """Every question by section as (title, [(question, answer, read by a flag)])."""
    read = answers_read(submission)
    return [
        (
            section.title,
            [
                (q.label, answer_text(q, submission, printed), q.id in read)
                for q in section.questions
            ],
        )
        for section in qn.sections
    ]


def _day_month(day: dt.date, today: dt.date) -> str:
    """10 December, with the year only when it is not this one: 7 January 2027."""
    return day.strftime("%-d %B" if day.year == today.year else "%-d %B %Y")


def interval(days: int) -> str:
    """A number of days as a client says it: 2 weeks, 1 week, 10 days, 1 day."""
    if days % 7 == 0:
        weeks = days // 7
        return f"{weeks} week{'s' * (weeks != 1)}"
    return f"{days} day{'s' * (days != 1)}"


def dated_step(flag: dict, appointment, today: dt.date | None = None) -> str | None:
    """A flag's step for the client with its day, when it has one and the client gave an
    appointment date: "Stop retinol and other retinoids by Thursday 26 November (2 weeks
    before your appointment on 10 December)". When that day had passed on the day the flag
    was judged, the step is for now (prep-too-close asks the client to call the clinic)."""
    days, step, day = flag.get("before_days"), flag.get("before_step"), parse_date(appointment)
    if not days or not step or day is None:
        return None
    today = parse_date(flag.get("judged_on")) or today or content.today()
    stop_by = day - dt.timedelta(days=days)
    appointment_words = f"your appointment on {_day_month(day, today)}"
    if stop_by < today:
        return f"{step} now: {appointment_words} is less than {interval(days)} away."
    when = "today" if stop_by == today else f"by {stop_by:%A} {_day_month(stop_by, today)}"
    return f"{step} {when} ({interval(days)} before {appointment_words})."


@dataclass(frozen=True)
class Advice:
    """One item of a client's own advice: the rule's message, and its dated step if any."""

    text: str
    dated: str | None = None


def client_advice(submission: dict | None) -> list[Advice]:
    """What this client was asked to do, most important first (the flags' order): the done
    page and the PDF summary show the same list."""
    if not submission:
        return []
    on = answered_on(submission)
    return [
        Advice(flag["client_message"], dated_step(flag, submission["appointment_date"], on))
        for flag in submission["flags"]
        if flag.get("client_message")
    ]


def standard_care(submission: dict | None, qn) -> list[str]:
    """The standard pre-care list without the items this client's own advice already gave
    (each fired rule names them under `replaces`)."""
    covered = {
        item for flag in (submission or {}).get("flags", []) for item in flag.get("replaces", [])
    }
    return [item.text for item in qn.before_treatment if item.id not in covered]


def citations(source: str | None) -> list[tuple[str, str | None]]:
    """(key, full citation) for each reference a flag's source cites, from rules.yaml's
    references; None for a key the rules in force no longer define."""
    return content.rules().citations(source)


def cited(flags: list[dict]) -> list[tuple[str, str | None]]:
    """Every reference the flags cite, once each, in order of first citation: the PDF's
    footnotes."""
    seen: dict[str, str | None] = {}
    for flag in flags:
        for key, text in citations(flag.get("source")):
            seen.setdefault(key, text)
    return list(seen.items())


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
        client_advice=client_advice,
        standard_care=standard_care,
        citations=citations,
        cited=cited,
    )
