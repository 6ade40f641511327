"""The append-only audit log: who did what, when, to which submission. Never an answer.

`detail` holds only codes (a decision, a target username, a print kind), never client
names or free text. No route edits or deletes a row.
"""

from __future__ import annotations

from flask_login import current_user

from .db import get_db, now, transaction

ACTIONS = (
    "login", "login_failed", "login_refused", "logout", "idle_logoff", "view_submission",
    "decision", "print_summary", "print_day", "user_create", "user_disable",
    "user_password", "view_audit",
)


def record(action: str, submission_id: int | None = None, detail: str | None = None,
           user: dict | None = None, username: str | None = None) -> None:
    """Append one row, in its own transaction (the action happened, whatever follows)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if user is None and current_user and current_user.is_authenticated:
        user = {"id": current_user.id_number, "username": current_user.username}
    db = get_db()
    with transaction(db):
        db.execute("INSERT INTO audit (at, user_id, username, action, submission_id, detail) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   [now(), user["id"] if user else None,
                    user["username"] if user else username, action, submission_id, detail])
