"""Pre-treatment screening for fractional CO2 laser resurfacing."""

from __future__ import annotations

import os

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from . import (
    appointments_cli,
    cli,
    config,
    content,
    health,
    housekeeping,
    i18n,
    invitations,
    printing,
    startup,
    store,
    vocab,
    web,
)
from .client.routes import bp as client_bp
from .output import display
from .staff import exports as _staff_exports  # noqa: F401 - its views join the staff blueprint
from .staff import rules_page as _staff_rules_page  # noqa: F401 - likewise
from .staff.auth import login_manager
from .staff.routes import bp as staff_bp
from .staff.two_factor_views import bp as two_factor_bp

csrf = CSRFProtect()


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings, the questionnaire and rules (checked now), the database
    (checked now, unless built in code from a test_config), blueprints, CLI."""
    app = Flask(__name__, instance_relative_config=True, template_folder=str(config.TEMPLATES))
    app.config.from_mapping(config.defaults(app.instance_path))
    if test_config is None:
        startup.read_config_file(app)
        app.config.from_prefixed_env("SCREENING")
    else:
        app.config.from_mapping(test_config)
    _finish_config(app)
    try:
        content.load(app)
    except content.ContentError as exc:
        _stop(str(exc))
    check = test_config is None or bool(test_config.get("STARTUP_CHECKS"))
    if check and startup.needs_database():
        startup.check_database(app)

    store.init_app(app)
    startup.init_app(app, check=check and startup.needs_database())
    content.init_app(app)
    health.init_app(app)
    housekeeping.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app)
    web.init_app(app)
    app.jinja_env.globals.update(vocab.jinja_globals())
    display.init_app(app)
    app.register_blueprint(client_bp)
    login_manager.init_app(app)
    app.register_blueprint(staff_bp)
    app.register_blueprint(two_factor_bp)
    cli.init_app(app)
    appointments_cli.init_app(app)
    invitations.init_app(app)
    printing.init_app(app)
    return app


def _finish_config(app: Flask) -> None:
    config.resolve_paths(app.config)
    key = app.config.get("SECRET_KEY")
    if key is not None and not isinstance(key, (str, bytes)):
        # SCREENING_* values are parsed as JSON, so an all-digit key arrives as a number
        # (and every page would fail to sign its cookie): take the text as it was set.
        app.config["SECRET_KEY"] = os.environ.get("SCREENING_SECRET_KEY", str(key))
    if not app.config.get("SECRET_KEY") and startup.command() != "rules":
        _stop(
            "no SECRET_KEY: run `make run` (it writes instance/config.py), or set "
            "SCREENING_SECRET_KEY"
        )
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config["HTTPS"])
    app.config["PREFERRED_URL_SCHEME"] = "https" if app.config["HTTPS"] else "http"


def _stop(message: str) -> None:
    """Stop start-up with one clear message and no traceback."""
    startup.stop(message)
