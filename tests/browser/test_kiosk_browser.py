"""A shared front-desk tablet: the next client never sees the last one's answers."""

from __future__ import annotations

import json
import sqlite3

import pytest
from browsing import Server, screenshot
from helpers import TODAY, valid_answers
from stored import content
from test_accessibility import serious_violations
from walk import fill_step, sign_and_send, walk

SECRET = "Kiosk Previous-Client"


def assert_blank_start(page):
    page.wait_for_url("**/")
    text = page.inner_text("body")
    assert "Start the questionnaire" in text and "Continue my answers" not in text
    assert SECRET not in page.content()


def assert_back_shows_nothing(page):
    for _ in range(3):
        page.go_back()
        page.wait_for_load_state()
        assert SECRET not in page.content(), page.url
        assert "Brown: very rarely burns" not in page.content()


def test_after_submitting_the_next_client_gets_a_blank_start(kiosk_server, phone):
    answers = valid_answers(full_name=SECRET, signature=SECRET, skin_type="type_5")
    walk(phone, kiosk_server.url, answers, tap=True)
    sign_and_send(phone, answers)
    screenshot(phone, "kiosk-done")
    # The done page returns to the start by itself (3 s in this test instance).
    phone.wait_for_url(kiosk_server.url + "/", timeout=15_000)
    assert_blank_start(phone)
    assert_back_shows_nothing(phone)


def test_after_idling_the_next_client_gets_a_blank_start(kiosk_server, phone):
    answers = valid_answers(full_name=SECRET, skin_type="type_5")
    phone.goto(kiosk_server.url + "/")
    phone.click("text=Start the questionnaire")
    fill_step(phone, "about", answers)
    phone.click("button[value=next]")
    phone.wait_for_url("**/step/skin")
    # The client walks away; after the idle time the tablet starts over.
    phone.wait_for_url(kiosk_server.url + "/", timeout=15_000)
    assert_blank_start(phone)
    assert_back_shows_nothing(phone)
    phone.goto(kiosk_server.url + "/continue")
    assert SECRET not in phone.content() and "Please start again" in phone.inner_text("main")


def test_the_start_over_button_forgets_the_client(kiosk_server, desktop):
    answers = valid_answers(full_name=SECRET)
    desktop.goto(kiosk_server.url + "/")
    desktop.click("text=Start the questionnaire")
    fill_step(desktop, "about", answers)
    desktop.click("button[value=next]")
    desktop.wait_for_url("**/step/skin")
    desktop.click("text=New client / start over")
    desktop.click("text=Yes, delete my answers and start again")  # it asks first (issue 15)
    assert_blank_start(desktop)
    assert_back_shows_nothing(desktop)


# --- Issue 15: a visit ends whole, and never by one tap or a silent timer ----------------------


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    """A kiosk whose done page returns to the start after 4 s, and whose idle reset comes
    after 10 s of nobody touching it, with its warning 5 s before."""
    s = Server(
        tmp_path_factory.mktemp("kiosk15"),
        KIOSK="true",
        KIOSK_IDLE_SECONDS=10,
        KIOSK_DONE_SECONDS=4,
    )
    yield s
    s.stop()


def drafts(server) -> list[dict]:
    conn = sqlite3.connect(server.database)
    try:
        rows = conn.execute("SELECT answers FROM submissions WHERE status = 'draft'").fetchall()
    finally:
        conn.close()
    return [json.loads(r[0]) for r in rows]


def draft_of(server, name: str) -> bool:
    return any(d.get("full_name") == name for d in drafts(server))


def begin(page, server, name: str) -> None:
    """A client starts and saves "About you"; the page shows "Your skin today"."""
    page.goto(server.url + "/")
    page.click("text=Start the questionnaire")
    fill_step(page, "about", valid_answers(full_name=name))
    page.click("button[value=next]")
    page.wait_for_url("**/step/skin")


def test_finding_2_the_next_person_cannot_reopen_the_last_clients_done_page(kiosk, phone):
    """Client A sends (pregnant, eczema flare, on isotretinoin); Back twice ("Please start
    again"); past the done page's time; Forward twice: the start page, not A's done page.
    Typing /done shows the start page too."""
    answers = valid_answers(
        full_name=SECRET,
        signature=SECRET,
        pregnant_or_breastfeeding=True,
        eczema="active",
        isotretinoin="taking_now",
    )
    _, ruleset = content()
    messages = [f["client_message"] for f in ruleset.evaluate(answers, TODAY).flags]
    assert any("pregnancy" in m for m in messages)
    walk(phone, kiosk.url, answers, tap=True)
    sign_and_send(phone, answers)
    done = phone.inner_text("main")
    assert all(m in done for m in messages if m)
    for _ in range(2):
        phone.go_back()
        phone.wait_for_load_state()
    assert "Please start again" in phone.inner_text("main")
    phone.wait_for_timeout(6_000)  # longer than the done page's 4 s
    for _ in range(2):
        phone.go_forward()
        phone.wait_for_load_state()
    screenshot(phone, "finding2-forward-twice")
    # At once, not after the done page's own timer has returned it to the start.
    assert_not_the_done_page(phone, messages)
    assert_blank_start(phone)
    phone.goto(kiosk.url + "/done")
    assert_not_the_done_page(phone, messages)
    assert_blank_start(phone)


