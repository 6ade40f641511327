"""A changed rules.yaml takes effect while the app runs: the next submission is judged by
the new version, the change is logged and audited with both versions, and a broken edit
keeps the previous rules in force with a banner on every staff page until it is fixed.

Before, an edit was silently ignored (even after a worker respawn or `kill -HUP`, because
of --preload), and a broken edit was only reported when the next restart refused to start.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import html
import json
import sqlite3
import time

import pytest
import requests
from helpers import (
    PASSWORD,
    TEST_SETTINGS,
    make_user,
    rows,
    spanish_rules_beside,
    valid_answers,
)
from stored import content, persona
from stored import rows as stored_rows
from visitor import Client, Staff

from screening import create_app
from screening.config import ROOT
from screening.store import init_db

ADDED = """
- id: ops-added-while-running
  title: Added while running
  when: true
  severity: prep
  staff: Added while the app was running.
  client: Added while the app was running.
  source: operations test
  examples:
    - {answers: {}, fires: true}
    - {answers: {active_acne: true}, fires: true}
"""
BROKEN = "\n- id: [this is not\n"
BANNER = "rules.yaml was changed but cannot be used"


def version(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture
def rules_file(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text((ROOT / "rules.yaml").read_text())
    # The rule the tests add while the app runs has its Spanish text ready beside it.
    spanish_rules_beside(path, **{"ops-added-while-running": "Texto de prueba."})
    return path


@pytest.fixture
def app(tmp_path, rules_file):
    """The app judging with a copy of rules.yaml, looked at again before every request."""
    database = tmp_path / "screening.db"
    init_db(database)
    return create_app(
        {
            **TEST_SETTINGS,
            "TESTING": True,
            "SECRET_KEY": "k",
            "DATABASE": str(database),
            "RULES": str(rules_file),
            "RULES_CHECK_SECONDS": 0,
        }
    )


def submit(wizard) -> dict:
    answers = valid_answers()
    wizard.walk(answers)
    assert wizard.submit(answers).status_code == 302
    return rows(wizard.app, "SELECT rules_version, flags FROM submissions ORDER BY id DESC")[0]


def flag_ids(row: dict) -> set[str]:
    return {flag["id"] for flag in json.loads(row["flags"])}


def test_an_edit_judges_the_next_submission_and_a_broken_one_is_shown_to_staff(
    app, wizard, staff, rules_file, caplog
):
    original = rules_file.read_text()
    first = submit(wizard)
    assert first["rules_version"] == version(original)
    assert "ops-added-while-running" not in flag_ids(first)

    edited = original + ADDED
    rules_file.write_text(edited)
    second = submit(wizard)
    assert second["rules_version"] == version(edited)
    assert "ops-added-while-running" in flag_ids(second)
    [change] = rows(app, "SELECT detail, user_id FROM audit WHERE action = 'rules_change'")
    assert change["detail"] == f"{version(original)} -> {version(edited)}"
    kept = {r["hash"] for r in rows(app, "SELECT hash FROM rules_versions")}
    assert {version(original), version(edited)} <= kept  # both texts can be read back
    assert f"now judging with rules version {version(edited)[:12]}" in caplog.text

    provider = staff("provider")
    assert BANNER not in provider.get("/staff/").text
    assert f"Rules version {version(edited)[:8]}" in provider.get("/staff/").text

    rules_file.write_text(edited + BROKEN)
    page = html.unescape(provider.get("/staff/day").text)
    assert BANNER in page and "rules.yaml:" in page and "not valid YAML" in page
    assert f"version {version(edited)[:8]}" in page
    assert "cannot be used" in caplog.text
    third = submit(wizard)
    assert third["rules_version"] == version(edited)  # the last good rules, not none
    assert "ops-added-while-running" in flag_ids(third)
    assert BANNER not in wizard.client.get("/").text  # clients are not told

    rules_file.write_text(edited)  # fixed: the same text as in force
    assert BANNER not in provider.get("/staff/day").text
    assert len(rows(app, "SELECT id FROM audit WHERE action = 'rules_change'")) == 1


def test_under_gunicorn_every_worker_takes_up_the_edit(gunicorn, rules_file):
    """Two workers forked from a --preload master, as `make run` serves the app."""
    server = gunicorn(
        workers=2, env={"SCREENING_RULES": str(rules_file), "SCREENING_RULES_CHECK_SECONDS": "1"}
    )
    qn, _ = content()
    original = rules_file.read_text()

    def walk(i: int) -> dict:
        answers = persona(i, "Rules")
        client = Client(server.url, qn, timeout=30)
        client.walk(answers)
        [reply] = client.submit(answers)
        assert reply.status_code == 302, reply.status_code
        [row] = [r for r in rows_of(server) if r["client_name"] == answers["full_name"]]
        return row

    def versions_seen() -> dict[int, str]:
        """Each worker's rules version, from /healthz. Whichever worker accepts first serves a
        request, and on an idle machine one worker may take forty in a row (CI saw it), so
        ask eight at a time until both have answered, for up to 20 seconds."""
        seen = {}
        deadline = time.monotonic() + 20
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            while len(seen) < 2 and time.monotonic() < deadline:
                replies = pool.map(
                    lambda _: requests.get(server.url + "/healthz", timeout=10).json(), range(8)
                )
                seen.update((body["worker"], body["rules_version"]) for body in replies)
        return seen

    assert walk(1)["rules_version"] == version(original)
    edited = original + ADDED
    rules_file.write_text(edited)
    time.sleep(1.5)  # longer than SCREENING_RULES_CHECK_SECONDS
    for i in range(2, 6):  # whichever worker serves it
        row = walk(i)
        assert row["rules_version"] == version(edited), i
        assert "ops-added-while-running" in flag_ids(row)
    seen = versions_seen()
    assert len(seen) == 2 and set(seen.values()) == {version(edited)}, seen
    # Both workers took the change up; it is audited once.
    changes = [r for r in audit_rows(server) if r["action"] == "rules_change"]
    assert [c["detail"] for c in changes] == [f"{version(original)} -> {version(edited)}"]
    assert "now judging with rules version" in server.output()

    rules_file.write_text(edited + BROKEN)
    time.sleep(1.5)
    staff = Staff(server.url, timeout=30)
    make_user(
        create_app({**TEST_SETTINGS, "SECRET_KEY": "k", "DATABASE": str(server.database)}),
        "ops",
        "front_desk",
    )
    assert staff.log_in("ops", PASSWORD).status_code == 302
    for _ in range(4):  # each request may reach either worker: every one shows it
        assert BANNER in staff.get("/staff/day").text
    assert walk(7)["rules_version"] == version(edited)


def rows_of(server) -> list[dict]:
    return stored_rows(server.database, "status = 'submitted'")


def audit_rows(server) -> list[dict]:
    conn = sqlite3.connect(server.database)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM audit ORDER BY id")]
    finally:
        conn.close()
