"""axe-core on every client page, keyboard-only completion, visible focus, error focus."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from browsing import screenshot
from helpers import valid_answers
from walk import QN, fill_step, option_id

AXE = Axe()


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    results = AXE.run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def check(page, name: str) -> None:
    screenshot(page, name)
    assert serious_violations(page) == [], name


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_client_page_has_no_serious_axe_violations(server, request, size):
    page = request.getfixturevalue(size)
    answers = valid_answers(cold_sores=True, cold_sore_now=False)
    page.goto(server.url + "/")
    check(page, f"{size}-start")
    page.click("text=Start the questionnaire")
    page.click("button[value=next]")  # nothing filled: a step showing validation errors
    check(page, f"{size}-step-about-errors")
    for section in QN.steps:
        page.wait_for_url(f"**/step/{section.id}")
        fill_step(page, section.id, answers)
        check(page, f"{size}-step-{section.id}")
        page.click("button[value=next]")
    page.wait_for_url("**/review")
    check(page, f"{size}-review")
    page.click("text=Send my answers")  # unsigned: errors on the review page
    check(page, f"{size}-review-errors")
    page.check("#attest")
    page.fill("#signature", answers["full_name"])
    page.click("text=Send my answers")
    page.wait_for_url("**/done")
    check(page, f"{size}-done")
    page.goto(server.url + "/step/about")
    check(page, f"{size}-expired")
    page.goto(server.url + "/no-such-page")
    check(page, f"{size}-not-found")


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has focus."""
    for _ in range(limit):
        if page.evaluate(
            "s => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"could not reach {selector} with the Tab key")


def focus_is_visible(page) -> bool:
    style = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return [s.outlineStyle, s.outlineWidth]; }""")
    return style[0] != "none" and style[1] != "0px"


def test_the_questionnaire_can_be_completed_with_the_keyboard_alone(server, desktop):
    page = desktop
    answers = valid_answers(full_name="Kay Board", signature="Kay Board")
    page.goto(server.url + "/")
    tab_to(page, "button[type=submit]")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_url("**/step/about")
    # A failed submit moves focus to the error summary.
    tab_to(page, "button[value=next]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    for section in QN.steps:
        page.wait_for_url(f"**/step/{section.id}")
        for q in section.step_questions:
            value = answers.get(q.id)
            if value is None or not q.is_shown(answers):
                continue
            if q.type in ("text", "longtext", "date"):
                tab_to(page, f"#{q.id}")
                assert focus_is_visible(page), q.id
                page.fill(f"#{q.id}", "")  # clear what an earlier attempt left
                page.keyboard.type(str(value) if q.type != "date" else _date_keys(value))
            elif q.type == "multi":
                for v in value:
                    tab_to(page, f"#{option_id(q, v)}")
                    page.keyboard.press("Space")
            else:
                # Tab enters a radio group on its first option; arrows move and select.
                tab_to(page, f"input[name={q.id}]")
                page.keyboard.press("Space")
                for _ in range(int(option_id(q, value).rsplit("-", 1)[1])):
                    page.keyboard.press("ArrowDown")
                assert page.is_checked(f"#{option_id(q, value)}"), q.id
        tab_to(page, "button[value=next]")
        page.keyboard.press("Enter")
    page.wait_for_url("**/review")
    tab_to(page, "#attest")
    page.keyboard.press("Space")
    tab_to(page, "#signature")
    page.keyboard.type(answers["full_name"])
    page.keyboard.press("Enter")
    page.wait_for_url("**/done")
    assert "your answers were sent" in page.inner_text("main")


def _date_keys(iso: str) -> str:
    """What a person types into Chromium's en-US date field: month, day, year."""
    year, month, day = iso.split("-")
    return f"{month}{day}{year}"
