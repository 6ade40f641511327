"""Staff accounts as an admin manages them, on the web or the command line: the checks on
what they type, password hashing, and an audit row with every change."""

from __future__ import annotations

import re
import secrets
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

from ..questionnaire import hidden_characters
from ..store import audit, transaction
from ..store import staff as store
from ..vocab import ROLES
from . import hash_slots

# Letters, digits and . _ - @ +: a name that works in a URL path segment as it is (a slash
# or a name of dots made the account's disable link miss its route) and reads plainly.
USERNAME = re.compile(r"[\w.@+-]{1,64}")
MIN_PASSWORD = 12

# argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane): 56 ms on this 2-core machine
# (102 ms at load 14), where argon2-cffi's default (64 MiB, 3 passes, 4 lanes) took 450 ms
# (742 ms at load 14) and let a flood of logins take every core. Hashes made with other
# parameters are redone at the user's next login (`needs_rehash`).
hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_DUMMY_HASH = hasher.hash("not a real password")
# Hashes at once: one per worker process and, across all of them, half the machine's cores
# (screening/staff/hash_slots.py). A login waits for a slot a second at most (a hash takes
# about 40 ms), behind one other login of its worker at most, then gets "try again": a flood
# of logins from many addresses neither takes every core nor holds the threads pages need.
# An admin's new password (no one can flood it) waits longer.
LOGIN_WAIT_SECONDS = 1.0
CHANGE_WAIT_SECONDS = 5.0


class UserError(Exception):
    """A mistake in a user change, worded for the admin."""


# Every hashing slot was taken: the attempt was not checked (it still counts towards the
# limits); try again in a moment.
Busy = hash_slots.Busy


def _slots() -> hash_slots.HashSlots:
    """This installation's slots: lock files beside its database (none outside an app, as
    in a script with no database)."""
    if not has_app_context():
        return hash_slots.for_folder(None, 1)
    database = str(current_app.config.get("DATABASE") or "")
    folder = Path(database).parent if database and database != ":memory:" else None
    count = current_app.config.get("LOGIN_HASH_SLOTS") or hash_slots.default_slots()
    return hash_slots.for_folder(folder, int(count))


@contextmanager
def _hash_slot(wait: float = LOGIN_WAIT_SECONDS):
    with _slots().slot(wait):
        yield


def hash_password(password: str) -> str:
    with _hash_slot(CHANGE_WAIT_SECONDS):
        return hasher.hash(password)


def new_password() -> str:
    """A strong generated password (about 120 bits), easy to copy."""
    return secrets.token_urlsafe(15)


def verify(user: dict | None, password: str) -> bool:
    """Whether the password is the user's; an unknown user is checked against a dummy hash,
    so timing does not tell unknown names apart."""
    try:
        with _hash_slot():
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
    if name and hidden_characters(name):
        raise UserError("a name cannot hold hidden formatting characters (text direction marks)")
    if role not in ROLES:
        raise UserError(f"unknown role '{role}' (choose one of: {', '.join(ROLES.codes)})")
    _check_password(password)
    hashed = _hash_new(password)
    with transaction(db):
        try:
            user_id = store.create_user(db, username, role, hashed, name)
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
    hashed = _hash_new(password)
    with transaction(db):
        store.set_password_hash(db, user["id"], hashed)
        _audit(db, "user_password", username, by)
    return user


def reset_two_factor(db: sqlite_utils.Database, username: str, by: dict | None = None) -> dict:
    """Forget the account's authenticator and recovery codes (it sets them up again at its
    next login); its open sessions end."""
    user = find(db, username)
    with transaction(db):
        store.reset_two_factor(db, user["id"])
        _audit(db, "two_factor_reset", username, by)
    return user


def _hash_new(password: str) -> str:
    """The hash of a new password (outside any transaction: hashing takes a while)."""
    try:
        return hash_password(password)
    except Busy:
        raise UserError("the server is busy checking logins; try again in a moment") from None


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
