"""A client completes the questionnaire in Chromium: phone, back and edit, reload, kiosk."""

from __future__ import annotations

import json
import sqlite3

from browsing import DOCS, screenshot
from helpers import valid_answers
from walk import QN, fill_step, sign_and_send, walk


def stored(server):
    conn = sqlite3.connect(server.database)
    try:
        return conn.execute(
            "SELECT status, answers, outcome FROM submissions ORDER BY id DESC"
        ).fetchall()
    finally:
        conn.close()


def test_a_client_on_a_phone_completes_it_by_tapping_and_typing(server, phone):
    answers = valid_answers(
        full_name="Zoë Phone", signature="Zoë Phone", retinoid_last_use="still_using"
    )
    walk(phone, server.url, answers, tap=True)
    screenshot(phone, "phone-review")
    review = phone.inner_text("main")
    assert "Zoë Phone" in review and "I still use it" in review
    sign_and_send(phone, answers)
    screenshot(phone, "phone-done")
    done = phone.inner_text("main")
    assert "your answers were sent" in done
    assert "retinol" in done.lower()  # the retinoid-stop instruction
    # Version 2: the appointment is a week away, too soon to stop retinol 2 weeks before it.
    # No clinic phone is set on this server: the page says "contact", never "call" no number.
    assert "Please contact the clinic" in done
    status, saved, outcome = stored(server)[0]
    assert status == "submitted" and outcome == "review"
    assert json.loads(saved)["full_name"] == "Zoë Phone"


def test_going_back_from_review_to_edit_a_section(server, desktop):
    answers = valid_answers(full_name="Edit Me", signature="Edit Me")
    walk(desktop, server.url, answers)
    desktop.click("a[href='/step/sun?next=review']")
    desktop.wait_for_url("**/step/sun?next=review")
    assert desktop.is_checked("#skin_type-1")  # the saved answer is shown
    desktop.click("label[for=skin_type-4]")
    desktop.click("text=Save and go back to my answers")
    desktop.wait_for_url("**/review")  # straight back, not on through the later steps
    assert "Brown: very rarely burns" in desktop.inner_text("main")
    sign_and_send(desktop, answers)
    assert stored(server)[0][2] == "review"  # skin type V is discussed at consultation


def test_reloading_mid_way_keeps_everything_and_continues(server, phone):
    answers = valid_answers(full_name="Reload Person")
    phone.goto(server.url + "/")
    phone.click("text=Start the questionnaire")
    for section in ("about", "skin"):
        fill_step(phone, section, answers)
        phone.click("button[value=next]")
    phone.wait_for_url("**/step/products")
    phone.reload()
    assert "Medicines and skin products" in phone.inner_text("h1")
    phone.goto(server.url + "/")
    phone.click("text=Continue my answers")
    phone.wait_for_url("**/step/products")
    phone.click("button[value=back]")
    phone.wait_for_url("**/step/skin")
    assert phone.is_checked("#active_acne-1") and phone.is_checked("#eczema-0")


def test_a_follow_up_question_appears_when_its_trigger_is_answered(server, phone):
    answers = valid_answers()
    phone.goto(server.url + "/")
    phone.click("text=Start the questionnaire")
    fill_step(phone, "about", answers)
    phone.click("button[value=next]")
    phone.wait_for_url("**/step/skin")
    follow_up = phone.locator("#q-cold_sore_now")
    assert not follow_up.is_visible()
    phone.tap("label[for=cold_sores-0]")
    assert follow_up.is_visible()
    screenshot(phone, "phone-step-skin")
    phone.evaluate("window.scrollTo(0, 0)")
    phone.screenshot(path=str(DOCS / "phone-step.png"), full_page=False)
    phone.tap("label[for=cold_sores-1]")
    assert not follow_up.is_visible()


def test_the_whole_questionnaire_works_without_javascript(server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    answers = valid_answers(
        full_name="No Script", signature="No Script", cold_sores=True, cold_sore_now=False
    )
    page.goto(server.url + "/")
    page.click("text=Start the questionnaire")
    for section in QN.steps:
        page.wait_for_url(f"**/step/{section.id}")
        if section.id == "skin":
            # Without JavaScript the follow-up is asked after sending the trigger.
            fill_step(page, "skin", {**answers, "cold_sores": None})
            page.click("label[for=cold_sores-0]")
            page.click("button[value=next]")
            assert "Cold sore now: please choose an answer." in page.inner_text("main")
            page.click("label[for=cold_sore_now-1]")
        else:
            fill_step(page, section.id, answers)
        page.click("button[value=next]")
    page.wait_for_url("**/review")
    sign_and_send(page, answers)
    saved = json.loads(stored(server)[0][1])
    assert saved["full_name"] == "No Script" and saved["cold_sore_now"] is False
    context.close()
