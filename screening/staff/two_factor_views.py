"""The second step of a staff login (a code, or setting up the authenticator at the first
login) and an admin's reset of someone's two-factor sign-in.

Between the password and the code the session holds only who is logging in and until
when (five minutes); nothing is logged in until the code is right. Each code tried counts
as a login attempt, so the password's lockout also bounds guessing codes.
"""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from ..store import audit as audit_log
from ..store import get_db
from ..store import staff as store
from . import accounts, devices, two_factor
from .auth import (
    begin_attempt,
    complete_login,
    home_url,
    note_attempt,
    refused_message,
    role_required,
    safe_next,
)
from .forms import CodeForm, LoginForm

bp = Blueprint("two_factor", __name__, url_prefix="/staff")
PENDING = "pending_login"
PENDING_SECONDS = 300
WRONG_CODE = (
    "That code does not match. Type the code your app shows now (it changes every 30 "
    "seconds), or one of your recovery codes."
)


def second_step(user: dict, next_url: str | None):
    """The password was right and this account needs a code: a fresh session that holds
    only the pending login, then the code page (or the set-up page at the first login)."""
    session.clear()
    session[PENDING] = {
        "user_id": user["id"],
        "until": time.time() + PENDING_SECONDS,
        "next": safe_next(next_url),
    }
    session.permanent = True
    endpoint = "two_factor.code" if user["totp_secret"] else "two_factor.enrol"
    return redirect(url_for(endpoint))


def _pending() -> dict | None:
    """The active account whose password was checked in this session a moment ago."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("user_id"), int):
        return None
    if not isinstance(pending.get("until"), (int, float)) or pending["until"] < time.time():
        return None
    user = store.get_user(get_db(), pending["user_id"])
    return user if user is not None and user["active"] else None


def _start_again():
    session.pop(PENDING, None)
    flash("Please log in again: the code step is only open for five minutes.")
    return redirect(url_for("staff.login"))


def _refused(user: dict, reason: str):
    """Too many attempts: back to the password, with the lockout message."""
    note_attempt("login_refused", user["username"])
    session.pop(PENDING, None)
    flash(refused_message(reason), "error")
    return render_template("staff/login.html", form=LoginForm(formdata=None)), 429


@bp.route("/login/code", methods=["GET", "POST"])
def code():
    """The code from the authenticator app (or a recovery code) after the password."""
    if current_user.is_authenticated:
        return redirect(home_url())
    user = _pending()
    if user is None:
        return _start_again()
    if not user["totp_secret"]:
        return redirect(url_for("two_factor.enrol"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        address, device = request.remote_addr or "?", devices.known(user["username"])
        refused = begin_attempt(user["username"], address, device)
        if refused:
            return _refused(user, refused)
        kind = two_factor.check(get_db(), user, form.code.data)
        if kind is not None:
            next_url = session[PENDING].get("next")
            response = complete_login(user, address, device, next_url)
            if kind == "recovery":
                left = store.recovery_codes_left(get_db(), user["id"])
                audit_log.record(
                    get_db(),
                    "recovery_code_used",
                    user_id=user["id"],
                    username=user["username"],
                    detail=f"{left} left",
                )
                flash(
                    f"You logged in with a recovery code; {left} remain. If your phone is "
                    "lost, ask an administrator to reset your two-factor sign-in."
                )
            return response
        note_attempt("login_code_failed", user["username"])
        form.code.errors.append(WRONG_CODE)
        status = 401
    elif request.method == "POST":
        status = 422
    return render_template("staff/login_code.html", form=form), status


@bp.route("/login/enrol", methods=["GET", "POST"])
def enrol():
    """First login of an account that needs a code: scan the QR code (or type the secret)
    into an authenticator app, type the code it shows, get recovery codes once."""
    if current_user.is_authenticated:
        return redirect(home_url())
    user = _pending()
    if user is None:
        return _start_again()
    if user["totp_secret"]:
        return redirect(url_for("two_factor.code"))
    db = get_db()
    if not user["totp_pending"]:
        user["totp_pending"] = two_factor.new_secret()
        store.set_pending_secret(db, user["id"], user["totp_pending"])
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        address, device = request.remote_addr or "?", devices.known(user["username"])
        refused = begin_attempt(user["username"], address, device)
        if refused:
            return _refused(user, refused)
        codes = two_factor.confirm(db, user, form.code.data)
        if codes is not None:
            audit_log.record(db, "two_factor_enrol", user_id=user["id"], username=user["username"])
            next_url = session[PENDING].get("next")
            return complete_login(
                user,
                address,
                device,
                respond=lambda: render_template(
                    "staff/recovery_codes.html",
                    codes=codes,
                    next_url=safe_next(next_url) or home_url(),
                ),
            )
        note_attempt("login_code_failed", user["username"])
        form.code.errors.append(WRONG_CODE)
        status = 401
    elif request.method == "POST":
        status = 422
    secret = user["totp_pending"]
    return render_template(
        "staff/enrol.html",
        form=form,
        qr=two_factor.qr_data_uri(two_factor.provisioning_uri(secret, user["username"])),
        secret=two_factor.grouped(secret),
    ), status


@bp.post("/users/<username>/two-factor/reset")
@role_required("admin")
def reset(username: str):
    """An admin resets someone's two-factor sign-in (a lost phone): they set it up again
    at their next login; their sessions end now. Audited."""
    if username == current_user.username:
        flash(
            "You cannot reset your own two-factor sign-in here: ask another administrator, "
            "or run `flask --app screening users reset-2fa` on the server.",
            "error",
        )
        return redirect(url_for("staff.users_page"))
    try:
        accounts.reset_two_factor(get_db(), username, by=current_user.who)
    except accounts.UserError:
        abort(404)
    flash(f"{username} will set up two-factor sign-in again at their next login.")
    return redirect(url_for("staff.users_page"))


@bp.app_template_global()
def two_factor_states() -> dict[int, str | None]:
    """For the users page: when each account set up two-factor sign-in (None: not yet)."""
    return store.two_factor_states(get_db())
