"""Files with health data are private from their first byte (issue 17, finding 2): with the
usual umask 022 the backup's partial file and its side files were 0644 for the seconds the
copy took, and a descriptor opened then still read the whole copy after the chmod; `pdf
-o` wrote a health-data PDF as 0644."""

from __future__ import annotations

import os
import stat
import threading
import time

import pytest
from helpers import TODAY, valid_answers

from screening.files import create_private
from screening.store import get_db
from screening.store.backup import backup
from screening.store.submissions import import_answers


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def fill(app, count: int) -> None:
    with app.app_context():
        db = get_db()
        qn, ruleset = app.extensions["questionnaire"], app.extensions["rules"]
        for i in range(count):
            answers = valid_answers(full_name=f"Client {i}", signature=f"Client {i}")
            import_answers(db, answers, qn, ruleset, TODAY)


def test_the_backup_and_its_side_files_are_private_while_being_written(app, tmp_path, umask_022):
    fill(app, 60)
    target = tmp_path / "out" / "copy.db"
    target.parent.mkdir()
    seen: dict[str, set[int]] = {}
    done = threading.Event()
    errors = []

    def copy():
        try:
            backup(app.config["DATABASE"], target, pages=1, pause=0.01)  # slow: many steps
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            done.set()

    worker = threading.Thread(target=copy)
    worker.start()
    while not done.is_set():
        for entry in os.scandir(target.parent):
            try:
                seen.setdefault(entry.name, set()).add(stat.S_IMODE(entry.stat().st_mode))
            except FileNotFoundError:
                pass  # renamed or removed between listing and stat
        time.sleep(0.001)
    worker.join()
    assert not errors, errors
    partial = ".copy.db.partial"
    assert partial in seen, seen  # watched while it was being written
    assert {name: modes for name, modes in seen.items() if modes != {0o600}} == {}
    assert mode(target) == 0o600
    assert sorted(os.listdir(target.parent)) == ["copy.db"]


def test_create_private_is_private_before_the_first_byte(tmp_path, umask_022):
    fresh = tmp_path / "fresh.pdf"
    fd = create_private(fresh)
    try:
        assert stat.S_IMODE(os.fstat(fd).st_mode) == 0o600 and os.fstat(fd).st_size == 0
    finally:
        os.close(fd)
    existing = tmp_path / "existing.pdf"
    existing.write_bytes(b"an older, world-readable file")
    os.chmod(existing, 0o644)
    fd = create_private(existing)
    try:
        assert stat.S_IMODE(os.fstat(fd).st_mode) == 0o600 and os.fstat(fd).st_size == 0
    finally:
        os.close(fd)


def test_pdf_output_is_private(app, runner, submitted, tmp_path, umask_022):
    sid = submitted()
    out = tmp_path / "summary.pdf"
    result = runner.invoke(args=["pdf", str(sid), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert mode(out) == 0o600 and out.read_bytes().startswith(b"%PDF")
    old = tmp_path / "old.pdf"
    old.write_bytes(b"x")
    os.chmod(old, 0o644)
    result = runner.invoke(args=["pdf", str(sid), "-o", str(old)])
    assert result.exit_code == 0, result.output
    assert mode(old) == 0o600 and old.read_bytes().startswith(b"%PDF")
