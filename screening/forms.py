"""Build one WTForms form class per questionnaire step, from questionnaire.yaml alone.

Fields keep exactly what the client typed (strings), so a page with errors shows it back;
`Question.check` judges the typed answer, so the wizard and the JSON import agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from flask import request
from markupsafe import Markup, escape
from wtforms import (
    HiddenField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import StopValidation
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.widgets.core import clean_key

from . import content
from .questionnaire import Question, Questionnaire, Section
from .text_form import TextOnlyForm

YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


def html_params(**kwargs) -> Markup:
    """WTForms' html_params, same output, without a string.Formatter call per attribute
    (which was a fifth of a step page's CPU time)."""
    parts = []
    for key, value in sorted(kwargs.items()):
        if value is True:
            parts.append(clean_key(key))
        elif value is not False:
            parts.append(f'{escape(clean_key(key))}="{escape(value)}"')
    return Markup(" ".join(parts))


class FastInput:
    """WTForms' Input.__call__ without its walk over `dir(field.flags)` for HTML validation
    attributes (a twentieth of a step page's time): our only validator, AnswerCheck, sets no
    flags, and the limits a browser should know (maxlength) are given as render_kw."""

    html_params = staticmethod(html_params)

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("type", self.input_type)
        if "value" not in kwargs:
            kwargs["value"] = field._value()
        return Markup(f"<input {html_params(name=field.name, **kwargs)}>")


class TextInput(FastInput, widgets.TextInput):
    pass


class DateInput(FastInput, widgets.DateInput):
    pass


class HiddenInput(FastInput, widgets.HiddenInput):
    pass


HIDDEN_INPUT = HiddenInput()


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (a `multi` question)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AnswerCheck:
    """Validate a field through its question: skipped when hidden, else `Question.check`."""

    def __init__(self, question: Question):
        self.question = question

    def __call__(self, form: StepForm, field) -> None:
        if not self.question.is_shown(form.context, form.today):
            field.errors[:] = []
            raise StopValidation()
        message = self.question.check(form.context.get(self.question.id), form.context, form.today)
        if message:
            raise StopValidation(message)


class StepForm(TextOnlyForm):
    """A step's form; `context` holds the draft's answers with this step's values on top."""

    questions: ClassVar[list[Question]] = []

    def __init__(
        self, *args, saved: dict[str, Any] | None = None, today: dt.date | None = None, **kwargs
    ):
        self.saved = dict(saved or {})
        self.today = today or content.today()
        if "data" not in kwargs and request.method == "GET":
            kwargs["data"] = {q.id: to_field(q, self.saved.get(q.id)) for q in self.questions}
        super().__init__(*args, **kwargs)
        if "csrf_token" in self:
            self["csrf_token"].widget = HIDDEN_INPUT
        self.context = self.saved

    def answers(self) -> dict[str, Any]:
        """This step's typed answers (hidden questions None)."""
        values = {q.id: to_answer(q, self[q.id].data) for q in self.questions}
        merged = {**self.saved, **values}
        return {
            q.id: (values[q.id] if q.is_shown(merged, self.today) else None) for q in self.questions
        }

    def validate(self, extra_validators=None) -> bool:
        self.context = {
            **self.saved,
            **{q.id: to_answer(q, self[q.id].data) for q in self.questions},
        }
        return super().validate(extra_validators)

    def valid_answers(self) -> dict[str, Any]:
        """The answers of this step that passed their checks (after `validate`)."""
        return {qid: value for qid, value in self.answers().items() if not self[qid].errors}

    def not_text_message(self, field) -> str:
        question = next((q for q in self.questions if q.id == field.name), None)
        name = question.name if question else field.label.text
        return f"{name}: please type your answer here; a file cannot be sent."

    def error_list(self) -> list[tuple[str, str]]:
        """(field id, message) for the error summary, in page order."""
        return [(q.id, self[q.id].errors[0]) for q in self.questions if self[q.id].errors]


class ReviewForm(StepForm):
    """The review page: attestation, signature, and a one-time key against double submits."""

    submit_key = HiddenField()


def to_field(q: Question, value: Any) -> Any:
    """An answer as its field shows it."""
    if value is None:
        return [] if q.type == "multi" else None
    if q.type == "boolean":
        return "yes" if value is True else "no" if value is False else None
    return value


def to_answer(q: Question, raw: Any) -> Any:
    """What the client sent, as the typed answer; a value that cannot be one is kept as is
    so that `Question.check` rejects it with a message."""
    if q.type == "multi":
        return [str(v) for v in (raw or []) if v not in ("", None)]
    if raw is None:
        return None
    raw = str(raw)
    if q.type == "boolean":
        return {"yes": True, "no": False, "": None}.get(raw.strip(), raw)
    if q.type in ("text", "longtext"):
        raw = raw.replace("\r\n", "\n")
        return raw.strip() or None
    return raw.strip() or None


def _field(q: Question):
    kwargs = {"label": q.label, "validators": [AnswerCheck(q)], "description": q.help}
    render = {}
    if q.autocomplete:
        render["autocomplete"] = q.autocomplete
    if q.inputmode:
        render["inputmode"] = q.inputmode
    if q.type == "boolean" and q.must_be_true:
        return StringField(**kwargs, widget=CheckboxInput())
    if q.type == "boolean":
        return RadioField(choices=YES_NO, validate_choice=False, **kwargs)
    if q.type == "choice":
        return RadioField(
            choices=[SelectChoice(c.id, c.label) for c in q.choices],
            validate_choice=False,
            **kwargs,
        )
    if q.type == "multi":
        return MultiCheckboxField(
            choices=[SelectChoice(c.id, c.label) for c in q.choices],
            validate_choice=False,
            **kwargs,
        )
    if q.type == "date":
        return StringField(widget=DateInput(), render_kw=render or None, **kwargs)
    if q.type == "longtext":
        return TextAreaField(render_kw={"maxlength": q.max_length, "rows": 4, **render}, **kwargs)
    return StringField(
        render_kw={"maxlength": q.max_length, **render}, widget=TextInput(), **kwargs
    )


def form_class(name: str, questions: list[Question], base: type[StepForm] = StepForm):
    attrs = {q.id: _field(q) for q in questions}
    attrs["questions"] = list(questions)
    return type(name, (base,), attrs)


def build_forms(qn: Questionnaire) -> dict[str, type[StepForm]]:
    """One form class per step, and one for the review page (key "review")."""
    forms = {s.id: form_class(f"{s.id.title()}Form", s.step_questions) for s in qn.steps}
    forms["review"] = form_class("ReviewForm", qn.review_questions, ReviewForm)
    return forms


def section_of(qn: Questionnaire, section_id: str) -> Section | None:
    return next((s for s in qn.steps if s.id == section_id), None)
