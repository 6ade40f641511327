"""Fixtures: an app on a real SQLite file under tmp_path, its test client and CLI runner."""

from __future__ import annotations

import pytest
from helpers import TODAY, Wizard, csrf_token, form_data, valid_answers  # noqa: F401

from screening import create_app
from screening.db import init_db


@pytest.fixture
def app(tmp_path):
    database = tmp_path / "screening.db"
    init_db(database)
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE": str(database)})
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
