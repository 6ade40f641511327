"""Staff accounts: argon2 passwords, server-side session records, lockout, role checks.

Flask's signed-cookie session alone would let a copied cookie keep working after logout,
so each login creates a `staff_sessions` row; the cookie carries only its random id, and
every request checks the row (not revoked, not idle, user still active).
"""

from __future__ import annotations

import datetime as dt
import secrets
from functools import wraps

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user

from .. import audit
from ..db import get_db, now, transaction

ROLES = ("provider", "front_desk", "admin")
# Who may do what: admin everything; provider all the front desk can, and decide.
CAN = {
    "front_desk": {"front_desk", "provider", "admin"},
    "provider": {"provider", "admin"},
    "admin": {"admin"},
}
LAST_SEEN_EVERY = dt.timedelta(seconds=30)  # write last_seen at most this often

hasher = PasswordHasher()
_DUMMY_HASH = hasher.hash("not a real password")
login_manager = LoginManager()
login_manager.login_view = "staff.login"
login_manager.login_message = "Please log in to open staff pages."
login_manager.session_protection = None  # the server-side session record does this job


class StaffUser(UserMixin):
    """A logged-in staff member; `get_id()` is the staff session id, not the user id."""

    def __init__(self, row: dict):
        self.session_id = row["session_id"]
        self.id_number = row["user_id"]
        self.username = row["username"]
        self.name = row["name"] or row["username"]
        self.role = row["role"]

    def get_id(self) -> str:
        return self.session_id

    def can(self, need: str) -> bool:
        return self.role in CAN[need]


def hash_password(password: str) -> str:
    return hasher.hash(password)


def new_password() -> str:
    """A strong generated password (about 120 bits), easy to copy."""
    return secrets.token_urlsafe(15)


def _ago(**delta) -> str:
    then = dt.datetime.now(dt.UTC) - dt.timedelta(**delta)
    return then.replace(microsecond=0).isoformat()


@login_manager.user_loader
def load_user(session_id: str) -> StaffUser | None:
    """Check the session record on every request; end it if idle or the user is disabled."""
    db = get_db()
    rows = list(
        db.query(
            "SELECT s.id AS session_id, s.last_seen, s.user_id, u.username, u.name, u.role, "
            "u.active FROM staff_sessions s JOIN users u ON u.id = s.user_id "
            "WHERE s.id = ? AND s.revoked_at IS NULL",
            [session_id],
        )
    )
    if not rows:
        return None
    row = rows[0]
    idle = current_app.config["STAFF_IDLE_MINUTES"]
    if not row["active"] or row["last_seen"] < _ago(minutes=idle):
        # Several workers may notice at once; the one whose update ends it audits it.
        if revoke(session_id) and row["active"]:
            audit.record("idle_logoff", user={"id": row["user_id"], "username": row["username"]})
        g.idle_logoff = bool(row["active"])
        return None
    if row["last_seen"] < _ago(seconds=LAST_SEEN_EVERY.total_seconds()):
        with transaction(db):
            db.execute("UPDATE staff_sessions SET last_seen = ? WHERE id = ?", [now(), session_id])
    return StaffUser(row)


@login_manager.unauthorized_handler
def unauthorized():
    if g.get("idle_logoff"):
        flash(
            f"You were logged off after {current_app.config['STAFF_IDLE_MINUTES']} minutes "
            "without activity. Please log in again."
        )
    else:
        flash(login_manager.login_message)
    return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))


def revoke(session_id: str) -> bool:
    """End a session; True if this call ended it (False: it had already ended)."""
    db = get_db()
    with transaction(db):
        cursor = db.execute(
            "UPDATE staff_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            [now(), session_id],
        )
    return cursor.rowcount == 1


def revoke_all(user_id: int) -> None:
    db = get_db()
    with transaction(db):
        db.execute(
            "UPDATE staff_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            [now(), user_id],
        )


def begin_attempt(username: str, address: str) -> bool:
    """Count a login attempt for this name from this address before its password is checked,
    in the same write transaction as the check of the count; False (nothing counted) when
    too many failed recently. Shared by all workers: the database holds the count.

    Counting after the slow password check let a burst through: every worker saw the count
    as it was before the attempts in flight on the others were recorded.
    """
    db = get_db()
    window = _ago(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
    with transaction(db):
        count = db.execute(
            "SELECT count(*) FROM login_attempts WHERE username = ? AND address = ? AND at >= ?",
            [username, address, window],
        ).fetchone()[0]
        if count >= current_app.config["LOGIN_MAX_FAILURES"]:
            return False
        db.execute(
            "INSERT INTO login_attempts (username, address, at) VALUES (?, ?, ?)",
            [username, address, now()],
        )
        db.execute("DELETE FROM login_attempts WHERE at < ?", [_ago(days=1)])
    return True


def authenticate(username: str, password: str, address: str) -> dict | None:
    """The active user with this name and password, or None. Call `begin_attempt` first:
    its count stays as a failure unless the password is right."""
    db = get_db()
    rows = list(db.query("SELECT * FROM users WHERE username = ?", [username]))
    user = rows[0] if rows and rows[0]["active"] else None
    try:
        # Verify against a dummy hash for unknown names, so timing does not tell them apart.
        hasher.verify(user["password_hash"] if user else _DUMMY_HASH, password)
        ok = user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if ok:
        with transaction(db):
            db.execute(
                "DELETE FROM login_attempts WHERE username = ? AND address = ?", [username, address]
            )
            if hasher.check_needs_rehash(user["password_hash"]):
                db.execute(
                    "UPDATE users SET password_hash = ? WHERE id = ?",
                    [hash_password(password), user["id"]],
                )
    return user if ok else None


def start_session(user: dict) -> None:
    """A fresh cookie and a new server-side session record for this login."""
    session.clear()
    session_id = secrets.token_urlsafe(32)
    stamp = now()
    db = get_db()
    with transaction(db):
        db.execute(
            "INSERT INTO staff_sessions (id, user_id, created_at, last_seen) VALUES (?, ?, ?, ?)",
            [session_id, user["id"], stamp, stamp],
        )
    login_user(
        StaffUser(
            {
                "session_id": session_id,
                "user_id": user["id"],
                "username": user["username"],
                "name": user["name"],
                "role": user["role"],
            }
        )
    )
    session.permanent = True


def role_required(need: str):
    """Allow the view to staff who can do `need` (front_desk, provider or admin)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.can(need):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def safe_next(target: str | None) -> str | None:
    """A `next` that stays on this site: a local path only, never //host or a scheme."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        return None
    return target
