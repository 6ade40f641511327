"""No health data in logs: a full walk through real gunicorn with every logger at DEBUG
(the app's, werkzeug's, gunicorn's error and access logs: live.Server(debug_logs=True)),
stdout and stderr captured."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote, quote_plus

import requests
from helpers import TODAY, csrf_token, valid_answers
from failing_app import SECRET_IN_ERROR
from stored import content
from visitor import Client

ANSWERS = valid_answers(
    full_name="Zephyrine Quillfeather", signature="zephyrine quillfeather",
    phone="555 0199 8421", date_of_birth="1979-03-17",
    appointment_date=(TODAY + dt.timedelta(days=9)).isoformat(),
    cold_sores=True, cold_sore_now=False, active_acne=True,
    medications_list="Canarymed 20 mg daily", notes="Canary note about my scarring",
    treatment_areas=["around_eyes", "neck"], concerns=["acne_scars", "pigmentation"],
    skin_type="type_4", eczema="past", retinoid_last_use="2_to_4_weeks")


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
    assert client.answer_step(qn.steps[0], bad).status_code == 422  # shown back, not logged
    for section in qn.steps:
        assert client.answer_step(section, ANSWERS).status_code == 302
    [first, second] = client.submit(ANSWERS, double="together")
    assert first.status_code == second.status_code == 302
    assert "your answers were sent" in client.done().text
    http = requests.Session()
    token = csrf_token(http.get(server.url + "/").text)
    http.post(server.url + "/start", data={"full_name": ANSWERS["full_name"]})  # 400
    http.post(server.url + "/start", data={"csrf_token": token,
                                           "notes": ANSWERS["notes"] * 3000})  # 413
    http.get(server.url + "/test-only/crash")  # 500: the exception quotes "form data"

    output = server.output()
    # The capture works: access lines, debug lines and the logged crash are all there.
    assert '"POST /review HTTP/1.1" 302' in output and "[DEBUG]" in output
    assert "unhandled RuntimeError on GET crash" in output
    leaks = sorted(value for value in health_data(ANSWERS) | {SECRET_IN_ERROR}
                   if re.search(rf"(?<!\w){re.escape(value)}(?!\w)", output))
    assert not leaks, leaks
