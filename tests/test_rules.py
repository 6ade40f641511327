"""Tests for screening.rules: the real rules.yaml, every load error, evaluation and fail-safe."""

import datetime as dt
import hashlib
import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening import questionnaire as questionnaire_module
from screening import rules
from screening.vocab import OUTCOMES, SEVERITIES

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2025, 6, 1)
QUESTIONNAIRE = questionnaire_module.load(ROOT / "questionnaire.yaml")
RULESET = rules.load(ROOT / "rules.yaml", QUESTIONNAIRE)

# The rules table of shared/clinical/questionnaire.md (version 2): id -> severity, in order.
# Version 2 removed sun-care and moisturize (their advice is the standard list), made
# recent-surgery defer, and added immune-condition, off-face-area and prep-too-close.
TABLE = {
    "active-acne": "refer",
    "eczema-active": "refer",
    "eczema-history": "review",
    "psoriasis-vitiligo": "refer",
    "skin-infection": "defer",
    "cold-sore-now": "defer",
    "cold-sore-history": "review",
    "isotretinoin-recent": "refer",
    "isotretinoin-past-year": "review",
    "retinoid-stop": "prep",
    "exfoliant-stop": "prep",
    "sunburn-recent": "defer",
    "tan-recent": "defer",
    "sun-planned": "review",
    "skin-type-pigment-risk": "review",
    "pregnancy": "defer",
    "keloid": "refer",
    "radiation": "refer",
    "autoimmune": "refer",
    "immunosuppressed": "refer",
    "immune-condition": "refer",
    "gold": "review",
    "healing-risk": "review",
    "photosensitizing": "review",
    "blood-thinners": "review",
    "smoker": "review",
    "anesthetic-allergy": "review",
    "recent-peel": "defer",
    "recent-laser": "defer",
    "recent-injectables": "defer",
    "recent-surgery": "defer",
    "off-face-area": "review",
    "downtime": "review",
    "under-18": "refer",
    "prep-too-close": "review",
}
# Medicines taken by mouth or by injection: a client is never told to stop them (v2, 10).
MEDICINE_RULES = ("isotretinoin-recent", "photosensitizing", "blood-thinners", "immunosuppressed")
# Skin products a client does stop before treatment: the only client messages with "stop".
TOPICAL_RULES = ("retinoid-stop", "exfoliant-stop")


def baseline(**changes):
    return {**RULESET.baseline, **changes}


# --- the real rules.yaml -------------------------------------------------------------------


def test_rules_match_the_clinical_table():
    assert {r.id: r.severity for r in RULESET.rules} == TABLE
    assert [r.id for r in RULESET.rules] == list(TABLE)
    assert RULESET.warnings == []


def test_every_rule_has_a_title_messages_sources_and_two_examples():
    for rule in RULESET.rules:
        assert rule.title and rule.staff and rule.client and rule.source, rule.id
        assert len(rule.examples) >= 2, rule.id
    titles = [rule.title for rule in RULESET.rules]
    assert len(set(titles)) == len(titles)
    assert next(r.title for r in RULESET.rules if r.id == "eczema-active") == "Active eczema"


def test_client_messages_never_say_stop_a_medicine_taken_by_mouth_or_injection():
    for rule_id in MEDICINE_RULES:
        client = next(r.client for r in RULESET.rules if r.id == rule_id).lower()
        assert "stop" not in client and "keep taking" in client, rule_id
    stopping = [r.id for r in RULESET.rules if "stop" in r.client.lower()]
    assert stopping == list(TOPICAL_RULES)
    standard = " ".join(item.text for item in QUESTIONNAIRE.before_treatment)
    assert "Do not stop any medicine you take by mouth or by injection" in standard


