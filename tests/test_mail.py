"""Email through a real SMTP server (aiosmtpd, started by the test): invitations, reminders
and provider alerts, each sent once however often the commands run, with no health
information in any message, retried with backoff, and logged by id only."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from booking import DOB, answer_by_link, answers_for, book, open_link
from helpers import TODAY, csrf_token, log_in, make_user, rows
from smtp_server import SmtpServer, free_port

from screening import create_app
from screening.output.display import long_date

BASE = "https://screening.clinic.example"


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def backdate_invitations(app, hours: float = 13) -> None:
    """As if the invitations went out `hours` ago (reminders wait 12 hours after them)."""
    stamp = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).replace(microsecond=0)
    with app.app_context():
        from screening.store import get_db

        get_db().execute("UPDATE appointments SET invited_at = ?", [stamp.isoformat()])


def test_invitations_send_emails_each_upcoming_invitation_once(mail_app, smtp):
    appointment_id, path = book(mail_app, days=2, email="ana@example.com")
    book(mail_app, days=3, name="Phone Only", email="", phone="555 0111")
    book(mail_app, days=-1, name="Was Yesterday", email="late@example.com")
    result = run(mail_app, "invitations", "send")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Sent 1 invitation."
    [message] = smtp.wait_for(1)
    assert message.recipients == ["ana@example.com"]
    assert message.message["From"] == "Skin Clinic <desk@clinic.example>"
    day = long_date(TODAY + dt.timedelta(days=2))
    assert message.subject == f"Before your visit on {day}"
    for body in (message.text, message.html):
        assert "Skin Clinic" in body and "555 0100" in body and day in body
        assert BASE + path in body
    assert "Hello Ana María Pérez" in message.text
    # Again: nothing new.
    again = run(mail_app, "invitations", "send")
    assert again.exit_code == 0 and again.output.strip() == "Sent 0 invitations."
    assert len(smtp.wait_for(2, timeout=1)) == 1
    [row] = rows(mail_app, "SELECT * FROM outbox")
    assert row["sent_at"] and row["text_body"] is None and row["html_body"] is None  # no link kept
    [appointment] = rows(mail_app, "SELECT * FROM appointments WHERE id = ?", [appointment_id])
    assert appointment["invited_at"] and appointment["status"] == "invited"
    # The emailed link is the appointment's own.
    assert open_link(mail_app.test_client(), path).status_code == 302


def test_invitations_send_for_one_day(mail_app, smtp):
    book(mail_app, days=1, email="one@example.com")
    book(mail_app, days=2, name="Two Days", email="two@example.com")
    day = (TODAY + dt.timedelta(days=2)).isoformat()
    result = run(mail_app, "invitations", "send", "--day", day)
    assert result.output.strip() == "Sent 1 invitation."
    assert [m.recipients for m in smtp.wait_for(1)] == [["two@example.com"]]
    bad = run(mail_app, "invitations", "send", "--day", "tomorrow")
    assert bad.exit_code == 1 and "--day tomorrow: not a date like 2026-11-25" in bad.output


def test_one_reminder_to_invited_clients_who_have_not_answered(mail_app, smtp):
    _, path = book(mail_app, days=1, email="ana@example.com")
    answered_id, answered_path = book(
        mail_app, days=1, name="Already Done", email="done@example.com"
    )
    book(mail_app, days=6, name="Next Week", email="later@example.com")
    run(mail_app, "invitations", "send")
    assert len(smtp.wait_for(3)) == 3
    answer_by_link(mail_app, answered_path, answers_for(mail_app, answered_id))
    # Right after the invitations: no reminder yet.
    assert run(mail_app, "invitations", "remind").output.strip() == "Sent 0 reminders."
    backdate_invitations(mail_app)
    result = run(mail_app, "invitations", "remind")
    assert result.exit_code == 0 and result.output.strip() == "Sent 1 reminder.", result.output
    reminder = smtp.wait_for(4)[3]
    assert reminder.recipients == ["ana@example.com"]
    assert reminder.subject.startswith("Reminder: a few questions before")
    assert BASE + path in reminder.text and "we have not received your answers" in reminder.text
    assert run(mail_app, "invitations", "remind").output.strip() == "Sent 0 reminders."
    assert len(smtp.wait_for(5, timeout=1)) == 4
    assert [r["reminded_at"] is not None for r in rows(mail_app, "SELECT * FROM appointments")] == [
        True,
        False,
        False,
    ]


def test_a_refer_submission_alerts_providers_without_health_information(mail_app, smtp):
    appointment_id, path = book(mail_app, days=1, name="Zephyrine Quillfeather")
    clear_id, clear_path = book(mail_app, days=1, name="Clear Client", email="c@example.com")
    answers = answers_for(
        mail_app,
        appointment_id,
        active_acne=True,
        medications_list="Canarymed 20 mg daily",
        notes="Canary note about scarring",
    )
    answer_by_link(mail_app, path, answers)
    answer_by_link(mail_app, clear_path, answers_for(mail_app, clear_id))
    result = run(mail_app, "invitations", "send")
    assert result.exit_code == 0, result.output
    messages = smtp.wait_for(3)
    alerts = [m for m in messages if m.message["To"].startswith("dr.")]
    [alert] = alerts
    assert alert.recipients == ["dr.lee@clinic.example", "dr.ng@clinic.example"]
    [submission] = rows(
        mail_app, "SELECT id, flags FROM submissions WHERE client_name = 'Zephyrine Quillfeather'"
    )
    day = long_date(TODAY + dt.timedelta(days=1))
    assert alert.subject == f"Screening to review before an appointment on {day}"
    assert f"{BASE}/staff/submissions/{submission['id']}" in alert.text
    assert day in alert.html
    # No health information anywhere in any message: no answer, no flag, no outcome, no name.
    import json

    flags = json.loads(submission["flags"])
    assert flags and flags[0]["severity"] == "refer"
    forbidden = {"Canarymed", "Canary", "scarring", "refer", "acne", DOB}
    for flag in flags:
        forbidden |= {flag["id"], flag["staff_message"], flag.get("client_message") or "x" * 40}
    for message in messages:
        text = message.everything.casefold()
        leaks = [f for f in forbidden if f.casefold() in text]
        assert not leaks, (message.subject, leaks)
    # The alert does not even say whose screening it is (the invitation greets the client).
    assert "zephyrine" not in alert.everything.casefold()
    # Again: no second alert.
    assert run(mail_app, "invitations", "send").exit_code == 0
    assert len(smtp.wait_for(len(messages) + 1, timeout=1)) == len(messages)


def test_no_alert_for_a_refer_long_before_its_appointment(mail_app, smtp):
    appointment_id, path = book(mail_app, days=10, email="")
    answer_by_link(mail_app, path, answers_for(mail_app, appointment_id, active_acne=True))
    assert run(mail_app, "invitations", "send").output.strip() == "Sent 0 invitations."
    assert smtp.wait_for(1, timeout=1) == []


def test_a_server_that_cannot_be_reached_is_tried_again_later(mail_app, smtp, caplog):
    caplog.set_level(logging.INFO, logger="screening")
    mail_app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nothing listens
    appointment_id, _ = book(mail_app, days=1, email="zephyrine@example.com")
    result = run(mail_app, "invitations", "send")
    assert result.exit_code == 1
    assert "1 message(s) could not be sent now; each is tried again later" in result.output
    [row] = rows(mail_app, "SELECT * FROM outbox")
    assert row["attempts"] == 1 and row["sent_at"] is None and row["failed_at"] is None
    assert row["last_error"] == "ConnectionRefusedError"
    wait = dt.datetime.fromisoformat(row["next_try_at"]) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(seconds=30) < wait <= dt.timedelta(minutes=1)
    # Not due yet: a second run does not hammer the server, and queues nothing new.
    assert run(mail_app, "invitations", "send").output.startswith("Sent 0 invitations.")
    assert rows(mail_app, "SELECT attempts FROM outbox")[0]["attempts"] == 1
    # The server is back and the row is due: it goes out, once.
    mail_app.config["SMTP_URL"] = smtp.url
    with mail_app.app_context():
        from screening.store import get_db

        get_db().execute("UPDATE outbox SET next_try_at = '2000-01-01T00:00:00+00:00'")
    assert run(mail_app, "invitations", "send").output.strip() == "Sent 1 invitation."
    assert [m.recipients for m in smtp.wait_for(1)] == [["zephyrine@example.com"]]
    log = "\n".join(r.getMessage() for r in caplog.records)
    assert f"outbox {row['id']}" in log and f"appointment {appointment_id}" in log
    assert "zephyrine" not in log.casefold() and "@" not in log


def test_the_backoff_doubles_up_to_an_hour_then_gives_up():
    from screening.invitations import MAX_ATTEMPTS, retry_delay

    delays = [retry_delay(n) for n in range(1, MAX_ATTEMPTS + 1)]
    assert delays[:3] == [dt.timedelta(minutes=m) for m in (1, 2, 4)]
    assert max(d for d in delays if d) == dt.timedelta(hours=1)
    assert delays[-1] is None


def test_a_refused_address_is_given_up_and_logged_without_it(mail_app, smtp, caplog):
    caplog.set_level(logging.INFO, logger="screening")
    smtp.refuse.add("nobody@example.com")
    book(mail_app, days=1, email="nobody@example.com")
    book(mail_app, days=1, name="Other Client", email="ok@example.com")
    result = run(mail_app, "invitations", "send")
    assert "Sent 1 invitation." in result.output and result.exit_code == 1
    [failed] = rows(mail_app, "SELECT * FROM outbox WHERE sent_at IS NULL")
    assert failed["failed_at"] and failed["last_error"] == "recipient refused (550)"
    assert "nobody" not in "\n".join(r.getMessage() for r in caplog.records)


def test_smtp_login_with_user_and_password_in_the_url(tmp_path):
    from screening.store import init_db

    server = SmtpServer(login=("desk@clinic.example", "p@ss:word/1")).start()
    try:
        init_db(tmp_path / "s.db")
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "k",
                "DATABASE": str(tmp_path / "s.db"),
                "SMTP_URL": f"smtp://desk%40clinic.example:p%40ss%3Aword%2F1@127.0.0.1:{server.port}",
                "MAIL_FROM": "desk@clinic.example",
                "BASE_URL": BASE,
            }
        )
        book(app, days=1)
        assert run(app, "invitations", "send").output.strip() == "Sent 1 invitation."
        assert len(server.wait_for(1)) == 1 and server.logins == ["desk@clinic.example"]
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"SMTP_URL": "http://mail.example"}, "SMTP_URL must look like smtp://host"),
        ({"SMTP_URL": "smtp://mail.example:port"}, "SMTP_URL: the port is not a number"),
        ({"SMTP_URL": "smtp://mail.example", "MAIL_FROM": ""}, "MAIL_FROM must be an address"),
        ({"SMTP_URL": "smtp://mail.example", "BASE_URL": ""}, "BASE_URL must be the address"),
    ],
)
def test_wrong_mail_settings_stop_start_up_with_one_clear_line(tmp_path, settings, message):
    config = {"TESTING": True, "SECRET_KEY": "k", "DATABASE": str(tmp_path / "s.db")}
    with pytest.raises(SystemExit) as stopped:
        create_app({**config, "MAIL_FROM": "desk@clinic.example", "BASE_URL": BASE, **settings})
    assert str(stopped.value).startswith("screening: cannot start: ") and message in str(
        stopped.value
    )


def test_commands_say_which_setting_is_missing(app):
    result = run(app, "invitations", "send")
    assert result.exit_code == 1 and "cannot send email: SMTP_URL must look like" in result.output
    app.config.update(SMTP_URL="smtp://127.0.0.1", MAIL_FROM="desk@clinic.example")
    result = run(app, "invitations", "remind")
    assert result.exit_code == 1
    assert "cannot send email: BASE_URL must be the address clients open links at" in (
        result.output
    )


def test_the_worker_thread_sends_what_the_front_desk_queues(tmp_path, smtp):
    from screening.store import init_db

    init_db(tmp_path / "s.db")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k",
            "DATABASE": str(tmp_path / "s.db"),
            "SMTP_URL": smtp.url,
            "MAIL_FROM": "desk@clinic.example",
            "BASE_URL": BASE,
            "MAIL_WORKER": True,
            "MAIL_POLL_SECONDS": 600,  # only a wake-up can make it send within the test
        }
    )
    make_user(app, "frank", "front_desk")
    desk = app.test_client()
    log_in(desk, "frank")
    try:
        page = desk.get("/staff/appointments")
        response = desk.post(
            "/staff/appointments",
            data={
                "csrf_token": csrf_token(page.text),
                "name": "Walk Up",
                "date_of_birth": DOB,
                "email": "walk.up@example.com",
                "appointment_date": (TODAY + dt.timedelta(days=1)).isoformat(),
                "send_now": "y",
            },
        )
        assert response.status_code == 302
        [message] = smtp.wait_for(1)
        assert message.recipients == ["walk.up@example.com"]
        link = re.search(rf"{re.escape(BASE)}(/i/\S+)", message.text).group(1)
        assert open_link(app.test_client(), link).status_code == 302
    finally:
        app.extensions["mail_worker"].stop()
