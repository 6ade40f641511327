"""Issue 15 in Chromium: a saved answer stays what the client last saved, whatever the
browser's Back button, a restored form or a second tab shows; Back never meets a page the
browser must post again."""

from __future__ import annotations

import json
import sqlite3

from browsing import screenshot
from helpers import valid_answers
from playwright.sync_api import Error as PlaywrightError
from test_accessibility import serious_violations
from walk import QN, fill_step, sign_and_send


def saved(server) -> dict:
    """The answers of the newest submission or draft, as stored."""
    conn = sqlite3.connect(server.database)
    try:
        row = conn.execute("SELECT answers FROM submissions ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    return json.loads(row[0])


def start_to_skin(page, server, answers) -> None:
    """Start, save "About you", and arrive at "Your skin today"."""
    page.goto(server.url + "/")
    page.click("text=Start the questionnaire")
    fill_step(page, "about", answers)
    page.click("button[value=next]")
    page.wait_for_url("**/step/skin")


def back(page) -> None:
    """The browser's Back button; a page it must post again ("Confirm Form Resubmission",
    net::ERR_CACHE_MISS) fails the test."""
    try:
        page.go_back()
    except PlaywrightError as exc:
        raise AssertionError(f"Back showed a browser error page: {exc.message}") from None
    page.wait_for_load_state()
    assert "ERR_CACHE_MISS" not in page.content(), page.url
    assert page.locator("h1").count() == 1, page.url  # one of the app's own pages


def test_finding_1_the_back_button_cannot_undo_a_saved_answer(server, desktop):
    """Every skin question "No", saved; in-app Back; cold sores Yes and a cold sore now,
    saved; the browser's Back three times, to the page first filled with "No": it shows the
    saved Yes answers, and "Save and continue" keeps them (and the defer flag they raise)."""
    page = desktop
    answers = valid_answers(full_name="Back Button")  # every skin question answered "No"
    start_to_skin(page, server, answers)
    fill_step(page, "skin", answers)
    page.click("button[value=next]")
    page.wait_for_url("**/step/products")
    page.click("button[value=back]")  # the app's Back
    page.wait_for_url("**/step/skin")
    page.click("label[for=cold_sores-0]")
    page.click("label[for=cold_sore_now-0]")
    page.click("button[value=next]")
    page.wait_for_url("**/step/products")
    assert saved(server)["cold_sores"] is True and saved(server)["cold_sore_now"] is True
    for _ in range(3):
        back(page)
    page.wait_for_url("**/step/skin")
    screenshot(page, "finding1-back-three-times")
    assert page.is_checked("#cold_sores-0"), "the page shows cold sores: No"
    assert page.is_visible("#q-cold_sore_now") and page.is_checked("#cold_sore_now-0")
    page.click("button[value=next]")
    page.wait_for_url("**/step/products")
    stored = saved(server)
    assert stored["cold_sores"] is True and stored["cold_sore_now"] is True


def test_finding_1_without_javascript_the_form_is_not_restored_either(server, browser):
    """The same walk with JavaScript off (the follow-up is asked after sending): the form's
    autocomplete="off" alone keeps Chromium from putting the older "No" back."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    answers = valid_answers(full_name="Back Without Script")
    start_to_skin(page, server, answers)
    fill_step(page, "skin", answers)
    page.click("button[value=next]")
    page.wait_for_url("**/step/products")
    page.click("button[value=back]")
    page.wait_for_url("**/step/skin")
    page.click("label[for=cold_sores-0]")
    page.click("button[value=next]")
    page.wait_for_selector("#cold_sore_now-error")  # now asked
    page.click("label[for=cold_sore_now-0]")
    page.click("button[value=next]")
    page.wait_for_url("**/step/products")
    for _ in range(4):  # products, the step with the question, skin again, the first skin
        back(page)
    page.wait_for_url("**/step/skin")
    assert "error-summary" not in page.content()
    assert page.is_checked("#cold_sores-0") and page.is_checked("#cold_sore_now-0")
    page.click("button[value=next]")
    page.wait_for_url("**/step/products")
    assert saved(server)["cold_sores"] is True and saved(server)["cold_sore_now"] is True
    context.close()


def test_back_never_shows_an_older_name_either(server, desktop):
    """A field with its own autocomplete token (the name's "name") is restored by Chromium
    whatever the form says; the page puts the saved value back."""
    page = desktop
    answers = valid_answers(full_name="Old Name")
    page.goto(server.url + "/")
    page.click("text=Start the questionnaire")
    fill_step(page, "about", answers)
    page.click("button[value=next]")
    page.wait_for_url("**/step/skin")
    page.click("button[value=back]")
    page.wait_for_url("**/step/about")
    page.fill("#full_name", "New Name")
    page.click("button[value=next]")
    page.wait_for_url("**/step/skin")
    for _ in range(3):
        back(page)
    page.wait_for_url("**/step/about")
    assert page.input_value("#full_name") == "New Name"
    page.click("button[value=next]")
    page.wait_for_url("**/step/skin")
    assert saved(server)["full_name"] == "New Name"


def test_a_stale_page_saves_nothing_and_tells_the_client(server, browser):
    """Two tabs on the same step: the second saves cold sores Yes; "Save and continue" in
    the first (still showing No) changes nothing and says the page was out of date."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    first = context.new_page()
    answers = valid_answers(full_name="Two Tabs")
    start_to_skin(first, server, answers)
    fill_step(first, "skin", answers)
    first.click("button[value=next]")
    first.wait_for_url("**/step/products")
    first.goto(server.url + "/step/skin")  # every answer "No"
    second = context.new_page()
    second.goto(server.url + "/step/skin")
    second.click("label[for=cold_sores-0]")
    second.click("label[for=cold_sore_now-0]")
    second.click("button[value=next]")
    second.wait_for_url("**/step/products")
    assert first.is_checked("#cold_sores-1")  # the first tab still shows No
    first.click("button[value=next]")
    first.wait_for_selector("#out-of-date")
    assert first.url.endswith("/step/skin")
    note = first.inner_text("#out-of-date")
    assert "This page was out of date" in note and "nothing was changed" in note
    assert first.is_checked("#cold_sores-0") and first.is_checked("#cold_sore_now-0")
    screenshot(first, "stale-page-note")
    assert serious_violations(first) == []
    stored = saved(server)
    assert stored["cold_sores"] is True and stored["cold_sore_now"] is True
    context.close()


def test_finding_4_back_after_errors_and_from_the_done_page_shows_the_app(server, desktop):
    """A step sent with errors, then fixed; the review page sent twice with errors, then
    sent: Back from each next page shows one of the app's pages, never "Confirm Form
    Resubmission" (ERR_CACHE_MISS)."""
    page = desktop
    answers = valid_answers(full_name="Error Back", signature="Error Back")
    page.goto(server.url + "/")
    page.click("text=Start the questionnaire")
    page.wait_for_url("**/step/about")
    page.click("button[value=next]")  # nothing filled in
    assert "Full name: please fill this in." in page.inner_text("#error-summary")
    fill_step(page, "about", answers)
    page.click("button[value=next]")
    page.wait_for_url("**/step/skin")
    back(page)
    assert page.url.endswith("/step/about") and "About you" in page.inner_text("h1")
    page.goto(server.url + "/continue")
    page.wait_for_url("**/step/skin")
    walk_rest(page, answers)
    page.click("text=Send my answers")  # not signed
    page.wait_for_selector("#error-summary")
    page.check("#attest")
    page.fill("#signature", "Somebody Else")
    page.click("text=Send my answers")
    page.wait_for_selector("#signature-error")
    sign_and_send(page, answers)
    assert "Your reference" in page.inner_text("main")
    assert serious_violations(page) == []  # the done page with its reference code
    for _ in range(2):
        back(page)


def walk_rest(page, answers) -> None:
    """From the step open now to the review page."""
    ids = [s.id for s in QN.steps]
    for section_id in ids[ids.index(page.url.rsplit("/", 1)[-1]) :]:
        page.wait_for_url(f"**/step/{section_id}")
        fill_step(page, section_id, answers)
        page.click("button[value=next]")
    page.wait_for_url("**/review")


def test_a_client_walks_the_whole_questionnaire_after_fixing_errors(server, phone):
    """The Post/Redirect/Get pages keep what was typed: an error on one field keeps the
    others as typed, and the walk goes on from there."""
    answers = valid_answers(full_name="Typed Kept", signature="Typed Kept")
    phone.goto(server.url + "/")
    phone.click("text=Start the questionnaire")
    fill_step(phone, "about", {**answers, "phone": "abc"})
    phone.click("button[value=next]")
    phone.wait_for_selector("#phone-error")
    assert "Mobile phone: please use only digits" in phone.inner_text("#phone-error")
    assert phone.input_value("#full_name") == "Typed Kept"  # kept as typed, not yet saved
    phone.fill("#phone", "+44 (0)20 7946-0000")
    phone.click("button[value=next]")
    phone.wait_for_url("**/step/skin")
    walk_rest(phone, answers)
    sign_and_send(phone, answers)
    assert saved(server)["phone"] == "+44 (0)20 7946-0000"
