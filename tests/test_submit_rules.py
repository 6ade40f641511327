"""Submitting judges the answers once with rules.yaml and keeps the version that judged them."""

from __future__ import annotations

import json

from helpers import rows, spanish_rules_beside, valid_answers

from screening import create_app
from screening.client.routes import call_clinic
from screening.config import ROOT


def one(app, sql, params=()):
    return rows(app, sql, params)[0]


def test_submit_stores_flags_outcome_and_rules_version(wizard, app, client):
    answers = valid_answers(active_acne=True, retinoid_last_use="still_using")
    wizard.walk(answers)
    wizard.submit(answers)
    row = one(app, "SELECT * FROM submissions")
    flags = json.loads(row["flags"])
    assert row["outcome"] == "refer" and row["flag_count"] == len(flags)
    # Version 2: the appointment is a week away, too soon for the 2-week stop (prep-too-close).
    assert [f["id"] for f in flags] == ["active-acne", "prep-too-close", "retinoid-stop"]
    assert flags[0]["fields"] == {"active_acne": True}
    ruleset = app.extensions["rules"]
    assert row["rules_version"] == ruleset.version
    stored = one(app, "SELECT text FROM rules_versions WHERE hash = ?", [ruleset.version])
    assert stored["text"] == (ROOT / "rules.yaml").read_text()
    done = client.get("/done").text
    assert "Please see a doctor before this treatment" in done
    # Most important first: the refer message comes before the retinoid instruction.
    with app.test_request_context():  # each message as the page words it
        first, second = (str(call_clinic(f["client_message"])) for f in flags[:2])
    assert done.index(first) < done.index(second)


def test_changing_the_rules_never_changes_stored_flags(app, tmp_path, runner):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(valid_answers(skin_type="type_5")))
    assert runner.invoke(args=["submissions", "import", str(path)]).exit_code == 0
    before = one(app, "SELECT flags, outcome, rules_version FROM submissions")
    assert before["outcome"] == "review"
    # The clinic edits rules.yaml: type V skin is no longer flagged.
    text = (ROOT / "rules.yaml").read_text()
    edited = tmp_path / "rules.yaml"
    edited.write_text(
        text.replace('skin_type in ["type_4", "type_5", "type_6"]', 'skin_type in ["type_6"]')
    )
    assert edited.read_text() != text
    spanish_rules_beside(edited)
    later = create_app(
        {"SECRET_KEY": "x", "DATABASE": app.config["DATABASE"], "RULES_PATH": str(edited)}
    )
    assert later.extensions["rules"].version != before["rules_version"]
    assert one(app, "SELECT flags, outcome, rules_version FROM submissions") == before
    stored = one(app, "SELECT text FROM rules_versions WHERE hash = ?", [before["rules_version"]])
    assert 'skin_type in ["type_4", "type_5", "type_6"]' in stored["text"]


def test_a_rule_that_fails_while_judging_still_stores_the_submission(tmp_path, caplog):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        (ROOT / "rules.yaml").read_text()
        + """
- id: broken-at-runtime
  title: Broken at runtime
  when: age / 0 > 1
  severity: prep
  staff: never shown
  client: never shown
  source: test
  examples:
    - {answers: {}, fires: false}
    - {answers: {active_acne: true}, fires: false}
"""
    )
    spanish_rules_beside(rules, **{"broken-at-runtime": "nunca se muestra"})
    from screening.store import init_db

    init_db(tmp_path / "db")
    app = create_app(
        {"SECRET_KEY": "x", "DATABASE": str(tmp_path / "db"), "RULES_PATH": str(rules)}
    )
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(valid_answers(notes="my private note")))
    result = app.test_cli_runner().invoke(args=["submissions", "import", str(path)])
    assert result.exit_code == 0, result.output
    row = one(app, "SELECT flags, outcome, status FROM submissions")
    flags = {f["id"]: f for f in json.loads(row["flags"])}
    assert row["status"] == "submitted" and row["outcome"] == "review"  # never a silent clear
    assert flags["rule-error"]["severity"] == "review"
    assert "broken-at-runtime" in flags["rule-error"]["staff_message"]
    assert "my private note" not in caplog.text and "Ana María" not in caplog.text
