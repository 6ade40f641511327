"""The done page's advice in the client's language: each fired rule's client message from
rules.<lang>.yaml, and its dated step with dates as that language writes them."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext

from .. import content
from ..i18n import client_language, clinic_language, interval, spelled_date
from ..output import display
from ..questionnaire import parse_date
from ..rules import RULE_ERROR

# rules.RULE_ERROR_CLIENT, written out so pybabel extracts it (a test holds them equal).
RULE_ERROR_TEXT = "Your provider will go over some of your answers with you at your consultation."


def client_advice(submission: dict | None) -> list[display.Advice]:
    """What this client was asked to do, as `display.client_advice`, in their language."""
    language = client_language()
    if language == clinic_language() or not submission:
        return display.client_advice(submission)
    ruleset = content.rules()
    on = display.answered_on(submission)
    advice = []
    for flag in submission["flags"]:
        if not flag.get("client_message"):
            continue
        texts = ruleset.client_text(flag["id"], language)
        if flag["id"] == RULE_ERROR:
            advice.append(
                display.Advice(
                    gettext(
                        "Your provider will go over some of your answers with you at your consultation."
                    )
                )
            )
            continue
        if texts is None:  # a rule since removed: its message as stored
            advice.append(display.Advice(flag["client_message"]))
            continue
        step = texts.before_step
        dated = _dated_step(flag, step, submission["appointment_date"], on) if step else None
        advice.append(display.Advice(texts.client, dated))
    return advice


def _dated_step(flag: dict, step: str, appointment, today: dt.date) -> str | None:
    """As `display.dated_step`, worded in the client's language."""
    days, day = flag.get("before_days"), parse_date(appointment)
    if not days or day is None:
        return None
    today = parse_date(flag.get("judged_on")) or today
    stop_by = day - dt.timedelta(days=days)
    words = {"step": step, "interval": interval(days), "day": spelled_date(day)}
    if stop_by < today:
        return gettext(
            "%(step)s now: your appointment on %(day)s is less than %(interval)s away.", **words
        )
    if stop_by == today:
        return gettext("%(step)s today (%(interval)s before your appointment on %(day)s).", **words)
    return gettext(
        "%(step)s by %(stop_by)s (%(interval)s before your appointment on %(day)s).",
        stop_by=spelled_date(stop_by, weekday=True),
        **words,
    )
