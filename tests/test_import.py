"""`flask --app screening submissions import FILE.json`."""

from __future__ import annotations

import json
import sqlite3

from helpers import valid_answers


def count(app):
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        return conn.execute("SELECT count(*) FROM submissions WHERE status='submitted'").fetchone()[
            0
        ]
    finally:
        conn.close()


def test_import_a_valid_file_prints_the_new_id(runner, app, tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(valid_answers(active_acne=True)))
    result = runner.invoke(args=["submissions", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().isdigit()
    conn = sqlite3.connect(app.config["DATABASE"])
    outcome, name = conn.execute("SELECT outcome, client_name FROM submissions").fetchone()
    conn.close()
    assert outcome == "refer" and name == "Ana María Pérez"


def test_import_names_each_bad_question_and_stores_nothing(runner, app, tmp_path):
    path = tmp_path / "answers.json"
    bad = valid_answers(eczema="acitve", active_acne="yes", surprise=1)
    del bad["date_of_birth"]
    path.write_text(json.dumps(bad))
    result = runner.invoke(args=["submissions", "import", str(path)])
    assert result.exit_code == 1
    for qid in ("eczema", "active_acne", "surprise", "date_of_birth"):
        assert f"{qid}:" in result.output
    assert "Traceback" not in result.output
    assert count(app) == 0


def stored(app) -> dict:
    conn = sqlite3.connect(app.config["DATABASE"])
    conn.row_factory = sqlite3.Row
    try:
        return dict(conn.execute("SELECT * FROM submissions ORDER BY id DESC").fetchone())
    finally:
        conn.close()


def test_evaluate_judges_exactly_what_import_stores(runner, app, tmp_path):
    """cold_sores no with cold_sore_now yes: the follow-up was never asked, so the app stores
    it blank and flags nothing; `rules evaluate` once kept it and said defer."""
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(valid_answers(cold_sores=False, cold_sore_now=True)))
    evaluated = runner.invoke(args=["rules", "evaluate", str(path)])
    assert evaluated.exit_code == 0, evaluated.output
    judged = json.loads(evaluated.stdout)
    assert runner.invoke(args=["submissions", "import", str(path)]).exit_code == 0
    row = stored(app)
    assert json.loads(row["answers"])["cold_sore_now"] is None
    assert (judged["outcome"], judged["rules_version"]) == (row["outcome"], row["rules_version"])
    assert judged["outcome"] == "clear"
    assert judged["flags"] == json.loads(row["flags"]) == []
    # and with a flag to compare: the same ids, titles, fields and messages
    path.write_text(json.dumps(valid_answers(cold_sores=True, cold_sore_now=True, smoker=True)))
    judged = json.loads(runner.invoke(args=["rules", "evaluate", str(path)]).stdout)
    assert runner.invoke(args=["submissions", "import", str(path)]).exit_code == 0
    row = stored(app)
    assert judged["outcome"] == row["outcome"] == "defer"
    assert judged["flags"] == [
        {k: f[k] for k in ("id", "title", "severity", "fields", "staff_message", "client_message")}
        for f in json.loads(row["flags"])
    ]


def test_import_and_evaluate_refuse_an_empty_file_alike(runner, app, tmp_path):
    path = tmp_path / "answers.json"
    path.write_text("{}")
    imported = runner.invoke(args=["submissions", "import", str(path)])
    evaluated = runner.invoke(args=["rules", "evaluate", str(path)])
    assert imported.exit_code == evaluated.exit_code == 1
    for qid in ("full_name", "date_of_birth", "immune_condition", "signature"):
        assert f"  {qid}: " in imported.output and f"{path}: {qid}: " in evaluated.output
    assert count(app) == 0


def test_import_of_invalid_json_is_a_clear_message(runner, app, tmp_path):
    path = tmp_path / "answers.json"
    path.write_text("{not json")
    result = runner.invoke(args=["submissions", "import", str(path)])
    assert result.exit_code == 1 and "not valid JSON" in result.output
    assert count(app) == 0


def test_the_database_file_is_readable_by_its_owner_only(app):
    import os
    import stat

    mode = stat.S_IMODE(os.stat(app.config["DATABASE"]).st_mode)
    assert mode == 0o600, oct(mode)
