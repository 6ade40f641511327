"""Pre-treatment screening for fractional CO2 laser resurfacing."""

from __future__ import annotations

import datetime as dt
import os

from flask import Flask, current_app
from flask_wtf.csrf import CSRFProtect

from . import config, db, questionnaire

csrf = CSRFProtect()


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings, the questionnaire and rules (checked now), blueprints, CLI."""
    app = Flask(
        __name__, instance_relative_config=True, template_folder=str(config.ROOT / "templates")
    )
    app.config.from_mapping(config.defaults(app.instance_path))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("SCREENING")
    else:
        app.config.from_mapping(test_config)
    _finish_config(app)
    _load_content(app)

    db.init_app(app)
    csrf.init_app(app)
    from . import web

    web.init_app(app)
    from .client.routes import bp as client_bp

    app.register_blueprint(client_bp)
    from .staff.auth import login_manager
    from .staff.routes import bp as staff_bp

    login_manager.init_app(app)
    app.register_blueprint(staff_bp)
    from . import cli

    cli.init_app(app)
    return app


def _finish_config(app: Flask) -> None:
    key = app.config.get("SECRET_KEY")
    if key is not None and not isinstance(key, (str, bytes)):
        # SCREENING_* values are parsed as JSON, so an all-digit key arrives as a number
        # (and every page would fail to sign its cookie): take the text as it was set.
        app.config["SECRET_KEY"] = os.environ.get("SCREENING_SECRET_KEY", str(key))
    if not app.config.get("SECRET_KEY"):
        _stop(
            "no SECRET_KEY: run `make run` (it writes instance/config.py), or set "
            "SCREENING_SECRET_KEY"
        )
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config["HTTPS"])
    app.config["PREFERRED_URL_SCHEME"] = "https" if app.config["HTTPS"] else "http"


def _load_content(app: Flask) -> None:
    """Load questionnaire.yaml and rules.yaml once; a problem stops start-up with its message."""
    try:
        app.extensions["questionnaire"] = questionnaire.load(app.config["QUESTIONNAIRE_PATH"])
    except questionnaire.QuestionnaireError as exc:
        _stop(str(exc))
    from . import rules

    try:
        app.extensions["rules"] = rules.load(
            app.config["RULES_PATH"], app.extensions["questionnaire"]
        )
    except rules.RulesError as exc:
        _stop(str(exc))


def _stop(message: str) -> None:
    """Stop start-up with one clear message and no traceback."""
    raise SystemExit(f"screening: cannot start: {message}")


def current_questionnaire() -> questionnaire.Questionnaire:
    return current_app.extensions["questionnaire"]


def current_rules():
    return current_app.extensions["rules"]


def today() -> dt.date:
    """The clinic's today (the server's local date)."""
    return dt.date.today()
