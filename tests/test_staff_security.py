"""The staff side under attack: CSRF, hostile input, injection, copied cookies and login
throttling across real gunicorn workers, and no health data in logs during a review."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3

import pytest
import requests
from helpers import (
    PASSWORD,
    TEST_SETTINGS,
    TODAY,
    csrf_token,
    make_user,
    rows,
    search,
    valid_answers,
)
from html_checks import assert_no_active_content
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_logs import health_data

from screening import create_app
from screening.store import get_db
from screening.store.submissions import import_answers

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def seed(database, **overrides) -> int:
    """A submitted submission and three staff accounts in a live server's database."""
    app = create_app({"SECRET_KEY": "seed", "DATABASE": str(database)})
    with app.app_context():
        sid = import_answers(
            get_db(),
            valid_answers(**overrides),
            app.extensions["questionnaire"],
            app.extensions["rules"],
            TODAY,
        )
    for username, role in (("dana", "provider"), ("frank", "front_desk"), ("ada", "admin")):
        make_user(app, username, role)
    return sid


def login(base: str, username: str, password: str = PASSWORD) -> requests.Session:
    http = requests.Session()
    page = http.get(base + "/staff/login", timeout=30)
    response = http.post(
        base + "/staff/login",
        allow_redirects=False,
        timeout=30,
        data={"csrf_token": csrf_token(page.text), "username": username, "password": password},
    )
    http.last = response
    return http


def copy(http: requests.Session) -> requests.Session:
    other = requests.Session()
    other.cookies.update(http.cookies)
    return other


def refused(http: requests.Session, base: str) -> bool:
    response = http.get(base + "/staff/", allow_redirects=False, timeout=30)
    return response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_copied_staff_cookies_die_with_logout_idle_and_disable_across_workers(gunicorn, tmp_path):
    server = gunicorn(workers=4)
    seed(server.database)
    base = server.url
    # Logout: the copy made before it is refused on every worker afterwards.
    dana = login(base, "dana")
    before = copy(dana)
    assert not refused(before, base)
    page = dana.get(base + "/staff/", timeout=30)
    dana.post(base + "/staff/logout", data={"csrf_token": csrf_token(page.text)}, timeout=30)
    assert all(refused(copy(before), base) for _ in range(8))
    # Idle logoff: 16 minutes without a request.
    dana = login(base, "dana")
    idle = copy(dana)
    conn = sqlite3.connect(server.database)
    conn.execute(
        "UPDATE staff_sessions SET last_seen = ? WHERE revoked_at IS NULL",
        [(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)).isoformat()],
    )
    conn.commit()
    assert refused(dana, base) and all(refused(copy(idle), base) for _ in range(8))
    # Disabling the user (by an admin, on whichever worker) ends the copy too.
    dana = login(base, "dana")
    kept = copy(dana)
    ada = login(base, "ada")
    page = ada.get(base + "/staff/users", timeout=30)
    ada.post(
        base + "/staff/users/dana/disable", data={"csrf_token": csrf_token(page.text)}, timeout=30
    )
    assert all(refused(copy(kept), base) for _ in range(8))
    conn.close()


def test_login_attempts_spread_across_workers_are_throttled_together(gunicorn):
    server = gunicorn(workers=4)
    seed(server.database)
    statuses = []
    for _ in range(5):  # each attempt a new browser, a new connection
        statuses.append(login(server.url, "dana", "not the password").last.status_code)
    assert statuses == [401] * 5
    sixth = login(server.url, "dana", "not the password").last
    right = login(server.url, "dana", PASSWORD).last
    assert sixth.status_code == right.status_code == 429
    assert "paused for 15 minutes" in right.text
    assert rows_in(server.database, "SELECT count(*) FROM staff_sessions") == 0


def rows_in(database, sql):
    conn = sqlite3.connect(database)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


STAFF_POSTS = [
    ("anonymous", "/staff/login", {"username": "dana", "password": PASSWORD}),
    ("provider", "/staff/logout", {}),
    ("provider", "/staff/submissions/{id}/decision", {"decision": "cleared", "note": "n"}),
    ("admin", "/staff/users", {"username": "mallory", "role": "admin"}),
    ("admin", "/staff/users/frank-user/disable", {}),
]


def snapshot(app):
    return [
        rows(app, f"SELECT * FROM {t}")
        for t in ("users", "decisions", "staff_sessions", "submissions")
    ]


@pytest.mark.parametrize("role, url, data", STAFF_POSTS, ids=[u for _, u, _ in STAFF_POSTS])
def test_every_staff_post_without_its_csrf_token_is_refused(app, staff, submitted, role, url, data):
    sid = submitted()
    make_user(app, "dana", "provider")
    make_user(app, "frank-user", "front_desk")
    client = app.test_client() if role == "anonymous" else staff(role)
    before = snapshot(app)
    response = client.post(url.format(id=sid), data=data)
    assert response.status_code == 400 and "could not be used" in response.text
    assert snapshot(app) == before


def test_hostile_text_is_shown_as_text_on_every_staff_page(app, staff, submitted):
    sid = submitted(
        full_name=HOSTILE,
        signature=HOSTILE,
        notes=HOSTILE,
        medications_list=HOSTILE,
        appointment_date=TODAY.isoformat(),
    )
    make_user(app, "nasty", "front_desk", name=HOSTILE)
    admin = staff("admin")
    page = admin.get(f"/staff/submissions/{sid}")
    admin.post(
        f"/staff/submissions/{sid}/decision",
        data={"csrf_token": csrf_token(page.text), "decision": "consult", "note": HOSTILE},
    )
    search(admin, "day", HOSTILE)
    search(admin, "queue", HOSTILE[:20])
    anonymous = app.test_client()
    login_page = anonymous.get("/staff/login")
    anonymous.post(
        "/staff/login",
        data={"csrf_token": csrf_token(login_page.text), "username": HOSTILE[:60], "password": "x"},
    )
    for url in (
        "/staff/?decided=all",
        f"/staff/submissions/{sid}",
        "/staff/day",
        "/staff/audit",
        "/staff/users",
        "/staff/?since=<b>&outcome=<i>",
    ):
        response = admin.get(url)
        assert response.status_code == 200, url
        assert (
            "<script>alert" not in response.text
            and "onerror=alert" not in response.text.replace("onerror=alert(1)&gt;", "")
        ), url
        assert_no_active_content(response.text)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
        in admin.get(f"/staff/submissions/{sid}").text
    )


