"""What every response carries: headers, polite error pages, the body limit."""

from __future__ import annotations

from helpers import csrf_token


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in response.headers


def test_no_page_may_use_camera_microphone_or_location_and_no_opener_reaches_it(client, staff):
    """Issue 17, finding 9: no Permissions-Policy and no Cross-Origin-Opener-Policy."""
    responses = [client.get("/"), client.get("/nope"), staff("provider").get("/staff/")]
    for response in responses:
        policy = {p.strip() for p in response.headers["Permissions-Policy"].split(",")}
        assert {"camera=()", "microphone=()", "geolocation=()"} <= policy
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_hsts_and_secure_cookies_with_https(tmp_path):
    from screening import create_app

    app = create_app({"SECRET_KEY": "x", "DATABASE": str(tmp_path / "db"), "HTTPS": True})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/")
    assert "max-age" in response.headers["Strict-Transport-Security"]


def test_post_without_csrf_token_is_refused_politely(client):
    response = client.post("/start")
    assert response.status_code == 400
    assert "could not be used" in response.text and "Traceback" not in response.text


def test_a_body_over_the_limit_gets_a_polite_413(client):
    page = client.get("/")
    response = client.post("/start", data={"csrf_token": csrf_token(page.text), "x": "a" * 70_000})
    assert response.status_code == 413 and "Too much text" in response.text


def test_a_crash_shows_the_500_page_without_a_traceback(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret answer text")

    response = client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "secret answer text" not in response.text and "Traceback" not in response.text


def test_forms_work_over_https_without_a_referer(tmp_path):
    from screening import create_app
    from screening.store import init_db

    init_db(tmp_path / "db")
    app = create_app({"SECRET_KEY": "x", "DATABASE": str(tmp_path / "db"), "HTTPS": True})
    client = app.test_client()
    page = client.get("/", base_url="https://clinic.example")
    response = client.post(
        "/start", base_url="https://clinic.example", data={"csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 302 and response.location.endswith("/step/about")


def test_every_page_has_the_clinic_icon(client):
    page = client.get("/")
    assert '<link rel="icon" href="/static/img/icon.svg" type="image/svg+xml">' in page.text
    for url in ("/static/img/icon.svg", "/favicon.ico"):
        icon = client.get(url)
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
        assert icon.data.startswith(b"<svg")
        icon.close()