def test_every_cited_reference_is_defined_with_its_full_citation():
    cited = {key for rule in RULESET.rules for key, _ in RULESET.citations(rule.source)}
    assert cited == set(RULESET.references)
    for key in ("Mayo", "Ramsdell", "Avram09", "Gilbert01", "Clinics", "Article"):
        assert len(RULESET.references[key]) > 40, key
    assert "doi.org/10.1001/jamadermatol.2017.2077" in RULESET.references["JAMA17"]
    assert RULESET.citations("clinic policy, [Mayo]") == [("Mayo", RULESET.references["Mayo"])]


def test_the_dated_prep_rules_and_what_they_replace():
    rules_by_id = {r.id: r for r in RULESET.rules}
    assert [(r.id, r.before_days) for r in RULESET.rules if r.before_days] == [
        ("retinoid-stop", 14),
        ("exfoliant-stop", 14),
    ]
    assert rules_by_id["retinoid-stop"].before_step == "Stop retinol and other retinoids"
    care_ids = {item.id for item in QUESTIONNAIRE.before_treatment}
    for rule in RULESET.rules:
        assert set(rule.replaces) <= care_ids, rule.id
    assert rules_by_id["retinoid-stop"].replaces == ("retinoids",)
    assert rules_by_id["smoker"].replaces == ("smoking",)


EXAMPLES = [
    pytest.param(rule, example, id=f"{rule.id}-{n}")
    for rule in RULESET.rules
    for n, example in enumerate(rule.examples, 1)
]


@pytest.mark.parametrize(("rule", "example"), EXAMPLES)
def test_each_example_fires_as_it_says(rule, example):
    evaluation = RULESET.evaluate(baseline(**example.answers), rules.EXAMPLES_TODAY)
    assert all(f["id"] != "rule-error" for f in evaluation.flags)
    assert any(f["id"] == rule.id for f in evaluation.flags) is example.fires


def test_baseline_is_valid_and_clear():
    """Version 2: no rule always fires, so a client no rule flags is clear."""
    assert QUESTIONNAIRE.validate(RULESET.baseline, rules.EXAMPLES_TODAY) == {}
    assert set(RULESET.baseline) == set(QUESTIONNAIRE.questions)
    evaluation = RULESET.evaluate(RULESET.baseline, TODAY)
    assert evaluation.flags == []
    assert evaluation.outcome == "clear"


def test_version_is_the_sha256_of_the_text():
    text = (ROOT / "rules.yaml").read_bytes()
    assert RULESET.version == hashlib.sha256(text).hexdigest()
    assert RULESET.text.encode() == text and RULESET.path == ROOT / "rules.yaml"


def test_flags_are_ordered_by_severity_then_file_order_and_show_their_fields():
    answers = baseline(
        smoker=True,
        active_acne=True,
        retinoid_last_use="still_using",
        tan_recent=True,
        date_of_birth="2010-01-01",
        cold_sores=True,
        cold_sore_now=True,
    )
    evaluation = RULESET.evaluate(answers, TODAY)
    assert [f["id"] for f in evaluation.flags] == [
        "active-acne",
        "under-18",
        "cold-sore-now",
        "tan-recent",
        "cold-sore-history",
        "smoker",
        "retinoid-stop",
    ]
    assert evaluation.outcome == "refer"
    flags = {f["id"]: f for f in evaluation.flags}
    assert flags["under-18"]["fields"] == {"age": 15}
    assert flags["under-18"]["title"] == "Under 18"
    assert flags["cold-sore-now"]["fields"] == {"cold_sore_now": True}
    assert set(flags["smoker"]) == {
        "id",
        "title",
        "severity",
        "fields",
        "staff_message",
        "client_message",
        "source",
        "replaces",
    }
    # A dated rule keeps its step with the flag, so the client's plan outlives rule edits.
    assert flags["retinoid-stop"]["before_days"] == 14
    assert flags["retinoid-stop"]["before_step"] == "Stop retinol and other retinoids"
    assert flags["retinoid-stop"]["replaces"] == ["retinoids"]
    assert flags["retinoid-stop"]["judged_on"] == TODAY.isoformat()  # the plan's "today"
    assert evaluation.to_json() == {
        "rules_version": RULESET.version,
        "outcome": "refer",
        "flags": evaluation.flags,
    }


