"""Clients in Spanish (issue 21): every client-facing text has its Spanish, the visit keeps
the client's choice, the submission says `es`, staff read it in the clinic's language."""

from __future__ import annotations

import json

import pytest
import yaml
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from helpers import TODAY, pdf_text, rows, spanish_rules_beside, valid_answers

from screening import content, localized
from screening.client import advice
from screening.config import ROOT
from screening.rules import RULE_ERROR_CLIENT
from screening.store import get_db

CATALOGUE = ROOT / "screening" / "translations" / "es" / "LC_MESSAGES" / "messages.po"
FREE_TEXT = "Tomo metformina 500 mg; alérgica a la penicilina — «nada más»"


def app_strings() -> set[str]:
    """Every string the app's client pages, answer checks and emails mark for translation,
    found as `make translations` finds them (babel.cfg)."""
    method_map = [
        ("screening/**.py", "python"),
        ("templates/client/**.html", "jinja2"),
        ("templates/base.html", "jinja2"),
    ]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, options_map={"templates/**": {}}
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_app_string_on_client_pages_has_spanish():
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f, locale="es")
    missing = []
    for msgid in sorted(app_strings()):
        message = catalogue.get(msgid)
        strings = message.string if message else ""
        translated = all(strings) if isinstance(strings, tuple) else bool(strings)
        if message is None or not translated or message.fuzzy:
            missing.append(msgid)
    assert missing == [], "no Spanish text (run `make translations`, translate, commit)"
    assert "medical translator" in CATALOGUE.read_text(encoding="utf-8")[:400]


def test_every_client_template_marks_its_words_for_translation():
    """A client page's words reach Spanish only through the catalogue: a sample of words
    that were once written bare must now be in it."""
    strings = app_strings()
    for words in ("Start the questionnaire", "Send my answers", "Check your answers", "Back"):
        assert words in strings


@pytest.mark.parametrize("name", ["questionnaire.es.yaml", "rules.es.yaml"])
def test_the_content_translations_say_they_need_a_medical_translator(name):
    assert "qualified medical translator" in (ROOT / name).read_text(encoding="utf-8")[:600]


def test_every_questionnaire_text_and_rule_message_has_spanish(app):
    with app.app_context():
        qn, ruleset = content.questionnaire(), content.rules()
    spanish = qn.in_language("es")
    assert spanish is not qn and spanish.language == "es"
    for q in qn.questions.values():
        es = spanish.questions[q.id]
        assert es.label and es.label != q.label or q.label in ("Diabetes", "Eczema"), q.id
        assert [c.id for c in es.choices] == [c.id for c in q.choices]
    assert {rule.id for rule in ruleset.rules} == set(ruleset.client_texts["es"])
    assert advice.RULE_ERROR_TEXT == RULE_ERROR_CLIENT


