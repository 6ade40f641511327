"""A client's session reaches only its own draft: forged, guessed and replayed cookies get
nothing, and after submission the token is dead."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
import sqlite3
import zlib
from types import SimpleNamespace

import pytest
from helpers import csrf_token, form_data, revision, valid_answers
from itsdangerous import URLSafeTimedSerializer

VICTIM = valid_answers(
    full_name="Wilhelmina Quarrington",
    signature="Wilhelmina Quarrington",
    phone="555 7391",
    notes="Private note about my scarring",
)


def snapshot(app) -> list[tuple]:
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        return conn.execute("SELECT * FROM submissions ORDER BY id").fetchall()
    finally:
        conn.close()


def session_cookie(app, data: dict, secret: str | None = None) -> str:
    """A session cookie as Flask signs it, with the app's key or another one."""
    signer = SimpleNamespace(
        secret_key=secret or app.secret_key, config={"SECRET_KEY_FALLBACKS": None}
    )
    return app.session_interface.get_signing_serializer(signer).dumps(data)


def form_token(app, raw: str, secret: str | None = None) -> str:
    """The CSRF form token Flask-WTF would render for a session holding `raw`."""
    return URLSafeTimedSerializer(secret or app.secret_key, salt="wtf-csrf-token").dumps(raw)


def cookie_data(cookie: str) -> dict:
    """What a Flask session cookie holds: readable by its owner (it is signed, not sealed).
    A payload that zlib makes shorter is sent compressed, marked by a leading dot."""
    payload = cookie.rsplit(".", 2)[0]
    data = base64.urlsafe_b64decode(payload.lstrip(".") + "=" * (-len(payload.lstrip(".")) % 4))
    return json.loads(zlib.decompress(data) if payload.startswith(".") else data)


def draft_token(client) -> str:
    """The victim's draft token, read from its own cookie."""
    return cookie_data(client.get_cookie("screening").value)["draft"]


def assert_gets_nothing(
    app, cookie: str, csrf_raw: str | None = None, secret: str | None = None
) -> None:
    """With this cookie: no resume, no step, no review, no done page, no write."""
    before = snapshot(app)
    intruder = app.test_client()
    intruder.set_cookie("screening", cookie)
    pages = [intruder.get("/")]
    assert "Continue my answers" not in pages[0].text
    intruder.set_cookie("screening", cookie)
    for path in ("/continue", "/step/about", "/step/goals", "/review"):
        response = intruder.get(path)
        pages.append(response)
        assert response.status_code == 410, (path, response.status_code)
        assert "Please start again" in response.text
        intruder.set_cookie("screening", cookie)
    if csrf_raw:
        token = form_token(app, csrf_raw, secret)
        section = app.extensions["questionnaire"].steps[0]
        data = {
            **form_data(section.step_questions, valid_answers(full_name="Intruder")),
            "csrf_token": token,
            "nav": "next",
        }
        response = intruder.post("/step/about", data=data)
        pages.append(response)
        assert response.status_code in (400, 410), response.status_code
        intruder.set_cookie("screening", cookie)
        response = intruder.post(
            "/review",
            data={"csrf_token": token, "attest": "yes", "signature": "Intruder", "submit_key": "k"},
        )
        pages.append(response)
        assert response.status_code in (400, 410), response.status_code
    pages.append(intruder.get("/done"))
    for page in pages:
        for secret_value in ("Wilhelmina", "Quarrington", "555 7391", "scarring"):
            assert secret_value not in page.text
    assert snapshot(app) == before


@pytest.fixture
def victim(wizard, client):
    """A client halfway through: two steps saved, the draft token in its cookie."""
    wizard.start()
    for section in wizard.qn.steps[:2]:
        assert wizard.post_step(section.id, VICTIM).status_code == 302
    return client


def test_a_cookie_signed_with_the_wrong_key_reaches_nothing(app, victim):
    raw = secrets.token_hex(20)
    forged = session_cookie(
        app, {"draft": draft_token(victim), "csrf_token": raw}, secret="not-the-server-key"
    )
    assert_gets_nothing(app, forged, csrf_raw=raw, secret="not-the-server-key")


