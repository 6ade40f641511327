"""One SQLite file through sqlite-utils: a connection per worker thread, the schema,
transactions.

WAL lets readers and one writer work together across gunicorn workers; synchronous=FULL
makes an acknowledged submission survive a power cut; every write that must be whole runs
in `transaction()`, which takes the write lock up front with BEGIN IMMEDIATE (a deferred
transaction that reads then writes fails at once under a concurrent writer).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import click
import sqlite_utils
from flask import Flask, current_app, g
from flask.cli import with_appcontext
from sqlite_utils.migrations import Migrations

BUSY_TIMEOUT_MS = 15_000
BEGIN_RETRY_SECONDS = 0.0005

# Threads of one worker queue here for the write lock instead of polling SQLite for it: with
# 2 workers x 4 threads, eight writers polling every 0.5 ms took the save p95 to 61 ms.
_process_writer = threading.Lock()

migrations = Migrations("screening")


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open the database with the pragmas every connection needs."""
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return sqlite_utils.Database(conn)


class _Kept(threading.local):
    """Each thread's idle connections by database path, for its next requests.

    Opening a connection per request cost more than the page's own queries: the pragmas,
    the schema read, and (when it was the last one open) a checkpoint that removed the WAL
    file, which the next request had to create again. A worker now keeps its connection.
    """

    LIMIT = 4  # paths kept per thread (tests make many apps; a server has one database)

    def __init__(self):
        self.pid = os.getpid()
        self.idle: dict[str, sqlite_utils.Database] = {}


_kept = _Kept()
_inherited: list = []  # connections a forked child must neither use nor close


def get_db() -> sqlite_utils.Database:
    """The request's connection: this thread's kept one, else a new one (opened on first
    use, so never before gunicorn forks)."""
    if "db" not in g:
        if _kept.pid != os.getpid():  # forked with connections open: leave them alone
            _inherited.append(_kept.idle)
            _kept.pid, _kept.idle = os.getpid(), {}
        path = str(current_app.config["DATABASE"])
        g.db = _kept.idle.pop(path, None) or connect(path)
        g.db_path = path
    return g.db


def close_db(exc: BaseException | None = None) -> None:
    """Give the connection back for the thread's next request, never inside a transaction."""
    db, path = g.pop("db", None), g.pop("db_path", None)
    if db is None:
        return
    if db.conn.in_transaction:
        db.conn.rollback()
    if _kept.pid != os.getpid() or path in _kept.idle:
        db.conn.close()
        return
    _kept.idle[path] = db
    while len(_kept.idle) > _Kept.LIMIT:
        _kept.idle.pop(next(iter(_kept.idle))).conn.close()


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, tried again every half millisecond while another writer holds the
    lock (up to the busy timeout).

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15 ms... between tries, so a writer
    waiting for another's 2 ms commit slept 8 ms while the lock sat free.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            time.sleep(BEGIN_RETRY_SECONDS)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


@contextmanager
def transaction(db: sqlite_utils.Database):
    """Run the block as one BEGIN IMMEDIATE transaction: all of it is stored, or none.

    One thread of this process writes at a time (the others wait on a lock, in order);
    other processes are kept out by SQLite's own lock.
    """
    if not _process_writer.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
        raise sqlite3.OperationalError("database is locked")
    try:
        _begin_immediate(db.conn)
        try:
            yield db
        except BaseException:
            if db.conn.in_transaction:
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    finally:
        _process_writer.release()


