"""Two-factor sign-in for staff (issue 17): providers and admins set up an authenticator at
their first login (QR code and key), then log in with a password and a code; a code is
accepted one step either side of now and never twice; recovery codes work once each and
are stored hashed; an admin (or the command line) resets it, audited."""

from __future__ import annotations

import datetime as dt
import re
import time

import pyotp
import pytest
from helpers import TEST_SETTINGS, csrf_token, log_in, make_user, rows

from screening import create_app
from screening.store import init_db


@pytest.fixture
def app(tmp_path, cheap_argon2):
    """The test app with two-factor sign-in required, as every new instance has it."""
    init_db(tmp_path / "2fa.db")
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE": str(tmp_path / "2fa.db"),
            **TEST_SETTINGS,
            "REQUIRE_2FA": True,
        }
    )


def post_code(client, path: str, code: str):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(path, data={"csrf_token": csrf_token(page.text), "code": code})


def key_on_page(html: str) -> str:
    match = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html)
    assert match, "no key shown as text"
    return match.group(1).replace(" ", "")


def enrol(client, username: str) -> tuple[str, list[str]]:
    """Log in for the first time and set up the authenticator; return its secret and the
    recovery codes shown."""
    response = log_in(client, username)
    assert response.status_code == 302 and response.location == "/staff/login/enrol"
    page = client.get("/staff/login/enrol")
    secret = key_on_page(page.text)
    done = client.post(
        "/staff/login/enrol",
        data={"csrf_token": csrf_token(page.text), "code": pyotp.TOTP(secret).now()},
    )
    assert done.status_code == 200, done.text
    codes = re.findall(r'<code class="password">([a-z2-7-]{19})</code>', done.text)
    return secret, codes


def early_in_a_step(seconds: float = 10) -> None:
    """Wait for a new 30-second step when fewer than `seconds` remain of this one, so that
    "now" stays in one step while a test runs."""
    left = 30 - time.time() % 30
    if left < seconds:
        time.sleep(left + 0.2)


