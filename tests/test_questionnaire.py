"""questionnaire.yaml: the real file matches the clinical spec; a broken one stops start-up."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from helpers import valid_answers

from screening import create_app
from screening.config import ROOT
from screening.questionnaire import load

SPEC_IDS = {
    "about": [
        "full_name",
        "date_of_birth",
        "phone",
        "appointment_date",
        "treatment_areas",
        "treatment_area_other",
    ],
    "skin": [
        "active_acne",
        "eczema",
        "psoriasis_vitiligo",
        "skin_infection",
        "cold_sores",
        "cold_sore_now",
    ],
    "products": [
        "retinoid_last_use",
        "exfoliant_last_use",
        "isotretinoin",
        "photosensitizing_meds",
        "blood_thinners",
        "immunosuppressants",
        "gold_therapy",
        "medications_list",
    ],
    "sun": ["sunburn_recent", "tan_recent", "sun_planned", "skin_type"],
    "health": [
        "pregnant_or_breastfeeding",
        "keloid_history",
        "slow_healing",
        "diabetes",
        "autoimmune",
        "immune_condition",
        "radiation_to_area",
        "smoker",
        "anesthetic_allergy",
        "recent_procedures",
        "prior_co2",
    ],
    "goals": [
        "concerns",
        "downtime_ok",
        "notes",
        "attest",
        "signature",
        "guardian_name",
        "guardian_signature",
    ],
}


def test_the_questionnaire_has_exactly_the_spec_sections_and_ids():
    qn = load(ROOT / "questionnaire.yaml")
    assert {s.id: [q.id for q in s.questions] for s in qn.sections} == SPEC_IDS
    q = qn.questions
    assert q["eczema"].choice_ids == ("no", "past", "active")
    assert q["isotretinoin"].choice_ids == (
        "never",
        "over_12_months",
        "6_to_12_months",
        "under_6_months",
        "taking_now",
    )
    assert (
        q["retinoid_last_use"].choice_ids
        == q["exfoliant_last_use"].choice_ids
        == ("never", "over_4_weeks", "2_to_4_weeks", "under_2_weeks", "still_using")
    )
    assert q["skin_type"].choice_ids == tuple(f"type_{n}" for n in range(1, 7))
    assert q["recent_procedures"].choice_ids == (
        "peel_or_microderm_4w",
        "laser_or_ipl_4w",
        "injectables_2w",
        "facial_surgery_6m",
    )
    assert q["cold_sore_now"].show_if == {"cold_sores": True}
    assert q["treatment_area_other"].show_if == {"treatment_areas": {"includes": "other"}}
    assert not q["treatment_area_other"].required
    for qid in ("guardian_name", "guardian_signature"):
        assert q[qid].show_if == {"age": {"under": 18}} and q[qid].on_review and q[qid].required
    assert q["guardian_signature"].matches == "guardian_name"
    assert q["immune_condition"].type == "boolean" and q["immune_condition"].required
    assert qn.version == "2"
    assert q["treatment_areas"].min_selected == q["concerns"].min_selected == 1
    assert q["date_of_birth"].not_future and q["appointment_date"].not_past
    assert q["signature"].matches == "full_name" and q["attest"].must_be_true
    assert {k: v.type for k, v in q.items() if v.type in ("text", "longtext", "date")} == {
        "full_name": "text",
        "date_of_birth": "date",
        "phone": "text",
        "appointment_date": "date",
        "treatment_area_other": "text",
        "medications_list": "longtext",
        "notes": "longtext",
        "signature": "text",
        "guardian_name": "text",
        "guardian_signature": "text",
    }


def test_typed_checks_name_the_question():
    qn = load(ROOT / "questionnaire.yaml")
    today = dt.date(2026, 1, 15)
    q = qn.questions
    assert q["date_of_birth"].check("2026-01-16", {}, today).startswith("Date of birth:")
    assert q["date_of_birth"].check("2026-02-30", {}, today).startswith("Date of birth:")
    assert q["eczema"].check("yes", {}, today).startswith("Eczema:")
    assert q["active_acne"].check("true", {}, today).startswith("Active acne:")
    assert q["phone"].check("555\x000", {}, today).startswith("Mobile phone:")
    assert q["notes"].check("a\nb", {}, today) is None
    assert q["signature"].check(" JANE  doe", {"full_name": "Jane Doe"}, today) is None


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("ana maria perez", "Ana María Pérez"),
        ("ANA  MARÍA PEREZ ", "Ana María Pérez"),
        ("Zoe O'Brien", "Zoë O’Brien"),  # a phone's apostrophe, or a word processor's
        ("zoë o‘brien", "Zoe O'Brien"),
        ("Jean-Luc Noël", "Jean–Luc Noel"),
        ("Soren Angstrom", "Søren Ångström"),
        ("Łukasz Żółć", "lukasz zolc"),
        ("Ιωάννα", "ΙΩΑΝΝΑ"),  # Greek: case and the tonos accent
    ],
)
def test_a_signature_matches_the_name_ignoring_case_spaces_accents_and_apostrophes(typed, name):
    q = load(ROOT / "questionnaire.yaml").questions
    assert q["signature"].check(typed, {"full_name": name}, dt.date(2026, 1, 15)) is None


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Ana Perez", "Ana María Pérez"),
        ("Ana Maria Perez Lopez", "Ana María Pérez"),
        ("Anna Maria Perez", "Ana María Pérez"),
        ("OBrien", "O'Brien"),
        ("Ioanna", "Ιωάννα"),  # another script is another name, not an accent
    ],
)
def test_another_name_is_refused_with_the_name_to_copy(typed, name):
    q = load(ROOT / "questionnaire.yaml").questions
    message = q["signature"].check(typed, {"full_name": name}, dt.date(2026, 1, 15))
    assert message == f"Signature: please type your name exactly as in “Full name”: {name}."


def test_a_guardian_is_asked_only_of_a_client_under_18_on_the_day_of_answering():
    qn = load(ROOT / "questionnaire.yaml")
    today = dt.date(2026, 1, 15)
    minor = valid_answers(date_of_birth="2008-01-16")  # 18 tomorrow
    adult = valid_answers(date_of_birth="2008-01-15")  # 18 today
    guardian = qn.questions["guardian_name"]
    assert guardian.is_shown(minor, today) and not guardian.is_shown(adult, today)
    assert qn.validate(qn.normalize(minor, today), today) == {
        "guardian_name": "Parent or guardian's name: please fill this in.",
        "guardian_signature": "Parent or guardian's signature: please fill this in.",
    }
    signed = {**minor, "guardian_name": "Rosa Pérez", "guardian_signature": "rosa perez"}
    assert qn.validate(qn.normalize(signed, today), today) == {}
    wrong = {**signed, "guardian_signature": "Ana María Pérez"}
    assert qn.validate(qn.normalize(wrong, today), today) == {
        "guardian_signature": "Parent or guardian's signature: please type your name exactly "
        "as in “Parent or guardian's name”: Rosa Pérez."
    }
    # An adult's guardian answers are not asked, so they are never stored.
    stored = qn.normalize({**adult, "guardian_name": "Rosa Pérez"}, today)
    assert stored["guardian_name"] is None and qn.validate(stored, today) == {}


def test_the_other_area_is_asked_when_other_is_ticked():
    qn = load(ROOT / "questionnaire.yaml")
    today = dt.date(2026, 1, 15)
    other = qn.questions["treatment_area_other"]
    assert other.is_shown({"treatment_areas": ["neck", "other"]}, today)
    assert not other.is_shown({"treatment_areas": ["neck"]}, today)
    assert not other.is_shown({"treatment_areas": None}, today)
    answers = valid_answers(treatment_areas=["full_face"], treatment_area_other="my back")
    assert qn.normalize(answers, today)["treatment_area_other"] is None
    answers = valid_answers(treatment_areas=["other"], treatment_area_other=None)
    assert qn.validate(qn.normalize(answers, today), today) == {}  # optional
    assert other.shown_when == "treatment_areas includes other"


def test_check_answers_is_what_import_and_evaluate_store():
    qn = load(ROOT / "questionnaire.yaml")
    today = dt.date(2026, 1, 15)
    raw = valid_answers(cold_sores=False, cold_sore_now=True, surprise=1)
    checked = qn.check_answers(raw, today)
    assert checked.errors == {"surprise": "not a question id in the questionnaire"}
    assert checked.ignored == ["cold_sore_now"] and checked.answers["cold_sore_now"] is None
    assert list(checked.answers) == list(qn.questions)
    partial = qn.check_answers({"eczema": "active"}, today, partial=True)
    assert partial.errors == {}
    assert partial.missing["full_name"] == "Full name: please fill this in."
    assert "eczema" not in partial.missing and "cold_sore_now" not in partial.missing
    assert qn.check_answers([1], today).errors == {
        "(file)": "expected a JSON object of answers by question id"
    }


GOOD = """
identity: {name: n, date_of_birth: d}
sections:
  - id: s
    title: S
    questions:
      - {id: n, type: text, label: "Name", required: true}
      - {id: d, type: date, label: "Born", required: true}
      - {id: a, type: boolean, label: "A"}
      - {id: b, type: choice, label: "B", choices: [{id: x, label: X}], show_if: {a: true}}
