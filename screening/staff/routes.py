"""The staff area: log in, the provider queue, a submission and its decision, the front
desk's day, the audit log and staff accounts. Every view and change is audited."""

from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from .. import printing
from ..content import questionnaire, today
from ..output import pdf
from ..output.display import answers_read, decision_text
from ..questionnaire import age_on
from ..store import audit as audit_store
from ..store import decisions, get_db, lists
from ..store import staff as staff_store
from ..store.submissions import get_submission
from ..vocab import DEFER_UNTIL
from . import accounts, devices, two_factor
from .auth import (
    audit,
    authenticate,
    begin_attempt,
    complete_login,
    end_session,
    note_attempt,
    refused_message,
    role_required,
    safe_next,
)
from .forms import (
    AuditFilterForm,
    DayForm,
    DecisionForm,
    LoginForm,
    NameSearchForm,
    NewUserForm,
    QueueFilterForm,
)
from .two_factor_views import second_step

bp = Blueprint("staff", __name__, url_prefix="/staff")
# A submission id in a URL: an int SQLite can hold (a bigger one is a 404, not a 500).
ID = f"int(max={lists.SQLITE_MAX})"


def _home():
    return url_for("staff.queue" if current_user.can("provider") else "staff.day")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in: the password, then (providers and admins) a code from an authenticator app.
    Attempts are limited for a name from an address, from an address, and for a name."""
    if current_user.is_authenticated:
        return redirect(_home())
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        username, address = form.username.data.strip(), request.remote_addr or "?"
        device = devices.known(username)
        refused = begin_attempt(username, address, device)
        if refused:
            note_attempt("login_refused", username)
            flash(refused_message(refused), "error")
            status = 429
        else:
            try:
                user = authenticate(username, form.password.data)
            except accounts.Busy:
                flash("Many logins are being checked right now. Please try again.", "error")
                return render_template("staff/login.html", form=form), 503, {"Retry-After": "2"}
            if user is None:
                note_attempt("login_failed", username)
                flash("That username and password do not match an active account.", "error")
                status = 401
            elif two_factor.needed(user):
                return second_step(user, request.args.get("next"))
            else:
                return complete_login(user, address, device, request.args.get("next"))
    elif request.method == "POST":
        status = 422
    return render_template("staff/login.html", form=form), status


@bp.post("/logout")
def logout():
    """End the session on the server, then in the browser."""
    if current_user.is_authenticated:
        audit("logout")
        end_session(current_user.session_id)
        logout_user()
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("staff.login"))


@bp.get("/")
@role_required("provider")
def queue():
    """Submitted screenings, most severe first, then waiting longest first."""
    form = QueueFilterForm(request.args)
    valid = form.validate()
    args = {k: v for k, v in request.args.items() if k in form._fields and v}
    page = lists.queue(
        get_db(),
        outcome=form.outcome.data or None,
        decided=form.decided.data or "no",
        since=form.since.data if valid else None,
        until=form.until.data if valid else None,
        name=session.get("search_queue"),
        after=request.args.get("after"),
        before=request.args.get("before"),
        last=request.args.get("last") == "1",
    )
    # No filter but the default "not yet decided": an empty page means nothing is waiting.
    unfiltered = (
        not session.get("search_queue")
        and args.get("decided", "no") == "no"
        and not any(args.get(k) for k in ("outcome", "since", "until"))
    )
    return render_template(
        "staff/queue.html",
        form=form,
        page=page,
        args=args,
        today=today(),
        search=_search_form("queue"),
        unfiltered=unfiltered,
    )


def _search_form(where: str) -> NameSearchForm:
    form = NameSearchForm(formdata=None)
    form.q.data = session.get(f"search_{where}", "")
    return form


@bp.post("/search/<where>")
@role_required("front_desk")
def search(where: str):
    """Remember (or clear) a name search for the queue or the day list, then show it."""
    if where not in ("queue", "day") or (where == "queue" and not current_user.can("provider")):
        abort(404)
    form = NameSearchForm()
    if form.validate_on_submit():
        session[f"search_{where}"] = " ".join((form.q.data or "").split())
    else:
        flash("A name search is at most 100 characters.", "error")
    back = safe_next(request.form.get("back"))
    return redirect(back if back and back.startswith("/staff/") else url_for(f"staff.{where}"))


@bp.get(f"/submissions/<{ID}:submission_id>")
@role_required("provider")
def submission(submission_id: int):
    """Everything a provider needs to decide: flags and why, every answer, history."""
    sub = get_submission(get_db(), submission_id)
    if sub is None:
        abort(404)
    audit("view_submission", submission_id=submission_id)
    return _submission_page(sub, DecisionForm())


def _submission_page(sub: dict, form: DecisionForm, status: int = 200):
    return render_template(
        "staff/submission.html",
        sub=sub,
        qn=questionnaire(),
        read=answers_read(sub),
        form=form,
        history=decisions.history(get_db(), sub["id"]),
        version=sub["rules_version"],
        age=age_on(sub["date_of_birth"], today()),
    ), status


@bp.post(f"/submissions/<{ID}:submission_id>/decision")
@role_required("provider")
def decide(submission_id: int):
    """Record a decision; earlier ones stay in the history."""
    db = get_db()
    sub = get_submission(db, submission_id)
    if sub is None:
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _submission_page(sub, form, 422)
    decision = form.decision.data
    defer = form.defer_until.data.isoformat() if decision == DEFER_UNTIL else None
    note = (form.note.data or "").strip()
    decisions.record(
        db, submission_id, decision, user=current_user.who, defer_until=defer, note=note
    )
    flash(f"Decision recorded: {decision_text(decision, defer)}.")
    return redirect(url_for("staff.submission", submission_id=submission_id))


@bp.get("/day")
@role_required("front_desk")
def day():
    """The front desk's list: a date's clients, with print buttons."""
    form = DayForm(request.args)
    form.validate()
    chosen = form.date.data if form.date.data and not form.date.errors else today()
    name = session.get("search_day")
    clients = lists.day_clients(get_db(), chosen, name)
    elsewhere = lists.name_on_other_days(get_db(), chosen, name) if name else []
    return render_template(
        "staff/day.html",
        form=form,
        day=chosen,
        clients=clients,
        elsewhere=elsewhere,
        search=_search_form("day"),
        prev_day=chosen - dt.timedelta(days=1),
        next_day=chosen + dt.timedelta(days=1),
    )


@bp.get("/audit")
@role_required("admin")
def audit_log():
    """Who did what and when (never answers). Read only: nothing here edits it."""
    form = AuditFilterForm(request.args)
    form.validate()
    submission_id = form.submission.data if (form.submission.data or "").isdigit() else None
    before = request.args.get("before", "")
    before = int(before) if re.fullmatch(r"[0-9]{1,18}", before) else None
    rows, older = audit_store.rows(
        get_db(),
        action=form.action.data or None,
        username=form.username.data or None,
        submission_id=submission_id,
        day=None if form.date.errors else form.date.data,
        before=before,
    )
    args = {k: v for k, v in request.args.items() if k in form._fields and v}
    return render_template("staff/audit.html", form=form, rows=rows, older=older, args=args)


@bp.route("/users", methods=["GET", "POST"])
@role_required("admin")
def users_page():
    """Staff accounts: create one (its password shown once), disable one."""
    db = get_db()
    form = NewUserForm()
    password = None
    status = 200
    if form.validate_on_submit():
        password = accounts.new_password()
        try:
            accounts.create(
                db,
                form.username.data,
                form.role.data,
                password,
                form.name.data,
                by=current_user.who,
            )
        except accounts.UserError as exc:
            form.username.errors.append(str(exc).capitalize() + ".")
            password, status = None, 422
    elif request.method == "POST":
        status = 422
    created = form.username.data.strip() if password else None
    if created:  # an empty form for the next account
        form = NewUserForm(formdata=None)
    return render_template(
        "staff/users.html",
        form=form,
        users=staff_store.all_users(db),
        created=created,
        password=password,
    ), status


@bp.post("/users/<username>/disable")
@role_required("admin")
def disable_user(username: str):
    """Disable an account; its sessions end at once."""
    if username == current_user.username:
        flash("You cannot disable your own account.", "error")
        return redirect(url_for("staff.users_page"))
    try:
        accounts.disable(get_db(), username, by=current_user.who)
    except accounts.UserError:
        abort(404)
    flash(f"{username} is disabled and logged out everywhere.")
    return redirect(url_for("staff.users_page"))


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
    """A day's batch: printed from stored summaries, with a progress page while some are
    prepared (staff/printing.py)."""
    try:
        chosen = dt.date.fromisoformat(day)
    except ValueError:
        abort(404)
    return redirect(url_for("staff.print_day", day=chosen.isoformat()))
