"""Staff PDF summaries: HTML templates rendered by WeasyPrint, fetching nothing but our CSS.

Client text reaches the PDF only through Jinja's autoescaping; behind that, the URL fetcher
serves files from the app's own static folder and refuses every other URL, so a name such
as <img src="file:///etc/passwd"> can never read a file or call a server.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import logging
import mimetypes
import re
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import Response, current_app, render_template

from ..content import questionnaire, rules, today
from ..questionnaire import age_on
from ..store import now
from ..store.decisions import history
from ..store.lists import day_clients
from ..store.submissions import get_submission
from ..store.summaries import latest_decision
from .display import answers_read, local_time, now_local

_lock = threading.Lock()
STATIC = (Path(__file__).parent.parent / "static").resolve()
PRINT_CSS = STATIC / "css" / "print.css"


class WithholdArguments(logging.Filter):
    """Keep a WeasyPrint message's wording, drop what it quotes: a glyph it cannot draw is a
    character of a client's name or note, and other messages quote the document too."""

    PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[a-zA-Z%]")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = self.PLACEHOLDER.sub(
                lambda m: "%" if m.group() == "%%" else "[withheld]", str(record.msg)
            )
            record.args = ()
        record.exc_info, record.exc_text = None, None  # a traceback may quote them too
        return True


# WeasyPrint reports each rendering step at INFO and each undrawable glyph at WARNING (the
# character itself): only warnings and errors, without their arguments, reach the logs.
for _name in ("weasyprint", "weasyprint.progress"):
    logging.getLogger(_name).setLevel(logging.WARNING)
    logging.getLogger(_name).addFilter(WithholdArguments())


class RefusedURL(ValueError):
    """A URL the PDF renderer must not fetch."""


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Serve file:// URLs inside screening/static; refuse everything else, redirects too."""

        def __init__(self):
            super().__init__(allowed_protocols={"file"}, allow_redirects=False, timeout=1)

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
                raise RefusedURL("only the app's own static files may be fetched")
            path = Path(unquote(parts.path)).resolve()
            if not path.is_relative_to(STATIC) or not path.is_file():
                raise RefusedURL("only the app's own static files may be fetched")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                path.as_uri(), body=path.read_bytes(), headers={"Content-Type": mime}
            )

    return StaticOnlyFetcher


@lru_cache(maxsize=1)
def _renderer():
    """WeasyPrint pieces built once per process: fonts, the fetcher, the print stylesheet."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    fetcher = _fetcher_class()()
    css = CSS(
        string=PRINT_CSS.read_text(encoding="utf-8"),
        base_url=STATIC.as_uri() + "/",
        url_fetcher=fetcher,
        font_config=fonts,
    )
    return fonts, fetcher, css


def css_string(text: str) -> str:
    """`text` as a CSS string literal: quotes, backslashes and control characters escaped."""
    return (
        '"'
        + "".join(c if c.isprintable() and c not in '"\\' else f"\\{ord(c):x} " for c in text)
        + '"'
    )


def page_css(size: str, clinic: str, prepared: str) -> str:
    """The page size and each page's header: the clinic's name and when the PDF was prepared
    (a summary is rendered ahead and printed later: the time it shows is its render's)."""
    size = "A4" if str(size).upper() == "A4" else "Letter"
    return (
        f"@page {{ size: {size}; @top-left {{ content: {css_string(clinic)}; }} "
        f"@top-right {{ content: {css_string('Prepared ' + prepared)}; }} }}"
    )


def render(html: str, prepared: str | None = None) -> bytes:
    """HTML -> PDF bytes with our fetcher, fonts and print CSS (page size from config);
    `prepared` is the stored time the header shows (default: now)."""
    from weasyprint import CSS, HTML

    fonts, fetcher, css = _renderer()
    config = current_app.config
    page = CSS(
        string=page_css(
            config["PDF_PAGE_SIZE"],
            config["CLINIC_NAME"],
            local_time(prepared) if prepared else now_local(),
        ),
        url_fetcher=fetcher,
        font_config=fonts,
    )
    with _lock, _young_garbage_only():  # the shared fonts are not made for concurrent renders
        document = HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=fetcher)
        return document.write_pdf(
            stylesheets=[css, page], font_config=fonts, presentational_hints=False
        )


