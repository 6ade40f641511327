"""What a rules change would have done: stored submissions judged again with a proposed
rules file, compared with how they were judged when they were submitted. Nothing is stored.

Also what changed between two rules texts, rule by rule (the admin rules page, and the
head of `rules diff`).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from .questionnaire import Questionnaire
from .rules import RuleSet
from .store import local_day
from .vocab import OUTCOMES

EXAMPLES = 20  # submission ids shown per change


@dataclass
class Preview:
    """The proposed rules against the stored judgements, counted."""

    proposed_version: str
    current_version: str
    questionnaire_version: str
    judged: int = 0
    changed: int = 0
    transitions: Counter = field(default_factory=Counter)  # (old, new) -> submissions
    examples: dict = field(default_factory=lambda: defaultdict(list))  # (old, new) -> ids
    fired_before: Counter = field(default_factory=Counter)  # rule id -> submissions
    fired_after: Counter = field(default_factory=Counter)
    starts: dict = field(default_factory=lambda: defaultdict(list))  # rule id -> ids
    stops: dict = field(default_factory=lambda: defaultdict(list))
    other_rules_versions: int = 0  # judged by another version than the one in force
    other_questionnaire_versions: int = 0  # answered under another questionnaire version
    rule_changes: list[dict] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # rule ids in the files' order

    def add(self, row: dict, new_outcome: str, new_ids: set[str]) -> None:
        self.judged += 1
        old_outcome, old_ids = row["outcome"], {flag["id"] for flag in row["flags"]}
        self.transitions[(old_outcome, new_outcome)] += 1
        if old_outcome != new_outcome:
            self.changed += 1
            _example(self.examples[(old_outcome, new_outcome)], row["id"])
        self.fired_before.update(old_ids)
        self.fired_after.update(new_ids)
        for rule in new_ids - old_ids:
            _example(self.starts[rule], row["id"])
        for rule in old_ids - new_ids:
            _example(self.stops[rule], row["id"])
        if row.get("rules_version") != self.current_version:
            self.other_rules_versions += 1
        if row.get("questionnaire_version") != self.questionnaire_version:
            self.other_questionnaire_versions += 1

    def outcome_changes(self) -> list[dict]:
        """Each old -> new pair that changed, most submissions first (ties: severity)."""
        return sorted(
            (
                {"old": old, "new": new, "count": count, "examples": self.examples[(old, new)]}
                for (old, new), count in self.transitions.items()
                if old != new
            ),
            key=lambda c: (-c["count"], _rank(c["old"]), _rank(c["new"])),
        )

    def rules(self) -> list[dict]:
        """Each rule that fires more or less often, with examples of either way."""
        found = []
        place = {rule: index for index, rule in enumerate(dict.fromkeys(self.order))}
        ids = set(self.fired_before) | set(self.fired_after)
        for rule in sorted(ids, key=lambda r: (place.get(r, len(place)), r)):
            before, after = self.fired_before[rule], self.fired_after[rule]
            if before == after and not self.starts[rule] and not self.stops[rule]:
                continue
            found.append(
                {
                    "id": rule,
                    "before": before,
                    "after": after,
                    "change": after - before,
                    "starts": list(self.starts[rule]),
                    "stops": list(self.stops[rule]),
                }
            )
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "proposed_version": self.proposed_version,
            "current_version": self.current_version,
            "questionnaire_version": self.questionnaire_version,
            "judged": self.judged,
            "changed": self.changed,
            "outcomes": [
                {"old": old, "new": new, "count": count}
                for (old, new), count in sorted(
                    self.transitions.items(), key=lambda i: (_rank(i[0][0]), _rank(i[0][1]))
                )
            ],
            "outcome_changes": self.outcome_changes(),
            "rules": self.rules(),
            "rule_changes": self.rule_changes,
            "other_rules_versions": self.other_rules_versions,
            "other_questionnaire_versions": self.other_questionnaire_versions,
        }


def _example(ids: list[int], submission_id: int) -> None:
    if len(ids) < EXAMPLES:
        ids.append(submission_id)


def _rank(outcome: str) -> int:
    return OUTCOMES.rank(outcome) if outcome in OUTCOMES else len(OUTCOMES)


def preview(
    rows: Iterable[dict], proposed: RuleSet, current: RuleSet, qn: Questionnaire
) -> Preview:
    """Judge each stored submission with the proposed rules, as on the day it was
    submitted, and count what differs from its stored judgement. Every submission is
    judged with the questionnaire in force (the only one loaded)."""
    result = Preview(proposed.version, current.version, qn.version)
    result.rule_changes = compare_texts(current.text, proposed.text)
    result.order = [r.id for r in proposed.rules] + [r.id for r in current.rules]
    days: dict[str, dt.date] = {}
    for row in rows:
        stamp = row["submitted_at"]
        day = days.get(stamp[:13])  # the local day changes on the hour at most
        if day is None:
            day = days[stamp[:13]] = dt.date.fromisoformat(local_day(stamp))
        evaluation = proposed.evaluate(row["answers"], day)
        result.add(row, evaluation.outcome, {flag["id"] for flag in evaluation.flags})
    return result


# Two rules texts, rule by rule


def _rules_by_id(text: str) -> dict[str, dict]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    items = data.get("rules") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return {}
    return {str(r["id"]): r for r in items if isinstance(r, dict) and r.get("id") is not None}


def compare_texts(old_text: str, new_text: str) -> list[dict]:
    """Rules added, removed or changed (with each changed key's old and new value), in the
    new file's order, then the removed ones."""
    old, new = _rules_by_id(old_text), _rules_by_id(new_text)
    changes = []
    for rid, rule in new.items():
        if rid not in old:
            changes.append({"id": rid, "change": "added", "fields": {}})
            continue
        keys = [k for k in dict.fromkeys([*old[rid], *rule]) if old[rid].get(k) != rule.get(k)]
        if keys:
            fields = {k: [old[rid].get(k), rule.get(k)] for k in keys}
            changes.append({"id": rid, "change": "changed", "fields": fields})
    changes += [{"id": rid, "change": "removed", "fields": {}} for rid in old if rid not in new]
    return changes


def text_diff(old_text: str, new_text: str, old_name: str, new_name: str) -> list[str]:
    """A unified diff of two rules texts, line by line."""
    return list(
        difflib.unified_diff(
            old_text.splitlines(),
            new_text.splitlines(),
            fromfile=old_name,
            tofile=new_name,
            lineterm="",
        )
    )
