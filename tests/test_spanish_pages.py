"""Every page a client can see, rendered in Spanish, has no English left on it: the app's
own strings (each msgid of the catalogue that reads differently in Spanish), a list of
phrases once written bare, and common English words (a string never marked for translation
is in no catalogue, so only its words give it away). Also: every msgid has its Spanish."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from babel.dates import format_date
from babel.messages.pofile import read_po
from booking import book, open_link
from helpers import TEST_SETTINGS, csrf_token, valid_answers

from screening import create_app
from screening.config import ROOT
from screening.store import init_db

CATALOGUE = ROOT / "screening" / "translations" / "es" / "LC_MESSAGES" / "messages.po"

# Words of English that Spanish text does not use (names, the clinic's and the client's,
# hold none of them). One of these on a Spanish page is a string left in English.
ENGLISH_WORDS = {
    "the", "your", "you", "please", "this", "and", "with", "have", "are", "for", "our", "we",
    "what", "answers", "questions", "link", "start", "again", "page", "wait",
    "still", "there", "here", "not", "found", "only", "back",
}  # fmt: skip
# Phrases from client pages that were once written bare (not marked for translation).
KNOWN_ENGLISH = (
    "Your date of birth",
    "Your personal link",
    "This link does not work",
    "This link has expired",
    "Are you still there?",
    "Start again?",
    "New client / start over",
    "Go to the questionnaire start",
    "Page not found",
    "Please wait a little",
    "Something went wrong on our side",
    "Continue",
)


class _Visible(HTMLParser):
    """The words a reader meets: text outside scripts and styles, and the attributes that
    are read aloud or shown (title, aria-label, alt, placeholder, a button's value)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if value and name in ("title", "aria-label", "alt", "placeholder"):
                self.parts.append(value)
            if (
                value
                and name == "value"
                and tag == "input"
                and dict(attrs).get("type")
                in (
                    "submit",
                    "button",
                )
            ):
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _catalogue():
    with CATALOGUE.open("rb") as f:
        return read_po(f, locale="es")


def english_phrases() -> list[str]:
    """The catalogue's English that reads differently in Spanish, cut at its placeholders
    into phrases of three words or more (shorter ones are too often names or numbers)."""
    phrases = set()
    for message in _catalogue():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            if msgid in strings:
                continue
            plain = re.sub(r"<[^>]+>", " ", msgid)
            for piece in re.split(r"%\(\w+\)[sd]|%[sd]|\{\{.*?\}\}|&\w+;", plain):
                piece = " ".join(piece.split()).strip(" .,:;")
                if len(piece.split()) >= 3:
                    phrases.add(piece)
    return sorted(phrases)


def english_on(html: str) -> list[str]:
    """What of `html` is still English, as found."""
    text = visible_text(html)
    found = [p for p in english_phrases() + list(KNOWN_ENGLISH) if p in text]
    words = re.findall(r"[A-Za-z]+", text)
    found += sorted({w for w in words if w.lower() in ENGLISH_WORDS})
    return found


def _spanish_app(tmp_path, **settings):
    database = tmp_path / "screening.db"
    init_db(database)
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE": str(database),
        "CLINIC_PHONE": "555 0100",
        **TEST_SETTINGS,
        **settings,
    }
    return create_app(config)


def _walk(app, client, answers: dict) -> dict[str, str]:
    """Start in Spanish, every step (empty first, for its error messages), the review, the
    done page: {page name: html}."""
    from helpers import Wizard

    pages = {"start": client.get("/?lang=es").text}
    wizard = Wizard(client, app)
    wizard.start()
    qn = app.extensions["questionnaire"]
    first = qn.sections[0]
    pages["step with errors"] = wizard.post_step(first.id, {}, follow=True).text
    for section in qn.sections:
        pages[f"step {section.id}"] = client.get(f"/step/{section.id}").text
        wizard.post_step(section.id, answers)
    pages["review"] = client.get("/review").text
    pages["start over"] = client.get("/start-over").text
    pages["start with a saved draft"] = client.get("/").text
    assert wizard.submit(answers).status_code == 302
    pages["done"] = client.get("/done").text
    return pages


