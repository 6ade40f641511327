"""Tests for `flask rules check|test|evaluate`, run through a minimal app's CLI runner."""

import json
from pathlib import Path

import pytest
import yaml
from flask import Flask

from screening.rules_cli import rules_cli

ROOT = Path(__file__).resolve().parent.parent
PERSONAS = Path(__file__).resolve().parent / "data" / "personas"
TODAY = "2025-06-01"


@pytest.fixture
def runner():
    app = Flask(__name__)
    app.config.update(
        RULES_PATH=str(ROOT / "rules.yaml"), QUESTIONNAIRE_PATH=str(ROOT / "questionnaire.yaml")
    )
    app.cli.add_command(rules_cli)
    return app.test_cli_runner()


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


BROKEN = """\
- id: bad
  title: A bad rule
  when: eczema == "acitve"
  severity: urgent
  staff: S
  client: C
  source: '[Mayo]'
  examples:
    - {answers: {eczema: active}, fires: true}
    - {answers: {}, fires: false}
"""


def test_check_reports_the_rules_and_version(runner):
    result = runner.invoke(args=["rules", "check"])
    assert result.exit_code == 0, result.output
    version = __import__("hashlib").sha256((ROOT / "rules.yaml").read_bytes()).hexdigest()
    count = len(yaml.safe_load((ROOT / "rules.yaml").read_text())["rules"])
    assert result.output == f"{count} rules OK (version {version[:8]})\n"


def test_check_prints_every_problem_and_exits_1(runner, tmp_path):
    rules_path = write(tmp_path, "rules.yaml", BROKEN)
    result = runner.invoke(args=["rules", "check", "--rules", rules_path])
    assert result.exit_code == 1
    assert "rules.yaml:3: rule bad: 'acitve' is not a choice of 'eczema'" in result.output
    assert "rules.yaml:4: rule bad: unknown severity 'urgent'" in result.output
    assert "Error: 2 problems in" in result.output
    assert "Traceback" not in result.output


