"""Read rules.yaml into Rule objects, keeping line numbers so every problem points at a line.

The YAML is composed into nodes (for start marks) and loaded into data side by side; the two
trees have the same shape, so item i of one is item i of the other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rule_engine
import yaml

from . import expressions
from .questionnaire import Questionnaire
from .vocab import SEVERITIES

DERIVED = ("age", "today")
EXAMPLES_TODAY = dt.date(2025, 6, 1)  # examples are judged on a fixed day so they never drift
KEYS = ("id", "when", "severity", "staff", "client", "source", "examples")
MESSAGES = {"staff": "a 'staff' message", "client": "a 'client' message", "source": "a 'source'"}


@dataclass(frozen=True)
class Example:
    answers: dict[str, Any]
    fires: bool
    line: int


@dataclass
class Rule:
    id: str
    when: str
    severity: str
    staff: str
    client: str
    source: str
    examples: list[Example]
    line: int  # the line of `when`, where a reader looks first
    reads: tuple[str, ...] = ()
    compiled: rule_engine.Rule | None = field(default=None, repr=False)


def answer_problems(
    questionnaire: Questionnaire, answers: dict[str, Any], today: dt.date
) -> dict[str, str]:
    """Unknown ids and invalid present values; absent or empty answers are fine here."""
    problems = {}
    for qid, value in answers.items():
        question = questionnaire.questions.get(qid)
        if question is None:
            problems[qid] = "not a question id in the questionnaire"
        elif value is not None and value != "" and value != []:
            message = question.check(value, answers, today)
            if message:
                problems[qid] = message
    return problems


@dataclass
class RulesFile:
    """What a rules file holds, and what is wrong with it (problems name file and line)."""

    text: str = ""
    rules: list[Rule] = field(default_factory=list)
    baseline: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


TOP_KEYS = ("baseline", "rules")


def read_rules(path: Path, questionnaire: Questionnaire, context: rule_engine.Context) -> RulesFile:
    """Read a rules file: its rules, its examples' baseline, and every problem found."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        return RulesFile(problems=[f"{path}: cannot read the file ({reason})"])
    found = RulesFile(text=text)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        found.problems.append(f"{name}:{mark.line + 1 if mark else 1}: not valid YAML: {problem}")
        return found
    line = root.start_mark.line + 1 if root is not None else 1
    if isinstance(data, list) and isinstance(root, yaml.SequenceNode):
        rules_node, raw_rules, nodes = root, data, {}  # just the rules: a file to try things
    elif isinstance(data, dict) and isinstance(root, yaml.MappingNode):
        nodes = {str(key.value): (key, value) for key, value in root.value}
        for key, (key_node, _) in nodes.items():
            if key not in TOP_KEYS:
                found.problems.append(
                    f"{name}:{key_node.start_mark.line + 1}: unknown top-level key '{key}' "
                    f"(expected: {', '.join(TOP_KEYS)})"
                )
        rules_node, raw_rules = nodes.get("rules", (None, None))[1], data.get("rules")
        if not isinstance(raw_rules, list) or not isinstance(rules_node, yaml.SequenceNode):
            at = rules_node.start_mark.line + 1 if rules_node is not None else line
            found.problems.append(
                f"{name}:{at}: expected 'rules:', a list of rules each starting with '- id:'"
            )
            return found
    else:
        found.problems.append(
            f"{name}:{line}: expected a list of rules, each starting with '- id:'"
        )
        return found
    found.baseline = _baseline(
        name,
        data.get("baseline") if nodes else None,
        nodes.get("baseline"),
        questionnaire,
        found.problems,
    )
    reader = _Reader(name, questionnaire, context)
    for index, (node, raw) in enumerate(zip(rules_node.value, raw_rules), 1):
        reader.rule(index, node, raw)
    found.rules = reader.rules
    found.problems += reader.problems
    found.warnings = reader.warnings
    return found


