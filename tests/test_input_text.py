"""Typed text is what it looks like (issue 17, finding 7): a name with a right-to-left
override or a zero-width character could display as another; a file posted in a text
field was stored as "<FileStorage: 'f.txt' ...>". Names in any script still pass."""

from __future__ import annotations

import io
import json

import pytest
from helpers import csrf_token, form_data, make_user, revision, rows, valid_answers

from screening.questionnaire import hidden_characters

NAMES_THAT_PASS = [
    "محمد عبد الله",  # Arabic
    "محمد‌علی رضایی",  # Persian, with a zero-width non-joiner (U+200C)
    "अर्जुन शर्मा",  # Hindi (Devanagari, with viramas)
    "क्‍षितिज",  # Devanagari with a zero-width joiner (U+200D)
    "Zoë 👩‍⚕️ Okafor",  # an emoji ZWJ sequence with a variation selector
    "Ana 🏴󠁧󠁢󠁳󠁣󠁴󠁿 Reid",  # a flag emoji made of tag characters
    "O'Brien-Łukasz 李小龍",
]
NAMES_REFUSED = {
    "right-to-left override": "Ana \u202eyrraB",
    "left-to-right override": "Ana \u202dBarry",
    "right-to-left isolate": "Ana \u2067Barry\u2069",
    "right-to-left mark": "Ana\u200f Barry",
    "Arabic letter mark": "Ana\u061c Barry",
    "zero-width space": "An\u200ba Barry",
    "word joiner": "Ana\u2060Barry",
    "byte order mark": "\ufeffAna Barry",
    "soft hyphen": "Ana Bar\u00adry",
    "line separator": "Ana\u2028Barry",
}


def post_about(client, wizard, name: str, follow: bool = False):
    wizard.start()
    page = client.get("/step/about")
    section = wizard.qn.steps[0]
    data = form_data(section.step_questions, valid_answers(full_name=name))
    data.update({"csrf_token": csrf_token(page.text), "rev": revision(page.text), "nav": "next"})
    # `follow`: a step with errors is shown by the GET its post redirects to (PRG).
    return client.post("/step/about", data=data, follow_redirects=follow)


@pytest.mark.parametrize("name", NAMES_THAT_PASS)
def test_names_in_any_script_pass(client, wizard, name):
    assert not hidden_characters(name)
    response = post_about(client, wizard, name)
    assert response.status_code == 302, response.text[:2000]
    saved = json.loads(rows(wizard.app, "SELECT answers FROM submissions")[0]["answers"])
    assert saved["full_name"] == name


@pytest.mark.parametrize("name", NAMES_REFUSED.values(), ids=NAMES_REFUSED.keys())
def test_names_with_hidden_formatting_characters_are_refused(client, wizard, name):
    response = post_about(client, wizard, name, follow=True)
    assert response.status_code == 422
    assert "Full name: please remove the hidden formatting characters" in response.text
    saved = json.loads(rows(wizard.app, "SELECT answers FROM submissions")[0]["answers"])
    assert "full_name" not in saved


def test_a_staff_members_name_refuses_them_too(app, staff):
    admin = staff("admin")
    page = admin.get("/staff/users")
    response = admin.post(
        "/staff/users",
        data={
            "csrf_token": csrf_token(page.text),
            "username": "drlee",
            "role": "provider",
            "name": NAMES_REFUSED["right-to-left override"],
        },
    )
    assert response.status_code == 422 and "hidden formatting characters" in response.text
    assert rows(app, "SELECT count(*) AS n FROM users WHERE username = 'drlee'") == [{"n": 0}]


def file_part(name: str = "f.txt"):
    return (io.BytesIO(b"contents of a file"), name)


def test_a_file_in_a_text_field_is_a_field_error(client, wizard):
    wizard.start()
    page = client.get("/step/about")
    data = form_data(wizard.qn.steps[0].step_questions, valid_answers())
    data.update(
        {
            "csrf_token": csrf_token(page.text),
            "rev": revision(page.text),
            "nav": "next",
            "full_name": file_part(),
        }
    )
    response = client.post(
        "/step/about", data=data, content_type="multipart/form-data", follow_redirects=True
    )
    assert response.status_code == 422
    assert "Full name: please type your answer here; a file cannot be sent." in response.text
    # Going back keeps the valid answers only; nothing like "<FileStorage" is ever stored.
    data.update({"nav": "back", "full_name": file_part()})
    client.post("/step/about", data=data, content_type="multipart/form-data")
    stored = rows(wizard.app, "SELECT answers FROM submissions")[0]["answers"]
    assert "FileStorage" not in stored and "f.txt" not in stored
    assert "full_name" not in json.loads(stored) and "phone" in json.loads(stored)


def test_a_file_in_a_choice_or_checkbox_field_is_a_field_error_too(client, wizard):
    wizard.start()
    page = client.get("/step/about")
    data = form_data(wizard.qn.steps[0].step_questions, valid_answers())
    data.update(
        {
            "csrf_token": csrf_token(page.text),
            "rev": revision(page.text),
            "nav": "next",
            "treatment_areas": file_part(),
        }
    )
    response = client.post(
        "/step/about", data=data, content_type="multipart/form-data", follow_redirects=True
    )
    assert response.status_code == 422 and "a file cannot be sent" in response.text


def test_a_file_in_a_staff_form_is_a_field_error(app, staff, submitted):
    sid = submitted()
    provider = staff("provider")
    page = provider.get(f"/staff/submissions/{sid}")
    response = provider.post(
        f"/staff/submissions/{sid}/decision",
        data={"csrf_token": csrf_token(page.text), "decision": "consult", "note": file_part()},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "Note: please type your answer here" in response.text
    assert rows(app, "SELECT count(*) AS n FROM decisions") == [{"n": 0}]
    make_user(app, "dana", "provider")
    anonymous = app.test_client()
    login = anonymous.get("/staff/login")
    response = anonymous.post(
        "/staff/login",
        data={"csrf_token": csrf_token(login.text), "username": file_part(), "password": "x"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "Username: please type your answer" in response.text
