"""Account changes on the users page: disable, re-enable, change role, reset password.

Each opens a page that says what will happen and asks for confirmation; the change is made
by that page's form (a post) and audited by `accounts`. An admin never changes their own
account here (a slip could lock them out): the command line can.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..store import get_db
from ..vocab import ROLES
from . import accounts
from .auth import role_required
from .blueprint import bp
from .forms import ConfirmForm, RoleForm

# What each change does, as its confirmation page says it.
CHANGES = {
    "disable": (
        "Disable {username}?",
        (
            "They are logged out everywhere at once and cannot log in until an admin "
            "re-enables the account. Their decisions and the audit log are kept."
        ),
        "Disable {username}",
    ),
    "enable": (
        "Re-enable {username}?",
        "They can log in again with their current password.",
        "Re-enable {username}",
    ),
    "role": (
        "Change the role of {username}?",
        "They are logged out everywhere, and log in again with what the new role allows.",
        "Change the role",
    ),
    "password": (
        "Reset the password of {username}?",
        (
            "A new password is made and shown once, on the next page: give it to them "
            "privately. The old one stops working and they are logged out everywhere."
        ),
        "Reset the password",
    ),
}
# The view that makes each change (disabling: the users page's older post route).
_ENDPOINTS = {
    "disable": "disable_user",
    "enable": "enable_user",
    "role": "change_role",
    "password": "reset_password",
}


def _account(username: str) -> dict:
    """The account to change: never the admin's own; a 404 for an unknown name."""
    try:
        return accounts.find(get_db(), username)
    except accounts.UserError:
        abort(404)


def _confirm_page(change: str, user: dict, form, status: int = 200):
    title, text, button = (part.format(username=user["username"]) for part in CHANGES[change])
    return render_template(
        "staff/user_confirm.html",
        change=change,
        account=user,
        form=form,
        title=title,
        text=text,
        button=button,
        action=url_for(f"staff.{_ENDPOINTS[change]}", username=user["username"]),
    ), status


def _not_yourself(user: dict):
    if user["username"] == current_user.username:
        flash("You cannot change your own account here. Another admin can.", "error")
        return redirect(url_for("staff.users_page"))
    return None


@bp.get("/users/<username>/disable")
@role_required("admin")
def confirm_disable(username: str):
    """Ask before disabling (the existing post route does it)."""
    user = _account(username)
    return _not_yourself(user) or _confirm_page("disable", user, ConfirmForm())


@bp.route("/users/<username>/enable", methods=["GET", "POST"])
@role_required("admin")
def enable_user(username: str):
    """Let a disabled account log in again."""
    user = _account(username)
    form = ConfirmForm()
    if refused := _not_yourself(user):
        return refused
    if not form.validate_on_submit():
        return _confirm_page("enable", user, form)
    accounts.enable(get_db(), username, by=current_user.who)
    flash(f"{username} is enabled and can log in again.")
    return redirect(url_for("staff.users_page"))


@bp.route("/users/<username>/role", methods=["GET", "POST"])
@role_required("admin")
def change_role(username: str):
    """Give an account another role."""
    user = _account(username)
    if refused := _not_yourself(user):
        return refused
    form = RoleForm(data={"role": user["role"]})
    if not form.validate_on_submit():
        return _confirm_page("role", user, form, 422 if form.errors else 200)
    if form.role.data == user["role"]:
        flash(f"{username} is already {ROLES.label(user['role']).lower()}: nothing changed.")
        return redirect(url_for("staff.users_page"))
    accounts.change_role(get_db(), username, form.role.data, by=current_user.who)
    flash(f"{username} is now {ROLES.label(form.role.data).lower()} and was logged out.")
    return redirect(url_for("staff.users_page"))


@bp.route("/users/<username>/password", methods=["GET", "POST"])
@role_required("admin")
def reset_password(username: str):
    """Make a new password for an account, shown once."""
    user = _account(username)
    if refused := _not_yourself(user):
        return refused
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _confirm_page("password", user, form)
    password = accounts.reset_password(get_db(), username, by=current_user.who)
    return render_template("staff/user_password.html", account=user, password=password)
