"""rules.es.yaml or questionnaire.es.yaml edited alone while the app runs: the next page a
client reads in Spanish has the new text (as a rules.yaml edit is taken up), and a broken
edit keeps the texts in force and is shown to staff until it is fixed."""

from __future__ import annotations

import html
import shutil

import pytest
import yaml
from helpers import TEST_SETTINGS, Wizard, valid_answers

from screening import create_app
from screening.config import ROOT
from screening.store import init_db

NEW_ADVICE = "Deje el retinol ya: texto nuevo, cambiado con la aplicación en marcha."
NEW_LABEL = "¿Tiene eczema? (texto nuevo)"


@pytest.fixture
def content_dir(tmp_path):
    folder = tmp_path / "content"
    folder.mkdir()
    for name in ("questionnaire.yaml", "questionnaire.es.yaml", "rules.yaml", "rules.es.yaml"):
        shutil.copy(ROOT / name, folder / name)
    return folder


@pytest.fixture
def app(tmp_path, content_dir):
    database = tmp_path / "screening.db"
    init_db(database)
    return create_app(
        {
            **TEST_SETTINGS,
            "TESTING": True,
            "SECRET_KEY": "k",
            "DATABASE": str(database),
            "QUESTIONNAIRE": str(content_dir / "questionnaire.yaml"),
            "RULES": str(content_dir / "rules.yaml"),
            "RULES_CHECK_SECONDS": 0,
        }
    )


def edit(path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def spanish_done_page(app) -> str:
    client = app.test_client()
    client.get("/?lang=es")
    wizard = Wizard(client, app)
    answers = valid_answers(retinoid_last_use="still_using", appointment_date=None)
    wizard.walk(answers)
    assert wizard.submit(answers).status_code == 302
    return client.get("/done").text


def spanish_step(app) -> str:
    client = app.test_client()
    client.get("/?lang=es")
    wizard = Wizard(client, app)
    wizard.start()
    wizard.post_step("about", valid_answers(appointment_date=None))
    return client.get("/step/skin").text


def test_an_edited_rules_es_yaml_is_taken_up(app, content_dir):
    assert "Si todavía usa retinol" in spanish_done_page(app)

    def new_text(data):
        data["rules"]["retinoid-stop"]["client"] = NEW_ADVICE

    edit(content_dir / "rules.es.yaml", new_text)
    done = spanish_done_page(app)
    assert NEW_ADVICE in done and "Si todavía usa retinol" not in done


def test_an_edited_questionnaire_es_yaml_is_taken_up(app, content_dir):
    assert "¿Tiene eczema (dermatitis atópica)?" in spanish_step(app)

    def new_label(data):
        data["questions"]["eczema"]["label"] = NEW_LABEL

    edit(content_dir / "questionnaire.es.yaml", new_label)
    assert NEW_LABEL in spanish_step(app)


def test_a_broken_language_file_keeps_the_texts_in_force_and_staff_see_why(app, content_dir, staff):
    provider = staff("provider")
    original = (content_dir / "questionnaire.es.yaml").read_text(encoding="utf-8")

    def no_label(data):
        del data["questions"]["eczema"]["label"]

    edit(content_dir / "questionnaire.es.yaml", no_label)
    assert "¿Tiene eczema (dermatitis atópica)?" in spanish_step(app)  # the one in force
    page = html.unescape(provider.get("/staff/day").text)
    assert "questionnaire.es.yaml was changed but cannot be used" in page
    assert "question eczema: no es text for 'label'" in page
    assert "was changed" not in spanish_step(app)  # clients are not told

    (content_dir / "questionnaire.es.yaml").write_text(original, encoding="utf-8")
    assert "was changed but cannot be used" not in provider.get("/staff/day").text

    def no_advice(data):
        del data["rules"]["smoker"]

    edit(content_dir / "rules.es.yaml", no_advice)
    page = html.unescape(provider.get("/staff/day").text)
    assert "rules.es.yaml was changed but cannot be used" in page
    assert "rule smoker: no es text for 'client'" in page
    assert "Si todavía usa retinol" in spanish_done_page(app)
