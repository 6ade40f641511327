"""Load and validate questionnaire.yaml: the one source of truth for the questions.

Answers are always held in their JSON form (booleans, choice ids, lists of ids, ISO date
strings, text; None when unanswered or hidden). `Question.check` is the only place a value
is judged, so the wizard, `submissions import` and `rules evaluate` agree on what is valid.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from flask import current_app, has_app_context
from flask_babel import gettext

TYPES = ("boolean", "choice", "multi", "text", "longtext", "date")
MAX_LENGTH = {"text": 200, "longtext": 2000}
# `format:` of a text question: what its answer must look like beyond plain text.
FORMATS = ("phone",)
# A phone number as people write it: digits, spaces, + - ( ); E.164 allows at most 15
# digits, and fewer than 7 is no number a clinic can call back.
_PHONE = re.compile(r"[0-9 +\-()]+")
PHONE_DIGITS = (7, 15)
_QUESTION_KEYS = {
    "id",
    "type",
    "label",
    "short",
    "help",
    "required",
    "choices",
    "show_if",
    "not_future",
    "not_past",
    "min_selected",
    "must_be_true",
    "matches",
    "autocomplete",
    "inputmode",
    "on_review",
    "format",
}
# Control characters other than tab/newline are never valid in typed text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Invisible characters that change how one-line text (a name) reads: direction overrides,
# embeddings, isolates and marks (U+202E shows "Ana\u202eyrraB" as "AnaBarry"), zero-width
# spaces, the word joiner, soft hyphens, the byte order mark, line and paragraph separators
# (every Unicode "format" or separator character). Allowed: the zero-width non-joiner and
# joiner, which Indic, Persian and Arabic names and emoji sequences need, and the tag
# characters of flag emoji.
_KEEP_FORMAT = {"\u200c", "\u200d"}


def hidden_characters(text: str) -> bool:
    """Whether one-line text holds an invisible character that could disguise it."""
    return any(
        unicodedata.category(char) in ("Cf", "Zl", "Zp")
        and char not in _KEEP_FORMAT
        and not 0xE0020 <= ord(char) <= 0xE007F
        for char in text
        if not char.isascii()
    )


# show_if may test the client's age (whole years today, from the identity's date of birth)
# by this name, as the rules do; no question may be called so.
AGE = "age"
RESERVED_IDS = {"age": "the client's age", "today": "the day of answering"}
# Apostrophes and hyphens as different keyboards type them, each read as the plain one,
# and the letters with a stroke, which Unicode does not decompose into letter and accent.
_NAME_MARKS = str.maketrans(
    {c: "'" for c in "\u2018\u2019\u201b\u02bc\u02bb\u0060\u00b4\u2032\uff07"}
    | {c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2212"}
    | {"ø": "o", "ł": "l", "đ": "d", "ħ": "h"}
)


def _(text: str, **values: Any) -> str:
    """A message in the page's language (Flask-Babel); plain English outside the app."""
    if has_app_context() and "babel" in current_app.extensions:
        return gettext(text, **values)
    return text % values


class QuestionnaireError(Exception):
    """A questionnaire.yaml problem, worded for the person who edits the file."""


@dataclass(frozen=True)
class Choice:
    id: str
    label: str


@dataclass(frozen=True)
class Condition:
    """One test of a `show_if`: another answer equals a value (`{cold_sores: true}`), a
    list answer includes a choice (`{treatment_areas: {includes: other}}`), or the client's
    age on the day of answering is under a number of years (`{age: {under: 18}}`)."""

    subject: str  # a question id, or "age"
    test: str  # "equals", "includes" or "under"
    value: Any
    reads: str  # the question whose answer is tested: the date of birth for "age"

    def holds(self, answers: dict[str, Any], today: dt.date | None) -> bool:
        answer = answers.get(self.reads)
        if self.test == "equals":
            return answer == self.value
        if self.test == "includes":
            return isinstance(answer, list) and self.value in answer
        age = age_on(answer, today or _today())
        return age is not None and age < self.value

    def describe(self) -> str:
        """The condition in the words of someone editing the YAML files."""
        if self.test == "includes":
            return f"{self.subject} includes {self.value}"
        if self.test == "under":
            return f"the client is under {self.value}"
        value = str(self.value).lower() if isinstance(self.value, bool) else self.value
        return f"{self.subject} is {value}"

    def reveal(self) -> tuple[str, Any] | None:
        """(field name, test) for the page's reveal script, in the values fields post; None
        when the page has no field to watch (age: the server decides when it renders)."""
        if self.test == "under":
            return None
        if self.test == "includes":
            return self.subject, {"includes": self.value}
        value = ("yes" if self.value else "no") if isinstance(self.value, bool) else self.value
        return self.subject, value


