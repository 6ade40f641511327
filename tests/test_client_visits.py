"""Issue 15 through the Flask test client: a post from an older page is not applied, every
post is answered with a redirect (errors included), a kiosk visit ends whole, start over
asks first and cannot be triggered from another site."""

from __future__ import annotations

import json
import random
import re
import time

import pytest
from helpers import Wizard, csrf_token, form_data, revision, rows, valid_answers

from screening import create_app
from screening.store import init_db


def stored(app) -> dict:
    return json.loads(rows(app, "SELECT answers FROM submissions ORDER BY id DESC")[0]["answers"])


def skin_post(app, page_html: str, answers: dict, nav: str = "next") -> dict:
    qn = app.extensions["questionnaire"]
    section = next(s for s in qn.steps if s.id == "skin")
    data = form_data(section.step_questions, answers)
    data.update({"csrf_token": csrf_token(page_html), "rev": revision(page_html), "nav": nav})
    return data


@pytest.mark.parametrize("nav", ["next", "back"])
def test_a_post_from_an_older_page_changes_nothing_and_says_so(wizard, client, app, nav):
    """Finding 1's cause: the page the client sends was rendered before a later save."""
    answers = valid_answers()
    wizard.start()
    wizard.post_step("about", answers)
    wizard.post_step("skin", answers)  # every skin question "No"
    old_page = client.get("/step/skin").text  # rendered from the "No" answers
    newer = {**answers, "cold_sores": True, "cold_sore_now": True}
    assert wizard.post_step("skin", newer).status_code == 302  # saved since (another tab)
    before = stored(app)
    response = client.post("/step/skin", data=skin_post(app, old_page, answers, nav))
    assert response.status_code == 302 and response.location.endswith("/step/skin")
    assert stored(app) == before and before["cold_sores"] is True
    page = client.get("/step/skin")
    assert page.status_code == 200 and "This page was out of date" in page.text
    assert "nothing was changed" in page.text
    assert re.search(r'id="cold_sores-0" name="cold_sores" value="yes" checked', page.text)
    assert re.search(r'id="cold_sore_now-0" name="cold_sore_now" value="yes" checked', page.text)
    # Said once: the next view of the page is the plain step, and its post is applied.
    again = client.get("/step/skin").text
    assert "This page was out of date" not in again
    response = client.post("/step/skin", data=skin_post(app, again, answers))
    assert response.location.endswith("/step/products") and stored(app)["cold_sores"] is False


def test_a_post_without_a_revision_is_not_applied(wizard, client, app):
    answers = valid_answers()
    wizard.start()
    wizard.post_step("about", answers)
    page = client.get("/step/skin").text
    data = skin_post(app, page, answers)
    del data["rev"]
    assert client.post("/step/skin", data=data).location.endswith("/step/skin")
    assert "active_acne" not in stored(app)


def test_a_review_page_from_before_a_change_does_not_send(wizard, client, app):
    """The client signs the answers they saw: not ones changed since in another tab."""
    answers = valid_answers()
    wizard.walk(answers)
    review = client.get("/review").text
    wizard.post_step("skin", {**answers, "active_acne": True})
    key = re.search(r'name="submit_key"[^>]*value="([^"]*)"', review).group(1)
    data = {
        "csrf_token": csrf_token(review),
        "rev": revision(review),
        "submit_key": key,
        "attest": "yes",
        "signature": answers["full_name"],
    }
    response = client.post("/review", data=data)
    assert response.status_code == 302 and response.location.endswith("/review")
    assert rows(app, "SELECT status FROM submissions")[0]["status"] == "draft"
    page = client.get("/review").text
    assert "This page was out of date" in page and "Yes" in page  # active acne now shown


def test_a_step_with_errors_is_shown_by_a_get_with_what_was_typed(wizard, client, app):
    """Finding 4: Post/Redirect/Get, errors included; typed values wait in the session,
    never in the address."""
    wizard.start()
    typed = valid_answers(date_of_birth="30/04/1985", full_name="Typed Person")
    response = wizard.post_step("about", typed)
    assert response.status_code == 302 and response.location == "/step/about"
    page = client.get(response.location)
    assert page.status_code == 422 and "Date of birth: please enter a real date" in page.text
    assert 'value="Typed Person"' in page.text and 'value="30/04/1985"' in page.text
    assert stored(app) == {}  # nothing saved from a page with errors
    # Shown again on a reload, until the step is saved.
    assert "Date of birth: please enter a real date" in client.get("/step/about").text
    saved = wizard.post_step("about", valid_answers(full_name="Typed Person"))
    assert saved.location.endswith("/step/skin")
    page = client.get("/step/about").text
    assert "error-summary" not in page and "30/04/1985" not in page