def code_at(secret: str, steps: int) -> str:
    """The code `steps` periods from now (negative: earlier)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def test_a_provider_sets_up_two_factor_at_the_first_login(app):
    make_user(app, "dana", "provider")
    client = app.test_client()
    assert log_in(client, "dana").location == "/staff/login/enrol"
    # The password alone opens nothing.
    assert client.get("/staff/").status_code == 302
    page = client.get("/staff/login/enrol")
    assert page.status_code == 200
    qr = re.search(r'<img class="qr" src="(data:image/svg\+xml[^"]+)"', page.text)
    assert qr and "alt=" in page.text  # a QR code made here, inline (the CSP allows data:)
    secret = key_on_page(page.text)
    assert len(secret) == 32
    # A wrong code is a field error; nothing set up, nobody logged in.
    wrong = client.post(
        "/staff/login/enrol", data={"csrf_token": csrf_token(page.text), "code": "000000"}
    )
    assert wrong.status_code == 401 and "does not match" in wrong.text
    assert client.get("/staff/").status_code == 302
    done = client.post(
        "/staff/login/enrol",
        data={"csrf_token": csrf_token(page.text), "code": pyotp.TOTP(secret).now()},
    )
    assert done.status_code == 200 and "shown only now" in done.text
    codes = re.findall(r'<code class="password">([a-z2-7-]{19})</code>', done.text)
    assert len(codes) == 10 == len(set(codes))
    assert client.get("/staff/").status_code == 200  # logged in
    stored = rows(app, "SELECT code_hash, used_at FROM recovery_codes")
    assert len(stored) == 10
    assert not any(c.replace("-", "") in str(stored) or c in str(stored) for c in codes)
    user = rows(app, "SELECT totp_secret, totp_pending FROM users WHERE username = 'dana'")[0]
    assert user == {"totp_secret": secret, "totp_pending": None}
    actions = [r["action"] for r in rows(app, "SELECT action FROM audit ORDER BY id")]
    # Logged in, it lands on the queue, whose view is audited too.
    assert actions[-3:] == ["two_factor_enrol", "login", "view_queue"]


def test_the_front_desk_needs_no_code_and_an_instance_may_turn_it_off(app, tmp_path):
    make_user(app, "frank", "front_desk")
    assert log_in(app.test_client(), "frank").location == "/staff/day"
    assert app.config["REQUIRE_2FA"] is True
    from screening.config import defaults

    assert defaults(str(tmp_path))["REQUIRE_2FA"] is True  # on for every new instance
    off = create_app({**app.config, "REQUIRE_2FA": False})
    make_user(off, "dana", "provider")
    assert log_in(off.test_client(), "dana").location == "/staff/"


def test_a_code_is_accepted_one_step_either_side_and_never_twice(app):
    app.config["LOGIN_MAX_FAILURES"] = 100  # every try here is a password and a code
    make_user(app, "dana", "provider")
    early_in_a_step()
    secret, _ = enrol(app.test_client(), "dana")  # used the code of this step

    def attempt(code: str):
        client = app.test_client()
        assert log_in(client, "dana").location == "/staff/login/code"
        return post_code(client, "/staff/login/code", code)

    assert attempt(code_at(secret, 0)).status_code == 401  # this step's code: used already
    assert attempt(code_at(secret, -2)).status_code == 401  # two steps old: too old
    assert attempt(code_at(secret, 2)).status_code == 401  # two steps ahead: too far
    later = attempt(code_at(secret, 1))  # a clock a step ahead: accepted
    assert later.status_code == 302 and later.location == "/staff/"
    again = attempt(code_at(secret, 1))
    assert again.status_code == 401 and "does not match" in again.text  # never twice
    assert attempt(code_at(secret, 0)).status_code == 401  # nor an earlier one after it


def test_recovery_codes_work_once_each(app):
    make_user(app, "dana", "provider")
    _, codes = enrol(app.test_client(), "dana")
    client = app.test_client()
    log_in(client, "dana")
    response = post_code(client, "/staff/login/code", codes[3].upper().replace("-", " "))
    assert response.status_code == 302
    assert "recovery code; 9 remain" in client.get("/staff/").text
    again = app.test_client()
    log_in(again, "dana")
    assert post_code(again, "/staff/login/code", codes[3]).status_code == 401
    used = rows(app, "SELECT detail FROM audit WHERE action = 'recovery_code_used'")
    assert used == [{"detail": "9 left"}]


def test_the_code_step_is_guarded_like_the_password(app):
    """Wrong codes count as failed logins: five lock the name (the right password and code
    no longer help), and they are never written one audit row each beyond the first few."""
    make_user(app, "dana", "provider")
    enrol(app.test_client(), "dana")
    client = app.test_client()
    log_in(client, "dana")
    statuses = [post_code(client, "/staff/login/code", "123456").status_code for _ in range(5)]
    assert statuses[:4] == [401] * 4  # the password counted as the first attempt
    assert statuses[4] == 429
    client = app.test_client()
    refused = log_in(client, "dana")  # the right password, from the same address
    assert refused.status_code == 429 and "paused for 15 minutes" in refused.text
    assert client.get("/staff/login/code").location == "/staff/login"  # no code step
    assert client.get("/staff/").status_code == 302


def test_the_code_step_expires(app):
    make_user(app, "dana", "provider")
    enrol(app.test_client(), "dana")
    client = app.test_client()
    log_in(client, "dana")
    with client.session_transaction() as session:
        session["pending_login"] = {**session["pending_login"], "until": time.time() - 1}
    response = client.get("/staff/login/code")
    assert response.status_code == 302 and response.location == "/staff/login"
    assert "Please log in again" in client.get("/staff/login").text


def test_an_admin_resets_two_factor_and_it_is_audited(app):
    make_user(app, "dana", "provider")
    make_user(app, "ada", "admin")
    dana = app.test_client()
    enrol(dana, "dana")
    ada = app.test_client()
    enrol(ada, "ada")
    page = ada.get("/staff/users")
    assert "two-factor" in page.text.lower() and "Reset two-factor sign-in" in page.text
    # Not their own, and not by a provider.
    own = ada.post("/staff/users/ada/two-factor/reset", data={"csrf_token": csrf_token(page.text)})
    assert own.status_code == 302 and rows(app, "SELECT totp_secret FROM users WHERE id = 2")[0]
    provider_page = dana.get("/staff/")
    refused = dana.post(
        "/staff/users/ada/two-factor/reset", data={"csrf_token": csrf_token(provider_page.text)}
    )
    assert refused.status_code == 403
    response = ada.post(
        "/staff/users/dana/two-factor/reset", data={"csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 302
    assert "dana will set up two-factor sign-in again" in ada.get("/staff/users").text
    assert dana.get("/staff/").status_code == 302  # logged out everywhere
    state = rows(app, "SELECT totp_secret FROM users WHERE username = 'dana'")[0]
    assert state["totp_secret"] is None
    assert rows(app, "SELECT count(*) AS n FROM recovery_codes WHERE user_id = 1")[0]["n"] == 0
    audit = rows(app, "SELECT username, detail FROM audit WHERE action = 'two_factor_reset'")
    assert audit == [{"username": "ada", "detail": "dana"}]
    assert log_in(app.test_client(), "dana").location == "/staff/login/enrol"  # again
    assert (
        ada.post(
            "/staff/users/nobody/two-factor/reset", data={"csrf_token": csrf_token(page.text)}
        ).status_code
        == 404
    )


def test_the_command_line_resets_two_factor_too(app, runner):
    make_user(app, "ada", "admin")
    enrol(app.test_client(), "ada")
    result = runner.invoke(args=["users", "reset-2fa", "ada"])
    assert result.exit_code == 0, result.output
    assert "reset for ada" in result.output
    audit = rows(app, "SELECT username, detail FROM audit WHERE action = 'two_factor_reset'")
    assert audit == [{"username": "(command line)", "detail": "ada"}]
    assert runner.invoke(args=["users", "reset-2fa", "nobody"]).exit_code == 1


def test_the_window_is_one_step(app):
    """pyotp's own check agrees with ours about which codes fit (one step either side)."""
    from screening.staff.two_factor import matching_step

    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    now = dt.datetime.now(dt.UTC)
    for steps, fits in ((-2, False), (-1, True), (0, True), (1, True), (2, False)):
        code = totp.at(now + dt.timedelta(seconds=30 * steps))
        assert (matching_step(secret, code, now) is not None) == fits, steps
        assert totp.verify(code, for_time=now, valid_window=1) == fits
