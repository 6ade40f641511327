"""The secret key from the environment works whatever characters it holds."""

from __future__ import annotations

import pytest
from helpers import csrf_token

from screening import create_app
from screening.store import init_db


@pytest.mark.parametrize("key", ["123456789012345678901234567890", "1e5", "true", "null0"])
def test_a_secret_key_that_looks_like_json_still_signs_cookies(tmp_path, monkeypatch, key):
    """SCREENING_* values are parsed as JSON: "123..." became a number and every page a 500."""
    init_db(tmp_path / "db")
    monkeypatch.setenv("SCREENING_SECRET_KEY", key)
    monkeypatch.setenv("SCREENING_DATABASE", str(tmp_path / "db"))
    app = create_app()
    assert app.config["SECRET_KEY"] == key
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 200
    assert client.post("/start", data={"csrf_token": csrf_token(page.text)}).status_code == 302
