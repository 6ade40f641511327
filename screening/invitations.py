"""Before the visit: personal invitation links, and the email that carries them.

A link is `<BASE_URL>/i/<token>`. The token is an HMAC (SECRET_KEY) of the appointment's
random 128-bit nonce: the database keeps the nonce and the token's sha256, never the token,
yet the app can show the same link again (copy link, QR code, the reminder). Email is
queued in the outbox here and sent by `deliver`, from the CLI or the worker thread that
`init_app` starts; log lines name outbox and appointment ids, never an address.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
import threading
from typing import Any

import sqlite_utils
from flask import Flask, current_app, has_request_context, request

from . import i18n
from .content import questionnaire, today
from .output import mail
from .store import appointments as store
from .store import get_db, outbox, transaction

log = logging.getLogger(__name__)

ALERT_OUTCOMES = ("refer", "defer")
REMIND_AFTER_INVITE_HOURS = 12  # no reminder right on the heels of its invitation
MAX_ATTEMPTS = 8  # about 2 hours of tries: 1, 2, 4, 8, 16, 32, 60 minutes apart
BACKOFF_CAP = dt.timedelta(hours=1)


# Links ------------------------------------------------------------------------------------


def _key() -> bytes:
    key = current_app.config["SECRET_KEY"]
    return key if isinstance(key, bytes) else str(key).encode()


def token_for(nonce: str) -> str:
    """The link token of an appointment's nonce (256 bits, URL-safe)."""
    digest = hmac.new(_key(), b"invitation-link\0" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_link() -> tuple[str, str]:
    """(nonce, token hash) for a new appointment's link."""
    nonce = secrets.token_hex(16)
    return nonce, store.hash_token(token_for(nonce))


def base_url() -> str:
    """Where clients reach the app: BASE_URL, else (on a staff page) the address in use."""
    base = current_app.config.get("BASE_URL") or ""
    if not base and has_request_context():
        base = request.url_root
    return base.rstrip("/")


def link(appointment: dict, language: str | None = None) -> str:
    """The appointment's personal link; with a `language` other than the clinic's it opens
    the pages in that language (`?lang=es`: a language, never an answer)."""
    url = f"{base_url()}/i/{token_for(appointment['link_nonce'])}"
    if language and language != i18n.clinic_language():
        url += f"?lang={language}"
    return url


def known_language(db: sqlite_utils.Database, appointment: dict) -> str | None:
    """The client's language when known: the appointment's own, else the language of the
    client's last submission (the same name and date of birth, as a walk-in is matched to
    an appointment); None when neither is one the app has."""
    known = i18n.languages()
    if appointment.get("language") in known:
        return appointment["language"]
    earlier = store.last_language(db, appointment["name_key"], appointment["date_of_birth"])
    return earlier if earlier in known else None


def language_for(db: sqlite_utils.Database, appointment: dict) -> str:
    """The language of an appointment's emails: the client's when known, else the clinic's."""
    return known_language(db, appointment) or i18n.clinic_language()


def valid_until(appointment: dict) -> dt.date:
    """A link works until the end of its appointment's day."""
    return dt.date.fromisoformat(appointment["appointment_date"])


def find(token: str) -> dict | None:
    """The appointment of a link token (any string a visitor typed), or None."""
    if not token or len(token) > 100:
        return None
    return store.by_token_hash(get_db(), store.hash_token(token))


def identity_answers(appointment: dict) -> dict[str, Any]:
    """The wizard's identity answers taken from the appointment (those the questionnaire
    asks and that pass its checks), so the client does not type them again."""
    qn = questionnaire()
    ident = qn.identity
    values = {
        ident.name: appointment["client_name"],
        ident.date_of_birth: appointment["date_of_birth"],
        ident.appointment_date: appointment["appointment_date"],
        ident.phone: appointment.get("phone"),
    }
    answers = {qid: v for qid, v in values.items() if qid and v}
    return {
        qid: v for qid, v in answers.items() if qn.questions[qid].check(v, answers, today()) is None
    }


# Booking ----------------------------------------------------------------------------------


def book(
    db: sqlite_utils.Database, bookings: list[dict], created_by: int | None = None
) -> tuple[list[int], int]:
    """Store checked bookings in one transaction: (new appointment ids, how many were booked
    already: same name, date of birth and day)."""
    added, skipped = [], 0
    with transaction(db):
        for booking in bookings:
            if store.find_booked(
                db, booking["name"], booking["date_of_birth"], booking["appointment_date"]
            ):
                skipped += 1
                continue
            nonce, token_hash = new_link()
            added.append(store.add(db, booking, nonce, token_hash, created_by))
    return added, skipped


# Queueing ---------------------------------------------------------------------------------


def _clinic_now() -> dt.datetime:
    """The clinic's current local time, on today() (which SCREENING_TODAY may set)."""
    clock = dt.datetime.now()
    return dt.datetime.combine(today(), clock.time())


def _starts(appointment: dict) -> dt.datetime:
    day = dt.date.fromisoformat(appointment["appointment_date"])
    time = appointment.get("appointment_time")
    return dt.datetime.combine(day, dt.time.fromisoformat(time) if time else dt.time.min)


def queue_invitation(db: sqlite_utils.Database, appointment: dict, again: bool = False) -> bool:
    """Queue an appointment's invitation (once; `again` queues a resend). False when it has
    no email address, was queued before, or a message for it is still waiting."""
    if not appointment.get("email"):
        return False
    key = f"invitation:{appointment['id']}"
    if again:
        if outbox.pending_for(db, appointment["id"]):
            return False
        key += f":again:{secrets.token_hex(4)}"
    language = language_for(db, appointment)
    message = mail.invitation(appointment, link(appointment, language), language)
    return outbox.enqueue(db, "invitation", key, message, appointment["id"])


def queue_invitations(db: sqlite_utils.Database, day: dt.date | None = None) -> int:
    """Queue every invitation not queued yet: for `day`, or every upcoming appointment."""
    if day is not None and day < today():
        return 0
    rows = store.to_invite(db, day or today(), day)
    return sum(queue_invitation(db, row) for row in rows)


def queue_reminders(db: sqlite_utils.Database) -> int:
    """Queue one reminder for each invited client whose appointment is within REMIND_HOURS
    and who has not submitted."""
    hours = float(current_app.config["REMIND_HOURS"])
    clock = _clinic_now()
    last = (clock + dt.timedelta(hours=hours)).date()
    invited_before = (
        dt.datetime.now(dt.UTC) - dt.timedelta(hours=REMIND_AFTER_INVITE_HOURS)
    ).replace(microsecond=0)
    count = 0
    for row in store.to_remind(db, today(), last, invited_before.isoformat()):
        starts = _starts(row)
        if starts - clock > dt.timedelta(hours=hours):
            continue
        if row.get("appointment_time") and starts < clock:
            continue  # it has begun
        language = language_for(db, row)
        message = mail.reminder(row, link(row, language), language)
        count += outbox.enqueue(db, "reminder", f"reminder:{row['id']}", message, row["id"])
    return count


def _alert_to() -> list[str]:
    value = current_app.config.get("ALERT_TO") or []
    if isinstance(value, str):
        value = value.split(",")
    return [a.strip() for a in value if str(a).strip()]


def queue_alerts(db: sqlite_utils.Database) -> int:
    """Queue an alert to ALERT_TO for each refer or defer submission that arrived within
    ALERT_HOURS of its appointment."""
    to = _alert_to()
    if not to:
        return 0
    window = dt.timedelta(hours=float(current_app.config["ALERT_HOURS"]))
    count = 0
    for row in store.to_alert(db, today(), ALERT_OUTCOMES):
        arrived = dt.datetime.fromisoformat(row["submitted_at"]).astimezone().replace(tzinfo=None)
        if _starts(row) - arrived > window:
            continue
        staff_link = f"{base_url()}/staff/submissions/{row['submission_id']}"
        message = mail.alert(row, staff_link, to)
        count += outbox.enqueue(
            db, "alert", f"alert:{row['id']}:{row['submission_id']}", message, row["id"]
        )
    return count


# Sending ----------------------------------------------------------------------------------


def retry_delay(attempts: int) -> dt.timedelta | None:
    """How long to wait after the n-th failed try, or None to give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return min(dt.timedelta(minutes=2 ** (attempts - 1)), BACKOFF_CAP)


def deliver(db: sqlite_utils.Database) -> dict[str, int]:
    """Send every due message in the outbox; count what was sent and what failed, by kind
    ("invitation", "reminder", "alert", and "failed")."""
    config = current_app.config
    counts = {"invitation": 0, "reminder": 0, "alert": 0, "failed": 0}
    while rows := outbox.claim(db):
        failed = 0
        for row, error in mail.send(rows, config):
            if error is None:
                outbox.mark_sent(db, row)
                counts[row["kind"]] += 1
                log.info(
                    "mail: sent outbox %s (%s, appointment %s)",
                    row["id"],
                    row["kind"],
                    row["appointment_id"],
                )
                continue
            what, may_retry = mail.failure(error)
            delay = retry_delay(row["attempts"] + 1) if may_retry else None
            outbox.mark_failed(db, row, what, delay)
            counts["failed"] += 1
            failed += 1
            log.warning(
                "mail: outbox %s (%s, appointment %s) try %s failed: %s; %s",
                row["id"],
                row["kind"],
                row["appointment_id"],
                row["attempts"] + 1,
                what,
                f"next try in {delay}" if delay else "given up",
            )
        if failed == len(rows):
            break  # nothing got through: the server is down, leave the rest for later
    return counts


def work_once(app: Flask) -> dict[str, int]:
    """One round of the worker: queue due alerts, send what is due."""
    with app.app_context():
        db = get_db()
        queue_alerts(db)
        return deliver(db)


# The worker thread --------------------------------------------------------------------------


class Worker:
    """Works the outbox every MAIL_POLL_SECONDS in each server process, and at once when a
    view queues a message. Claims make several processes safe together."""

    def __init__(self, app: Flask):
        self.app = app
        self.wake_up = threading.Event()
        self.pid = os.getpid()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="screening-mail", daemon=True)

    def stop(self) -> None:
        """End the thread after its current round (tests; a server just exits)."""
        self.stopping = True
        self.wake_up.set()
        self.thread.join(timeout=30)

    def _run(self) -> None:
        seconds = float(self.app.config["MAIL_POLL_SECONDS"])
        while not self.stopping:
            try:
                work_once(self.app)
            except Exception as exc:  # noqa: BLE001 - the thread must live; rows are tried again
                log.error("mail: worker round failed: %s", type(exc).__name__)
            self.wake_up.wait(seconds)
            self.wake_up.clear()


def wake() -> None:
    """Ask this process's worker (if any) to send now: a view just queued a message."""
    worker = current_app.extensions.get("mail_worker")
    if worker is not None and worker.pid == os.getpid():
        worker.wake_up.set()


def _worker_wanted(app: Flask) -> bool:
    wanted = app.config.get("MAIL_WORKER")
    if wanted is None:
        return bool(app.config.get("SMTP_URL")) and not app.testing
    return bool(wanted)


def _start_worker(app: Flask) -> None:
    """Start the worker on a process's first request: after gunicorn forks, never in a CLI
    command, and once per process."""
    worker = app.extensions.get("mail_worker")
    if worker is not None and worker.pid == os.getpid():
        return
    with _starting:
        worker = app.extensions.get("mail_worker")
        if worker is None or worker.pid != os.getpid():
            worker = app.extensions["mail_worker"] = Worker(app)
            worker.thread.start()
            log.info("mail: outbox worker started in process %s", worker.pid)


_starting = threading.Lock()


def init_app(app: Flask) -> None:
    """Check the mail settings (a wrong SMTP_URL stops start-up) and arrange the worker."""
    if app.config.get("SMTP_URL"):
        try:
            mail.check_settings(app.config)
        except mail.MailError as exc:
            raise SystemExit(f"screening: cannot start: {exc}") from None
    if _worker_wanted(app):
        app.before_request(lambda: _start_worker(app))
