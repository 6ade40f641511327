"""Invitation links as a client meets them: the date-of-birth check before anything else,
the pause after 5 wrong answers, expired and tampered links, the draft handed to the session
and continued on another device, and the submission attached to its appointment."""

from __future__ import annotations

import json

from booking import DOB, answer_by_link, answers_for, book, open_link, post_step, submit_review
from helpers import csrf_token, rows, valid_answers


def test_a_link_asks_only_for_the_date_of_birth_first(app, client):
    _, path = book(app, name="Zephyrine Quillfeather", phone="555 0199")
    page = client.get(path)
    assert page.status_code == 200
    assert 'name="date_of_birth"' in page.text
    # Nothing of the booking before the check: not the name, the day or the phone.
    for secret in ("Zephyrine", "Quillfeather", "0199", DOB):
        assert secret not in page.text


def test_the_right_date_of_birth_opens_the_wizard_filled_in_at_an_address_without_the_token(
    app, client
):
    appointment_id, path = book(app, days=3, name="Zephyrine Quillfeather", phone="555 0199")
    token = path.rsplit("/", 1)[1]
    response = open_link(client, path)
    assert response.status_code == 302
    assert token not in response.headers["Location"]
    step = client.get(client.get(response.headers["Location"]).headers["Location"])
    assert step.request.path == "/step/about"
    qn = app.extensions["questionnaire"]
    [row] = rows(app, "SELECT appointment_date FROM appointments WHERE id = ?", [appointment_id])
    for qid, value in (
        (qn.identity.name, "Zephyrine Quillfeather"),
        (qn.identity.date_of_birth, DOB),
        (qn.identity.appointment_date, row["appointment_date"]),
        (qn.identity.phone, "555 0199"),
    ):
        assert f'id="{qid}"' in step.text and f'value="{value}"' in step.text, qid
    # The token is stored only as a hash.
    dump = json.dumps(rows(app, "SELECT * FROM appointments"))
    assert token not in dump
    [opened] = rows(app, "SELECT status, opened_at FROM appointments")
    assert opened["status"] == "opened" and opened["opened_at"]


def test_a_wrong_date_of_birth_is_refused_with_a_clear_message(app, client):
    _, path = book(app)
    response = open_link(client, path, "1980-03-18")
    assert response.status_code == 422
    assert "This date of birth does not match our booking. 4 tries left" in response.text
    assert "Ana" not in response.text
    empty = client.post(path, data={"csrf_token": csrf_token(response.text), "date_of_birth": ""})
    assert empty.status_code == 422 and "Enter your date of birth." in empty.text
    # An empty answer is not a guess: still 4 tries.
    assert rows(app, "SELECT dob_failures FROM appointments")[0]["dob_failures"] == 1


def test_five_wrong_dates_of_birth_pause_the_link_for_15_minutes(app, client):
    appointment_id, path = book(app)
    page = client.get(path)
    token = csrf_token(page.text)
    for n in range(4):
        wrong = client.post(path, data={"csrf_token": token, "date_of_birth": f"1990-01-0{n + 1}"})
        assert wrong.status_code == 422
    fifth = client.post(path, data={"csrf_token": token, "date_of_birth": "1990-01-09"})
    assert fifth.status_code == 429
    assert "This link is paused for a while" in fifth.text and "15 minutes" in fifth.text
    # Even the right answer, even from another browser, waits.
    assert client.get(path).status_code == 429
    other = app.test_client()
    assert other.get(path).status_code == 429
    [audit] = rows(app, "SELECT * FROM audit WHERE action = 'invitation_locked'")
    assert audit["detail"] == f"appointment {appointment_id}"
    # After the pause the right date opens it.
    with app.app_context():
        from screening.store import get_db

        get_db().execute("UPDATE appointments SET locked_until = '2000-01-01T00:00:00+00:00'")
    assert open_link(other, path).status_code == 302


def test_an_expired_link_gets_a_polite_page(app, client):
    _, path = book(app, days=-1)
    response = client.get(path)
    assert response.status_code == 410
    assert "This link has expired" in response.text
    assert "until the end of the day of the appointment" in response.text
    assert 'name="date_of_birth"' not in response.text
    assert "Traceback" not in response.text and "Ana" not in response.text


def test_a_link_works_through_its_appointment_day(app, client):
    _, path = book(app, days=0)
    assert open_link(client, path).status_code == 302


def test_a_tampered_or_odd_link_gets_a_polite_page(app, client):
    _, path = book(app)
    for bad in (path[:-1] + ("A" if path[-1] != "A" else "B"), "/i/x", "/i/" + "a" * 300, "/i/%00"):
        response = client.get(bad)
        assert response.status_code == 404, bad
        assert "This link does not work" in response.text
        assert "Traceback" not in response.text
    page = client.get(path)
    posted = client.post(
        "/i/nothing", data={"csrf_token": csrf_token(page.text), "date_of_birth": DOB}
    )
    assert posted.status_code == 404 and "This link does not work" in posted.text