@dataclass(frozen=True)
class CareItem:
    """One item of the standard pre-care list; rules name the ids of items their own
    client message already says (`replaces`), so the done page does not say them twice."""

    id: str
    text: str


@dataclass
class CheckedAnswers:
    """Answers as the app would store them, and what is wrong with what was sent."""

    answers: dict[str, Any]  # every question id, in order; None when hidden or unanswered
    errors: dict[str, str]  # question id (or "(file)") -> why it cannot be stored
    missing: dict[str, str] = field(default_factory=dict)  # left out, allowed (partial)
    ignored: list[str] = field(default_factory=list)  # answered, but not asked: blanked


@dataclass
class Question:
    id: str
    type: str
    label: str
    section: str
    short: str = ""
    help: str = ""
    required: bool = False
    choices: tuple[Choice, ...] = ()
    show_if: dict[str, Any] = field(default_factory=dict)  # as written in the file
    conditions: tuple[Condition, ...] = ()  # show_if, checked and ready to test
    not_future: bool = False
    not_past: bool = False
    min_selected: int = 0
    must_be_true: bool = False
    matches: str | None = None
    autocomplete: str | None = None
    inputmode: str | None = None
    on_review: bool = False
    format: str | None = None
    matches_name: str = ""  # the name of the question `matches` points at

    @property
    def name(self) -> str:
        """The question's name in plain words, for error messages."""
        return self.short or self.label

    @property
    def choice_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.choices)

    def choice_label(self, choice_id: str) -> str:
        for c in self.choices:
            if c.id == choice_id:
                return c.label
        return choice_id

    @property
    def max_length(self) -> int | None:
        return MAX_LENGTH.get(self.type)

    def is_shown(self, answers: dict[str, Any], today: dt.date | None = None) -> bool:
        """Whether the question applies, given the other answers (show_if) and, for an age
        condition, the day of answering (the clinic's today unless given)."""
        return all(c.holds(answers, today) for c in self.conditions)

    def is_missing(self, value: Any) -> bool:
        """Whether this value leaves a required question unanswered."""
        return (self.required or self.min_selected > 0) and value in (None, "", [])

    @property
    def shown_when(self) -> str:
        """When the question is asked, in words: 'some_question is true'."""
        return " and ".join(c.describe() for c in self.conditions)

    def display(self, value: Any, long_dates: bool = False) -> str:
        """Render an answer for people: Yes/No, choice labels, dates as stored (staff pages
        and PDFs: sortable, unambiguous) or, for clients, spelled out (12 April 1980)."""
        if value == [] and self.type == "multi":
            return "None of these"
        if value is None or value == "":
            return "Not answered"
        if self.type == "boolean":
            return "Yes" if value else "No"
        if self.type == "choice":
            return self.choice_label(value)
        if self.type == "multi":
            return ", ".join(self.choice_label(v) for v in value)
        if self.type == "date" and long_dates and (day := parse_date(value)) is not None:
            return day.strftime("%-d %B %Y")
        return str(value)

    def check(self, value: Any, answers: dict[str, Any], today: dt.date) -> str | None:
        """Return an error message naming the question, or None when the value is valid."""
        if value is None or value == "" or value == []:
            if self.required or self.min_selected:
                return self._missing()
            return None
        return getattr(self, f"_check_{self.type}")(value, answers, today)

    def _missing(self) -> str:
        if self.must_be_true:
            return _("%(name)s: please confirm to continue.", name=self.name)
        if self.type in ("boolean", "choice"):
            return _("%(name)s: please choose an answer.", name=self.name)
        if self.type == "multi":
            return _("%(name)s: please choose at least one.", name=self.name)
        if self.type == "date":
            return _("%(name)s: please enter a date.", name=self.name)
        return _("%(name)s: please fill this in.", name=self.name)

    def _check_boolean(self, value, answers, today):
        if not isinstance(value, bool):
            return _("%(name)s: please answer yes or no.", name=self.name)
        if self.must_be_true and not value:
            return _("%(name)s: please confirm to continue.", name=self.name)
        return None

    def _check_choice(self, value, answers, today):
        if not isinstance(value, str) or value not in self.choice_ids:
            return _("%(name)s: please choose one of the answers listed.", name=self.name)
        return None

    def _check_multi(self, value, answers, today):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return _("%(name)s: please choose from the answers listed.", name=self.name)
        if any(v not in self.choice_ids for v in value) or len(set(value)) != len(value):
            return _("%(name)s: please choose from the answers listed.", name=self.name)
        if len(value) < self.min_selected:
            return _("%(name)s: please choose at least one.", name=self.name)
        return None

    def _check_text(self, value, answers, today):
        if not isinstance(value, str):
            return _("%(name)s: please type your answer as text.", name=self.name)
        if len(value) > self.max_length:
            return _(
                "%(name)s: please keep it to %(count)s characters or fewer.",
                name=self.name,
                count=f"{self.max_length:,}",
            )
        allowed = value.replace("\n", "").replace("\r", "").replace("\t", "")
        if _CONTROL.search(allowed) or (self.type == "text" and ("\n" in value or "\r" in value)):
            return _("%(name)s: please remove the special characters.", name=self.name)
        if self.type == "text" and hidden_characters(value):
            return _(
                "%(name)s: please remove the hidden formatting characters "
                "(such as text direction marks).",
                name=self.name,
            )
        if self.format == "phone":
            return self._check_phone(value)
        if self.matches and not same_name(value, answers.get(self.matches)):
            expected = " ".join(str(answers.get(self.matches) or "").split())
            if expected:
                return _(
                    "%(name)s: please type your name exactly as in “%(other)s”: %(expected)s.",
                    name=self.name,
                    other=self.matches_name,
                    expected=expected,
                )
            return _(
                "%(name)s: please type your name exactly as in “%(other)s”.",
                name=self.name,
                other=self.matches_name,
            )
        return None

    _check_longtext = _check_text

    def _check_phone(self, value: str) -> str | None:
        if not _PHONE.fullmatch(value):
            return _("%(name)s: please use only digits, spaces and + - ( ).", name=self.name)
        digits = sum(c.isdigit() for c in value)
        low, high = PHONE_DIGITS
        if not low <= digits <= high:
            return _(
                "%(name)s: please check the number: it needs %(low)s to %(high)s digits.",
                name=self.name,
                low=low,
                high=high,
            )
        return None

    def _check_date(self, value, answers, today):
        day = parse_date(value)
        if day is None:
            return _("%(name)s: please enter a real date, for example 1985-04-30.", name=self.name)
        if self.not_future and day > today:
            return _("%(name)s: this date cannot be in the future.", name=self.name)
        if self.not_past and day < today:
            return _("%(name)s: this date cannot be in the past.", name=self.name)
        if day.year < 1900:
            return _("%(name)s: please check the year.", name=self.name)
        return None


