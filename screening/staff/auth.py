"""Staff sign-in for Flask-Login: server-side session records, lockout, role checks.

Flask's signed-cookie session alone would let a copied cookie keep working after logout,
so each login creates a `staff_sessions` row; the cookie carries only its random id, and
every request checks the row (not revoked, not idle, user still active).
"""

from __future__ import annotations

import datetime as dt
import secrets
from functools import wraps

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user
from werkzeug.exceptions import HTTPException

from ..store import ago, get_db, now, transaction
from ..store import audit as audit_log
from ..store import staff as store
from ..vocab import CAN
from . import accounts, devices

LAST_SEEN_EVERY = dt.timedelta(seconds=30)  # write last_seen at most this often

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
        self.last_seen = row.get("last_seen")  # as the server counts idle time

    def get_id(self) -> str:
        return self.session_id

    def can(self, need: str) -> bool:
        return self.role in CAN[need]

    @property
    def who(self) -> dict:
        """The user as the store records them."""
        return {"id": self.id_number, "username": self.username}


def audit(action: str, **fields) -> None:
    """Audit an action of the logged-in staff member (or of nobody yet: a failed login)."""
    if current_user and current_user.is_authenticated:
        fields.setdefault("user_id", current_user.id_number)
        fields.setdefault("username", current_user.username)
    audit_log.record(get_db(), action, **fields)


@login_manager.user_loader
def load_user(session_id: str) -> StaffUser | None:
    """Check the session record on every request; end it if idle or the user is disabled."""
    db = get_db()
    row = store.live_session(db, session_id)
    if row is None:
        return None
    idle = current_app.config["STAFF_IDLE_MINUTES"]
    if not row["active"] or row["last_seen"] < ago(minutes=idle):
        # Several workers may notice at once; the one whose update ends it audits it.
        with transaction(db):
            if store.revoke_session(db, session_id) and row["active"]:
                audit_log.record(
                    db, "idle_logoff", user_id=row["user_id"], username=row["username"]
                )
        g.idle_logoff = bool(row["active"])
        return None
    if row["last_seen"] < ago(seconds=LAST_SEEN_EVERY.total_seconds()):
        store.touch_session(db, session_id)
        row = {**row, "last_seen": now()}
    return StaffUser(row)


def idle_seconds_left() -> int:
    """Seconds until the server logs the current user off if no page is asked for: what
    the idle warning in the browser counts down."""
    idle = current_app.config["STAFF_IDLE_MINUTES"] * 60
    last_seen = getattr(current_user, "last_seen", None)
    if not last_seen:
        return idle
    since = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(last_seen)
    return max(0, int(idle - since.total_seconds()))


def keep_alive() -> None:
    """Count now as activity (the "stay logged in" button)."""
    store.touch_session(get_db(), current_user.session_id)
    current_user.last_seen = now()


@login_manager.unauthorized_handler
def unauthorized():
    if g.get("idle_logoff"):
        flash(
            f"You were logged off after {current_app.config['STAFF_IDLE_MINUTES']} minutes "
            "without activity. Please log in again."
        )
    else:
        flash(login_manager.login_message)
    return to_login()


def to_login():
    """The login page, with the page to come back to."""
    target = return_path()
    return redirect(url_for("staff.login", next=target) if target else url_for("staff.login"))


def return_path() -> str | None:
    """Where to go after logging in: this page; for a form posted after the session ended,
    the page the form was on (its `back` field) or its address if that is also a page: an
    address that answers only posts would be a 405. The form's text is not sent on: the
    browser keeps a note being typed."""
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    back = safe_next(request.form.get("back"))
    if back and back.startswith("/staff/"):
        return back
    try:
        current_app.create_url_adapter(request).match(request.path, method="GET")
    except HTTPException:
        return None
    return request.path


def attempt_limits() -> store.AttemptLimits:
    config = current_app.config
    return store.AttemptLimits(
        per_name=config["LOGIN_MAX_FAILURES"],
        per_address=config["LOGIN_ADDRESS_MAX_FAILURES"],
        per_account=config["LOGIN_ACCOUNT_MAX_FAILURES"],
        minutes=config["LOGIN_LOCKOUT_MINUTES"],
    )


def begin_attempt(username: str, address: str, device: str | None = None) -> str | None:
    """Count a login attempt (a password or a code) before it is checked; None when it may
    go on, else the limit it hit ("name", "address", "account" or "device")."""
    return store.begin_attempt(get_db(), username, address, attempt_limits(), device)


def refused_message(reason: str) -> str:
    minutes = current_app.config["LOGIN_LOCKOUT_MINUTES"]
    if reason == "address":
        return (
            "Too many attempts from this network. For your security, logging in from here "
            f"is paused for {minutes} minutes, except on computers that logged in before. "
            "An administrator can help sooner."
        )
    return (
        "Too many attempts. For your security, logging in with this name is paused "
        f"for {minutes} minutes. An administrator can help sooner."
    )


def account(username: str) -> dict | None:
    """The account with this name, active or not (for the audit log), or None."""
    return store.find_user(get_db(), username)


def note_attempt(action: str, username: str) -> None:
    """Audit a failed or refused attempt: the first few each hour one row each, the rest
    counted. An unknown name is never written (it may be a password typed in the wrong
    box)."""
    user = account(username)
    audit_log.tally(
        get_db(),
        action,
        user_id=user["id"] if user else None,
        username=user["username"] if user else None,
        detail=None if user else "unknown account",
    )


def authenticate(username: str, password: str) -> dict | None:
    """The active user with this name and password, or None. Call `begin_attempt` first:
    its count stays as a failure until the whole login succeeds (`complete_login`).
    Raises accounts.Busy when this worker is hashing too many passwords already."""
    db = get_db()
    user = store.find_user(db, username)
    if user is not None and not user["active"]:
        user = None
    if not accounts.verify(user, password):
        return None
    if accounts.needs_rehash(user):
        try:
            rehashed = accounts.hash_password(password)
        except accounts.Busy:
            return user  # rehashed at a later login
        store.set_password_hash(db, user["id"], rehashed, end_sessions=False)
    return user


def home_url() -> str:
    return url_for("staff.queue" if current_user.can("provider") else "staff.day")


def complete_login(
    user: dict, address: str, device: str | None, next_url: str | None = None, respond=None
) -> Response:
    """Password (and code, when needed) checked: forget the attempts, start the session,
    audit it, and remember this browser for the account. `respond()` makes the response
    (default: on to `next_url`, else the user's home page)."""
    store.clear_attempts(get_db(), user["username"], address, device)
    start_session(user)
    audit("login")
    response = make_response(respond() if respond else redirect(safe_next(next_url) or home_url()))
    return devices.remember(response, user["username"])


def start_session(user: dict) -> None:
    """A fresh cookie and a new server-side session record for this login."""
    session.clear()
    session_id = secrets.token_urlsafe(32)
    store.start_session(get_db(), session_id, user["id"])
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


def end_session(session_id: str) -> bool:
    return store.revoke_session(get_db(), session_id)


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
