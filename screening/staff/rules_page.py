"""The admin's rules page: the rules in force in words, every version that judged a
submission with the day it was first used, and what changed between any two."""

from __future__ import annotations

import re

from flask import render_template, request

from .. import rules_diff
from ..content import questionnaire, rules
from ..store import get_db
from ..store.exports import rules_versions
from .auth import role_required
from .routes import bp

_KEY = re.compile(r"\[([^\]]+)\]")


def citations(source: str, references: dict) -> list[tuple[str, str]]:
    """The [Key]s a source names, each with its full citation where the file has one."""
    return [(key, str(references.get(key, ""))) for key in _KEY.findall(source or "")]


def example_answers(answers: dict, qn) -> list[tuple[str, str]]:
    """An example's answers in words: (question, answer)."""
    shown = []
    for qid, value in answers.items():
        question = qn.questions.get(qid)
        if question is None:
            shown.append((qid, "Not answered" if value is None else str(value)))
        else:
            shown.append((question.name, question.display(value)))
    return shown


@bp.get("/rules")
@role_required("admin")
def rules_page():
    """The rules in force, the versions used, and the difference between two of them."""
    ruleset, qn = rules(), questionnaire()
    versions = rules_versions(get_db())
    if not any(v["hash"] == ruleset.version for v in versions):
        versions.append(
            {"hash": ruleset.version, "text": ruleset.text, "first_seen": None, "submissions": 0}
        )
    texts = {v["hash"]: v["text"] for v in versions}
    others = [v["hash"] for v in versions if v["hash"] != ruleset.version]
    older = request.args.get("a") or (others[-1] if others else None)  # the latest before
    newer = request.args.get("b") or ruleset.version
    problem = None
    if older not in texts or newer not in texts:
        problem = "Choose two rules versions from the lists." if "a" in request.args else None
        older = newer = None
    diff = None
    if older and newer:
        diff = {
            "older": older,
            "newer": newer,
            "rules": rules_diff.compare_texts(texts[older], texts[newer]),
            "lines": rules_diff.text_diff(
                texts[older], texts[newer], f"version {older[:8]}", f"version {newer[:8]}"
            ),
        }
    references = getattr(ruleset, "references", None) or {}
    return render_template(
        "staff/rules.html",
        ruleset=ruleset,
        qn=qn,
        items=[
            {
                "rule": rule,
                "title": getattr(rule, "title", None) or rule.id,
                "cited": [(k, c) for k, c in citations(rule.source, references) if c],
                "examples": [(example_answers(e.answers, qn), e.fires) for e in rule.examples],
            }
            for rule in ruleset.rules
        ],
        versions=list(reversed(versions)),  # newest first
        diff=diff,
        problem=problem,
    )