@contextmanager
def _young_garbage_only():
    """No automatic garbage collection during a render, then one of what it allocated.

    A render builds a large tree of objects that live until it ends. Left to the collector,
    each growth of that tree set off a full collection that found nothing (a fifth of a
    day batch's time went to eight of them), and the tree, once garbage, was freed by a
    full collection billed to some later request (0.6 s after a 50-client batch). With
    automatic collection off, everything the render allocated stays in the youngest
    generation, so collecting that generation afterwards frees exactly the render's
    garbage without walking the rest of the heap."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect(0)
        if enabled:
            gc.enable()


def _client(db, submission: dict, on: dt.date) -> dict:
    """What the summary template needs for one client."""
    return {
        "sub": submission,
        "age": age_on(submission["date_of_birth"], on),
        "history": history(db, submission["id"]),
        "read": answers_read(submission),
    }


def summary_pdf(db, submission_id: int) -> bytes | None:
    """One client's summary, or None when there is no such submitted submission."""
    submission = get_submission(db, submission_id)
    if submission is None:
        return None
    clients = [_client(db, submission, today())]
    return render(render_template("pdf/summary.html", clients=clients, qn=questionnaire()))


LAYOUT_FILES = ("pdf/_client.html", "pdf/summary.html", "_submission.html")


@lru_cache(maxsize=8)
def _files_digest(template_folder: str) -> str:
    """The print stylesheet and summary templates as they are in this process."""
    digest = hashlib.sha256(PRINT_CSS.read_bytes())
    for name in LAYOUT_FILES:
        digest.update((Path(template_folder) / name).read_bytes())
    return digest.hexdigest()


def layout() -> str:
    """What a stored summary's look depends on besides its submission: page size, clinic
    name, stylesheet and templates, the questionnaire and the rules in force (their labels
    and references). A change to any of them makes every stored summary stale."""
    config = current_app.config
    parts = [
        str(config["PDF_PAGE_SIZE"]).upper(),
        str(config["CLINIC_NAME"]),
        _files_digest(str(current_app.template_folder)),
        str(questionnaire().version),
        str(getattr(rules(), "version", "")),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def prepare_summary(db, submission_id: int) -> dict | None:
    """Render one client's summary with what it shows, to store: {"pdf", "decision_id",
    "rules_version", "layout", "age", "prepared_at"}; None when there is no such submission.

    The latest decision is read before the history the page shows, so a decision landing
    in between makes the stored copy stale (rendered again), never wrongly current."""
    decision_id = latest_decision(db, submission_id)
    submission = get_submission(db, submission_id)
    if submission is None:
        return None
    on = today()
    prepared_at = now()
    client = _client(db, submission, on)
    data = render(
        render_template("pdf/summary.html", clients=[client], qn=questionnaire()), prepared_at
    )
    return {
        "pdf": data,
        "decision_id": decision_id,
        "rules_version": submission["rules_version"],
        "layout": layout(),
        "age": client["age"],
        "prepared_at": prepared_at,
    }


def cover_pdf(
    db, submission_ids: list[int], day: dt.date | None = None, heading: str | None = None
) -> bytes:
    """A batch's cover page(s), rendered fresh: the clients in print order, titled by their
    day, else by `heading` (a name search), else as chosen clients."""
    on = today()
    clients = []
    for submission_id in submission_ids:
        submission = get_submission(db, submission_id)
        if submission is not None:
            clients.append(
                {
                    "sub": submission,
                    "age": age_on(submission["date_of_birth"], on),
                    "history": history(db, submission_id)[:1],
                }
            )
    return render(render_template("pdf/cover.html", clients=clients, day=day, heading=heading))


def day_pdf(db, day: dt.date) -> bytes | None:
    """A day's batch: a cover listing the clients, then each summary on a new page."""
    batch = day_batch(db, day)
    return batch[0] if batch else None


def day_batch(db, day: dt.date) -> tuple[bytes, list[int]] | None:
    """A day's batch and the ids it holds (for the audit), or None for a day without any."""
    rows = day_clients(db, day)
    if not rows:
        return None
    on = today()
    clients = [_client(db, get_submission(db, row["id"]), on) for row in rows]
    html = render_template("pdf/day.html", clients=clients, day=day, qn=questionnaire())
    return render(html), [row["id"] for row in rows]


def summary_filename(submission: dict) -> str:
    """Date and id, never the client's name (file names end up in logs and download bars)."""
    return f"summary-{submission['day']}-{submission['id']}.pdf"


def day_filename(day: dt.date) -> str:
    return f"day-{day.isoformat()}.pdf"


def batch_filename(day: dt.date, count: int) -> str:
    return f"day-{day.isoformat()}-{count}-selected.pdf"


def summaries_filename(count: int) -> str:
    return f"summaries-{today().isoformat()}-{count}.pdf"


def pdf_response(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
