"""Injection, security headers on every response, no inline script or style, and CSRF on
every client form."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from helpers import TEST_SETTINGS, Wizard, csrf_token, form_data, search, valid_answers
from html_checks import assert_no_active_content

from screening import create_app
from screening.config import ROOT
from screening.store import init_db

HOSTILE = {
    "full_name": "<script>alert('name')</script> Ann",
    "medications_list": '"><svg onload=alert(2)>',
    "notes": "</textarea><img src=x onerror=alert(3)>&amp; {{ 7*7 }}",
}
# A phone number holds digits, spaces and + - ( ) only (format: phone): the wizard refuses
# this one, but rows stored before numbers were checked may hold it.
HOSTILE_PHONE = "<b onmouseover=alert(1)>555</b>"


def hostile_answers(**overrides):
    return valid_answers(**HOSTILE, signature=HOSTILE["full_name"], **overrides)


def test_free_text_is_shown_as_text_on_the_review_page(wizard, client):
    answers = hostile_answers()
    wizard.walk(answers)
    page = client.get("/review")
    assert page.status_code == 200
    for value in HOSTILE.values():
        assert value not in page.text
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt; Ann" in page.text
    assert "&lt;/textarea&gt;&lt;img src=x onerror=alert(3)&gt;&amp;amp; {{ 7*7 }}" in page.text
    # Not evaluated as a template either: the braces are there as typed, and no "49" takes
    # their place (any "49" at all failed now and then: random tokens hold one).
    assert "&amp;amp; {{ 7*7 }}" in page.text and "&amp;amp; 49" not in page.text
    assert_no_active_content(page.text)


def test_free_text_is_escaped_when_a_step_shows_it_back(wizard, client):
    answers = hostile_answers()
    wizard.start()
    wizard.post_step("about", answers)
    for path in ("/step/about", "/step/skin"):
        page = client.get(path)
        assert_no_active_content(page.text)
    # Refused with a field error, and shown back as text.
    response = wizard.post_step("about", {**answers, "phone": HOSTILE_PHONE}, follow=True)
    assert response.status_code == 422 and "Mobile phone: please use only digits" in response.text
    assert HOSTILE_PHONE not in response.text
    assert_no_active_content(response.text)
    # Shown back with a field error (the signature does not match, so 422).
    wizard.walk(answers)
    response = wizard.submit({**answers, "signature": "<script>alert(4)</script>"}, follow=True)
    assert response.status_code == 422
    assert "<script>alert(4)</script>" not in response.text
    assert_no_active_content(response.text)


def test_templates_hold_no_inline_script_or_style():
    sources = sorted((ROOT / "templates").rglob("*.html"))
    assert sources
    for path in sources:
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        if path.parent.name == "mail":
            # Email is not served under the CSP, and mail programs drop <style> and style
            # sheets: the mail templates style inline, and hold no script of any kind.
            assert not re.search(r"<script|\son[a-z]+=|javascript:", text, re.IGNORECASE), path
            continue
        assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=|javascript:", text, re.IGNORECASE), (
            path
        )


@pytest.mark.parametrize("kiosk", [False, True])
def test_every_rendered_client_page_is_free_of_inline_script_and_style(tmp_path, kiosk):
    """The rendered pages too (WTForms widgets, error summaries, kiosk additions)."""
    from screening.store import init_db

    init_db(tmp_path / "db")
    app = create_app(
        {"SECRET_KEY": "k", "DATABASE": str(tmp_path / "db"), "KIOSK": kiosk, **TEST_SETTINGS}
    )
    client = app.test_client()
    wizard = Wizard(client, app)
    answers = valid_answers(cold_sores=True, cold_sore_now=False, active_acne=True)
    pages = [client.get("/"), client.get("/nope"), client.post("/start")]
    wizard.start()
    pages.append(client.post("/step/about", data={"csrf_token": csrf_token(pages[0].text)}))
    pages.append(wizard.post_step("about", {}, follow=True))  # every error shown
    for section in wizard.qn.steps:
        pages.append(client.get(f"/step/{section.id}"))
        wizard.post_step(section.id, answers)
    pages += [
        client.get("/review"),
        client.get("/start-over"),  # "start again?"
        client.get("/start-over?idle=1"),  # a kiosk's "are you still there?" without JS
        wizard.submit({**answers, "attest": None}, follow=True),
        wizard.submit(answers),
    ]
    pages += [client.get("/done"), client.get("/step/about")]  # the done and expired pages
    for page in pages:
        if page.status_code == 302:
            continue
        assert_no_active_content(page.text)
    assert {p.status_code for p in pages} >= {200, 400, 404, 410, 422}


def responses_of_every_kind(app):
    """A page, a static file, a redirect, the expired page and each error page."""

    @app.get("/test-only/crash")
    def crash():
        raise RuntimeError("boom")

    client = app.test_client()
    start = client.get("/")
    token = csrf_token(start.text)
    responses = {
        "page": start,
        "static": client.get("/static/css/app.css"),
        "script": client.get("/static/js/app.js"),
        "redirect": client.post("/start", data={"csrf_token": token}),
        "expired": app.test_client().get("/step/about"),
        "400": client.post("/start"),
        "404": client.get("/nope"),
        "404 static": client.get("/static/nope.js"),
        "405": client.get("/start"),
        "413": client.post("/start", data={"csrf_token": token, "x": "a" * 70_000}),
        "500": client.get("/test-only/crash"),
    }
    for response in responses.values():
        response.close()  # static files are streamed from an open file
    return responses


def test_every_response_carries_the_security_headers(app):
    responses = responses_of_every_kind(app)
    assert responses["redirect"].status_code == 302 and responses["500"].status_code == 500
    for kind, response in responses.items():
        csp = response.headers.get("Content-Security-Policy", "")
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives.get("default-src") == "'self'", kind
        assert directives.get("frame-ancestors") == "'none'", kind
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, kind
        assert directives.get("script-src") == "'self'", kind
        assert response.headers.get("X-Content-Type-Options") == "nosniff", kind
        assert response.headers.get("Referrer-Policy") == "no-referrer", kind
        assert "Strict-Transport-Security" not in response.headers, kind


def test_hsts_on_every_response_when_served_over_https(tmp_path, monkeypatch):
    """Configured the production way: SCREENING_HTTPS=true in the environment."""
    monkeypatch.setenv("SCREENING_HTTPS", "true")
    monkeypatch.setenv("SCREENING_SECRET_KEY", "env-secret")
    monkeypatch.setenv("SCREENING_DATABASE", str(tmp_path / "db"))
    init_db(tmp_path / "db")  # the app refuses to start without its database
    app = create_app()
    assert app.config["HTTPS"] is True
    for kind, response in responses_of_every_kind(app).items():
        hsts = response.headers.get("Strict-Transport-Security", "")
        assert re.fullmatch(r"max-age=\d{7,}; includeSubDomains", hsts), (kind, hsts)
    start = app.test_client().post("/start", data={})
    assert start.status_code == 400


def snapshot(app):
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        return conn.execute("SELECT * FROM submissions ORDER BY id").fetchall()
    finally:
        conn.close()


def client_forms(wizard, answers):
    """Each client form and the data a browser would post with it (token aside)."""
    forms = [("/start", {}), ("/start-over", {})]
    for section in wizard.qn.steps:
        forms.append(
            (f"/step/{section.id}", {**form_data(section.step_questions, answers), "nav": "next"})
        )
        forms.append(
            (f"/step/{section.id}", {**form_data(section.step_questions, answers), "nav": "back"})
        )
    page = wizard.client.get("/review")
    key = re.search(r'name="submit_key"[^>]*value="([^"]*)"', page.text).group(1)
    forms.append(("/review", {**form_data(wizard.qn.review_questions, answers), "submit_key": key}))
    return forms


@pytest.mark.parametrize("token", ["missing", "empty", "another session's", "forged"])
def test_every_client_form_refuses_a_post_without_its_token(app, wizard, client, token):
    answers = valid_answers(full_name="Csrf Victim", signature="Csrf Victim")
    wizard.walk(answers)  # a draft ready to submit: a post that got through would change it
    other = app.test_client()
    foreign = csrf_token(other.get("/").text)
    tokens = {
        "missing": None,
        "empty": "",
        "another session's": foreign,
        "forged": "IjEyMzQ1Njc4OTBhYmNkZWYi.ZZZZZZ.forgedsignatureforgedsignature",
    }
    before = snapshot(app)
    forms = client_forms(wizard, {**answers, "full_name": "Changed By Attacker"})
    for path, data in forms:
        if tokens[token] is not None:
            data = {**data, "csrf_token": tokens[token]}
        response = client.post(path, data=data)
        assert response.status_code == 400, (path, response.status_code)
        assert "could not be used" in response.text
        assert snapshot(app) == before, path
    # The control: the same review post with the page's own token goes through.
    response = wizard.submit(answers)
    assert response.status_code == 302 and snapshot(app) != before


# --- The staff side ------------------------------------------------------------------------


def assert_security_headers(response, kind) -> None:
    """What every response carries (see test_every_response_carries_the_security_headers)."""
    csp = response.headers.get("Content-Security-Policy", "")
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives.get("default-src") == "'self'", kind
    assert directives.get("script-src") == "'self'", kind
    assert directives.get("style-src") == "'self'", kind
    assert directives.get("frame-ancestors") == "'none'", kind
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, kind
    assert response.headers.get("X-Content-Type-Options") == "nosniff", kind
    assert response.headers.get("Referrer-Policy") == "no-referrer", kind
    assert response.headers.get("X-Frame-Options") == "DENY", kind
    assert response.headers.get("Cache-Control") == "no-store", kind


def staff_snapshot(app) -> dict:
    """Everything a staff post could change (a session's last_seen aside: any page view
    moves it)."""
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        return {
            "users": conn.execute("SELECT * FROM users ORDER BY id").fetchall(),
            "sessions": conn.execute(
                "SELECT id, user_id, created_at, revoked_at FROM staff_sessions ORDER BY id"
            ).fetchall(),
            **{
                name: conn.execute(f"SELECT * FROM {name} ORDER BY id").fetchall()
                for name in ("submissions", "decisions", "login_attempts", "audit")
            },
        }
    finally:
        conn.close()


def test_every_staff_form_refuses_a_post_without_its_token(app, staff, submitted, cheap_argon2):
    """Log in, log out, a decision, a new account, disabling one: each posted with no
    token, an empty one, another session's or a forged one gets the 400 page and changes
    nothing (the login logs nobody in, the logout ends no session)."""
    from helpers import PASSWORD, make_user

    sid = submitted()
    make_user(app, "victim", "front_desk")
    admin, provider = staff("admin"), staff("provider")
    anonymous = app.test_client()
    assert anonymous.get("/staff/login").status_code == 200  # a session of its own
    foreign = csrf_token(app.test_client().get("/staff/login").text)
    tokens = {
        "missing": None,
        "empty": "",
        "another session's": foreign,
        "forged": "IjEyMzQ1Njc4OTBhYmNkZWYi.ZZZZZZ.forgedsignatureforgedsignature",
    }
    forms = [
        (anonymous, "/staff/login", {"username": "provider-user", "password": PASSWORD}),
        (provider, "/staff/logout", {}),
        (provider, f"/staff/submissions/{sid}/decision", {"decision": "cleared", "note": "Forged"}),
        (admin, "/staff/users", {"username": "intruder", "role": "admin"}),
        (admin, "/staff/users/victim/disable", {}),
    ]
    before = staff_snapshot(app)
    for kind, token in tokens.items():
        for client, path, data in forms:
            if token is not None:
                data = {**data, "csrf_token": token}
            response = client.post(path, data=data)
            assert response.status_code == 400, (kind, path, response.status_code)
            assert "could not be used" in response.text
            assert_no_active_content(response.text)
            assert_security_headers(response, (kind, path))
            assert staff_snapshot(app) == before, (kind, path)
    assert provider.get("/staff/").status_code == 200  # still logged in
    assert anonymous.get("/staff/").status_code == 302  # still not
    # The controls: each form with the page's own token does its job.
    after = []
    for client, path, data in [*forms[2:], forms[1], forms[0]]:
        page = client.get(
            "/staff/login"
            if client is anonymous
            else "/staff/users"
            if client is admin
            else f"/staff/submissions/{sid}"
        )
        response = client.post(path, data={**data, "csrf_token": csrf_token(page.text)})
        assert response.status_code in (200, 302), (path, response.status_code)
        after.append(staff_snapshot(app))
    decided, created, disabled, logged_out, logged_in = after
    assert len(decided["decisions"]) == 1 and len(created["users"]) == len(before["users"]) + 1
    assert next(u for u in disabled["users"] if u[1] == "victim")[5] == 0
    assert sum(s[3] is not None for s in logged_out["sessions"]) == 1
    assert len(logged_in["sessions"]) == len(before["sessions"]) + 1


STAFF_HOSTILE = {**HOSTILE, "phone": HOSTILE_PHONE}  # the answers the staff pages show
HOSTILE_NOTE = "</textarea><script>alert(5)</script>{{ 7*7 }}"


def searched(client, where: str, name: str, page: str):
    """The page after a (posted) name search; the search is cleared again after it."""
    assert search(client, where, name).status_code == 302
    response = client.get(page)
    search(client, where, "")
    return response


HOSTILE_USERNAME = "<img/src=x/onerror=alert(6)>"
HOSTILE_STAFF_NAME = "<script>alert(7)</script> Dr Lee"


def test_staff_pages_show_hostile_text_as_text(app, staff, submitted, cheap_argon2):
    """Client answers, a decision note, a typed username and a staff member's name holding
    HTML and script: escaped on the queue, submission, day, audit and users pages; every
    staff page free of inline script and style; every staff response with the headers."""
    from helpers import log_in

    answers = hostile_answers(appointment_date=None, photosensitizing_meds=True)
    sid = submitted(**answers)
    stored_before_phone_checks(app, sid, HOSTILE_PHONE)
    admin = staff("admin")
    responses = {"login page": app.test_client().get("/staff/login")}
    # A staff account whose full name holds script (its username cannot: shown back).
    page = admin.get("/staff/users")
    responses["users: bad username"] = admin.post(
        "/staff/users",
        data={
            "csrf_token": csrf_token(page.text),
            "username": HOSTILE_USERNAME,
            "role": "provider",
            "name": HOSTILE_STAFF_NAME,
        },
    )
    assert responses["users: bad username"].status_code == 422
    created = admin.post(
        "/staff/users",
        data={
            "csrf_token": csrf_token(page.text),
            "username": "drlee",
            "role": "provider",
            "name": HOSTILE_STAFF_NAME,
        },
    )
    responses["users: created"] = created
    password = re.search(r'<code class="password">([^<]+)</code>', created.text).group(1)
    failed = app.test_client()
    responses["login failed"] = log_in(failed, HOSTILE_USERNAME, "wrong password!")
    doctor = app.test_client()
    responses["login"] = log_in(doctor, "drlee", password)
    page = doctor.get(f"/staff/submissions/{sid}")
    responses["decision"] = doctor.post(
        f"/staff/submissions/{sid}/decision",
        data={"csrf_token": csrf_token(page.text), "decision": "consult", "note": HOSTILE_NOTE},
    )
    responses["decision: error"] = doctor.post(
        f"/staff/submissions/{sid}/decision",
        data={"csrf_token": csrf_token(page.text), "decision": "<b>x</b>", "note": HOSTILE_NOTE},
    )
    day = rows_day(app, sid)
    pages = {
        "queue": doctor.get("/staff/?decided=all"),
        "queue search": searched(
            doctor, "queue", STAFF_HOSTILE["full_name"], "/staff/?decided=all"
        ),
        "queue bad filters": doctor.get(
            "/staff/", query_string={"since": HOSTILE_NOTE, "outcome": HOSTILE_NOTE}
        ),
        "submission": doctor.get(f"/staff/submissions/{sid}"),
        "day": doctor.get(f"/staff/day?date={day}"),
        "day search": searched(doctor, "day", HOSTILE_NOTE, f"/staff/day?date={day}"),
        "audit": admin.get("/staff/audit"),
        "audit search": admin.get(
            "/staff/audit", query_string={"username": HOSTILE_USERNAME, "action": HOSTILE_NOTE}
        ),
        "users": admin.get("/staff/users"),
    }
    responses.update(pages)
    responses.update(
        {
            "summary pdf": doctor.get(f"/staff/submissions/{sid}/summary.pdf"),
            "403": staff("front_desk").get("/staff/audit"),
            "404": doctor.get("/staff/submissions/999999"),
            "405": doctor.get("/staff/logout"),
            "anonymous": app.test_client().get("/staff/"),
        }
    )
    statuses = {kind: r.status_code for kind, r in responses.items()}
    assert statuses["decision"] == 302 and statuses["decision: error"] == 422, statuses
    assert {statuses[k] for k in pages} == {200}, statuses
    assert statuses["403"] == 403 and statuses["404"] == 404 and statuses["405"] == 405
    hostile = [*STAFF_HOSTILE.values(), HOSTILE_NOTE, HOSTILE_USERNAME, HOSTILE_STAFF_NAME]
    for kind, response in responses.items():
        assert_security_headers(response, kind)
        if response.mimetype != "text/html":
            assert response.mimetype == "application/pdf", kind
            continue
        assert_no_active_content(response.text)
        for value in hostile:
            assert value not in response.text, (kind, value)
    escaped = {
        "queue": ["&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt; Ann"],
        "day": ["&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt; Ann"],
        "submission": [
            "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt; Ann",
            "&lt;b onmouseover=alert(1)&gt;555&lt;/b&gt;",
            "&#34;&gt;&lt;svg onload=alert(2)&gt;",
            "&lt;/textarea&gt;&lt;img src=x onerror=alert(3)&gt;&amp;amp; {{ 7*7 }}",
            "&lt;/textarea&gt;&lt;script&gt;alert(5)&lt;/script&gt;{{ 7*7 }}",
            "by &lt;script&gt;alert(7)&lt;/script&gt; Dr Lee",
        ],
        # The name typed at a failed login is not an account's, so the audit log does not
        # keep it at all (issue 17); the audit filter still shows a typed name back escaped.
        "audit search": ['value="&lt;img/src=x/onerror=alert(6)&gt;"'],
        "users": ["&lt;script&gt;alert(7)&lt;/script&gt; Dr Lee"],
        "users: bad username": ['value="&lt;img/src=x/onerror=alert(6)&gt;"'],
    }
    for kind, texts in escaped.items():
        for text in texts:
            assert text in responses[kind].text, (kind, text)
    assert "onerror=alert(6)" not in responses["audit"].text


def stored_before_phone_checks(app, submission_id: int, phone: str) -> None:
    """Give a stored submission a phone number no form accepts any more (an older row)."""
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        [answers] = conn.execute(
            "SELECT answers FROM submissions WHERE id = ?", [submission_id]
        ).fetchone()
        conn.execute(
            "UPDATE submissions SET answers = ? WHERE id = ?",
            [json.dumps({**json.loads(answers), "phone": phone}), submission_id],
        )
        conn.commit()
    finally:
        conn.close()


def rows_day(app, submission_id: int) -> str:
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        return conn.execute("SELECT day FROM submissions WHERE id = ?", [submission_id]).fetchone()[
            0
        ]
    finally:
        conn.close()
