"""What kind of database failure an exception is, in words staff and operators can act on.

SQLite's message can quote a value (a constraint naming what it refused), so logs carry the
class and SQLite's error name only (`disk full (SQLITE_FULL)`), never the message.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

# The message db.transaction() raises itself when the write lock stays busy; it has no code.
_LOCKED_MESSAGE = "database is locked"


@dataclass(frozen=True)
class Problem:
    """A class of database failure: its name in logs, and what staff should do about it."""

    name: str  # "disk full": logged, shown to staff, reported by /healthz
    staff: str  # what happened and what to do, for staff pages
    sqlite: str = ""  # SQLite's error name (SQLITE_FULL), for the log


FULL = Problem(
    "disk full",
    "The server's disk is full: free space on it (old backups, old logs). Nothing has been "
    "lost; pages work again as soon as there is room.",
)
READ_ONLY = Problem(
    "read-only",
    "The database cannot be written: its file or folder is read-only or belongs to another "
    "user. Whoever runs the server must fix its owner or mode (docs/deploy.md). Nothing has "
    "been lost.",
)
LOCKED = Problem(
    "locked",
    "The database is busy: another program is holding it (a long backup, a sqlite3 shell). "
    "Try again in a minute. Nothing has been lost.",
)
CORRUPT = Problem(
    "corrupt",
    "The database file is damaged. Stop the app and restore the last backup "
    "(docs/backup.md); screenings sent since that backup may have to be entered again.",
)
IO_ERROR = Problem(
    "I/O error",
    "The server could not read or write its disk (an I/O error): check the disk and the "
    "system log (journalctl -k). What was saved before is in the database.",
)
CANNOT_OPEN = Problem(
    "cannot open",
    "The database file cannot be opened: it, or its folder, was moved, removed or made "
    "unreadable. Restart the app: it names the cause.",
)

_BY_CODE = {
    sqlite3.SQLITE_FULL: FULL,
    sqlite3.SQLITE_READONLY: READ_ONLY,
    sqlite3.SQLITE_PERM: READ_ONLY,
    sqlite3.SQLITE_AUTH: READ_ONLY,
    sqlite3.SQLITE_BUSY: LOCKED,
    sqlite3.SQLITE_LOCKED: LOCKED,
    sqlite3.SQLITE_CORRUPT: CORRUPT,
    sqlite3.SQLITE_NOTADB: CORRUPT,
    sqlite3.SQLITE_IOERR: IO_ERROR,
    sqlite3.SQLITE_CANTOPEN: CANNOT_OPEN,
}


def classify(exc: BaseException | None) -> Problem | None:
    """The class of the database failure behind `exc` (or an exception it was raised from
    or while handling), or None when no SQLite failure of a known class is involved."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, sqlite3.Error):
            problem = _classify_sqlite(exc)
            if problem is not None:
                return problem
        exc = exc.__cause__ or exc.__context__
    return None


def _classify_sqlite(exc: sqlite3.Error) -> Problem | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        if isinstance(exc, sqlite3.OperationalError) and str(exc) == _LOCKED_MESSAGE:
            return Problem(LOCKED.name, LOCKED.staff, "SQLITE_BUSY")
        return None
    problem = _BY_CODE.get(code & 0xFF)  # extended codes (SQLITE_IOERR_WRITE) keep their base
    if problem is None:
        return None
    return Problem(problem.name, problem.staff, getattr(exc, "sqlite_errorname", "") or "")


def sqlite_name(exc: BaseException) -> str:
    """SQLite's error name of an exception (SQLITE_CONSTRAINT...), or "" if it has none."""
    return getattr(exc, "sqlite_errorname", "") or ""
