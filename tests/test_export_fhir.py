"""FHIR out and back: the questionnaire as a Questionnaire, submissions as a Bundle, each
resource validated with the fhir.resources R4B models (R4B: the FHIR 4.3 models, whose
Questionnaire, QuestionnaireResponse, RiskAssessment, Patient and Bundle are R4's), and
`submissions import --fhir` giving the same answers back."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re

import pytest
import yaml
from fhir.resources.R4B import get_fhir_model_class
from helpers import rows, valid_answers

from screening.config import ROOT
from screening.output import fhir
from screening.questionnaire import load

# FHIR's required code sets for the elements we write (the models check types, not codes).
ITEM_TYPES = {"group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time",
              "string", "text", "url", "choice", "open-choice", "attachment", "reference",
              "quantity"}  # fmt: skip
OPERATORS = {"exists", "=", "!=", ">", "<", ">=", "<="}


def validate(resource: dict):
    """The resource parsed by its fhir.resources R4B model (raises on any error)."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def walk(items):
    for item in items:
        yield item
        yield from walk(item.get("item", []))


def export_questionnaire(runner, tmp_path) -> dict:
    path = tmp_path / "q.json"
    result = runner.invoke(args=["export", "fhir-questionnaire", "-o", str(path)])
    assert result.exit_code == 0, result.output
    return json.loads(path.read_text())


def export_bundle(runner, tmp_path, *args) -> dict:
    path = tmp_path / "bundle.json"
    result = runner.invoke(args=["export", "fhir", *args, "-o", str(path)])
    assert result.exit_code == 0, result.output
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_questionnaire_validates_and_keeps_every_question(runner, app, tmp_path):
    resource = export_questionnaire(runner, tmp_path)
    validate(resource)
    qn = app.extensions["questionnaire"]
    assert resource["status"] == "active" and resource["version"] == qn.version
    items = {i["linkId"]: i for i in walk(resource["item"])}
    questions = [i for i in walk(resource["item"]) if i["type"] != "group"]
    assert [i["linkId"] for i in questions] == list(qn.questions)  # linkId = question id
    assert len(items) == len(qn.questions) + len(qn.sections)  # linkIds are unique
    for item in walk(resource["item"]):
        assert item["type"] in ITEM_TYPES
    for q in qn.questions.values():
        item = items[q.id]
        assert item["text"] == q.label
        assert item.get("required", False) == (q.required or q.min_selected > 0)
        assert item.get("repeats", False) == (q.type == "multi")
        if q.choices:
            options = [o["valueCoding"] for o in item["answerOption"]]
            assert [(o["code"], o["display"]) for o in options] == [
                (c.id, c.label) for c in q.choices
            ]
        else:
            assert "answerOption" not in item
        by_expression = any(c.test == "under" for c in q.conditions)
        assert ("enableWhen" in item) == (bool(q.show_if) and not by_expression)
        assert ("extension" in item) == by_expression


def answers_by_link(response: dict) -> dict[str, list]:
    """A QuestionnaireResponse's answers: linkId -> the values given."""
    found = {}
    for item in walk(response["item"]):
        if "answer" in item:
            found[item["linkId"]] = [next(iter(a.values())) for a in item["answer"]]
    return found


AGE_EXPRESSION = re.compile(
    r"\(%resource\.repeat\(item\)\.where\(linkId='(\w+)'\)\.answer\.value > "
    r"today\(\) - (\d+) years\)"
)


def enabled_by_expression(item: dict, given: dict[str, list], today: dt.date) -> bool:
    """The enableWhenExpression we write for an age, evaluated as a FHIRPath engine would."""
    (extension,) = item["extension"]
    assert extension["url"] == fhir.ENABLE_WHEN_EXPRESSION
    assert extension["valueExpression"]["language"] == "text/fhirpath"
    match = AGE_EXPRESSION.fullmatch(extension["valueExpression"]["expression"])
    assert match, extension
    born = given.get(match.group(1), [])
    years_ago = today.replace(year=today.year - int(match.group(2)))
    return bool(born) and dt.date.fromisoformat(born[0]) > years_ago


