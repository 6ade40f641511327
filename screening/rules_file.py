"""Read rules.yaml into Rule objects, keeping line numbers so every problem points at a line.

The YAML is composed into nodes (for start marks) and loaded into data side by side; the two
trees have the same shape, so item i of one is item i of the other.
"""

from __future__ import annotations

import datetime as dt
import re
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
KEYS = (
    "id",
    "title",
    "when",
    "severity",
    "staff",
    "client",
    "source",
    "before_days",
    "before_step",
    "replaces",
    "examples",
)
MESSAGES = {
    "title": "a 'title' (the rule in plain words, shown to staff instead of its id)",
    "staff": "a 'staff' message",
    "client": "a 'client' message",
    "source": "a 'source'",
}
# A source names references by key in square brackets: "clinic policy, [Mayo], [Clinics]".
REFERENCE_KEY = re.compile(r"\[([^\[\]]+)\]")


def reference_keys(source: str) -> list[str]:
    """The reference keys a source cites, in order: "[Mayo], [Clinics]" -> Mayo, Clinics."""
    return [key.strip() for key in REFERENCE_KEY.findall(source or "")]


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
    title: str = ""
    before_days: int | None = None  # with before_step: the client's step, dated
    before_step: str = ""  # "Stop retinol" -> "Stop retinol by Thursday 26 November (...)"
    replaces: tuple[str, ...] = ()  # standard pre-care items the client message already says


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
    references: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


TOP_KEYS = ("baseline", "references", "rules")


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
    found.references = _references(
        name, data.get("references") if nodes else None, nodes.get("references"), found.problems
    )
    reader = _Reader(name, questionnaire, context, found.references if nodes else None)
    for index, (node, raw) in enumerate(zip(rules_node.value, raw_rules), 1):
        reader.rule(index, node, raw)
    found.rules = reader.rules
    found.problems += reader.problems
    found.warnings = reader.warnings
    cited = {key for rule in found.rules for key in reference_keys(rule.source)}
    lines = _key_lines(nodes.get("references"))
    for key in found.references:
        if key not in cited:
            found.warnings.append(f"{name}:{lines.get(key, 1)}: reference [{key}] is not cited")
    return found


def _key_lines(nodes) -> dict[str, int]:
    """The line of each key of a top-level mapping, from its (key, value) nodes."""
    value_node = nodes[1] if nodes else None
    if not isinstance(value_node, yaml.MappingNode):
        return {}
    return {str(k.value): k.start_mark.line + 1 for k, _ in value_node.value}


def _references(name, raw, nodes, problems: list[str]) -> dict[str, str]:
    """`references:`, each key (as sources cite it, in brackets) to its full citation."""
    at = nodes[0].start_mark.line + 1 if nodes else 1
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(f"{name}:{at}: references: expected keys and their full citations")
        return {}
    lines, references = _key_lines(nodes), {}
    for key, citation in raw.items():
        line = lines.get(str(key), at)
        if not isinstance(citation, str) or not citation.strip():
            problems.append(f"{name}:{line}: references: {key}: needs its full citation as text")
        elif REFERENCE_KEY.fullmatch(f"[{key}]") is None or str(key).strip() != str(key):
            problems.append(f"{name}:{line}: references: '{key}' cannot be cited as [{key}]")
        else:
            references[str(key)] = " ".join(citation.split())
    return references


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

    def __init__(
        self,
        name: str,
        questionnaire: Questionnaire,
        context: rule_engine.Context,
        references: dict[str, str] | None,
    ):
        self.name, self.questionnaire, self.context = name, questionnaire, context
        self.references = references  # None: a bare list of rules, whose keys go unchecked
        self.care_ids = {item.id for item in questionnaire.before_treatment}
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
        self._sources(raw, lines.get("source", start), problem)
        before_days, before_step = self._before(raw, lines, start, problem)
        replaces = self._replaces(raw, lines.get("replaces", start), problem)
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
                title=" ".join(str(raw.get("title") or "").split()),
                before_days=before_days,
                before_step=before_step,
                replaces=replaces,
            )
        )
        warnings = []
        warn = self._reporter(rid, warnings)
        for qid in expressions.unsafe_hidden(compiled.statement.expression, self.questionnaire):
            question = self.questionnaire.questions[qid]
            example = f"{qid} == true" if question.type == "boolean" else f"{qid} != null and ..."
            warn(
                lines["when"],
                f"'{qid}' is only asked when {question.shown_when}, so it may be null; "
                f"compare it explicitly, e.g. '{example}'",
            )
        self.warnings += [text for _, text in warnings]

    def _sources(self, raw, line, problem) -> None:
        """Every [Key] a source cites must be a key of `references:`."""
        source = raw.get("source")
        if not isinstance(source, str) or self.references is None:
            return
        if "[" in REFERENCE_KEY.sub("", source) or "]" in REFERENCE_KEY.sub("", source):
            problem(line, f"source {source!r}: a bracket is not closed, e.g. '[Mayo]'")
        for key in reference_keys(source):
            if key not in self.references:
                known = ", ".join(sorted(self.references)) or "none yet"
                problem(
                    line,
                    f"source cites [{key}], which is not under 'references:' (defined: {known})",
                )

    def _before(self, raw, lines, start, problem) -> tuple[int | None, str]:
        """`before_days` and `before_step`, given together: the step the client takes, and
        how many days before the appointment."""
        days, step = raw.get("before_days"), raw.get("before_step")
        if days is None and step is None:
            return None, ""
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
            problem(
                lines.get("before_days", start),
                "'before_days' must be a whole number of days from 1 to 365, given with "
                "'before_step'",
            )
            days = None
        if not isinstance(step, str) or not step.strip():
            problem(
                lines.get("before_step", start),
                "'before_step' must say what the client does by that day, e.g. 'Stop "
                "retinol' (given with 'before_days')",
            )
            step = ""
        return days, " ".join(str(step).split()).rstrip(".")

    def _replaces(self, raw, line, problem) -> tuple[str, ...]:
        """`replaces`: ids of standard pre-care items (questionnaire.yaml's
        before_treatment) this rule's client message already says."""
        items = raw.get("replaces")
        if items is None:
            return ()
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            problem(line, "'replaces' must be a list of before_treatment ids, e.g. [retinoids]")
            return ()
        for item in items:
            if item not in self.care_ids:
                known = ", ".join(sorted(self.care_ids)) or "none"
                problem(
                    line, f"replaces '{item}', which is not a before_treatment id (ids: {known})"
                )
        return tuple(items)

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