def test_dates_in_fields_keep_their_json_form(tmp_path):
    ruleset = load_text(rule_yaml("dob", 'date_of_birth < d"2000-01-01"'), tmp_path)
    flag = ruleset.evaluate(baseline(), TODAY).flags[0]
    assert flag["fields"] == {"date_of_birth": "1980-06-15"}


def test_partial_answers_do_not_break_the_rules():
    evaluation = RULESET.evaluate({}, TODAY)
    assert evaluation.flags == [] and evaluation.outcome == "clear"


@pytest.mark.parametrize(
    ("retinoid", "exfoliant", "days_away", "fires"),
    [
        ("still_using", "never", 0, True),
        ("still_using", "never", 13, True),
        ("still_using", "never", 14, False),  # the stop-by day is today: it can still be met
        ("under_2_weeks", "never", 5, True),
        ("never", "under_2_weeks", 13, True),
        ("never", "still_using", 20, False),
        ("2_to_4_weeks", "over_4_weeks", 3, False),
        ("still_using", "still_using", None, False),  # no appointment date given
    ],
)
def test_prep_too_close_fires_when_the_two_week_stop_cannot_be_met(
    retinoid, exfoliant, days_away, fires
):
    appointment = None if days_away is None else (TODAY + dt.timedelta(days=days_away))
    answers = baseline(
        retinoid_last_use=retinoid,
        exfoliant_last_use=exfoliant,
        appointment_date=appointment.isoformat() if appointment else None,
    )
    flags = {f["id"]: f for f in RULESET.evaluate(answers, TODAY).flags}
    assert ("prep-too-close" in flags) is fires
    if fires:
        assert flags["prep-too-close"]["severity"] == "review"
        assert "call the clinic" in flags["prep-too-close"]["client_message"]


@pytest.mark.parametrize(
    ("areas", "fires"),
    [
        (["neck"], True),
        (["chest", "full_face"], True),
        (["hands"], True),
        (["full_face", "around_eyes", "around_mouth", "other"], False),
    ],
)
def test_off_face_areas_are_reviewed(areas, fires):
    flags = [f["id"] for f in RULESET.evaluate(baseline(treatment_areas=areas), TODAY).flags]
    assert ("off-face-area" in flags) is fires


def test_an_immune_condition_refers_like_an_immunosuppressive_medicine():
    evaluation = RULESET.evaluate(baseline(immune_condition=True), TODAY)
    assert [f["id"] for f in evaluation.flags] == ["immune-condition"]
    assert evaluation.outcome == "refer"


def test_recent_surgery_now_defers():
    evaluation = RULESET.evaluate(baseline(recent_procedures=["facial_surgery_6m"]), TODAY)
    assert [f["id"] for f in evaluation.flags] == ["recent-surgery"]
    assert evaluation.outcome == "defer"


# --- property: valid answers never break evaluation ------------------------------------------


def _value(question):
    if question.type == "boolean":
        return st.just(True) if question.must_be_true else st.booleans()
    if question.type == "choice":
        return st.sampled_from(question.choice_ids)
    if question.type == "multi":
        return st.lists(
            st.sampled_from(question.choice_ids), unique=True, min_size=question.min_selected
        )
    if question.type == "date":
        if question.not_future:
            return st.dates(dt.date(1920, 1, 1), TODAY).map(dt.date.isoformat)
        return st.dates(TODAY, dt.date(2030, 12, 31)).map(dt.date.isoformat)
    if question.format == "phone":
        return st.from_regex(r"\+?[0-9]{3}[0-9 ()-]{0,8}[0-9]{4}", fullmatch=True)
    text = st.text(st.characters(codec="utf-8", categories=("L", "N", "Zs", "P")), max_size=40)
    return text.filter(str.strip)


