"""Is the database file fit to serve? Checked at start-up (existence, access, schema), in the
background (PRAGMA quick_check) and by /healthz (readable, lockable, room on the disk).

Every problem is one sentence naming the file, the cause and what to do: start-up prints it
as its one line and stops.
"""

from __future__ import annotations

import os
import pwd
import sqlite3
import stat
from pathlib import Path
from urllib.parse import quote

import sqlite_utils

from . import errors
from .schema import migrations

INIT_DB = "`flask --app screening init-db` (`make run` runs it)"
RESTORE = "restore the last backup (docs/backup.md)"
OPEN_TIMEOUT_SECONDS = 5
# Below this much free space on the database's filesystem, /healthz reports "disk full":
# SQLite needs room for WAL frames and checkpoints, not just for the row.
MIN_FREE_BYTES = 1024 * 1024


class DatabaseProblem(Exception):
    """The database cannot be served; the message names the file, the cause, what to do."""


def open_existing(path: str | Path, timeout: float = OPEN_TIMEOUT_SECONDS) -> sqlite3.Connection:
    """Open the database without ever creating it (a missing file stays an error)."""
    return sqlite3.connect(
        f"file:{quote(str(path))}?mode=rw", uri=True, timeout=timeout, isolation_level=None
    )


def check(path: str | Path) -> None:
    """The start-up checks; raise DatabaseProblem naming the first one that fails.

    The database must exist (init-db creates it; start-up never does), be readable and
    writable with its folder, be an SQLite database, and have exactly this app's schema.
    """
    path = Path(path)
    _check_file(path)
    try:
        conn = open_existing(path)
    except sqlite3.Error as exc:
        raise DatabaseProblem(f"{path} cannot be opened ({exc})") from None
    try:
        _check_schema(path, conn)
        _check_writable(path, conn)
    finally:
        conn.close()


def _user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid {os.geteuid()}"


def _check_file(path: Path) -> None:
    folder, who = path.parent, _user()
    try:
        if not stat.S_ISDIR(folder.stat().st_mode):
            raise DatabaseProblem(f"{path}: {folder} is not a folder")
    except (FileNotFoundError, NotADirectoryError):
        raise DatabaseProblem(
            f"{path}: its folder {folder} does not exist; create the database with {INIT_DB}"
        ) from None
    except PermissionError:
        raise DatabaseProblem(
            f"{path}: its folder {folder} cannot be opened by user {who}: fix the folder's "
            "owner or mode"
        ) from None
    try:
        info = path.stat()
    except FileNotFoundError:
        raise DatabaseProblem(
            f"{path} does not exist: create it with {INIT_DB}, or {RESTORE}"
        ) from None
    except PermissionError:
        raise DatabaseProblem(
            f"{path}: its folder {folder} cannot be searched by user {who}: fix the folder's "
            "owner or mode"
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise DatabaseProblem(f"{path} is not a file")
    if os.statvfs(folder).f_flag & os.ST_RDONLY:
        raise DatabaseProblem(
            f"{path} is on a read-only filesystem: mount it read-write (the app writes every "
            "answer as it is given)"
        )
    if not os.access(path, os.R_OK | os.W_OK):
        raise DatabaseProblem(
            f"{path} cannot be read and written by user {who} (the file belongs to uid "
            f"{info.st_uid}, mode {stat.S_IMODE(info.st_mode):o}): run the app as its owner, "
            "or fix the owner (chown) and mode (chmod 600)"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DatabaseProblem(
            f"{path}: its folder {folder} is not writable by user {who}, and SQLite writes "
            f"{path.name}-wal and {path.name}-shm beside the database: fix the folder's owner "
            "or mode"
        )
    if info.st_size == 0:
        raise DatabaseProblem(
            f"{path} is empty (0 bytes): for a new clinic create it with {INIT_DB}; "
            f"otherwise {RESTORE}"
        )


def _check_schema(path: Path, conn: sqlite3.Connection) -> None:
    try:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    except sqlite3.Error as exc:
        problem = errors.classify(exc)
        cause = problem.name if problem else errors.sqlite_name(exc) or type(exc).__name__
        raise DatabaseProblem(
            f"{path} is not a usable SQLite database ({cause}: {exc}): {RESTORE}"
        ) from None
    if not tables:
        raise DatabaseProblem(f"{path} has no tables: create them with {INIT_DB}")
    db = sqlite_utils.Database(conn)
    known = [m.name for m in migrations.pending(sqlite_utils.Database(memory=True))]
    applied = [m.name for m in migrations.applied(db)]
    unknown = [name for name in applied if name not in known]
    if unknown:
        raise DatabaseProblem(
            f"{path} was made by a newer version of the app (migration {unknown[0]} is unknown "
            "to this one): update the app, or restore a backup made by this version"
        )
    missing = [name for name in known if name not in applied]
    if missing:
        raise DatabaseProblem(
            f"{path} has an older schema (missing {', '.join(missing)}): bring it up to date "
            f"with {INIT_DB}"
        )


def _check_writable(path: Path, conn: sqlite3.Connection) -> None:
    """Take the write lock and let it go: a read-only file or folder fails here."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        problem = errors.classify(exc)
        if problem is not None and problem.name == errors.LOCKED.name:
            return  # another process is writing: it can be written
        cause = problem.name if problem else errors.sqlite_name(exc) or type(exc).__name__
        raise DatabaseProblem(f"{path} cannot be written ({cause}: {exc})") from None


def quick_check(path: str | Path, limit: int = 5) -> list[str]:
    """PRAGMA quick_check: [] when the file is whole, else its first few findings (page
    numbers and index names, never a row's values)."""
    conn = open_existing(path, timeout=60)
    try:
        found = [row[0] for row in conn.execute(f"PRAGMA quick_check({int(limit)})")]
    except sqlite3.DatabaseError as exc:
        return [f"{errors.sqlite_name(exc) or type(exc).__name__}: {exc}"]
    finally:
        conn.close()
    return [] if found == ["ok"] else found


def refuse_writes(db: sqlite_utils.Database) -> None:
    """Make this connection read-only (its writes fail with SQLITE_READONLY): for a database
    that failed its integrity check, so nothing is written into a damaged file."""
    db.execute("PRAGMA query_only = ON")


def probe(path: str | Path, timeout: float = 2) -> errors.Problem | None:
    """For /healthz: can the database be read and written right now? None when it can,
    else the class of the problem."""
    path = Path(path)
    try:
        disk = os.statvfs(path.parent)
        if disk.f_bavail * disk.f_frsize < MIN_FREE_BYTES:
            return errors.FULL
        if not path.is_file():
            return errors.CANNOT_OPEN
        if not os.access(path, os.R_OK | os.W_OK) or not os.access(path.parent, os.W_OK):
            return errors.READ_ONLY
        conn = open_existing(path, timeout=timeout)
    except sqlite3.Error as exc:
        return errors.classify(exc) or errors.CANNOT_OPEN
    except OSError:
        return errors.CANNOT_OPEN
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        return errors.classify(exc) or errors.Problem("error", "", errors.sqlite_name(exc))
    finally:
        conn.close()
    return None
