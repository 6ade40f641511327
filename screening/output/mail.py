"""Email: invitation, reminder and provider-alert messages from templates/mail/, and sending
them over SMTP (SCREENING_SMTP_URL).

A message carries the clinic's name and phone, a day and a link: never an answer, a flag or
an outcome. Errors are reported by kind only, since an SMTP error's text quotes addresses.
A client's message is written in the client's language (templates and subject under
Flask-Babel's force_locale); a message to staff in the clinic's.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from flask_babel import force_locale, gettext

from ..i18n import clinic_language, spelled_date

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailError(Exception):
    """Mail cannot be sent as configured; the message says which setting to fix."""


@dataclass
class Message:
    to: str
    subject: str
    text: str
    html: str


def _render(kind: str, **context) -> tuple[str, str]:
    """The plain text and HTML bodies of templates/mail/<kind>.txt and .html."""
    config = current_app.config
    context.update(clinic=config["CLINIC_NAME"], clinic_phone=config["CLINIC_PHONE"])
    return (
        render_template(f"mail/{kind}.txt", **context),
        render_template(f"mail/{kind}.html", **context),
    )


def _day(appointment: dict) -> str:
    """The appointment's day in the message's language: jueves 10 de diciembre de 2026."""
    return spelled_date(dt.date.fromisoformat(appointment["appointment_date"]), weekday=True)


def _when(appointment: dict) -> str:
    day = _day(appointment)
    time = appointment.get("appointment_time")
    return gettext("%(day)s at %(time)s", day=day, time=time) if time else day


def invitation(appointment: dict, link: str, language: str | None = None) -> Message:
    """The first email, in `language` (else the clinic's): who we are, when the visit is,
    the personal link."""
    with force_locale(language or clinic_language()):
        when = _when(appointment)
        text, html = _render("invitation", appointment=appointment, when=when, link=link)
        subject = gettext("Before your visit on %(day)s", day=_day(appointment))
    return Message(appointment["email"], subject, text, html)


def reminder(appointment: dict, link: str, language: str | None = None) -> Message:
    """The one reminder to a client who has not answered yet, in `language`: the same link."""
    with force_locale(language or clinic_language()):
        when = _when(appointment)
        text, html = _render("reminder", appointment=appointment, when=when, link=link)
        subject = gettext("Reminder: a few questions before %(day)s", day=_day(appointment))
    return Message(appointment["email"], subject, text, html)


def alert(appointment: dict, staff_link: str, to: list[str]) -> Message:
    """To providers, in the clinic's language: a screening needs review before a close
    appointment (no name, no outcome: the link leads to both, behind the staff login)."""
    with force_locale(clinic_language()):
        when = _when(appointment)
        text, html = _render("alert", when=when, link=staff_link)
    subject = f"Screening to review before an appointment on {when}"
    return Message(", ".join(to), subject, text, html)


def build(row: dict, sender: str) -> EmailMessage:
    """An outbox row as a multipart (plain text + HTML) email."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = row["to_address"]
    msg["Subject"] = row["subject"]
    msg["Date"] = formatdate(localtime=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(row["text_body"])
    msg.add_alternative(row["html_body"], subtype="html")
    return msg


def check_settings(config) -> None:
    """Raise MailError naming the setting when SMTP_URL, MAIL_FROM or BASE_URL (which
    emailed links need) cannot be used."""
    url = config.get("SMTP_URL") or ""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        raise MailError(
            "SMTP_URL must look like smtp://host, smtp+starttls://host:587 or "
            "smtps://user:password@host:465"
        )
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise MailError("SMTP_URL: the port is not a number") from None
    if "@" not in parseaddr(config.get("MAIL_FROM") or "")[1]:
        raise MailError("MAIL_FROM must be an address, e.g. 'Skin Clinic <desk@clinic.example>'")
    if not urlsplit(config.get("BASE_URL") or "").hostname:
        raise MailError(
            "BASE_URL must be the address clients open links at, e.g. "
            "https://screening.clinic.example: emailed links start with it"
        )


def _connect(url: str, timeout: float) -> smtplib.SMTP:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or SCHEMES[scheme]
    context = ssl.create_default_context()
    if scheme == "smtps":
        smtp = smtplib.SMTP_SSL(parts.hostname, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(parts.hostname, port, timeout=timeout)
        if scheme == "smtp+starttls":
            smtp.starttls(context=context)
    if parts.username:
        smtp.login(unquote(parts.username), unquote(parts.password or ""))
    return smtp


def failure(exc: Exception) -> tuple[str, bool]:
    """(what went wrong, without addresses; whether trying again may help)."""
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = {c for c, _ in exc.recipients.values()}
        return f"recipient refused ({', '.join(map(str, sorted(codes)))})", min(codes) < 500
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"authentication failed ({code})", True  # a fixed password helps
    if isinstance(code, int):
        return f"{type(exc).__name__} ({code})", code < 500
    return type(exc).__name__, True


def send(rows: Iterable[dict], config) -> Iterator[tuple[dict, Exception | None]]:
    """Send outbox rows over one SMTP connection; yield each with its error (or None).
    When the server cannot be reached, every row gets that error."""
    rows = list(rows)
    if not rows:
        return
    try:
        smtp = _connect(config["SMTP_URL"], config["SMTP_TIMEOUT"])
    except (OSError, smtplib.SMTPException) as exc:
        for row in rows:
            yield row, exc
        return
    try:
        for row in rows:
            try:
                smtp.send_message(build(row, config["MAIL_FROM"]))
            except (OSError, smtplib.SMTPException) as exc:
                yield row, exc
                # SMTPException is an OSError; a plain OSError means the connection is gone.
                lost = not isinstance(exc, smtplib.SMTPException)
                if lost or isinstance(exc, smtplib.SMTPServerDisconnected):
                    for rest in rows[rows.index(row) + 1 :]:
                        yield rest, exc
                    return
            else:
                yield row, None
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
