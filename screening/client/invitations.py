"""A personal invitation link, /i/<token>: the client's date of birth first, then the link
is exchanged for a session holding the appointment's draft, and the browser goes on to
the wizard at an address without the token.

Nothing about the appointment is shown before the date of birth matches; five wrong dates
pause the link for LINK_LOCK_MINUTES. The same link on another device, after the same
check, continues the same draft (and the device before loses it: one device at a time).
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, session, url_for
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import ValidationError

from .. import invitations
from ..content import today
from ..forms import DateInput
from ..questionnaire import parse_date
from ..store import appointments as store
from ..store import audit, get_db
from .routes import bp


def _a_date(form, field) -> None:
    value = (field.data or "").strip()
    if not value:
        raise ValidationError("Enter your date of birth.")
    born = parse_date(value)
    if born is None or born > today():
        raise ValidationError("Enter your date of birth as a date, like 1980-03-17.")


class BirthDateForm(FlaskForm):
    date_of_birth = StringField(
        "Your date of birth",
        [_a_date],
        widget=DateInput(),
        render_kw={"autocomplete": "bday", "required": True},
    )


@bp.route("/i/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """Ask for the date of birth; on a match, open the appointment's draft on this device."""
    appointment = invitations.find(token)
    if appointment is None:
        return _closed("unknown", 404)
    if today() > invitations.valid_until(appointment):
        return _closed("expired", 410)
    if store.locked(appointment):
        return _closed("paused", 429)
    form = BirthDateForm()
    status = 200
    if form.validate_on_submit():
        given = parse_date(form.date_of_birth.data.strip()).isoformat()
        config = current_app.config
        result, left = store.check_attempt(
            get_db(),
            appointment["id"],
            given == appointment["date_of_birth"],
            config["LINK_MAX_FAILURES"],
            config["LINK_LOCK_MINUTES"],
        )
        if result == "ok":
            return _open(appointment)
        if result == "locked":
            audit.record(get_db(), "invitation_locked", detail=f"appointment {appointment['id']}")
        if result in ("locked", "paused"):
            return _closed("paused", 429)
        form.date_of_birth.errors.append(
            "This date of birth does not match our booking. "
            f"{left} {'try' if left == 1 else 'tries'} left before this link pauses."
        )
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template("client/invitation.html", form=form), status


def _open(appointment: dict):
    """Exchange the link for a fresh session holding the draft; the token leaves the URL."""
    token = store.open_draft(
        get_db(),
        appointment["id"],
        invitations.identity_answers(appointment),
        current_app.config["DRAFT_HOURS"],
    )
    if token is None:
        return _closed("answered", 200, submitted=store.submitted_on(get_db(), appointment["id"]))
    session.clear()
    session["draft"] = token
    session.permanent = True
    return redirect(url_for("client.resume"))


def _closed(reason: str, status: int, **context):
    """A polite page for a link that cannot be used now (never the appointment's details)."""
    return render_template("client/invitation_closed.html", reason=reason, **context), status
