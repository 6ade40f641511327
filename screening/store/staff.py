"""Staff accounts, their server-side sessions, login attempts and two-factor secrets.

Checks on what an admin types (username format, password length) and password hashing
live in `staff.accounts`; this module only keeps rows.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def get_user(db: sqlite_utils.Database, user_id: int) -> dict | None:
    found = list(db.query("SELECT * FROM users WHERE id = ?", [user_id]))
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


@dataclass(frozen=True)
class AttemptLimits:
    """How many attempts a window allows (0: no limit): for one name from one address (or
    from one known device), from one address across all names, for one name across all
    addresses."""

    per_name: int
    per_address: int
    per_account: int
    minutes: int


def begin_attempt(
    db: sqlite_utils.Database,
    username: str,
    address: str,
    limits: AttemptLimits,
    device: str | None = None,
) -> str | None:
    """Count an attempt, in the same write transaction as the check of the counts; return
    None when it may go on, else which limit it hit ("name", "address", "account" or
    "device") and count nothing.

    A browser that logged in to this account before (`device`, from its device cookie) is
    counted on its own: others' attempts from the same network or on the same name cannot
    lock it out. Counting after the slow password check let a burst through: every worker
    saw the count as it was before the attempts in flight on the others were recorded.
    """
    since = ago(minutes=limits.minutes)
    if device:
        checks = [("device", "device = ? AND username = ?", [device, username], limits.per_name)]
    else:
        checks = [
            (
                "name",
                "username = ? AND address = ? AND device IS NULL",
                [username, address],
                limits.per_name,
            ),
            ("address", "address = ? AND device IS NULL", [address], limits.per_address),
            ("account", "username = ? AND device IS NULL", [username], limits.per_account),
        ]
    with transaction(db):
        for reason, where, params, limit in checks:
            if limit and _count(db, where, params, since, limit) >= limit:
                return reason
        db.execute(
            "INSERT INTO login_attempts (username, address, device, at) VALUES (?, ?, ?, ?)",
            [username, address, device, now()],
        )
    return None


def _count(db, where: str, params: list, since: str, limit: int) -> int:
    """Attempts matching `where` since `since`, counted up to `limit` (no further)."""
    return db.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM login_attempts WHERE {where} AND at >= ? "
        f"LIMIT {int(limit)})",
        [*params, since],
    ).fetchone()[0]


def clear_attempts(
    db: sqlite_utils.Database, username: str, address: str, device: str | None = None
) -> None:
    """A login succeeded: its name's attempts from this address (or this device) are
    forgotten."""
    with transaction(db):
        db.execute(
            "DELETE FROM login_attempts WHERE username = ? AND "
            "((address = ? AND device IS NULL) OR device = ?)",
            [username, address, device],
        )


def prune_attempts(db: sqlite_utils.Database) -> int:
    """Forget attempts older than a day (no lockout window is that long)."""
    with transaction(db):
        return db.execute("DELETE FROM login_attempts WHERE at < ?", [ago(days=1)]).rowcount


# Two-factor sign-in (TOTP). Checks on codes live in `staff.two_factor`.


def set_pending_secret(db: sqlite_utils.Database, user_id: int, secret: str) -> None:
    """The secret a user is enrolling with, until they confirm it with a code."""
    with transaction(db):
        db.execute("UPDATE users SET totp_pending = ? WHERE id = ?", [secret, user_id])


def enrol(
    db: sqlite_utils.Database, user_id: int, secret: str, step: int, code_hashes: list[str]
) -> None:
    """Make the confirmed secret the user's, with its first accepted time step and a fresh
    set of recovery codes (the old ones no longer work)."""
    with transaction(db):
        db.execute(
            "UPDATE users SET totp_secret = ?, totp_pending = NULL, totp_enrolled_at = ?, "
            "totp_last_step = ? WHERE id = ?",
            [secret, now(), step, user_id],
        )
        db.execute("DELETE FROM recovery_codes WHERE user_id = ?", [user_id])
        db.conn.executemany(
            "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)",
            [(user_id, h) for h in code_hashes],
        )


def accept_step(db: sqlite_utils.Database, user_id: int, step: int) -> bool:
    """Accept a code's time step only if it is later than any accepted before: the same
    code (or an older one) is never accepted twice, whichever worker sees it."""
    with transaction(db):
        cursor = db.execute(
            "UPDATE users SET totp_last_step = ? WHERE id = ? "
            "AND (totp_last_step IS NULL OR totp_last_step < ?)",
            [step, user_id, step],
        )
    return cursor.rowcount == 1


def use_recovery_code(db: sqlite_utils.Database, user_id: int, code_hash: str) -> bool:
    """Spend an unused recovery code; False when it is unknown or was used already."""
    with transaction(db):
        cursor = db.execute(
            "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? "
            "AND used_at IS NULL",
            [now(), user_id, code_hash],
        )
    return cursor.rowcount >= 1


def recovery_codes_left(db: sqlite_utils.Database, user_id: int) -> int:
    return db.execute(
        "SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL", [user_id]
    ).fetchone()[0]


def reset_two_factor(db: sqlite_utils.Database, user_id: int) -> None:
    """Forget the user's secret and recovery codes (they enrol again at their next login)
    and end their sessions."""
    with transaction(db):
        db.execute(
            "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_enrolled_at = NULL, "
            "totp_last_step = NULL WHERE id = ?",
            [user_id],
        )
        db.execute("DELETE FROM recovery_codes WHERE user_id = ?", [user_id])
        revoke_all_sessions(db, user_id)


def two_factor_states(db: sqlite_utils.Database) -> dict[int, str | None]:
    """Each account's id and when it set up two-factor sign-in (None: not yet)."""
    return {
        row["id"]: row["totp_enrolled_at"]
        for row in db.query("SELECT id, totp_enrolled_at FROM users")
    }
