"""What every response carries: security headers, no caching of pages, polite error pages."""

from __future__ import annotations

import io
import json
import logging
import traceback
from pathlib import Path

from flask import Flask, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix

from .store import errors as store_errors

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
# No page uses the camera, the microphone or the location: a script that got in cannot either.
PERMISSIONS = "camera=(), microphone=(), geolocation=()"

# The words of an error page, in the page's language (a client's, or the clinic's on staff
# pages): lazy, so each is translated when the page is rendered.
ERRORS = {
    400: (
        _l("This page could not be used"),
        _l(
            "The form may have expired or been sent twice. Go back to the start and try again: "
            "answers you already saved are kept."
        ),
    ),
    403: (
        _l("Not allowed"),
        _l("Your account cannot open this page. Ask a clinic administrator if you need it."),
    ),
    404: (
        _l("Page not found"),
        _l("The address may be mistyped, or the page was moved. Use the links below."),
    ),
    405: (
        _l("This page cannot be opened this way"),
        _l(
            "The address may come from a bookmark or an old form. Use the links below to "
            "continue: answers you already saved are kept."
        ),
    ),
    413: (
        _l("Too much text"),
        _l("What you sent is larger than we accept. Shorten your answers and try again."),
    ),
    429: (
        _l("Please wait a little"),
        _l(
            "Many questionnaires were started or sent from this network in the last hour, so "
            "we are pausing new ones for a while. Please try again later, or ask the front "
            "desk for help."
        ),
    ),
    500: (
        _l("Something went wrong on our side"),
        _l(
            "Your saved answers are safe. Please try again in a minute, or ask the front desk "
            "for help."
        ),
    ),
}


def security_headers(response):
    """Lock pages down: no framing, no sniffing, no referrer, no caching of health data."""
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "no-referrer"
    h["X-Frame-Options"] = "DENY"
    h["Permissions-Policy"] = PERMISSIONS
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint != "static":
        h["Cache-Control"] = "no-store"
    if current_app.config["HTTPS"]:
        h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def error_page(code: int):
    title, text = ERRORS.get(code, ERRORS[500])
    return render_template("error.html", code=code, title=title, text=text), code


def handle_http_error(exc: HTTPException):
    if exc.code is None or exc.code < 400:
        return exc
    body, code = error_page(exc.code)
    # Keep what the protocol requires the error to carry (Allow on a 405), not its body.
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    return body, code, headers


def handle_csrf_error(exc: CSRFError):
    return error_page(400)


# What a client sees when the database cannot take their answers; staff see the class.
DATABASE_CLIENT = (
    _l("We cannot save right now"),
    _l("Your earlier answers are safe. Please tell the front desk."),
)


def database_error_page(problem: store_errors.Problem):
    """A database failure by class: a client is told their earlier answers are safe and to
    tell the front desk; staff are told what failed and what to do. The page never asks who
    is logged in (that needs the database too)."""
    staff = request.blueprint == "staff"
    if staff:
        title, text = f"The database cannot be used right now: {problem.name}", problem.staff
    else:
        title, text = DATABASE_CLIENT
    body = render_template("error_database.html", code=503, title=title, text=text, staff=staff)
    return body, 503, {"Retry-After": "60"}


def handle_unexpected(exc: Exception):
    """Log the failure (type and place, never form data) and show the polite 500 page; a
    database failure is logged by class (disk full, read-only, locked, corrupt, I/O error)
    and gets its own page."""
    if isinstance(exc, HTTPException):
        return handle_http_error(exc)
    # The exception's message may quote form data, so log where it happened, not what it said.
    frames = traceback.extract_tb(exc.__traceback__)[-5:]
    where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    problem = store_errors.classify(exc)
    integrity = current_app.extensions.get("integrity")
    if problem is not None and integrity is not None and integrity.failed:
        problem = store_errors.CORRUPT  # writes are refused because the file is damaged
    if problem is not None:
        log.error(
            "database %s (%s) on %s %s at %s",
            problem.name,
            problem.sqlite or "-",
            request.method,
            request.endpoint,
            where,
        )
        return database_error_page(problem)
    code = store_errors.sqlite_name(exc)
    log.error(
        "unhandled %s%s on %s %s at %s",
        type(exc).__name__,
        f" ({code})" if code else "",
        request.method,
        request.endpoint,
        where,
    )
    return error_page(500)


def described_by(question, field) -> str:
    """The ids of a question's hint and error message, for aria-describedby."""
    ids = []
    if question.help:
        ids.append(question.id + "-hint")
    if field.errors:
        ids.append(question.id + "-error")
    return " ".join(ids)


def show_if_json(question) -> str:
    """A question's show_if as the values its fields post, for the reveal script: {"a_question":
    "yes"} (a field's value) or {"a_list": {"includes": "a_choice"}} (a checked box).
    Empty when the page has nothing to watch (an age condition): the server decides alone."""
    reveals = [condition.reveal() for condition in question.conditions]
    if not reveals or None in reveals:
        return ""
    return json.dumps(dict(reveals))


class FormBody:
    """Read a form post's body before werkzeug does, so that every post gets a real answer.

    - A body sent without a Content-Length (chunked) is held to MAX_CONTENT_LENGTH too:
      werkzeug would cut it off at the limit, silently, and parse whatever fitted. Read up
      to one byte past the limit; beyond it the app sees a length over the limit and
      answers with its 413 page, as for any large body.
    - A url-encoded body holding bytes that are not UTF-8 (no browser sends them; a tampered
      post can) makes werkzeug drop the whole form, CSRF token included: the client got a
      400 "page could not be used" instead of a field error. Such bytes become U+FFFD, so
      the form is read and each field judged on its own.
    """

    def __init__(self, wsgi_app, app: Flask):
        self.wsgi_app, self.app = wsgi_app, app

    def __call__(self, environ, start_response):
        limit = self.app.config.get("MAX_CONTENT_LENGTH")
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        urlencoded = (
            environ.get("CONTENT_TYPE", "").lower().startswith("application/x-www-form-urlencoded")
        )
        if limit is not None and chunked and environ.get("wsgi.input_terminated"):
            body = _read_at_most(environ["wsgi.input"], limit + 1)
            self._replace(environ, body if len(body) <= limit else b"", len(body))
            del environ["wsgi.input_terminated"]
            environ.pop("HTTP_TRANSFER_ENCODING", None)  # else werkzeug ignores the length
        if (
            urlencoded
            and _length(environ) is not None
            and (limit is None or _length(environ) <= limit)
        ):
            body = _read_at_most(environ["wsgi.input"], _length(environ))
            readable = body.decode("utf-8", "replace").encode("utf-8")
            self._replace(environ, readable, len(readable))
        return self.wsgi_app(environ, start_response)

    @staticmethod
    def _replace(environ, body: bytes, length: int) -> None:
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(length)


def _length(environ) -> int | None:
    try:
        return int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def _read_at_most(stream, size: int) -> bytes:
    parts, left = [], size
    while left > 0:
        chunk = stream.read(min(left, 64 * 1024))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def init_app(app: Flask) -> None:
    app.wsgi_app = FormBody(app.wsgi_app, app)
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops:  # the client's address (the login lockout's key) as the proxy saw it
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.jinja_env.globals["has_endpoint"] = lambda endpoint: endpoint in app.view_functions
    app.jinja_env.globals["show_if_json"] = show_if_json
    app.jinja_env.globals["described_by"] = described_by
    app.after_request(security_headers)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
    # Browsers and tools that ignore <link rel="icon"> still ask for /favicon.ico.
    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("img/icon.svg"))