def test_the_review_page_with_errors_is_shown_by_a_get(wizard, client, app):
    answers = valid_answers()
    wizard.walk(answers)
    response = wizard.submit({**answers, "signature": "Somebody Else"})
    assert response.status_code == 302 and response.location == "/review"
    page = client.get("/review")
    assert page.status_code == 422 and "Signature: please type your name exactly" in page.text
    assert 'value="Somebody Else"' in page.text
    assert wizard.submit(answers).location.endswith("/done")


def test_typed_text_too_large_for_the_cookie_gets_its_errors_at_once(wizard, client, app):
    """A browser drops a cookie over 4 KB (and with it what was typed): such a post gets
    its page with errors in reply, as before, and nothing is lost."""
    answers = valid_answers()
    wizard.start()
    for section in ("about", "skin"):
        wizard.post_step(section, answers)
    chance = random.Random(15)  # text that does not compress: 1,950 CJK characters
    medicines = "".join(chr(chance.randint(0x4E00, 0x9FFF)) for _ in range(1950))
    response = wizard.post_step(
        "products", {**answers, "medications_list": medicines, "isotretinoin": None}
    )
    assert response.status_code == 422 and "Isotretinoin: please choose" in response.text
    assert medicines.strip()[:200] in response.text


def test_start_over_asks_first_and_only_a_post_with_its_token_deletes(app, wizard, client):
    """Findings 5 and 6: GET /start-over (a link, maybe from another site) only asks."""
    app.config["KIOSK"] = True
    wizard.start()
    wizard.post_step("about", valid_answers(full_name="Kept Person"))
    page = client.get("/start-over")
    assert page.status_code == 200 and "Start again?" in page.text
    assert "No, keep my answers" in page.text
    assert len(rows(app, "SELECT id FROM submissions WHERE status = 'draft'")) == 1
    assert client.post("/start-over").status_code == 400  # no token: another site's form
    assert client.get("/start-over/idle").location == "/start-over"  # no token: ask
    assert client.get("/start-over/idle?token=forged").location == "/start-over"
    assert len(rows(app, "SELECT id FROM submissions WHERE status = 'draft'")) == 1
    response = client.post("/start-over", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302 and response.location == "/"
    assert response.headers["Clear-Site-Data"] == '"cache", "cookies"'
    assert rows(app, "SELECT id FROM submissions") == []


@pytest.fixture
def kiosk(tmp_path):
    init_db(tmp_path / "kiosk.db")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k",
            "DATABASE": str(tmp_path / "kiosk.db"),
            "KIOSK": True,
            "KIOSK_IDLE_SECONDS": 180,
            "KIOSK_DONE_SECONDS": 30,
        }
    )
    return app, app.test_client()


def test_kiosk_idle_page_without_javascript_asks_then_ends_the_visit(kiosk):
    app, client = kiosk
    wizard = Wizard(client, app)
    wizard.start()
    wizard.post_step("about", valid_answers(full_name="Idle Person"))
    page = client.get("/step/skin").text
    # Without JavaScript the page refreshes to a page that asks, 30 s before the reset.
    assert '<meta http-equiv="refresh" content="150;url=/start-over?idle=1">' in page
    assert 'data-kiosk-idle="180" data-kiosk-warn="30"' in page
    assert 'id="kiosk-warning"' in page and "I’m still here" in page
    ask = client.get("/start-over?idle=1").text
    assert "Are you still there?" in ask and 'href="/continue"' in ask
    refresh = re.search(r'content="30;url=(/start-over/idle\?token=[^"]+)"', ask)
    assert refresh, "the asking page ends the visit 30 s later"
    assert len(rows(app, "SELECT id FROM submissions")) == 1
    ended = client.get(refresh.group(1).replace("&amp;", "&"))
    assert ended.location == "/" and "cookies" in ended.headers["Clear-Site-Data"]
    assert rows(app, "SELECT id FROM submissions") == []


