"""The questionnaire and submissions as FHIR R4 resources, for an EHR.

The questionnaire becomes a `Questionnaire` (one group per section; linkId = question id;
`show_if` as `enableWhen`; choices as `answerOption` codings). Each submission becomes a
`Patient` (name, birth date, phone as the client gave them), a `QuestionnaireResponse` (its
answers, typed) and a `RiskAssessment` (the outcome as the prediction's qualitative risk,
each flag as a note, the rules version as the method), gathered in a `collection` Bundle.
Resource ids are UUIDs derived from the submission id, so the same export is the same file.
Built from the store's rows; no SQL, no view.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from ..questionnaire import Question, Questionnaire, Section, parse_date
from ..vocab import OUTCOMES

# Our own code systems and identifiers (URNs: no web address is promised).
BASE = "urn:screening"
QUESTIONNAIRE_URL = f"{BASE}:questionnaire"
SUBMISSION_SYSTEM = f"{BASE}:submission"
OUTCOME_SYSTEM = f"{BASE}:outcome"
RULES_SYSTEM = f"{BASE}:rules"
ASSESSMENT = "Pre-treatment screening for fractional CO2 laser resurfacing"
ITEM_TYPES = {
    "boolean": "boolean",
    "choice": "choice",
    "multi": "choice",
    "text": "string",
    "longtext": "text",
    "date": "date",
}
JSON = "application/fhir+json"


class FhirMappingError(Exception):
    """Something in the questionnaire has no FHIR form yet; the message says what and where."""


def answer_system(question: Question) -> str:
    """The code system of one question's choices (ids are unique per question only)."""
    return f"{BASE}:answer:{question.id}"


def coding(question: Question, choice_id: str) -> dict:
    return {
        "system": answer_system(question),
        "code": choice_id,
        "display": question.choice_label(choice_id),
    }


def group_link(section: Section) -> str:
    """A section's group linkId, apart from question ids."""
    return f"section:{section.id}"


# The Questionnaire


def questionnaire_resource(qn: Questionnaire) -> dict:
    """The questionnaire as a FHIR Questionnaire; FhirMappingError names what cannot map."""
    return {
        "resourceType": "Questionnaire",
        "id": "screening",
        "url": QUESTIONNAIRE_URL,
        "version": qn.version,
        "name": "Screening",
        "title": qn.title,
        "status": "active",
        "subjectType": ["Patient"],
        "item": [
            {
                "linkId": group_link(section),
                "type": "group",
                "text": section.title,
                "item": [question_item(q, qn) for q in section.questions],
            }
            for section in qn.sections
        ],
    }


def question_item(q: Question, qn: Questionnaire) -> dict:
    if q.type not in ITEM_TYPES:
        raise FhirMappingError(
            f"question {q.id}: type '{q.type}' has no FHIR item type yet "
            "(add it to ITEM_TYPES in screening/output/fhir.py)"
        )
    item: dict[str, Any] = {"linkId": q.id, "text": q.label, "type": ITEM_TYPES[q.type]}
    if q.required or q.min_selected:
        item["required"] = True
    if q.type == "multi":
        item["repeats"] = True
    if q.max_length:
        item["maxLength"] = q.max_length
    if q.choices:
        item["answerOption"] = [{"valueCoding": coding(q, c.id)} for c in q.choices]
    if any(c.test == "under" for c in q.conditions):
        # An age is no answer to compare with: SDC's enableWhenExpression (FHIRPath), which
        # replaces enableWhen (the two may not stand together), holds every condition.
        item["extension"] = [
            {
                "url": ENABLE_WHEN_EXPRESSION,
                "valueExpression": {"language": "text/fhirpath", "expression": expression(q, qn)},
            }
        ]
    elif q.show_if:
        item["enableWhen"] = enable_when(q, qn)
        if len(item["enableWhen"]) > 1:
            item["enableBehavior"] = "all"  # show_if asks every condition at once
    return item


ENABLE_WHEN_EXPRESSION = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"
)


