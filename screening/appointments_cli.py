"""`flask --app screening appointments import` and `invitations send / remind`: the
schedule in, and email out, for cron or a systemd timer. Running a command twice sends
nothing twice (the outbox's keys)."""

from __future__ import annotations

import datetime as dt

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from . import invitations, schedule
from .cli import database
from .content import today
from .i18n import languages
from .output import mail
from .store import audit, transaction

appointments_cli = AppGroup("appointments", help="Upcoming appointments.")
invitations_cli = AppGroup("invitations", help="Email invitation links and reminders.")


@appointments_cli.command("import")
@click.argument("file", type=click.File("rb"))
def import_command(file) -> None:
    """Add appointments from a CSV schedule and print how many.

    The header is name,date_of_birth,email,phone,appointment_date,appointment_time (dates
    YYYY-MM-DD, time HH:MM, optional), and optionally a language column (en, es: the
    client's language for emails and questions); each row needs an email or a phone. A bad row is
    named by line and reason, and then nothing of the file is imported. Clients already
    booked on that day are skipped, so importing a file again adds nothing.

    Example: flask --app screening appointments import tomorrow.csv
    """
    checked = schedule.read_csv(file.read(), today(), languages())
    if checked.errors:
        lines = "\n".join(f"  {problem}" for problem in checked.errors)
        raise click.ClickException(f"{file.name}: nothing imported, fix these lines:\n{lines}")
    with database() as db, transaction(db):
        added, skipped = invitations.book(db, checked.bookings)
        audit.record(
            db, "appointment_import", detail=f"{len(added)} added, {skipped} already booked"
        )
    click.echo(
        f"Imported {len(added)} appointment{'s' if len(added) != 1 else ''}"
        + (f" ({skipped} already booked)." if skipped else ".")
    )


def _mail_ready() -> None:
    config = current_app.config
    try:
        mail.check_settings(config)
    except mail.MailError as exc:
        raise click.ClickException(f"cannot send email: {exc}") from None


def _report(kind: str, counts: dict[str, int]) -> None:
    sent = counts[kind]
    click.echo(f"Sent {sent} {kind}{'s' if sent != 1 else ''}.")
    others = {k: n for k, n in counts.items() if k not in (kind, "failed") and n}
    if others:
        click.echo(
            "Also sent: "
            + ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in others.items())
            + "."
        )
    if counts["failed"]:
        raise click.ClickException(
            f"{counts['failed']} message(s) could not be sent now; each is tried again later "
            "(the log says why, by outbox id)"
        )


@invitations_cli.command("send")
@click.option("--day", default=None, help="Only appointments on this date (YYYY-MM-DD).")
def send_command(day: str | None) -> None:
    """Email every invitation not sent yet (for upcoming appointments, or one day's) and
    print how many were sent. Also sends provider alerts and retries that are due.

    Example: flask --app screening invitations send --day 2026-12-03
    """
    chosen = None
    if day is not None:
        try:
            chosen = dt.date.fromisoformat(day)
        except ValueError:
            raise click.ClickException(f"--day {day}: not a date like 2026-11-25") from None
    _mail_ready()
    with database() as db:
        invitations.queue_invitations(db, chosen)
        invitations.queue_alerts(db)
        counts = invitations.deliver(db)
    _report("invitation", counts)


@invitations_cli.command("remind")
def remind_command() -> None:
    """Email one reminder to each invited client whose appointment is within
    SCREENING_REMIND_HOURS (48) and who has not answered; print how many were sent.

    Example: flask --app screening invitations remind
    """
    _mail_ready()
    with database() as db:
        invitations.queue_reminders(db)
        invitations.queue_alerts(db)
        counts = invitations.deliver(db)
    _report("reminder", counts)


def init_app(app: Flask) -> None:
    app.cli.add_command(appointments_cli)
    app.cli.add_command(invitations_cli)
