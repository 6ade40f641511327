"""Test helpers shared by every test folder: valid answers, form posts, the wizard driver."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import sqlite3
from pathlib import Path

import yaml
from pypdf import PdfReader

from screening.config import ROOT

# SCREENING_TESTS_DAYS_AGO=1 runs the suite as if it had been collected the day before, as a
# run that crosses midnight is after it: nothing may depend on the clock's date.
TODAY = dt.date.today() - dt.timedelta(days=int(os.environ.get("SCREENING_TESTS_DAYS_AGO", "0")))
# Test apps and servers: staff log in with a password alone (the two-factor tests turn it
# on), and clients' per-address limits are off (every test client is 127.0.0.1). The
# clinic's day is the day the tests were collected, so a run that crosses midnight judges
# and lists on the same day as the dates the tests computed. The production defaults stay
# as they are: see screening/config.py.
TEST_SETTINGS = {
    "TODAY": TODAY.isoformat(),
    "REQUIRE_2FA": False,
    # Batches render in the test's own process; tests of the process pool ask for one.
    "PRINT_PROCESSES": 0,
    "CLIENT_STARTS_PER_HOUR": 0,
    "CLIENT_SUBMISSIONS_PER_HOUR": 0,
}
TEST_ENV = {f"SCREENING_{key}": str(value).lower() for key, value in TEST_SETTINGS.items()}


def valid_answers(**overrides) -> dict:
    """A complete, valid answer set: the 'clear candidate' persona of questionnaire.md."""
    answers = {
        "full_name": "Ana María Pérez",
        "date_of_birth": (
            TODAY.replace(year=TODAY.year - 45)
            if not (TODAY.month == 2 and TODAY.day == 29)
            else TODAY.replace(year=TODAY.year - 45, day=28)
        ).isoformat(),
        "phone": "555 0100",
        "appointment_date": (TODAY + dt.timedelta(days=7)).isoformat(),
        "treatment_areas": ["full_face"],
        "treatment_area_other": None,
        "active_acne": False,
        "eczema": "no",
        "psoriasis_vitiligo": False,
        "skin_infection": False,
        "cold_sores": False,
        "cold_sore_now": None,
        "retinoid_last_use": "over_4_weeks",
        "exfoliant_last_use": "never",
        "isotretinoin": "never",
        "photosensitizing_meds": False,
        "blood_thinners": False,
        "immunosuppressants": False,
        "gold_therapy": False,
        "medications_list": None,
        "sunburn_recent": False,
        "tan_recent": False,
        "sun_planned": False,
        "skin_type": "type_2",
        "pregnant_or_breastfeeding": False,
        "keloid_history": False,
        "slow_healing": False,
        "diabetes": False,
        "autoimmune": False,
        "immune_condition": False,
        "radiation_to_area": False,
        "smoker": False,
        "anesthetic_allergy": False,
        "recent_procedures": [],
        "prior_co2": False,
        "concerns": ["fine_lines"],
        "downtime_ok": True,
        "notes": None,
        "attest": True,
        "signature": "ana maría  PÉREZ",
        "guardian_name": None,
        "guardian_signature": None,
    }
    answers.update(overrides)
    return answers


def form_data(questions, answers: dict) -> dict:
    """The form fields a browser would post for these questions' answers."""
    data = {}
    for q in questions:
        value = answers.get(q.id)
        if value is None:
            continue
        if q.type == "boolean":
            data[q.id] = "yes" if value else "no"
        elif q.type == "multi":
            data[q.id] = list(value)
        else:
            data[q.id] = value
    return data


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def revision(html: str) -> str:
    """The revision of the answers a step or review page was rendered from (its `rev`)."""
    match = re.search(r'name="rev" value="([^"]*)"', html)
    assert match, "no revision on the page"
    return match.group(1)


