"""`flask rules ...`: check, test and try rules.yaml from the command line, without the web app."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from . import content, rules_diff
from . import rules as rules_module
from .export_cli import database_snapshot
from .questionnaire import Questionnaire
from .store.exports import Filters

CLI_FLAG_KEYS = ("id", "title", "severity", "fields", "staff_message", "client_message")

rules_cli = AppGroup("rules", help="Check, test and try the screening rules (rules.yaml).")

DATE = click.DateTime(formats=["%Y-%m-%d"])

rules_option = click.option(
    "--rules",
    "rules_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Rules file to use instead of the app's configured RULES_PATH.",
)


def _questionnaire():
    try:
        return content.load_questionnaire(
            current_app.config["QUESTIONNAIRE_PATH"], content.other_languages(current_app.config)
        )
    except content.ContentError as exc:
        raise click.ClickException(str(exc)) from None


def _rules_path(rules_path: Path | None) -> Path:
    path = rules_path or current_app.config.get("RULES_PATH")
    if not path:
        raise click.ClickException("RULES_PATH is not configured; pass --rules PATH.")
    return Path(path)


def _load(rules_path: Path | None, texts: bool = True) -> rules_module.RuleSet:
    """Load the rules or print every problem and exit 1. `texts`: their client messages in
    every client language too (rules.<lang>.yaml), as the app needs them."""
    path = _rules_path(rules_path)
    languages = content.other_languages(current_app.config) if texts else ()
    try:
        return rules_module.load(path, _questionnaire(), languages)
    except rules_module.RulesError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        count = len(exc.problems)
        raise click.ClickException(f"{count} problem{'s' * (count != 1)} in {path}") from None


@rules_cli.command("check")
@rules_option
def check_command(rules_path):
    """Check that every rule in the rules file is well formed.

    Checks ids, severities, messages, sources, examples and each `when`
    expression against the questionnaire. Prints the number of rules and the
    rules version, then any warnings; or every problem as FILE:LINE: rule ID:
    reason, and exits 1.

    Example:

        flask --app screening rules check --rules rules.yaml
    """
    ruleset = _load(rules_path)
    click.echo(f"{len(ruleset.rules)} rules OK (version {ruleset.version[:8]})")
    for warning in ruleset.warnings:
        click.echo(f"warning: {warning}")


@rules_cli.command("test")
@rules_option
def test_command(rules_path):
    """Run every rule's examples and report any that fail.

    Each example's answers are laid over a neutral answer set and judged as on
    2025-06-01; the example fails when its rule does not fire (or not) as it says.

    Example:

        flask --app screening rules test
    """
    ruleset = _load(rules_path)
    failures = rules_module.run_examples(ruleset)
    for failure in failures:
        click.echo(failure, err=True)
    if failures:
        count = len(failures)
        raise click.ClickException(f"{count} example{'s' * (count != 1)} failed")
    total = sum(len(rule.examples) for rule in ruleset.rules)
    click.echo(f"{total} examples passed")


@rules_cli.command("evaluate")
@click.argument(
    "answers_file",
    metavar="FILE.json",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Judge the answers as on this day (YYYY-MM-DD); default: today.",
)
@click.option(
    "--partial",
    is_flag=True,
    help="Allow required answers to be left out (drafting a rule): each one is named in a "
    "warning and judged as unanswered.",
)
@rules_option
def evaluate_command(answers_file, today, partial, rules_path):
    """Judge one answer file exactly as the app would store it; print the outcome and flags.

    Prints one JSON object: rules_version, outcome and the flags (most severe first).

    FILE.json maps question ids to answers in their JSON form (true/false, choice ids,
    lists of ids, "YYYY-MM-DD"). The answers are checked as `submissions import` checks
    them: an answer to a question that was not asked is left out (with a note), and any
    unknown id, invalid answer or missing required answer is named and exits 1. With
    --partial, missing answers are allowed and each is named in a warning.

    Example:

        flask --app screening rules evaluate answers.json --today 2025-06-01
    """
    ruleset = _load(rules_path)
    day = today.date() if today else content.today()
    answers = _read_answers(answers_file, ruleset.questionnaire, day, partial)
    result = ruleset.evaluate(answers, day).to_json()
    result["flags"] = [{key: flag[key] for key in CLI_FLAG_KEYS} for flag in result["flags"]]
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))


def _read_answers(path: Path, qn: Questionnaire, today: dt.date, partial: bool) -> dict:
    """The answers as the app would store them; every problem named, then exit 1."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise click.ClickException(f"{path}: expected a JSON object of question ids and answers")
    checked = qn.check_answers(raw, today, partial=partial)
    if checked.errors:
        lines = [f"{path}: {qid}: {message}" for qid, message in checked.errors.items()]
        if any(
            qid in qn.questions and qn.questions[qid].is_missing(checked.answers[qid])
            for qid in checked.errors
        ):
            lines.append(
                "(to judge answers with some left out, as when drafting a rule, add --partial)"
            )
        raise click.ClickException("\n".join(lines))
    for qid in checked.ignored:
        question = qn.questions[qid]
        click.echo(
            f"note: {path}: {qid}: only asked when {question.shown_when}, so its answer is "
            "left out (as the app stores it)",
            err=True,
        )
    for qid in checked.missing:
        click.echo(
            f"warning: {path}: {qid}: not answered ({qn.questions[qid].name}); judged as "
            "unanswered (--partial)",
            err=True,
        )
    return checked.answers


