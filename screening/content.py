"""The clinical content in force: the questionnaire (loaded and checked at start-up), the
rules (the same, then looked at again while the app runs), and the clinic's today.

Views, the CLI and the output layer ask here instead of reaching into the app.

A changed rules.yaml takes effect without a restart: each worker hashes the file at most
every RULES_CHECK_SECONDS and, when it changed, loads it if it passes the checks of
`flask --app screening rules check`; the change is logged and audited with both versions.
A file that fails them is not used: the worker keeps judging with the rules it has, and
every staff page shows the file's first problem until it is fixed.

The clients' texts in other languages are looked at the same way: rules.<lang>.yaml with
the rules, and questionnaire.<lang>.yaml on its own (its ids must match the questionnaire
in force, which itself is read at start-up only). A translation fixed in one of them
reaches clients without a restart; a broken one keeps the texts in force.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from pathlib import Path

from flask import Flask, current_app, has_app_context

from . import i18n, localized
from . import questionnaire as questionnaire_module
from . import rules as rules_module
from .store import errors as store_errors
from .store import get_db, rules_changes

log = logging.getLogger(__name__)


class ContentError(Exception):
    """questionnaire.yaml or rules.yaml cannot be used; the message names file, line, reason."""


def load(app: Flask) -> None:
    """Load questionnaire.yaml and rules.yaml into the app; raise ContentError on a problem."""
    others = other_languages(app.config)
    qn_path = Path(app.config["QUESTIONNAIRE_PATH"])
    texts_seen = _files_hash(_beside_all(qn_path, others))  # before loading, as below
    qn = load_questionnaire(qn_path, others)
    path = Path(app.config["RULES_PATH"])
    # Before loading: an edit in between is noticed at the next look.
    seen = _files_hash([path, *_beside_all(path, others)])
    try:
        ruleset = rules_module.load(path, qn, others)
    except rules_module.RulesError as exc:
        raise ContentError(str(exc)) from None
    app.extensions["rules_in_force"] = RulesInForce(
        ruleset, qn, seen, float(app.config.get("RULES_CHECK_SECONDS", 3)), others
    )
    app.extensions["rules_in_force"].watch_texts(qn_path, texts_seen)
    app.extensions["rules"] = ruleset
    app.extensions["questionnaire"] = qn


def _file_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _files_hash(paths) -> str:
    """One hash for several files (a missing one counts as missing, not as empty)."""
    return hashlib.sha256(repr([_file_hash(Path(p)) for p in paths]).encode()).hexdigest()


def _beside_all(path: Path, languages) -> list[Path]:
    return [localized.beside(path, language) for language in languages]


class RulesInForce:
    """The rules this process judges with, and the file they came from, looked at again at
    most every `every` seconds (by the sha256 of its bytes)."""

    def __init__(
        self, ruleset: rules_module.RuleSet, qn, seen: str | None, every: float, languages=()
    ) -> None:
        self.ruleset = ruleset
        self.languages = tuple(languages)
        self.questionnaire = qn
        self.path = ruleset.path
        self.seen = seen  # the hash of the file as last read, in force or not
        self.every = every
        self.checked = time.monotonic()
        self.problem: str | None = None  # the first problem of a file that cannot be used
        self.problem_count = 0
        self.problem_file = self.path.name  # the file that has it: rules.yaml, rules.es.yaml
        # questionnaire.<lang>.yaml: looked at with the rules (watch_texts), its own problem
        self.texts_path: Path | None = None
        self.texts_seen: str | None = None
        self.texts_problem: str | None = None
        self.texts_problem_file = ""
        self.unaudited: list[tuple[rules_module.RuleSet, rules_module.RuleSet]] = []
        self._lock = threading.Lock()
        self._audit_lock = threading.Lock()
        self._audit_failed_at: float | None = None

    def watch_texts(self, questionnaire_path: Path, seen: str) -> None:
        """Look at questionnaire.<lang>.yaml beside `questionnaire_path` too."""
        self.texts_path, self.texts_seen = Path(questionnaire_path), seen

    def refresh(self) -> None:
        """Look at the files if it is time; load changed files that pass the checks."""
        if time.monotonic() - self.checked < self.every:
            return
        if not self._lock.acquire(blocking=False):
            return  # another thread of this worker is looking at it right now
        try:
            self.checked = time.monotonic()
            seen = _files_hash([self.path, *_beside_all(self.path, self.languages)])
            if seen != self.seen:
                self.seen = seen
                self._load()
            if self.texts_path is not None and self.languages:
                texts_seen = _files_hash(_beside_all(self.texts_path, self.languages))
                if texts_seen != self.texts_seen:
                    self.texts_seen = texts_seen
                    self._load_texts()
        finally:
            self._lock.release()

    def _load_texts(self) -> None:
        """questionnaire.<lang>.yaml changed: its texts replace those in force, all at once
        (one assignment), when every one is there."""
        try:
            translations = {
                language: localized.translate_questionnaire(
                    self.questionnaire, localized.beside(self.texts_path, language), language
                )
                for language in self.languages
            }
        except questionnaire_module.QuestionnaireError as exc:
            self.texts_problem = str(exc)
            self.texts_problem_file = _file_named(self.texts_problem, self.texts_path.name)
            log.error(
                "%s changed but cannot be used (%s); clients still read the texts in force",
                self.texts_problem_file,
                self.texts_problem,
            )
            return
        self.texts_problem = None
        self.questionnaire.translations = translations
        log.warning("%s: the clients' texts changed and are taken up", self.texts_path.name)

    def _load(self) -> None:
        try:
            new = rules_module.load(self.path, self.questionnaire, self.languages)
        except rules_module.RulesError as exc:
            self.problem, self.problem_count = exc.problems[0], len(exc.problems)
            self.problem_file = _file_named(self.problem, self.path.name)
            log.error(
                "%s changed but cannot be used (%d problem%s, the first: %s); still judging "
                "with rules version %s",
                self.path,
                self.problem_count,
                "s" * (self.problem_count != 1),
                self.problem,
                self.ruleset.version[:12],
            )
            return
        old, self.problem, self.problem_count = self.ruleset, None, 0
        if new.version == old.version:
            # The rules are the text in force (a broken edit undone, or only a language
            # file changed): the clients' texts are taken up, nothing to audit.
            if new.client_texts != old.client_texts:
                self.ruleset = new
                log.warning("%s: the clients' texts in other languages changed", self.path)
            return
        self.ruleset = new
        self.unaudited.append((old, new))
        log.warning(
            "%s changed: now judging with rules version %s (%d rules), was %s",
            self.path,
            new.version[:12],
            len(new.rules),
            old.version[:12],
        )

    def audit_changes(self, db) -> None:
        """Audit the changes this worker loaded; one that cannot be written yet (a full
        disk) is logged by class and tried again every `every` seconds."""
        failed = self._audit_failed_at
        if failed is not None and time.monotonic() - failed < self.every:
            return
        if not self._audit_lock.acquire(blocking=False):
            return
        try:
            while self.unaudited:
                old, new = self.unaudited[0]
                try:
                    rules_changes.record(db, old, new)
                except Exception as exc:
                    problem = store_errors.classify(exc)
                    if problem is None:
                        raise
                    self._audit_failed_at = time.monotonic()
                    log.error(
                        "the rules change %s -> %s is not audited yet: database %s (%s)",
                        old.version[:12],
                        new.version[:12],
                        problem.name,
                        problem.sqlite,
                    )
                    return
                self.unaudited.pop(0)
                self._audit_failed_at = None
        finally:
            self._audit_lock.release()


def _file_named(problem: str, default: str) -> str:
    """The file a problem names ("…/rules.es.yaml: rule x: …" -> "rules.es.yaml")."""
    first = problem.split(":", 1)[0]
    return Path(first).name if first.endswith((".yaml", ".yml")) else default


def rules_in_force() -> RulesInForce:
    return current_app.extensions["rules_in_force"]


def _refresh_rules() -> None:
    """Before each request: take up a changed rules file, and audit what was taken up."""
    state = rules_in_force()
    state.refresh()
    current_app.extensions["rules"] = state.ruleset
    if state.unaudited:
        state.audit_changes(get_db())


def init_app(app: Flask) -> None:
    app.before_request(_refresh_rules)
    app.jinja_env.globals["rules_in_force"] = rules_in_force


def other_languages(config) -> list[str]:
    """The languages clients may choose besides the clinic's own (SCREENING_LANGUAGES)."""
    return i18n.languages(config)[1:]


