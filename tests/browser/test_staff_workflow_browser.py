"""Issue 16 in Chromium: printing exactly what a day list shows (1), nothing lost at an idle
logoff (2), the next submission after a decision (3), the appointment-driven worklist on a
desktop and a phone (4)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import sqlite3

import pytest
from browsing import DESKTOP, DOCS, PHONE, Server, screenshot
from helpers import PASSWORD, TODAY, valid_answers
from pypdf import PdfReader


def add_client(server, folder, name: str, appointment: dt.date | None, **answers) -> None:
    path = folder / f"{name}.json"
    path.write_text(
        json.dumps(
            valid_answers(
                full_name=name,
                signature=name,
                appointment_date=appointment.isoformat() if appointment else None,
                **answers,
            )
        )
    )
    server.flask("submissions", "import", str(path))


def add_staff(server) -> None:
    for username, role in (("dana", "provider"), ("frank", "front_desk")):
        server.flask(
            "users", "create", username, "--role", role, "--name", f"{username.title()} Staff",
            "--password-stdin", input=PASSWORD + "\n",
        )  # fmt: skip


@pytest.fixture(scope="module")
def clinic(server, tmp_path_factory):
    """200 demo clients (appointments passed, coming and none), a few of our own: two
    O'Briens and a Today Booked client for today, a day with 12 clients."""
    folder = tmp_path_factory.mktemp("answers")
    server.flask("demo", "--count", "200", "--seed", "16")
    add_client(server, folder, "Today Booked", TODAY)
    add_client(server, folder, "Siobhan O'Brien", TODAY, sunburn_recent=True)
    add_client(server, folder, "Liam O'Brien", TODAY)
    busy = TODAY + dt.timedelta(days=2)
    for number in range(12):
        add_client(server, folder, f"Busy Client{number:02d}", busy)
    add_staff(server)
    return server


def log_in(page, base: str, username: str) -> None:
    page.goto(base + "/staff/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Log in')")


def pdf_text(data: bytes) -> str:
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def opened(page, name: str) -> None:
    """Wait for a submission's page, its script included (the shortcuts are staff.js's)."""
    page.wait_for_selector(f'h1:has-text("{name}")')
    page.wait_for_load_state("load")


def search_name(page, name: str) -> None:
    page.fill("#q", name)
    page.click("form[role=search] button:has-text('Find')")
    page.wait_for_load_state()


# -- 1: the print button prints exactly what is listed ---------------------------------------


def test_the_print_button_prints_exactly_what_the_day_list_shows(clinic, desktop):
    page = desktop
    log_in(page, clinic.url, "frank")
    page.wait_for_url("**/staff/day")
    everyone = page.locator("tbody tr").count()
    assert everyone > 3
    search_name(page, "today booked")
    assert page.locator("tbody tr").count() == 1
    button = page.locator("a.button[data-print-count]")
    assert button.inner_text() == "Print this summary (PDF)"
    one = page.request.get(clinic.url + button.get_attribute("href"))
    text = pdf_text(one.body())
    assert "Today Booked" in text and "O'Brien" not in text
    assert len(PdfReader(io.BytesIO(one.body())).pages) < 5  # one client, not the day
    search_name(page, "obrien")
    assert page.locator("tbody tr").count() == 2
    assert button.inner_text() == "Print these 2 summaries (PDF)"
    two = page.request.get(clinic.url + button.get_attribute("href"))
    text = pdf_text(two.body())
    assert "Siobhan O'Brien" in text and "Liam O'Brien" in text and "Today Booked" not in text
    assert "2 clients" in text
    screenshot(page, "desktop-day-search-print")
    # A busy day: more than 10 clients asks first.
    search_name(page, "")
    page.goto(clinic.url + f"/staff/day?date={(TODAY + dt.timedelta(days=2)).isoformat()}")
    count = page.locator("tbody tr").count()
    assert count >= 12
    page.click("a.button[data-print-count]")
    page.wait_for_selector(f"h1:has-text('Print {count} summaries?')")
    screenshot(page, "desktop-print-confirm")
    confirm = page.locator(f"a.button:has-text('Print all {count} summaries (PDF)')")
    batch = page.request.get(clinic.url + confirm.get_attribute("href"))
    assert batch.headers["content-type"] == "application/pdf"
    assert f"{count} clients" in PdfReader(io.BytesIO(batch.body())).pages[0].extract_text()


# -- 3: the next submission, back to the queue, shortcuts ------------------------------------


def test_after_a_decision_the_next_undecided_one_opens_and_back_keeps_the_filters(clinic, desktop):
    page = desktop
    log_in(page, clinic.url, "dana")
    page.wait_for_url("**/staff/")
    page.select_option("#outcome", "review")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**outcome=review**")
    names = page.locator("tbody tr:not(.group-row) td:first-child a").all_inner_texts()
    assert len(names) >= 3
    page.locator("tbody tr:not(.group-row) td:first-child a").first.click()
    opened(page, names[0])
    assert "outcome=review" in page.url
    page.keyboard.press("n")  # next in the same order
    opened(page, names[1])
    page.keyboard.press("p")
    opened(page, names[0])
    page.keyboard.press("d")  # to the decision form
    assert page.evaluate("document.activeElement.name") == "decision"
    page.keyboard.press("ArrowDown")  # the second choice: refer to a dermatologist
    page.fill("#note", "Seeing a dermatologist first")
    page.click("button:has-text('Save decision')")
    page.wait_for_selector("text=This is the next submission waiting for a decision")
    assert page.inner_text("h1") == names[1] and "outcome=review" in page.url
    screenshot(page, "desktop-next-submission")
    page.click("text=← Back to the queue")
    page.wait_for_url(re.compile(r"/staff/\?.*outcome=review"))
    assert page.input_value("#outcome") == "review"
    remaining = page.locator("tbody tr:not(.group-row) td:first-child a").all_inner_texts()
    assert names[0] not in remaining and remaining[0] == names[1]


