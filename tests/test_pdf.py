"""PDF summaries read back with pypdf: complete, right for any text, and fetching nothing."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import re
import threading
from typing import ClassVar

import pytest
from helpers import TODAY, pdf_pages, valid_answers
from pypdf import PdfReader

from screening.content import questionnaire as current_questionnaire
from screening.store import get_db


def render(app, submission_id):
    from screening.output import pdf

    with app.app_context():
        return pdf.summary_pdf(get_db(), submission_id)


def test_a_summary_has_the_name_outcome_every_flag_and_every_answer(app, submitted):
    answers = valid_answers(
        active_acne=True,
        cold_sores=True,
        cold_sore_now=False,
        medications_list="Vitamin D 1000 IU",
        notes="Prefers mornings",
        recent_procedures=["injectables_2w"],
    )
    sid = submitted(**answers)
    data = render(app, sid)
    assert data.startswith(b"%PDF")
    pages = pdf_pages(data)
    text = " ".join(pages)
    assert "Ana María Pérez" in pages[0] and "REFER" in pages[0]
    with app.app_context():
        from screening.store.submissions import get_submission

        sub = get_submission(get_db(), sid)
        qn = current_questionnaire()
    for flag in sub["flags"]:
        assert " ".join(flag["staff_message"].split()) in text, flag["id"]
    for q in qn.questions.values():
        if q.is_shown(sub["answers"]):
            assert " ".join(q.display(sub["answers"][q.id]).split()) in text, q.id
    assert f"Page 1 of {len(pages)}" in pages[0]
    assert "Confidential health information" in pages[-1]
    # What the client was asked to do before treatment (reference.md: the done page and
    # the PDF), their own instructions first.
    for advice in [f["client_message"] for f in sub["flags"] if f.get("client_message")] + [
        item.text for item in qn.before_treatment
    ]:
        # spaces dropped: a line may break after the hyphen of "broad-spectrum"
        assert "".join(advice.split()) in "".join(text.split()), advice
    assert "Provider's decision: not yet made" in pages[0]
    assert sub["rules_version"][:8] in text
    assert f"age {45}" in text and "Skin Clinic" in pages[0]


def test_every_page_has_the_clinic_prepared_time_and_page_number(app, submitted):
    app.config["CLINIC_NAME"] = 'Dr "Lee" \\ Skin; } @page { size: A2 }'
    sid = submitted(active_acne=True, notes="A long note. " * 150)
    pages = pdf_pages(render(app, sid))
    assert len(pages) >= 2
    # Summaries are rendered ahead and printed later: the header says when it was prepared.
    printed = dt.datetime.now().astimezone().strftime("Prepared %Y-%m-%d")
    born = valid_answers()["date_of_birth"]
    for number, page in enumerate(pages, 1):
        assert 'Dr "Lee" \\ Skin; } @page { size: A2 }' in page, number
        assert f"Ana María Pérez · born {born}" in page, number  # whose page this is
        assert printed in page and f"Page {number} of {len(pages)}" in page, number
    mediabox = PdfReader(io.BytesIO(render(app, sid))).pages[0].mediabox
    assert (round(float(mediabox.width)), round(float(mediabox.height))) == (612, 792)


INTERNATIONAL = [
    ("accents", "Zoë Ñúñez-Ørsted"),
    ("chinese", "王小明"),
    ("arabic", "مرحبا"),
    ("hebrew", "שלום"),
    ("cyrillic", "Иван Петров"),
    ("devanagari", "देवनागरी"),
    ("emoji", "Ana 😀🌸"),
]


@pytest.mark.parametrize("kind, name", INTERNATIONAL, ids=[k for k, _ in INTERNATIONAL])
def test_names_and_notes_in_any_script_render_without_losing_text(app, submitted, kind, name):
    note = f"Note from {name}: " + "words that wrap " * 3
    sid = submitted(full_name=name, signature=name, notes=note)
    text = " ".join(pdf_pages(render(app, sid)))
    assert name in text
    # Right-to-left runs come back in visual order beside left-to-right ones, so check
    # that every word of the note is there rather than the note as one string.
    flat = "".join(text.split())
    for word in note.split():
        assert word.strip(":") in flat, word


def test_a_2000_character_note_is_printed_whole(app, submitted):
    words = " ".join(f"word{i:04d}" for i in range(300))[:2000]
    assert len(words) == 2000
    sid = submitted(notes=words)
    # The note runs over a page break (with the page's header and footer in between), so
    # check that every word of it is there, in order.
    text = " ".join(pdf_pages(render(app, sid)))
    position = 0
    for word in words.split():
        position = text.index(word, position)


class Recorder(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self):
        Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { background: red }")

    def log_message(self, *args):
        pass


def test_hostile_text_is_printed_as_text_and_fetches_nothing(app, submitted):
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    Recorder.hits = []
    payloads = [
        '<img src="file:///etc/passwd">',
        f'<link rel=stylesheet href="http://127.0.0.1:{port}/x.css">',
        f'<img src="http://localhost:{port}/pixel.png">',
        f'<style>@import url("http://127.0.0.1:{port}/i.css");</style>',
    ]
    try:
        sid = submitted(
            notes=" ".join(payloads),
            medications_list=payloads[1],
            full_name='<b>Bold</b> "Name"',
            signature='<b>Bold</b> "Name"',
        )
        data = render(app, sid)
    finally:
        server.shutdown()
        server.server_close()
    assert Recorder.hits == []
    text = " ".join(pdf_pages(data))
    # The payloads come back as text; a narrow answer column may wrap a long one, and
    # pypdf reads a line break as a space.
    assert '<imgsrc="file:///etc/passwd">' in text.replace(" ", "")
    assert f'<linkrel=stylesheethref="http://127.0.0.1:{port}/x.css">' in text.replace(" ", "")
    assert '<b>Bold</b> "Name"' in text
    assert "root:x:0:0" not in text and "/bin/bash" not in text
    reader = PdfReader(io.BytesIO(data))
    assert "/EmbeddedFiles" not in str(reader.trailer["/Root"].get("/Names", {}))
    assert reader.attachments == {}


def test_the_fetcher_serves_only_our_static_files(app):
    from screening.output.pdf import STATIC, RefusedURL, _fetcher_class

    fetcher = _fetcher_class()()
    ok = fetcher.fetch((STATIC / "css" / "print.css").as_uri())
    assert b"@page" in ok.read()
    for url in [
        "file:///etc/passwd",
        (STATIC / ".." / "db.py").as_uri(),
        "file://" + str(STATIC) + "/../__init__.py",
        "http://127.0.0.1:1/x.css",
        "https://example.org/",
        "ftp://example.org/x",
        "data:text/css,body{}",
        "file://otherhost" + str(STATIC / "css" / "print.css"),
    ]:
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)


def test_a_day_batch_has_a_cover_and_each_summary_on_its_own_page(app, submitted):
    names = [f"Client {chr(65 + i // 26)}{chr(65 + i % 26)} Batch" for i in range(30)]
    for i, name in enumerate(names):
        submitted(
            full_name=name,
            signature=name,
            appointment_date=TODAY.isoformat(),
            active_acne=(i % 3 == 0),
        )
    submitted(
        full_name="Other Day",
        signature="Other Day",
        appointment_date=(TODAY + dt.timedelta(days=2)).isoformat(),
    )
    from screening.output import pdf

    with app.app_context():
        data = pdf.day_pdf(get_db(), TODAY)
    pages = pdf_pages(data)
    assert "Clients for" in pages[0] and "30 clients" in pages[0]
    assert all(name in pages[0] for name in names) and "Other Day" not in " ".join(pages)
    # A summary's first page opens with its heading and the client's name.
    heads = [
        m.group(1)
        for page in pages[1:]
        if (
            m := re.match(
                r"PRE-TREATMENT SCREENING · FRACTIONAL CO2 RESURFACING "
                r"(Client \w\w Batch)",
                page,
            )
        )
    ]
    assert heads == names  # 30 summaries, in the cover's order, each starting a page
    # Every page of a summary says whose it is (a page that slips out of the pile too).
    assert "· born" not in pages[0]
    current = None
    for number, page in enumerate(pages[1:], 2):
        if m := re.match(
            r"PRE-TREATMENT SCREENING · FRACTIONAL CO2 RESURFACING "
            r"(Client \w\w Batch)",
            page,
        ):
            current = m.group(1)
        assert f"{current} · born " in page, number


def test_the_provider_decision_stands_beside_the_automatic_outcome(app, submitted):
    sid = submitted(full_name="Deferred Person", signature="Deferred Person", active_acne=True)
    with app.app_context():
        db = get_db()
        db.execute(
            "INSERT INTO users (username, name, role, password_hash, active, created_at) "
            "VALUES ('dana', 'Dr Dana Lee', 'provider', 'x', 1, '2026-01-01T00:00:00')"
        )
        user_id = db.execute("SELECT id FROM users WHERE username = 'dana'").fetchone()[0]
        for decision, until in (("consult", None), ("defer_until", "2027-03-01")):
            db.execute(
                "INSERT INTO decisions (submission_id, decision, defer_until, note, "
                "user_id, at) VALUES (?, ?, ?, '', ?, ?)",
                [sid, decision, until, user_id, dt.datetime.now(dt.UTC).isoformat()],
            )
    pages = pdf_pages(render(app, sid))
    assert "REFER" in pages[0]
    assert "Provider's decision: Defer until 2027-03-01 (Dr Dana Lee," in pages[0]
    text = " ".join(pages)
    assert "until 2027-03-01 until" not in text and "Defer until a date until" not in text
    assert f"of {len(pages)}" in pages[-1]


def test_a_batch_frees_its_memory_before_it_returns(app, submitted):
    """A render's object tree is freed by the render itself: left to the collector, the
    next request on the worker paid for it (0.6 s after a 50-client batch)."""
    import gc

    for i in range(5):
        submitted(
            full_name=f"Client {i}", signature=f"Client {i}", appointment_date=TODAY.isoformat()
        )
    from screening.output import pdf

    with app.app_context():
        pdf.day_pdf(get_db(), TODAY)  # caches and fonts
        gc.collect()
        before = len(gc.get_objects())
        data = pdf.day_pdf(get_db(), TODAY)
        left = len(gc.get_objects()) - before
    assert data.startswith(b"%PDF") and gc.isenabled()
    assert left < 2_000, f"{left} objects of the render still wait for a collection"


def test_a4_when_configured(app, submitted):
    sid = submitted()
    app.config["PDF_PAGE_SIZE"] = "A4"
    page = PdfReader(io.BytesIO(render(app, sid))).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    app.config["PDF_PAGE_SIZE"] = "Letter"
    page = PdfReader(io.BytesIO(render(app, sid))).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (612, 792)


def test_pdf_routes_for_front_desk_with_safe_headers_and_audit(app, staff, submitted):
    import sqlite3

    sid = submitted(
        full_name="Printed Person", signature="Printed Person", appointment_date=TODAY.isoformat()
    )
    desk = staff("front_desk")
    response = desk.get(f"/staff/submissions/{sid}/summary.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'inline; filename="summary-{TODAY.isoformat()}-{sid}.pdf"'
    assert "Printed" not in disposition and response.headers["Cache-Control"] == "no-store"
    assert "Printed Person" in " ".join(pdf_pages(response.data))
    # The day page's batch (staff/printing.py).
    day = desk.get(f"/staff/day/{TODAY.isoformat()}.pdf", follow_redirects=True)
    assert day.status_code == 200
    assert day.headers["Content-Disposition"] == f'inline; filename="day-{TODAY.isoformat()}.pdf"'
    assert desk.get("/staff/day/2001-01-01.pdf", follow_redirects=True).status_code == 404
    assert desk.get("/staff/day/nonsense.pdf").status_code == 404
    assert desk.get("/staff/submissions/999999/summary.pdf").status_code == 404
    assert app.test_client().get(f"/staff/submissions/{sid}/summary.pdf").status_code == 302
    conn = sqlite3.connect(app.config["DATABASE"])
    actions = conn.execute(
        "SELECT action, submission_id, detail FROM audit WHERE action LIKE 'print%' ORDER BY id"
    ).fetchall()
    conn.close()
    # A day's batch records which submissions it printed (issue 16).
    assert actions == [("print_summary", sid, None), ("print_day", None, f"{TODAY}: {sid}")]


def test_pdf_cli(runner, submitted, tmp_path):
    sid = submitted(appointment_date=TODAY.isoformat())
    out = tmp_path / "one.pdf"
    result = runner.invoke(args=["pdf", str(sid), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Ana María Pérez" in " ".join(pdf_pages(out.read_bytes()))
    result = runner.invoke(args=["pdf", "--day", TODAY.isoformat(), "-o", str(tmp_path / "d.pdf")])
    assert result.exit_code == 0 and (tmp_path / "d.pdf").read_bytes().startswith(b"%PDF")
    missing = runner.invoke(args=["pdf", "424242", "-o", str(tmp_path / "x.pdf")])
    assert missing.exit_code == 1 and "no submitted screening with id 424242" in missing.output
    empty = runner.invoke(args=["pdf", "--day", "2001-01-01", "-o", str(tmp_path / "x.pdf")])
    assert empty.exit_code == 1 and "no submitted screenings for 2001-01-01" in empty.output
    bad = runner.invoke(args=["pdf", "--day", "yesterday", "-o", str(tmp_path / "x.pdf")])
    assert bad.exit_code == 1 and "not a date" in bad.output
    assert not (tmp_path / "x.pdf").exists()
