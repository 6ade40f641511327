"""The staff area: log in, the provider queue, a submission and its decision, the front
desk's day, the audit log and staff accounts. Every view and change is audited."""

from __future__ import annotations

import datetime as dt
import re

from flask import abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError

from ..content import questionnaire, today
from ..output.display import answers_read, decision_text
from ..questionnaire import age_on
from ..store import audit as audit_store
from ..store import decisions, get_db, lists
from ..store import staff as staff_store
from ..store.submissions import get_submission
from ..vocab import CONTACT_METHODS, DEFER_UNTIL
from ..web import error_page
from . import account_routes, accounts, devices, two_factor  # noqa: F401 - account_routes: its views join bp
from .auth import (
    audit,
    authenticate,
    begin_attempt,
    complete_login,
    end_session,
    idle_seconds_left,
    keep_alive,
    note_attempt,
    refused_message,
    role_required,
    safe_next,
    to_login,
)
from .blueprint import ID, bp
from .forms import (
    AuditFilterForm,
    ContactForm,
    DayForm,
    DecisionForm,
    LoginForm,
    NameSearchForm,
    NewUserForm,
    QueueFilterForm,
)
from .printing import print_link
from .two_factor_views import second_step

# The queue's filters and its page, carried from the queue to a submission and back.
QUEUE_ARGS = ("order", "outcome", "decided", "since", "until")
PAGE_ARGS = ("after", "before", "last")


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
    """The worklist (appointments in the coming days first), or most severe first."""
    form, query, context = _queue_context(request.args)
    db, on = get_db(), today()
    page = lists.queue(
        db,
        query,
        on,
        after=request.args.get("after"),
        before=request.args.get("before"),
        last=request.args.get("last") == "1",
    )
    audit("view_queue", detail=_filter_codes(query, request.args))
    filters = {k: v for k, v in context.items() if k in QUEUE_ARGS}
    # No filter but the default "not yet decided": an empty page means nothing is waiting.
    unfiltered = (
        not query.name
        and query.decided == "no"
        and not any(filters.get(k) for k in ("outcome", "since", "until"))
    )
    return render_template(
        "staff/queue.html",
        form=form,
        page=page,
        args=filters,
        context=context,
        counts=lists.counts(db, query, on),
        count_cap=lists.COUNT_CAP,
        query=query,
        today=on,
        search=_search_form("queue"),
        unfiltered=unfiltered,
    )


def _queue_context(args) -> tuple[QueueFilterForm, lists.QueueFilter, dict]:
    """The queue's filter form, the filter it asks for (fields in error left out), and the
    arguments that bring a page of it back (filters and pager, no name: that stays in the
    session)."""
    form = QueueFilterForm(args)
    form.validate()
    dates_ok = not form.since.errors and not form.until.errors
    query = lists.QueueFilter(
        order=form.order.data if form.order.data in lists.ORDERS else "worklist",
        decided=form.decided.data if form.decided.data in ("no", "yes", "all") else "no",
        outcome=form.outcome.data if not form.outcome.errors else None,
        since=form.since.data if dates_ok else None,
        until=form.until.data if dates_ok else None,
        name=session.get("search_queue"),
    )
    context = {k: v for k, v in args.items() if k in QUEUE_ARGS + PAGE_ARGS and v}
    return form, query, context


def _filter_codes(query: lists.QueueFilter, args) -> str:
    """The audit's record of a queue view: the filters as codes, never the name searched."""
    codes = [f"order={query.order}", f"decided={query.decided}"]
    codes += [f"{k}={v}" for k, v in (("outcome", query.outcome), ("since", query.since),
                                      ("until", query.until)) if v]  # fmt: skip
    if query.name:
        codes.append("name search")
    page = next((k for k in PAGE_ARGS if args.get(k)), None)
    if page:
        codes.append(f"page={page}")
    return " ".join(codes)


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
        if session[f"search_{where}"]:
            audit("search", detail=where)  # where, never what was typed
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
    return _submission_page(sub, DecisionForm(outcome=sub["outcome"]))


