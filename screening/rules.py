"""Load, check and evaluate rules.yaml: the clinic's rules, judged once at submission.

Rules are data the medical director edits, so every mistake is reported as
`rules.yaml:LINE: rule ID: reason` and a rule that breaks at evaluation never yields a
silent `clear`: it becomes a `rule-error` flag a provider must review.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rule_engine
from rule_engine import DataType

from .localized import RuleTexts, beside, translate_rules
from .questionnaire import Questionnaire, age_on, parse_date
from .rules_file import (
    EXAMPLES_TODAY,
    Example,
    Rule,
    answer_problems,
    read_rules,
    reference_keys,
)
from .vocab import CLEAR, SEVERITIES

__all__ = [
    "EXAMPLES_TODAY",
    "SEVERITIES",
    "Evaluation",
    "Example",
    "Rule",
    "RuleSet",
    "RulesError",
    "answer_problems",
    "context_for",
    "load",
    "run_examples",
]

RULE_ERROR = "rule-error"
RULE_ERROR_CLIENT = "Your provider will go over some of your answers with you at your consultation."

_TYPES = {
    "boolean": DataType.BOOLEAN,
    "choice": DataType.STRING,
    "text": DataType.STRING,
    "longtext": DataType.STRING,
    "multi": DataType.ARRAY(DataType.STRING),
    "date": DataType.DATETIME,
}
_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}
log = logging.getLogger(__name__)


class RulesError(Exception):
    """rules.yaml cannot be used; `.problems` holds one `rules.yaml:LINE: rule ID: reason` each."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class Evaluation:
    rules_version: str
    outcome: str
    flags: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """The evaluation as stored with a submission."""
        return {
            "rules_version": self.rules_version,
            "outcome": self.outcome,
            "flags": [dict(f) for f in self.flags],
        }


class RuleSet:
    """The compiled rules of one rules.yaml text, ready to judge answers."""

    def __init__(
        self,
        rules: list[Rule],
        text: str,
        path: Path,
        questionnaire: Questionnaire,
        warnings: list[str],
        baseline: dict[str, Any],
        references: dict[str, str] | None = None,
    ):
        self.rules = rules
        self.baseline = baseline  # the answers every rule example starts from
        self.references = references or {}  # key -> full citation
        self.text = text
        self.path = path
        self.questionnaire = questionnaire
        self.warnings = warnings
        self.version = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self._dates = [q.id for q in questionnaire.questions.values() if q.type == "date"]
        # language -> rule id -> the client's texts in it (rules.<lang>.yaml)
        self.client_texts: dict[str, dict[str, RuleTexts]] = {}

    def client_text(self, rule_id: str, language: str | None) -> RuleTexts | None:
        """A rule's client texts in another language; None in the clinic's own, or for a
        rule these rules no longer have (a flag stored under older rules)."""
        return self.client_texts.get(language or "", {}).get(rule_id)

    def evaluate(self, answers: dict[str, Any], today: dt.date) -> Evaluation:
        """Judge answers (JSON form) on `today`; flags ordered by severity, then file order."""
        thing, age = self._thing(answers, today)
        flags = []
        for index, rule in enumerate(self.rules):
            try:
                fired = rule.compiled.evaluate(thing)
            except Exception as exc:  # noqa: BLE001 - any failure must become a flag, never a clear
                log.error("Rule %s could not be evaluated (%s)", rule.id, type(exc).__name__)
                flags.append((_RANK["review"], index, _error_flag(rule, exc)))
                continue
            if fired:
                flags.append((_RANK[rule.severity], index, self._flag(rule, answers, age, today)))
        flags.sort(key=lambda item: item[:2])
        ordered = [flag for _, _, flag in flags]
        outcome = ordered[0]["severity"] if ordered else CLEAR
        return Evaluation(self.version, outcome, ordered)

    def _thing(self, answers, today):
        thing = {qid: answers.get(qid) for qid in self.questionnaire.questions}
        for qid in self._dates:
            day = parse_date(thing[qid])
            if day is not None:  # an unparsable date is left as is, so its rules fail loudly
                thing[qid] = dt.datetime(day.year, day.month, day.day)
        age = age_on(self.questionnaire.date_of_birth(answers), today)
        thing["age"] = age
        thing["today"] = dt.datetime(today.year, today.month, today.day)
        return thing, age

    @staticmethod
    def _flag(rule, answers, age, today):
        fields = {}
        for name in rule.reads:
            if name == "age":
                fields[name] = age
            elif name == "today":
                fields[name] = today.isoformat()
            else:
                fields[name] = answers.get(name)
        flag = {
            "id": rule.id,
            "title": rule.title,
            "severity": rule.severity,
            "fields": fields,
            "staff_message": rule.staff,
            "client_message": rule.client,
            "source": rule.source,
        }
        # Stored with the flag, so the client's plan reads the same whatever rules.yaml
        # says later: the step, how long before the appointment, and the day it was planned.
        if rule.before_days:
            flag.update(
                before_days=rule.before_days,
                before_step=rule.before_step,
                judged_on=today.isoformat(),
            )
        if rule.replaces:
            flag["replaces"] = list(rule.replaces)
        return flag

    def citations(self, source: str | None) -> list[tuple[str, str | None]]:
        """(key, full citation) for each reference a source cites; None for a key these
        rules no longer define (a flag stored under older rules)."""
        return [(key, self.references.get(key)) for key in reference_keys(source or "")]