def test_a_question_without_its_spanish_label_stops_the_loader_naming_it(tmp_path):
    (tmp_path / "questionnaire.yaml").write_text((ROOT / "questionnaire.yaml").read_text())
    data = yaml.safe_load((ROOT / "questionnaire.es.yaml").read_text(encoding="utf-8"))
    del data["questions"]["cold_sore_now"]["label"]
    del data["questions"]["skin_type"]["choices"]["type_3"]
    (tmp_path / "questionnaire.es.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(content.ContentError, match="question cold_sore_now: no es text"):
        content.load_questionnaire(tmp_path / "questionnaire.yaml", ["es"])
    data["questions"]["cold_sore_now"]["label"] = "¿Tiene herpes labial ahora?"
    (tmp_path / "questionnaire.es.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(content.ContentError, match="skin_type: choices: no es text for 'type_3'"):
        content.load_questionnaire(tmp_path / "questionnaire.yaml", ["es"])


def test_rules_check_fails_on_a_rule_without_its_spanish_message(app, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text((ROOT / "rules.yaml").read_text())
    spanish_rules_beside(rules)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["rules", "check", "--rules", str(rules)]).exit_code == 0
    data = yaml.safe_load((tmp_path / "rules.es.yaml").read_text(encoding="utf-8"))
    del data["rules"]["smoker"]
    del data["rules"]["retinoid-stop"]["before_step"]
    (tmp_path / "rules.es.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    result = runner.invoke(args=["rules", "check", "--rules", str(rules)])
    assert result.exit_code == 1
    assert "rule smoker: no es text for 'client'" in result.output
    assert "rule retinoid-stop: no es text for 'before_step'" in result.output


def test_the_start_page_offers_spanish_and_the_browser_language_is_the_default(client):
    page = client.get("/").text
    assert '<html lang="en">' in page and 'href="/?lang=es"' in page and ">Español<" in page
    browser_says = client.get("/", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert '<html lang="es">' in browser_says.text
    assert "Empezar el cuestionario" in browser_says.text


def test_a_visit_in_spanish_is_stored_as_es_and_shown_to_staff_in_english(
    app, client, wizard, staff
):
    page = client.get("/?lang=es").text
    assert '<html lang="es">' in page and "Empezar el cuestionario" in page
    assert 'href="/?lang=en"' in page and ">English<" in page
    answers = valid_answers(retinoid_last_use="still_using", notes=FREE_TEXT, appointment_date=None)
    wizard.walk(answers)
    step = client.get("/step/skin").text  # the choice stuck through the start
    assert '<html lang="es">' in step and "¿Tiene eczema (dermatitis atópica)?" in step
    review = client.get("/review").text
    assert "Revise sus respuestas" in review and f" de {TODAY.year - 45}<" in review
    assert wizard.submit(answers).status_code == 302
    done = client.get("/done").text
    assert '<html lang="es">' in done and "Gracias, sus respuestas se enviaron" in done
    assert "Si todavía usa retinol" in done  # the rule's Spanish client message
    assert "Stop retinol" not in done
    [row] = rows(app, "SELECT id, language, answers FROM submissions")
    assert row["language"] == "es"
    assert json.loads(row["answers"])["notes"] == FREE_TEXT
    provider = staff("provider")
    sub_page = provider.get(f"/staff/submissions/{row['id']}").text
    assert "Answered in Spanish" in sub_page
    assert "Do you have eczema" in sub_page or "Eczema" in sub_page
    assert "Stop retinol" in sub_page or "retinoid" in sub_page.lower()


def test_an_error_message_is_in_spanish_and_names_the_field(client, wizard):
    client.get("/?lang=es")
    wizard.start()
    response = wizard.post_step("about", {}, follow=True)
    assert "Nombre completo: por favor, complete este dato." in response.text
    assert "Por favor, revise estas respuestas" in response.text


def test_the_pdf_of_a_spanish_submission_has_english_labels_and_the_text_as_typed(
    app, client, wizard
):
    client.get("/?lang=es")
    answers = valid_answers(notes=FREE_TEXT, eczema="past")
    wizard.walk(answers)
    assert wizard.submit(answers).status_code == 302
    [row] = rows(app, "SELECT id FROM submissions")
    from screening.output import pdf

    with app.app_context():
        data = pdf.summary_pdf(get_db(), row["id"])
    text = pdf_text(data)
    assert "Answered in Spanish" in text
    assert "Do you have eczema" in text or "Eczema" in text
    assert "I had it before, but not now" in text
    assert "Lo tuve antes" not in text
    assert FREE_TEXT in text


def test_spanish_dates_on_client_pages(app):
    import datetime as dt

    from screening.i18n import spelled_date

    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        assert spelled_date(dt.date(2026, 12, 10), weekday=True) == "jueves 10 de diciembre de 2026"
    with app.test_request_context("/"):
        assert spelled_date(dt.date(2026, 12, 10)) == "10 December 2026"


def test_translation_files_are_found_beside_the_content():
    assert localized.beside(ROOT / "rules.yaml", "es") == ROOT / "rules.es.yaml"