def test_kiosk_personal_fields_and_forms_do_not_autofill(kiosk, app, wizard, client):
    """Finding 3: name, birth date and phone carry autocomplete="off" on a kiosk (on a
    phone they keep name/bday/tel); every wizard form has autocomplete="off"."""
    kiosk_app, kiosk_client = kiosk
    Wizard(kiosk_client, kiosk_app).start()
    shared = kiosk_client.get("/step/about").text
    wizard.start()
    own = client.get("/step/about").text
    assert 'id="step-form" autocomplete="off"' in shared and 'autocomplete="off"' in own
    for qid, token in (("full_name", "name"), ("date_of_birth", "bday"), ("phone", "tel")):
        tag = re.search(rf'<input [^>]*id="{qid}"[^>]*>', shared).group(0)
        assert 'autocomplete="off"' in tag and f'autocomplete="{token}"' not in tag, tag
        tag = re.search(rf'<input [^>]*id="{qid}"[^>]*>', own).group(0)
        assert f'autocomplete="{token}"' in tag, tag


def submit_on(app, client, **overrides) -> int:
    wizard = Wizard(client, app)
    answers = valid_answers(**overrides)
    wizard.walk(answers)
    assert wizard.submit(answers).location.endswith("/done")
    return rows(app, "SELECT id FROM submissions ORDER BY id DESC")[0]["id"]


def test_kiosk_leaving_the_done_page_ends_the_visit(kiosk):
    """Finding 2: Back from the done page ("Please start again") forgets the done page too,
    so Forward and a typed /done show the start page."""
    app, client = kiosk
    submit_on(app, client, pregnant_or_breastfeeding=True)
    assert "waits until after pregnancy" in client.get("/done").text
    back = client.get("/review")
    assert back.status_code == 410 and "Please start again" in back.text
    assert "cookies" in back.headers["Clear-Site-Data"]
    forward = client.get("/done")
    assert forward.status_code == 302 and forward.location == "/"
    start = client.get("/")
    assert "Start the questionnaire" in start.text and "pregnancy" not in start.text


def test_kiosk_done_page_lasts_only_its_seconds(kiosk):
    app, client = kiosk
    submit_on(app, client)
    page = client.get("/done").text
    assert re.search(r'data-kiosk-idle="(29|30)" data-kiosk-warn="0"', page)
    assert 'form="kiosk-reset"' in page  # "Finish" posts the reset form (with its token)
    with client.session_transaction() as session:
        session["done_until"] = time.time() - 1  # the done page's 30 s are over
    assert client.get("/done").location == "/"
    assert "your answers were sent" not in client.get("/done", follow_redirects=True).text


def test_kiosk_a_new_client_starting_clears_the_last_done_page(kiosk):
    app, client = kiosk
    submit_on(app, client)
    done = client.get("/done").text
    response = client.post("/start", data={"csrf_token": csrf_token(done)})  # the next person
    assert response.location.endswith("/step/about")
    with client.session_transaction() as session:
        assert "done" not in session and "done_until" not in session and session["draft"]
    assert client.get("/done").location == "/"


def test_kiosk_the_start_page_ends_a_finished_visit(kiosk):
    app, client = kiosk
    submit_on(app, client)
    response = client.get("/")
    assert response.location == "/" and "cookies" in response.headers["Clear-Site-Data"]
    assert client.get("/done").location == "/"


def test_a_start_post_never_replaces_a_saved_draft(wizard, client, app):
    """A start post while a draft is saved on this device (a start page from before carries
    another session's token and gets the 400 page; this one the current token): back to the
    start page, which offers to continue; the draft is kept."""
    wizard.start()
    wizard.post_step("about", valid_answers(full_name="Saved Person"))
    token = csrf_token(client.get("/step/skin").text)
    response = client.post("/start", data={"csrf_token": token})
    assert response.location == "/"
    assert "Continue my answers" in client.get("/").text
    assert stored(app)["full_name"] == "Saved Person"


def test_progress_shows_every_step_done_when_changing_from_the_review_page(wizard, client):
    """Finding 8: not "Step 2 of 7" with the later steps unticked."""
    wizard.walk(valid_answers())
    page = client.get("/step/skin?next=review").text
    assert "Step 2 of 7" not in page and "All steps answered" in page
    progress = page.split('class="progress-steps"')[1].split("</ol>")[0]
    titles = [s.title for s in wizard.qn.steps]
    for title in titles:
        assert re.search(rf'<li class="done( current)?"[^>]*>{re.escape(title)}</li>', progress)
    assert '<li class="done current" aria-current="step">Your skin today</li>' in progress
    assert "<title>Change: Your skin today" in page
    # Walking the wizard the first time still counts the steps.
    first_time = Wizard(wizard.app.test_client(), wizard.app)
    first_time.start()
    first_time.post_step("about", valid_answers())
    page = first_time.client.get("/step/skin").text
    assert "Step 2 of 7" in page and "All steps answered" not in page
