"""Version 2's questions in Chromium: "Where else?" appears when "Somewhere else" is ticked;
a client under 18 is asked for a guardian on the review page."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from helpers import TODAY, valid_answers
from walk import fill_step, walk


def test_where_else_appears_when_somewhere_else_is_ticked(server, phone):
    phone.goto(server.url + "/")
    phone.click("text=Start the questionnaire")
    phone.wait_for_url("**/step/about")
    where_else = phone.locator("#q-treatment_area_other")
    assert not where_else.is_visible()
    phone.tap("label[for=treatment_areas-6]")  # Somewhere else
    assert where_else.is_visible()
    phone.tap("label[for=treatment_areas-3]")  # Neck: still shown while "other" is ticked
    assert where_else.is_visible()
    phone.tap("label[for=treatment_areas-6]")
    assert not where_else.is_visible()
    phone.tap("label[for=treatment_areas-6]")
    fill_step(phone, "about", valid_answers(treatment_areas=[]))
    phone.fill("#treatment_area_other", "My back")
    phone.click("button[value=next]")
    phone.wait_for_url("**/step/skin")


def test_a_minor_signs_with_a_guardian(server, desktop):
    born = TODAY.replace(year=TODAY.year - 16) - dt.timedelta(days=3)
    answers = valid_answers(full_name="Young Person", date_of_birth=born.isoformat())
    walk(desktop, server.url, answers)
    assert desktop.locator("#q-guardian_name").is_visible()
    desktop.check("#attest")
    desktop.fill("#signature", "young person")
    desktop.click("text=Send my answers")
    assert "Parent or guardian's name: please fill this in." in desktop.inner_text("main")
    desktop.fill("#guardian_name", "Rosa Pérez")
    desktop.fill("#guardian_signature", "Rosa Perez")
    desktop.click("text=Send my answers")
    desktop.wait_for_url("**/done")
    conn = sqlite3.connect(server.database)
    try:
        saved, outcome = conn.execute(
            "SELECT answers, outcome FROM submissions ORDER BY id DESC"
        ).fetchone()
    finally:
        conn.close()
    assert json.loads(saved)["guardian_name"] == "Rosa Pérez" and outcome == "refer"
