"""The connection each worker keeps, and BEGIN IMMEDIATE waiting for another writer."""

from __future__ import annotations

import threading
import time

import pytest

from screening.store import connect, get_db, init_db, transaction
from screening.store import db as dbmod


def test_a_request_gets_the_connection_the_last_one_gave_back(app):
    with app.app_context():
        first = get_db()
        first.execute("CREATE TEMP TABLE marker (x)")  # lives only in this connection
    with app.app_context():
        assert get_db() is first
        assert get_db().execute("SELECT count(*) FROM temp.marker").fetchone() == (0,)


def test_a_connection_is_given_back_outside_any_transaction(app):
    with app.app_context():
        db = get_db()
        db.execute("BEGIN IMMEDIATE")  # a view that forgot to finish
    assert not db.conn.in_transaction
    # and the write lock is free for another connection
    other = connect(app.config["DATABASE"])
    with transaction(other):
        other.execute("INSERT INTO audit (at, action) VALUES ('2026-01-01', 'x')")
    other.conn.close()


def test_two_apps_on_two_databases_never_share_a_connection(tmp_path):
    from screening import create_app

    apps = []
    for name in ("a.db", "b.db"):
        init_db(tmp_path / name)
        apps.append(create_app({"SECRET_KEY": "k", "DATABASE": str(tmp_path / name)}))
    with apps[0].app_context():
        transaction_insert(get_db())
    with apps[1].app_context():
        assert get_db().execute("SELECT count(*) FROM audit").fetchone() == (0,)
    with apps[0].app_context():
        assert get_db().execute("SELECT count(*) FROM audit").fetchone() == (1,)


def transaction_insert(db):
    with transaction(db):
        db.execute("INSERT INTO audit (at, action) VALUES ('2026-01-01', 'x')")


def hold_a_transaction(holder):
    """Another thread holds a write transaction on `holder` until the returned event is
    set; returns (release, thread)."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        with transaction(holder):
            locked.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    locked.wait(5)
    return release, thread


def test_a_writer_waits_for_another_and_then_writes(tmp_path):
    path = tmp_path / "w.db"
    init_db(path)
    holder, waiter = connect(path), connect(path)
    release, thread = hold_a_transaction(holder)
    threading.Timer(0.05, release.set).start()
    start = time.monotonic()
    transaction_insert(waiter)
    assert time.monotonic() - start >= 0.04  # it did wait for the lock
    thread.join(5)
    assert waiter.execute("SELECT count(*) FROM audit").fetchone() == (1,)
    # the usual busy timeout is back for every other statement
    assert waiter.execute("PRAGMA busy_timeout").fetchone() == (dbmod.BUSY_TIMEOUT_MS,)
    holder.conn.close()
    waiter.conn.close()


def test_a_writer_gives_up_after_the_busy_timeout(tmp_path, monkeypatch):
    import sqlite3

    path = tmp_path / "w.db"
    init_db(path)
    holder, waiter = connect(path), connect(path)
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 100)
    holder.execute("BEGIN IMMEDIATE")
    start = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        transaction_insert(waiter)
    assert 0.09 < time.monotonic() - start < 5
    assert not waiter.conn.in_transaction
    holder.execute("ROLLBACK")
    holder.conn.close()
    waiter.conn.close()


def test_threads_of_one_worker_all_store_their_writes(tmp_path):
    """gthread workers: the threads of one process take turns at the write lock."""
    path = tmp_path / "w.db"
    init_db(path)
    errors = []

    def writer():
        db = connect(path)
        try:
            for _ in range(40):
                transaction_insert(db)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            db.conn.close()

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    check = connect(path)
    assert check.execute("SELECT count(*) FROM audit").fetchone() == (8 * 40,)
    check.conn.close()


def test_a_thread_waiting_behind_another_thread_gives_up_after_the_busy_timeout(
    tmp_path, monkeypatch
):
    import sqlite3

    path = tmp_path / "w.db"
    init_db(path)
    holder, waiter = connect(path), connect(path)
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 100)
    release, thread = hold_a_transaction(holder)
    start = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        transaction_insert(waiter)
    assert 0.09 < time.monotonic() - start < 5
    release.set()
    thread.join(5)
    transaction_insert(waiter)  # the lock was given back
    assert waiter.execute("SELECT count(*) FROM audit").fetchone() == (1,)
    holder.conn.close()
    waiter.conn.close()
