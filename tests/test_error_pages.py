"""Error pages through real gunicorn, configured as in production (debug off, exceptions
not propagated): each says what to do next and never shows a traceback or form data."""

from __future__ import annotations

import pytest
import requests
from failing_app import SECRET_IN_ERROR
from helpers import TEST_SETTINGS, csrf_token

NEXT_STEP = {
    400: "Go back to the start and try again",
    403: "Ask a clinic administrator",
    404: "Use the links below",
    405: "Use the links below",
    413: "Shorten your answers and try again",
    500: "Please try again in a minute, or ask the front desk",
}
PRODUCTION = {
    "FLASK_DEBUG": "0",
    "SCREENING_DEBUG": "false",
    "SCREENING_PROPAGATE_EXCEPTIONS": "false",
    "SCREENING_TESTING": "false",
}


def chunked(prefix: bytes, size: int):
    """A body sent with Transfer-Encoding: chunked (no Content-Length)."""
    yield prefix
    for _ in range(size // 4096):
        yield b"a" * 4096


def assert_polite(response, code: int, leak: str = SECRET_IN_ERROR) -> None:
    assert response.status_code == code, (code, response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("text/html")
    text = response.text
    assert NEXT_STEP[code] in text, code
    assert "Go to the questionnaire start" in text and f"Error {code}" in text
    for tell in (
        "Traceback",
        "traceback",
        "Werkzeug Debugger",
        "RuntimeError",
        leak,
        'File "',
        "site-packages",
    ):
        assert tell not in text, (code, tell)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_every_error_page_through_gunicorn_in_production_mode(gunicorn):
    server = gunicorn(workers=2, app="failing_app:create()", env=PRODUCTION)
    url = server.url
    http = requests.Session()
    assert_polite(http.post(url + "/start"), 400)  # no CSRF token
    assert_polite(http.get(url + "/test-only/forbidden"), 403)
    assert_polite(http.get(url + "/no-such-page"), 404)
    assert_polite(http.get(url + "/static/css/no-such.css"), 404)
    assert_polite(http.get(url + "/step/no-such-step"), 404)
    wrong_method = http.get(url + "/start")  # a bookmarked or refreshed form address
    assert_polite(wrong_method, 405)
    assert set(wrong_method.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
    assert_polite(http.put(url + "/review"), 405)
    token = csrf_token(http.get(url + "/").text).encode()
    for size in (70_000, 5_000_000):  # the reply arrives, not a reset connection
        assert_polite(http.post(url + "/start", data={"csrf_token": token, "x": "a" * size}), 413)
    assert_polite(
        http.post(
            url + "/start",
            data=chunked(b"csrf_token=" + token + b"&x=", 100_000),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        413,
    )
    assert_polite(http.get(url + "/test-only/crash"), 500)
    # The app still serves after each of them.
    assert http.get(url + "/").status_code == 200
    output = server.output()
    assert SECRET_IN_ERROR not in output and "Traceback" not in output
    assert "unhandled RuntimeError on GET crash" in output  # the failure is logged, bare


def test_a_chunked_body_within_the_limit_is_read_whole(gunicorn):
    """The limit check on chunked bodies must not cut short what is allowed."""
    server = gunicorn(workers=1)
    http = requests.Session()
    token = csrf_token(http.get(server.url + "/").text).encode()
    response = http.post(
        server.url + "/start",
        allow_redirects=False,
        data=chunked(b"x=" + b"b" * 100 + b"&csrf_token=" + token + b"&y=", 40_000),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/step/about")


@pytest.mark.parametrize(
    "config",
    [
        {"DEBUG": True},
        {"PROPAGATE_EXCEPTIONS": True},
        {"TESTING": True},
        {"DEBUG": True, "PROPAGATE_EXCEPTIONS": True, "TESTING": True},
    ],
)
def test_no_configuration_turns_a_crash_into_a_traceback(tmp_path, config):
    from flask import abort

    from screening import create_app

    app = create_app(
        {"SECRET_KEY": "k", "DATABASE": str(tmp_path / "db"), **TEST_SETTINGS, **config}
    )

    @app.get("/test-only/crash")
    def crash():
        raise RuntimeError(SECRET_IN_ERROR)

    @app.get("/test-only/forbidden")
    def forbidden():
        abort(403)

    client = app.test_client()
    assert_polite(client.get("/test-only/crash"), 500)
    assert_polite(client.get("/test-only/forbidden"), 403)
    assert_polite(client.get("/nope"), 404)
    assert_polite(client.post("/start"), 400)
