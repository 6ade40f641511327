"""Staff forms: login, the queue's filters, a decision, a new account."""

from __future__ import annotations

import datetime as dt
import re

from wtforms import (
    BooleanField,
    DateField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..content import today
from ..questionnaire import hidden_characters
from ..text_form import TextOnlyForm
from ..vocab import CLEARED, CONTACT_METHODS, DECISIONS, DEFER_UNTIL, OUTCOMES, ROLES


class DateRange:
    """A date a clinic can mean: the calendar's own ends overflow the next-day arithmetic."""

    def __init__(self, first: dt.date, last: dt.date):
        self.first, self.last = first, last
        self.field_flags = {"min": first.isoformat(), "max": last.isoformat()}

    def __call__(self, form, field) -> None:
        if field.data is not None and not self.first <= field.data <= self.last:
            raise ValidationError(f"Choose a date between {self.first.year} and {self.last.year}.")


IN_RANGE = DateRange(dt.date(1900, 1, 1), dt.date(2999, 12, 31))
# Outcomes a provider clears only with a confirmation and a note.
CONFIRM_CLEARING = ("refer", "defer")
# As for clients' text: control characters other than tab and newline are never typed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def no_control_characters(form, field) -> None:
    if field.data and _CONTROL.search(field.data):
        raise ValidationError("Please remove the special characters.")


def no_hidden_characters(form, field) -> None:
    """One-line text (a name): no invisible characters that could make it read as another."""
    if field.data and hidden_characters(field.data):
        raise ValidationError("Please remove the hidden formatting characters.")


class LoginForm(TextOnlyForm):
    username = StringField(
        "Username",
        [InputRequired("Enter your username."), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        "Password",
        [InputRequired("Enter your password."), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class QueueFilterForm(TextOnlyForm):
    """GET filters: no CSRF (they change nothing)."""

    class Meta:
        csrf = False

    outcome = SelectField(
        "Outcome",
        choices=[SelectChoice("", "Any outcome")]
        + [SelectChoice(k, v) for k, v in OUTCOMES.choices()],
        default="",
        validators=[Optional()],
    )
    decided = SelectField(
        "Decision",
        choices=[
            SelectChoice("no", "Not yet decided"),
            SelectChoice("yes", "Decided"),
            SelectChoice("all", "All"),
        ],
        default="no",
    )
    order = SelectField(
        "Order",
        choices=[
            SelectChoice("worklist", "Worklist"),
            SelectChoice("severity", "Most severe first"),
        ],
        default="worklist",
    )
    since = DateField("Submitted from", validators=[Optional(), IN_RANGE])
    until = DateField("Submitted until", validators=[Optional(), IN_RANGE])

    def validate_until(self, field) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(
                f"This date is before the “{self.since.label.text}” date: "
                "choose an end on or after the start."
            )


class DayForm(TextOnlyForm):
    class Meta:
        csrf = False

    date = DateField("Date", validators=[Optional(), IN_RANGE])


class NameSearchForm(TextOnlyForm):
    """A name search is posted and kept in the session: client names stay out of URLs,
    browser history and access logs."""

    q = StringField(
        "Client name or reference",
        validators=[Optional(), Length(max=100)],
        render_kw={"type": "search", "autocomplete": "off"},
    )


class DecisionForm(TextOnlyForm):
    """A provider's decision. Clearing a client the rules refer or defer needs a second
    look: a ticked confirmation and a note saying why."""

    decision = RadioField(
        "Decision",
        choices=[SelectChoice(k, v) for k, v in DECISIONS.choices()],
        validators=[InputRequired("Choose a decision.")],
    )
    defer_until = DateField("Defer until", validators=[Optional()])
    note = TextAreaField(
        "Note",
        [Length(max=2000, message="Keep the note to 2,000 characters."), no_control_characters],
        render_kw={"rows": 4, "maxlength": 2000},
    )

    confirm_clear = BooleanField("I have read the flags and clear this client anyway")

    def __init__(self, *args, outcome: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcome = outcome

    @property
    def clearing_needs_confirmation(self) -> bool:
        return self.outcome in CONFIRM_CLEARING

    def validate(self, extra_validators=None) -> bool:
        """A deferral needs its date (an empty date field alone is not an error); clearing
        a refer or defer outcome needs its confirmation and a note."""
        ok = super().validate(extra_validators)
        if ok and self.decision.data == CLEARED and self.clearing_needs_confirmation:
            label = OUTCOMES.label(self.outcome)
            if not (self.note.data or "").strip():
                self.note.errors = [f"Say why you clear a client whose outcome is {label}."]
                ok = False
            if not self.confirm_clear.data:
                self.confirm_clear.errors = [
                    f"The outcome is {label}: tick to confirm that you clear this client."
                ]
                ok = False
            return ok
        if ok and self.decision.data == DEFER_UNTIL:
            if self.defer_until.data is None:
                self.defer_until.errors = ["Give the date to defer until."]
                return False
            if self.defer_until.data < today():
                self.defer_until.errors = ["The date to defer until cannot be in the past."]
                return False
        return ok


class ContactForm(TextOnlyForm):
    """That staff contacted the client: how, and a note (kept in the submission's history)."""

    method = RadioField(
        "How",
        choices=[SelectChoice(k, v) for k, v in CONTACT_METHODS.choices()],
        validators=[InputRequired("Choose how you contacted the client.")],
    )
    note = TextAreaField(
        "Note",
        [Length(max=2000, message="Keep the note to 2,000 characters."), no_control_characters],
        render_kw={"rows": 2, "maxlength": 2000},
    )


class NewUserForm(TextOnlyForm):
    username = StringField(
        "Username",
        [DataRequired("Enter a username."), Length(max=64)],
        render_kw={"autocomplete": "off", "autocapitalize": "none"},
    )
    name = StringField(
        "Full name",
        [Optional(), Length(max=200), no_control_characters, no_hidden_characters],
    )
    role = SelectField("Role", choices=[SelectChoice(k, v) for k, v in ROLES.choices()])


class AuditFilterForm(TextOnlyForm):
    class Meta:
        csrf = False

    action = StringField("Action", [Optional(), Length(max=40)])
    username = StringField("User", [Optional(), Length(max=64)])
    submission = StringField("Submission id", [Optional(), Length(max=12)])
    date = DateField("Date", validators=[Optional(), IN_RANGE])


class CodeForm(TextOnlyForm):
    """The second step of a login: a code from the authenticator app, or a recovery code."""

    code = StringField(
        "Code",
        [InputRequired("Enter the code your authenticator app shows."), Length(max=40)],
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


# Account changes on the users page: each asks for confirmation on a page of its own.


class ConfirmForm(TextOnlyForm):
    """A confirmation: the CSRF token is the whole form."""


class RoleForm(TextOnlyForm):
    role = SelectField("New role", choices=[SelectChoice(k, v) for k, v in ROLES.choices()])
