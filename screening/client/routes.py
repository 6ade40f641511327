"""The wizard a client walks, without a login: start, one step per section, review, done.

The draft token lives only in the session cookie. Every post is answered with a redirect
(Post/Redirect/Get), errors included: what the client typed waits in the session for the
page it is sent to, so the browser's Back button never meets a page it must post again.
Each form carries the revision of the answers it was rendered from, and a post made from
an older page is not applied. Finishing or starting over replaces the cookie and asks the
browser to forget its cache; on a shared tablet, ending a visit (done, idle, start over, the
next client) forgets everything of that client, so the next one cannot reach it, not even
with the back and forward buttons.
"""

from __future__ import annotations

import re
import secrets
import time

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import generate_csrf, validate_csrf
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from wtforms import ValidationError

from ..content import client_questionnaire as questionnaire
from ..content import rules, today
from ..forms import StepForm, build_forms, section_of
from ..i18n import client_language
from ..rate_limits import limited
from ..store import get_db
from ..store.submissions import (
    Draft,
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
from .advice import client_advice

bp = Blueprint("client", __name__)

DONE_MINUTES = 10  # how long the done page can be reloaded after submitting (not a kiosk)
KIOSK_WARN_SECONDS = 30  # the idle warning comes this long before the reset (or half-way)
# What typed values may add to the session cookie: browsers drop a cookie over 4 KB, and
# with it the values the client typed; a post too large for it gets its page at once.
COOKIE_BYTES = 3800
REVIEW = "review"  # the page name of the review form in the session's pending values


def _forms():
    """The step and review forms in this client's language (built once per language)."""
    by_language = current_app.extensions.setdefault("client_forms", {})
    language = client_language()
    if language not in by_language:
        by_language[language] = build_forms(questionnaire())
    return by_language[language]


def _draft() -> Draft | None:
    return find_draft(get_db(), session.get("draft"), current_app.config["DRAFT_HOURS"])


def _kiosk() -> bool:
    return bool(current_app.config["KIOSK"])


def _fresh_session(**values) -> None:
    """Replace the session (a new cookie value), keeping only `values` and the language
    the client chose for this visit."""
    language = session.get("lang")
    session.clear()
    session.update(values)
    if language:
        session["lang"] = language
    session.permanent = True


def _forget_browser(response):
    """Ask the browser to drop cached pages and cookies of the previous client."""
    response.headers["Clear-Site-Data"] = '"cache", "cookies"'
    return response


def _end_visit():
    """Forget this client entirely (their draft, their done page, the cookie, the cache) and
    show a blank start for the next one."""
    discard_draft(get_db(), session.get("draft"))
    session.clear()
    return _forget_browser(redirect(url_for("client.start")))


@bp.context_processor
def _kiosk_context() -> dict:
    """Whether this page belongs to a client's visit (a draft or a done page): on a kiosk,
    only such pages count down to a reset, warning `kiosk_warn` seconds before it."""
    open_visit = bool(session.get("draft") or session.get("done"))
    idle = int(current_app.config["KIOSK_IDLE_SECONDS"])
    # A view may pass its own: the done page counts down what is left of its time.
    return {
        "advice_in_language": client_advice,
        "phone_link": _phone_link,
        "visit_open": open_visit,
        "kiosk_idle": idle,
        "kiosk_warn": min(KIOSK_WARN_SECONDS, idle // 2),
    }


def _phone_link(phone: str) -> Markup:
    return Markup('<a href="tel:{}">{}</a>').format(phone.replace(" ", ""), phone)


# "Call us" / "Call the clinic" in the clients' languages, and what to say instead when the
# clinic has no phone set: (pattern, " on " before the number, contact words by match).
_CALL = re.compile(r"\b([Cc]all (us|the clinic)|[Ll]l[aá]me(nos| a la cl[ií]nica))\b")
_CONTACT = {
    "call us": "contact us",
    "call the clinic": "contact the clinic",
    "llámenos": "contáctenos",
    "llame a la clínica": "contacte a la clínica",
}


@bp.app_template_filter("call_clinic")
def call_clinic(text: str) -> Markup:
    """Advice that says "Call us" or "Call the clinic" (or "Llámenos"...), with the number to
    call when the clinic's phone is set, else as "Contact": a client is never told to call no
    number."""
    phone = str(current_app.config.get("CLINIC_PHONE") or "").strip()
    out, last = Markup(), 0
    for match in _CALL.finditer(text):
        words = match.group(0)
        out += escape(text[last : match.start()])
        if phone:
            on = " al " if words[0] in "Ll" else " on "
            out += escape(words) + escape(on) + _phone_link(phone)
        else:
            contact = _CONTACT.get(words.casefold(), words)
            out += escape(contact[0].upper() + contact[1:] if words[0].isupper() else contact)
        last = match.end()
    return out + escape(text[last:])


@bp.get("/")
def start():
    """The welcome page: start, or continue a draft saved on this device."""
    if _kiosk() and session.get("done"):
        return _end_visit()  # a kiosk client's done page was left: that visit is over
    draft = _draft()
    if session.get("draft") and draft is None:
        session.pop("draft", None)
    return render_template("client/start.html", draft=draft, steps=questionnaire().steps)


@bp.post("/start")
@limited("start", "CLIENT_STARTS_PER_HOUR")
def begin():
    """Start a new draft (a new token in a new session cookie: nothing of a last visit)."""
    if _draft() is not None:
        # A start page from before (Back, another tab): a saved draft is never replaced
        # without asking; the start page offers to continue it or to start again.
        return redirect(url_for("client.start"))
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
    here = url_for("client.step", section_id=section.id, next="review" if from_review else None)
    page = {
        "section": section,
        "steps": steps,
        "index": index,
        "from_review": from_review,
        # Every step answered (an edit from the review page): progress shows it so.
        "complete": reachable is None,
    }
    if request.method == "GET":
        form = _shown_form(section.id, draft)
        return _step_page(form, draft, page)
    if _stale(draft):
        return _out_of_date(section.id, here)
    form = _forms()[section.id](saved=draft.answers, today=today())
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
        _saved(draft, form.answers())
        if going_back:
            return redirect(previous)
        if index + 1 < len(steps) and not from_review:
            return redirect(url_for("client.step", section_id=steps[index + 1].id))
        return redirect(url_for("client.review"))
    if going_back:
        # Keep what was valid; the client chose to leave this step for now.
        _saved(draft, form.valid_answers())
        return redirect(previous)
    if not _keep_typed(section.id, draft, [q.id for q in section.step_questions]):
        return _step_page(form, draft, page)
    return redirect(here)


def _step_page(form: StepForm, draft: Draft, page: dict):
    section = page["section"]
    return render_template(
        "client/step.html",
        form=form,
        questions=section.step_questions,
        answers=form.context,
        revision=draft.revision,
        out_of_date=_note_for(section.id),
        **page,
    ), 200 if not form.errors else 422


def _saved(draft: Draft, answers: dict) -> None:
    """Save a step's answers; what was typed on an earlier try is no longer needed."""
    save_answers(get_db(), draft.id, answers, questionnaire())
    session.pop("pending", None)
    session.modified = True  # the cookie's expiry follows the draft's


def _stale(draft: Draft) -> bool:
    """Whether the post comes from a page rendered from other answers than the saved ones
    (an older page restored by the browser, another tab): it must not overwrite them."""
    return request.form.get("rev") != draft.revision


def _out_of_date(page_name: str, here: str):
    """Apply nothing; show the saved answers with a note that the page was out of date."""
    session.pop("pending", None)
    session["out_of_date"] = page_name
    return redirect(here)


def _note_for(page_name: str) -> bool:
    """Whether this page shows the out-of-date note (once, after a stale post)."""
    if "out_of_date" not in session:
        return False
    return session.pop("out_of_date") == page_name


def _keep_typed(page_name: str, draft: Draft, names: list[str]) -> bool:
    """Keep what the client typed on a page with errors in the session, for the page the
    post redirects to (never in the URL). False when it would not fit in the cookie, or
    when a field came as a file part (no browser sends one; it has no text to keep), so
    the page with its errors answers the post itself."""
    if any(name in request.files for name in names):
        return False
    typed = {name: request.form.getlist(name) for name in names if name in request.form}
    session["pending"] = {"page": page_name, "rev": draft.revision, "form": typed}
    serializer = current_app.session_interface.get_signing_serializer(current_app)
    if len(serializer.dumps(dict(session))) > COOKIE_BYTES:
        session.pop("pending")
        return False
    return True


def _shown_form(page_name: str, draft: Draft) -> StepForm:
    """The form a page shows: what the client typed last time, with its errors, when the
    last post of this page had errors and nothing was saved since; else the saved answers."""
    form_class = _forms()[page_name]
    pending = session.get("pending")
    if pending is not None and (pending.get("page"), pending.get("rev")) == (
        page_name,
        draft.revision,
    ):
        typed = MultiDict([(k, v) for k, values in pending["form"].items() for v in values])
        typed["csrf_token"] = generate_csrf()
        form = form_class(formdata=typed, data={}, saved=draft.answers, today=today())
        form.validate()
        return form
    if pending is not None:
        session.pop("pending")
    return form_class(saved=draft.answers, today=today())


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
    if request.method == "GET":
        form = _shown_form(REVIEW, draft)
        return _review_page(form, draft, qn, _note_for(REVIEW), 200 if not form.errors else 422)
    if _stale(draft):
        # The client signs the answers they saw: not ones changed since (another tab).
        return _out_of_date(REVIEW, url_for("client.review"))
    form = _forms()[REVIEW](saved=draft.answers, today=today())
    if form.validate():
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
                language=client_language(),
            )
        except InvalidAnswers:
            section = first_incomplete_step(qn, {**draft.answers, **form.answers()}, today())
            if section is not None:
                return redirect(url_for("client.step", section_id=section.id))
        else:
            if submission_id is None:
                return _expired()
            return _finish(submission_id)
    if not _keep_typed(REVIEW, draft, [q.id for q in qn.review_questions]):
        return _review_page(form, draft, qn, False, 422)
    return redirect(url_for("client.review"))


def _review_page(form, draft: Draft, qn, out_of_date, status: int):
    """The review page with a fresh one-time submit key (a double tap returns one result)."""
    form.submit_key.data = secrets.token_urlsafe(16)
    return render_template(
        "client/review.html",
        form=form,
        qn=qn,
        answers=draft.answers,
        steps=qn.steps,
        revision=draft.revision,
        out_of_date=out_of_date,
    ), status


def _submitted_with_this_key():
    """A double tap: the same review form posted again returns the first result."""
    if request.method != "POST":
        return None
    return find_by_submit_key(get_db(), session.get("draft"), request.form.get("submit_key"))


def _finish(submission_id: int):
    """Submitted: a new session that can only show this submission's done page, briefly
    (on a kiosk, only until the done page returns to the start)."""
    seconds = current_app.config["KIOSK_DONE_SECONDS"] if _kiosk() else DONE_MINUTES * 60
    _fresh_session(done=submission_id, done_until=time.time() + seconds)
    response = redirect(url_for("client.done"))
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@bp.get("/done")
def done():
    """What to do before treatment, and what happens next. Never a diagnosis."""
    left = session.get("done_until", 0) - time.time()
    submission = get_submission(get_db(), session["done"]) if session.get("done") else None
    if submission is None or left <= 0:
        # Nothing of a visit to show (it ended, or never was): the start page, which on a
        # kiosk also forgets whatever was left of it.
        if _kiosk():
            return _end_visit()
        session.pop("done", None)
        session.pop("done_until", None)
        return redirect(url_for("client.start"))
    flags = submission["flags"]
    return render_template(
        "client/done.html",
        submission=submission,
        flags=[f for f in flags if f.get("client_message")],
        refer=any(f["severity"] == "refer" for f in flags),
        qn=questionnaire(),
        seconds_left=max(1, int(left)),
        kiosk_idle=max(1, int(left)),
        kiosk_warn=0,
    )


@bp.get("/start-over")
def confirm_start_over():
    """Ask before deleting a client's answers: one tap never loses them. With `idle=1`, the
    kiosk's idle page for browsers without JavaScript: "are you still there?"."""
    if _draft() is None:
        return redirect(url_for("client.start"))
    if _kiosk() and request.args.get("idle") == "1":
        warn = min(KIOSK_WARN_SECONDS, int(current_app.config["KIOSK_IDLE_SECONDS"]) // 2)
        return render_template(
            "client/start_over.html", idle=True, kiosk_idle=max(1, warn), kiosk_warn=0
        )
    return render_template("client/start_over.html", idle=False)


@bp.post("/start-over")
def start_over():
    """Forget this client entirely and show a blank start for the next one (a post with the
    page's CSRF token: another site cannot make a browser do it)."""
    return _end_visit()


@bp.get("/start-over/idle")
def idle_timeout():
    """A kiosk page left alone, in a browser without JavaScript: its refresh lands here after
    asking "are you still there?". The page's CSRF token is in the address, so a link from
    another site cannot end a visit; without it, the client is asked."""
    if not _kiosk():
        return redirect(url_for("client.start"))
    try:
        validate_csrf(request.args.get("token"))
    except ValidationError:
        if _draft() is None:
            return redirect(url_for("client.start"))
        return redirect(url_for("client.confirm_start_over"))
    return _end_visit()


def _expired():
    """No draft for this session: ask to start again. On a kiosk nothing of the visit stays
    (a done page's keys included), so Back and Forward lead nowhere near it."""
    if not _kiosk():
        session.pop("draft", None)
        return render_template("client/expired.html"), 410
    session.clear()
    return _forget_browser(make_response(render_template("client/expired.html"), 410))
