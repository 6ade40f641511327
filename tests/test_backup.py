"""`flask --app screening backup FILE`: a checked copy taken while the app serves, and the
restore steps of docs/backup.md."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import TODAY
from live import SECRET_KEY
from stored import assert_whole, content, integrity, persona, rows
from visitor import Client

from screening import create_app
from screening.store import connect, init_db
from screening.store.backup import BackupError, backup
from screening.store.submissions import get_submission, import_answers


def fill(database, count: int, prefix: str = "Stored") -> dict[str, dict]:
    qn, ruleset = content()
    db = connect(database)
    try:
        people = {}
        for i in range(count):
            answers = persona(i, prefix)
            import_answers(db, answers, qn, ruleset, TODAY)
            people[answers["full_name"]] = answers
        return people
    finally:
        db.conn.close()


def test_backup_command_writes_a_checked_self_contained_copy(app, runner, tmp_path):
    people = fill(app.config["DATABASE"], 30)
    target = tmp_path / "copy.db"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "Backed up 30 submissions" in result.output and "integrity check ok" in result.output
    assert integrity(target) == "ok"
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    assert sorted(tmp_path.glob("*copy.db*")) == [target]  # no -wal, no partial file
    assert target.stat().st_mode & 0o777 == 0o600
    qn, ruleset = content()
    for row in rows(target):
        assert_whole(row, people[row["client_name"]], qn, ruleset, target)
    assert rows(target) == rows(app.config["DATABASE"])


def test_backup_mistakes_are_one_clear_line(app, runner, tmp_path):
    fill(app.config["DATABASE"], 2)
    existing = tmp_path / "existing.db"
    existing.write_text("an older backup")
    cases = {
        str(existing): "already exists",
        str(tmp_path / "no-such-folder" / "copy.db"): "no such folder",
        app.config["DATABASE"]: "another file than the database",
        app.config["DATABASE"] + "-wal": "another file than the database",
    }
    for target, message in cases.items():
        result = runner.invoke(args=["backup", target])
        assert result.exit_code == 1 and message in result.output, (target, result.output)
        assert "Traceback" not in result.output
    folder = runner.invoke(args=["backup", str(tmp_path)])
    assert folder.exit_code == 2 and "is a directory" in folder.output  # click's own check
    assert existing.read_text() == "an older backup"
    result = runner.invoke(args=["backup", "--force", str(existing)])
    assert result.exit_code == 0 and integrity(existing) == "ok"
    assert "--force" in runner.invoke(args=["backup", "--help"]).output


def test_backup_of_a_missing_database_is_refused(tmp_path):
    with pytest.raises(BackupError, match="no database at"):
        backup(tmp_path / "nothing.db", tmp_path / "copy.db")
    assert not (tmp_path / "nothing.db").exists()  # not created by looking


def test_backup_while_clients_submit_through_a_live_server(gunicorn, tmp_path):
    """The real command, in its own process, while clients submit through gunicorn."""
    database = tmp_path / "live.db"
    init_db(database)
    fill(database, 300)  # enough pages for the copy to take many steps
    server = gunicorn(database=database, workers=2)
    qn, ruleset = content()
    stop, acknowledged, failures = threading.Event(), [], []

    def submitting(t: int) -> None:
        for n in range(200):  # bounded; stopped once the backup is done
            if stop.is_set():
                return
            answers = persona(t * 1000 + n, "During")
            try:
                client = Client(server.url, qn, timeout=20)
                client.walk(answers)
                [reply] = client.submit(answers)
                assert reply.status_code == 302
                acknowledged.append((time.monotonic(), answers))
            except Exception as exc:  # noqa: BLE001 (recorded, asserted on below)
                failures.append(repr(exc))
                return

    writers = [threading.Thread(target=submitting, args=(t,), daemon=True) for t in range(3)]
    for w in writers:
        w.start()
    while len(acknowledged) < 3 and not failures:
        time.sleep(0.05)
    present = {row["id"]: row for row in rows(database, "status = 'submitted'")}
    target = tmp_path / "during.db"
    started = time.monotonic()
    env = {
        **os.environ,
        "SCREENING_DATABASE": str(database),
        "SCREENING_SECRET_KEY": SECRET_KEY,
        "FLASK_APP": "screening",
    }
    flask = str(Path(sys.executable).with_name("flask"))
    result = subprocess.run(
        [flask, "--app", "screening", "backup", str(target)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    finished = time.monotonic()
    stop.set()
    for w in writers:
        w.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert not failures, failures[:3]
    assert [a for at, a in acknowledged if started < at < finished], (
        "no submission went through while the backup ran"
    )
    assert integrity(target) == "ok"
    copied = {row["id"]: row for row in rows(target, "status = 'submitted'")}
    assert set(present) <= set(copied)
    for submission_id, row in present.items():
        assert copied[submission_id] == row
    for at, answers in acknowledged:  # those acknowledged before the backup began
        if at < started:
            match = [r for r in copied.values() if r["client_name"] == answers["full_name"]]
            assert len(match) == 1
            assert_whole(match[0], answers, qn, ruleset, target)
    assert "database is locked" not in server.output()
    print(
        f"\nbackup: {len(copied)} submissions copied in {finished - started:.2f} s "
        f"(command run) while {len(acknowledged)} clients submitted"
    )


def test_restore_as_docs_backup_md_says(app, runner, tmp_path):
    """Stop, put the copy in place, remove -wal and -shm, init-db, start: all there."""
    people = fill(app.config["DATABASE"], 5)
    copy = tmp_path / "copy.db"
    assert runner.invoke(args=["backup", str(copy)]).exit_code == 0
    fill(app.config["DATABASE"], 3, prefix="After the backup")  # lost by restoring, as said
    database = Path(app.config["DATABASE"])
    shutil.copyfile(copy, database)
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    init_db(database)  # `flask --app screening init-db`: upgrades an older copy's schema
    restored = create_app({"SECRET_KEY": "k", "DATABASE": str(database)})
    db = connect(database)
    names = {get_submission(db, r["id"])["client_name"] for r in rows(database)}
    db.conn.close()
    assert names == set(people) and integrity(database) == "ok"
    assert restored.test_client().get("/").status_code == 200


def test_a_paged_backup_finishes_under_steady_writes(tmp_path):
    """Small steps while another connection writes all the time: a backup that let go of
    its snapshot between steps would restart after every write and never finish."""
    database = tmp_path / "busy.db"
    init_db(database)
    fill(database, 200)
    qn, ruleset = content()
    stop, written = threading.Event(), []

    def writer():
        db = connect(database)
        try:
            give_up = time.monotonic() + 25  # bounded even if the test fails
            while not stop.is_set() and time.monotonic() < give_up:
                import_answers(db, persona(len(written), "Writer"), qn, ruleset, TODAY)
                written.append(1)
        finally:
            db.conn.close()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    while len(written) < 5:
        time.sleep(0.01)
    before = len(rows(database, "status = 'submitted'"))
    outcome = {}
    copier = threading.Thread(
        daemon=True,
        target=lambda: outcome.update(
            result=backup(database, tmp_path / "copy.db", pages=8, pause=0.005)
        ),
    )
    copier.start()
    copier.join(timeout=15)
    during = len(written)
    stop.set()
    thread.join(timeout=10)
    assert "result" in outcome, "the backup did not finish within 15 s of steady writes"
    assert outcome["result"].submissions >= before and integrity(tmp_path / "copy.db") == "ok"
    assert during > 5
