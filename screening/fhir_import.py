"""Read QuestionnaireResponses (as `export fhir` writes them) back into answers JSON.

Answers JSON stays the one import format: this is only a mapping onto it, and the answers
it gives are then checked and stored exactly as `submissions import` stores a JSON file.
Every problem names the response and the linkId.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .output.fhir import answer_system
from .questionnaire import Question, Questionnaire

VALUE_KEYS = {
    "boolean": "valueBoolean",
    "choice": "valueCoding",
    "multi": "valueCoding",
    "text": "valueString",
    "longtext": "valueString",
    "date": "valueDate",
}


class FhirImportError(Exception):
    """The file cannot be read as responses; `problems` holds one line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class Response:
    label: str  # how messages name it: "entry 3 (submission 42)"
    answers: dict[str, Any]
    authored: dt.datetime | None
    problems: list[str]  # what could not be mapped, one line each


def responses(data: Any, qn: Questionnaire) -> list[Response]:
    """Every QuestionnaireResponse in a Bundle (or the one given alone), as answers; a
    file that holds none raises FhirImportError."""
    if not isinstance(data, dict) or data.get("resourceType") not in (
        "Bundle",
        "QuestionnaireResponse",
    ):
        raise FhirImportError(["expected a FHIR Bundle or QuestionnaireResponse (resourceType)"])
    if data["resourceType"] == "QuestionnaireResponse":
        found = [("the response", data)]
    else:
        entries = data.get("entry") or []
        if not isinstance(entries, list):
            raise FhirImportError(["Bundle: 'entry' must be a list"])
        found = [
            (f"entry {number}", entry.get("resource"))
            for number, entry in enumerate(entries, 1)
            if isinstance(entry, dict)
            and isinstance(entry.get("resource"), dict)
            and entry["resource"].get("resourceType") == "QuestionnaireResponse"
        ]
        if not found:
            raise FhirImportError(["Bundle: no QuestionnaireResponse in it"])
    result = []
    for label, resource in found:
        identifier = resource.get("identifier")
        if isinstance(identifier, dict) and identifier.get("value"):
            label += f" (submission {identifier['value']})"
        reader = _Reader(label, qn)
        answers = reader.items(resource.get("item") or [])
        authored = reader.authored(resource.get("authored"))
        if resource.get("status") != "completed":
            reader.problem("status", "only a completed response can be imported")
        result.append(Response(label, answers, authored, reader.problems))
    return result


class _Reader:
    def __init__(self, label: str, qn: Questionnaire):
        self.label, self.qn = label, qn
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{self.label}: {where}: {message}")

    def items(self, items: Any) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        if not isinstance(items, list):
            self.problem("item", "expected a list")
            return answers
        for item in items:
            link = item.get("linkId") if isinstance(item, dict) else None
            if not isinstance(link, str):
                self.problem("item", "each item needs a linkId")
                continue
            question = self.qn.questions.get(link)
            if question is None:
                if item.get("answer"):
                    self.problem(link, "not a question of this questionnaire")
                else:  # a group (a section): its questions are inside
                    answers.update(self.items(item.get("item") or []))
                continue
            answers[link] = self.answer(question, item.get("answer") or [])
        return answers

    def answer(self, q: Question, answers: Any) -> Any:
        key = VALUE_KEYS.get(q.type)
        values = []
        for answer in answers if isinstance(answers, list) else [answers]:
            if not isinstance(answer, dict) or key not in answer:
                self.problem(q.id, f"expected an answer with {key}")
                return None
            values.append(self._value(q, answer[key]))
        if q.type == "multi":
            return values  # no answers: none of the choices
        if len(values) > 1:
            self.problem(q.id, "expected one answer")
        return values[0] if values else None

    def _value(self, q: Question, value: Any) -> Any:
        if q.type in ("choice", "multi"):
            if not isinstance(value, dict) or value.get("system") not in (None, answer_system(q)):
                self.problem(q.id, f"expected a coding of {answer_system(q)}")
                return None
            return value.get("code")
        return value

    def authored(self, value: Any) -> dt.datetime | None:
        if value is None:
            return None
        try:
            stamp = dt.datetime.fromisoformat(str(value))
        except ValueError:
            self.problem("authored", f"not a date and time: {value}")
            return None
        return stamp if stamp.tzinfo else stamp.astimezone()