@dataclass
class Section:
    id: str
    title: str
    intro: str
    questions: list[Question]

    @property
    def step_questions(self) -> list[Question]:
        """The questions asked on this section's step (not those asked on the review page)."""
        return [q for q in self.questions if not q.on_review]


@dataclass(frozen=True)
class Identity:
    """Which questions hold what a submission is filed and found under (`identity:` in the
    file), so no question id is written in code."""

    name: str
    date_of_birth: str
    appointment_date: str | None = None
    phone: str | None = None


# identity key -> (required, the question types it may name)
IDENTITY_KEYS = {
    "name": (True, ("text",)),
    "date_of_birth": (True, ("date",)),
    "appointment_date": (False, ("date",)),
    "phone": (False, ("text",)),
}


@dataclass
class Questionnaire:
    title: str
    version: str
    sections: list[Section]
    questions: dict[str, Question]
    identity: Identity
    before_treatment: list[CareItem] = field(default_factory=list)
    after_treatment: list[str] = field(default_factory=list)
    language: str = "en"  # the language of its texts (ids are the same in every language)
    translations: dict[str, Questionnaire] = field(default_factory=dict, repr=False)

    def in_language(self, language: str | None) -> Questionnaire:
        """This questionnaire with its texts in `language` (itself when not translated)."""
        return self.translations.get(language or "", self)

    def client_name(self, answers: dict[str, Any]) -> Any:
        return answers.get(self.identity.name)

    def date_of_birth(self, answers: dict[str, Any]) -> Any:
        return answers.get(self.identity.date_of_birth)

    def appointment_date(self, answers: dict[str, Any]) -> Any:
        qid = self.identity.appointment_date
        return answers.get(qid) if qid else None

    def phone(self, answers: dict[str, Any]) -> Any:
        qid = self.identity.phone
        return answers.get(qid) if qid else None

    @property
    def steps(self) -> list[Section]:
        """Sections with something to ask on their own step, in order."""
        return [s for s in self.sections if s.step_questions]

    @property
    def review_questions(self) -> list[Question]:
        return [q for q in self.questions.values() if q.on_review]

    def normalize(self, answers: dict[str, Any], today: dt.date | None = None) -> dict[str, Any]:
        """Every question id, hidden ones set to None, in questionnaire order."""
        out = {qid: answers.get(qid) for qid in self.questions}
        for q in self.questions.values():
            if not q.is_shown(out, today):
                out[q.id] = None
        return out

    def validate(
        self, answers: dict[str, Any], today: dt.date, ids: list[str] | None = None
    ) -> dict[str, str]:
        """Check answers as a whole; return {question_id: message} for each problem."""
        errors = {}
        for qid in ids or list(self.questions):
            q = self.questions[qid]
            if not q.is_shown(answers, today):
                continue
            message = q.check(answers.get(qid), answers, today)
            if message:
                errors[qid] = message
        return errors

    def unknown_ids(self, answers: dict[str, Any]) -> list[str]:
        return [k for k in answers if k not in self.questions]

    def check_answers(self, raw: Any, today: dt.date, partial: bool = False) -> CheckedAnswers:
        """Judge a whole answer set as the app stores one: unknown ids refused, answers to
        questions not asked blanked, every answer checked. `submissions import`, the review
        page and `rules evaluate` all come here, so they agree on what is stored. With
        `partial`, required answers may be left out (drafting rules): they are listed in
        `missing` instead of `errors`."""
        if not isinstance(raw, dict):
            return CheckedAnswers(
                {}, {"(file)": "expected a JSON object of answers by question id"}
            )
        errors = {qid: "not a question id in the questionnaire" for qid in self.unknown_ids(raw)}
        answers = self.normalize(raw, today)
        ignored = [
            qid
            for qid, value in raw.items()
            if qid in answers and answers[qid] is None and value not in (None, "", [])
        ]
        missing = {}
        for qid, message in self.validate(answers, today).items():
            if partial and self.questions[qid].is_missing(answers[qid]):
                missing[qid] = message
            else:
                errors[qid] = message
        return CheckedAnswers(answers, errors, missing, ignored)


