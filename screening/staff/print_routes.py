"""Printing exactly what a day list shows: one client's summary, the whole day, or the
clients a name search left; a batch of more than a few asks first."""

from __future__ import annotations

import datetime as dt
import re

from flask import abort, render_template, request, url_for

from ..output import pdf
from ..output.display import long_date
from ..store import get_db
from ..store.lists import SQLITE_MAX
from .auth import audit, role_required
from .blueprint import bp

MAX_UNCONFIRMED = 10  # a batch of more clients than this asks for confirmation first
MAX_SELECTED = 500  # ids in one selected batch (a day list is far shorter)


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


@bp.get("/day/<day>/selected.pdf")
@role_required("front_desk")
def selected_pdf(day: str):
    """The summaries of the clients a name search left on a day list, behind a cover."""
    try:
        chosen = dt.date.fromisoformat(day)
    except ValueError:
        abort(404)
    texts = request.args.getlist("id")
    if (
        not texts
        or len(texts) > MAX_SELECTED
        or not all(re.fullmatch(r"[0-9]{1,19}", t) for t in texts)
    ):
        abort(404)
    ids = list(dict.fromkeys(int(t) for t in texts))
    if any(i > SQLITE_MAX for i in ids):
        abort(404)
    if len(ids) > MAX_UNCONFIRMED and request.args.get("confirmed") != "1":
        url = url_for("staff.selected_pdf", day=day, id=ids, confirmed=1)
        return confirm_print(chosen, len(ids), url)
    batch = pdf.batch_pdf(
        get_db(), ids, f"Clients for {long_date(chosen)} matching a name search", chosen
    )
    if batch is None:
        abort(404)
    data, printed = batch
    audit("print_batch", detail=f"{chosen.isoformat()}: {','.join(map(str, printed))}")
    return pdf.pdf_response(data, pdf.batch_filename(chosen, len(printed)))