def expression(q: Question, qn: Questionnaire) -> str:
    """`show_if` as one FHIRPath expression over the response being filled in."""
    parts = []
    for c in q.conditions:
        answer = f"%resource.repeat(item).where(linkId='{c.reads}').answer.value"
        if c.test == "under":  # younger than N years: born after the day N years ago
            parts.append(f"({answer} > today() - {int(c.value)} years)")
        elif c.test == "includes":
            parts.append(f"({answer}.code contains '{c.value}')")
        elif isinstance(c.value, bool):
            parts.append(f"({answer} = {str(c.value).lower()})")
        elif qn.questions[c.reads].type == "choice":
            parts.append(f"({answer}.code = '{c.value}')")
        else:
            raise FhirMappingError(
                f"question {q.id}: show_if {c.describe()} has no FHIRPath form yet "
                "(add one to expression in screening/output/fhir.py)"
            )
    return " and ".join(parts)


def enable_when(q: Question, qn: Questionnaire) -> list[dict]:
    """`show_if` as enableWhen conditions, one per question it names."""
    return [_condition(q, qn.questions.get(key), key, value) for key, value in q.show_if.items()]


def _condition(q: Question, dep: Question | None, key: str, expected: Any) -> dict:
    """One show_if condition. Each form show_if takes has a branch here; any other form
    stops the export with the question and the form named, so a new one is added here
    rather than exported wrongly."""
    if dep is not None:
        mapped = _simple(dep, expected) if not isinstance(expected, dict) else None
        if (
            isinstance(expected, dict)
            and set(expected) == {"includes"}
            and dep.type == "multi"
            and expected["includes"] in dep.choice_ids
        ):
            # {a_list: {includes: a_choice}}: FHIR's "=" on a repeating item is true when
            # any of its answers is equal.
            mapped = {"answerCoding": coding(dep, expected["includes"])}
        if mapped is not None:
            return {"question": dep.id, "operator": "=", **mapped}
    raise FhirMappingError(
        f"question {q.id}: show_if {{{key}: {json.dumps(expected, default=str)}}} has no "
        "FHIR enableWhen form yet (add one to _condition in screening/output/fhir.py)"
    )


def _simple(dep: Question, expected: Any) -> dict | None:
    """{question: value}: the question's answer equals the value."""
    if dep.type == "boolean" and isinstance(expected, bool):
        return {"answerBoolean": expected}
    if dep.type == "choice" and expected in dep.choice_ids:
        return {"answerCoding": coding(dep, expected)}
    if dep.type in ("text", "longtext") and isinstance(expected, str):
        return {"answerString": expected}
    if dep.type == "date" and parse_date(expected) is not None:
        return {"answerDate": parse_date(expected).isoformat()}
    return None


# A submission


def resource_id(submission_id: int, kind: str) -> str:
    """The same UUID for the same submission and resource type, in every export."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{SUBMISSION_SYSTEM}:{submission_id}:{kind}"))


def _ref(submission_id: int, kind: str) -> str:
    return f"urn:uuid:{resource_id(submission_id, kind)}"


def answer_item(q: Question, value: Any) -> dict | None:
    """One answered question, typed; None when unanswered or not asked. A list answered
    with none of its choices is the item without answers (its JSON form, [], comes back)."""
    if value is None or value == "":
        return None
    item: dict[str, Any] = {"linkId": q.id, "text": q.label}
    if q.type == "boolean":
        item["answer"] = [{"valueBoolean": bool(value)}]
    elif q.type == "choice":
        item["answer"] = [{"valueCoding": coding(q, value)}]
    elif q.type == "multi":
        if value:
            item["answer"] = [{"valueCoding": coding(q, v)} for v in value]
    elif q.type == "date":
        item["answer"] = [{"valueDate": str(value)}]
    else:
        item["answer"] = [{"valueString": str(value)}]
    return item


def response_resource(sub: dict, qn: Questionnaire) -> dict:
    """A submission's answers as a completed QuestionnaireResponse."""
    answers, groups = sub["answers"], []
    for section in qn.sections:
        items = [answer_item(q, answers.get(q.id)) for q in section.questions]
        items = [i for i in items if i is not None]
        if items:
            groups.append({"linkId": group_link(section), "text": section.title, "item": items})
    version = sub.get("questionnaire_version") or qn.version
    return {
        "resourceType": "QuestionnaireResponse",
        "id": resource_id(sub["id"], "QuestionnaireResponse"),
        "identifier": {"system": SUBMISSION_SYSTEM, "value": str(sub["id"])},
        "questionnaire": f"{QUESTIONNAIRE_URL}|{version}",
        "status": "completed",
        "subject": {"reference": _ref(sub["id"], "Patient")},
        "authored": sub["submitted_at"],
        "item": groups,
    }


