"""Answer the questionnaire in a real page, driven by questionnaire.yaml."""

from __future__ import annotations

from screening.config import ROOT
from screening.questionnaire import load

QN = load(ROOT / "questionnaire.yaml")


def option_id(q, value) -> str:
    """The input id WTForms gives the option of a radio or checkbox group."""
    if q.type == "boolean":
        return f"{q.id}-{0 if value else 1}"
    return f"{q.id}-{q.choice_ids.index(value)}"


def answer(page, q, value, tap: bool = False) -> None:
    """Give one answer the way a person would: tap or click labels, type into fields."""
    press = (lambda sel: page.tap(sel)) if tap else (lambda sel: page.click(sel))
    if value is None:
        return
    if q.type in ("text", "longtext", "date"):
        page.fill(f"#{q.id}", str(value))
    elif q.must_be_true:
        press(f"label[for={q.id}]")
    elif q.type == "multi":
        for v in value:
            press(f"label[for={option_id(q, v)}]")
    else:
        press(f"label[for={option_id(q, value)}]")


def fill_step(page, section_id: str, answers: dict, tap: bool = False) -> None:
    section = next(s for s in QN.steps if s.id == section_id)
    for q in section.step_questions:
        if q.is_shown(answers):
            answer(page, q, answers.get(q.id), tap)


def walk(page, base_url: str, answers: dict, tap: bool = False) -> None:
    """From the start page to the review page."""
    page.goto(base_url + "/")
    page.click("text=Start the questionnaire")
    for section in QN.steps:
        page.wait_for_url(f"**/step/{section.id}")
        fill_step(page, section.id, answers, tap)
        page.click("button[value=next]")
    page.wait_for_url("**/review")


def sign_and_send(page, answers: dict) -> None:
    page.check("#attest")
    page.fill("#signature", answers["full_name"])
    page.click("text=Send my answers")
    page.wait_for_url("**/done")