def assert_not_the_done_page(page, messages: list[str]) -> None:
    text = page.inner_text("main")
    assert "your answers were sent" not in text, page.url
    assert not [m for m in messages if m and m in text], page.url


def test_finding_5_start_over_asks_first(kiosk, desktop):
    """One tap on "New client / start over" deletes nothing: it asks; "No" keeps the
    answers, "Yes" gives the next person a blank start."""
    begin(desktop, kiosk, "Asked First")
    desktop.click("text=New client / start over")
    desktop.wait_for_url("**/start-over")
    assert "Start again?" in desktop.inner_text("h1")
    screenshot(desktop, "finding5-start-over-asks")
    assert serious_violations(desktop) == []
    assert draft_of(kiosk, "Asked First")
    desktop.click("text=No, keep my answers")
    desktop.wait_for_url("**/step/skin")
    desktop.goto(kiosk.url + "/step/about")
    assert desktop.input_value("#full_name") == "Asked First"
    desktop.click("text=New client / start over")
    desktop.click("text=Yes, delete my answers and start again")
    desktop.wait_for_url(kiosk.url + "/")
    assert "Continue my answers" not in desktop.inner_text("main")
    assert not draft_of(kiosk, "Asked First")


def test_finding_5_the_idle_reset_warns_first_with_a_large_button(kiosk, phone):
    """Left alone, the page asks "Are you still there?" with a large "I'm still here"
    button; tapping it keeps everything; left alone again, it starts over."""
    begin(phone, kiosk, "Still Here")
    dialog = phone.locator("#kiosk-warning")
    dialog.wait_for(state="visible", timeout=15_000)
    assert "Are you still there?" in dialog.inner_text()
    button = phone.get_by_role("button", name="I’m still here")
    box = button.bounding_box()
    assert box["height"] >= 64 and box["width"] >= 300, box
    screenshot(phone, "finding5-idle-warning")
    assert serious_violations(phone) == []  # the page with its warning open
    assert phone.url.endswith("/step/skin") and draft_of(kiosk, "Still Here")
    button.tap()
    assert not dialog.is_visible()
    phone.wait_for_timeout(3_000)
    assert phone.url.endswith("/step/skin") and draft_of(kiosk, "Still Here")
    dialog.wait_for(state="visible", timeout=15_000)  # left alone again
    phone.wait_for_url(kiosk.url + "/", timeout=15_000)
    assert_blank_start(phone)
    assert not draft_of(kiosk, "Still Here")


def test_finding_5_without_javascript_the_idle_page_asks_before_deleting(kiosk, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    begin(page, kiosk, "No Script Idle")
    page.wait_for_url("**/start-over?idle=1", timeout=15_000)
    assert "Are you still there?" in page.inner_text("h1")
    screenshot(page, "finding5-idle-page-without-javascript")
    assert draft_of(kiosk, "No Script Idle")
    page.click("a:has-text('I’m still here')")
    page.wait_for_url("**/step/skin")
    assert draft_of(kiosk, "No Script Idle")
    page.wait_for_url("**/start-over?idle=1", timeout=15_000)
    page.wait_for_url(kiosk.url + "/", timeout=15_000)  # nobody answered: a blank start
    assert "Continue my answers" not in page.inner_text("main")
    assert not draft_of(kiosk, "No Script Idle")
    context.close()


EVIL = "http://localhost:{port}/win-a-prize"


def test_finding_6_another_site_cannot_delete_a_clients_draft(kiosk, desktop):
    """A page on another site links to /start-over and posts a form to it: the draft stays."""
    begin(desktop, kiosk, "Cross Site")
    evil = EVIL.format(port=kiosk.port)
    html = (
        f'<!doctype html><title>Prize</title><a id="link" href="{kiosk.url}/start-over">'
        f'Win a prize</a><form id="form" method="post" action="{kiosk.url}/start-over">'
        '<button id="post">Claim</button></form>'
    )
    desktop.route(evil, lambda route: route.fulfill(body=html, content_type="text/html"))
    desktop.goto(evil)
    desktop.click("#post")
    desktop.wait_for_load_state()
    assert draft_of(kiosk, "Cross Site")
    desktop.goto(evil)
    desktop.click("#link")
    desktop.wait_for_load_state()
    assert draft_of(kiosk, "Cross Site"), "a link from another site deleted the draft"
    desktop.goto(kiosk.url + "/")
    assert "Continue my answers" in desktop.inner_text("main")
