"""/healthz for monitoring: 200 with the rules version this worker judges with when the
database can be written; 503 with the problem's class otherwise (test_database_errors,
test_startup). No login, no data, no session cookie, and no access-log line at INFO."""

from __future__ import annotations

import logging

import requests

from screening.health import QuietHealthz

MAKE_RUN_ACCESS_LOG = (
    "--access-logformat",
    '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
    "--access-logfile",
    "-",
)


def test_healthz_answers_without_login_and_without_data(app, client, submitted):
    submitted()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["rules_version"] == app.extensions["rules"].version
    assert body["rules_file"] == "ok"
    assert set(body) == {
        "status",
        "database",
        "integrity_check",
        "rules_version",
        "rules_file",
        "worker",
    }
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_is_not_in_the_access_log_as_make_run_writes_it(gunicorn):
    server = gunicorn(workers=2, args=MAKE_RUN_ACCESS_LOG)
    for _ in range(10):
        assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
    assert requests.get(server.url + "/", timeout=10).status_code == 200
    server.stop()  # the access log is flushed
    output = server.output()
    assert '"GET /" 200' in output  # the access log works
    assert "/healthz" not in output


def test_the_development_server_does_not_log_healthz_either():
    quiet = QuietHealthz()

    def werkzeug_line(path: str, level: int = logging.INFO) -> logging.LogRecord:
        return logging.LogRecord(
            "werkzeug", level, "", 0, '"%s" %s %s', (f"GET {path} HTTP/1.1", "200", "-"), None
        )

    assert not quiet.filter(werkzeug_line("/healthz"))
    assert quiet.filter(werkzeug_line("/"))
    assert quiet.filter(werkzeug_line("/healthz", logging.WARNING))