def now() -> str:
    """The current UTC time as stored: ISO 8601 with seconds."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@migrations(name="0001_initial")
def _initial(db: sqlite_utils.Database) -> None:
    db["rules_versions"].create(
        {"hash": str, "text": str, "first_seen": str}, pk="hash", not_null={"text"}
    )
    db["users"].create(
        {
            "id": int,
            "username": str,
            "name": str,
            "role": str,
            "password_hash": str,
            "active": int,
            "created_at": str,
        },
        pk="id",
        not_null={"username", "role", "password_hash"},
        defaults={"active": 1},
    )
    db["users"].create_index(["username"], unique=True)
    db["submissions"].create(
        {
            "id": int,
            "token_hash": str,
            "status": str,
            "step": str,
            "created_at": str,
            "updated_at": str,
            "submitted_at": str,
            "client_name": str,
            "name_key": str,
            "date_of_birth": str,
            "appointment_date": str,
            "day": str,
            "answers": str,
            "questionnaire_version": str,
            "rules_version": str,
            "flags": str,
            "outcome": str,
            "outcome_rank": int,
            "flag_count": int,
            "decision": str,
            "submit_key": str,
        },
        pk="id",
        not_null={"status", "created_at", "updated_at", "answers"},
        defaults={"answers": "{}"},
        foreign_keys=[("rules_version", "rules_versions", "hash")],
    )
    s = db["submissions"]
    s.create_index(["token_hash"], unique=True)
    s.create_index(["submit_key"], unique=True)
    # The queue: submitted rows by severity then time; the front desk: by day.
    s.create_index(["status", "outcome_rank", "submitted_at"], index_name="idx_queue")
    s.create_index(["status", "day"], index_name="idx_day")
    s.create_index(["status", "name_key"], index_name="idx_name")
    s.create_index(["status", "updated_at"], index_name="idx_drafts")
    db["decisions"].create(
        {
            "id": int,
            "submission_id": int,
            "decision": str,
            "defer_until": str,
            "note": str,
            "user_id": int,
            "at": str,
        },
        pk="id",
        not_null={"submission_id", "decision", "at"},
        foreign_keys=[("submission_id", "submissions", "id"), ("user_id", "users", "id")],
    )
    db["decisions"].create_index(["submission_id", "at"])
    db["staff_sessions"].create(
        {"id": str, "user_id": int, "created_at": str, "last_seen": str, "revoked_at": str},
        pk="id",
        not_null={"user_id", "created_at", "last_seen"},
        foreign_keys=[("user_id", "users", "id")],
    )
    db["login_attempts"].create({"id": int, "username": str, "address": str, "at": str}, pk="id")
    db["login_attempts"].create_index(["username", "address", "at"])
    db["audit"].create(
        {
            "id": int,
            "at": str,
            "user_id": int,
            "username": str,
            "action": str,
            "submission_id": int,
            "detail": str,
        },
        pk="id",
        not_null={"at", "action"},
    )
    db["audit"].create_index(["at"])
    db["audit"].create_index(["submission_id"])


@migrations(name="0002_staff_queue")
def _staff_queue(db: sqlite_utils.Database) -> None:
    # The provider queue filters on "decided or not" before its severity-then-time order.
    db.execute(
        "CREATE INDEX idx_queue_decided ON submissions "
        "(status, (decision IS NULL), outcome_rank, submitted_at)"
    )
    # Find a client by any word of their name, by prefix, accents ignored.
    db.execute(
        "CREATE VIRTUAL TABLE names_fts USING fts5(client_name, content='submissions', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
    )
    db.execute(
        "CREATE TRIGGER names_fts_insert AFTER UPDATE OF client_name ON submissions "
        "WHEN new.client_name IS NOT NULL BEGIN "
        "INSERT INTO names_fts(names_fts, rowid, client_name) "
        "SELECT 'delete', old.id, old.client_name WHERE old.client_name IS NOT NULL; "
        "INSERT INTO names_fts(rowid, client_name) VALUES (new.id, new.client_name); END"
    )
    db.execute(
        "CREATE TRIGGER names_fts_new AFTER INSERT ON submissions "
        "WHEN new.client_name IS NOT NULL BEGIN "
        "INSERT INTO names_fts(rowid, client_name) VALUES (new.id, new.client_name); END"
    )
    db.execute(
        "CREATE TRIGGER names_fts_delete AFTER DELETE ON submissions "
        "WHEN old.client_name IS NOT NULL BEGIN "
        "INSERT INTO names_fts(names_fts, rowid, client_name) "
        "VALUES ('delete', old.id, old.client_name); END"
    )
    db["audit"].create_index(["action", "at"])
    db["audit"].create_index(["user_id", "at"])


@migrations(name="0003_append_only")
def _append_only(db: sqlite_utils.Database) -> None:
    # The audit log and the decision history are evidence: rows are added, never changed or
    # removed, by any code path or by hand in the sqlite3 shell.
    for table in ("audit", "decisions"):
        for event in ("UPDATE", "DELETE"):
            db.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} rows are never changed or "
                f"removed'); END"
            )


def init_db(path: str | Path) -> None:
    """Create or upgrade the schema; safe to run any number of times."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = connect(path)
    try:
        migrations.apply(db)
    finally:
        db.conn.close()
    # Health data: readable by the app's user only (SQLite gives -wal/-shm the same mode).
    os.chmod(path, 0o600)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database and its tables (safe to run twice).

    Example: flask --app screening init-db
    """
    init_db(current_app.config["DATABASE"])
    click.echo(f"Database ready: {current_app.config['DATABASE']}")


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