def _submission_page(
    sub: dict, form: DecisionForm, status: int = 200, contact_form: ContactForm | None = None
):
    db = get_db()
    _, query, context = _queue_context(request.args)
    before, after = lists.neighbours(db, query, sub["id"], today())
    here = url_for("staff.submission", submission_id=sub["id"], **context)
    return render_template(
        "staff/submission.html",
        sub=sub,
        qn=questionnaire(),
        read=answers_read(sub),
        form=form,
        contact_form=contact_form or ContactForm(prefix="contact", formdata=None),
        history=decisions.timeline(db, sub["id"]),
        version=sub["rules_version"],
        age=age_on(sub["date_of_birth"], today()),
        context=context,
        here=here,
        back=url_for("staff.queue", **context),
        previous=before and url_for("staff.submission", submission_id=before, **context),
        following=after and url_for("staff.submission", submission_id=after, **context),
    ), status


@bp.post(f"/submissions/<{ID}:submission_id>/decision")
@role_required("provider")
def decide(submission_id: int):
    """Record a decision (earlier ones stay in the history), then open the next submission
    waiting for one, in the order and with the filters the provider came from."""
    db = get_db()
    sub = get_submission(db, submission_id)
    if sub is None:
        abort(404)
    form = DecisionForm(outcome=sub["outcome"])
    if not form.validate_on_submit():
        return _submission_page(sub, form, 422)
    decision = form.decision.data
    defer = form.defer_until.data.isoformat() if decision == DEFER_UNTIL else None
    note = (form.note.data or "").strip()
    decisions.record(
        db, submission_id, decision, user=current_user.who, defer_until=defer, note=note
    )
    session["decision_saved"] = submission_id  # the browser may forget its kept note
    _, query, context = _queue_context(request.args)
    following = lists.next_undecided(db, query, submission_id, today())
    recorded = f"Decision recorded: {decision_text(decision, defer)}."
    if following is None:
        flash(f"{recorded} Nothing else in this list is waiting for a decision.")
        return redirect(url_for("staff.queue", **context))
    flash(f"{recorded} This is the next submission waiting for a decision.")
    return redirect(url_for("staff.submission", submission_id=following, **context))


@bp.post(f"/submissions/<{ID}:submission_id>/contact")
@role_required("provider")
def contact(submission_id: int):
    """Note that the client was contacted: how, and what was said."""
    db = get_db()
    sub = get_submission(db, submission_id)
    if sub is None:
        abort(404)
    form = ContactForm(prefix="contact")
    if not form.validate_on_submit():
        return _submission_page(sub, DecisionForm(outcome=sub["outcome"]), 422, form)
    decisions.record_contact(
        db,
        submission_id,
        form.method.data,
        user=current_user.who,
        note=(form.note.data or "").strip(),
    )
    flash(f"Contact recorded: {CONTACT_METHODS.label(form.method.data)}.")
    _, _, context = _queue_context(request.args)
    return redirect(url_for("staff.submission", submission_id=submission_id, **context))


@bp.get(f"/submissions/<{ID}:submission_id>/decision")
@bp.get(f"/submissions/<{ID}:submission_id>/contact")
@role_required("provider")
def submission_form(submission_id: int):
    """A form's address opened as a page (a bookmark, the browser's history): its page."""
    _, _, context = _queue_context(request.args)
    return redirect(url_for("staff.submission", submission_id=submission_id, **context))


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
    audit("view_day", detail=chosen.isoformat() + (" name search" if name else ""))
    return render_template(
        "staff/day.html",
        form=form,
        day=chosen,
        clients=clients,
        elsewhere=elsewhere,
        printing=print_link(chosen, clients, searched=bool(name)),
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
    audit("view_audit", detail=" ".join(f"{k}={v[:64]}" for k, v in args.items()) or None)
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
    if request.method == "GET":
        audit("view_users")
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


@bp.post("/keepalive")
@role_required("front_desk")
def keepalive():
    """The idle warning's "stay logged in": count it as activity."""
    keep_alive()
    return jsonify(seconds_left=idle_seconds_left())


@bp.errorhandler(CSRFError)
def form_expired(exc: CSRFError):
    """A staff form posted by someone not logged in, its token refused (the session cookie
    expired or was cleared meanwhile): the login wall, as for a live session that went
    idle, rather than a 400 page. The login form's own refusal stays a 400."""
    if current_user.is_authenticated or request.endpoint in (None, "staff.login"):
        return error_page(400)
    flash("Your session had ended. Please log in again.")
    return to_login()


@bp.context_processor
def staff_page_state() -> dict:
    """What staff.js needs on every staff page: the idle countdown and a saved decision."""
    if not current_user.is_authenticated:
        return {}
    return {
        "idle_seconds_left": idle_seconds_left(),
        "decision_saved": session.pop("decision_saved", None),
    }