# -- 4: the worklist ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_worklist_puts_todays_appointments_first_and_fits_a_phone(clinic, request, size):
    page = request.getfixturevalue(size)
    log_in(page, clinic.url, "dana")
    page.wait_for_url("**/staff/")
    counts = page.locator(".counts li").all_inner_texts()
    assert [re.sub(r"^\d+\s*", "", c) for c in counts] == [
        "Appointment in the next 7 days",
        "No appointment in the next 7 days",
        "Appointment date passed",
    ]
    assert all(re.match(r"\d+", c) for c in counts)
    rows = page.locator("table.queue tbody tr")
    assert rows.nth(0).inner_text().startswith("Appointment in the next 7 days")
    first = rows.nth(1).inner_text()
    assert "today" in first  # the first client is booked for today
    today_names = [
        t.split("\n")[0].split("\t")[0]
        for t in rows.all_inner_texts()
        if f"{TODAY.isoformat()} today" in t
    ]
    assert "Today Booked" in "".join(today_names)
    groups = page.locator("tr.group-row th").all_inner_texts()
    assert [g.split(" ·")[0] for g in groups][:1] == ["Appointment in the next 7 days"]
    if size == "phone":
        # The outcome of every row is on screen, and the page does not slide sideways.
        width = PHONE["width"]
        assert page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        wrap = page.locator(".table-wrap")
        assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")
        for index in range(1, 6):
            box = rows.nth(index).locator(".badge").bounding_box()
            assert box and box["x"] + box["width"] <= width, (index, box)
        page.screenshot(path=str(DOCS / "worklist-phone.png"), full_page=False)
    else:
        assert page.viewport_size == DESKTOP
        page.screenshot(path=str(DOCS / "worklist-desktop.png"), full_page=False)
    screenshot(page, f"{size}-worklist")


# -- 2: nothing lost at an idle logoff (SCREENING_STAFF_IDLE_MINUTES=1) ------------------------


@pytest.fixture(scope="module")
def idle_clinic(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("idle"), STAFF_IDLE_MINUTES=1)
    folder = tmp_path_factory.mktemp("idle-answers")
    add_client(server, folder, "Note Keeper", TODAY + dt.timedelta(days=1))
    add_client(server, folder, "Second Client", TODAY + dt.timedelta(days=2))
    add_staff(server)
    yield server
    server.stop()


def open_client(page, base: str, name: str) -> None:
    log_in(page, base, "dana")
    page.wait_for_url("**/staff/")
    page.click(f"text={name}")
    page.wait_for_selector(f"h1:has-text('{name}')")


def test_a_decision_posted_after_logoff_comes_back_with_its_note(idle_clinic, desktop):
    """The 405 of the finding: the form posted after the server ended the session."""
    page = desktop
    open_client(page, idle_clinic.url, "Note Keeper")
    page.click("label[for=decision-3]")  # needs a consultation
    page.fill("#note", "Ask about the peel reaction")
    conn = sqlite3.connect(idle_clinic.database)
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    conn.execute("UPDATE staff_sessions SET last_seen = ?", [long_ago])
    conn.commit()
    page.click("button:has-text('Save decision')")
    page.wait_for_url("**/staff/login?next=**")
    assert "without activity" in page.inner_text("main")
    assert "405" not in page.inner_text("main")
    page.fill("#username", "dana")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_selector("h1:has-text('Note Keeper')")
    page.wait_for_selector(".draft-restored", state="visible")  # once staff.js has run
    assert page.input_value("#note") == "Ask about the peel reaction"
    assert page.is_checked("#decision-3")
    assert conn.execute("SELECT count(*) FROM decisions").fetchone()[0] == 0
    page.click("button:has-text('Save decision')")
    page.wait_for_selector("text=Decision recorded: Needs a consultation")
    assert conn.execute("SELECT note FROM decisions").fetchall() == [
        ("Ask about the peel reaction",)
    ]
    conn.close()
    # Saved: the browser forgets the kept note.
    assert page.evaluate("sessionStorage.length") == 0


def test_the_idle_warning_offers_to_stay_and_the_logoff_keeps_the_note(idle_clinic, desktop):
    page = desktop
    open_client(page, idle_clinic.url, "Second Client")
    page.fill("#note", "Typed before lunch")
    warning = page.locator("#idle-warning")
    assert warning.is_hidden()
    warning.wait_for(state="visible", timeout=45_000)  # half a minute before the logoff
    assert "Stay logged in" in warning.inner_text()
    assert page.evaluate("document.activeElement.hasAttribute('data-idle-stay')")
    screenshot(page, "desktop-idle-warning")
    page.click("[data-idle-stay]")
    warning.wait_for(state="hidden")
    # No further activity: the server logs off after a minute, and the page leaves with it.
    page.wait_for_url("**/staff/login?next=**", timeout=90_000)
    assert "without activity" in page.inner_text("main")
    assert "Typed before lunch" not in page.content()
    page.fill("#username", "dana")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_selector("h1:has-text('Second Client')")
    page.wait_for_selector(".draft-restored", state="visible")
    assert page.input_value("#note") == "Typed before lunch"
    # Logging out forgets it.
    page.click("button:has-text('Log out')")
    page.wait_for_url("**/staff/login")
    assert page.evaluate("sessionStorage.length") == 0
