"""A client under 18 names a parent or guardian, who signs too, on the review page."""

from __future__ import annotations

import datetime as dt
import json

from helpers import TODAY, rows, valid_answers


def minor(**overrides) -> dict:
    born = TODAY.replace(year=TODAY.year - 16) - dt.timedelta(days=3)
    return valid_answers(date_of_birth=born.isoformat(), **overrides)


def test_a_minor_without_a_guardian_is_refused(wizard, client, app):
    answers = minor()
    wizard.walk(answers)
    review = client.get("/review").text
    assert "Full name of your parent or guardian" in review
    assert 'id="q-guardian_name"' in review.split("</form>")[0]
    assert "hidden" not in review.split('id="q-guardian_name"')[1].split(">")[0]
    response = wizard.submit(answers, follow=True)  # errors are shown by the GET (PRG)
    assert response.status_code == 422
    assert "Parent or guardian&#39;s name: please fill this in." in response.text
    assert "Parent or guardian&#39;s signature: please fill this in." in response.text
    assert rows(app, "SELECT status FROM submissions")[0]["status"] == "draft"


def test_a_guardian_signing_another_name_is_refused_with_the_name_to_copy(wizard, app):
    answers = minor(guardian_name="Rosa Pérez", guardian_signature="Rosa Lopez")
    wizard.walk(answers)
    response = wizard.submit(answers, follow=True)  # errors are shown by the GET (PRG)
    assert response.status_code == 422
    assert "exactly as in “Parent or guardian&#39;s name”: Rosa Pérez." in response.text
    assert rows(app, "SELECT status FROM submissions")[0]["status"] == "draft"


def test_a_minor_with_a_guardian_is_accepted_and_referred(wizard, client, app):
    answers = minor(guardian_name="Rosa Pérez", guardian_signature="rosa perez")
    wizard.walk(answers)
    assert wizard.submit(answers).status_code == 302
    row = rows(app, "SELECT * FROM submissions")[0]
    stored = json.loads(row["answers"])
    assert row["status"] == "submitted" and row["outcome"] == "refer"
    assert (stored["guardian_name"], stored["guardian_signature"]) == ("Rosa Pérez", "rosa perez")
    assert [f["id"] for f in json.loads(row["flags"])] == ["under-18"]


def test_an_adult_is_not_asked_for_a_guardian(wizard, client, app):
    answers = valid_answers(guardian_name="Rosa Pérez", guardian_signature="Someone Else")
    wizard.walk(answers)
    review = client.get("/review").text
    assert "hidden" in review.split('id="q-guardian_name"')[1].split(">")[0]
    assert "data-show-if" not in review.split('id="q-guardian_name"')[1].split(">")[0]
    assert wizard.submit(answers).status_code == 302
    stored = json.loads(rows(app, "SELECT answers FROM submissions")[0]["answers"])
    assert stored["guardian_name"] is None and stored["guardian_signature"] is None


def test_import_refuses_a_minor_without_a_guardian(runner, app, tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(minor()))
    result = runner.invoke(args=["submissions", "import", str(path)])
    assert result.exit_code == 1
    assert "guardian_name: Parent or guardian's name: please fill this in." in result.output
    path.write_text(json.dumps(minor(guardian_name="Rosa Pérez", guardian_signature="ROSA PÉREZ")))
    assert runner.invoke(args=["submissions", "import", str(path)]).exit_code == 0