def test_check_prints_warnings(runner, tmp_path):
    text = BROKEN.replace('eczema == "acitve"', "cold_sore_now").replace("urgent", "defer")
    result = runner.invoke(args=["rules", "check", "--rules", write(tmp_path, "rules.yaml", text)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 rules OK (version ")
    assert "warning: rules.yaml:3: rule bad: 'cold_sore_now' is only asked when" in result.output


def test_check_missing_file_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(args=["rules", "check", "--rules", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "nope.yaml: cannot read the file" in result.output
    assert "Traceback" not in result.output


def test_test_runs_every_example(runner):
    result = runner.invoke(args=["rules", "test"])
    assert result.exit_code == 0, result.output
    assert result.output.endswith(" examples passed\n")
    assert int(result.output.split()[0]) >= 68


def test_test_reports_failing_examples(runner, tmp_path):
    text = (
        BROKEN.replace('"acitve"', '"active"')
        .replace("urgent", "refer")
        .replace("{answers: {}, fires: false}", "{answers: {}, fires: true}")
    )
    result = runner.invoke(args=["rules", "test", "--rules", write(tmp_path, "rules.yaml", text)])
    assert result.exit_code == 1
    assert "rules.yaml:10: rule bad: example 2 should fire but did not" in result.output
    assert "Error: 1 example failed" in result.output


# The personas of questionnaire.md, version 2: sun-care and moisturize are no longer rules,
# so the clear candidate is clear with no flags, and every other persona has its one flag.
PERSONA_OUTCOMES = {
    "clear-candidate": ("clear", []),
    "active-acne": ("refer", ["active-acne"]),
    "eczema-flare": ("refer", ["eczema-active"]),
    "eczema-past": ("review", ["eczema-history"]),
    "retinol-user": ("prep", ["retinoid-stop"]),
    "beach-next-week": ("defer", ["sunburn-recent"]),
    "type-v-skin": ("review", ["skin-type-pigment-risk"]),
}


@pytest.mark.parametrize(("persona", "expected"), PERSONA_OUTCOMES.items())
def test_personas_get_their_outcomes(runner, persona, expected):
    path = PERSONAS / f"{persona}.json"
    result = runner.invoke(args=["rules", "evaluate", str(path), "--today", TODAY])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # complete answer sets: nothing left out, nothing ignored
    output = json.loads(result.stdout)
    assert set(output) == {"rules_version", "outcome", "flags"}
    assert (output["outcome"], [f["id"] for f in output["flags"]]) == expected
    for flag in output["flags"]:
        assert set(flag) == {
            "id",
            "title",
            "severity",
            "fields",
            "staff_message",
            "client_message",
        }


def test_persona_files_are_complete_valid_answer_sets():
    from datetime import date

    from screening import questionnaire

    q = questionnaire.load(ROOT / "questionnaire.yaml")
    for path in PERSONAS.glob("*.json"):
        answers = json.loads(path.read_text())
        assert set(answers) == set(q.questions), path.name
        assert q.validate(answers, date.fromisoformat(TODAY)) == {}, path.name
    assert sorted(p.stem for p in PERSONAS.glob("*.json")) == sorted(PERSONA_OUTCOMES)


def test_evaluate_shows_the_fields_a_rule_read(runner, tmp_path):
    path = write(
        tmp_path,
        "a.json",
        json.dumps({"date_of_birth": "2010-01-01", "cold_sores": True, "cold_sore_now": True}),
    )
    result = runner.invoke(args=["rules", "evaluate", path, "--today", TODAY, "--partial"])
    assert result.exit_code == 0, result.output
    flags = json.loads(result.stdout)["flags"]
    assert [(f["id"], f["fields"]) for f in flags[:3]] == [
        ("under-18", {"age": 15}),
        ("cold-sore-now", {"cold_sore_now": True}),
        ("cold-sore-history", {"cold_sores": True}),
    ]


def required_ids():
    from screening import questionnaire

    qn = questionnaire.load(ROOT / "questionnaire.yaml")
    return [q.id for q in qn.questions.values() if q.required and not q.conditions]


def test_evaluate_refuses_an_empty_file_naming_every_missing_answer(runner, tmp_path):
    """It once printed a normal-looking outcome for {} (exit 0): nothing the app would store."""
    result = runner.invoke(args=["rules", "evaluate", write(tmp_path, "a.json", "{}")])
    assert result.exit_code == 1
    assert result.stdout == ""
    for qid in required_ids():
        assert f"a.json: {qid}: " in result.output, qid
    assert "a.json: full_name: Full name: please fill this in." in result.output
    assert "a.json: attest: Confirmation: please confirm to continue." in result.output
    assert "add --partial" in result.output
    assert "Traceback" not in result.output


def test_evaluate_refuses_a_file_missing_one_required_answer(runner, tmp_path):
    answers = json.loads((PERSONAS / "active-acne.json").read_text())
    del answers["immune_condition"]
    answers["eczema"] = None
    path = write(tmp_path, "a.json", json.dumps(answers))
    result = runner.invoke(args=["rules", "evaluate", path, "--today", TODAY])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {path}: eczema: Eczema: please choose an answer.",
        (
            f"{path}: immune_condition: Condition that weakens the immune system: please choose an "
            "answer."
        ),
        "(to judge answers with some left out, as when drafting a rule, add --partial)",
    ]


def test_evaluate_partial_judges_missing_answers_as_unanswered_with_a_warning(runner, tmp_path):
    path = write(tmp_path, "a.json", '{"eczema": "active"}')
    result = runner.invoke(args=["rules", "evaluate", path, "--today", TODAY, "--partial"])
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert (output["outcome"], [f["id"] for f in output["flags"]]) == ("refer", ["eczema-active"])
    warnings = result.stderr.splitlines()
    assert [line.split(": ")[2] for line in warnings] == [
        qid for qid in required_ids() if qid != "eczema"
    ]
    assert (
        f"warning: {path}: full_name: not answered (Full name); judged as unanswered (--partial)"
        in warnings
    )
    # --partial allows answers to be left out, never invalid ones
    bad = write(tmp_path, "b.json", '{"eczema": "acitve"}')
    result = runner.invoke(args=["rules", "evaluate", bad, "--partial"])
    assert result.exit_code == 1 and "b.json: eczema: Eczema: please choose one" in result.output


def test_evaluate_leaves_out_an_answer_to_a_question_not_asked(runner, tmp_path):
    """cold_sore_now is asked only after cold_sores yes: as the app stores it, it is blank,
    so the answer file below is judged without it (it once came out as defer)."""
    answers = json.loads((PERSONAS / "clear-candidate.json").read_text())
    answers.update(cold_sores=False, cold_sore_now=True)
    path = write(tmp_path, "a.json", json.dumps(answers))
    result = runner.invoke(args=["rules", "evaluate", path, "--today", TODAY])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["outcome"] == "clear"
    assert result.stderr == (
        f"note: {path}: cold_sore_now: only asked when cold_sores is true, so its answer is left "
        "out (as the app stores it)\n"
    )


def test_evaluate_with_other_rules(runner, tmp_path):
    text = BROKEN.replace('"acitve"', '"active"').replace("urgent", "defer")
    rules_path = write(tmp_path, "other.yaml", text)
    answers = write(tmp_path, "a.json", '{"eczema": "active"}')
    result = runner.invoke(args=["rules", "evaluate", answers, "--rules", rules_path, "--partial"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["outcome"] == "defer"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "a.json: not valid JSON"),
        ("[1, 2]", "a.json: expected a JSON object"),
        ('{"smokes": true}', "a.json: smokes: not a question id in the questionnaire"),
        ('{"smoker": "yes"}', "a.json: smoker: Smoking or vaping: please answer yes or no."),
        (
            '{"eczema": "acitve"}',
            "a.json: eczema: Eczema: please choose one of the answers listed.",
        ),
        ('{"recent_procedures": ["x"]}', "a.json: recent_procedures: Recent treatments: please"),
        ('{"date_of_birth": "1990-02-30"}', "a.json: date_of_birth: Date of birth: please enter a"),
    ],
)
def test_evaluate_rejects_bad_answers_without_a_traceback(runner, tmp_path, content, message):
    result = runner.invoke(args=["rules", "evaluate", write(tmp_path, "a.json", content)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_evaluate_rejects_a_bad_rules_file(runner, tmp_path):
    answers = write(tmp_path, "a.json", "{}")
    result = runner.invoke(
        args=["rules", "evaluate", answers, "--rules", write(tmp_path, "rules.yaml", BROKEN)]
    )
    assert result.exit_code == 1
    assert "rules.yaml:4: rule bad: unknown severity" in result.output


@pytest.mark.parametrize("command", ["check", "test", "evaluate"])
def test_help_reads_well_and_has_an_example(runner, command):
    result = runner.invoke(args=["rules", command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output and f"flask --app screening rules {command}" in result.output
    assert "--rules" in result.output
