"""Synthetic submissions so a new clinic sees a living queue, and benchmarks have 100,000.

A pool of answer sets is drawn from the questionnaire and judged once each by the real
rules; rows reuse them with their own names and dates, inserted in bulk.
"""

from __future__ import annotations

import datetime as dt
import json
import random

import click
from flask import current_app
from flask.cli import with_appcontext

from . import current_questionnaire, current_rules
from .db import connect, transaction
from .questionnaire import Questionnaire, normalize_name
from .submissions import OUTCOME_RANK

FIRST = [
    "Ana",
    "José",
    "Zoë",
    "Chloé",
    "Liam",
    "Noah",
    "Maya",
    "Sofía",
    "Björn",
    "Aiko",
    "Priya",
    "Mohammed",
    "Olivia",
    "Mateo",
    "Léa",
    "Grace",
    "Wei",
    "Fatima",
    "Ivan",
    "Amara",
    "Lucas",
    "Nora",
    "Elena",
    "Sam",
    "Hannah",
    "Omar",
    "Isla",
    "Yuki",
    "Emma",
    "Kwame",
]
LAST = [
    "García",
    "Smith",
    "Nguyen",
    "Müller",
    "O'Brien",
    "Kowalski",
    "Rossi",
    "Haddad",
    "Tanaka",
    "Patel",
    "Johansson",
    "Dubois",
    "Cohen",
    "Okafor",
    "Silva",
    "Brown",
    "Chen",
    "Novák",
    "Murphy",
    "Ivanova",
    "Lee",
    "Martínez",
    "Wilson",
    "Kim",
    "Singh",
    "Taylor",
    "Ahmed",
    "López",
    "Walker",
    "Fischer",
]
# How often a risky answer appears in the synthetic pool.
RISK = 0.012


def _answers(qn: Questionnaire, rng: random.Random, today: dt.date) -> dict:
    """One plausible, valid answer set: mostly unremarkable, sometimes not."""
    a: dict = {}
    for q in qn.questions.values():
        if q.type == "boolean":
            a[q.id] = rng.random() < (
                0.85
                if q.id == "downtime_ok"
                else RISK * 2
                if q.id in ("cold_sores", "smoker")
                else RISK
            )
        elif q.type == "choice":
            ids = q.choice_ids
            a[q.id] = ids[0] if rng.random() < 0.9 else rng.choice(ids)
        elif q.type == "multi":
            count = 1 if q.min_selected else (1 if rng.random() < RISK * 3 else 0)
            a[q.id] = rng.sample(list(q.choice_ids), count)
        else:
            a[q.id] = None
    a["attest"] = True
    if rng.random() < 0.25:
        a["notes"] = rng.choice(
            [
                "Nervous about the pain.",
                "Prefer morning appointments.",
                "I had a reaction to a peel once.",
                "Wedding in 3 months!",
            ]
        )
    if rng.random() < 0.3:
        a["medications_list"] = rng.choice(
            ["Vitamin D", "Levothyroxine 50 mcg", "Fish oil", "Oral contraceptive"]
        )
    age = rng.choice([17] + list(range(22, 75)))
    a["date_of_birth"] = (today - dt.timedelta(days=age * 365 + rng.randint(10, 300))).isoformat()
    a["full_name"] = a["signature"] = "Demo Client"
    return qn.normalize(a)


def seed(db, qn: Questionnaire, ruleset, count: int, rng: random.Random, today: dt.date) -> int:
    """Insert `count` submitted submissions; return how many were added."""
    pool = []
    for _ in range(min(300, max(count, 1))):
        answers = _answers(qn, rng, today)
        evaluation = ruleset.evaluate(answers, today)
        pool.append(
            (answers, json.dumps(evaluation.flags), evaluation.outcome, len(evaluation.flags))
        )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with transaction(db):
        db.execute(
            "INSERT OR IGNORE INTO rules_versions (hash, text, first_seen) VALUES (?, ?, ?)",
            [ruleset.version, ruleset.text, now.isoformat()],
        )

        def rows():
            for _ in range(count):
                answers, flags, outcome, flag_count = rng.choice(pool)
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                submitted = now - dt.timedelta(seconds=rng.randint(60, 30 * 86400))
                local_day = submitted.astimezone().date()
                appointment = (
                    (local_day + dt.timedelta(days=rng.randint(1, 30))).isoformat()
                    if rng.random() < 0.7
                    else None
                )
                stamp = submitted.isoformat()
                decided = submitted < now - dt.timedelta(days=3) and rng.random() < 0.5
                row_answers = {
                    **answers,
                    "full_name": name,
                    "signature": name,
                    "appointment_date": appointment,
                }
                yield {
                    "status": "submitted",
                    "created_at": stamp,
                    "updated_at": stamp,
                    "submitted_at": stamp,
                    "client_name": name,
                    "name_key": normalize_name(name),
                    "date_of_birth": answers["date_of_birth"],
                    "appointment_date": appointment,
                    "day": appointment or local_day.isoformat(),
                    "answers": json.dumps(row_answers),
                    "questionnaire_version": qn.version,
                    "rules_version": ruleset.version,
                    "flags": flags,
                    "outcome": outcome,
                    "outcome_rank": OUTCOME_RANK[outcome],
                    "flag_count": flag_count,
                    "decision": rng.choice(["cleared", "consult"]) if decided else None,
                }

        db["submissions"].insert_all(rows(), batch_size=2000)
    return count


@click.command("demo")
@with_appcontext
@click.option(
    "--count",
    default=200,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="How many synthetic submissions to add.",
)
@click.option("--seed", "seed_value", default=None, type=int, help="Random seed (repeatable).")
def demo_command(count: int, seed_value: int | None) -> None:
    """Add realistic synthetic submissions (varied personas, dates around today).

    Example: flask --app screening demo --count 200
    """
    db = connect(current_app.config["DATABASE"])
    try:
        added = seed(
            db,
            current_questionnaire(),
            current_rules(),
            count,
            random.Random(seed_value),
            dt.date.today(),
        )
    finally:
        db.conn.close()
    click.echo(f"Added {added:,} demo submissions.")
