"""Emails in the client's language (issue 21), through a real SMTP server (aiosmtpd): the
appointment's language when the front desk gives it (form, CSV, command), else the language
of the client's last visit (same name and date of birth), else the clinic's. The emailed
link opens the pages in that language too."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date
from booking import DOB, book, open_link
from helpers import TODAY, Wizard, csrf_token, rows, valid_answers
from test_mail import BASE, backdate_invitations, run

from screening.output.display import long_date

IN_TWO_DAYS = TODAY + dt.timedelta(days=2)
SPANISH_DAY = format_date(IN_TWO_DAYS, "EEEE d 'de' MMMM 'de' y", locale="es")


def test_a_spanish_appointment_gets_its_invitation_and_reminder_in_spanish(mail_app, smtp):
    _, spanish = book(mail_app, days=2, email="ana@example.com", language="es")
    _, english = book(mail_app, days=2, name="Dana Lee", email="dana@example.com")
    assert run(mail_app, "invitations", "send").output.strip() == "Sent 2 invitations."
    by_to = {m.recipients[0]: m for m in smtp.wait_for(2)}
    es, en = by_to["ana@example.com"], by_to["dana@example.com"]
    assert es.subject == f"Antes de su visita del {SPANISH_DAY}"
    assert "Hola, Ana María Pérez:" in es.text
    assert f"Su visita a Skin Clinic es el {SPANISH_DAY}." in es.text
    assert "Llámenos al 555 0100" in es.text and "Responda las preguntas aquí:" in es.text
    assert '<html lang="es">' in es.html and "Responder las preguntas" in es.html
    assert f"<strong>{SPANISH_DAY}</strong>" in es.html
    assert BASE + spanish + "?lang=es" in es.text and BASE + spanish + "?lang=es" in es.html
    for english_words in ("Hello", "Before your visit", "questions", "Call us"):
        assert english_words not in es.everything, english_words
    assert en.subject == f"Before your visit on {long_date(IN_TWO_DAYS)}"
    assert "Hello Dana Lee," in en.text and '<html lang="en">' in en.html
    assert BASE + english in en.text and "?lang=" not in en.text

    backdate_invitations(mail_app)
    assert run(mail_app, "invitations", "remind").output.strip() == "Sent 2 reminders."
    reminders = {m.recipients[0]: m for m in smtp.wait_for(4)[2:]}
    es, en = reminders["ana@example.com"], reminders["dana@example.com"]
    assert es.subject == f"Recordatorio: unas preguntas antes del {SPANISH_DAY}"
    assert "todavía no recibimos sus respuestas" in es.text and "Hola, Ana María Pérez:" in es.html
    assert BASE + spanish + "?lang=es" in es.text
    assert "not received" not in es.everything
    assert en.subject == f"Reminder: a few questions before {long_date(IN_TWO_DAYS)}"
    assert "we have not received your answers" in en.text


def test_a_time_and_the_day_are_in_spanish_in_the_body(mail_app, smtp):
    book(mail_app, days=2, email="ana@example.com", language="es", appointment_time="09:30")
    run(mail_app, "invitations", "send")
    [message] = smtp.wait_for(1)
    assert f"es el {SPANISH_DAY} a las 09:30." in message.text


def test_without_a_language_the_last_visit_decides(mail_app, smtp):
    """A client who answered in Spanish before (same name and date of birth) is emailed in
    Spanish; a namesake with another date of birth is not."""
    client = mail_app.test_client()
    client.get("/?lang=es")
    answers = valid_answers(appointment_date=None)
    wizard = Wizard(client, mail_app)
    wizard.walk(answers)
    assert wizard.submit(answers).status_code == 302
    assert rows(mail_app, "SELECT language FROM submissions") == [{"language": "es"}]
    _, returning = book(
        mail_app, days=2, email="ana@example.com", date_of_birth=answers["date_of_birth"]
    )
    book(mail_app, days=2, name="ana maría  PÉREZ", email="other@example.com", date_of_birth=DOB)
    # The front desk's word beats the last visit's.
    book(
        mail_app,
        days=3,
        name="Ana María Pérez",
        email="told@example.com",
        date_of_birth=answers["date_of_birth"],
        language="en",
    )
    run(mail_app, "invitations", "send")
    by_to = {m.recipients[0]: m for m in smtp.wait_for(3)}
    assert by_to["ana@example.com"].subject.startswith("Antes de su visita del")
    assert BASE + returning + "?lang=es" in by_to["ana@example.com"].text
    assert by_to["other@example.com"].subject.startswith("Before your visit on")
    assert by_to["told@example.com"].subject.startswith("Before your visit on")


def test_the_emailed_link_opens_the_questions_in_spanish(mail_app, smtp):
    _, path = book(mail_app, days=2, email="ana@example.com", language="es")
    run(mail_app, "invitations", "send")
    [message] = smtp.wait_for(1)
    emailed = message.text.split(BASE, 1)[1].split()[0]
    assert emailed == path + "?lang=es"
    client = mail_app.test_client()
    page = client.get(emailed)
    assert '<html lang="es">' in page.text and "Su fecha de nacimiento" in page.text
    opened = open_link(client, emailed)
    assert opened.status_code == 302
    step = client.get("/step/about", follow_redirects=True)
    assert '<html lang="es">' in step.text
    # The same link copied from the staff page (no ?lang=) continues in the appointment's
    # language after the date of birth, whatever the browser says.
    other = mail_app.test_client()
    assert open_link(other, path).status_code == 302
    step = other.get("/step/about", headers={"Accept-Language": "en"})
    assert '<html lang="es">' in step.text


def test_the_language_is_given_in_a_schedule_and_checked(app, runner, tmp_path):
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    header = "name,date_of_birth,email,phone,appointment_date,appointment_time,language"
    path = tmp_path / "schedule.csv"
    path.write_text(
        f"{header}\nAna,{DOB},ana@example.com,,{tomorrow},,ES\nBo,{DOB},bo@example.com,,"
        f"{tomorrow},,\nCy,{DOB},cy@example.com,,{tomorrow},,fr\n",
        encoding="utf-8",
    )
    bad = runner.invoke(args=["appointments", "import", str(path)])
    assert bad.exit_code == 1
    assert "line 4: language: not a language the questions are in (en, es)" in bad.output
    assert rows(app, "SELECT * FROM appointments") == []
    path.write_text("\n".join(path.read_text().splitlines()[:3]) + "\n", encoding="utf-8")
    good = runner.invoke(args=["appointments", "import", str(path)])
    assert good.exit_code == 0, good.output
    assert rows(app, "SELECT client_name, language FROM appointments ORDER BY id") == [
        {"client_name": "Ana", "language": "es"},
        {"client_name": "Bo", "language": None},
    ]
    # The old header, without the column, still imports.
    old = tmp_path / "old.csv"
    old.write_text(f"{header.rsplit(',', 1)[0]}\nCy,{DOB},cy@example.com,,{tomorrow},\n")
    assert runner.invoke(args=["appointments", "import", str(old)]).exit_code == 0


def test_the_front_desk_gives_the_language_when_adding_an_appointment(app, staff):
    desk = staff("front_desk")
    page = desk.get("/staff/appointments")
    assert '<option value="es">Spanish</option>' in page.text
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    data = {
        "csrf_token": csrf_token(page.text),
        "name": "Dana Lee",
        "date_of_birth": DOB,
        "phone": "555 0100",
        "appointment_date": tomorrow,
        "language": "xx",
    }
    wrong = desk.post("/staff/appointments", data=data)
    assert wrong.status_code == 422 and "Not a language the questions are in" in wrong.text
    added = desk.post("/staff/appointments", data={**data, "language": "es"})
    assert added.status_code == 302
    assert rows(app, "SELECT language FROM appointments") == [{"language": "es"}]