def enabled(item: dict, given: dict[str, list], today: dt.date | None = None) -> bool:
    """FHIR's enableWhen, evaluated as a form filler would (operators we write: '=')."""
    if "extension" in item:
        return enabled_by_expression(item, given, today or dt.date.today())
    results = []
    for condition in item["enableWhen"]:
        assert condition["operator"] in OPERATORS
        assert condition["operator"] == "="
        (key,) = [k for k in condition if k.startswith("answer")]
        expected, values = condition[key], given.get(condition["question"], [])
        if key == "answerCoding":
            match = any(
                v.get("system") == expected["system"] and v.get("code") == expected["code"]
                for v in values
            )
        else:
            match = expected in values
        results.append(match)
    return all(results) if item.get("enableBehavior", "all") == "all" else any(results)


def possible_values(question) -> list:
    """Each answer a question can take (lists: none, and each choice alone; dates of birth:
    a 17-year-old's and a 40-year-old's)."""
    if question.type == "date":
        today = dt.date.today()
        return [(today - dt.timedelta(days=365 * age + 30)).isoformat() for age in (17, 40)]
    if question.type == "boolean":
        return [True, False, None]
    if question.type == "choice":
        return [*question.choice_ids, None]
    if question.type == "multi":
        return [[], *([c] for c in question.choice_ids), None]
    return [None]


def walk_enable_when(qn) -> int:
    """For every question with show_if, every answer to the questions it depends on: the
    exported enableWhen enables the item exactly when the wizard shows the question."""
    resource = fhir.questionnaire_resource(qn)
    validate(resource)
    items = {i["linkId"]: i for i in walk(resource["item"])}
    checked = 0
    for q in qn.questions.values():
        if not q.show_if:
            continue
        deps = [qn.questions[c.reads] for c in q.conditions]
        for values in itertools.product(*(possible_values(d) for d in deps)):
            answers = valid_answers(**{d.id: v for d, v in zip(deps, values)})
            answers = {k: v for k, v in answers.items() if k in qn.questions}
            response = fhir.response_resource(
                {"id": 1, "answers": answers, "submitted_at": "2026-01-01T10:00:00+00:00"}, qn
            )
            shown = q.is_shown(answers)  # as the wizard decides
            assert enabled(items[q.id], answers_by_link(response)) == shown, (q.id, values)
            checked += 1
    return checked


def test_enable_when_follows_each_show_if_of_the_questionnaire(app):
    assert walk_enable_when(app.extensions["questionnaire"]) > 0


def edited_questionnaire(tmp_path, change) -> object:
    data = yaml.safe_load((ROOT / "questionnaire.yaml").read_text())
    change({q["id"]: q for s in data["sections"] for q in s["questions"]})
    path = tmp_path / "questionnaire.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return load(path)


def test_enable_when_for_choices_several_conditions_and_list_includes(tmp_path):
    def change(questions):
        questions["medications_list"]["show_if"] = {"isotretinoin": "taking_now"}
        questions["notes"]["show_if"] = {"cold_sores": True, "eczema": "past"}
        questions["prior_co2"]["show_if"] = {"treatment_areas": {"includes": "other"}}

    qn = edited_questionnaire(tmp_path, change)
    items = {i["linkId"]: i for i in walk(fhir.questionnaire_resource(qn)["item"])}
    assert items["medications_list"]["enableWhen"] == [
        {
            "question": "isotretinoin",
            "operator": "=",
            "answerCoding": fhir.coding(qn.questions["isotretinoin"], "taking_now"),
        }
    ]
    assert items["notes"]["enableBehavior"] == "all"
    assert [c["question"] for c in items["notes"]["enableWhen"]] == ["cold_sores", "eczema"]
    includes = items["prior_co2"]["enableWhen"]
    assert includes == [
        {
            "question": "treatment_areas",
            "operator": "=",
            "answerCoding": fhir.coding(qn.questions["treatment_areas"], "other"),
        }
    ]
    # An enableWhen "=" on a repeating item holds when any answer is equal.
    answers = valid_answers(treatment_areas=["neck", "other"])
    given = answers_by_link(
        fhir.response_resource({"id": 1, "answers": answers, "submitted_at": "x"}, qn)
    )
    assert enabled(items["prior_co2"], given)
    given["treatment_areas"] = given["treatment_areas"][:1]
    assert not enabled(items["prior_co2"], given)
    # The forms the wizard evaluates agree with their enableWhen, value by value.
    qn.questions["prior_co2"].show_if = {}
    assert walk_enable_when(qn) > 20


