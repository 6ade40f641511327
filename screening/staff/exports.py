"""Staff downloads: the queue as a CSV (the queue's own filters) and one submission's FHIR
JSON. Each is audited with its filters and row count, never its content."""

from __future__ import annotations

from flask import Response, abort, current_app, request, session

from ..content import questionnaire, rules, today
from ..output import csv as csv_output
from ..output import fhir
from ..store import get_db
from ..store.exports import Filters, open_snapshot
from ..store.submissions import get_submission
from .auth import audit, role_required
from .forms import QueueFilterForm
from .routes import ID, bp


@bp.get("/queue.csv")
@role_required("provider")
def queue_csv():
    """The queue's rows under its current filters (and name search), as a spreadsheet."""
    form = QueueFilterForm(request.args)
    valid = form.validate()  # as on the queue page: invalid dates are left out
    chosen = Filters(
        outcome=form.outcome.data or None,
        decided=form.decided.data or "no",
        since=form.since.data if valid else None,
        until=form.until.data if valid else None,
        name=session.get("search_queue") or None,
    )
    snap = open_snapshot(current_app.config["DATABASE"])
    try:
        count = snap.count(chosen)
        audit("export_csv", detail=f"{chosen.describe()} rows={count}")
        body = csv_output.chunks(snap.export_rows(chosen), questionnaire())
    except BaseException:
        snap.close()
        raise
    response = Response(body, mimetype="text/csv")
    response.call_on_close(snap.close)  # the rows stream from the snapshot until sent
    name = csv_output.filename(today())
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get(f"/submissions/<{ID}:submission_id>/fhir.json")
@role_required("provider")
def submission_fhir(submission_id: int):
    """One submission as a FHIR Bundle: Patient, QuestionnaireResponse, RiskAssessment."""
    sub = get_submission(get_db(), submission_id)
    if sub is None:
        abort(404)
    audit("export_fhir", submission_id=submission_id, detail="rows=1")
    data = fhir.bundle([sub], questionnaire(), fhir.rule_titles(rules()))
    response = Response(fhir.dumps(data), mimetype=fhir.JSON)
    filename = f"submission-{submission_id}.fhir.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
