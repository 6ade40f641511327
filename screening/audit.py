"""The append-only audit log: who did what, when, to which submission. Never an answer.

`detail` holds only codes (a decision, a target username, a print kind), never client
names or free text. No route edits or deletes a row.
"""

from __future__ import annotations

from flask_login import current_user

from .db import get_db, now, transaction

# Each action as the audit page names it (the stored code stays the filter's value).
ACTIONS = {
    "login": "Logged in",
    "login_failed": "Login failed",
    "login_refused": "Login refused",
    "logout": "Logged out",
    "idle_logoff": "Logged off when idle",
    "view_submission": "Opened a submission",
    "decision": "Recorded a decision",
    "print_summary": "Printed a summary",
    "print_day": "Printed a day",
    "user_create": "Created an account",
    "user_disable": "Disabled an account",
    "user_password": "Changed a password",
    "view_audit": "Viewed the audit log",
}


def record(
    action: str,
    submission_id: int | None = None,
    detail: str | None = None,
    user: dict | None = None,
    username: str | None = None,
) -> None:
    """Append one row, in its own transaction (the action happened, whatever follows)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if user is None and current_user and current_user.is_authenticated:
        user = {"id": current_user.id_number, "username": current_user.username}
    db = get_db()
    with transaction(db):
        db.execute(
            "INSERT INTO audit (at, user_id, username, action, submission_id, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                now(),
                user["id"] if user else None,
                user["username"] if user else username,
                action,
                submission_id,
                detail,
            ],
        )