@st.composite
def valid_answers(draw):
    answers = {}
    for question in QUESTIONNAIRE.questions.values():
        value = draw(_value(question))
        if not question.required:
            value = draw(st.none() | st.just(value))
        answers[question.id] = value
    answers["signature"] = answers["full_name"]
    answers["guardian_signature"] = answers["guardian_name"]
    return QUESTIONNAIRE.normalize(answers, TODAY)


def _check_evaluation(evaluation):
    assert all(f["id"] != "rule-error" for f in evaluation.flags)
    ranks = [SEVERITIES.index(f["severity"]) for f in evaluation.flags]
    assert ranks == sorted(ranks)
    assert evaluation.outcome == (evaluation.flags[0]["severity"] if evaluation.flags else "clear")
    assert evaluation.outcome == OUTCOMES.codes[min(ranks, default=len(SEVERITIES))]
    assert all(f["title"] for f in evaluation.flags)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(valid_answers())
def test_valid_answers_never_fail_and_outcome_is_the_most_severe_flag(answers):
    assert QUESTIONNAIRE.validate(answers, TODAY) == {}
    _check_evaluation(RULESET.evaluate(answers, TODAY))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(valid_answers(), st.sets(st.sampled_from(sorted(QUESTIONNAIRE.questions))))
def test_unanswered_questions_never_fail(answers, dropped):
    partial = {qid: value for qid, value in answers.items() if qid not in dropped}
    _check_evaluation(RULESET.evaluate(partial, TODAY))


# --- broken rules files: every problem names the file, line and rule ---------------------------


def rule_yaml(rule_id="r1", when="active_acne", severity="refer", **extra):
    lines = [
        f"- id: {rule_id}",
        f"  title: Rule {rule_id}",
        f"  when: '{when}'",
        f"  severity: {severity}",
        "  staff: Staff text.",
        "  client: Client text.",
        "  source: '[Mayo]'",
        "  examples:",
        "    - {answers: {}, fires: true}",
        "    - {answers: {}, fires: false}",
    ]
    for key, value in extra.items():
        lines = [line for line in lines if not line.startswith(f"  {key}:")]
        if value is not None:
            lines.insert(2, f"  {key}: {value}")
    return "\n".join(lines) + "\n"


REFERENCES = "references:\n  Mayo: Mayo Clinic, Laser resurfacing.\n"