@rules_cli.command("diff")
@click.argument(
    "new_rules",
    metavar="NEW_RULES.yaml",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option("--from", "since", type=DATE, metavar="YYYY-MM-DD", help="First day submitted.")
@click.option("--to", "until", type=DATE, metavar="YYYY-MM-DD", help="Last day submitted.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead.")
def diff_command(new_rules, since, until, as_json):
    """Preview a rules change on past submissions, changing nothing.

    Judges every stored submission (or those submitted between --from and --to) with
    NEW_RULES.yaml, as on the day it was submitted, and compares that with the judgement
    stored with it: how many would change outcome, old -> new outcome counts, each rule
    that would fire more or less often, and up to 20 example submission ids per change.

    Example:

        flask --app screening rules diff proposed-rules.yaml --from 2026-01-01
    """
    if since and until and since > until:
        raise click.UsageError("--from is after --to")
    # A proposal is judged on outcomes: its Spanish texts are checked when it is put in force.
    current, proposed = _load(None), _load(new_rules, texts=False)
    chosen = Filters(since=since.date() if since else None, until=until.date() if until else None)
    with database_snapshot() as snap:
        result = rules_diff.preview(
            snap.judged_rows(chosen), proposed, current, current.questionnaire
        )
    if as_json:
        found = result.to_json()
        found.update(
            proposed_file=str(new_rules),
            since=chosen.since.isoformat() if chosen.since else None,
            until=chosen.until.isoformat() if chosen.until else None,
        )
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    for line in diff_report(result, new_rules, _rules_path(None), chosen):
        click.echo(line)


def diff_report(result: rules_diff.Preview, new_path: Path, current_path: Path, chosen) -> list:
    """The preview in words and small tables, for the medical director."""
    lines = [
        (
            f"Proposed: {new_path} (version {result.proposed_version[:8]}); "
            f"in force: {current_path} (version {result.current_version[:8]})"
        )
    ]
    lines += ["", "What the file changes:"]
    lines += [f"  {line}" for line in _rule_change_lines(result.rule_changes)] or [
        "  no rule changes (other parts of the file may differ)"
    ]
    days = (
        f"submitted {chosen.since or 'from the first'} to {chosen.until or 'the last'}"
        if chosen.since or chosen.until
        else "all dates"
    )
    lines += [
        "",
        (
            f"Judged {result.judged:,} stored submissions ({days}), each as on the day it "
            f"was submitted, with questionnaire version {result.questionnaire_version} (the "
            "one in force). Nothing was stored."
        ),
    ]
    if result.other_rules_versions:
        lines.append(
            f"  {result.other_rules_versions:,} of them were judged by an older rules version: "
            "their stored outcome is compared."
        )
    if result.other_questionnaire_versions:
        lines.append(
            f"  {result.other_questionnaire_versions:,} were answered under another "
            "questionnaire version; they were judged with the one in force."
        )
    share = f" ({result.changed / result.judged:.1%})" if result.judged else ""
    lines += ["", f"Would change outcome: {result.changed:,} of {result.judged:,}{share}"]
    if result.transitions:
        lines += ["", "Outcomes, old -> new:"]
        lines += _table(
            ["old", "new", "submissions"],
            [[o["old"], o["new"], f"{o['count']:,}"] for o in result.to_json()["outcomes"]],
            "llr",
        )
    rules = result.rules()
    lines += ["", "Rules firing more or less often:" if rules else "No rule fires more or less."]
    lines += _table(
        ["rule", "before", "after", "change"],
        [[r["id"], f"{r['before']:,}", f"{r['after']:,}", f"{r['change']:+,}"] for r in rules],
        "lrrr",
    )
    examples = [(f"{c['old']} -> {c['new']}", c["examples"]) for c in result.outcome_changes()] + [
        (f"{r['id']} {what}", r[key])
        for r in rules
        for key, what in (("starts", "starts firing"), ("stops", "stops firing"))
        if r[key]
    ]
    if examples:
        lines += ["", f"Examples (up to {rules_diff.EXAMPLES} submission ids each):"]
        lines += [f"  {label}: {', '.join(map(str, ids))}" for label, ids in examples]
    return lines


def _rule_change_lines(changes: list[dict]) -> list[str]:
    lines = []
    for change in changes:
        if change["change"] != "changed":
            lines.append(f"{change['id']}: {change['change']}")
            continue
        parts = []
        for key, (old, new) in change["fields"].items():
            short = all(isinstance(v, (str, int, bool, type(None))) for v in (old, new))
            if short and len(str(old)) + len(str(new)) <= 60:
                parts.append(f"{key} {old} -> {new}")
            else:
                parts.append(f"{key} changed")
        lines.append(f"{change['id']}: {'; '.join(parts)}")
    return lines


def _table(head: list[str], rows: list[list[str]], align: str) -> list[str]:
    """A plain text table: `align` has "l" or "r" for each column."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return (
            "  "
            + "  ".join(
                cell.ljust(width) if side == "l" else cell.rjust(width)
                for cell, width, side in zip(cells, widths, align)
            ).rstrip()
        )

    return [line(head), *(line(r) for r in rows)]
