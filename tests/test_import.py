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
