"""One SQLite file through sqlite-utils: a connection per worker thread, transactions, and
the stored form of time.

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

import sqlite_utils
from flask import Flask, current_app, g

BUSY_TIMEOUT_MS = 15_000
BEGIN_RETRY_SECONDS = 0.0005

# Threads of one worker queue here for the write lock instead of polling SQLite for it: with
# 2 workers x 4 threads, eight writers polling every 0.5 ms took the save p95 to 61 ms.
_process_writer = threading.Lock()


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

    Re-entrant: a transaction opened inside another (a decision and its audit row) joins
    it as a savepoint, so an error inside the inner block undoes only that block, and
    nothing is stored unless the outermost block completes.

    One thread of this process writes at a time (the others wait on a lock, in order);
    other processes are kept out by SQLite's own lock.
    """
    depth = getattr(db, "_transaction_depth", 0)
    if depth:
        yield from _savepoint(db, depth)
        return
    if not _process_writer.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
        raise sqlite3.OperationalError("database is locked")
    try:
        _begin_immediate(db.conn)
        db._transaction_depth = 1
        try:
            yield db
        except BaseException:
            if db.conn.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db._transaction_depth = 0
        db.execute("COMMIT")
    finally:
        _process_writer.release()


def _savepoint(db: sqlite_utils.Database, depth: int):
    name = f"nested_{depth}"
    db.execute(f"SAVEPOINT {name}")
    db._transaction_depth = depth + 1
    try:
        yield db
    except BaseException:
        db.execute(f"ROLLBACK TO {name}")
        db.execute(f"RELEASE {name}")
        raise
    finally:
        db._transaction_depth = depth
    db.execute(f"RELEASE {name}")


def now() -> str:
    """The current UTC time as stored: ISO 8601 with seconds."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def stored_time(moment: dt.datetime) -> str:
    """A time with its zone in the stored form (UTC, ISO 8601, seconds)."""
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat()


def ago(**delta: float) -> str:
    """A stored-form UTC time this long before now (`ago(minutes=15)`)."""
    then = dt.datetime.now(dt.UTC) - dt.timedelta(**delta)
    return then.replace(microsecond=0).isoformat()


def local_day(stamp: str) -> str:
    """The clinic's (server's local) date of a stored UTC time."""
    return dt.datetime.fromisoformat(stamp).astimezone().date().isoformat()


def local_midnight_utc(day: dt.date) -> str:
    """The stored UTC time at which the clinic's day begins."""
    start = dt.datetime.combine(day, dt.time.min).astimezone()
    return start.astimezone(dt.UTC).replace(microsecond=0).isoformat()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
