"""Appointments for tests: book one, open its invitation link, walk the wizard from it."""

from __future__ import annotations

import datetime as dt
import re

from helpers import TODAY, csrf_token, form_data, revision, valid_answers

DOB = "1983-11-05"


def book(app, days: int = 1, **fields) -> tuple[int, str]:
    """Book an appointment `days` from today (checks skipped: a past day is allowed);
    return its id and its invitation link's path."""
    from screening import invitations
    from screening.store import appointments, get_db

    booking = {
        "name": "Ana María Pérez",
        "date_of_birth": DOB,
        "email": "ana@example.com",
        "phone": "555 0123",
        "appointment_date": (TODAY + dt.timedelta(days=days)).isoformat(),
        "appointment_time": None,
        **fields,
    }
    with app.test_request_context():
        db = get_db()
        [appointment_id], _ = invitations.book(db, [booking])
        row = appointments.get(db, appointment_id)
        return appointment_id, "/i/" + invitations.token_for(row["link_nonce"])


def answers_for(app, appointment_id: int, **overrides) -> dict:
    """Valid answers whose identity matches the appointment."""
    from helpers import rows

    [row] = rows(app, "SELECT * FROM appointments WHERE id = ?", [appointment_id])
    identity = {
        "full_name": row["client_name"],
        "signature": row["client_name"],
        "date_of_birth": row["date_of_birth"],
        "appointment_date": row["appointment_date"],
    }
    return valid_answers(**{**identity, **overrides})


def open_link(client, path: str, date_of_birth: str = DOB):
    """Open an invitation link and answer its date-of-birth question; the response."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(
        path, data={"csrf_token": csrf_token(page.text), "date_of_birth": date_of_birth}
    )


def post_step(client, qn, section, answers: dict):
    page = client.get(f"/step/{section.id}")
    assert page.status_code == 200, page.status_code
    data = form_data(section.step_questions, answers)
    data.update({"csrf_token": csrf_token(page.text), "rev": revision(page.text), "nav": "next"})
    return client.post(f"/step/{section.id}", data=data)


def submit_review(client, qn, answers: dict):
    page = client.get("/review")
    assert page.status_code == 200, page.status_code
    key = re.search(r'name="submit_key"[^>]*value="([^"]*)"', page.text) or re.search(
        r'id="submit_key"[^>]*value="([^"]*)"', page.text
    )
    data = form_data(qn.review_questions, answers)
    data.update(
        {
            "csrf_token": csrf_token(page.text),
            "submit_key": key.group(1),
            "rev": revision(page.text),
        }
    )
    return client.post("/review", data=data)


def answer_by_link(app, path: str, answers: dict) -> None:
    """Open the link in a new browser, pass the check, answer every step and submit."""
    client = app.test_client()
    assert open_link(client, path, answers["date_of_birth"]).status_code == 302
    qn = app.extensions["questionnaire"]
    for section in qn.steps:
        assert post_step(client, qn, section, answers).status_code == 302, section.id
    assert submit_review(client, qn, answers).status_code == 302