class Wizard:
    """Drive the client wizard through the test client as a browser would."""

    def __init__(self, client, app):
        self.client, self.app = client, app
        self.qn = app.extensions["questionnaire"]

    def start(self):
        page = self.client.get("/")
        if "Continue my answers" in page.text:  # a draft on this device: "Not me: start again"
            confirm = self.client.get("/start-over")
            self.client.post("/start-over", data={"csrf_token": csrf_token(confirm.text)})
            page = self.client.get("/")
        response = self.client.post("/start", data={"csrf_token": csrf_token(page.text)})
        assert response.status_code == 302
        return response

    def post_step(
        self, section_id: str, answers: dict, nav: str = "next", follow: bool = False, **extra
    ):
        """Post a step as its page would; `follow` to get the page the post leads to (a
        step with errors is shown by the GET its post redirects to)."""
        page = self.client.get(f"/step/{section_id}")
        # 422: the step still shows the errors of its last post (Post/Redirect/Get).
        assert page.status_code in (200, 422), page.status_code
        section = next(s for s in self.qn.steps if s.id == section_id)
        data = form_data(section.step_questions, answers)
        data.update(
            {"csrf_token": csrf_token(page.text), "rev": revision(page.text), "nav": nav, **extra}
        )
        return self.client.post(f"/step/{section_id}", data=data, follow_redirects=follow)

    def walk(self, answers: dict):
        self.start()
        for section in self.qn.steps:
            response = self.post_step(section.id, answers)
            assert response.status_code == 302, (section.id, response.text[:3000])
        return response

    def submit(self, answers: dict, follow: bool = False):
        page = self.client.get("/review")
        assert page.status_code in (200, 422), page.status_code  # 422: its last errors
        key = re.search(r'name="submit_key"[^>]*value="([^"]*)"', page.text) or re.search(
            r'id="submit_key"[^>]*value="([^"]*)"', page.text
        )
        data = form_data(self.qn.review_questions, answers)
        data.update(
            {
                "csrf_token": csrf_token(page.text),
                "submit_key": key.group(1),
                "rev": revision(page.text),
            }
        )
        return self.client.post("/review", data=data, follow_redirects=follow)


PASSWORD = "correct horse battery staple"


def make_user(app, username: str, role: str, name: str | None = None) -> None:
    """Create a staff account directly in the database."""
    from screening.staff import accounts as users
    from screening.store import get_db

    with app.app_context():
        users.create(get_db(), username, role, PASSWORD, name)


def log_in(client, username: str, password: str = PASSWORD, next_url: str | None = None):
    """Log in through the real form (CSRF token and all); return the response."""
    page = client.get("/staff/login")
    url = "/staff/login" + (f"?next={next_url}" if next_url else "")
    return client.post(
        url, data={"csrf_token": csrf_token(page.text), "username": username, "password": password}
    )


def rows(app, sql: str, params=()) -> list[dict]:
    """Read the app's database directly, as a separate connection would."""
    conn = sqlite3.connect(app.config["DATABASE"])
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def search(client, where: str, name: str):
    """Post a name search on the queue or the day page (names never go into URLs)."""
    page = client.get("/staff/day")
    return client.post(
        f"/staff/search/{where}", data={"csrf_token": csrf_token(page.text), "q": name}
    )


def spanish_rules_beside(rules_path, **client_texts: str) -> None:
    """Copy rules.es.yaml beside a rules file under test, with Spanish client messages for
    the rules a test adds (a rule without one is refused, as in `rules check`)."""
    data = yaml.safe_load((ROOT / "rules.es.yaml").read_text(encoding="utf-8"))
    for rule_id, text in client_texts.items():
        data["rules"][rule_id] = {"client": text}
    target = Path(rules_path).with_name("rules.es.yaml")
    target.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def pdf_pages(data: bytes) -> list[str]:
    """Each page's words, whitespace collapsed: a phrase the layout wraps still reads whole
    (a batch's heading wraps on a day with a long name)."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def pdf_text(data: bytes) -> str:
    """Every page's words, as one text."""
    return " ".join(pdf_pages(data))