"""

BROKEN = [
    (
        "duplicate id",
        GOOD + "      - {id: a, type: text, label: again}\n",
        "question a: duplicate question id",
    ),
    (
        "unknown type",
        GOOD.replace("type: boolean", "type: yesno"),
        "question a: unknown type 'yesno'",
    ),
    (
        "show_if unknown id",
        GOOD.replace("show_if: {a: true}", "show_if: {zz: true}"),
        "question b: show_if names an unknown question id 'zz'",
    ),
    (
        "choice without choices",
        GOOD.replace("choices: [{id: x, label: X}], ", ""),
        "question b: a choice question needs a list of 'choices'",
    ),
    ("bad YAML", GOOD.replace("title: S", "title: [S"), "not valid YAML"),
    (
        "unquoted no",
        GOOD.replace("{id: x, label: X}", "{id: no, label: No}"),
        "question b: each choice needs a text 'id'",
    ),
    (
        "comma in an unquoted choice label",  # read as label True and a key "6 months ago"
        GOOD.replace("{id: x, label: X}", "{id: x, label: Yes, 6 months ago}"),
        "question b: choice 'x': its 'label' must be one text",
    ),
    (
        "two choices alike",
        GOOD.replace("{id: x, label: X}", '{id: x, label: X}, {id: y, label: "x"}'),
        "question b: two choices have the same label",
    ),
    (
        "no identity",
        GOOD.replace("identity: {name: n, date_of_birth: d}", ""),
        "identity: expected a mapping of name, date_of_birth",
    ),
    (
        "identity naming an optional question",
        GOOD.replace(
            '{id: d, type: date, label: "Born", required: true}',
            '{id: d, type: date, label: "Born"}',
        ),
        "identity: date_of_birth: 'd' must be a required question that is always asked",
    ),
    (
        "show_if on a list without includes",
        GOOD.replace(
            "{id: a, type: boolean", "{id: a, type: multi, choices: [{id: o, label: O}]"
        ).replace("show_if: {a: true}", "show_if: {a: o}"),
        "question b: show_if: 'a' is a list: write {a: {includes: CHOICE}}",
    ),
    (
        "includes an unknown choice",
        GOOD.replace(
            "{id: a, type: boolean", "{id: a, type: multi, choices: [{id: o, label: O}]"
        ).replace("show_if: {a: true}", "show_if: {a: {includes: p}}"),
        "question b: show_if: 'p' is not a choice of 'a'",
    ),
    (
        "includes on a yes/no question",
        GOOD.replace("show_if: {a: true}", "show_if: {a: {includes: x}}"),
        "question b: show_if: 'a' takes a value to equal, or {includes: CHOICE}",
    ),
    (
        "age without under",
        GOOD.replace("show_if: {a: true}", "show_if: {age: 18}"),
        "question b: show_if: age takes {under: YEARS}, e.g. {age: {under: 18}}",
    ),
    (
        "age under a text",
        GOOD.replace("show_if: {a: true}", 'show_if: {age: {under: "18"}}'),
        "question b: show_if: age: 'under' must be a whole number of years",
    ),
    (
        "a question named age",
        GOOD.replace("{id: a, type: boolean", "{id: age, type: boolean"),
        "question age: 'age' is reserved",
    ),
    (
        "care item without an id",
        GOOD + "before_treatment:\n  - Keep your skin moisturized.\n",
        "before_treatment item 1: expected {id: ..., text: ...}",
    ),
    (
        "care items with the same id",
        GOOD + "before_treatment:\n  - {id: a, text: A.}\n  - {id: a, text: B.}\n",
        "before_treatment item 2: duplicate id 'a'",
    ),
    (
        "label read as a boolean",
        GOOD.replace('label: "A"', "label: Yes"),
        "question a: 'label' must be text",
    ),
    (
        "a format the loader does not know",
        GOOD.replace('label: "Name", required: true', 'label: "Name", format: email'),
        "question n: format 'email' is not known for a text question (text: phone)",
    ),
    (
        "a phone format on a yes/no question",
        GOOD.replace('label: "A"}', 'label: "A", format: phone}'),
        "question a: format 'phone' is not known for a boolean question",
    ),
]


@pytest.mark.parametrize("kind, text, message", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_questionnaire_stops_start_up_with_one_message(tmp_path, kind, text, message):
    path = tmp_path / "questionnaire.yaml"
    path.write_text(text)
    with pytest.raises(SystemExit) as stopped:
        create_app(
            {"SECRET_KEY": "x", "DATABASE": str(tmp_path / "db"), "QUESTIONNAIRE_PATH": str(path)}
        )
    text = str(stopped.value.code)
    assert message in text and str(path) in text
    assert "Traceback" not in text and "\n" not in text


def test_the_good_fragment_loads(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text(GOOD)
    assert list(load(path).questions) == ["n", "d", "a", "b"]
    path.write_text(
        GOOD.replace("show_if: {a: true}", "show_if: {a: true, age: {under: 16}}")
        + "before_treatment:\n  - {id: sun, text: Use sunscreen.}\n"
    )
    qn = load(path)
    assert qn.questions["b"].shown_when == "a is true and the client is under 16"
    assert [(i.id, i.text) for i in qn.before_treatment] == [("sun", "Use sunscreen.")]
    today = dt.date(2026, 1, 15)
    assert qn.questions["b"].is_shown({"a": True, "d": "2010-06-01"}, today)
    assert not qn.questions["b"].is_shown({"a": True, "d": "2010-01-15"}, today)
    assert not qn.questions["b"].is_shown({"a": True, "d": None}, today)


def test_every_choice_reads_as_its_own_words_on_the_step_pages(wizard, client):
    """The isotretinoin question once offered Never, True, True, True (unquoted labels with
    commas in YAML's {…}): a client could not tell the choices apart."""
    wizard.start()
    qn = wizard.qn
    for section in qn.steps:
        page = client.get(f"/step/{section.id}").text
        for q in section.step_questions:
            for choice in q.choices:
                assert isinstance(choice.label, str) and choice.label not in ("True", "False")
                assert f">{html.escape(choice.label, quote=False)}<" in page, (q.id, choice)
        assert ">True<" not in page and ">False<" not in page
        wizard.post_step(section.id, valid_answers())
    page = client.get("/step/products").text
    for label in (
        "Yes, more than 12 months ago",
        "Yes, 6 to 12 months ago",
        "Yes, less than 6 months ago",
    ):
        assert label in page


PHONES = [
    # (typed, accepted)
    ("555 0100", True),
    ("+44 (0)20 7946-0000", True),
    ("(603) 555-0142", True),
    ("+1 603 555 0142", True),
    ("abc", False),  # issue 15, finding 9
    ("555 0100 ext 2", False),
    ("555.0100", False),
    ("+1 603 555 0142 / 0143", False),
    ("12345", False),  # too few digits to call back
    ("1234567890123456", False),  # more than E.164's 15
]


@pytest.mark.parametrize("typed, accepted", PHONES)
def test_a_phone_number_is_digits_spaces_and_plus_minus_brackets(typed, accepted):
    """`format: phone` in questionnaire.yaml, checked by Question.check (wizard and import)."""
    qn = load(ROOT / "questionnaire.yaml")
    phone = next(q for q in qn.questions.values() if q.format == "phone")
    assert phone.id == qn.identity.phone
    message = phone.check(typed, {}, dt.date(2026, 1, 15))
    assert (message is None) is accepted, message
    if not accepted:
        assert message.startswith("Mobile phone: please")


def test_the_wizard_refuses_a_phone_of_letters_with_a_field_error(wizard, client, app):
    wizard.start()
    page = wizard.post_step("about", valid_answers(phone="abc"), follow=True)
    assert page.status_code == 422
    assert "Mobile phone: please use only digits, spaces and + - ( )." in page.text
    assert 'id="phone-error"' in page.text and 'value="abc"' in page.text  # shown back
    saved = wizard.post_step("about", valid_answers(phone="+1 (603) 555-0142"))
    assert saved.status_code == 302 and saved.location.endswith("/step/skin")
