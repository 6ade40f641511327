"""A submission keeps the flags, outcome and versions that judged it; a question added to the
questionnaire later reads "Not asked (questionnaire version 1)" on its page and its PDF, never
"No" or "Not answered"."""

from __future__ import annotations

import json
import sqlite3

from helpers import pdf_text

from screening.store import get_db

# A flag as version 1 stored it: no title, and the always-firing sun-care rule.
V1_FLAGS = [
    {
        "id": "sun-care",
        "severity": "prep",
        "fields": {},
        "staff_message": "Standard pre-care given - sun avoidance and daily broad-spectrum SPF 30+.",
        "client_message": "Protect your skin from the sun for 4 weeks before treatment.",
        "source": "clinic's article",
    }
]
NEW_IN_V2 = ("treatment_area_other", "immune_condition", "guardian_name", "guardian_signature")


def as_version_1(app, submission_id: int) -> dict:
    """Turn a stored submission into one answered under questionnaire version 1: its answers
    hold only the questions version 1 asked, judged by version 1's rules."""
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        (answers,) = conn.execute(
            "SELECT answers FROM submissions WHERE id = ?", [submission_id]
        ).fetchone()
        answers = {k: v for k, v in json.loads(answers).items() if k not in NEW_IN_V2}
        conn.execute(
            "UPDATE submissions SET answers = ?, flags = ?, outcome = 'prep', flag_count = 1, "
            "questionnaire_version = '1', rules_version = 'v1rules0' WHERE id = ?",
            [json.dumps(answers), json.dumps(V1_FLAGS), submission_id],
        )
        conn.commit()
    finally:
        conn.close()
    return answers


def test_the_staff_page_shows_a_later_question_as_not_asked(app, staff, submitted):
    sid = submitted()
    as_version_1(app, sid)
    page = staff("provider").get(f"/staff/submissions/{sid}").text
    row = page.split("Do you have a condition that weakens your immune system")[1]
    row = row.split("</tr>")[0]
    assert row.endswith('<td class="a">Not asked (questionnaire version 1)</td>')
    # Its own flags, outcome and version stand: sun-care, by id, as version 1 judged it.
    assert '<span class="flag-id">sun-care</span>' in page
    assert "Standard pre-care given" in page and "v1rules0" in page
    # A question that version 1 asked still shows its answer.
    row = page.split("Do you have lupus, scleroderma")[1][:200]
    assert '<td class="a">No</td>' in row


def test_the_pdf_shows_a_later_question_as_not_asked(app, submitted):
    from screening.output import pdf

    sid = submitted()
    as_version_1(app, sid)
    with app.app_context():
        data = pdf.summary_pdf(get_db(), sid)
    text = pdf_text(data)
    after = text.split("organ transplant?")[1][:60]
    assert after.startswith(" Not asked (questionnaire version 1)"), after
    assert "questionnaire version 1 · submission" in text
    assert "sun-care" in text and "PREP" in text


def test_a_current_submission_shows_titles_and_full_sources(app, staff, submitted):
    sid = submitted(treatment_areas=["neck"], immune_condition=False)
    page = staff("provider").get(f"/staff/submissions/{sid}").text
    assert '<span class="flag-name">Neck, chest or hands</span>' in page
    assert '<span class="flag-id">' not in page
    references = app.extensions["rules"].references
    details = page.split('<details class="flag-refs">')[1].split("</details>")[0]
    assert "<summary>Sources in full</summary>" in details
    assert "<b>[Avram09]</b> " + references["Avram09"] in details
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/23904822/"' in details  # [Ramsdell], linked
    row = page.split("Do you have a condition that weakens your immune system")[1][:200]
    assert '<td class="a">No</td>' in row
