"""Staff sessions and login throttling through real gunicorn (4 workers, --preload): a
cookie copied before logout, idle logoff or disabling is refused on every worker; failed
logins count together whichever worker takes them.

Requests that must reach several workers are sent together, each on its own connection
(each connection is closed after its response, so a burst spreads), and the access log, which
carries the worker's pid, shows where they went.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import threading

import pytest
import requests
from helpers import PASSWORD
from live import Server
from visitor import Staff, hidden_fields

from screening.staff.accounts import hash_password
from screening.store import init_db

ACCESS_FORMAT = "%(p)s %(r)s %(s)s"  # worker pid, request line, status
ACCOUNTS = {
    "dana": "provider",
    "erin": "provider",
    "boss": "admin",
    "lou": "front_desk",
    "kim": "front_desk",
}
BURST = 8


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("staff-live")
    database = workdir / "live.db"
    init_db(database)
    hashed = hash_password(PASSWORD)  # one real argon2 hash, shared by the test accounts
    conn = sqlite3.connect(database)
    conn.executemany(
        "INSERT INTO users (username, name, role, password_hash, active, "
        "created_at) VALUES (?, NULL, ?, ?, 1, '2026-01-01T00:00:00+00:00')",
        [(name, role, hashed) for name, role in ACCOUNTS.items()],
    )
    conn.commit()
    conn.close()
    server = Server(
        workdir,
        database=database,
        workers=4,
        name="staff-live",
        args=("--access-logfile", "-", "--access-logformat", ACCESS_FORMAT),
    )
    server.start()
    yield server
    server.kill()


def sql(server, query: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(server.database)
    try:
        rows = conn.execute(query, params).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


def together(calls) -> list:
    """Run the calls at the same moment, one thread (and connection) each."""
    results: list = [None] * len(calls)
    errors: list = []
    start = threading.Barrier(len(calls))

    def run(i, call):
        try:
            start.wait(timeout=30)
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


def workers_for(server, marker: str) -> set[str]:
    """The pids of the workers whose access-log lines hold this request marker."""
    return {line.split(" ", 1)[0] for line in server.stdout().splitlines() if marker in line}


def probe(server, session: requests.Session, tag: str, status: int) -> None:
    """Bursts of page loads with one cookie, each with a marker for the access log: every
    reply must have this status; a busy machine may let one worker take a whole burst, so
    up to three bursts, until the log shows two workers or more."""
    for burst in range(3):

        def load(i, burst=burst):
            return lambda: session.get(
                f"{server.url}/staff/?probe={tag}-{burst}-{i}",
                allow_redirects=False,
                timeout=60,
                headers={"Connection": "close"},
            )

        replies = together([load(i) for i in range(BURST)])
        assert [r.status_code for r in replies] == [status] * BURST, (tag, burst)
        if status == 302:
            assert all(r.headers["Location"].startswith("/staff/login") for r in replies)
        if len(workers_for(server, f"probe={tag}-")) >= 2:
            return
    raise AssertionError(f"{tag}: every request reached one worker\n{server.stdout()[-2000:]}")


def assert_refused_everywhere(server, copy: requests.Session, tag: str) -> None:
    probe(server, copy, tag, 302)


def accepted_everywhere(server, copy: requests.Session, tag: str) -> None:
    """The control: before the event the copied cookie opens the queue on any worker."""
    probe(server, copy, tag, 200)


def logged_in(server, username: str) -> Staff:
    staff = Staff(server.url)
    response = staff.log_in(username, PASSWORD)
    assert response.status_code == 302, response.status_code
    return staff


def test_a_cookie_copied_before_logout_is_refused_on_every_worker(server):
    dana = logged_in(server, "dana")
    copy = dana.copy_session()
    accepted_everywhere(server, copy, "before-logout")
    assert dana.log_out().status_code == 302
    assert dana.get("/staff/").status_code == 302
    assert_refused_everywhere(server, copy, "after-logout")


def test_a_cookie_copied_before_idle_logoff_is_refused_on_every_worker(server):
    dana = logged_in(server, "dana")
    copy = dana.copy_session()
    accepted_everywhere(server, copy, "before-idle")
    idle = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)).replace(microsecond=0)
    sql(
        server,
        "UPDATE staff_sessions SET last_seen = ? WHERE revoked_at IS NULL AND "
        "user_id = (SELECT id FROM users WHERE username = 'dana')",
        [idle.isoformat()],
    )
    assert_refused_everywhere(server, copy, "after-idle")
    assert dana.get("/staff/").status_code == 302
    # One session went idle once: one audit row, however many workers noticed it at once
    # (each used to record it).
    assert sql(server, "SELECT count(*) FROM audit WHERE action = 'idle_logoff'") == [(1,)]


def test_a_cookie_copied_before_disabling_is_refused_on_every_worker(server):
    erin = logged_in(server, "erin")
    copy = erin.copy_session()
    accepted_everywhere(server, copy, "before-disable")
    boss = logged_in(server, "boss")
    _, fields = boss.form("/staff/users")
    assert boss.post("/staff/users/erin/disable", fields).status_code == 302
    assert_refused_everywhere(server, copy, "after-disable")
    assert Staff(server.url).log_in("erin", PASSWORD).status_code == 401


def login_attempts(server, username: str, passwords: list[str], tag: str) -> list:
    """Each attempt from its own browser (own cookie, own connection), all sent at once."""
    browsers = []
    for i, password in enumerate(passwords):
        staff = Staff(server.url)
        _, fields = staff.form(f"/staff/login?try={tag}-{i}")
        browsers.append((staff, {**fields, "username": username, "password": password}))
    return together(
        [
            lambda s=s, d=d, i=i: s.post(f"/staff/login?try={tag}-{i}", d)
            for i, (s, d) in enumerate(browsers)
        ]
    )


def assert_busy_at_most_one_per_worker(replies: list, checked: list) -> None:
    """Attempts let through the limits were checked (401), except that a worker hashes one
    password at a time with one more waiting (screening/staff/hash_slots.py): a third at
    the same moment is told to try again (503), and still counted towards the limit."""
    busy = [r for r in replies if r.status_code == 503]
    assert len(checked) + len(busy) == len(replies), [r.status_code for r in replies]
    assert len(checked) >= len(replies) - 4 and checked, [r.status_code for r in replies]
    assert all("try again" in r.text for r in busy)


def test_failed_logins_on_different_workers_are_counted_together(server):
    """Five failures spread over the workers; the sixth is refused, and so is the right
    password after it (the lockout page, not a login)."""
    replies = login_attempts(server, "lou", ["wrong password!"] * 5, "lou")
    checked = [r for r in replies if r.status_code == 401]
    assert all("do not match an active account" in r.text for r in checked)
    assert_busy_at_most_one_per_worker(replies, checked)
    pids = {
        line.split(" ", 1)[0]
        for line in server.stdout().splitlines()
        if re.search(r"POST /staff/login\?try=lou-\d ", line)
    }
    assert len(pids) >= 2, pids
    for password in ("wrong password!", PASSWORD):
        response = Staff(server.url).log_in("lou", password)  # a new browser, connection
        assert response.status_code == 429, response.status_code
        assert "paused for 15 minutes" in response.text
    assert sql(
        server,
        "SELECT count(*) FROM staff_sessions WHERE user_id = "
        "(SELECT id FROM users WHERE username = 'lou')",
    ) == [(0,)]


def test_a_burst_of_failed_logins_gets_no_more_tries_than_the_limit(server):
    """Ten wrong passwords at once across four workers: five are checked, five refused.
    Each worker used to check the count before a slow password check and record the
    failure after it, so attempts in flight on other workers did not count yet."""
    replies = login_attempts(server, "kim", ["wrong password!"] * 10, "kim")
    refused = [r for r in replies if r.status_code == 429]
    assert len(refused) == 5, sorted(r.status_code for r in replies)
    allowed = [r for r in replies if r.status_code != 429]
    assert_busy_at_most_one_per_worker(allowed, [r for r in allowed if r.status_code == 401])
    response = Staff(server.url).log_in("kim", PASSWORD)
    assert response.status_code == 429 and "paused for 15 minutes" in response.text
    assert hidden_fields(response.text).get("csrf_token")  # the login page, again
