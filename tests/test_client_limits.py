"""Anonymous clients are limited per address and hour, politely (issue 17, finding 6), and
one submission's PDF stays within a page budget however long its notes."""

from __future__ import annotations

import pytest
from helpers import TEST_SETTINGS, Wizard, csrf_token, make_user, pdf_pages, rows, valid_answers

from screening import create_app
from screening.config import defaults
from screening.store import get_db, init_db
from screening.store.decisions import record

BUDGET = 4  # pages of one client's summary at most, whatever the client and staff typed


def limited_app(tmp_path, **limits):
    init_db(tmp_path / "limits.db")
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE": str(tmp_path / "limits.db"),
            **TEST_SETTINGS,
            **limits,
        }
    )


def start(app, address: str):
    """A new device (a client of its own) at this address starts the questionnaire."""
    client = app.test_client()
    page = client.get("/", environ_base={"REMOTE_ADDR": address})
    return client.post(
        "/start", data={"csrf_token": csrf_token(page.text)}, environ_base={"REMOTE_ADDR": address}
    )


def test_generous_limits_by_default(tmp_path):
    settings = defaults(str(tmp_path))
    assert settings["CLIENT_STARTS_PER_HOUR"] == settings["CLIENT_SUBMISSIONS_PER_HOUR"] == 60


def test_drafts_started_per_address_and_hour_are_limited_politely(tmp_path):
    app = limited_app(tmp_path, CLIENT_STARTS_PER_HOUR=3)
    statuses = [start(app, "203.0.113.9").status_code for _ in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    refused = start(app, "203.0.113.9")
    assert "Please wait a little" in refused.text and "ask the front desk" in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert "Traceback" not in refused.text
    assert start(app, "198.51.100.4").status_code == 302  # another address
    drafts = rows(app, "SELECT count(*) AS n FROM submissions WHERE status = 'draft'")
    assert drafts[0]["n"] == 4


def test_submissions_per_address_and_hour_are_limited(tmp_path):
    app = limited_app(tmp_path, CLIENT_SUBMISSIONS_PER_HOUR=1)
    answers = valid_answers()
    first = Wizard(app.test_client(), app)
    first.walk(answers)
    assert first.submit(answers).status_code == 302
    second = Wizard(app.test_client(), app)
    second.walk(answers)
    refused = second.submit(answers)
    assert refused.status_code == 429 and "Please wait a little" in refused.text
    assert rows(app, "SELECT count(*) AS n FROM submissions WHERE status = 'submitted'") == [
        {"n": 1}
    ]


LINES = "\n".join(["."] * 988) + "\nlastline"  # 989 lines in 1,985 characters
PROSE = " ".join(f"word{i:04d}" for i in range(300))[:1991] + " lastline"  # 2,000 characters


@pytest.mark.parametrize("kind", ["summary", "day"])
@pytest.mark.parametrize("note", [LINES, PROSE], ids=["lines", "prose"])
def test_one_submission_prints_within_its_page_budget(app, staff, submitted, kind, note):
    """2,000 lines of notes made a 37-page summary that joined the day's batch: each typed
    text now prints what fits its budget, then "… continued in the app" (a 2,000-character
    answer of prose still prints whole), and only the latest three decisions print."""
    assert len(note) <= 2000
    long = valid_answers(
        notes=note,
        medications_list=note,
        photosensitizing_meds=True,
        full_name="Long Notes",
        signature="Long Notes",
    )
    sid = submitted(**long)
    make_user(app, "dr", "provider")
    with app.app_context():
        for _ in range(6):
            record(get_db(), sid, "consult", user={"id": 1, "username": "dr"}, note=note)
    client = staff("front_desk")
    if kind == "summary":
        response = client.get(f"/staff/submissions/{sid}/summary.pdf")
    else:
        day = rows(app, "SELECT day FROM submissions WHERE id = ?", [sid])[0]["day"]
        response = client.get(f"/staff/day/{day}.pdf", follow_redirects=True)  # to /staff/print
    assert response.status_code == 200
    pages = pdf_pages(response.data)
    text = " ".join(pages)
    assert len(pages) <= BUDGET + (kind == "day"), len(pages)  # a day batch adds its cover
    assert "3 earlier decisions" in text
    if note is LINES:
        assert text.count("continued in the app") == 2 + 3 and "lastline" not in text
    else:  # both answers whole; the decisions' notes clipped
        assert text.count("lastline") == 2 and text.count("continued in the app") == 3
    # The app itself shows everything.
    page = staff("provider").get(f"/staff/submissions/{sid}")
    assert page.text.count("lastline") == 2 + 6
