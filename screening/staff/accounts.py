"""Staff accounts as an admin manages them, on the web or the command line: the checks on
what they type, password hashing, and an audit row with every change."""

from __future__ import annotations

import re
import secrets

import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..store import audit, transaction
from ..store import staff as store
from ..vocab import ROLES

# Letters, digits and . _ - @ +: a name that works in a URL path segment as it is (a slash
# or a name of dots made the account's disable link miss its route) and reads plainly.
USERNAME = re.compile(r"[\w.@+-]{1,64}")
MIN_PASSWORD = 12

hasher = PasswordHasher()
_DUMMY_HASH = hasher.hash("not a real password")


class UserError(Exception):
    """A mistake in a user change, worded for the admin."""


def hash_password(password: str) -> str:
    return hasher.hash(password)


def new_password() -> str:
    """A strong generated password (about 120 bits), easy to copy."""
    return secrets.token_urlsafe(15)


def verify(user: dict | None, password: str) -> bool:
    """Whether the password is the user's; an unknown user is checked against a dummy hash,
    so timing does not tell unknown names apart."""
    try:
        hasher.verify(user["password_hash"] if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None


def needs_rehash(user: dict) -> bool:
    return hasher.check_needs_rehash(user["password_hash"])


def create(
    db: sqlite_utils.Database,
    username: str,
    role: str,
    password: str,
    name: str | None = None,
    by: dict | None = None,
) -> int:
    """Create an account; `by` is the admin ({"id", "username"}), None on the command line."""
    username = username.strip()
    if not USERNAME.fullmatch(username) or not username.strip("."):
        raise UserError("a username is 1 to 64 letters, digits and . _ - @ + (no spaces)")
    if role not in ROLES:
        raise UserError(f"unknown role '{role}' (choose one of: {', '.join(ROLES.codes)})")
    _check_password(password)
    with transaction(db):
        try:
            user_id = store.create_user(db, username, role, hash_password(password), name)
        except store.DuplicateUsername:
            raise UserError(f"a user named '{username}' already exists") from None
        _audit(db, "user_create", f"{username} ({role})", by)
    return user_id


def find(db: sqlite_utils.Database, username: str) -> dict:
    user = store.find_user(db, username)
    if user is None:
        raise UserError(f"no user named '{username}'")
    return user


def disable(db: sqlite_utils.Database, username: str, by: dict | None = None) -> dict:
    """Disable the account; its open sessions end at once."""
    user = find(db, username)
    with transaction(db):
        store.disable_user(db, user["id"])
        _audit(db, "user_disable", username, by)
    return user


def set_password(
    db: sqlite_utils.Database, username: str, password: str, by: dict | None = None
) -> dict:
    """A new password; the account's open sessions end."""
    _check_password(password)
    user = find(db, username)
    with transaction(db):
        store.set_password_hash(db, user["id"], hash_password(password))
        _audit(db, "user_password", username, by)
    return user


def enable(db: sqlite_utils.Database, username: str, by: dict | None = None) -> dict:
    """Let a disabled account log in again."""
    user = find(db, username)
    with transaction(db):
        store.enable_user(db, user["id"])
        _audit(db, "user_enable", username, by)
    return user


def change_role(db: sqlite_utils.Database, username: str, role: str, by: dict | None = None):
    """Give the account another role; its open sessions end."""
    if role not in ROLES:
        raise UserError(f"unknown role '{role}' (choose one of: {', '.join(ROLES.codes)})")
    user = find(db, username)
    with transaction(db):
        store.set_role(db, user["id"], role)
        _audit(db, "user_role", f"{username} ({user['role']} -> {role})", by)
    return user


def reset_password(db: sqlite_utils.Database, username: str, by: dict | None = None) -> str:
    """A new generated password for the account (shown once); its open sessions end."""
    password = new_password()
    set_password(db, username, password, by)
    return password


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password needs at least {MIN_PASSWORD} characters")


def _audit(db, action: str, detail: str, by: dict | None) -> None:
    who = by or {"id": None, "username": "(command line)"}
    audit.record(db, action, user_id=who["id"], username=who["username"], detail=detail)
