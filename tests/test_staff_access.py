"""Staff accounts: the route x role matrix, lockout, idle logoff, sessions that really end."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3

import pytest
from helpers import PASSWORD, TEST_SETTINGS, csrf_token, log_in, make_user


def db(app):
    conn = sqlite3.connect(app.config["DATABASE"])
    conn.row_factory = sqlite3.Row
    return conn


ROUTES = [  # (method, url, lowest role allowed)
    ("GET", "/staff/", "provider"),
    ("GET", "/staff/submissions/{id}", "provider"),
    ("POST", "/staff/submissions/{id}/decision", "provider"),
    ("GET", "/staff/day", "front_desk"),
    ("GET", "/staff/audit", "admin"),
    ("GET", "/staff/users", "admin"),
    ("POST", "/staff/users", "admin"),
    ("POST", "/staff/users/someone/disable", "admin"),
]
RANK = {"front_desk": 0, "provider": 1, "admin": 2}


def request(client, method, url, submission_id):
    url = url.format(id=submission_id)
    if method == "GET":
        return client.get(url)
    page = client.get("/staff/day")
    token = csrf_token(page.text if page.status_code == 200 else client.get("/staff/login").text)
    return client.post(
        url,
        data={
            "csrf_token": token,
            "decision": "cleared",
            "username": "newperson",
            "role": "front_desk",
        },
    )


@pytest.mark.parametrize("method, url, need", ROUTES)
@pytest.mark.parametrize("role", ["anonymous", "front_desk", "provider", "admin", "disabled"])
def test_route_role_matrix(app, staff, submitted, method, url, need, role):
    submission_id = submitted()
    make_user(app, "someone", "front_desk")
    if role == "anonymous":
        client = app.test_client()
    elif role == "disabled":
        client = staff("provider")
        conn = db(app)
        conn.execute("UPDATE users SET active = 0 WHERE username = 'provider-user'")
        conn.commit()
        conn.close()
    else:
        client = staff(role)
    response = request(client, method, url, submission_id)
    if role in ("anonymous", "disabled"):
        if method == "GET":
            assert response.status_code == 302 and "/staff/login" in response.location
        else:
            assert response.status_code in (302, 400)  # to the login page, or no CSRF session
        assert "Ana María" not in response.text
    elif RANK[role] >= RANK[need]:
        assert response.status_code in (200, 302), (role, url, response.status_code)
    else:
        assert response.status_code == 403 and "Not allowed" in response.text
        assert "Ana María" not in response.text


@pytest.mark.parametrize("hops", [0, 1])
def test_behind_a_proxy_the_lockout_counts_forwarded_addresses_only_when_told(tmp_path, hops):
    """Every client reaches the app from the proxy's address. With PROXY_HOPS=1 the lockout
    counts the address the proxy forwards (one person's mistakes lock only them); with the
    default 0 the header is ignored, so forging it cannot dodge the lockout."""
    from screening import create_app
    from screening.store import init_db

    init_db(tmp_path / "proxy.db")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "PROXY_HOPS": hops,
            "DATABASE": str(tmp_path / "proxy.db"),
            **TEST_SETTINGS,
        }
    )
    make_user(app, "dana", "provider")
    proxy = {"REMOTE_ADDR": "10.0.0.1"}

    def attempt(client, password, forwarded):
        page = client.get("/staff/login", environ_base=proxy)
        return client.post(
            "/staff/login",
            environ_base=proxy,
            headers={"X-Forwarded-For": forwarded},
            data={"csrf_token": csrf_token(page.text), "username": "dana", "password": password},
        )

    mallory = app.test_client()
    for i in range(5):  # a new forged address each time does not reset the count at hops=0
        forged = "203.0.113.7" if hops else f"203.0.113.{i + 10}"
        assert attempt(mallory, "wrong password!", forged).status_code == 401
    dana = attempt(app.test_client(), PASSWORD, "198.51.100.2")
    assert dana.status_code == (302 if hops else 429)
    again = attempt(mallory, PASSWORD, "203.0.113.7")
    assert again.status_code == 429 and "paused for 15 minutes" in again.text


def test_the_403_page_offers_the_front_desk_a_page_it_can_open(staff):
    desk = staff("front_desk")
    refused = desk.get("/staff/")
    assert refused.status_code == 403
    links = re.findall(r'<a class="button[^"]*" href="([^"]+)"', refused.text)
    assert links[0] == "/staff/day" and "/staff/" not in links  # their page comes first
    assert all(desk.get(link).status_code == 200 for link in links)
    provider = staff("provider")
    refused = provider.get("/staff/audit")
    links = re.findall(r'<a class="button[^"]*" href="([^"]+)"', refused.text)
    assert refused.status_code == 403 and links[0] == "/staff/"


def test_client_pages_show_no_staff_data(client, submitted):
    submitted(full_name="Hidden Person", signature="Hidden Person")
    for url in ("/", "/done", "/review", "/continue"):
        assert "Hidden Person" not in client.get(url).text


def test_login_failures_lock_the_name_for_this_address(app):
    make_user(app, "dana", "provider")
    client = app.test_client()
    for _ in range(5):
        response = log_in(client, "dana", "wrong password!")
        assert response.status_code == 401
        assert "do not match an active account" in response.text
    # The sixth try is refused, even with the right password, on another "worker".
    from screening import create_app

    other = create_app(
        {
            "SECRET_KEY": "test-secret",
            "DATABASE": app.config["DATABASE"],
            "TESTING": True,
            **TEST_SETTINGS,
        }
    ).test_client()
    response = log_in(other, "dana", PASSWORD)
    assert response.status_code == 429 and "paused for 15 minutes" in response.text
    # From another address the name still works.
    page = other.get("/staff/login")
    response = other.post(
        "/staff/login",
        data={"csrf_token": csrf_token(page.text), "username": "dana", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert response.status_code == 302
    # After 15 minutes the lock lifts.
    conn = db(app)
    conn.execute(
        "UPDATE login_attempts SET at = ?",
        [(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)).isoformat()],
    )
    conn.commit()
    conn.close()
    assert log_in(app.test_client(), "dana").status_code == 302


def test_unknown_name_and_wrong_password_get_the_same_message(app):
    make_user(app, "dana", "provider")
    a = log_in(app.test_client(), "nobody", PASSWORD)
    b = log_in(app.test_client(), "dana", "wrong password!")
    assert a.status_code == b.status_code == 401
    assert "do not match an active account" in a.text and "do not match an active account" in b.text


def test_the_session_changes_at_login(app):
    make_user(app, "dana", "provider")
    client = app.test_client()
    client.get("/staff/login")
    before = client.get_cookie("screening").value
    log_in(client, "dana")
    after = client.get_cookie("screening").value
    assert before != after
    log_in(client2 := app.test_client(), "dana")
    conn = db(app)
    assert conn.execute("SELECT count(DISTINCT id) FROM staff_sessions").fetchone()[0] == 2
    conn.close()
    assert client2.get_cookie("screening").value != after


def _copied(app, client):
    copy = app.test_client()
    copy.set_cookie("screening", client.get_cookie("screening").value)
    return copy


def test_a_cookie_copied_before_logout_is_refused_afterwards(app, staff):
    client = staff("provider")
    copy = _copied(app, client)
    assert copy.get("/staff/").status_code == 200
    page = client.get("/staff/")
    client.post("/staff/logout", data={"csrf_token": csrf_token(page.text)})
    assert client.get("/staff/").status_code == 302
    assert copy.get("/staff/").status_code == 302


def test_a_cookie_copied_before_disabling_is_refused_afterwards(app, staff):
    client = staff("provider")
    copy = _copied(app, client)
    admin = staff("admin")
    page = admin.get("/staff/users")
    response = admin.post(
        "/staff/users/provider-user/disable", data={"csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 302
    assert copy.get("/staff/").status_code == 302
    assert log_in(app.test_client(), "provider-user").status_code == 401


def test_idle_staff_are_logged_off_and_the_cookie_dies(app, staff):
    client = staff("provider")
    copy = _copied(app, client)
    conn = db(app)
    conn.execute(
        "UPDATE staff_sessions SET last_seen = ?",
        [(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)).isoformat()],
    )
    conn.commit()
    response = client.get("/staff/")
    assert response.status_code == 302 and "/staff/login" in response.location
    assert "without activity" in client.get(response.location).text
    assert (
        conn.execute("SELECT count(*) FROM audit WHERE action = 'idle_logoff'").fetchone()[0] == 1
    )
    conn.close()
    # Activity would not revive it: the record is revoked.
    assert copy.get("/staff/").status_code == 302


@pytest.mark.parametrize(
    "target, lands",
    [
        ("/staff/day", "/staff/day"),
        ("//evil.example/x", "/staff/"),
        ("https://evil.example/", "/staff/"),
        ("/\\evil.example", "/staff/"),
        ("javascript:alert(1)", "/staff/"),
    ],
)
def test_next_after_login_must_be_a_local_path(app, target, lands):
    make_user(app, "dana", "provider")
    response = log_in(app.test_client(), "dana", next_url=target)
    assert response.status_code == 302 and response.location == lands


def test_anonymous_is_sent_to_login_with_next(app):
    response = app.test_client().get("/staff/day?date=2026-01-02")
    assert response.status_code == 302
    assert response.location.startswith("/staff/login?next=")


PDF_ROUTES = [
    "/staff/submissions/{id}/summary.pdf",
    "/staff/day/{day}.pdf",
    "/staff/print/day/{day}",
    "/staff/print?ids={id}",
]


def test_pdf_route_role_matrix(app, staff, submitted, cheap_argon2):
    """The PDF routes: the front desk, providers and admins get the PDF; anonymous and
    disabled accounts are sent to log in and get no PDF (nor the client's name)."""
    submission_id = submitted()
    conn = db(app)
    day = conn.execute("SELECT day FROM submissions").fetchone()[0]
    conn.close()
    urls = [url.format(id=submission_id, day=day) for url in PDF_ROUTES]
    clients = {"anonymous": app.test_client(), "disabled": staff("provider")}
    conn = db(app)
    conn.execute("UPDATE users SET active = 0 WHERE username = 'provider-user'")
    conn.commit()
    conn.close()
    for role in ("front_desk", "admin"):
        clients[role] = staff(role)
    make_user(app, "second-provider", "provider")
    clients["provider"] = app.test_client()
    assert log_in(clients["provider"], "second-provider").status_code == 302
    for role, client in clients.items():
        for url in urls:
            response = client.get(url)
            if role in ("anonymous", "disabled"):
                assert response.status_code == 302, (role, url, response.status_code)
                assert response.location.startswith("/staff/login?next="), response.location
                assert not response.data.startswith(b"%PDF") and b"Ana" not in response.data
            else:  # the day's old address leads to /staff/print/day/<day>
                response = client.get(url, follow_redirects=True)
                assert response.status_code == 200, (role, url, response.status_code)
                assert response.mimetype == "application/pdf" and response.data[:4] == b"%PDF"
                assert response.headers["Cache-Control"] == "no-store"


def test_error_pages_keep_the_staff_menu_for_staff_only(staff, client):
    desk = staff("front_desk")
    refused = desk.get("/staff/audit")
    missing = desk.get("/staff/no-such-page")
    for page in (refused, missing):
        assert page.status_code in (403, 404)
        assert 'class="staff-nav"' in page.text and "Log out" in page.text
        assert "Every view and change is recorded in the audit log." in page.text
    anonymous = client.get("/no-such-page")
    assert anonymous.status_code == 404 and 'class="staff-nav"' not in anonymous.text