def test_a_guessed_draft_token_with_the_right_key_reaches_nothing(app, victim):
    raw = secrets.token_hex(20)
    for _ in range(5):
        guess = secrets.token_urlsafe(32)
        assert_gets_nothing(
            app, session_cookie(app, {"draft": guess, "csrf_token": raw}), csrf_raw=raw
        )


def test_a_draft_token_of_the_wrong_type_reaches_nothing(app, victim):
    raw = secrets.token_hex(20)
    for odd in (None, 0, 12345, [draft_token(victim)], {"token": draft_token(victim)}, ""):
        assert_gets_nothing(
            app, session_cookie(app, {"draft": odd, "csrf_token": raw}), csrf_raw=raw
        )


def test_the_victims_own_cookie_still_works(app, victim):
    """The control: the checks above fail for the right reason, not because nothing works."""
    page = victim.get("/step/products")
    assert page.status_code == 200
    assert 'value="Wilhelmina Quarrington"' in victim.get("/step/about").text


def test_after_submission_the_old_cookie_is_dead(app, wizard, victim):
    for section in wizard.qn.steps[2:]:
        assert wizard.post_step(section.id, VICTIM).status_code == 302
    old_cookie = victim.get_cookie("screening").value
    csrf_raw = cookie_data(old_cookie)["csrf_token"]
    assert wizard.submit(VICTIM).location.endswith("/done")
    assert_gets_nothing(app, old_cookie, csrf_raw=csrf_raw)


def review_post(wizard, client, answers, submit_key=None):
    page = client.get("/review")
    key = submit_key or re.search(r'name="submit_key"[^>]*value="([^"]*)"', page.text).group(1)
    data = form_data(wizard.qn.review_questions, answers)
    data.update(
        {"csrf_token": csrf_token(page.text), "submit_key": key, "rev": revision(page.text)}
    )
    return data


def test_two_clients_sending_the_same_submit_key_both_submit(app):
    """The submit key is a form field, so any value can arrive; it used to be unique across
    all submissions, and the second client got a 500 (UNIQUE constraint failed)."""
    from helpers import Wizard

    for name in ("Client One", "Client Two"):
        client = app.test_client()
        wizard = Wizard(client, app)
        answers = valid_answers(full_name=name, signature=name)
        wizard.walk(answers)
        data = review_post(wizard, client, answers, submit_key="same-key")
        response = client.post("/review", data=data)
        assert response.status_code == 302 and response.location.endswith("/done"), (
            response.status_code
        )
    conn = sqlite3.connect(app.config["DATABASE"])
    names = [
        r[0]
        for r in conn.execute(
            "SELECT client_name FROM submissions WHERE status = 'submitted' ORDER BY id"
        )
    ]
    conn.close()
    assert names == ["Client One", "Client Two"]


def test_a_replayed_review_form_works_only_as_a_double_tap(app, wizard, client):
    answers = VICTIM
    wizard.walk(answers)
    data = review_post(wizard, client, answers)
    old_cookie = client.get_cookie("screening").value
    assert client.post("/review", data=data).location.endswith("/done")
    late = app.test_client()
    late.set_cookie("screening", old_cookie)
    assert late.post("/review", data=data).location.endswith("/done")  # a double tap
    # Days later the same request (cookie and form) reaches nothing.
    conn = sqlite3.connect(app.config["DATABASE"])
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=11)).isoformat()
    conn.execute("UPDATE submissions SET submitted_at = ?", [past])
    conn.commit()
    conn.close()
    before = snapshot(app)
    replay = app.test_client()
    replay.set_cookie("screening", old_cookie)
    response = replay.post("/review", data=data)
    assert response.status_code == 410 and "Please start again" in response.text
    assert "Wilhelmina" not in replay.get("/done").text
    assert snapshot(app) == before


def test_the_database_holds_no_token_a_copy_could_resume(app, wizard, victim):
    token = draft_token(victim)
    dump = "\n".join(map(str, snapshot(app)))
    assert token not in dump
    assert hashlib.sha256(token.encode()).hexdigest() in dump
