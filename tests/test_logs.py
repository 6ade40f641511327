"""No health data in logs: a full walk through real gunicorn with every logger at DEBUG
(the app's, werkzeug's, gunicorn's error and access logs: live.Server(debug_logs=True)),
stdout and stderr captured."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote, quote_plus

import requests
from failing_app import SECRET_IN_ERROR
from helpers import TODAY, csrf_token, valid_answers
from stored import content
from visitor import Client

ANSWERS = valid_answers(
    full_name="Zephyrine Quillfeather",
    signature="zephyrine quillfeather",
    phone="555 0199 8421",
    date_of_birth="1979-03-17",
    appointment_date=(TODAY + dt.timedelta(days=9)).isoformat(),
    cold_sores=True,
    cold_sore_now=False,
    active_acne=True,
    medications_list="Canarymed 20 mg daily",
    notes="Canary note about my scarring",
    treatment_areas=["around_eyes", "neck"],
    concerns=["acne_scars", "pigmentation"],
    skin_type="type_4",
    eczema="past",
    retinoid_last_use="2_to_4_weeks",
)


def health_data(answers: dict) -> set[str]:
    """Every answer value a log could leak, with its name parts and URL-encoded forms
    (matched as whole words: the choice id "past" is no leak in "paste")."""
    found = set()
    for value in answers.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and len(item) >= 4:
                found |= {item, item.casefold(), quote(item), quote_plus(item)}
    for part in ("Zephyrine", "Quillfeather", "Canarymed", "scarring", "0199 8421"):
        found.add(part)
    return found


def test_a_full_walk_at_debug_level_logs_no_answer(gunicorn):
    server = gunicorn(workers=2, app="failing_app:create()", debug_logs=True)
    qn, _ = content()
    client = Client(server.url, qn, timeout=30)
    client.start()
    bad = {**ANSWERS, "date_of_birth": "1979-02-30"}
    # Shown back (by the page the post redirects to), not logged.
    assert client.answer_step(qn.steps[0], bad).status_code == 302
    assert client.get(f"/step/{qn.steps[0].id}").status_code == 422
    for section in qn.steps:
        assert client.answer_step(section, ANSWERS).status_code == 302
    [first, second] = client.submit(ANSWERS, double="together")
    assert first.status_code == second.status_code == 302
    assert "your answers were sent" in client.done().text
    http = requests.Session()
    token = csrf_token(http.get(server.url + "/").text)
    http.post(server.url + "/start", data={"full_name": ANSWERS["full_name"]})  # 400
    http.post(
        server.url + "/start", data={"csrf_token": token, "notes": ANSWERS["notes"] * 3000}
    )  # 413
    http.get(server.url + "/test-only/crash")  # 500: the exception quotes "form data"

    output = server.output()
    # The capture works: access lines, debug lines and the logged crash are all there.
    assert '"POST /review HTTP/1.1" 302' in output and "[DEBUG]" in output
    assert "unhandled RuntimeError on GET crash" in output
    leaks = sorted(
        value
        for value in health_data(ANSWERS) | {SECRET_IN_ERROR}
        if re.search(rf"(?<!\w){re.escape(value)}(?!\w)", output)
    )
    assert not leaks, leaks


# A name and a note partly in scripts this machine has no font for: WeasyPrint warns about
# each glyph it cannot draw, quoting the character.
STAFF_ANSWERS = {
    **ANSWERS,
    "full_name": "Zephyrine ᏌᏊᏓ Quillfeather",
    "signature": "zephyrine ᏌᏊᏓ quillfeather",
}
DECISION_NOTE = "Canary decision note ⵜⴰⵎⵣ: Quillfeather heals slowly"
UNDRAWABLE = "ᏌᏊᏓⵜⴰⵎⵣ"


def test_a_staff_session_at_debug_level_logs_no_client_text(gunicorn, tmp_path):
    """A provider logs in, opens the queue and a submission, records a decision with a
    note, prints the PDF summary and logs out; every logger at DEBUG, WeasyPrint's too."""
    from helpers import PASSWORD
    from visitor import Staff

    from screening import create_app
    from screening.content import questionnaire as current_questionnaire
    from screening.content import rules as current_rules
    from screening.staff import accounts as users
    from screening.store import get_db, init_db
    from screening.store.submissions import import_answers

    database = tmp_path / "staff-logs.db"
    init_db(database)
    app = create_app({"SECRET_KEY": "setup", "DATABASE": str(database)})
    with app.app_context():
        sid = import_answers(
            get_db(), STAFF_ANSWERS, current_questionnaire(), current_rules(), TODAY
        )
        users.create(get_db(), "dana", "provider", PASSWORD, "Dana Lee")
    server = gunicorn(workers=2, database=database, debug_logs=True)

    staff = Staff(server.url, timeout=60)
    assert staff.log_in("dana", "wrong password!").status_code == 401
    assert staff.log_in("dana", PASSWORD).status_code == 302
    assert "Zephyrine" in staff.get("/staff/").text
    page, fields = staff.form(f"/staff/submissions/{sid}")
    assert "Canarymed" in page.text
    bad = staff.post(
        f"/staff/submissions/{sid}/decision",
        {**fields, "decision": "defer_until", "note": DECISION_NOTE},
    )
    assert bad.status_code == 422  # shown back with its error, not logged
    done = staff.post(
        f"/staff/submissions/{sid}/decision",
        {**fields, "decision": "consult", "note": DECISION_NOTE},
    )
    assert done.status_code == 302
    pdf = staff.get(f"/staff/submissions/{sid}/summary.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert staff.log_out().status_code == 302

    output = server.output()
    # The capture works: access lines and debug lines are there, the PDF was served.
    assert f'"GET /staff/submissions/{sid}/summary.pdf HTTP/1.1" 200' in output
    assert "[DEBUG]" in output
    leaks = sorted(
        value
        for value in health_data(STAFF_ANSWERS)
        | {DECISION_NOTE, "Canary decision note", "heals slowly", "Dana Lee"}
        if re.search(rf"(?<!\w){re.escape(value)}(?!\w)", output)
    )
    leaks += [c for c in UNDRAWABLE if c in output]
    assert not leaks, leaks
    # WeasyPrint's progress messages (one per page and step, at INFO) are kept quiet.
    assert "Fetching and parsing" not in output and "Creating layout" not in output


def test_weasyprint_messages_keep_their_wording_but_not_what_they_quote(caplog):
    """The same check without depending on this machine's fonts."""
    import logging

    import screening.output.pdf  # noqa: F401 - configures WeasyPrint's loggers

    caplog.set_level(logging.DEBUG)
    logging.getLogger("weasyprint").warning(
        '.notdef glyph rendered for Unicode string unsupported by fonts: "%s" (U+%04X)', "Ꮜ", 0x13CC
    )
    logging.getLogger("weasyprint").debug("Failed to load %r", "Quillfeather")
    logging.getLogger("weasyprint.progress").info("Step 1 - %s", "Zephyrine")
    assert ".notdef glyph rendered" in caplog.text
    for quoted in ("Ꮜ", "13CC", "Quillfeather", "Zephyrine", "Step 1"):
        assert quoted not in caplog.text, quoted
