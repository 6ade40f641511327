"""Printing without waiting: stored summaries served only while current, batches joined
from them the same as from fresh renders, and a progress page that needs no JavaScript."""

from __future__ import annotations

import io
import logging
import re
import sqlite3
import time

from helpers import TODAY, pdf_pages
from pypdf import PdfReader

from screening import printing
from screening.store import decisions, get_db
from screening.store import summaries as store

HEAD = re.compile(r"PRE-TREATMENT SCREENING · FRACTIONAL CO2 RESURFACING (Client \w+)")


def whose(data: bytes) -> list[str | None]:
    """Each page's client, read from its running header ("<name> · born ...")."""
    return [
        m.group(1) if (m := re.search(r"(Client \w+) · born", page)) else None
        for page in pdf_pages(data)
    ]


def outline_titles(data: bytes) -> list[str]:
    return [
        item.title for item in PdfReader(io.BytesIO(data)).outline if not isinstance(item, list)
    ]


def provider(app) -> dict:
    with app.app_context():
        db = get_db()
        db.execute(
            "INSERT INTO users (username, name, role, password_hash, active, created_at) "
            "VALUES ('dana', 'Dr Dana Lee', 'provider', 'x', 1, '2026-01-01T00:00:00')"
        )
        return {
            "id": db.execute("SELECT id FROM users WHERE username = 'dana'").fetchone()[0],
            "username": "dana",
        }


def test_a_stored_summary_is_served_only_while_current(app, submitted):
    sid = submitted(full_name="Client Stored", signature="Client Stored", active_acne=True)
    with app.app_context():
        db = get_db()
        assert store.waiting(db) == 1  # queued when it was submitted
        assert printing.work_once(app) == 1 and store.waiting(db) == 0
        kept = db.execute("SELECT pdf FROM summaries WHERE submission_id = ?", [sid]).fetchone()[0]
        assert printing.summary(db, sid) == kept  # served as stored, not rendered again
        assert "Provider's decision: not yet made" in pdf_pages(kept)[0]

        decisions.record(db, sid, "consult", user=provider(app))
        assert store.waiting(db) == 1  # queued again after the decision
        assert printing.stored(db, [sid]) == {}  # the stored copy is stale now
        fresh = printing.summary(db, sid)
        assert fresh != kept
        assert "Provider's decision: Needs a consultation" in pdf_pages(fresh)[0]
        assert printing.summary(db, sid) == fresh  # and that one is stored and current


def test_two_claims_never_take_the_same_job(app, submitted):
    ids = [submitted(full_name=f"Client C{i}", signature=f"Client C{i}") for i in range(3)]
    with app.app_context():
        db = get_db()
        first = store.claim(db, limit=2)
        second = store.claim(db, limit=5)
        assert {i for i, _ in first}.isdisjoint({i for i, _ in second})
        assert sorted(i for i, _ in first + second) == ids
        assert store.claim(db, limit=5) == []


def test_a_batch_is_the_same_from_stored_or_fresh_summaries(app, submitted):
    names = [f"Client {c}" for c in "ABCD"]
    for i, name in enumerate(names):
        submitted(
            full_name=name,
            signature=name,
            appointment_date=TODAY.isoformat(),
            notes="A long note. " * (150 if i == 1 else 1),  # one summary of several pages
        )
    app.config["PRINT_PROCESSES"] = 2
    from screening.output import pdf
    from screening.store.lists import day_clients

    try:
        with app.app_context():
            db = get_db()
            ids = [row["id"] for row in day_clients(db, TODAY)]
            assert printing.missing(db, ids) == ids
            fresh = printing.batch_pdf(db, ids, TODAY)  # rendered in the pool
            assert printing.missing(db, ids) == []
            from_store = printing.batch_pdf(db, ids, TODAY)
            one_document = pdf.day_pdf(db, TODAY)
    finally:
        printing.shutdown_pool()
    assert len(pdf_pages(fresh)) == len(pdf_pages(from_store)) == len(pdf_pages(one_document))
    assert whose(fresh) == whose(from_store) == whose(one_document)
    heads = [m.group(1) for page in pdf_pages(from_store) if (m := HEAD.match(page))]
    assert heads == names
    assert outline_titles(fresh) == outline_titles(from_store)
    titles = outline_titles(from_store)  # the cover, then one entry per client
    assert titles[0].startswith("Clients for") and titles[1:] == names
    labels = PdfReader(io.BytesIO(from_store)).page_labels
    assert labels[0] == "Cover 1" and labels[1] == "1-1" and labels[-1].startswith("4-")


