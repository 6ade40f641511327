"""Appointments for the front desk: add one or upload a day's schedule, see each one's
invitation and answers on the day page, resend an invitation, show its link and QR code,
and attach or detach a walk-in's submission. Every change is audited."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import segno
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired

from .. import invitations, schedule
from ..content import questionnaire, today
from ..forms import DateInput
from ..i18n import clinic_language, language_name, languages
from ..output.display import decision_text, local_time
from ..store import appointments as store
from ..store import get_db, outbox, transaction
from ..store.submissions import first_incomplete_step
from .auth import audit, role_required, safe_next
from .routes import ID, bp

NOT_STARTED = ("not_invited", "invited", "opened")


class AppointmentForm(FlaskForm):
    """One appointment; schedule.check_booking judges it, as it judges a CSV row."""

    name = StringField("Client's full name", render_kw={"autocomplete": "off"})
    date_of_birth = StringField("Date of birth", widget=DateInput())
    email = StringField("Email", render_kw={"type": "email", "autocomplete": "off"})
    phone = StringField("Mobile phone", render_kw={"type": "tel", "autocomplete": "off"})
    appointment_date = StringField("Appointment date", widget=DateInput())
    appointment_time = StringField("Time (optional)", render_kw={"type": "time"})
    language = SelectField("Client's language (emails and questions)", validate_choice=False)
    send_now = BooleanField("Email the invitation now", default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = [("", "Not known: their last visit's, else the clinic's")] + [
            (code, language_name(code, clinic_language())) for code in languages()
        ]

    def booking(self) -> dict | None:
        """The checked booking, or None with each field's problem set on it."""
        data = {name: self[name].data for name in schedule.COLUMNS + schedule.OPTIONAL}
        booking, errors = schedule.check_booking(data, today(), languages())
        for name, problem in errors.items():
            self[name].errors = [problem[0].upper() + problem[1:] + "."]
        return None if errors else booking


class ScheduleForm(FlaskForm):
    schedule = FileField("Schedule (CSV)", [FileRequired("Choose a CSV file.")])
    send_now = BooleanField("Email the invitations now", default=True)


class AttachForm(FlaskForm):
    submission_id = IntegerField("Submission", [InputRequired("Choose a submission.")])


@dataclass
class Status:
    code: str  # not_invited, invited, opened, in_progress, submitted, decided
    text: str

    @property
    def not_started(self) -> bool:
        return self.code in NOT_STARTED


def status_of(row: dict) -> Status:
    """Where an appointment stands, in the front desk's words."""
    if row.get("submission_status") == "submitted":
        if row.get("decision"):
            return Status(
                "decided", "Decided: " + decision_text(row["decision"], row["defer_until"])
            )
        return Status("submitted", "Submitted")
    if row.get("submission_status") == "draft":
        qn = questionnaire()
        missing = first_incomplete_step(qn, json.loads(row["draft_answers"]), today())
        step = qn.steps.index(missing) + 1 if missing else len(qn.steps) + 1
        if step > 1:
            return Status("in_progress", f"In progress (step {step} of {len(qn.steps) + 1})")
        return Status("opened", "Opened")
    if row.get("opened_at"):
        return Status("opened", "Opened")
    if row.get("invited_at"):
        return Status("invited", f"Invited {local_time(row['invited_at'])}")
    if row.get("mail_state") == "queued":
        return Status("not_invited", "Not invited: email queued")
    if row.get("mail_state") == "failed":
        return Status("not_invited", "Not invited: the email failed")
    if not row.get("email"):
        return Status("not_invited", "Not invited (no email)")
    return Status("not_invited", "Not invited")


def day_appointments(day: dt.date) -> list[dict]:
    """A day's appointments with their status and link (for the day page's include)."""
    rows = store.on_day(get_db(), day)
    for row in rows:
        row["state"] = status_of(row)
        row["link"] = invitations.link(row)
    return rows


@bp.record_once
def _template_helpers(state) -> None:
    state.app.jinja_env.globals.update(day_appointments=day_appointments)


def _appointment_or_404(appointment_id: int) -> dict:
    row = store.get(get_db(), appointment_id)
    if row is None:
        abort(404)
    return row


def _back(row: dict) -> str:
    """Where a button on the day page or the appointment page returns to."""
    back = safe_next(request.form.get("back"))
    if back and back.startswith("/staff/"):
        return back
    return url_for("staff.day", date=row["appointment_date"])


@bp.route("/appointments", methods=["GET", "POST"])
@role_required("front_desk")
def appointments():
    """Add an appointment, or upload a day's schedule (CSV)."""
    form, upload = AppointmentForm(), ScheduleForm(formdata=None)
    status = 200
    if form.validate_on_submit():
        booking = form.booking()
        if booking is not None:
            with transaction(get_db()):
                added, _ = invitations.book(get_db(), [booking], current_user.id_number)
                if added:
                    audit("appointment_add", detail=f"appointment {added[0]}")
            if added:
                sent = _queue(added, form.send_now.data)
                flash(
                    f"Appointment added for {booking['appointment_date']}"
                    + (": the invitation is on its way." if sent else ".")
                )
                return redirect(url_for("staff.day", date=booking["appointment_date"]))
            form.name.errors = ["This client is already booked on that day."]
        status = 422
    elif form.is_submitted():
        status = 422
    return _appointments_page(form, upload, status=status)


