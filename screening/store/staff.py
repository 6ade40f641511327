"""Staff accounts, their server-side sessions and login attempts.

Checks on what an admin types (username format, password length) and password hashing
live in `staff.accounts`; this module only keeps rows.
"""

from __future__ import annotations

import sqlite_utils

from .db import ago, now, transaction


class DuplicateUsername(Exception):
    """An account with this username exists already."""


# Accounts


def create_user(
    db: sqlite_utils.Database, username: str, role: str, password_hash: str, name: str | None
) -> int:
    with transaction(db):
        if db.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise DuplicateUsername(username)
        cur = db.execute(
            "INSERT INTO users (username, name, role, password_hash, active, created_at) "
            "VALUES (?, ?, ?, ?, 1, ?)",
            [username, name or None, role, password_hash, now()],
        )
        return cur.lastrowid


def find_user(db: sqlite_utils.Database, username: str) -> dict | None:
    found = list(db.query("SELECT * FROM users WHERE username = ?", [username]))
    return found[0] if found else None


def all_users(db: sqlite_utils.Database) -> list[dict]:
    return list(
        db.query(
            "SELECT id, username, name, role, active, created_at FROM users "
            "ORDER BY active DESC, username"
        )
    )


def count_users(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT count(*) FROM users").fetchone()[0]


def disable_user(db: sqlite_utils.Database, user_id: int) -> None:
    """Disable the account and end all its sessions at once."""
    with transaction(db):
        db.execute("UPDATE users SET active = 0 WHERE id = ?", [user_id])
        revoke_all_sessions(db, user_id)


def enable_user(db: sqlite_utils.Database, user_id: int) -> None:
    """Let a disabled account log in again (its old sessions stay ended)."""
    with transaction(db):
        db.execute("UPDATE users SET active = 1 WHERE id = ?", [user_id])


def set_role(db: sqlite_utils.Database, user_id: int, role: str) -> None:
    """A new role; open sessions end, so the next page is served under the new role."""
    with transaction(db):
        db.execute("UPDATE users SET role = ? WHERE id = ?", [role, user_id])
        revoke_all_sessions(db, user_id)


def set_password_hash(
    db: sqlite_utils.Database, user_id: int, password_hash: str, end_sessions: bool = True
) -> None:
    """A new password; by default every open session of the account ends."""
    with transaction(db):
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [password_hash, user_id])
        if end_sessions:
            revoke_all_sessions(db, user_id)


# Sessions: the cookie carries only a session id; every request checks its row.


def start_session(db: sqlite_utils.Database, session_id: str, user_id: int) -> None:
    stamp = now()
    with transaction(db):
        db.execute(
            "INSERT INTO staff_sessions (id, user_id, created_at, last_seen) VALUES (?, ?, ?, ?)",
            [session_id, user_id, stamp, stamp],
        )


def live_session(db: sqlite_utils.Database, session_id: str) -> dict | None:
    """The session (not revoked) with its user's details, or None."""
    found = list(
        db.query(
            "SELECT s.id AS session_id, s.last_seen, s.user_id, u.username, u.name, u.role, "
            "u.active FROM staff_sessions s JOIN users u ON u.id = s.user_id "
            "WHERE s.id = ? AND s.revoked_at IS NULL",
            [session_id],
        )
    )
    return found[0] if found else None


def touch_session(db: sqlite_utils.Database, session_id: str) -> None:
    with transaction(db):
        db.execute("UPDATE staff_sessions SET last_seen = ? WHERE id = ?", [now(), session_id])


def revoke_session(db: sqlite_utils.Database, session_id: str) -> bool:
    """End a session; True if this call ended it (False: it had already ended)."""
    with transaction(db):
        cursor = db.execute(
            "UPDATE staff_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            [now(), session_id],
        )
    return cursor.rowcount == 1


def revoke_all_sessions(db: sqlite_utils.Database, user_id: int) -> None:
    with transaction(db):
        db.execute(
            "UPDATE staff_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            [now(), user_id],
        )


# Login attempts, counted in the database so that every worker sees the same count.


def begin_attempt(
    db: sqlite_utils.Database, username: str, address: str, limit: int, window_minutes: int
) -> bool:
    """Count an attempt for this name from this address, in the same write transaction as
    the check of the count; False (nothing counted) when `limit` failed recently.

    Counting after the slow password check let a burst through: every worker saw the count
    as it was before the attempts in flight on the others were recorded.
    """
    with transaction(db):
        count = db.execute(
            "SELECT count(*) FROM login_attempts WHERE username = ? AND address = ? AND at >= ?",
            [username, address, ago(minutes=window_minutes)],
        ).fetchone()[0]
        if count >= limit:
            return False
        db.execute(
            "INSERT INTO login_attempts (username, address, at) VALUES (?, ?, ?)",
            [username, address, now()],
        )
        db.execute("DELETE FROM login_attempts WHERE at < ?", [ago(days=1)])
    return True


def clear_attempts(db: sqlite_utils.Database, username: str, address: str) -> None:
    with transaction(db):
        db.execute(
            "DELETE FROM login_attempts WHERE username = ? AND address = ?", [username, address]
        )