def patient_resource(sub: dict, qn: Questionnaire) -> dict:
    """The client as they named themselves (an EHR matches them to its own record)."""
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": resource_id(sub["id"], "Patient"),
        "name": [{"text": sub["client_name"]}],
    }
    if parse_date(sub.get("date_of_birth")):
        patient["birthDate"] = sub["date_of_birth"]
    phone = qn.phone(sub["answers"])
    if phone:
        patient["telecom"] = [{"system": "phone", "value": phone}]
    return patient


def flag_note(flag: dict, titles: dict[str, str]) -> str:
    """One flag in words: rule id, title, severity, the provider's message, its source."""
    rule = flag["id"]
    title = flag.get("title") or titles.get(rule)
    named = f"{rule} ({title})" if title else rule
    text = f"Rule {named}, {flag['severity']}: {flag['staff_message']}"
    if flag.get("rule"):  # a rule that could not be evaluated
        text += f" (rule {flag['rule']})"
    if flag.get("source"):
        text += f" Source: {flag['source']}."
    return text


def risk_resource(sub: dict, titles: dict[str, str] | None = None) -> dict:
    """How the rules judged a submission, as a final RiskAssessment. `titles` maps rule ids
    to titles for flags stored without one."""
    titles = titles or {}
    outcome, version = sub["outcome"], sub.get("rules_version") or ""
    risk: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "id": resource_id(sub["id"], "RiskAssessment"),
        "identifier": [{"system": SUBMISSION_SYSTEM, "value": str(sub["id"])}],
        "status": "final",
        "code": {"text": ASSESSMENT},
        "subject": {"reference": _ref(sub["id"], "Patient")},
        "occurrenceDateTime": sub["submitted_at"],
        "basis": [{"reference": _ref(sub["id"], "QuestionnaireResponse")}],
        "prediction": [
            {
                "outcome": {"text": OUTCOMES.help(outcome) or OUTCOMES.label(outcome)},
                "qualitativeRisk": {
                    "coding": [
                        {
                            "system": OUTCOME_SYSTEM,
                            "code": outcome,
                            "display": OUTCOMES.label(outcome),
                        }
                    ],
                    "text": OUTCOMES.label(outcome),
                },
            }
        ],
    }
    if version:
        risk["method"] = {
            "coding": [{"system": RULES_SYSTEM, "code": version}],
            "text": f"Screening rules version {version}",
        }
    if sub["flags"]:
        risk["note"] = [{"text": flag_note(flag, titles)} for flag in sub["flags"]]
    return risk


def entries(sub: dict, qn: Questionnaire, titles: dict[str, str] | None = None) -> list[dict]:
    """A submission's three Bundle entries: Patient, QuestionnaireResponse, RiskAssessment."""
    resources = [patient_resource(sub, qn), response_resource(sub, qn), risk_resource(sub, titles)]
    return [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]


def _bundle_head(stamp: str) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "timestamp": stamp}


def bundle(subs: Iterable[dict], qn: Questionnaire, titles: dict[str, str] | None = None) -> dict:
    """A collection Bundle of a few submissions, as one object (one submission's page)."""
    return {
        **_bundle_head(timestamp()),
        "entry": [entry for sub in subs for entry in entries(sub, qn, titles)],
    }


def bundle_chunks(
    subs: Iterable[dict], qn: Questionnaire, titles: dict[str, str] | None = None
) -> Iterator[str]:
    """The same Bundle as JSON text piece by piece, so any number of submissions can be
    written without holding them all."""
    head = json.dumps(_bundle_head(timestamp()), ensure_ascii=False)
    yield head[:-1] + ', "entry": ['
    separator = "\n"  # one entry a line, compact: 10,000 submissions make about 75 MB
    for sub in subs:
        for entry in entries(sub, qn, titles):
            yield separator + json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
            separator = ",\n"
    yield "\n]}\n"


def timestamp() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def rule_titles(ruleset) -> dict[str, str]:
    """Titles of the rules in force by id, where rules have them."""
    return {rule.id: title for rule in ruleset.rules if (title := getattr(rule, "title", None))}


def dumps(resource: dict) -> str:
    return json.dumps(resource, ensure_ascii=False, indent=2)