def _error_flag(rule: Rule, exc: Exception) -> dict[str, Any]:
    return {
        "id": RULE_ERROR,
        "title": "A rule could not be evaluated",
        "severity": "review",
        "fields": {},
        "staff_message": f"Rule {rule.id} could not be evaluated ({type(exc).__name__}); "
        "review the answers by hand.",
        "client_message": RULE_ERROR_CLIENT,
        "source": "screening engine",
        "rule": rule.id,
    }


def context_for(questionnaire: Questionnaire) -> rule_engine.Context:
    """A typed rule-engine context: every question id, plus `age` and `today`."""
    types = {qid: _TYPES[q.type] for qid, q in questionnaire.questions.items()}
    types.update(age=DataType.FLOAT, today=DataType.DATETIME)
    return rule_engine.Context(
        type_resolver=rule_engine.type_resolver_from_dict(types), default_timezone="utc"
    )


def run_examples(ruleset: RuleSet, today: dt.date = EXAMPLES_TODAY) -> list[str]:
    """Evaluate every rule's examples over the baseline; return one line per failure."""
    baseline = ruleset.baseline
    name = ruleset.path.name
    failures = []
    for rule in ruleset.rules:
        for number, example in enumerate(rule.examples, 1):
            evaluation = ruleset.evaluate({**baseline, **example.answers}, today)
            where = f"{name}:{example.line}: rule {rule.id}: example {number}"
            broken = [f["rule"] for f in evaluation.flags if f["id"] == RULE_ERROR]
            if broken:
                failures.append(f"{where}: rule {', '.join(broken)} could not be evaluated")
            fired = any(f["id"] == rule.id for f in evaluation.flags)
            if fired != example.fires:
                expected = "fire but did not" if example.fires else "not fire but did"
                failures.append(f"{where} should {expected}")
    return failures


def load(path: str | Path, questionnaire: Questionnaire, languages=()) -> RuleSet:
    """Read, check and compile a rules file, and its client texts in each of `languages`
    (rules.<lang>.yaml beside it); raise RulesError listing every problem."""
    path = Path(path)
    found = read_rules(path, questionnaire, context_for(questionnaire))
    texts = {}
    for language in languages if not found.problems else ():
        texts[language], problems = translate_rules(found.rules, beside(path, language), language)
        found.problems.extend(problems)
    if found.problems:
        raise RulesError(found.problems)
    ruleset = RuleSet(
        found.rules,
        found.text,
        path,
        questionnaire,
        found.warnings,
        found.baseline,
        found.references,
    )
    ruleset.client_texts = texts
    return ruleset
