"""Every print the staff can ask for, in one place: one client's summary, a day's batch
(the day page's button, confirmed above MAX_UNCONFIRMED clients), the clients a name search
left on a day list, and chosen ids. All of them print the stored summaries
(screening/printing.py) behind a fresh cover; each is audited once, when its PDF goes out.

A batch asked for at /staff/print/... that is not ready at once answers with a page that
says how many are ready and refreshes itself (no JavaScript) until the PDF can be joined.
That page is stateless: progress is counted from the store, so a refresh answered by
another server process shows the same thing. The day page's own button and a name search's
print answer with the PDF itself (the missing summaries rendered over every core first).
"""

from __future__ import annotations

import datetime as dt
import re

from flask import abort, current_app, render_template, request, url_for

from .. import printing
from ..output import pdf
from ..output.display import long_date
from ..store import get_db
from ..store.lists import SQLITE_MAX, clients_by_ids, day_clients
from ..store.submissions import get_submission
from .auth import audit, role_required
from .blueprint import ID, bp

MAX_UNCONFIRMED = 10  # a batch of more clients than this asks for confirmation first
MAX_IDS = 500  # ids in one chosen or selected batch (a day list is far shorter)
REFRESH_SECONDS = 1


# What a day list offers ----------------------------------------------------------------------


def print_link(day: dt.date, clients: list[dict], searched: bool) -> dict | None:
    """The day list's print button: what it prints is what the list shows."""
    if not clients:
        return None
    count = len(clients)
    if count == 1:
        url = url_for("staff.summary_pdf", submission_id=clients[0]["id"])
        return {"url": url, "label": "Print this summary (PDF)", "count": 1}
    if searched:
        url = url_for("staff.selected_pdf", day=day.isoformat(), id=[c["id"] for c in clients])
        label = f"Print these {count} summaries (PDF)"
    else:
        url = url_for("staff.day_pdf", day=day.isoformat())
        label = f"Print all {count} summaries (PDF)"
    return {"url": url, "label": label, "count": count}


def confirm_print(day: dt.date, count: int, url: str):
    """Ask before a large batch: many clients' health information on paper at once."""
    return render_template("staff/print_confirm.html", day=day, count=count, url=url)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        abort(404)


# The views -----------------------------------------------------------------------------------


@bp.get(f"/submissions/<{ID}:submission_id>/summary.pdf")
@role_required("front_desk")
def summary_pdf(submission_id: int):
    """One client's PDF summary, for the front desk and providers."""
    db = get_db()
    data = printing.summary(db, submission_id)  # stored while current, else rendered now
    if data is None:
        abort(404)
    audit("print_summary", submission_id=submission_id)
    return pdf.pdf_response(data, pdf.summary_filename(get_submission(db, submission_id)))


@bp.get("/day/<day>.pdf")
@role_required("front_desk")
def day_pdf(day: str):
    """The day page's button: that day's batch, confirmed first above MAX_UNCONFIRMED."""
    chosen = _day(day)
    ids = [row["id"] for row in day_clients(get_db(), chosen)]
    if len(ids) > MAX_UNCONFIRMED and request.args.get("confirmed") != "1":
        return confirm_print(chosen, len(ids), url_for("staff.day_pdf", day=day, confirmed=1))
    return send_batch(ids, day=chosen)


@bp.get("/day/<day>/selected.pdf")
@role_required("front_desk")
def selected_pdf(day: str):
    """The summaries of the clients a name search left on a day list, behind a cover."""
    chosen = _day(day)
    texts = request.args.getlist("id")
    if not texts or len(texts) > MAX_IDS or not all(re.fullmatch(r"[0-9]{1,19}", t) for t in texts):
        abort(404)
    ids = list(dict.fromkeys(int(t) for t in texts))
    if any(i > SQLITE_MAX for i in ids):
        abort(404)
    if len(ids) > MAX_UNCONFIRMED and request.args.get("confirmed") != "1":
        url = url_for("staff.selected_pdf", day=day, id=ids, confirmed=1)
        return confirm_print(chosen, len(ids), url)
    on_day = [row["id"] for row in clients_by_ids(get_db(), ids, chosen)]  # in the list's order
    heading = f"Clients for {long_date(chosen)} matching a name search"
    return send_batch(on_day, selected=chosen, heading=heading)


@bp.get("/print/day/<day>")
@role_required("front_desk")
def print_day(day: str):
    """A day's batch, with the progress page while its summaries are prepared."""
    chosen = _day(day)
    ids = [row["id"] for row in day_clients(get_db(), chosen)]
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
    if not ids or len(ids) > MAX_IDS or any(i < 1 or i > SQLITE_MAX for i in ids):
        message = f"ids: give 1 to {MAX_IDS} submission numbers separated by commas."
        return message, 400, {"Content-Type": "text/plain; charset=utf-8"}
    return print_batch(ids)


# Batches ---------------------------------------------------------------------------------------


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
        page = render_template(
            "staff/preparing.html",
            total=len(ids),
            ready=len(ids) - len(absent),
            preparing=len(absent),
            refresh=REFRESH_SECONDS,
            again=request.full_path.rstrip("?"),
        )
        return page, 200, {"Cache-Control": "no-store", "Refresh": str(REFRESH_SECONDS)}
    return send_batch(ids, day=day)


def send_batch(
    submission_ids: list[int],
    day: dt.date | None = None,
    selected: dt.date | None = None,
    heading: str | None = None,
):
    """Join the batch (missing summaries rendered now, over every core), audit it once with
    the ids it holds, and send it. `day`: a whole day's batch (audited as print_day);
    `selected`: the day a name search's clients are from."""
    db = get_db()
    ids = printing.printable(db, submission_ids)
    if not ids:
        abort(404)
    data = printing.batch_pdf(db, ids, day, heading=heading)
    listed = ",".join(map(str, ids))
    if day is not None:
        audit("print_day", detail=f"{day.isoformat()}: {listed}")
        return pdf.pdf_response(data, pdf.day_filename(day))
    if selected is not None:
        audit("print_batch", detail=f"{selected.isoformat()}: {listed}")
        return pdf.pdf_response(data, pdf.batch_filename(selected, len(ids)))
    audit("print_batch", detail=listed)
    return pdf.pdf_response(data, pdf.summaries_filename(len(ids)))
