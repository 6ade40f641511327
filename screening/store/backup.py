"""A consistent copy of the live database while the app serves, with SQLite's online
backup API: page by page, pausing between steps so that writers keep their turn.

The copy is the database as it was when the backup began: a read transaction held on the
source pins that snapshot (WAL lets writers carry on meanwhile), so concurrent writes never
force the copy to restart. It is written beside the target and renamed into place only
once whole and checked, as a self-contained file (rollback journal, no -wal beside it).
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from ..files import create_private
from .db import BUSY_TIMEOUT_MS

PAGES_PER_STEP = 128
PAUSE_SECONDS = 0.01


class BackupError(Exception):
    """The backup could not be made; the message says why, in the operator's words."""


@dataclass
class Backup:
    path: Path
    submissions: int
    size: int


def backup(
    source: str | Path,
    target: str | Path,
    replace: bool = False,
    pages: int = PAGES_PER_STEP,
    pause: float = PAUSE_SECONDS,
) -> Backup:
    """Copy the database at `source` to `target` and check the copy; an existing target is
    replaced (only once the copy is whole) when `replace` is set, else refused."""
    source, target = Path(source), Path(target)
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    if target.resolve() in {
        source.resolve(),
        *(Path(f"{source.resolve()}-{suffix}") for suffix in ("wal", "shm", "journal")),
    }:
        raise BackupError("the backup must go to another file than the database")
    if target.is_dir() or (target.exists() and not replace):
        raise BackupError(f"{target} already exists (choose a new name, or --force)")
    if not target.parent.is_dir():
        raise BackupError(f"no such folder: {target.parent}")
    partial = target.with_name(f".{target.name}.partial")
    sides = [Path(f"{partial}-{suffix}") for suffix in ("journal", "wal", "shm")]
    for path in (partial, *sides):
        path.unlink(missing_ok=True)
    try:
        # Health data, private from the first byte: SQLite gives its -journal (and any
        # -wal or -shm) the mode of the database file, so create that one 0600 first.
        os.close(create_private(partial, exclusive=True))
        _copy(source, partial, pages, pause)
        copy = _check(partial)
        _fsync(partial)
        os.replace(partial, target)
    finally:
        for path in (partial, *sides):
            path.unlink(missing_ok=True)
    return Backup(target, copy, target.stat().st_size)


def _copy(source: Path, partial: Path, pages: int, pause: float) -> None:
    src = sqlite3.connect(str(source), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    dst = sqlite3.connect(str(partial), isolation_level=None)
    try:
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # pin the snapshot
        src.backup(dst, pages=pages, progress=lambda status, remaining, total: time.sleep(pause))
        src.execute("COMMIT")
        dst.execute("PRAGMA journal_mode = DELETE")
    finally:
        src.close()
        dst.close()


def _check(path: Path) -> int:
    """Check the copy whole; return how many submitted submissions it holds."""
    conn = sqlite3.connect(str(path))
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"the copy failed its integrity check: {result}")
        return conn.execute(
            "SELECT count(*) FROM submissions WHERE status = 'submitted'"
        ).fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the copy cannot be read: {exc}") from None
    finally:
        conn.close()


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())
