"""Staff accounts in the database: create, list, disable, set a password."""

from __future__ import annotations

import re

import sqlite_utils

from ..db import now, transaction
from .auth import ROLES, hash_password

# Letters, digits and . _ - @ +: a name that works in a URL path segment as it is (a slash
# or a name of dots made the account's disable link miss its route) and reads plainly.
USERNAME = re.compile(r"[\w.@+-]{1,64}")


class UserError(Exception):
    """A mistake in a user change, worded for the admin."""


def create(
    db: sqlite_utils.Database, username: str, role: str, password: str, name: str | None = None
) -> int:
    username = username.strip()
    if not USERNAME.fullmatch(username) or not username.strip("."):
        raise UserError("a username is 1 to 64 letters, digits and . _ - @ + (no spaces)")
    if role not in ROLES:
        raise UserError(f"unknown role '{role}' (choose one of: {', '.join(ROLES)})")
    if len(password) < 12:
        raise UserError("a password needs at least 12 characters")
    with transaction(db):
        if db.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise UserError(f"a user named '{username}' already exists")
        cur = db.execute(
            "INSERT INTO users (username, name, role, password_hash, active, created_at) "
            "VALUES (?, ?, ?, ?, 1, ?)",
            [username, name or None, role, hash_password(password), now()],
        )
        return cur.lastrowid


def find(db: sqlite_utils.Database, username: str) -> dict:
    rows = list(db.query("SELECT * FROM users WHERE username = ?", [username]))
    if not rows:
        raise UserError(f"no user named '{username}'")
    return rows[0]


def disable(db: sqlite_utils.Database, username: str) -> dict:
    """Disable the account and end all its sessions at once."""
    user = find(db, username)
    with transaction(db):
        db.execute("UPDATE users SET active = 0 WHERE id = ?", [user["id"]])
        db.execute(
            "UPDATE staff_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            [now(), user["id"]],
        )
    return user


def set_password(db: sqlite_utils.Database, username: str, password: str) -> dict:
    if len(password) < 12:
        raise UserError("a password needs at least 12 characters")
    user = find(db, username)
    with transaction(db):
        db.execute(
            "UPDATE users SET password_hash = ? WHERE id = ?", [hash_password(password), user["id"]]
        )
        db.execute(
            "UPDATE staff_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            [now(), user["id"]],
        )
    return user


def all_users(db: sqlite_utils.Database) -> list[dict]:
    return list(
        db.query(
            "SELECT id, username, name, role, active, created_at FROM users "
            "ORDER BY active DESC, username"
        )
    )