def load_text(text, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return rules.load(path, QUESTIONNAIRE)


def problems_of(text, tmp_path):
    with pytest.raises(rules.RulesError) as info:
        load_text(text, tmp_path)
    assert str(info.value) == "\n".join(info.value.problems)
    return info.value.problems


def test_yaml_error_names_the_line(tmp_path):
    problems = problems_of(rule_yaml() + "- id: r2\n  when: [unclosed\n", tmp_path)
    assert len(problems) == 1 and problems[0].startswith("rules.yaml:13: not valid YAML:")


def test_top_level_is_a_list_of_rules_or_rules_with_a_baseline(tmp_path):
    assert problems_of("just text\n", tmp_path) == [
        "rules.yaml:1: expected a list of rules, each starting with '- id:'"
    ]
    assert problems_of("id: r1\n", tmp_path) == [
        "rules.yaml:1: unknown top-level key 'id' (expected: baseline, references, rules)",
        "rules.yaml:1: expected 'rules:', a list of rules each starting with '- id:'",
    ]
    with_baseline = "baseline:\n  smoker: true\n" + REFERENCES + "rules:\n" + rule_yaml()
    assert load_text(with_baseline, tmp_path).baseline["smoker"] is True


def test_a_bad_baseline_names_the_question(tmp_path):
    text = "baseline:\n  smoker: maybe\n  colour: blue\n" + REFERENCES + "rules:\n" + rule_yaml()
    assert problems_of(text, tmp_path) == [
        "rules.yaml:2: baseline: smoker: Smoking or vaping: please answer yes or no.",
        "rules.yaml:3: baseline: colour: not a question id in the questionnaire",
    ]


def test_a_source_citing_an_undefined_reference_is_a_problem(tmp_path):
    text = REFERENCES + "rules:\n" + rule_yaml(source="'clinic policy, [Mayo], [Mayo2]'")
    assert problems_of(text, tmp_path) == [
        (
            "rules.yaml:6: rule r1: source cites [Mayo2], which is not under 'references:' "
            "(defined: Mayo)"
        )
    ]
    unclosed = REFERENCES + "rules:\n" + rule_yaml(source="'[Mayo], [Clinics'")
    assert problems_of(unclosed, tmp_path) == [
        "rules.yaml:6: rule r1: source '[Mayo], [Clinics': a bracket is not closed, e.g. '[Mayo]'"
    ]
    no_references = "rules:\n" + rule_yaml()
    assert problems_of(no_references, tmp_path) == [
        (
            "rules.yaml:8: rule r1: source cites [Mayo], which is not under 'references:' "
            "(defined: none yet)"
        )
    ]


def test_references_are_full_citations_and_unused_ones_are_a_warning(tmp_path):
    text = "references:\n  Mayo: Mayo Clinic.\n  Old: An old paper.\nrules:\n" + rule_yaml()
    ruleset = load_text(text, tmp_path)
    assert ruleset.references == {"Mayo": "Mayo Clinic.", "Old": "An old paper."}
    assert ruleset.warnings == ["rules.yaml:3: reference [Old] is not cited"]
    assert ruleset.citations("[Mayo], [Gone]") == [("Mayo", "Mayo Clinic."), ("Gone", None)]
    bad = "references:\n  Mayo: ''\n  Two: [a, b]\nrules:\n" + rule_yaml(source="clinic policy")
    assert problems_of(bad, tmp_path) == [
        "rules.yaml:2: references: Mayo: needs its full citation as text",
        "rules.yaml:3: references: Two: needs its full citation as text",
    ]
    assert problems_of("references: [Mayo]\nrules:\n" + rule_yaml(source="x"), tmp_path) == [
        "rules.yaml:1: references: expected keys and their full citations"
    ]


def test_every_rule_needs_a_title(tmp_path):
    assert problems_of(rule_yaml(title=None), tmp_path) == [
        (
            "rules.yaml:1: rule r1: needs a 'title' (the rule in plain words, shown to staff "
            "instead of its id)"
        )
    ]


def test_before_days_comes_with_a_step_and_replaces_names_standard_items(tmp_path):
    ruleset = load_text(
        rule_yaml(before_days=14, before_step="'Stop retinol.'", replaces="[retinoids, sun]"),
        tmp_path,
    )
    rule = ruleset.rules[0]
    assert (rule.before_days, rule.before_step, rule.replaces) == (
        14,
        "Stop retinol",
        ("retinoids", "sun"),
    )
    assert problems_of(rule_yaml(before_days=14), tmp_path) == [
        (
            "rules.yaml:1: rule r1: 'before_step' must say what the client does by that day, "
            "e.g. 'Stop retinol' (given with 'before_days')"
        )
    ]
    assert problems_of(rule_yaml(before_days="two", before_step="Stop"), tmp_path) == [
        (
            "rules.yaml:4: rule r1: 'before_days' must be a whole number of days from 1 to 365, "
            "given with 'before_step'"
        )
    ]
    assert problems_of(rule_yaml(replaces="[sunscreen]"), tmp_path) == [
        (
            "rules.yaml:3: rule r1: replaces 'sunscreen', which is not a before_treatment id "
            "(ids: antiviral, clean_skin, exfoliants, hair_removal, medicines, moisturize, "
            "reschedule, retinoids, smoking, sun)"
        )
    ]


def test_duplicate_id(tmp_path):
    problems = problems_of(rule_yaml("same") + rule_yaml("same"), tmp_path)
    assert problems == ["rules.yaml:11: rule same: duplicate id (first used on line 1)"]


def test_unknown_severity(tmp_path):
    problems = problems_of(rule_yaml(severity="urgent"), tmp_path)
    assert problems == [
        (
            "rules.yaml:4: rule r1: unknown severity 'urgent' "
            "(expected one of: refer, defer, review, prep)"
        )
    ]


@pytest.mark.parametrize(
    ("key", "what"),
    [("staff", "a 'staff' message"), ("client", "a 'client' message"), ("source", "a 'source'")],
)
def test_missing_message(tmp_path, key, what):
    problems = problems_of(rule_yaml(**{key: None}), tmp_path)
    assert problems == [f"rules.yaml:1: rule r1: needs {what}"]


def test_empty_message_points_at_its_key(tmp_path):
    text = rule_yaml().replace("  client: Client text.", "  client: ''")
    assert problems_of(text, tmp_path) == ["rules.yaml:6: rule r1: needs a 'client' message"]


def test_syntax_error_gives_the_position(tmp_path):
    problems = problems_of(rule_yaml(when='active_acne and (eczema == "past"'), tmp_path)
    assert problems[0].startswith("rules.yaml:3: rule r1: syntax error at the end of")
    problems = problems_of(rule_yaml(when="active_acne @ smoker"), tmp_path)
    assert problems == [
        (
            "rules.yaml:3: rule r1: syntax error (illegal character '@') at "
            "character 13 of 'active_acne @ smoker' (near '@ smoker')"
        )
    ]


def test_unknown_question_id(tmp_path):
    problems = problems_of(rule_yaml(when="active_acen"), tmp_path)
    assert problems == [
        "rules.yaml:3: rule r1: unknown question id 'active_acen' (did you mean 'active_acne'?)"
    ]


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        (
            'active_acne == "yes"',
            "wrong type: 'active_acne' is yes/no (true or false) but is compared with text",
        ),
        (
            "eczema == true",
            "wrong type: 'eczema' is text but is compared with yes/no (true or false)",
        ),
        ('age < "18"', "wrong type: data type mismatch in 'age < \"18\"'"),
        ('"x" in smoker', "wrong type: data type mismatch in '\"x\" in smoker'"),
        ("eczema", "wrong type: 'when' must be true or false, but this expression is text"),
    ],
)
def test_wrong_type(tmp_path, when, reason):
    text = rule_yaml(when=when.replace("'", "''"))
    assert problems_of(text, tmp_path) == [f"rules.yaml:3: rule r1: {reason}"]


