"""The house rules of the layout, checked: SQL only in the store, no question id in code,
transactions that nest, and a new question that needs no code."""

from __future__ import annotations

import re
import sqlite3

import pytest
import yaml
from helpers import TEST_SETTINGS, make_user, valid_answers

from screening import create_app
from screening.config import ROOT
from screening.questionnaire import load
from screening.store import decisions, get_db, init_db, transaction

PACKAGE = ROOT / "screening"
SQL = re.compile(
    r"\b(SELECT\b.*\bFROM|INSERT (OR [A-Z]+ )?INTO|UPDATE [a-z_]+ SET|DELETE FROM|"
    r"CREATE (TABLE|INDEX|TRIGGER|VIRTUAL TABLE))\b"
)


def test_no_sql_outside_the_store():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if "store" not in path.relative_to(PACKAGE).parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if SQL.search(line)
    ]
    assert found == []


def test_no_question_id_in_code_or_templates():
    """Only the content files name questions; code reaches them through `identity:`. (The
    submission columns date_of_birth and appointment_date share a question's name.)"""
    qn = load(ROOT / "questionnaire.yaml")
    columns = {"date_of_birth", "appointment_date", "phone"}
    ids = sorted(set(qn.questions) - columns)
    pattern = re.compile(r"""['".]({})\b""".format("|".join(map(re.escape, ids))))
    files = [*PACKAGE.rglob("*.py"), *(ROOT / "templates").rglob("*.html")]
    found = [
        f"{path.relative_to(ROOT)}:{number}: {match.group(1)}"
        for path in sorted(files)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        for match in pattern.finditer(line)
    ]
    assert found == []


def _one_submission(app, wizard) -> int:
    wizard.walk(valid_answers())
    assert wizard.submit(valid_answers()).status_code == 302
    with app.app_context():
        return get_db().execute("SELECT id FROM submissions").fetchone()[0]


def _counts(app) -> tuple:
    with app.app_context():
        db = get_db()
        return (
            db.execute("SELECT count(*) FROM decisions").fetchone()[0],
            db.execute("SELECT count(*) FROM audit WHERE action = 'decision'").fetchone()[0],
            db.execute("SELECT decision FROM submissions").fetchone()[0],
        )


def test_a_decision_and_its_audit_row_are_written_together(app, wizard):
    sid = _one_submission(app, wizard)
    make_user(app, "dana", "provider")
    with app.app_context():
        db = get_db()
        dana = {"id": 1, "username": "dana"}
        with transaction(db):  # an outer transaction: the record joins it
            decisions.record(db, sid, "consult", user=dana, note="Call first")
    assert _counts(app) == (1, 1, "consult")


def test_a_decision_whose_audit_row_fails_stores_nothing(app, wizard):
    sid = _one_submission(app, wizard)
    make_user(app, "dana", "provider")
    with app.app_context():
        db = get_db()
        # A real failure of the second write: the audit table refuses this one insert.
        db.execute(
            "CREATE TEMP TRIGGER refuse_audit BEFORE INSERT ON audit "
            "WHEN new.action = 'decision' BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
        )
        with pytest.raises(sqlite3.IntegrityError, match="disk says no"):
            decisions.record(db, sid, "consult", user={"id": 1, "username": "dana"})
        db.execute("DROP TRIGGER refuse_audit")
    assert _counts(app) == (0, 0, None)


def test_an_inner_failure_undoes_only_the_inner_block(tmp_path):
    path = tmp_path / "t.db"
    init_db(path)
    from screening.store import connect

    db = connect(path)
    with transaction(db):
        db.execute("INSERT INTO rules_versions (hash, text) VALUES ('outer', 'x')")
        with pytest.raises(ValueError), transaction(db):
            db.execute("INSERT INTO rules_versions (hash, text) VALUES ('inner', 'y')")
            raise ValueError("inner block fails")
        db.execute("INSERT INTO rules_versions (hash, text) VALUES ('after', 'z')")
    kept = [row[0] for row in db.execute("SELECT hash FROM rules_versions ORDER BY hash")]
    assert kept == ["after", "outer"]
    db.conn.close()


def test_a_new_question_is_asked_stored_and_shown_without_code(tmp_path):
    """Adding a question to questionnaire.yaml is all it takes: the wizard asks it, the
    submission stores it, the provider sees it."""
    data = yaml.safe_load((ROOT / "questionnaire.yaml").read_text())
    skin = next(s for s in data["sections"] if s["id"] == "skin")
    skin["questions"].append(
        {"id": "hay_fever", "type": "boolean", "label": "Do you have hay fever?", "required": True}
    )
    path = tmp_path / "questionnaire.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    # ...and its Spanish text beside it: the app refuses a question a client language lacks.
    spanish = yaml.safe_load((ROOT / "questionnaire.es.yaml").read_text())
    spanish["questions"]["hay_fever"] = {"label": "¿Tiene fiebre del heno?"}
    (tmp_path / "questionnaire.es.yaml").write_text(yaml.safe_dump(spanish, allow_unicode=True))
    database = tmp_path / "screening.db"
    init_db(database)
    app = create_app(
        {
            **TEST_SETTINGS,
            "SECRET_KEY": "x",
            "DATABASE": str(database),
            "QUESTIONNAIRE_PATH": path,
        }
    )
    from helpers import Wizard

    client = app.test_client()
    wizard = Wizard(client, app)
    answers = valid_answers(hay_fever=True)
    wizard.start()
    wizard.post_step("about", answers)
    assert "Do you have hay fever?" in client.get("/step/skin").text
    wizard.walk(answers)
    assert wizard.submit(answers).status_code == 302
    make_user(app, "dana", "provider")
    from helpers import log_in

    staff = app.test_client()
    log_in(staff, "dana")
    with app.app_context():
        sid, stored = (
            get_db()
            .execute("SELECT id, answers FROM submissions WHERE status = 'submitted'")
            .fetchone()
        )
    assert '"hay_fever": true' in stored
    shown = staff.get(f"/staff/submissions/{sid}").text
    assert re.search(r"Do you have hay fever\?</td><td class=\"a\">Yes</td>", shown)