@pytest.fixture
def spanish_pages(tmp_path):
    """Every client page in Spanish: {name: html}."""
    app = _spanish_app(tmp_path / "main")
    client = app.test_client()
    # Answers that fire rules, so the done page shows their advice.
    answers = valid_answers(retinoid_last_use="still_using", appointment_date=None)
    pages = _walk(app, client, answers)

    fresh = app.test_client()
    fresh.get("/?lang=es")
    pages["expired"] = fresh.get("/step/about").text
    pages["404"] = fresh.get("/no-such-page").text
    pages["400"] = fresh.post("/start").text  # no CSRF token

    _, path = book(app, days=2)
    pages["invitation"] = fresh.get(path + "?lang=es").text
    wrong = fresh.post(
        path, data={"csrf_token": csrf_token(pages["invitation"]), "date_of_birth": "1990-01-01"}
    )
    pages["invitation, wrong date of birth"] = wrong.text
    pages["invitation unknown"] = fresh.get("/i/not-a-token?lang=es").text
    _, old = book(app, days=-1, name="Was Yesterday")
    pages["invitation expired"] = fresh.get(old + "?lang=es").text
    _, answered = book(app, days=3, name="Ana Two")
    linked = app.test_client()
    linked.get("/?lang=es")
    assert open_link(linked, answered).status_code == 302
    pages["invitation answered"] = _answer_by_link(app, linked, answered)
    _, paused = book(app, days=4, name="Ana Three")
    guesser = app.test_client()
    guesser.get("/?lang=es")
    for n in range(5):
        page = guesser.get(paused)
        last = guesser.post(
            paused, data={"csrf_token": csrf_token(page.text), "date_of_birth": f"1990-01-0{n + 1}"}
        )
    pages["invitation paused"] = last.text

    kiosk = _spanish_app(tmp_path / "kiosk", KIOSK=True)
    k = kiosk.test_client()
    kiosk_pages = _walk(kiosk, k, valid_answers(appointment_date=None))
    pages.update({f"kiosk {name}": html for name, html in kiosk_pages.items()})
    k2 = kiosk.test_client()
    k2.get("/?lang=es")
    from helpers import Wizard

    Wizard(k2, kiosk).start()
    pages["kiosk idle"] = k2.get("/start-over?idle=1").text

    limited = _spanish_app(tmp_path / "limited", CLIENT_STARTS_PER_HOUR=1)
    for _ in range(2):  # two visitors from one address: the second is one too many
        busy = limited.test_client()
        token = csrf_token(busy.get("/?lang=es").text)
        too_many = busy.post("/start", data={"csrf_token": token})
    assert too_many.status_code == 429
    pages["429"] = too_many.text

    crashing = _spanish_app(tmp_path / "crash", PROPAGATE_EXCEPTIONS=False, TESTING=False)

    @crashing.get("/test-only/crash")
    def crash():
        raise RuntimeError("on purpose")

    c = crashing.test_client()
    c.get("/?lang=es")
    pages["500"] = c.get("/test-only/crash").text
    pages["503, the database"] = _database_error_page(app)
    return pages


def _database_error_page(app) -> str:
    """The page a client gets when the database cannot take their answers (a full disk),
    rendered as the app renders it for a Spanish client's step."""
    from screening import web
    from screening.store import errors

    with app.test_request_context("/step/about", headers={"Accept-Language": "es"}):
        app.preprocess_request()
        body, code, _headers = web.database_error_page(errors.FULL)
    assert code == 503
    return body


def _answer_by_link(app, client, path) -> str:
    """Answer an appointment through its link, then open the link again: the 'answered'
    page."""
    from helpers import Wizard

    [row] = [r for r in _rows(app) if path.endswith(r["token"])]
    answers = valid_answers(
        full_name=row["client_name"],
        signature=row["client_name"],
        date_of_birth=row["date_of_birth"],
        appointment_date=row["appointment_date"],
    )
    wizard = Wizard(client, app)
    qn = app.extensions["questionnaire"]
    for section in qn.sections:
        wizard.post_step(section.id, answers)
    assert wizard.submit(answers).status_code == 302
    return open_link(client, path + "?lang=es").text


def _rows(app):
    from screening import invitations
    from screening.store import get_db

    with app.test_request_context():
        found = list(get_db().query("SELECT * FROM appointments"))
        for row in found:
            row["token"] = invitations.token_for(row["link_nonce"])
        return found


def test_no_english_on_any_client_page_in_spanish(spanish_pages):
    assert len(spanish_pages) >= 30
    left = {}
    for name, html in spanish_pages.items():
        assert '<html lang="es">' in html, name
        if found := english_on(html):
            left[name] = found
    for name, found in left.items():
        print(name, found)
    assert left == {}, "English on Spanish pages: mark it for translation, then translate"


def test_the_spanish_pages_show_their_spanish(spanish_pages):
    """The check above would pass on an empty page: each page says what it should."""
    assert "Empezar el cuestionario" in spanish_pages["start"]
    assert "Si todavía usa retinol" in spanish_pages["done"]
    assert "Su fecha de nacimiento" in spanish_pages["invitation"]
    assert "¿Sigue ahí?" in spanish_pages["kiosk idle"]
    assert "Página no encontrada" in spanish_pages["404"]
    assert "No podemos guardar en este momento" in spanish_pages["503, the database"]


def test_a_date_on_a_client_page_is_spelled_in_spanish(spanish_pages):
    """The invitation's "answered" page said the day in English ("Wednesday 2 December")."""
    sent = format_date(dt.date.today(), "d 'de' MMMM 'de' y", locale="es")
    assert f"se enviaron el {sent}." in spanish_pages["invitation answered"]


def app_msgids() -> set[str]:
    """Every string the app marks for translation, extracted as `make translations` does
    (babel.cfg, the Makefile's keywords): the .pot, without writing it."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, options_map=options_map, keywords=keywords
    ):
        found.update(message if isinstance(message, tuple) else (message,))
    return {m for m in found if m}


def test_every_string_marked_for_translation_has_its_spanish():
    catalogue = _catalogue()
    missing = []
    for msgid in sorted(app_msgids()):
        found = catalogue.get(msgid)
        if found is None:  # the plural form of an ngettext
            found = next((m for m in catalogue if isinstance(m.id, tuple) and msgid in m.id), None)
        strings = found.string if found else ""
        done = all(strings) if isinstance(strings, tuple) else bool(strings)
        if found is None or not done or found.fuzzy:
            missing.append(msgid)
    assert len(app_msgids()) > 100
    assert missing == [], "no Spanish text (run `make translations`, translate, commit)"


def test_the_english_detector_finds_english():
    """The checks are only as good as what they catch."""
    assert english_on("<p>Please call the clinic.</p>") == ["Please", "the"]
    assert "Page not found" in english_on("<h1>Page not found</h1>")
    assert english_on('<button aria-label="Close the menu">x</button>') == ["the"]
    assert not english_on("<p>Por favor, llame a la clínica Skin Clinic.</p><script>the</script>")