def normalize_name(value: Any) -> str:
    """A name as it is filed and sorted: case and extra spaces ignored."""
    return " ".join(str(value or "").split()).casefold()


def signature_key(value: Any) -> str:
    """A name as a signature is compared: case, extra spaces, accents (a stroke too: ø, ł)
    and the kind of apostrophe or hyphen ignored ("ana maria o'brien" signs for "Ana María
    O’Brien"). Other scripts keep their letters: only their accents are dropped."""
    decomposed = unicodedata.normalize("NFKD", normalize_name(value).translate(_NAME_MARKS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def same_name(typed: Any, expected: Any) -> bool:
    """Whether a typed signature is the expected name (see `signature_key`)."""
    return signature_key(typed) == signature_key(expected)


def _today() -> dt.date:
    """The clinic's today, for an age condition asked without a day."""
    from .content import today  # content loads this module: imported when first needed

    return today()


def parse_date(value: Any) -> dt.date | None:
    """An ISO date from a string or date, or None when it is not one."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def age_on(date_of_birth: Any, today: dt.date) -> int | None:
    """Whole years on `today`, or None without a valid date of birth."""
    born = parse_date(date_of_birth)
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def load(path: str | Path) -> Questionnaire:
    """Read and validate a questionnaire file; raise QuestionnaireError naming the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise QuestionnaireError(f"{path}: cannot read the file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise QuestionnaireError(f"{path}{where}: not valid YAML: {problem}") from None
    return _build(path, data)


def _build(path: Path, data: Any) -> Questionnaire:
    def fail(where: str, problem: str):
        raise QuestionnaireError(f"{path}: {where}: {problem}")

    if not isinstance(data, dict) or not isinstance(data.get("sections"), list):
        fail("top level", "expected a mapping with a list of 'sections'")
    sections, questions = [], {}
    for s_index, raw_section in enumerate(data["sections"], 1):
        if not isinstance(raw_section, dict) or not raw_section.get("id"):
            fail(f"section {s_index}", "each section needs an 'id'")
        sid = str(raw_section["id"])
        if any(s.id == sid for s in sections):
            fail(f"section {sid}", "duplicate section id")
        raw_questions = raw_section.get("questions")
        if not isinstance(raw_questions, list) or not raw_questions:
            fail(f"section {sid}", "needs a list of 'questions'")
        section_questions = []
        for raw in raw_questions:
            q = _question(raw, sid, fail)
            if q.id in questions:
                fail(f"question {q.id}", "duplicate question id")
            questions[q.id] = q
            section_questions.append(q)
        sections.append(
            Section(
                sid,
                str(raw_section.get("title") or sid),
                str(raw_section.get("intro") or ""),
                section_questions,
            )
        )
    identity = _identity(data.get("identity"), questions, fail)
    for q in questions.values():
        q.conditions = tuple(
            _condition(q.id, subject, value, questions, identity, fail)
            for subject, value in q.show_if.items()
        )
        if q.matches and q.matches not in questions:
            fail(f"question {q.id}", f"matches names an unknown question id '{q.matches}'")
        if q.matches:
            q.matches_name = questions[q.matches].name
    after = data.get("after_treatment") or []
    if not isinstance(after, list) or not all(isinstance(i, str) for i in after):
        fail("after_treatment", "expected a list of sentences")
    return Questionnaire(
        str(data.get("title") or "Questionnaire"),
        str(data.get("version", "1")),
        sections,
        questions,
        identity,
        _care_items(data.get("before_treatment"), fail),
        after,
    )


def _condition(qid: str, subject: Any, value: Any, questions, identity, fail) -> Condition:
    """One show_if entry, checked against the questions it names."""
    where = f"question {qid}"
    if subject == AGE:
        if not isinstance(value, dict) or set(value) != {"under"}:
            fail(where, "show_if: age takes {under: YEARS}, e.g. {age: {under: 18}}")
        years = value["under"]
        if not isinstance(years, int) or isinstance(years, bool) or years < 1:
            fail(where, "show_if: age: 'under' must be a whole number of years")
        return Condition(AGE, "under", years, identity.date_of_birth)
    if subject not in questions:
        fail(where, f"show_if names an unknown question id '{subject}'")
    dep = questions[subject]
    if isinstance(value, dict):
        if set(value) != {"includes"} or dep.type != "multi":
            fail(
                where,
                f"show_if: '{subject}' takes a value to equal, or {{includes: CHOICE}} when "
                "it is a list of choices",
            )
        if value["includes"] not in dep.choice_ids:
            fail(where, f"show_if: '{value['includes']}' is not a choice of '{subject}'")
        return Condition(subject, "includes", value["includes"], subject)
    if dep.type == "boolean" and not isinstance(value, bool):
        fail(where, f"show_if: '{subject}' is yes/no, so compare it with true or false")
    if dep.type == "choice" and value not in dep.choice_ids:
        fail(where, f"show_if: '{value}' is not a choice of '{subject}'")
    if dep.type == "multi":
        fail(where, f"show_if: '{subject}' is a list: write {{{subject}: {{includes: CHOICE}}}}")
    return Condition(subject, "equals", value, subject)


def _care_items(raw: Any, fail) -> list[CareItem]:
    """The standard pre-care list: each item an id (rules' `replaces` name it) and a text."""
    items = raw or []
    if not isinstance(items, list):
        fail("before_treatment", "expected a list of {id, text} items")
    care, seen = [], set()
    for number, item in enumerate(items, 1):
        if (
            not isinstance(item, dict)
            or set(item) != {"id", "text"}
            or not isinstance(item["id"], str)
            or not isinstance(item["text"], str)
            or not item["text"].strip()
        ):
            fail(
                f"before_treatment item {number}",
                "expected {id: ..., text: ...}, the text in double quotes when it holds a colon",
            )
        if item["id"] in seen:
            fail(f"before_treatment item {number}", f"duplicate id '{item['id']}'")
        seen.add(item["id"])
        care.append(CareItem(item["id"], item["text"]))
    return care


def _identity(raw: Any, questions: dict[str, Question], fail) -> Identity:
    keys = ", ".join(IDENTITY_KEYS)
    if not isinstance(raw, dict):
        fail("identity", f"expected a mapping of {keys} to question ids")
    for key in raw:
        if key not in IDENTITY_KEYS:
            fail("identity", f"unknown key '{key}' (expected: {keys})")
    for key, (required, types) in IDENTITY_KEYS.items():
        qid = raw.get(key)
        if qid is None:
            if required:
                fail("identity", f"needs '{key}': the question id that holds it")
            continue
        question = questions.get(qid)
        if question is None:
            fail("identity", f"{key}: '{qid}' is not a question id")
        if question.type not in types:
            fail("identity", f"{key}: '{qid}' is a {question.type} question, not {types[0]}")
        if required and (not question.required or question.show_if):
            fail("identity", f"{key}: '{qid}' must be a required question that is always asked")
    return Identity(**raw)


def _question(raw: Any, sid: str, fail) -> Question:
    if not isinstance(raw, dict) or not raw.get("id"):
        fail(f"section {sid}", "each question needs an 'id'")
    qid = str(raw["id"])
    where = f"question {qid}"
    if qid in RESERVED_IDS:
        fail(where, f"'{qid}' is reserved: rules read {RESERVED_IDS[qid]} by that name")
    unknown = sorted(set(raw) - _QUESTION_KEYS)
    if unknown:
        fail(where, f"unknown key '{unknown[0]}'")
    qtype = raw.get("type")
    if qtype not in TYPES:
        fail(where, f"unknown type '{qtype}' (expected one of: {', '.join(TYPES)})")
    if not raw.get("label"):
        fail(where, "needs a 'label' (the question as the client reads it)")
    for key in ("label", "short", "help"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            fail(
                where,
                f"'{key}' must be text: put it in double quotes (YAML reads Yes, No, "
                "On, Off and numbers as other values)",
            )
    choices = raw.get("choices") or []
    if qtype in ("choice", "multi"):
        if not isinstance(choices, list) or not choices:
            fail(where, f"a {qtype} question needs a list of 'choices'")
        for c in choices:
            if not isinstance(c, dict) or not isinstance(c.get("id"), str) or not c.get("label"):
                fail(
                    where,
                    "each choice needs a text 'id' and a 'label' "
                    '(quote ids such as "no" so YAML keeps them as text)',
                )
            if set(c) != {"id", "label"} or not isinstance(c["label"], str):
                # {id: x, label: Yes, 6 months ago} is read as label True plus a key
                # "6 months ago": the client saw "True" for three different choices.
                fail(
                    where,
                    f"choice '{c['id']}': its 'label' must be one text, in double "
                    "quotes when it holds a comma or a colon, and a choice has only "
                    "'id' and 'label'",
                )
        ids = [c["id"] for c in choices]
        if len(set(ids)) != len(ids):
            fail(where, "duplicate choice id")
        labels = [c["label"].strip().casefold() for c in choices]
        if len(set(labels)) != len(labels):
            fail(where, "two choices have the same label: the client could not tell them apart")
    elif choices:
        fail(where, f"a {qtype} question cannot have choices")
    fmt = raw.get("format")
    if fmt is not None and (qtype != "text" or fmt not in FORMATS):
        fail(
            where,
            f"format '{fmt}' is not known for a {qtype} question (text: {', '.join(FORMATS)})",
        )
    show_if = raw.get("show_if") or {}
    if not isinstance(show_if, dict):
        fail(
            where,
            "show_if must map a question id to a value, e.g. {cold_sores: true}, "
            "{treatment_areas: {includes: other}} or {age: {under: 18}}",
        )
    return Question(
        id=qid,
        type=qtype,
        label=str(raw["label"]),
        section=sid,
        short=str(raw.get("short") or ""),
        help=str(raw.get("help") or ""),
        required=bool(raw.get("required")),
        choices=tuple(Choice(c["id"], str(c["label"])) for c in choices),
        show_if=dict(show_if),
        not_future=bool(raw.get("not_future")),
        not_past=bool(raw.get("not_past")),
        min_selected=int(raw.get("min_selected") or 0),
        must_be_true=bool(raw.get("must_be_true")),
        matches=raw.get("matches"),
        autocomplete=raw.get("autocomplete"),
        inputmode=raw.get("inputmode"),
        on_review=bool(raw.get("on_review")),
        format=fmt,
    )
