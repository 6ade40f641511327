"""A personal invitation link, /i/<token>: the client's date of birth first, then the link
is exchanged for a session holding the appointment's draft, and the browser goes on to
the wizard at an address without the token.

Nothing about the appointment is shown before the date of birth matches; five wrong dates
pause the link for LINK_LOCK_MINUTES. The same link on another device, after the same
check, continues the same draft (and the device before loses it: one device at a time).
"""

from __future__ import annotations

import datetime as dt

from flask import current_app, redirect, render_template, session, url_for
from flask_babel import gettext, ngettext
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import ValidationError

from .. import invitations
from ..content import today
from ..forms import DateInput
from ..questionnaire import parse_date
from ..store import appointments as store
from ..store import audit, get_db
from ..store.db import local_day
from .routes import bp


def _a_date(form, field) -> None:
    value = (field.data or "").strip()
    if not value:
        raise ValidationError(gettext("Enter your date of birth."))
    born = parse_date(value)
    if born is None or born > today():
        raise ValidationError(gettext("Enter your date of birth as a date, like 1980-03-17."))


class BirthDateForm(FlaskForm):
    date_of_birth = StringField(
        "Your date of birth",  # the page shows the label in the client's language
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
            ngettext(
                "This date of birth does not match our booking. %(num)d try left before this "
                "link pauses.",
                "This date of birth does not match our booking. %(num)d tries left before this "
                "link pauses.",
                left,
            )
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
        sent = store.submitted_on(get_db(), appointment["id"])
        day = dt.date.fromisoformat(local_day(sent)) if sent else None
        return _closed("answered", 200, submitted=day)
    # The visit goes on in the language chosen on the link's page (`?lang=`), else the
    # client's known language, else the browser's.
    language = session.get("lang") or invitations.known_language(get_db(), appointment)
    session.clear()
    if language:
        session["lang"] = language
    session["draft"] = token
    session.permanent = True
    return redirect(url_for("client.resume"))


def _closed(reason: str, status: int, **context):
    """A polite page for a link that cannot be used now (never the appointment's details)."""
    return render_template("client/invitation_closed.html", reason=reason, **context), status
