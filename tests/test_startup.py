"""Start-up fails loudly: a database or instance/config.py that cannot be used stops the app
with one line naming the file and the cause, as a broken rules.yaml does. The app is built
the production way (`create_app()`: instance/config.py, then SCREENING_* variables), as
gunicorn and the flask command build it.

Before, a missing database was created empty, and a missing folder, a 0-byte, garbage or
half file, a read-only filesystem or a wrong owner all started "fine" and answered 500 on
every page; a corrupt file took submissions; an unreadable config.py was a traceback.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import flask
import pytest
from helpers import csrf_token

from screening import create_app
from screening.store import init_db

AS_ROOT = os.geteuid() == 0
# As root, drop the capabilities that let root ignore file modes, so that a mode the test
# sets holds the app as it holds any user (the app's own account on a server).
AS_A_USER = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"] if AS_ROOT else []
SECRET_LINE = 'SECRET_KEY = "do-not-print-me"'
# Builds the app as gunicorn does, with the instance folder given on the command line.
START = (
    "import sys, flask\n"
    "flask.Flask.auto_find_instance_path = lambda self: sys.argv[1]\n"
    "from screening import create_app\n"
    "create_app()\n"
    "print('started')\n"
)


@pytest.fixture
def production(tmp_path, monkeypatch):
    """Settings from the environment, and an instance folder of the test's own (never the
    developer's instance/config.py)."""
    for name in list(os.environ):
        if name.startswith(("SCREENING_", "FLASK_")):
            monkeypatch.delenv(name)
    instance = tmp_path / "instance"
    instance.mkdir()
    monkeypatch.setattr(flask.Flask, "auto_find_instance_path", lambda self: str(instance))
    monkeypatch.setenv("SCREENING_SECRET_KEY", "startup-test")
    database = tmp_path / "data" / "screening.db"
    monkeypatch.setenv("SCREENING_DATABASE", str(database))
    return database


def refused(**config) -> str:
    """Build the app; it must refuse to start. Return its one line."""
    with pytest.raises(SystemExit) as stopped:
        create_app(**config)
    message = str(stopped.value.code)
    assert message.startswith("screening: cannot start: "), message
    assert "\n" not in message and "Traceback" not in message, message
    return message


