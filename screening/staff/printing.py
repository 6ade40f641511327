"""Printing a batch without a blank wait: the PDF at once when every summary is stored,
else a page that says how many are ready and refreshes itself (no JavaScript) until the
PDF can be joined. The page is stateless: progress is counted from the store, so a refresh
answered by another server process shows the same thing."""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, render_template, request

from .. import printing
from ..output import pdf
from ..store import get_db, lists
from ..store.lists import day_clients
from .auth import audit, role_required
from .routes import bp

MAX_IDS = 500  # a batch longer than this is a mistake, not a day's printing
REFRESH_SECONDS = 1


@bp.get("/print/day/<day>")
@role_required("front_desk")
def print_day(day: str):
    """A day's batch: its cover then each of that day's summaries."""
    try:
        chosen = dt.date.fromisoformat(day)
    except ValueError:
        abort(404)
    ids = [row["id"] for row in day_clients(get_db(), chosen)]
    if not ids:
        abort(404)
    return print_batch(ids, chosen)


@bp.get("/print")
@role_required("front_desk")
def print_chosen():
    """A batch of chosen submissions, in the order given: ?ids=12,15,9."""
    text = request.args.get("ids", "")
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        ids = []
    if not ids or len(ids) > MAX_IDS or any(i < 1 or i > lists.SQLITE_MAX for i in ids):
        message = f"ids: give 1 to {MAX_IDS} submission numbers separated by commas."
        return message, 400, {"Content-Type": "text/plain; charset=utf-8"}
    return print_batch(ids)


def print_batch(submission_ids: list[int], day: dt.date | None = None):
    """The batch PDF when every summary is ready (one missing is rendered on the spot),
    else the progress page while the rest are prepared over every core."""
    db = get_db()
    ids = printing.printable(db, submission_ids)
    if not ids:
        abort(404)
    absent = printing.missing(db, ids)
    if len(absent) > 1:
        printing.start_preparing(current_app._get_current_object(), db, absent)
        ready = len(ids) - len(absent)
        page = render_template(
            "staff/preparing.html",
            total=len(ids),
            ready=ready,
            preparing=len(absent),
            refresh=REFRESH_SECONDS,
            again=request.full_path.rstrip("?"),
        )
        return page, 200, {"Cache-Control": "no-store", "Refresh": str(REFRESH_SECONDS)}
    data = printing.batch_pdf(db, ids, day)
    if day is not None:
        audit("print_day", detail=f"{day.isoformat()}: {','.join(map(str, ids))}")
        return pdf.pdf_response(data, pdf.day_filename(day))
    audit("print_batch", detail=",".join(map(str, ids)))
    return pdf.pdf_response(data, pdf.summaries_filename(len(ids)))