def test_the_same_link_on_another_device_continues_the_same_draft(app):
    appointment_id, path = book(app)
    qn = app.extensions["questionnaire"]
    answers = answers_for(app, appointment_id)
    phone = app.test_client()
    assert open_link(phone, path).status_code == 302
    for section in qn.steps[:2]:
        assert post_step(phone, qn, section, answers).status_code == 302
    [draft] = rows(app, "SELECT submission_id FROM appointments")
    kiosk = app.test_client()
    response = open_link(kiosk, path)
    assert kiosk.get(response.headers["Location"]).headers["Location"] == (
        f"/step/{qn.steps[2].id}"
    )
    assert rows(app, "SELECT submission_id FROM appointments")[0] == draft
    # One device at a time: the phone's session no longer reaches the draft.
    assert phone.get(f"/step/{qn.steps[2].id}").status_code == 410
    for section in qn.steps[2:]:
        assert post_step(kiosk, qn, section, answers).status_code == 302
    assert submit_review(kiosk, qn, answers).status_code == 302
    [row] = rows(
        app,
        "SELECT a.status, a.submission_id, s.status AS s_status FROM appointments a "
        "JOIN submissions s ON s.id = a.submission_id",
    )
    assert row == {
        "status": "submitted",
        "submission_id": draft["submission_id"],
        "s_status": "submitted",
    }


def test_an_answered_link_says_so_and_shows_nothing(app):
    appointment_id, path = book(app)
    answer_by_link(app, path, answers_for(app, appointment_id, notes="Canary note"))
    again = app.test_client()
    response = open_link(again, path)
    assert response.status_code == 200
    assert "Your answers were received" in response.text
    assert "Canary" not in response.text and "Ana" not in response.text
    assert rows(app, "SELECT count(*) AS n FROM submissions")[0]["n"] == 1  # one per appointment


def test_a_walk_in_whose_name_and_birth_date_match_is_attached(app, wizard):
    appointment_id, _ = book(app, days=0, name="Ana María Pérez", date_of_birth=DOB)
    book(app, days=0, name="Someone Else", date_of_birth="1970-01-01")
    answers = answers_for(app, appointment_id, full_name="  ana maría PÉREZ ")
    wizard.walk(answers)
    assert wizard.submit(answers).status_code == 302
    [submission] = rows(app, "SELECT id FROM submissions WHERE status = 'submitted'")
    [row] = rows(
        app, "SELECT submission_id, status FROM appointments WHERE id = ?", [appointment_id]
    )
    assert row == {"submission_id": submission["id"], "status": "submitted"}
    [audit] = rows(app, "SELECT * FROM audit WHERE action = 'appointment_attach'")
    assert audit["submission_id"] == submission["id"] and audit["detail"].endswith("automatic")
    # A second walk-in with the same name and date is not attached: one per appointment.
    wizard.walk(answers)
    assert wizard.submit(answers).status_code == 302
    assert (
        rows(app, "SELECT count(*) AS n FROM appointments WHERE submission_id IS NOT NULL")[0]["n"]
        == 1
    )


def test_a_walk_in_on_another_day_is_not_attached(app, submitted):
    book(app, days=2)
    submitted(full_name="Ana María Pérez", date_of_birth=DOB)
    assert rows(app, "SELECT submission_id FROM appointments")[0]["submission_id"] is None


def test_a_link_draft_left_too_long_starts_again_filled_in(app):
    appointment_id, path = book(app)
    qn = app.extensions["questionnaire"]
    phone = app.test_client()
    open_link(phone, path)
    post_step(phone, qn, qn.steps[0], answers_for(app, appointment_id))
    with app.app_context():
        from screening.store import get_db

        get_db().execute("UPDATE submissions SET updated_at = '2000-01-01T00:00:00+00:00'")
    later = app.test_client()
    response = open_link(later, path)
    step = later.get(later.get(response.headers["Location"]).headers["Location"])
    assert step.request.path == "/step/about" and 'value="Ana María Pérez"' in step.text
    assert rows(app, "SELECT count(*) AS n FROM submissions")[0]["n"] == 1  # the old one is gone


def test_answers_by_link_never_reach_the_audit_log_or_the_url(app):
    appointment_id, path = book(app)
    answer_by_link(app, path, answers_for(app, appointment_id, notes="Canary note"))
    dump = json.dumps(rows(app, "SELECT * FROM audit"))
    assert "Canary" not in dump and "Ana" not in dump and valid_answers()["phone"] not in dump
