"""The language a client reads: Flask-Babel for the app's own words, the choice per visit.

Clients choose on the start page (`?lang=es`), else their browser's Accept-Language decides;
the choice is kept in the session for the visit. Staff pages, PDFs and the CLI always use
the clinic's language (the first of SCREENING_LANGUAGES), so staff read what they know.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel, get_locale, gettext, ngettext

from .questionnaire import Question, parse_date

TRANSLATIONS = Path(__file__).parent / "translations"
# Blueprints whose pages are for staff: always in the clinic's language.
STAFF_BLUEPRINTS = {"staff", "two_factor"}


def languages(config=None) -> list[str]:
    """The configured languages, the clinic's own first ("en,es" -> ["en", "es"])."""
    raw = (config or current_app.config).get("LANGUAGES") or "en"
    if isinstance(raw, str):
        raw = raw.split(",")
    return [code.strip() for code in raw if code.strip()]


def clinic_language() -> str:
    return languages()[0]


def client_language() -> str:
    """The language of this request's client pages: the visit's choice, else the browser's."""
    known = languages()
    if not has_request_context():
        return known[0]
    chosen = session.get("lang")
    if chosen in known:
        return chosen
    return request.accept_languages.best_match(known) or known[0]


def _select_locale() -> str:
    if not has_request_context() or request.blueprint in STAFF_BLUEPRINTS:
        return clinic_language()
    if request.path.startswith("/staff"):
        return clinic_language()
    return client_language()


def remember_choice() -> None:
    """A `?lang=xx` link (the start page's "Español") sets the visit's language."""
    wanted = request.args.get("lang")
    if wanted and wanted in languages() and session.get("lang") != wanted:
        session["lang"] = wanted


def language_name(code: str | None, in_language: str | None = None) -> str:
    """A language's name in another language (es, in en: "Spanish"), or in itself."""
    try:
        return Locale.parse(code).get_display_name(in_language or code).capitalize()
    except (ValueError, TypeError):
        return str(code)


def spelled_date(day: dt.date, weekday: bool = False) -> str:
    """A date spelled out in the page's language ("jueves 10 de diciembre de 2026"); the
    pattern is itself translated, so each language writes dates its own way."""
    locale = str(get_locale() or clinic_language())
    pattern = gettext("EEEE d MMMM y") if weekday else gettext("d MMMM y")
    return format_date(day, format=pattern, locale=locale)


def client_answer(q: Question, value) -> str:
    """An answer as the client reads it on the review page, in the page's language."""
    if value == [] and q.type == "multi":
        return gettext("None of these")
    if value is None or value == "":
        return gettext("Not answered")
    if q.type == "boolean":
        return gettext("Yes") if value else gettext("No")
    if q.type == "date" and (day := parse_date(value)) is not None:
        return spelled_date(day)
    return q.display(value)


def interval(days: int) -> str:
    """2 weeks, 1 week, 10 days, 1 day, in the page's language."""
    if days % 7 == 0:
        return ngettext("%(num)d week", "%(num)d weeks", days // 7)
    return ngettext("%(num)d day", "%(num)d days", days)


def init_app(app: Flask) -> None:
    Babel(
        app,
        locale_selector=_select_locale,
        default_locale=languages(app.config)[0],
        default_translation_directories=str(TRANSLATIONS),
    )
    app.before_request(_remember_choice_on_client_pages)
    app.jinja_env.globals.update(
        page_language=lambda: str(get_locale() or clinic_language()),
        language_name=language_name,
        client_languages=languages,
        clinic_language=clinic_language,
        client_answer=client_answer,
        spelled_date=spelled_date,
    )


def _remember_choice_on_client_pages() -> None:
    if request.blueprint not in STAFF_BLUEPRINTS and "lang" in request.args:
        remember_choice()
