"""Synthetic submissions so a new clinic sees a living queue, and benchmarks have 100,000.

A pool of answer sets is drawn from the questionnaire and judged once each by the real
rules; rows reuse them with their own names and dates, built and stored by the same store
functions as real submissions, and some older ones carry a demo provider's decision.
"""

from __future__ import annotations

import datetime as dt
import json
import random

from .questionnaire import Questionnaire
from .rules import Evaluation
from .staff import accounts
from .store import decisions, now, transaction
from .store import staff as staff_store
from .store import submissions as store
from .vocab import DECISIONS

FIRST = ["Ana", "José", "Zoë", "Chloé", "Liam", "Noah", "Maya", "Sofía", "Björn", "Aiko",
         "Priya", "Mohammed", "Olivia", "Mateo", "Léa", "Grace", "Wei", "Fatima", "Ivan",
         "Amara", "Lucas", "Nora", "Elena", "Sam", "Hannah", "Omar", "Isla", "Yuki", "Emma",
         "Kwame"]  # fmt: skip
LAST = ["García", "Smith", "Nguyen", "Müller", "O'Brien", "Kowalski", "Rossi", "Haddad",
        "Tanaka", "Patel", "Johansson", "Dubois", "Cohen", "Okafor", "Silva", "Brown", "Chen",
        "Novák", "Murphy", "Ivanova", "Lee", "Martínez", "Wilson", "Kim", "Singh", "Taylor",
        "Ahmed", "López", "Walker", "Fischer"]  # fmt: skip
NOTES = ["Nervous about the pain.", "Prefer morning appointments.",
         "I had a reaction to a peel once.", "Wedding in 3 months!"]  # fmt: skip
# How often an answer strays from the neutral one (the rules' baseline): a yes/no answer
# rarely; a choice more often (how recently a product was used, a skin type: the everyday
# variety behind the pre-care instructions).
RISK = 0.024
CHOICE_RISK = 0.08
DEMO_PROVIDER = "demo-provider"


def _answers(qn: Questionnaire, baseline: dict, rng: random.Random, today: dt.date) -> dict:
    """One plausible, valid answer set: mostly the neutral answers, sometimes not."""
    a = dict(baseline)
    for q in qn.questions.values():
        risk = CHOICE_RISK if q.type == "choice" else RISK
        if q.must_be_true or q.matches or rng.random() >= risk:
            continue
        if q.type == "boolean":
            a[q.id] = not a.get(q.id)
        elif q.type == "choice":
            a[q.id] = rng.choice(q.choice_ids)
        elif q.type == "multi":
            count = max(q.min_selected, 1)
            a[q.id] = rng.sample(list(q.choice_ids), count)
        elif q.type == "longtext":
            a[q.id] = rng.choice(NOTES)
    age = rng.choice([16, 17, *range(22, 75)])  # a few minors, who name a guardian
    born = today - dt.timedelta(days=age * 365 + rng.randint(10, 300))
    a[qn.identity.date_of_birth] = born.isoformat()
    a = qn.normalize(a, today)
    # What a minor is asked besides (a guardian, who signs too): a name, and its copy.
    for q in qn.questions.values():
        if q.type == "text" and q.required and a[q.id] is None and q.is_shown(a, today):
            if q.matches:
                a[q.id] = a.get(q.matches)
            elif q.id != qn.identity.name:
                a[q.id] = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    return a


def _with_name(qn: Questionnaire, answers: dict, name: str) -> dict:
    """The answers as this client gave them: the name everywhere it is asked (signatures)."""
    named = {**answers, qn.identity.name: name}
    for q in qn.questions.values():
        if q.matches == qn.identity.name:
            named[q.id] = name
    return named


def _moved(day: str | None, days: int) -> str | None:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat() if day else day


class _Judged:
    """An answer set judged once on a reference day, then given to rows answered on other
    days: every date in it (the birth date, the appointment, what a flag read, the day it
    was judged) moves with the row's day, so each row is stored exactly as judging it on
    its own day would store it (`rules diff` re-judges them so)."""

    def __init__(self, qn: Questionnaire, answers: dict, evaluation):
        self.answers, self.evaluation = answers, evaluation
        self.dates = [q.id for q in qn.questions.values() if q.type == "date"]
        self.flags = json.dumps(evaluation.flags)
        self.dated = "judged_on" in self.flags or any(
            qid in flag.get("fields", {}) for flag in evaluation.flags for qid in self.dates
        )

    def on(self, days: int):
        """(answers, flags) as if answered `days` after the reference day."""
        answers = {**self.answers, **{q: _moved(self.answers.get(q), days) for q in self.dates}}
        if not self.dated:
            return answers, self.evaluation.flags
        flags = json.loads(self.flags)
        for flag in flags:
            if "judged_on" in flag:
                flag["judged_on"] = _moved(flag["judged_on"], days)
            for qid in set(flag.get("fields", {})) & {*self.dates, "today"}:
                flag["fields"][qid] = _moved(flag["fields"][qid], days)
        return answers, flags


def _provider(db) -> dict:
    user = staff_store.find_user(db, DEMO_PROVIDER)
    if user is None:
        accounts.create(db, DEMO_PROVIDER, "provider", accounts.new_password(), "Demo Provider")
        accounts.disable(db, DEMO_PROVIDER)  # nobody logs in as the demo provider
        user = staff_store.find_user(db, DEMO_PROVIDER)
    return {"id": user["id"], "username": user["username"]}


def seed(db, qn: Questionnaire, ruleset, count: int, rng: random.Random, today: dt.date) -> int:
    """Insert `count` submitted submissions; return how many were added."""
    pool = []
    for _ in range(min(300, max(count, 1))):
        answers = _answers(qn, ruleset.baseline, rng, today)
        if qn.identity.appointment_date and rng.random() < 0.7:
            ahead = dt.timedelta(days=rng.randint(1, 30))
            answers[qn.identity.appointment_date] = (today + ahead).isoformat()
        pool.append(_Judged(qn, answers, ruleset.evaluate(answers, today)))
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0)
    decided = []
    with transaction(db):
        provider = _provider(db)
        store.keep_rules_version(db, ruleset, now())
        first_id = store.next_id(db)

        def rows():
            for number in range(count):
                judged = rng.choice(pool)
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                submitted = moment - dt.timedelta(seconds=rng.randint(60, 30 * 86400))
                answers, flags = judged.on((submitted.astimezone().date() - today).days)
                evaluation = Evaluation(ruleset.version, judged.evaluation.outcome, flags)
                answers = _with_name(qn, answers, name)
                row = store.submitted_row(answers, qn, evaluation, submitted.isoformat())
                row.update(id=first_id + number, created_at=row["submitted_at"])
                if submitted < moment - dt.timedelta(days=3) and rng.random() < 0.5:
                    later = submitted + dt.timedelta(hours=rng.randint(1, 48))
                    decided.append((row["id"], later.isoformat()))
                yield row

        store.insert_submitted(db, rows())
        choices = [DECISIONS.get("cleared").code, DECISIONS.get("consult").code]
        for submission_id, at in decided:
            decisions.record(db, submission_id, rng.choice(choices), user=provider, note="", at=at)
    return count
