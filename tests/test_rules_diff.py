"""`flask rules diff NEW_RULES.yaml`: a rules change previewed on stored submissions, and
the admin's rules page (rules in force, versions, the diff between two)."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter

import yaml
from helpers import TODAY, rows

from screening.config import ROOT
from screening.rules import load as load_rules
from screening.store import get_db
from screening.store.submissions import import_answers
from screening.vocab import CLEAR, OUTCOMES


def rules_file(tmp_path, change, name="new-rules.yaml"):
    """rules.yaml with `change(data)` applied, written beside the test."""
    data = yaml.safe_load((ROOT / "rules.yaml").read_text())
    change(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def rule(data, rule_id):
    return next(r for r in data["rules"] if r["id"] == rule_id)


def fingerprint(app) -> str:
    """Everything stored, as one hash: the preview must leave it as it was."""
    found = []
    for table in ("submissions", "rules_versions", "audit", "decisions"):
        found += rows(app, f"SELECT * FROM {table} ORDER BY 1")
    return hashlib.sha256(json.dumps(found, sort_keys=True).encode()).hexdigest()


def diff(runner, path, *args):
    result = runner.invoke(args=["rules", "diff", str(path), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_one_severity_changed_on_10000_demo_submissions(runner, app, tmp_path):
    assert runner.invoke(args=["demo", "--count", "10000", "--seed", "20"]).exit_code == 0
    stored = rows(app, "SELECT id, outcome, flags FROM submissions WHERE status = 'submitted'")
    flags = {r["id"]: json.loads(r["flags"]) for r in stored}
    # The review rule that fires most often becomes a refer.
    fired = Counter(f["id"] for found in flags.values() for f in found if f["severity"] == "review")
    changed_rule = fired.most_common(1)[0][0]
    path = rules_file(tmp_path, lambda data: rule(data, changed_rule).update(severity="refer"))
    before = fingerprint(app)
    report = json.loads(diff(runner, path, "--json"))
    assert fingerprint(app) == before  # nothing stored, nothing audited

    # The direct recount: each submission's stored flags with that one severity changed.
    expected, moves = 0, Counter()
    for row in stored:
        severities = [
            "refer" if f["id"] == changed_rule else f["severity"] for f in flags[row["id"]]
        ]
        new = min(severities, key=OUTCOMES.rank) if severities else CLEAR
        moves[(row["outcome"], new)] += 1
        expected += new != row["outcome"]
    assert expected > 0
    assert report["judged"] == 10_000
    assert report["changed"] == expected
    assert {(o["old"], o["new"]): o["count"] for o in report["outcomes"]} == dict(moves)
    assert report["rules"] == []  # the same rules fire, one of them more severely
    assert report["rule_changes"] == [
        {"id": changed_rule, "change": "changed", "fields": {"severity": ["review", "refer"]}}
    ]
    for change in report["outcome_changes"]:
        assert 0 < len(change["examples"]) <= 20
        for sid in change["examples"]:
            assert changed_rule in {f["id"] for f in flags[sid]}
            assert next(r for r in stored if r["id"] == sid)["outcome"] == change["old"]


def test_rules_that_fire_more_or_less_and_the_outcome_table(runner, app, submitted, tmp_path):
    acne = submitted(active_acne=True)
    smoker = submitted(smoker=True)
    cold = submitted(cold_sores=True, cold_sore_now=False)
    clear = submitted()

    def change(data):
        data["rules"] = [r for r in data["rules"] if r["id"] != "smoker"]
        new = dict(rule(data, "cold-sore-history"), id="cold-sore-wait", severity="defer")
        data["rules"].append(new)
        rule(data, "gold").update(severity="defer")  # fires for nobody here

    path = rules_file(tmp_path, change)
    report = json.loads(diff(runner, path, "--json"))
    assert report["judged"] == 4 and report["changed"] == 2
    # Version 2 has no rule that fires for everyone: a client nothing flags is clear.
    assert {(o["old"], o["new"]): o["count"] for o in report["outcomes"]} == {
        ("refer", "refer"): 1,
        ("review", "clear"): 1,
        ("review", "defer"): 1,
        ("clear", "clear"): 1,
    }
    assert [(c["old"], c["new"], c["examples"]) for c in report["outcome_changes"]] == [
        ("review", "defer", [cold]),
        ("review", "clear", [smoker]),
    ]
    assert [(r["id"], r["before"], r["after"], r["change"]) for r in report["rules"]] == [
        ("cold-sore-wait", 0, 1, 1),
        ("smoker", 1, 0, -1),
    ]
    by_id = {r["id"]: r for r in report["rules"]}
    assert by_id["cold-sore-wait"]["starts"] == [cold] and by_id["smoker"]["stops"] == [smoker]
    assert {c["id"]: c["change"] for c in report["rule_changes"]} == {
        "gold": "changed",
        "cold-sore-wait": "added",
        "smoker": "removed",
    }
    assert acne and clear
    text = diff(runner, path)
    assert "Would change outcome: 2 of 4 (50.0%)" in text and "Nothing was stored." in text
    assert "  gold: severity review -> defer\n  cold-sore-wait: added\n  smoker: removed" in text
    assert re.search(r"^  review +defer +1$", text, re.MULTILINE)
    assert re.search(r"^  smoker +1 +0 +-1$", text, re.MULTILINE)
    assert re.search(r"^  cold-sore-wait +0 +1 +\+1$", text, re.MULTILINE)
    assert f"  smoker stops firing: {smoker}" in text
    assert f"  cold-sore-wait starts firing: {cold}" in text
    tomorrow = TODAY.replace(year=TODAY.year + 1).isoformat()
    assert json.loads(diff(runner, path, "--json", "--from", tomorrow))["judged"] == 0
    same = diff(runner, ROOT / "rules.yaml")
    assert "Would change outcome: 0 of 4" in same and "No rule fires more or less" in same


def test_a_broken_rules_file_is_named_line_by_line(runner, app, tmp_path):
    path = rules_file(tmp_path, lambda data: rule(data, "smoker").update(severity="sometimes"))
    result = runner.invoke(args=["rules", "diff", str(path)])
    assert result.exit_code == 1
    assert "new-rules.yaml:" in result.output and "unknown severity 'sometimes'" in result.output
    assert "Traceback" not in result.output
    wrong = runner.invoke(args=["rules", "diff", str(path), "--from", "2026-02-30"])
    assert wrong.exit_code == 2 and "--from" in wrong.output


def second_version(app, tmp_path) -> str:
    """A submission judged by another rules version (as after a rules change)."""
    path = rules_file(
        tmp_path,
        lambda data: rule(data, "smoker").update(severity="defer", staff="Smoker: wait."),
        name="rules.yaml",
    )
    with app.app_context():
        qn = app.extensions["questionnaire"]
        ruleset = load_rules(path, qn)
        answers = {**ruleset.baseline, "smoker": True}
        import_answers(
            get_db(), answers, qn, ruleset, TODAY, submitted_at="2025-01-02T10:00:00+00:00"
        )
    return ruleset.version


def test_the_admin_rules_page(app, staff, submitted, tmp_path):
    admin = staff("admin")
    page = admin.get("/staff/rules")
    assert page.status_code == 200
    ruleset = app.extensions["rules"]
    smoker = rule(yaml.safe_load(ruleset.text), "smoker")
    assert smoker["staff"] in page.text and smoker["client"] in page.text
    assert "<code>smoker</code>" in page.text and "Smoking or vaping: <b>Yes</b>" in page.text
    assert "Not used yet" in page.text and "Only one version has been used so far" in page.text
    submitted()
    older = second_version(app, tmp_path)
    page = admin.get("/staff/rules")
    versions = page.text.split('id="versions"')[1].split("</table>")[0]
    assert versions.index(ruleset.version[:8]) < versions.index(older[:8])  # newest first
    assert "2025-01-02" in versions and "In force" in versions
    diff_part = page.text.split('id="diff"')[1]
    assert f"{older[:8]} → {ruleset.version[:8]}" in diff_part  # the last two, by default
    assert "<b>smoker</b>: changed" in diff_part
    assert "severity: <del>defer</del> → <ins>review</ins>" in diff_part
    assert "<ins>+  severity: review</ins>" in diff_part or "+  severity: review" in diff_part
    chosen = admin.get(f"/staff/rules?a={ruleset.version}&b={older}")
    assert "severity: <del>review</del> → <ins>defer</ins>" in chosen.text
    bad = admin.get("/staff/rules?a=nope&b=<script>")
    assert bad.status_code == 200 and "Choose two rules versions" in bad.text
    assert "<script>" not in bad.text
    assert staff("provider").get("/staff/rules").status_code == 403
    assert staff("front_desk").get("/staff/rules").status_code == 403
    assert 'href="/staff/rules"' in admin.get("/staff/audit").text
