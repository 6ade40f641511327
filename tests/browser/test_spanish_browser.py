"""Issue 21 in Chromium: a client walks the questionnaire in Spanish on a phone, from the
start page's "Español" link to the done page; axe finds nothing serious on any page, and
the stored submission says `es`."""

from __future__ import annotations

import sqlite3

from helpers import valid_answers
from test_accessibility import check
from walk import QN, fill_step


def test_a_spanish_visit_on_a_phone_passes_axe_and_is_stored_as_es(server, phone):
    page = phone
    answers = valid_answers(cold_sores=True, cold_sore_now=False, notes="Sin cambios, gracias")
    page.goto(server.url + "/")
    page.click("text=Español")
    page.wait_for_url("**/?lang=es")
    assert page.get_attribute("html", "lang") == "es"
    check(page, "es-phone-start")
    page.click("text=Empezar el cuestionario")
    for section in QN.steps:
        page.wait_for_url(f"**/step/{section.id}")
        assert page.get_attribute("html", "lang") == "es"
        fill_step(page, section.id, answers, tap=True)
        check(page, f"es-phone-step-{section.id}")
        page.click("button[value=next]")
    page.wait_for_url("**/review")
    assert "Revise sus respuestas" in page.inner_text("h1")
    check(page, "es-phone-review")
    page.check("#attest")
    page.fill("#signature", answers["full_name"])
    page.click("text=Enviar mis respuestas")
    page.wait_for_url("**/done")
    assert "Gracias" in page.inner_text("h1")
    check(page, "es-phone-done")
    with sqlite3.connect(server.database) as db:
        [(language, notes)] = db.execute(
            "SELECT language, json_extract(answers, '$.notes') FROM submissions "
            "WHERE status = 'submitted'"
        ).fetchall()
    assert language == "es" and notes == "Sin cambios, gracias"