def neutral_answers(questionnaire: Questionnaire) -> dict[str, Any]:
    """A complete, valid answer set that, as a rule of thumb, flags nothing: no, the first
    choice, none of a list (its first choice where one is required), blank optional text,
    "Example" for required text (and its copy where it must match), an adult's birth date."""
    answers: dict[str, Any] = {}
    for q in questionnaire.questions.values():
        if q.type == "boolean":
            answers[q.id] = q.must_be_true
        elif q.type == "choice":
            answers[q.id] = q.choice_ids[0]
        elif q.type == "multi":
            answers[q.id] = list(q.choice_ids[: q.min_selected])
        elif q.type == "date" and q.required:
            years = -40 if q.not_future else 1 if q.not_past else 0
            answers[q.id] = EXAMPLES_TODAY.replace(year=EXAMPLES_TODAY.year + years).isoformat()
        elif q.required:
            answers[q.id] = "Example"
        else:
            answers[q.id] = None
    for q in questionnaire.questions.values():
        if q.matches:
            answers[q.id] = answers.get(q.matches)
    return answers


def _baseline(name, raw, nodes, questionnaire: Questionnaire, problems: list[str]) -> dict:
    """The answers every rule example starts from: the neutral answers with the file's
    `baseline:` laid over them; they must be a valid, complete submission."""
    at = nodes[0].start_mark.line + 1 if nodes else 1
    if raw is not None and not isinstance(raw, dict):
        problems.append(f"{name}:{at}: baseline: expected question ids and answers")
        raw = {}
    overrides = raw or {}
    value_node = nodes[1] if nodes else None
    lines = {}
    if isinstance(value_node, yaml.MappingNode):
        lines = {str(k.value): k.start_mark.line + 1 for k, _ in value_node.value}
    for qid, message in answer_problems(questionnaire, overrides, EXAMPLES_TODAY).items():
        problems.append(f"{name}:{lines.get(qid, at)}: baseline: {qid}: {message}")
    answers = questionnaire.normalize({**neutral_answers(questionnaire), **overrides})
    for qid, message in questionnaire.validate(answers, EXAMPLES_TODAY).items():
        if qid not in overrides:
            problems.append(f"{name}:{at}: baseline: {qid}: {message} (give it under 'baseline:')")
    return answers


