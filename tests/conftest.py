"""Fixtures: an app on a real SQLite file under tmp_path, its test client and CLI runner."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import (
    TEST_SETTINGS,
    TODAY,
    Wizard,
    log_in,
    make_user,
    valid_answers,
)

from screening import create_app
from screening.store import init_db


@pytest.fixture(autouse=True)
def _stop_summary_workers():
    """An app a test built without TESTING starts the summary worker on its first request:
    stop it with the test, so no thread outlives its test's temporary database."""
    yield
    from screening import printing

    printing.stop_workers()


@pytest.fixture
def app(tmp_path):
    database = tmp_path / "screening.db"
    init_db(database)
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE": str(database), **TEST_SETTINGS}
    )
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def wizard(client, app):
    return Wizard(client, app)


@pytest.fixture
def staff(app):
    """A client logged in as a given role: staff("provider") -> test client."""
    made = {}

    def login(role: str):
        username = f"{role}-user"
        if username not in made:
            make_user(app, username, role, name=f"Test {role}")
            made[username] = True
        client = app.test_client()
        response = log_in(client, username)
        assert response.status_code == 302, response.text
        return client

    return login


@pytest.fixture
def cheap_argon2(monkeypatch):
    """Argon2 at its lowest cost, for tests about something else than passwords: at the
    real cost each account or login takes about a second on a busy 2-core machine."""
    from argon2 import PasswordHasher

    from screening.staff import accounts as auth

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "hasher", cheap)
    monkeypatch.setattr(auth, "_DUMMY_HASH", cheap.hash("not a real password"))
    return cheap


@pytest.fixture
def submitted(app):
    """Import a submission from valid answers (with overrides); return its id. It is
    stamped on the tests' clinic day (helpers.TODAY) at the clock's time, so a run that
    crosses midnight lists it on the day the tests' dates were computed."""
    from screening.content import questionnaire as current_questionnaire
    from screening.content import rules as current_rules
    from screening.content import today
    from screening.store import get_db
    from screening.store.submissions import import_answers

    def make(**overrides) -> int:
        with app.app_context():
            return import_answers(
                get_db(),
                valid_answers(**overrides),
                current_questionnaire(),
                current_rules(),
                today(),
                submitted_at=dt.datetime.combine(TODAY, dt.datetime.now().time())
                .astimezone(dt.UTC)
                .replace(microsecond=0)
                .isoformat(),
            )

    return make


@pytest.fixture
def gunicorn(tmp_path):
    """Start real gunicorn servers: `gunicorn(workers=4, ...)` (see live.Server); every
    server started is killed (process group, SIGKILL) at teardown."""
    from live import Server

    servers = []

    def start(**kwargs):
        server = Server(tmp_path, **kwargs)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.kill()


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives."""
    from smtp_server import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(tmp_path, smtp):
    """An app that emails through `smtp`, with provider alerts on (no worker thread)."""
    database = tmp_path / "screening.db"
    init_db(database)
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE": str(database),
            "SMTP_URL": smtp.url,
            "MAIL_FROM": "Skin Clinic <desk@clinic.example>",
            "BASE_URL": "https://screening.clinic.example",
            "CLINIC_PHONE": "555 0100",
            "ALERT_TO": "dr.lee@clinic.example, dr.ng@clinic.example",
        }
    )
