"""What tests that count submissions need: varied personas, and a check that a stored
submission is whole (every answer as sent, flags and outcome as the rules judge them, the
rules version recorded)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

from helpers import TODAY, valid_answers

from screening import create_app


def content():
    """The questionnaire and rules the server loads (same files, same checks)."""
    app = create_app({"SECRET_KEY": "content-only", "DATABASE": ":memory:"})
    return app.extensions["questionnaire"], app.extensions["rules"]


def persona(i: int, prefix: str = "Client") -> dict:
    """A valid answer set unique to client i, varied so that outcomes and show-if differ."""
    name = f"{prefix} Number{i:04d} Zephyrine"
    answers = valid_answers(
        full_name=name,
        signature=name.upper(),
        phone=f"555 {i:04d}",
        notes=f"Scar worry {i}: <b>left</b> cheek\nsince 2019",
    )
    if i % 5 == 0:
        answers.update(active_acne=True)
    if i % 7 == 0:
        answers.update(cold_sores=True, cold_sore_now=False)
    if i % 3 == 0:
        answers.update(appointment_date=None, medications_list=f"Ibuprofen {i} mg")
    if i % 4 == 0:
        answers.update(treatment_areas=["around_eyes", "neck"], eczema="past")
    return answers


def rows(database: str | Path, where: str = "1", params=()) -> list[dict]:
    conn = sqlite3.connect(str(database))
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f"SELECT * FROM submissions WHERE {where}", params)]
    finally:
        conn.close()


def integrity(database: str | Path) -> str:
    conn = sqlite3.connect(str(database))
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def assert_whole(
    row: dict, answers: dict, qn, ruleset, database: str | Path, today: dt.date = TODAY
) -> None:
    """The row is a submitted submission holding exactly these answers, judged whole."""
    expected = qn.normalize(answers)
    assert row["status"] == "submitted", row["status"]
    assert json.loads(row["answers"]) == expected
    assert row["client_name"] == answers["full_name"]
    evaluation = ruleset.evaluate(expected, today)
    assert json.loads(row["flags"]) == json.loads(json.dumps(evaluation.flags))
    assert row["outcome"] == evaluation.outcome and row["flag_count"] == len(evaluation.flags)
    assert row["rules_version"] == ruleset.version
    assert row["questionnaire_version"] == qn.version and row["submitted_at"]
    conn = sqlite3.connect(str(database))
    try:
        text = conn.execute(
            "SELECT text FROM rules_versions WHERE hash = ?", [ruleset.version]
        ).fetchone()
    finally:
        conn.close()
    assert text and text[0] == ruleset.text