def load_questionnaire(path, languages=()) -> questionnaire_module.Questionnaire:
    """The questionnaire, with its texts in each of `languages` (questionnaire.<lang>.yaml)."""
    try:
        qn = questionnaire_module.load(path)
        qn.translations = {
            language: localized.translate_questionnaire(
                qn, localized.beside(path, language), language
            )
            for language in languages
        }
    except questionnaire_module.QuestionnaireError as exc:
        raise ContentError(str(exc)) from None
    return qn


def questionnaire() -> questionnaire_module.Questionnaire:
    """The questionnaire in force."""
    return current_app.extensions["questionnaire"]


def client_questionnaire() -> questionnaire_module.Questionnaire:
    """The questionnaire in the language of this client's pages."""
    return questionnaire().in_language(i18n.client_language())


def rules() -> rules_module.RuleSet:
    """The rules in force in this worker (a changed file is taken up before each request,
    at most every RULES_CHECK_SECONDS)."""
    return current_app.extensions["rules_in_force"].ruleset


def today() -> dt.date:
    """The clinic's today: the server's local date, or SCREENING_TODAY when set (tests,
    demos, and judging answers as on another day)."""
    if has_app_context():
        fixed = current_app.config.get("TODAY")
        if fixed:
            return fixed if isinstance(fixed, dt.date) else dt.date.fromisoformat(str(fixed))
    return dt.date.today()
