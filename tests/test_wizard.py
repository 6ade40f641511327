"""The client wizard through the Flask test client, on a real SQLite file."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3

import pytest
from helpers import TODAY, csrf_token, revision, rows, valid_answers


def test_full_walk_to_submit_stores_typed_answers(wizard, app, client):
    answers = valid_answers(cold_sores=True, cold_sore_now=False, notes="Line one\nline two")
    wizard.walk(answers)
    response = wizard.submit(answers)
    assert response.status_code == 302 and response.location.endswith("/done")
    done = client.get("/done")
    assert "your answers were sent" in done.text
    assert "SPF 30" in done.text  # pre-care always shown
    [row] = rows(app, "SELECT * FROM submissions")
    assert row["status"] == "submitted"
    assert row["client_name"] == "Ana María Pérez"
    assert row["appointment_date"] == answers["appointment_date"]
    stored = json.loads(row["answers"])
    assert stored["cold_sore_now"] is False and stored["active_acne"] is False
    assert stored["treatment_areas"] == ["full_face"] and stored["recent_procedures"] == []
    assert stored["notes"] == "Line one\nline two" and stored["medications_list"] is None
    assert stored["attest"] is True and set(stored) == set(
        app.extensions["questionnaire"].questions
    )
    assert row["rules_version"] and row["outcome"]


def test_progress_indicator_names_the_step(wizard, client):
    wizard.start()
    page = client.get("/step/skin")  # not reachable yet: sent back to the first step
    assert page.status_code == 302 and page.location.endswith("/step/about")
    page = client.get("/step/about")
    assert "Step 1 of 7" in page.text and 'aria-current="step">About you' in page.text


def test_the_draft_cookie_is_renewed_by_each_save_not_by_each_page_view(wizard, app, client):
    """The draft lives DRAFT_HOURS from its last save; its cookie must live as long."""
    from email.utils import parsedate_to_datetime

    def expiry(response):
        cookie = next(
            c for c in response.headers.getlist("Set-Cookie") if c.startswith("screening=")
        )
        return parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))

    started = expiry(wizard.start())
    client.get("/step/about")  # the first form page adds its CSRF token to the session
    page = client.get("/step/about")
    assert page.status_code == 200 and not page.headers.getlist("Set-Cookie")
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(hours=30)  # a later clock, in effect
    saved = wizard.post_step("about", valid_answers())
    assert saved.status_code == 302
    assert expiry(saved) - started >= dt.timedelta(hours=5, minutes=59)
    back = wizard.post_step("skin", {"active_acne": True}, nav="back")  # incomplete, kept
    assert back.status_code == 302 and expiry(back) >= expiry(saved)


def test_resume_from_a_new_request_with_the_same_cookie(wizard, app, client):
    answers = valid_answers()
    wizard.start()
    wizard.post_step("about", answers)
    wizard.post_step("skin", answers)
    # Later (the browser was closed): the same cookie continues where the client left off.
    again = app.test_client()
    again.set_cookie("screening", client.get_cookie("screening").value)
    start = again.get("/")
    assert "Continue my answers" in start.text
    resume = again.get("/continue")
    assert resume.location.endswith("/step/products")
    about = again.get("/step/about")
    assert 'value="Ana María Pérez"' in about.text


def test_a_draft_older_than_24_hours_is_not_resumed(wizard, app, client):
    wizard.start()
    wizard.post_step("about", valid_answers())
    conn = sqlite3.connect(app.config["DATABASE"])
    conn.execute(
        "UPDATE submissions SET updated_at = ?",
        [(dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)).isoformat()],
    )
    conn.commit()
    conn.close()
    page = client.get("/step/skin")
    assert page.status_code == 410 and "Please start again" in page.text
    assert "Ana María" not in page.text


def test_client_pages_are_not_stored_by_the_browser(wizard, client):
    wizard.start()
    for url in ("/", "/step/about", "/done"):
        response = client.get(url)
        assert response.headers["Cache-Control"] == "no-store", url


def test_token_never_appears_in_urls_or_pages(wizard, client, app):
    response = wizard.start()
    assert "draft" not in response.location
    page = client.get("/step/about")
    token_hash = rows(app, "SELECT token_hash FROM submissions")[0]["token_hash"]
    assert token_hash not in page.text


BAD_VALUES = [
    # (section, question id, bad form value, words the message must contain)
    ("about", "full_name", "", "Full name"),
    ("about", "full_name", "x" * 201, "200 characters"),
    ("about", "date_of_birth", "30/04/1985", "Date of birth"),
    ("about", "date_of_birth", (TODAY + dt.timedelta(days=1)).isoformat(), "future"),
    ("about", "appointment_date", (TODAY - dt.timedelta(days=1)).isoformat(), "past"),
    ("about", "treatment_areas", [], "Areas to treat"),
    ("about", "treatment_areas", ["knees"], "Areas to treat"),
    ("skin", "active_acne", "maybe", "Active acne"),
    ("skin", "eczema", "acitve", "Eczema"),
    ("products", "medications_list", "y" * 2001, "2,000 characters"),
    ("goals", "concerns", [], "What to improve"),
]


@pytest.mark.parametrize("section, qid, bad, words", BAD_VALUES)
def test_a_bad_value_gets_a_field_error_and_earlier_answers_are_kept(
    wizard, client, app, section, qid, bad, words
):
    answers = valid_answers()
    wizard.start()
    order = [s.id for s in app.extensions["questionnaire"].steps]
    for earlier in order[: order.index(section)]:
        assert wizard.post_step(earlier, answers).status_code == 302
    before = rows(app, "SELECT answers FROM submissions")[0]["answers"]
    page = client.get(f"/step/{section}")
    data = {k: v for k, v in _form(app, section, answers).items() if k != qid}
    data.update(
        {qid: bad, "csrf_token": csrf_token(page.text), "rev": revision(page.text), "nav": "next"}
    )
    posted = client.post(f"/step/{section}", data=data)
    # Post/Redirect/Get: the errors are shown by the page the post redirects to.
    assert posted.status_code == 302 and posted.location.endswith(f"/step/{section}")
    response = client.get(posted.location)
    assert response.status_code == 422
    assert 'id="error-summary"' in response.text and words in response.text
    assert f'id="{qid}-error"' in response.text
    # Everything else the client typed is shown back.
    if section == "about" and qid != "full_name":
        assert 'value="Ana María Pérez"' in response.text
    assert rows(app, "SELECT answers FROM submissions")[0]["answers"] == before


def _form(app, section_id, answers):
    from helpers import form_data

    qn = app.extensions["questionnaire"]
    return form_data(next(s for s in qn.steps if s.id == section_id).step_questions, answers)


def test_show_if_question_appears_only_when_its_condition_holds(wizard, client, app):
    answers = valid_answers()
    wizard.start()
    wizard.post_step("about", answers)
    page = client.get("/step/skin")
    assert 'id="q-cold_sore_now"' in page.text
    assert (
        'data-show-if="{&#34;cold_sores&#34;: &#34;yes&#34;}"\n     \n     hidden' in page.text
        or ("hidden>" in page.text.split('id="q-cold_sore_now"')[1][:200])
    )
    # Without JavaScript: answering yes and sending asks the follow-up question.
    response = wizard.post_step("skin", {**answers, "cold_sores": True}, follow=True)
    assert (
        response.status_code == 422 and "Cold sore now: please choose an answer." in response.text
    )
    response = wizard.post_step("skin", {**answers, "cold_sores": True, "cold_sore_now": True})
    assert response.status_code == 302
    # Changing the trigger back clears the hidden answer.
    wizard.post_step("skin", {**answers, "cold_sores": False, "cold_sore_now": True})
    stored = json.loads(rows(app, "SELECT answers FROM submissions")[0]["answers"])
    assert stored["cold_sores"] is False and "cold_sore_now" not in stored


def test_back_keeps_valid_answers_and_goes_to_the_previous_step(wizard, client, app):
    answers = valid_answers()
    wizard.start()
    wizard.post_step("about", answers)
    response = wizard.post_step("skin", {"active_acne": True}, nav="back")
    assert response.location.endswith("/step/about")
    stored = json.loads(rows(app, "SELECT answers FROM submissions")[0]["answers"])
    assert stored["active_acne"] is True


def test_review_lists_every_answer_with_edit_links(wizard, client):
    answers = valid_answers(medications_list="Vitamin D")
    wizard.walk(answers)
    page = client.get("/review")
    for section in ("about", "skin", "products", "sun", "health", "goals"):
        assert f'href="/step/{section}?next=review"' in page.text
    assert "Vitamin D" in page.text and "Around the eyes" not in page.text
    assert "Full face" in page.text
    born = dt.date.fromisoformat(answers["date_of_birth"])  # dates spelled out for clients
    assert f"<dd>{born.day} {born:%B %Y}</dd>" in page.text
    assert answers["date_of_birth"] not in page.text


def test_change_from_the_review_page_saves_and_returns_there(wizard, client, app):
    answers = valid_answers(medications_list="Vitamin D")
    wizard.walk(answers)
    page = client.get("/step/products?next=review")
    assert "Save and go back to my answers" in page.text
    data = _form(app, "products", {**answers, "medications_list": "Iron"})
    data.update({"csrf_token": csrf_token(page.text), "rev": revision(page.text), "nav": "next"})
    response = client.post("/step/products?next=review", data=data)
    assert response.status_code == 302 and response.location.endswith("/review")
    review = client.get("/review").text
    assert "Iron" in review and "Vitamin D" not in review
    # Back from a step opened by "Change" keeps the way back to the review page.
    data.update({"nav": "back", "rev": revision(client.get("/step/products?next=review").text)})
    response = client.post("/step/products?next=review", data=data)
    assert response.location.endswith("/step/skin?next=review")
    # Walking the wizard from the start still goes step by step.
    assert "Save and continue" in client.get("/step/products").text


@pytest.mark.parametrize(
    "signature, ok",
    [
        ("  ANA   maría pérez ", True),
        ("Ana Maria Perez", True),  # version 2: a phone keyboard types no accents
        ("ana maria perez", True),
        ("Ana Pérez", False),
        ("Ana Maria Perez Lopez", False),
        ("", False),
    ],
)
def test_signature_must_match_the_full_name(wizard, client, app, signature, ok):
    answers = valid_answers(signature=signature)
    wizard.walk(answers)
    response = wizard.submit(answers, follow=True)
    assert (response.status_code == 200 and "your answers were sent" in response.text) is ok
    if not ok:
        assert "Signature" in response.text
        if signature:  # the name to copy is shown, accents and all
            assert "exactly as in “Full name”: Ana María Pérez." in response.text
        assert rows(app, "SELECT status FROM submissions")[0]["status"] == "draft"


def test_attestation_is_required(wizard, client, app):
    answers = valid_answers(attest=None)
    wizard.walk(answers)
    response = wizard.submit(answers, follow=True)
    assert response.status_code == 422 and "Confirmation: please confirm" in response.text


def test_double_tap_stores_one_submission_and_the_token_dies(wizard, client, app):
    answers = valid_answers()
    wizard.walk(answers)
    page = client.get("/review")
    import re

    key = re.search(r'name="submit_key"[^>]*value="([^"]*)"', page.text).group(1)
    cookie = client.get_cookie("screening").value
    data = {
        "csrf_token": csrf_token(page.text),
        "submit_key": key,
        "attest": "yes",
        "signature": answers["full_name"],
        "rev": revision(page.text),
    }
    first = client.post("/review", data=data)
    # The second tap carries the same (old) cookie and the same form.
    other = app.test_client()
    other.set_cookie("screening", cookie)
    second = other.post("/review", data=data)
    assert first.location == second.location and first.location.endswith("/done")
    assert len(rows(app, "SELECT id FROM submissions")) == 1
    # After submitting, the old cookie can no longer reach the draft.
    assert other.get("/step/about").status_code == 410


def test_finishing_replaces_the_session_and_clears_the_cache(wizard, client):
    answers = valid_answers()
    wizard.walk(answers)
    before = client.get_cookie("screening").value
    response = wizard.submit(answers)
    assert "cache" in response.headers["Clear-Site-Data"]
    assert client.get_cookie("screening").value != before
    assert client.get("/step/about").status_code == 410


def test_unknown_step_is_a_polite_404(wizard, client):
    wizard.start()
    response = client.get("/step/nope")
    assert response.status_code == 404 and "Page not found" in response.text


@pytest.mark.parametrize("phone", ["", "020 7946 0000", 5550100])
def test_the_done_page_gives_the_clinic_phone_when_configured(wizard, client, app, phone):
    """The pre-care text asks clients to call to reschedule; the number is where they read it.
    (An all-digit SCREENING_CLINIC_PHONE arrives from the environment as a number.)"""
    app.config["CLINIC_PHONE"] = phone
    answers = valid_answers()
    wizard.walk(answers)
    wizard.submit(answers)
    done = client.get("/done").text
    if phone:
        assert (
            f'Call Skin Clinic on <a href="tel:{str(phone).replace(" ", "")}">{phone}</a>.' in done
        )
    else:
        assert "Call Skin Clinic on" not in done