@pytest.mark.parametrize(
    "form",
    [{"age": {"under": 18}}, {"date_of_birth": {"before": "2008-01-01"}}, {"eczema": "sometimes"}],
)
def test_a_show_if_form_without_a_mapping_is_a_clear_error(runner, app, tmp_path, form):
    qn = app.extensions["questionnaire"]
    qn.questions["notes"].show_if = form
    with pytest.raises(fhir.FhirMappingError, match=r"question notes: show_if \{"):
        fhir.questionnaire_resource(qn)
    result = runner.invoke(args=["export", "fhir-questionnaire", "-o", str(tmp_path / "q")])
    assert result.exit_code == 1 and "question notes: show_if" in result.output
    assert "enableWhen" in result.output and "Traceback" not in result.output


def personas() -> list[dict]:
    name = "Zoë Ñandú-O'Brien"
    return [
        valid_answers(),
        valid_answers(
            full_name=name,
            signature=name,
            phone=None,
            appointment_date=None,
            treatment_areas=["around_eyes", "neck", "other"],
            cold_sores=True,
            cold_sore_now=True,
            eczema="past",
            recent_procedures=["injectables_2w", "laser_or_ipl_4w"],
            medications_list="Vitamin D\nIbuprofen 200 mg",
            notes='=HYPERLINK("http://x") <b>bold</b>',
            skin_type="type_5",
        ),
        valid_answers(
            full_name="Sam Clear",
            signature="sam clear",
            cold_sores=True,
            cold_sore_now=False,
            active_acne=True,
            recent_procedures=None,
        ),
    ]