@bp.post("/appointments/upload")
@role_required("front_desk")
def upload_schedule():
    """Import a CSV schedule: all of it, or (with any bad row) none of it."""
    form, upload = AppointmentForm(formdata=None), ScheduleForm()
    if not upload.validate_on_submit():
        return _appointments_page(form, upload, status=422)
    checked = schedule.read_csv(upload.schedule.data.read(), today(), languages())
    if checked.errors:
        return _appointments_page(form, upload, problems=checked.errors, status=422)
    with transaction(get_db()):
        added, skipped = invitations.book(get_db(), checked.bookings, current_user.id_number)
        audit("appointment_import", detail=f"{len(added)} added, {skipped} already booked")
    sent = _queue(added, upload.send_now.data)
    flash(
        f"Imported {len(added)} appointment{'s' if len(added) != 1 else ''}"
        + (f" ({skipped} already booked)" if skipped else "")
        + (f"; {sent} invitation{'s are' if sent != 1 else ' is'} on the way." if sent else ".")
    )
    return redirect(url_for("staff.appointments"))


def _queue(appointment_ids: list[int], send_now: bool) -> int:
    """Queue the new appointments' invitations when asked; wake the worker."""
    if not send_now:
        return 0
    db = get_db()
    count = sum(invitations.queue_invitation(db, store.get(db, i)) for i in appointment_ids)
    if count:
        invitations.wake()
    return count


def _appointments_page(form, upload, problems=(), status: int = 200):
    return render_template(
        "staff/appointments.html",
        form=form,
        upload=upload,
        problems=problems,
        columns=schedule.COLUMNS,
        optional=schedule.OPTIONAL,
        days=store.upcoming_days(get_db(), today()),
    ), status


@bp.get(f"/appointments/<{ID}:appointment_id>")
@role_required("front_desk")
def appointment(appointment_id: int):
    """One appointment: its status, its link with a copy button and QR code, attach/detach."""
    row = _appointment_or_404(appointment_id)
    link = invitations.link(row)
    audit("invitation_link", submission_id=row["submission_id"], detail=f"appointment {row['id']}")
    qr = segno.make(link, error="m").svg_data_uri(scale=5, dark="#000", light="#fff")
    return render_template(
        "staff/appointment.html",
        row=row,
        state=status_of(row),
        link=link,
        qr=qr,
        expired=today() > invitations.valid_until(row),
        waiting=outbox.pending_for(get_db(), row["id"]),
        walk_ins=store.unattached_on(get_db(), dt.date.fromisoformat(row["appointment_date"])),
        attach=AttachForm(formdata=None),
    )


@bp.post(f"/appointments/<{ID}:appointment_id>/resend")
@role_required("front_desk")
def resend(appointment_id: int):
    """Email the invitation again (the same link)."""
    row = _appointment_or_404(appointment_id)
    if not row["email"]:
        flash("This appointment has no email address: show the QR code or copy the link.", "error")
    elif today() > invitations.valid_until(row):
        flash("This appointment's day has passed; its link no longer works.", "error")
    elif _resend(row):
        invitations.wake()
        flash("The invitation is on its way again.")
    else:
        flash("An email for this appointment is still waiting to go out.", "error")
    return redirect(_back(row))


def _resend(row: dict) -> bool:
    with transaction(get_db()):
        queued = invitations.queue_invitation(get_db(), row, again=True)
        if queued:
            audit("invitation_resend", detail=f"appointment {row['id']}")
    return queued


@bp.post(f"/appointments/<{ID}:appointment_id>/attach")
@role_required("front_desk")
def attach(appointment_id: int):
    """Make a walk-in's submission the one that answers this appointment."""
    row = _appointment_or_404(appointment_id)
    form = AttachForm()
    if not form.validate_on_submit():
        flash("Choose a submission to attach.", "error")
    elif _attach(row["id"], form.submission_id.data):
        flash("Submission attached to this appointment.")
    else:
        flash(
            "That submission cannot be attached: it answers another appointment, or this "
            "appointment is answered already.",
            "error",
        )
    return redirect(url_for("staff.appointment", appointment_id=row["id"]))


@bp.post(f"/appointments/<{ID}:appointment_id>/detach")
@role_required("front_desk")
def detach(appointment_id: int):
    """Unlink the submission from this appointment (it stays in the day's list)."""
    row = _appointment_or_404(appointment_id)
    with transaction(get_db()):
        submission_id = store.detach(get_db(), row["id"])
        if submission_id is not None:
            audit(
                "appointment_detach", submission_id=submission_id, detail=f"appointment {row['id']}"
            )
    if submission_id is not None:
        flash("Submission detached from this appointment.")
    return redirect(url_for("staff.appointment", appointment_id=row["id"]))


def _attach(appointment_id: int, submission_id: int) -> bool:
    with transaction(get_db()):
        attached = store.attach(get_db(), appointment_id, submission_id)
        if attached:
            audit(
                "appointment_attach",
                submission_id=submission_id,
                detail=f"appointment {appointment_id}",
            )
    return attached
