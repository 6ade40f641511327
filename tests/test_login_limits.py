"""Login cost and limits (issue 17, findings 1, 3 and 5): random names from one address stop
costing a password hash; a name is capped across addresses; a browser that logged in
before is not locked out by others; argon2id at OWASP's parameters, one hash at a time
per worker; refused attempts are counted, not written one audit row each; a name that is
not an account is never written to the audit log."""

from __future__ import annotations

import secrets
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from helpers import PASSWORD, csrf_token, log_in, make_user, rows

from screening.housekeeping import run as housekeeping
from screening.staff import accounts
from screening.store import get_db


class CountingHasher(PasswordHasher):
    """A real (cheap) argon2 hasher that counts the passwords it checks."""

    def __init__(self):
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash, password):
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch):
    counting = CountingHasher()
    monkeypatch.setattr(accounts, "hasher", counting)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", counting.hash("not a real password"))
    return counting


def attempt(app, username: str, password: str, address: str, client=None):
    client = client or app.test_client()
    page = client.get("/staff/login", environ_base={"REMOTE_ADDR": address})
    return client.post(
        "/staff/login",
        data={"csrf_token": csrf_token(page.text), "username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_random_names_from_one_address_stop_costing_a_hash(app, hasher):
    """Finding 1: every attempt ran argon2, and random names never tripped the lockout."""
    make_user(app, "dana", "provider")
    limit = app.config["LOGIN_ADDRESS_MAX_FAILURES"]
    client = app.test_client()
    statuses = [
        attempt(app, secrets.token_hex(6), "guess", "203.0.113.5", client).status_code
        for _ in range(limit + 20)
    ]
    assert statuses == [401] * limit + [429] * 20
    assert hasher.verified == limit  # the 20 refused attempts hashed nothing
    refused = attempt(app, "dana", PASSWORD, "203.0.113.5")
    assert refused.status_code == 429 and "from this network" in refused.text
    assert attempt(app, "dana", PASSWORD, "198.51.100.7").status_code == 302  # elsewhere: fine


def test_a_name_is_capped_across_addresses(app, hasher):
    """Finding 5: the lockout counted per (name, address) only, so guesses spread over many
    addresses were never limited."""
    make_user(app, "dana", "provider")
    limit = app.config["LOGIN_ACCOUNT_MAX_FAILURES"]
    for i in range(limit):
        assert attempt(app, "dana", "guess", f"203.0.113.{i + 1}").status_code == 401
    hashed = hasher.verified
    refused = attempt(app, "dana", PASSWORD, "198.51.100.7")
    assert refused.status_code == 429 and "paused for 15 minutes" in refused.text
    assert hasher.verified == hashed


def test_a_browser_that_logged_in_before_is_not_locked_out_by_others(app):
    """Finding 5: behind NAT (or a proxy with PROXY_HOPS=0) anyone could lock a staff name
    for everyone for 15 minutes. The owner's browser, known to the account by its device
    cookie, still gets in; a new browser at that address does not."""
    make_user(app, "dana", "provider")
    dana = app.test_client()
    assert attempt(app, "dana", PASSWORD, "10.0.0.1", dana).status_code == 302
    dana.post("/staff/logout", data={"csrf_token": csrf_token(dana.get("/staff/").text)})
    for _ in range(30):  # mallory, on the same network, on dana's name and on others
        attempt(app, "dana", "guess", "10.0.0.1")
        attempt(app, secrets.token_hex(4), "guess", "10.0.0.1")
    assert attempt(app, "dana", PASSWORD, "10.0.0.1").status_code == 429  # a new browser
    assert attempt(app, "dana", PASSWORD, "10.0.0.1", dana).status_code == 302
    # A known browser has its own limit: five wrong passwords lock it too.
    dana.post("/staff/logout", data={"csrf_token": csrf_token(dana.get("/staff/").text)})
    statuses = [attempt(app, "dana", "typo", "10.0.0.1", dana).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


def test_argon2_uses_owasp_parameters_and_old_hashes_are_redone(app):
    hasher = accounts.hasher
    assert (hasher.memory_cost, hasher.time_cost, hasher.parallelism) == (19 * 1024, 2, 1)
    assert hasher.type.name == "ID"
    old = PasswordHasher()  # argon2-cffi's default: 64 MiB, 3 passes, 4 lanes
    with app.app_context():
        get_db().execute(
            "INSERT INTO users (username, role, password_hash, active, created_at) "
            "VALUES ('old', 'front_desk', ?, 1, '2026-01-01T00:00:00+00:00')",
            [old.hash(PASSWORD)],
        )
    assert log_in(app.test_client(), "old").status_code == 302
    stored = rows(app, "SELECT password_hash FROM users WHERE username = 'old'")[0]
    assert stored["password_hash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_hashing_is_one_at_a_time_per_worker(app, cheap_argon2):
    """A login that finds the worker's hashing slot taken (for a quarter second) gets a polite
    "try again" (503) instead of another hash on a busy CPU."""
    make_user(app, "dana", "provider")
    held = threading.Event()
    release = threading.Event()

    def hold():
        with app.app_context(), accounts._hash_slot():
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        held.wait(10)
        response = log_in(app.test_client(), "dana")
    finally:
        release.set()
        holder.join()
    assert response.status_code == 503 and "try again" in response.text
    assert response.headers["Retry-After"]
    assert log_in(app.test_client(), "dana").status_code == 302  # free again


def test_a_login_waits_its_turn_behind_one_other_but_not_behind_two(app, cheap_argon2):
    """Two staff logging in at the same moment both get in (the second waits for the first's
    hash); a third at that moment is told to try again rather than hold another thread."""
    make_user(app, "dana", "provider")
    hashing, waiting, release = threading.Event(), threading.Event(), threading.Event()
    slots = None

    def hold():
        nonlocal slots
        with app.app_context(), accounts._hash_slot():
            slots = accounts._slots()
            hashing.set()
            release.wait(30)

    def second():
        results.append(log_in(app.test_client(), "dana").status_code)

    results: list[int] = []
    holder = threading.Thread(target=hold)
    holder.start()
    hashing.wait(10)
    waiter = threading.Thread(target=second)
    waiter.start()
    for _ in range(1000):  # until the second login is waiting for the slot
        if slots.waiting:
            waiting.set()
            break
        threading.Event().wait(0.005)
    try:
        assert waiting.is_set()
        third = log_in(app.test_client(), "dana")
    finally:
        release.set()
        holder.join()
        waiter.join()
    assert third.status_code == 503 and "try again" in third.text
    assert results == [302]


def test_hashing_slots_are_shared_by_every_worker_process(app, cheap_argon2, tmp_path):
    """A flood from many addresses kept a hash running in every worker, so every core hashed
    and pages waited: the slots are shared across processes. Another process holding the
    machine's one slot (as another gunicorn worker hashing) gets this login "try again"."""
    make_user(app, "dana", "provider")
    app.config["LOGIN_HASH_SLOTS"] = 1
    folder = Path(app.config["DATABASE"]).parent
    lock = str(folder / ".login-hash-0.lock")
    hold = (
        "import fcntl, os, sys; "
        f"fd = os.open({lock!r}, os.O_RDWR | os.O_CREAT, 0o600); "
        "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", hold],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        response = log_in(app.test_client(), "dana")
    finally:
        holder.communicate("", timeout=30)
    assert response.status_code == 503 and "try again" in response.text
    assert log_in(app.test_client(), "dana").status_code == 302  # the other process let go


def test_refused_attempts_are_counted_not_written_one_row_each(app, cheap_argon2):
    """Finding 3: 2,000 POSTs for a locked name wrote 2,000 rows that can never be removed.
    Now the first few per account and hour get rows, the rest one counted row."""
    make_user(app, "dana", "provider")
    client = app.test_client()
    for _ in range(5):
        assert log_in(client, "dana", "wrong").status_code == 401
    for _ in range(200):
        assert log_in(client, "dana", "wrong").status_code == 429
    logged = rows(app, "SELECT action, username FROM audit WHERE action LIKE 'login%'")
    assert (
        logged
        == [{"action": "login_failed", "username": "dana"}] * 3
        + [{"action": "login_refused", "username": "dana"}] * 3
    )
    # An hour on, the counts are written as one row per kind (housekeeping does this).
    with app.app_context():
        db = get_db()
        db.execute("UPDATE audit_tallies SET since = '2000-01-01T00:00:00+00:00'")
        done = housekeeping(db, app.config["DRAFT_HOURS"])
    assert done["counted logins written"] == 2
    counted = rows(app, "SELECT username, detail FROM audit WHERE action = 'login_counted'")
    assert [(r["username"], r["detail"].split(" from ")[0]) for r in counted] == [
        ("dana", "2 more login_failed"),
        ("dana", "197 more login_refused"),
    ]


def test_an_unknown_name_is_never_written_to_the_audit_log(app, cheap_argon2):
    """Finding 3: the name typed for an unknown account (perhaps a password typed in the
    wrong box) was stored in the audit log's "Who"."""
    typed = "Tr0ub4dor&3-in-the-wrong-box"
    assert log_in(app.test_client(), typed, "x").status_code == 401
    logged = rows(app, "SELECT * FROM audit")
    assert [(r["action"], r["username"], r["detail"]) for r in logged] == [
        ("login_failed", None, "unknown account")
    ]
    assert typed not in str(rows(app, "SELECT * FROM audit"))
