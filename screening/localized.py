"""Content in the clients' other languages: questionnaire.<lang>.yaml and rules.<lang>.yaml.

Each file sits beside the English one and gives, by id, every text a client reads: section
titles and intros, labels, short names, help, choice labels, the care lists, and each rule's
client message and dated step. The ids and everything else (types, conditions, rules) come
from the English files only, so a third language is one more pair of files. A text missing
from a language in SCREENING_LANGUAGES stops start-up (and `rules check`), naming the id.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from .questionnaire import CareItem, Choice, Questionnaire, QuestionnaireError


class TranslationFileError(Exception):
    """A translation file that cannot be read as a mapping of texts by id."""


def beside(path: str | Path, language: str) -> Path:
    """questionnaire.yaml -> questionnaire.es.yaml, in the same folder."""
    path = Path(path)
    return path.with_name(f"{path.stem}.{language}{path.suffix}")


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TranslationFileError(f"{path}: cannot read the file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise TranslationFileError(f"{path}{where}: not valid YAML") from None
    if not isinstance(data, dict):
        raise TranslationFileError(f"{path}: expected a mapping of texts by id")
    return data


def _text(table: Any, key: str, where: str, path: Path, language: str) -> str:
    value = table.get(key) if isinstance(table, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise QuestionnaireError(f"{path}: {where}: no {language} text for '{key}'")
    return value


def translate_questionnaire(qn: Questionnaire, path: Path, language: str) -> Questionnaire:
    """The questionnaire with every client-facing text in `language`, from `path`; raise
    QuestionnaireError naming the first id whose text is missing."""
    try:
        data = _read(path)
    except TranslationFileError as exc:
        raise QuestionnaireError(str(exc)) from None

    def text(table, key, where):
        return _text(table, key, where, path, language)

    sections_in = data.get("sections") or {}
    questions_in = data.get("questions") or {}
    for qid in questions_in if isinstance(questions_in, dict) else ():
        if qid not in qn.questions:
            raise QuestionnaireError(f"{path}: question {qid}: not a question id")
    # A copy of the texts only: not of the other languages (while running, qn has them).
    out = copy.deepcopy(qn, {id(qn.translations): {}})
    out.title = text(data, "title", "top level")
    for section in out.sections:
        given = sections_in.get(section.id) if isinstance(sections_in, dict) else None
        where = f"section {section.id}"
        section.title = text(given, "title", where)
        section.intro = text(given, "intro", where) if section.intro else ""
    for q in out.questions.values():
        given = questions_in.get(q.id) if isinstance(questions_in, dict) else None
        where = f"question {q.id}"
        q.label = text(given, "label", where)
        q.short = text(given, "short", where) if q.short else ""
        q.help = text(given, "help", where) if q.help else ""
        choices = (given or {}).get("choices") if isinstance(given, dict) else None
        q.choices = tuple(Choice(c.id, text(choices, c.id, f"{where}: choices")) for c in q.choices)
    for q in out.questions.values():
        if q.matches:
            q.matches_name = out.questions[q.matches].name
    # Sections hold the same question objects as `questions`: re-point them at the copies.
    out.sections = [
        replace(s, questions=[out.questions[q.id] for q in s.questions]) for s in out.sections
    ]
    before = data.get("before_treatment")
    out.before_treatment = [
        CareItem(item.id, text(before, item.id, "before_treatment")) for item in qn.before_treatment
    ]
    after = data.get("after_treatment")
    if not isinstance(after, list) or len(after) != len(qn.after_treatment):
        raise QuestionnaireError(
            f"{path}: after_treatment: expected {len(qn.after_treatment)} {language} items, "
            "one for each English one, in the same order"
        )
    out.after_treatment = [
        text({"item": item}, "item", f"after_treatment item {n}") for n, item in enumerate(after, 1)
    ]
    out.language = language
    return out


@dataclass(frozen=True)
class RuleTexts:
    """A rule's client-facing texts in one language."""

    client: str
    before_step: str = ""


def translate_rules(rules, path: Path, language: str) -> tuple[dict[str, RuleTexts], list[str]]:
    """{rule id: its texts in `language`} from `path`, and one problem per missing text."""
    try:
        data = _read(path)
    except TranslationFileError as exc:
        return {}, [str(exc)]
    given = data.get("rules") if isinstance(data.get("rules"), dict) else {}
    texts, problems = {}, []
    for rule in rules:
        entry = given.get(rule.id)
        client = entry.get("client") if isinstance(entry, dict) else None
        step = entry.get("before_step") if isinstance(entry, dict) else None
        if not isinstance(client, str) or not client.strip():
            problems.append(f"{path}: rule {rule.id}: no {language} text for 'client'")
            continue
        if rule.before_step and (not isinstance(step, str) or not step.strip()):
            problems.append(f"{path}: rule {rule.id}: no {language} text for 'before_step'")
            continue
        texts[rule.id] = RuleTexts(client, step or "")
    return texts, problems