def test_the_progress_page_works_without_javascript(app, staff, submitted):
    ids = [
        submitted(full_name=name, signature=name, appointment_date=TODAY.isoformat())
        for name in ("Client P", "Client Q", "Client R")
    ]
    app.config["PRINT_PROCESSES"] = 0  # render in the server process's thread
    desk = staff("front_desk")
    url = f"/staff/print/day/{TODAY.isoformat()}"
    page = desk.get(url)
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "Preparing 3 summaries…" in text and "of 3 ready" in text
    assert re.search(r'<meta http-equiv="refresh" content="\d+">', text)  # no script needed
    assert "<progress" in text and f'href="{url}"' in text
    for _ in range(240):  # what the browser does: load the same address again
        response = desk.get(url)
        if response.mimetype == "application/pdf":
            break
        assert "ready" in response.get_data(as_text=True)
        time.sleep(0.25)
    assert response.mimetype == "application/pdf"
    heads = [m.group(1) for page in pdf_pages(response.data) if (m := HEAD.match(page))]
    assert heads == ["Client P", "Client Q", "Client R"]
    conn = sqlite3.connect(app.config["DATABASE"])
    actions = conn.execute("SELECT action, detail FROM audit WHERE action LIKE 'print%'").fetchall()
    conn.close()
    # Once, when the PDF went out, with the submissions it held (as the day page's print).
    assert actions == [("print_day", f"{TODAY.isoformat()}: {','.join(map(str, ids))}")]


def test_a_chosen_batch_in_the_order_given_and_bad_ids_named(app, staff, submitted):
    a = submitted(full_name="Client A", signature="Client A")
    b = submitted(full_name="Client B", signature="Client B")
    desk = staff("front_desk")
    with app.app_context():
        printing.work_once(app)
    response = desk.get(f"/staff/print?ids={b},{a}")
    assert response.mimetype == "application/pdf"
    heads = [m.group(1) for page in pdf_pages(response.data) if (m := HEAD.match(page))]
    assert heads == ["Client B", "Client A"]
    assert "Chosen clients" in pdf_pages(response.data)[0]
    bad = desk.get("/staff/print?ids=1,x")
    assert bad.status_code == 400 and "ids" in bad.get_data(as_text=True)


def test_the_worker_stops_once_its_database_file_is_gone(tmp_path, caplog):
    """A server's database moved or deleted (a test's temporary one, at the end of a run):
    the background worker says so once and stops, rather than log an error every round."""
    from helpers import TEST_SETTINGS

    from screening import create_app
    from screening.store import init_db

    database = tmp_path / "gone.db"
    init_db(database)
    settings = {"SUMMARY_WORKER": True, "SUMMARY_POLL_SECONDS": 0.05, **TEST_SETTINGS}
    app = create_app({"SECRET_KEY": "k", "DATABASE": str(database), **settings})
    caplog.set_level(logging.INFO, logger="screening")
    app.test_client().get("/")  # a process's first request starts its worker
    worker = app.extensions["summary_worker"]
    assert worker.thread.is_alive()
    for path in tmp_path.glob("gone.db*"):
        path.unlink()
    worker.thread.join(timeout=10)
    assert not worker.thread.is_alive()
    said = [r for r in caplog.records if r.name == "screening.printing"]
    assert [r.levelname for r in said if r.levelno >= logging.WARNING] == []
    gone = [r.getMessage() for r in said if "database" in r.getMessage()]
    assert len(gone) == 1 and "stopped" in gone[0]
