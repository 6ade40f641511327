"""The clinical content in force: the questionnaire and the rules, loaded and checked once
at start-up, and the clinic's today.

Views, the CLI and the output layer ask here instead of reaching into the app.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, has_app_context

from . import questionnaire as questionnaire_module
from . import rules as rules_module


class ContentError(Exception):
    """questionnaire.yaml or rules.yaml cannot be used; the message names file, line, reason."""


def load(app: Flask) -> None:
    """Load questionnaire.yaml and rules.yaml into the app; raise ContentError on a problem."""
    qn = load_questionnaire(app.config["QUESTIONNAIRE_PATH"])
    try:
        app.extensions["rules"] = rules_module.load(app.config["RULES_PATH"], qn)
    except rules_module.RulesError as exc:
        raise ContentError(str(exc)) from None
    app.extensions["questionnaire"] = qn


def load_questionnaire(path) -> questionnaire_module.Questionnaire:
    try:
        return questionnaire_module.load(path)
    except questionnaire_module.QuestionnaireError as exc:
        raise ContentError(str(exc)) from None


def questionnaire() -> questionnaire_module.Questionnaire:
    """The questionnaire in force."""
    return current_app.extensions["questionnaire"]


def rules() -> rules_module.RuleSet:
    """The rules in force."""
    return current_app.extensions["rules"]


def today() -> dt.date:
    """The clinic's today: the server's local date, or SCREENING_TODAY when set (tests,
    demos, and judging answers as on another day)."""
    if has_app_context():
        fixed = current_app.config.get("TODAY")
        if fixed:
            return fixed if isinstance(fixed, dt.date) else dt.date.fromisoformat(str(fixed))
    return dt.date.today()