class _Reader:
    """Collects rules, problems and warnings while reading one file, rule by rule."""

    def __init__(self, name: str, questionnaire: Questionnaire, context: rule_engine.Context):
        self.name, self.questionnaire, self.context = name, questionnaire, context
        self.known = set(questionnaire.questions) | set(DERIVED)
        self.rules: list[Rule] = []
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.seen: dict[str, int] = {}

    def rule(self, index: int, node, raw) -> None:
        start = node.start_mark.line + 1
        if not isinstance(raw, dict) or not isinstance(node, yaml.MappingNode):
            self.problems.append(
                f"{self.name}:{start}: rule #{index}: expected a mapping with "
                f"the keys {', '.join(KEYS)}"
            )
            return
        lines, found = {}, []
        rid = str(raw["id"]).strip() if raw.get("id") not in (None, "") else f"#{index}"
        problem = self._reporter(rid, found)
        for key_node, _ in node.value:
            key, line = str(key_node.value), key_node.start_mark.line + 1
            if key in lines:
                problem(line, f"'{key}' is given twice (also on line {lines[key]})")
            lines.setdefault(key, line)
            if key not in KEYS:
                problem(line, f"unknown key '{key}' (expected: {', '.join(KEYS)})")
        if rid.startswith("#"):
            problem(start, "needs an 'id'")
        elif rid in self.seen:
            problem(lines["id"], f"duplicate id (first used on line {self.seen[rid]})")
        else:
            self.seen[rid] = lines["id"]
        severity = raw.get("severity")
        if severity not in SEVERITIES:
            reason = f"unknown severity '{severity}'" if severity is not None else "no severity"
            problem(
                lines.get("severity", start), f"{reason} (expected one of: {', '.join(SEVERITIES)})"
            )
        for key, what in MESSAGES.items():
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                problem(lines.get(key, start), f"needs {what}")
        when, compiled = self._compile(raw, lines.get("when", start), problem)
        examples = self._examples(raw, node, lines.get("examples", start), problem)
        self.problems += [text for _, text in sorted(found, key=lambda item: item[0])]
        if compiled is None:
            return
        reads = tuple(expressions.symbols(compiled.statement.expression, self.known))
        self.rules.append(
            Rule(
                rid,
                when,
                str(severity),
                str(raw.get("staff") or ""),
                str(raw.get("client") or ""),
                str(raw.get("source") or ""),
                examples,
                lines.get("when", start),
                reads,
                compiled,
            )
        )
        warnings = []
        warn = self._reporter(rid, warnings)
        for qid in expressions.unsafe_hidden(compiled.statement.expression, self.questionnaire):
            condition = " and ".join(
                f"{k} is {str(v).lower()}"
                for k, v in self.questionnaire.questions[qid].show_if.items()
            )
            warn(
                lines["when"],
                f"'{qid}' is only asked when {condition}, so it may be null; "
                f"compare it explicitly, e.g. '{qid} == true'",
            )
        self.warnings += [text for _, text in warnings]

    def _reporter(self, rid, sink):
        return lambda line, reason: sink.append((line, f"{self.name}:{line}: rule {rid}: {reason}"))

    def _compile(self, raw, line, problem):
        when = raw.get("when")
        if isinstance(when, bool):
            when = "true" if when else "false"
        if not isinstance(when, str) or not when.strip():
            problem(line, "needs a 'when' expression (write 'true' for a rule that always fires)")
            return "", None
        try:
            compiled = rule_engine.Rule(when, context=self.context)
        except rule_engine.RuleSyntaxError as exc:
            problem(line, _syntax_reason(exc, when))
            return when, None
        except rule_engine.SymbolResolutionError as exc:
            hint = f" (did you mean '{exc.suggestion}'?)" if exc.suggestion else ""
            problem(line, f"unknown question id '{exc.symbol_name}'{hint}")
            return when, None
        except rule_engine.EngineError as exc:
            problem(line, f"wrong type: {exc.message} in {when!r}")
            return when, None
        except Exception as exc:  # noqa: BLE001 - whatever rule-engine raises, name the rule
            problem(line, f"cannot compile {when!r} ({type(exc).__name__}: {exc})")
            return when, None
        mistakes = expressions.mistakes(compiled.statement.expression, self.questionnaire)
        for reason in mistakes:
            problem(line, reason)
        return when, None if mistakes else compiled

    def _examples(self, raw, node, line, problem) -> list[Example]:
        items = raw.get("examples")
        if not isinstance(items, list) or len(items) < 2:
            problem(line, "needs at least two 'examples' ({answers: {...}, fires: true/false})")
            return []
        item_nodes = next(v for k, v in node.value if k.value == "examples").value
        examples = []
        for number, (item, item_node) in enumerate(zip(items, item_nodes), 1):
            at = item_node.start_mark.line + 1
            if (
                not isinstance(item, dict)
                or set(item) != {"answers", "fires"}
                or not isinstance(item["answers"], dict)
                or not isinstance(item["fires"], bool)
            ):
                problem(at, f"example {number} must be {{answers: {{...}}, fires: true/false}}")
                continue
            bad = answer_problems(self.questionnaire, item["answers"], EXAMPLES_TODAY)
            for qid, message in bad.items():
                problem(at, f"example {number}: {qid}: {message}")
            if not bad:
                examples.append(Example(dict(item["answers"]), item["fires"], at))
        return examples


def _syntax_reason(exc: rule_engine.RuleSyntaxError, when: str) -> str:
    what = exc.message.split(" at: ")[0]
    if exc.token is None:
        return f"{what} at the end of the expression {when!r}"
    near = str(exc.token.value)[:20]
    return f"{what} at character {exc.token.lexpos + 1} of {when!r} (near {near!r})"
