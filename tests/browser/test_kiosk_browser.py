"""A shared front-desk tablet: the next client never sees the last one's answers."""

from __future__ import annotations

from browsing import screenshot
from helpers import valid_answers
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
    assert_blank_start(desktop)
    assert_back_shows_nothing(desktop)