def test_every_exported_resource_validates(runner, app, submitted, staff, tmp_path):
    ids = [submitted(**answers) for answers in personas()]
    bundle = export_bundle(runner, tmp_path)
    validate(bundle)
    assert bundle["type"] == "collection"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Patient", "QuestionnaireResponse", "RiskAssessment"] * len(ids)
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(urls)) == len(urls)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        validate(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
        for reference in re.findall(r'"reference": "([^"]+)"', json.dumps(resource)):
            assert reference in urls  # every reference resolves inside the Bundle
    stored = {r["id"]: r for r in rows(app, "SELECT * FROM submissions")}
    for number, sid in enumerate(ids):
        patient, response, risk = (e["resource"] for e in bundle["entry"][3 * number :][:3])
        row = stored[sid]
        assert patient["name"] == [{"text": row["client_name"]}]
        assert patient["birthDate"] == row["date_of_birth"]
        assert response["status"] == "completed" and response["authored"] == row["submitted_at"]
        assert response["identifier"] == {"system": fhir.SUBMISSION_SYSTEM, "value": str(sid)}
        assert risk["status"] == "final"
        (prediction,) = risk["prediction"]
        assert prediction["qualitativeRisk"]["coding"][0]["code"] == row["outcome"]
        assert risk["method"]["coding"][0]["code"] == row["rules_version"]
        flags = json.loads(row["flags"])
        assert len(risk.get("note", [])) == len(flags)  # a clear client (v2) has no note
        for flag, note in zip(flags, risk.get("note", [])):
            assert note["text"].startswith(f"Rule {flag['id']}")
            assert f"Source: {flag['source']}" in note["text"]
    # Typed answers: a boolean, a coding, a date, a string and a list of codings.
    given = answers_by_link(bundle["entry"][4]["resource"])
    assert given["cold_sore_now"] == [True]
    assert [c["code"] for c in given["treatment_areas"]] == ["around_eyes", "neck", "other"]
    assert given["eczema"][0]["display"] == "I had it before, but not now"
    assert given["date_of_birth"] == [personas()[1]["date_of_birth"]]
    assert given["notes"] == ['=HYPERLINK("http://x") <b>bold</b>']
    assert "phone" not in given and "appointment_date" not in given  # not answered
    assert "telecom" not in bundle["entry"][3]["resource"]
    assert bundle["entry"][0]["resource"]["telecom"] == [{"system": "phone", "value": "555 0100"}]
    audit = rows(app, "SELECT * FROM audit WHERE action = 'export_fhir'")
    assert [(r["username"], r["detail"]) for r in audit] == [("(command line)", "all rows=3")]


def test_a_flag_title_goes_with_its_rule_id(app):
    sub = {
        "id": 7,
        "submitted_at": "2026-01-01T10:00:00+00:00",
        "outcome": "refer",
        "rules_version": "abc",
        "flags": [
            {
                "id": "active-acne",
                "title": "Active acne",
                "severity": "refer",
                "staff_message": "Refer.",
                "source": "[Ramsdell]",
            },
            {"id": "keloid", "severity": "refer", "staff_message": "Assess.", "source": ""},
        ],
    }
    risk = fhir.risk_resource(sub, {"keloid": "Raised scars"})
    validate({**risk, "subject": {"reference": "Patient/1"}})
    assert [n["text"] for n in risk["note"]] == [
        "Rule active-acne (Active acne), refer: Refer. Source: [Ramsdell].",
        "Rule keloid (Raised scars), refer: Assess.",
    ]


def test_fhir_out_and_back_gives_the_same_answers(runner, app, submitted, tmp_path):
    ids = [submitted(**answers) for answers in personas()]
    path = tmp_path / "bundle.json"
    assert runner.invoke(args=["export", "fhir", "-o", str(path)]).exit_code == 0
    before = {r["id"]: r for r in rows(app, "SELECT * FROM submissions")}
    result = runner.invoke(args=["submissions", "import", "--fhir", str(path)])
    assert result.exit_code == 0, result.output
    new_ids = [int(line) for line in result.output.split()]
    assert len(new_ids) == len(ids) and not set(new_ids) & set(ids)
    after = {r["id"]: r for r in rows(app, "SELECT * FROM submissions")}
    for old, new in zip(ids, new_ids):
        assert json.loads(after[new]["answers"]) == json.loads(before[old]["answers"])
        for column in ("outcome", "flags", "client_name", "submitted_at", "rules_version"):
            assert after[new][column] == before[old][column], column
    # A single QuestionnaireResponse imports too.
    response = json.loads(path.read_text())["entry"][1]["resource"]
    single = tmp_path / "one.json"
    single.write_text(json.dumps(response))
    assert runner.invoke(args=["submissions", "import", "--fhir", str(single)]).exit_code == 0


def test_a_bad_response_names_its_problem_and_stores_nothing(runner, app, submitted, tmp_path):
    submitted()
    submitted(cold_sores=True, cold_sore_now=False)
    bundle = export_bundle(runner, tmp_path)
    first = bundle["entry"][1]["resource"]
    item = next(i for i in walk(first["item"]) if i["linkId"] == "eczema")
    item["answer"][0]["valueCoding"]["code"] = "sometimes"
    second = bundle["entry"][4]["resource"]
    item = next(i for i in walk(second["item"]) if i["linkId"] == "cold_sores")
    item["answer"] = [{"valueString": "yes"}]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bundle))
    count = len(rows(app, "SELECT id FROM submissions"))
    result = runner.invoke(args=["submissions", "import", "--fhir", str(path)])
    assert result.exit_code == 1 and "nothing stored" in result.output
    assert "entry 2 (submission 1): eczema:" in result.output
    assert "entry 5 (submission 2): cold_sores: expected an answer with valueBoolean" in (
        result.output
    )
    assert "Traceback" not in result.output
    assert len(rows(app, "SELECT id FROM submissions")) == count
    for text, message in (
        ('{"resourceType": "Patient"}', "expected a FHIR Bundle or QuestionnaireResponse"),
        ('{"resourceType": "Bundle", "entry": []}', "no QuestionnaireResponse"),
    ):
        path.write_text(text)
        result = runner.invoke(args=["submissions", "import", "--fhir", str(path)])
        assert result.exit_code == 1 and message in result.output


def test_a_providers_submission_page_offers_its_fhir_json(app, staff, submitted):
    sid = submitted(active_acne=True)
    provider = staff("provider")
    page = provider.get(f"/staff/submissions/{sid}")
    assert f'href="/staff/submissions/{sid}/fhir.json"' in page.text
    response = provider.get(f"/staff/submissions/{sid}/fhir.json")
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    bundle = response.get_json()
    validate(bundle)
    for entry in bundle["entry"]:
        validate(entry["resource"])
    risk = bundle["entry"][2]["resource"]
    assert risk["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == "refer"
    assert provider.get("/staff/submissions/999/fhir.json").status_code == 404
    assert staff("front_desk").get(f"/staff/submissions/{sid}/fhir.json").status_code == 403
    audit = rows(app, "SELECT * FROM audit WHERE action = 'export_fhir'")
    assert [(r["submission_id"], r["username"], r["detail"]) for r in audit] == [
        (sid, "provider-user", "rows=1")
    ]
