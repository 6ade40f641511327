"""The real app plus routes that fail on purpose, for the error-page tests only (served by
gunicorn as `failing_app:create()`): nothing is added to the production app."""

from __future__ import annotations

from flask import abort

from screening import create_app

SECRET_IN_ERROR = "Zephyrine private answer"


def create():
    app = create_app()

    @app.get("/test-only/crash")
    def crash():
        raise RuntimeError(f"a message quoting form data: {SECRET_IN_ERROR}")

    @app.get("/test-only/forbidden")
    def forbidden():
        abort(403)

    return app