text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            "\x00",
            "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
            "x" * 5000,
            "cleared",
            "defer_until",
            "2026-02-30",
            "-1",
            "<script>",
            "' OR 1=1 --",
        ]
    ),
)
form = st.dictionaries(
    st.sampled_from(
        [
            "username",
            "password",
            "decision",
            "defer_until",
            "note",
            "csrf_token",
            "extra",
            "role",
            "name",
        ]
    ),
    st.one_of(text, st.lists(text, max_size=3)),
    max_size=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=form, where=st.sampled_from(["login", "decision", "queue", "day", "audit"]))
def test_hostile_posts_and_filters_never_break_staff_pages(tmp_path_factory, data, where):
    app = _fuzz_app(tmp_path_factory)
    client = app.test_client()
    login_page = client.get("/staff/login")
    token = csrf_token(login_page.text)
    if where != "login":
        client.post(
            "/staff/login",
            data={"csrf_token": token, "username": "fuzz-admin", "password": PASSWORD},
        )
        token = csrf_token(client.get("/staff/day").text)
    if "csrf_token" not in data:
        data = {**data, "csrf_token": token}
    decisions_before = rows(app, "SELECT count(*) AS n FROM decisions")[0]["n"]
    if where == "login":
        response = client.post("/staff/login", data=data)
    elif where == "decision":
        response = client.post(f"/staff/submissions/{app.config['FUZZ_ID']}/decision", data=data)
    else:
        url = {"queue": "/staff/", "day": "/staff/day", "audit": "/staff/audit"}[where]
        response = client.get(
            url, query_string={k: v for k, v in data.items() if isinstance(v, str)}
        )
    assert response.status_code in (200, 302, 400, 401, 413, 422, 429), response.status_code
    assert "Traceback" not in response.text
    decisions_after = rows(app, "SELECT count(*) AS n FROM decisions")[0]["n"]
    valid = (
        data.get("decision") in ("cleared", "refer_dermatology", "consult")
        and data.get("csrf_token") == token
        and where == "decision"
        and len(str(data.get("note", ""))) <= 2000
    )
    assert decisions_after == decisions_before + (1 if valid and response.status_code == 302 else 0)
    if response.status_code == 302:
        assert valid or where == "login" or where in ("queue", "day", "audit")


_FUZZ = {}


def _fuzz_app(tmp_path_factory):
    """One app and database for every fuzz example (building one per example is slow)."""
    if "app" not in _FUZZ:
        from screening.store import init_db

        folder = tmp_path_factory.mktemp("fuzz")
        init_db(folder / "db")
        app = create_app(
            {
                "SECRET_KEY": "fuzz",
                "DATABASE": str(folder / "db"),
                "TESTING": True,
                "LOGIN_MAX_FAILURES": 10_000,
                "LOGIN_ADDRESS_MAX_FAILURES": 10_000,
                "LOGIN_ACCOUNT_MAX_FAILURES": 10_000,
                **TEST_SETTINGS,
            }
        )
        with app.app_context():
            app.config["FUZZ_ID"] = import_answers(
                get_db(),
                valid_answers(),
                app.extensions["questionnaire"],
                app.extensions["rules"],
                TODAY,
            )
        make_user(app, "fuzz-admin", "admin")
        _FUZZ["app"] = app
    return _FUZZ["app"]


def test_a_staff_review_at_debug_level_logs_no_health_data(gunicorn):
    from test_logs import ANSWERS

    server = gunicorn(workers=2, debug_logs=True)
    sid = seed(server.database, **{**ANSWERS, "appointment_date": TODAY.isoformat()})
    base = server.url
    dana = login(base, "dana")
    assert dana.last.status_code == 302
    assert ANSWERS["full_name"] in dana.get(base + "/staff/", timeout=30).text
    page = dana.get(base + f"/staff/submissions/{sid}", timeout=30)
    assert "Canary note about my scarring" in page.text
    note = "Canarydecision note for Zephyrine"
    response = dana.post(
        base + f"/staff/submissions/{sid}/decision",
        timeout=30,
        data={"csrf_token": csrf_token(page.text), "decision": "consult", "note": note},
    )
    assert response.status_code == 200  # followed the redirect back to the page
    pdf = dana.get(base + f"/staff/submissions/{sid}/summary.pdf", timeout=60)
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert dana.get(base + f"/staff/day/{TODAY.isoformat()}.pdf", timeout=60).ok
    dana.post(
        base + "/staff/search/day",
        timeout=30,
        data={"csrf_token": csrf_token(page.text), "q": "Zephyrine", "back": "/staff/day"},
    )
    dana.post(base + "/staff/logout", data={"csrf_token": csrf_token(page.text)}, timeout=30)
    output = server.output()
    assert '"POST /staff/login HTTP/1.1" 302' in output and "[DEBUG]" in output
    secrets = health_data(ANSWERS) | {"Canarydecision", "Zephyrine"}
    leaks = sorted(v for v in secrets if re.search(rf"(?<!\w){re.escape(v)}(?!\w)", output))
    assert not leaks, leaks
