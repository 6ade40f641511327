"""The client's plan before treatment: their own advice first, each dated step with its day
(stop by appointment minus before_days), then the standard list without repeating it; the
done page and the PDF summary say the same."""

from __future__ import annotations

import pytest
from helpers import Wizard, pdf_text, valid_answers

from screening.client.routes import call_clinic
from screening.output.display import dated_step, interval

APPOINTMENT = "2026-12-10"  # a Thursday; 2 weeks before it is Thursday 26 November
PLAN = (
    "Stop retinol and other retinoids by Thursday 26 November "
    "(2 weeks before your appointment on 10 December)."
)
RETINOID = {"before_days": 14, "before_step": "Stop retinol and other retinoids"}


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("2026-11-20", PLAN),
        (
            "2026-11-26",
            (
                "Stop retinol and other retinoids today (2 weeks before your "
                "appointment on 10 December)."
            ),
        ),
        (
            "2026-11-27",
            (
                "Stop retinol and other retinoids now: your appointment on 10 December "
                "is less than 2 weeks away."
            ),
        ),
    ],
)
def test_the_stop_by_day(today, expected):
    flag = {**RETINOID, "judged_on": today}
    assert dated_step(flag, APPOINTMENT) == expected


def test_a_day_in_another_year_names_the_year():
    flag = {**RETINOID, "judged_on": "2026-12-02"}
    assert dated_step(flag, "2027-01-07") == (
        "Stop retinol and other retinoids by Thursday 24 December (2 weeks before your "
        "appointment on 7 January 2027)."
    )
    assert dated_step({**flag, "before_days": 10}, "2027-01-07").startswith(
        "Stop retinol and other retinoids by Monday 28 December (10 days before"
    )


def test_no_day_without_an_appointment_date_or_a_dated_rule():
    assert dated_step({**RETINOID, "judged_on": "2026-11-20"}, None) is None
    assert dated_step({"before_step": "Stop"}, APPOINTMENT) is None
    assert [interval(n) for n in (1, 7, 10, 14, 21)] == [
        "1 day",
        "1 week",
        "10 days",
        "2 weeks",
        "3 weeks",
    ]


def on_day(app, day: str):
    app.config["TODAY"] = day


def test_the_done_page_names_the_stop_by_day_for_an_appointment_20_days_away(app, wizard, client):
    on_day(app, "2026-11-20")
    answers = valid_answers(
        date_of_birth="1981-11-20", retinoid_last_use="still_using", appointment_date=APPOINTMENT
    )
    wizard.walk(answers)
    assert wizard.submit(answers).status_code == 302
    done = client.get("/done").text
    assert f'<strong class="dated">{PLAN}</strong>' in done
    rules = {rule.id: rule for rule in app.extensions["rules"].rules}
    retinoid_message = rules["retinoid-stop"].client
    # their own advice first, then the standard list without the retinoid item it repeats
    own, standard = done.split("Good habits before any laser treatment")
    assert retinoid_message in own
    assert "Stop retinol, tretinoin and other retinoids" not in done
    assert "Stop exfoliating acids and scrubs at least 2 weeks" in standard
    assert "Keep your skin well moisturized." in standard
    assert "less than 2 weeks away" not in done  # prep-too-close did not fire


def test_when_the_stop_by_day_has_passed_the_client_is_asked_to_call(app, wizard, client):
    on_day(app, "2026-12-01")
    app.config["CLINIC_PHONE"] = "555 0100"  # "call the clinic" comes with the number
    answers = valid_answers(
        date_of_birth="1981-11-20",
        retinoid_last_use="under_2_weeks",
        exfoliant_last_use="still_using",
        appointment_date=APPOINTMENT,
    )
    wizard.walk(answers)
    assert wizard.submit(answers).status_code == 302
    done = client.get("/done").text
    assert (
        "Stop retinol and other retinoids now: your appointment on 10 December is less than "
        "2 weeks away." in done
    )
    assert (
        "Stop exfoliating acids, scrubs and at-home peels now: your appointment on 10 December "
        "is less than 2 weeks away." in done
    )
    assert (
        'Please call the clinic on <a href="tel:5550100">555 0100</a> to check whether to keep '
        "your appointment" in done
    )
    own = done.split("Good habits before any laser treatment")[0]
    assert own.index("Please call the clinic") < own.index("If you still use retinol")


def test_without_a_date_the_plan_keeps_the_interval_and_a_clear_client_gets_the_full_list(
    app, wizard, client
):
    answers = valid_answers(retinoid_last_use="still_using", appointment_date=None)
    wizard.walk(answers)
    wizard.submit(answers)
    done = client.get("/done").text
    assert "If you still use retinol" in done and 'class="dated"' not in done
    qn = app.extensions["questionnaire"]
    clear = app.test_client()
    other = Wizard(clear, app)
    other.walk(valid_answers())
    other.submit(valid_answers())
    page = clear.get("/done").text
    assert "What to do before your treatment" not in page  # nothing of their own: clear
    with app.test_request_context():  # the advice as the page words it (no clinic phone set)
        expected = {item.id: str(call_clinic(item.text)) for item in qn.before_treatment}
    for item_id, text in expected.items():
        assert text in page, item_id


def test_the_smoker_advice_replaces_the_standard_smoking_item(app, wizard, client):
    answers = valid_answers(smoker=True)
    wizard.walk(answers)
    wizard.submit(answers)
    done = client.get("/done").text
    assert "Please try not to smoke or vape for 2 weeks before and 2 weeks after" in done
    assert "Avoid smoking for 2 weeks before and after." not in done


def summary_text(app, submission_id) -> str:
    from screening.output import pdf
    from screening.store import get_db

    with app.app_context():
        return pdf_text(pdf.summary_pdf(get_db(), submission_id))


def test_the_pdf_gives_the_same_dated_plan_and_the_sources_in_full(app, submitted):
    on_day(app, "2026-11-20")
    sid = submitted(
        date_of_birth="1981-11-20",
        retinoid_last_use="still_using",
        appointment_date=APPOINTMENT,
        treatment_areas=["neck"],
    )
    text = summary_text(app, sid)
    squeezed = "".join(text.split())
    assert "".join(PLAN.split()) in squeezed
    assert "Stopretinol,tretinoinandotherretinoids" not in squeezed  # not repeated
    # the flags' sources as footnotes: each cited reference once, in full
    assert "Sources" in text
    references = app.extensions["rules"].references
    for key in ("Article", "Clinics", "Avram09", "Ramsdell"):
        assert "".join(f"[{key}] {references[key]}".split()) in squeezed, key
    assert squeezed.count("[Avram09]Avram") == 1
    assert 'Mayo Clinic, "Laser' not in text  # not cited by these flags


def test_no_sources_list_without_flags(app, submitted):
    text = summary_text(app, submitted())
    assert "Sources" not in text and "CLEAR" in text
