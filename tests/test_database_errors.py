"""Database failures by class: logged as "database disk full (SQLITE_FULL)" (never a value),
shown to a client as "we cannot save right now, your earlier answers are safe", to staff
as what failed and what to do. Before, a full disk logged thousands of bare "unhandled
OperationalError" lines and staff saw a generic error page.
"""

from __future__ import annotations

import html
import os
import sqlite3
import subprocess

import pytest
from helpers import TEST_SETTINGS, rows, valid_answers

from screening import create_app
from screening.store import errors as store_errors
from screening.store import init_db

AS_ROOT = os.geteuid() == 0


class Disk:
    """A small real filesystem (tmpfs) that a test can fill up and free again."""

    def __init__(self, path):
        self.path = path
        self.filler = path / "filler"

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for size in (1 << 16, 512):
                try:
                    while True:
                        os.write(fd, b"\0" * size)
                except OSError:
                    pass
        finally:
            os.close(fd)
        assert os.statvfs(self.path).f_bavail == 0

    def free(self) -> None:
        self.filler.unlink()


@pytest.fixture
def disk(tmp_path):
    if not AS_ROOT:
        pytest.skip("the small disk is a tmpfs mount, which needs root")
    path = tmp_path / "disk"
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(path)], check=True)
    yield Disk(path)
    subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture
def app(disk):
    """The app with its database on the small disk (the conftest fixtures use this one)."""
    database = disk.path / "screening.db"
    init_db(database)
    return create_app(
        {
            **TEST_SETTINGS,
            "TESTING": True,
            "SECRET_KEY": "k",
            "DATABASE": str(database),
            "HEALTH_PROBE_SECONDS": 0,
        }
    )


def test_a_full_disk_is_named_in_the_log_and_to_staff_and_clients_keep_their_answers(
    app, client, wizard, staff, submitted, disk, caplog
):
    submission = submitted()
    provider = staff("provider")
    wizard.start()
    first, second = wizard.qn.steps[:2]
    answers = valid_answers()
    assert wizard.post_step(first.id, answers).status_code == 302
    disk.fill()

    saved = wizard.post_step(second.id, answers)
    assert saved.status_code == 503
    assert "We cannot save right now" in saved.text
    assert "Your earlier answers are safe. Please tell the front desk." in saved.text
    assert "disk" not in saved.text  # the client is not asked to fix the server

    for page in (
        f"/staff/submissions/{submission}",  # its audit row cannot be written
        f"/staff/submissions/{submission}/summary.pdf",
    ):
        shown = provider.get(page)
        assert shown.status_code == 503, page
        text = html.unescape(shown.text)
        assert "The database cannot be used right now: disk full" in text
        assert "The server's disk is full: free space on it" in text
        assert "Nothing has been lost" in text

    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["database"] == "disk full"

    log = caplog.text
    assert "database disk full (SQLITE_FULL) on POST client.step" in log
    assert "database disk full (SQLITE_FULL) on GET staff.submission" in log
    assert "unhandled OperationalError" not in log

    disk.free()  # the app recovers by itself
    assert wizard.post_step(second.id, answers).status_code == 302
    assert provider.get(f"/staff/submissions/{submission}").status_code == 200
    assert client.get("/healthz").status_code == 200
    [draft] = rows(app, "SELECT answers FROM submissions WHERE status = 'draft'")
    for question in first.step_questions:  # saved before the disk filled, kept through it
        assert question.id in draft["answers"] or answers.get(question.id) in (None, [], "")


def _full(tmp_path):
    conn = sqlite3.connect(tmp_path / "full.db")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("PRAGMA max_page_count = 2")
    conn.execute("INSERT INTO t VALUES (zeroblob(100000))")


def _read_only(tmp_path):
    sqlite3.connect(tmp_path / "ro.db").execute("CREATE TABLE t (x)").connection.commit()
    conn = sqlite3.connect(f"file:{tmp_path / 'ro.db'}?mode=ro", uri=True)
    conn.execute("INSERT INTO t VALUES (1)")


def _busy(tmp_path):
    holder = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(tmp_path / "busy.db", timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")


def _not_a_database(tmp_path):
    (tmp_path / "junk.db").write_bytes(b"this is not an SQLite file" * 200)
    sqlite3.connect(tmp_path / "junk.db").execute("SELECT * FROM sqlite_master")


def _cannot_open(tmp_path):
    sqlite3.connect(tmp_path / "no-such-folder" / "x.db")


def _our_lock_timeout(tmp_path):
    raise sqlite3.OperationalError("database is locked")  # store.db.transaction's own


def _raised_from(tmp_path):
    try:
        _full(tmp_path)
    except sqlite3.Error as exc:
        raise RuntimeError("while saving") from exc


@pytest.mark.parametrize(
    "make, name",
    [
        (_full, "disk full"),
        (_read_only, "read-only"),
        (_busy, "locked"),
        (_not_a_database, "corrupt"),
        (_cannot_open, "cannot open"),
        (_our_lock_timeout, "locked"),
        (_raised_from, "disk full"),
    ],
)
def test_real_sqlite_failures_are_classified(tmp_path, make, name):
    with pytest.raises(Exception) as raised:
        make(tmp_path)
    problem = store_errors.classify(raised.value)
    assert problem is not None and problem.name == name


def test_other_failures_have_no_database_class(tmp_path):
    conn = sqlite3.connect(tmp_path / "x.db")
    conn.execute("CREATE TABLE t (x UNIQUE)")
    conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError) as duplicate:
        conn.execute("INSERT INTO t VALUES (1)")
    assert store_errors.classify(duplicate.value) is None  # a bug, not the server's state
    assert store_errors.classify(ValueError("x")) is None