@pytest.mark.parametrize(
    ("when", "value", "qid"),
    [
        ('eczema == "acitve"', "acitve", "eczema"),
        ('"acitve" != eczema', "acitve", "eczema"),
        ('"x" in recent_procedures', "x", "recent_procedures"),
        ('"x" in (recent_procedures ?? [])', "x", "recent_procedures"),
        ('retinoid_last_use in ["under_2_weeks", "stil_using"]', "stil_using", "retinoid_last_use"),
    ],
)
def test_unknown_choice_id(tmp_path, when, value, qid):
    problems = problems_of(rule_yaml(when=when), tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith(f"rules.yaml:3: rule r1: '{value}' is not a choice of '{qid}'")


def test_unknown_key_and_bad_example(tmp_path):
    text = rule_yaml(sevrity="refer").replace(
        "{answers: {}, fires: false}", "{answers: {smoker: maybe}, fires: false}"
    )
    assert problems_of(text, tmp_path) == [
        (
            "rules.yaml:3: rule r1: unknown key 'sevrity' (expected: id, title, when, severity, "
            "staff, client, source, before_days, before_step, replaces, examples)"
        ),
        "rules.yaml:11: rule r1: example 2: smoker: Smoking or vaping: please answer yes or no.",
    ]


def test_every_problem_is_collected(tmp_path):
    text = rule_yaml("a", severity="soon") + rule_yaml("b", when="nope") + rule_yaml("a")
    assert [p.split(": ")[0] + ": " + p.split(": ")[1] for p in problems_of(text, tmp_path)] == [
        "rules.yaml:4: rule a",
        "rules.yaml:13: rule b",
        "rules.yaml:21: rule a",
    ]


def test_hidden_question_read_bare_is_a_warning(tmp_path):
    ruleset = load_text(rule_yaml(when="cold_sore_now or not cold_sore_now"), tmp_path)
    assert ruleset.warnings == [
        (
            "rules.yaml:3: rule r1: 'cold_sore_now' is only asked when cold_sores is true, so it "
            "may be null; compare it explicitly, e.g. 'cold_sore_now == true'"
        )
    ]
    other = load_text(rule_yaml(when='"back" in [treatment_area_other]'), tmp_path)
    assert other.warnings == [
        (
            "rules.yaml:3: rule r1: 'treatment_area_other' is only asked when treatment_areas "
            "includes other, so it may be null; compare it explicitly, e.g. "
            "'treatment_area_other != null and ...'"
        )
    ]
    guardian = load_text(rule_yaml(when='guardian_name =~ "^A"'), tmp_path)
    assert guardian.warnings == [
        (
            "rules.yaml:3: rule r1: 'guardian_name' is only asked when the client is under 18, so "
            "it may be null; compare it explicitly, e.g. 'guardian_name != null and ...'"
        )
    ]
    for safe in (
        "cold_sore_now == true",
        "cold_sore_now != null and cold_sore_now",
        "cold_sore_now ?? false",
    ):
        assert load_text(rule_yaml(when=safe), tmp_path).warnings == []


# --- fail-safe: a rule that breaks at evaluation becomes a review flag -------------------------


def test_rule_that_raises_becomes_a_review_flag_and_logs_no_answers(tmp_path, caplog):
    text = rule_yaml("divide", when="age / 0 > 1", severity="prep") + rule_yaml(
        "ok", "true", "prep"
    )
    ruleset = load_text(text, tmp_path)
    answers = baseline(full_name="Zelda Quux", signature="Zelda Quux", date_of_birth="1971-02-03")
    with caplog.at_level(logging.ERROR, logger="screening.rules"):
        evaluation = ruleset.evaluate(answers, TODAY)
    assert evaluation.outcome == "review"
    assert evaluation.flags[0] == {
        "id": "rule-error",
        "title": "A rule could not be evaluated",
        "severity": "review",
        "fields": {},
        "staff_message": "Rule divide could not be evaluated (ArithmeticError); review the "
        "answers by hand.",
        "client_message": rules.RULE_ERROR_CLIENT,
        "source": "screening engine",
        "rule": "divide",
    }
    assert [f["id"] for f in evaluation.flags] == ["rule-error", "ok"]
    assert "divide" in caplog.text and "ArithmeticError" in caplog.text
    for secret in ("Zelda", "Quux", "1971-02-03"):
        assert secret not in caplog.text


def test_a_wrongly_typed_answer_is_a_rule_error_not_a_clear(caplog):
    with caplog.at_level(logging.ERROR, logger="screening.rules"):
        evaluation = RULESET.evaluate(baseline(smoker="SECRET-VALUE"), TODAY)
    assert [f.get("rule") for f in evaluation.flags if f["id"] == "rule-error"] == ["smoker"]
    assert evaluation.outcome == "review"
    assert "SECRET-VALUE" not in caplog.text


def test_run_examples_reports_a_wrong_example(tmp_path):
    text = rule_yaml().replace(
        "{answers: {}, fires: false}", "{answers: {active_acne: true}, fires: false}"
    )
    assert rules.run_examples(load_text(text, tmp_path)) == [
        "rules.yaml:9: rule r1: example 1 should fire but did not",
        "rules.yaml:10: rule r1: example 2 should not fire but did",
    ]
