"""The wizard a client walks, without a login: start, one step per section, review, done.

The draft token lives only in the session cookie. Finishing or starting over replaces the
cookie and asks the browser to forget its cache, so on a shared tablet the next client
cannot reach the last one's answers, not even with the back button.
"""

from __future__ import annotations

import secrets
import time

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from ..content import questionnaire, rules, today
from ..forms import build_forms, section_of
from ..rate_limits import limited
from ..store import get_db
from ..store.submissions import (
    InvalidAnswers,
    discard_draft,
    find_by_submit_key,
    find_draft,
    first_incomplete_step,
    get_submission,
    save_answers,
    start_draft,
    submit,
)

bp = Blueprint("client", __name__)

DONE_MINUTES = 10  # how long the done page can be reloaded after submitting


def _forms():
    forms = current_app.extensions.get("forms")
    if forms is None:
        forms = current_app.extensions["forms"] = build_forms(questionnaire())
    return forms


def _draft():
    return find_draft(get_db(), session.get("draft"), current_app.config["DRAFT_HOURS"])


def _fresh_session(**values) -> None:
    """Replace the session (a new cookie value), keeping only `values`."""
    session.clear()
    session.update(values)
    session.permanent = True


def _forget_browser(response):
    """Ask the browser to drop cached pages and cookies of the previous client."""
    response.headers["Clear-Site-Data"] = '"cache", "cookies"'
    return response


@bp.get("/")
def start():
    """The welcome page: start, or continue a draft saved on this device."""
    draft = _draft()
    if session.get("draft") and draft is None:
        session.pop("draft", None)
    return render_template("client/start.html", draft=draft, steps=questionnaire().steps)


@bp.post("/start")
@limited("start", "CLIENT_STARTS_PER_HOUR")
def begin():
    """Start a new draft (a new token in a new session cookie)."""
    token = start_draft(get_db(), current_app.config["DRAFT_HOURS"])
    _fresh_session(draft=token)
    return redirect(url_for("client.step", section_id=questionnaire().steps[0].id))


@bp.get("/continue")
def resume():
    """Go to the first step still to answer, or to the review page."""
    draft = _draft()
    if draft is None:
        return _expired()
    section = first_incomplete_step(questionnaire(), draft.answers, today())
    if section is None:
        return redirect(url_for("client.review"))
    return redirect(url_for("client.step", section_id=section.id))


@bp.route("/step/<section_id>", methods=["GET", "POST"])
def step(section_id: str):
    """One section of the questionnaire; a valid step is saved to the draft at once."""
    qn = questionnaire()
    section = section_of(qn, section_id)
    if section is None:
        abort(404)
    draft = _draft()
    if draft is None:
        return _expired()
    steps = qn.steps
    index = steps.index(section)
    reachable = first_incomplete_step(qn, draft.answers, today())
    if reachable is not None and steps.index(reachable) < index:
        return redirect(url_for("client.step", section_id=reachable.id))
    # "Change" on the review page: saving goes back there, not on through every step.
    from_review = request.args.get("next") == "review"
    form = _forms()[section.id](saved=draft.answers, today=today())
    if request.method == "POST":
        going_back = request.form.get("nav") == "back"
        previous = (
            url_for(
                "client.step",
                section_id=steps[index - 1].id,
                next="review" if from_review else None,
            )
            if index
            else url_for("client.start")
        )
        if form.validate():
            save_answers(get_db(), draft.id, form.answers(), qn)
            session.modified = True  # the cookie's expiry follows the draft's
            if going_back:
                return redirect(previous)
            if index + 1 < len(steps) and not from_review:
                return redirect(url_for("client.step", section_id=steps[index + 1].id))
            return redirect(url_for("client.review"))
        if going_back:
            # Keep what was valid; the client chose to leave this step for now.
            save_answers(get_db(), draft.id, form.valid_answers(), qn)
            session.modified = True
            return redirect(previous)
    return render_template(
        "client/step.html",
        form=form,
        section=section,
        steps=steps,
        index=index,
        questions=section.step_questions,
        answers=form.context,
        from_review=from_review,
    ), 200 if not form.errors else 422


@bp.route("/review", methods=["GET", "POST"])
@limited("submit", "CLIENT_SUBMISSIONS_PER_HOUR")
def review():
    """Every answer by section, then the attestation, the signature and submit."""
    qn = questionnaire()
    draft = _draft()
    if draft is None:
        # Looked up after the draft, not before: a double tap's first post may commit
        # between the two lookups, and the second must still find its result.
        done_id = _submitted_with_this_key()
        return _finish(done_id) if done_id is not None else _expired()
    missing = first_incomplete_step(qn, draft.answers, today())
    if missing is not None:
        return redirect(url_for("client.step", section_id=missing.id))
    form = _forms()["review"](saved=draft.answers, today=today())
    status = 200
    if request.method == "POST" and form.validate():
        try:
            submission_id = submit(
                get_db(),
                session.get("draft"),
                form.submit_key.data or None,
                form.answers(),
                qn,
                rules(),
                today(),
                current_app.config["DRAFT_HOURS"],
            )
        except InvalidAnswers as exc:
            section = first_incomplete_step(qn, {**draft.answers, **form.answers()}, today())
            if section is not None:
                return redirect(url_for("client.step", section_id=section.id))
            for qid, message in exc.errors.items():
                if qid in form:
                    form[qid].errors = [message]
        else:
            if submission_id is None:
                return _expired()
            return _finish(submission_id)
    if request.method == "POST":
        status = 422
    form.submit_key.data = secrets.token_urlsafe(16)
    return render_template(
        "client/review.html", form=form, qn=qn, answers=draft.answers, steps=qn.steps
    ), status


def _submitted_with_this_key():
    """A double tap: the same review form posted again returns the first result."""
    if request.method != "POST":
        return None
    return find_by_submit_key(get_db(), session.get("draft"), request.form.get("submit_key"))


def _finish(submission_id: int):
    """Submitted: a new session that can only show this submission's done page, briefly."""
    _fresh_session(done=submission_id, done_until=time.time() + DONE_MINUTES * 60)
    response = redirect(url_for("client.done"))
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@bp.get("/done")
def done():
    """What to do before treatment, and what happens next. Never a diagnosis."""
    submission = None
    if session.get("done") and session.get("done_until", 0) > time.time():
        submission = get_submission(get_db(), session["done"])
    flags = submission["flags"] if submission else []
    return render_template(
        "client/done.html",
        submission=submission,
        flags=[f for f in flags if f.get("client_message")],
        refer=any(f["severity"] == "refer" for f in flags),
        qn=questionnaire(),
    )


@bp.route("/start-over", methods=["GET", "POST"])
def start_over():
    """Kiosk: forget this client entirely and show a blank start for the next one.

    GET is allowed so that the idle timer (or a page without JavaScript) can reach it; it
    only ever removes the caller's own draft.
    """
    if not current_app.config["KIOSK"] and request.method == "GET":
        return redirect(url_for("client.start"))
    discard_draft(get_db(), session.get("draft"))
    _fresh_session()
    return _forget_browser(redirect(url_for("client.start")))


def _expired():
    session.pop("draft", None)
    return render_template("client/expired.html"), 410
