"""Abandoned drafts are deleted on a schedule, not only when someone starts a new draft
(issue 17, finding 8): at each worker's start (its first request), hourly inside the app,
or by `flask --app screening purge` from cron; each purge counted in the audit log."""

from __future__ import annotations

import datetime as dt
import time

from helpers import rows

from screening.store import get_db


def add_draft(app, hours_old: float) -> int:
    stamp = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_old)).replace(microsecond=0)
    with app.app_context():
        cursor = get_db().execute(
            "INSERT INTO submissions (status, created_at, updated_at, answers) "
            "VALUES ('draft', ?, ?, '{\"phone\": \"555\"}')",
            [stamp.isoformat(), stamp.isoformat()],
        )
        return cursor.lastrowid


def drafts(app) -> list[int]:
    return [r["id"] for r in rows(app, "SELECT id FROM submissions WHERE status = 'draft'")]


def test_purge_deletes_expired_drafts_and_counts_them(app, runner, submitted):
    hours = app.config["DRAFT_HOURS"]
    old = [add_draft(app, hours + 1), add_draft(app, hours * 3)]
    fresh = add_draft(app, hours - 1)
    kept = submitted()
    with app.app_context():
        get_db().execute(
            "UPDATE submissions SET updated_at = '2001-01-01T00:00:00+00:00' WHERE id = ?", [kept]
        )
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "2 drafts" in result.output
    assert drafts(app) == [fresh] and old[0] not in drafts(app)
    assert rows(app, "SELECT count(*) AS n FROM submissions WHERE id = ?", [kept]) == [{"n": 1}]
    logged = rows(app, "SELECT action, username, detail FROM audit")
    assert logged == [
        {"action": "drafts_purged", "username": None, "detail": f"2 older than {hours} h"}
    ]
    again = runner.invoke(args=["purge"])
    assert "0 drafts" in again.output and len(rows(app, "SELECT * FROM audit")) == 1


def test_the_app_purges_at_start_up_and_hourly_without_new_drafts(app, client):
    hours = app.config["DRAFT_HOURS"]
    first = add_draft(app, hours + 2)
    client.get("/staff/login")  # a worker's first request: nobody starts a draft
    assert first not in drafts(app)
    second = add_draft(app, hours + 2)
    client.get("/staff/login")
    assert second in drafts(app)  # not yet: the next round is an hour away
    schedule = app.extensions["housekeeping"]
    assert 3500 < schedule.next_at - time.monotonic() <= 3600
    schedule.next_at = time.monotonic() - 1  # an hour later
    client.get("/staff/login")
    assert second not in drafts(app)
    assert [r["detail"] for r in rows(app, "SELECT detail FROM audit")] == [
        f"1 older than {hours} h"
    ] * 2