def filled(path: Path, rows: int = 4000) -> None:
    """A database at the current schema with about 2 MB of rows."""
    init_db(path)
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO audit (at, action, detail) VALUES (?, 'login', ?)",
            [(f"2025-01-01T00:00:{i % 60:02d}+00:00", "x" * 400) for i in range(rows)],
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def overwrite_pages(path: Path, count: int = 40, seed: int = 19) -> None:
    """Overwrite `count` pages of the file's second half (the rows, not the schema) with
    noise, as a failing disk or a stray write would."""
    rng = random.Random(seed)
    size = 4096
    pages = path.stat().st_size // size
    with open(path, "r+b") as f:
        for page in rng.sample(range(pages // 2, pages), count):
            f.seek(page * size)
            f.write(rng.randbytes(size))


def run_app(instance: Path, database: Path):
    """Start the app in a new process held to file modes (see AS_A_USER); its result."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCREENING_", "FLASK_"))}
    env.update(SCREENING_SECRET_KEY="startup-test", SCREENING_DATABASE=str(database))
    return subprocess.run(
        [*AS_A_USER, sys.executable, "-c", START, str(instance)],
        check=False,
        env=env,
        cwd=instance,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def folders(tmp_path):
    """An instance folder and a database folder; their modes are restored at teardown."""
    instance, data = tmp_path / "instance", tmp_path / "data"
    instance.mkdir()
    data.mkdir()
    yield instance, data
    for path in (instance, data):
        path.chmod(0o755)


def one_line(result) -> str:
    assert result.returncode != 0 and "started" not in result.stdout, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("screening: cannot start: "), lines
    return lines[0]


# -- the database -----------------------------------------------------------------------


def test_a_missing_database_is_not_created(production):
    production.parent.mkdir()
    message = refused()
    assert f"database {production} does not exist" in message
    assert "flask --app screening init-db" in message
    assert not production.exists()  # before: created empty, mode 0644, no tables


def test_a_missing_folder_is_named(production):
    message = refused()
    assert f"its folder {production.parent} does not exist" in message
    assert not production.parent.exists()


@pytest.mark.parametrize(
    "kind, cause",
    [
        ("empty", "is empty (0 bytes)"),
        ("garbage", "is not a usable SQLite database (corrupt: file is not a database)"),
        ("half", "is not a usable SQLite database (corrupt: database disk image is malformed)"),
        ("no tables", "has no tables"),
        ("older", "has an older schema (missing 0003_append_only)"),
        ("newer", "was made by a newer version of the app (migration 9999_later"),
    ],
)
def test_a_database_that_is_not_this_apps_stops_start_up(production, kind, cause):
    production.parent.mkdir()
    if kind == "empty":
        production.touch()
    elif kind == "garbage":
        production.write_bytes(random.Random(1).randbytes(20_000))
    elif kind == "half":
        filled(production)
        data = production.read_bytes()
        production.write_bytes(data[: len(data) // 2])  # a copy cut short
    elif kind == "no tables":
        conn = sqlite3.connect(production)
        conn.execute("PRAGMA user_version = 1")  # a valid SQLite file of someone else's
        conn.close()
    else:
        init_db(production)
        conn = sqlite3.connect(production)
        with conn:
            if kind == "older":
                conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0003_append_only'")
            else:
                conn.execute(
                    "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                    "VALUES ('screening', '9999_later', '2030-01-01')"
                )
        conn.close()
    message = refused()
    assert f"database {production} {cause}" in message, message


def test_a_read_only_filesystem_stops_start_up(production, tmp_path):
    if not AS_ROOT:
        pytest.skip("mounting a read-only filesystem needs root")
    mount = tmp_path / "ro"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    try:
        database = mount / "screening.db"
        init_db(database)
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        os.environ["SCREENING_DATABASE"] = str(database)  # restored by monkeypatch
        message = refused()
        assert f"database {database} is on a read-only filesystem" in message
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_database_the_app_cannot_write_stops_start_up(folders):
    """Copied in by another account, or restored with the wrong owner."""
    instance, data = folders
    database = data / "screening.db"
    init_db(database)
    database.chmod(0o400)
    line = one_line(run_app(instance, database))
    assert f"database {database} cannot be read and written by user" in line
    assert "mode 400" in line and "chmod 600" in line


def test_a_folder_the_app_cannot_write_stops_start_up(folders):
    """SQLite writes screening.db-wal and -shm beside the file: a writable file in a
    read-only folder failed on the first page."""
    instance, data = folders
    database = data / "screening.db"
    init_db(database)
    data.chmod(0o555)
    line = one_line(run_app(instance, database))
    assert f"database {database}: its folder {data} is not writable by user" in line


def test_init_db_still_creates_a_missing_database_and_rules_need_none(tmp_path):
    """`make run` runs init-db before serving; a clinic checks rules on a laptop."""
    database = tmp_path / "new" / "screening.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCREENING_", "FLASK_"))}
    env.update(SCREENING_DATABASE=str(database))
    flask_cli = [str(Path(sys.executable).with_name("flask")), "--app", "screening"]

    def flask_command(*words):
        return subprocess.run(
            [*flask_cli, *words], check=False, env=env, capture_output=True, text=True, timeout=120
        )

    checked = flask_command("rules", "check")
    assert checked.returncode == 0 and "rules OK" in checked.stdout, checked.stderr
    assert not database.parent.exists()
    env.update(SCREENING_SECRET_KEY="startup-test")
    helped = flask_command("--help")  # lists the commands, init-db among them
    assert helped.returncode == 0 and "init-db" in helped.stdout, helped.stderr
    made = flask_command("init-db")
    assert made.returncode == 0, made.stderr
    listed = flask_command("users", "list")
    assert listed.returncode == 0, listed.stderr  # the new database passes the checks


# -- the integrity check -----------------------------------------------------------------


def test_a_corrupt_database_refuses_every_write_once_checked(production, caplog):
    """40 pages overwritten: before, the app started, a client submitted and was thanked."""
    production.parent.mkdir()
    filled(production)
    overwrite_pages(production)
    app = create_app()  # the schema is readable: start-up goes on
    client = app.test_client()
    page = client.get("/")  # starts this process's check; reading pages still works
    assert page.status_code == 200
    assert app.extensions["integrity"].wait(60)
    response = client.post("/start", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 503, response.status_code
    assert "We cannot save right now" in response.text
    assert "Your earlier answers are safe. Please tell the front desk." in response.text
    staff = client.post("/staff/login", data={"username": "someone", "password": "x"})
    assert staff.status_code == 503
    assert "corrupt" in staff.text and "restore the last backup" in staff.text
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json["database"] == "corrupt" and health.json["integrity_check"] == "failed"
    assert f"database {production} failed its integrity check" in caplog.text


def test_a_whole_database_passes_the_check_and_takes_writes(production):
    production.parent.mkdir()
    filled(production, rows=100)
    app = create_app()
    client = app.test_client()
    page = client.get("/")
    assert app.extensions["integrity"].wait(60)
    assert client.get("/healthz").json["integrity_check"] == "ok"
    started = client.post("/start", data={"csrf_token": csrf_token(page.text)})
    assert started.status_code == 302


# -- instance/config.py ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, cause",
    [
        (f"{SECRET_LINE}\nCLINIC_NAME = 'Skin\n", ":2: not valid Python (unterminated string"),
        (f"{SECRET_LINE}\nKIOSK = true\n", ":2: NameError while reading the settings"),
    ],
)
def test_a_broken_config_file_is_one_line(production, text, cause):
    instance = Path(flask.Flask.auto_find_instance_path(None))
    (instance / "config.py").write_text(text)
    message = refused()
    assert f"{instance / 'config.py'}{cause}" in message, message
    assert "do-not-print-me" not in message


def test_an_unreadable_config_file_is_one_line(folders):
    instance, data = folders
    database = data / "screening.db"
    init_db(database)
    config = instance / "config.py"
    config.write_text(SECRET_LINE + "\n")
    config.chmod(0o000)
    line = one_line(run_app(instance, database))
    assert f"{config} cannot be read by user" in line and "Permission denied" in line
    config.chmod(0o600)
