"""Hostile posts to every wizard step and the review page (hypothesis, Flask test client):
never a 500, every reply a redirect (a rejected post to the page that shows its field errors,
422 with the error summary) or such a page at once, bodies over the limit a polite 413, and
answers saved on earlier steps unchanged."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
from urllib.parse import quote_from_bytes

import pytest
from helpers import (
    PASSWORD,
    TEST_SETTINGS,
    TODAY,
    Wizard,
    csrf_token,
    form_data,
    log_in,
    make_user,
    revision,
    valid_answers,
)
from html_checks import assert_no_active_content
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder

from screening import create_app
from screening.store import init_db

settings.register_profile(
    "bad-input",
    deadline=None,
    database=None,
    max_examples=int(os.environ.get("BAD_INPUT_EXAMPLES", "100")),
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
BAD_INPUT = settings.get_profile("bad-input")
TRIED = {"count": 0}  # hostile posts sent, printed by each test (pytest -s)
REPLIES: dict[int, int] = {}

HOSTILE_TEXT = [
    "",
    " ",
    "yes",
    "no",
    "YES",
    "true",
    "1",
    "0",
    "-1",
    "1e309",
    "NaN",
    "null",
    "[]",
    "{}",
    "\x00",
    "a\x00b",
    "\x1b[31m",
    "\r\n",
    "\u202e",
    "\ufeff",
    "𝔘𝔫𝔦",
    "'; DROP TABLE submissions; --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}",
    "%00",
    "%FF",
    "../../etc/passwd",
    "2024-02-30",
    "0000-01-01",
    "9999-12-31",
    "1899-12-31",
    "1985-4-30",
    f"{TODAY.year + 1}-01-01",
    f"{TODAY.year - 1}-01-01",
    "30/04/1985",
    "today",
]


def values_for(qn) -> st.SearchStrategy:
    choice_ids = sorted({c for q in qn.questions.values() for c in q.choice_ids})
    return st.one_of(
        st.sampled_from(HOSTILE_TEXT + choice_ids),
        st.text(max_size=40),
        st.binary(max_size=24),  # invalid UTF-8, null bytes, anything
        st.integers(-(10**30), 10**30).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.builds(
            lambda s, n: s * n,
            st.sampled_from(["A", "é", "<b>", "\x00", "9"]),
            st.integers(200, 30_000),
        ),  # huge values (some bodies pass the limit)
    )


def keys_for(qn, section_questions) -> st.SearchStrategy:
    own = [q.id for q in section_questions]
    return st.one_of(
        st.sampled_from(own + ["nav", "submit_key", "attest", "signature", "csrf_token", "rev"]),
        st.sampled_from(list(qn.questions)),
        st.text(min_size=1, max_size=12),
        st.binary(min_size=1, max_size=8),
    )


@st.composite
def hostile_pairs(draw, qn, questions, answers):
    """A browser's valid post for these questions, then broken: fields dropped, values
    swapped for hostile ones, extra fields, repeated keys, the order shuffled."""
    pairs = []
    for key, value in form_data(questions, answers).items():
        for v in value if isinstance(value, list) else [value]:
            pairs.append((key, v))
    pairs.append(("nav", draw(st.sampled_from(["next", "back", "", "sideways"]))))
    values, keys = values_for(qn), keys_for(qn, questions)
    kept = [p for p in pairs if draw(st.integers(0, 4))]  # drop about one in five
    kept = [(k, draw(values) if draw(st.integers(0, 3)) == 0 else v) for k, v in kept]
    kept += draw(st.lists(st.tuples(keys, values), max_size=6))  # extra and repeated keys
    if kept and draw(st.booleans()):
        key = draw(st.sampled_from([k for k, _ in kept]))
        kept.insert(draw(st.integers(0, len(kept))), (key, draw(values)))
    return draw(st.permutations(kept)) if draw(st.booleans()) else kept


def encode(pairs, token: str, raw_bytes: bool) -> bytes:
    """An x-www-form-urlencoded body, the CSRF token first; with raw_bytes, bytes values
    go in unquoted (not even valid percent-encoding, possibly not UTF-8)."""

    def part(value) -> bytes:
        data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        return data if raw_bytes and isinstance(value, bytes) else quote_from_bytes(data).encode()

    body = [b"csrf_token=" + token.encode()]
    body += [part(k) + b"=" + part(v) for k, v in pairs]
    return b"&".join(body)


def draft_answers(app) -> tuple[str, dict]:
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        row = conn.execute(
            "SELECT status, answers FROM submissions ORDER BY id DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    return row[0], json.loads(row[1])


class Session:
    """One client with a complete draft (every step saved, not submitted)."""

    def __init__(self, app, answers):
        self.app, self.answers = app, answers
        self.new_draft()

    def new_draft(self):
        self.client = self.app.test_client()
        self.wizard = Wizard(self.client, self.app)
        self.wizard.walk(self.answers)
        self.token = csrf_token(self.client.get("/review").text)


ALLOWED_REDIRECTS = re.compile(r"^/(step/[a-z_]+|review|done)?$")


def check_reply(response, body: bytes, limit: int, client, path: str) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code != 500 and "Traceback" not in text
    if len(body) > limit:
        assert response.status_code == 413 and "Too much text" in text, response.status_code
        return
    assert response.status_code in (302, 422), (response.status_code, text[:500])
    if response.status_code == 302:
        assert ALLOWED_REDIRECTS.match(response.location), response.location
        if response.location != path:
            return
        # Rejected (Post/Redirect/Get): the page it redirects to shows the errors.
        response = client.get(path)
        text = response.get_data(as_text=True)
        assert response.status_code == 422, (response.status_code, text[:500])
    # A 422 in reply to the post itself: typed values too large to wait in the cookie.
    assert 'id="error-summary"' in text and 'class="error-message"' in text
    assert_no_active_content(text)


@pytest.fixture
def fuzz_app(tmp_path):
    init_db(tmp_path / "db")
    return create_app({"SECRET_KEY": "k", "DATABASE": str(tmp_path / "db"), **TEST_SETTINGS})


def _targets():
    from stored import content

    qn, _ = content()
    return [s.id for s in qn.steps] + ["review"]


@pytest.mark.parametrize("target", _targets())
def test_hostile_posts_get_a_field_error_or_a_redirect(fuzz_app, target, caplog):
    app = fuzz_app
    qn = app.extensions["questionnaire"]
    answers = valid_answers(
        cold_sores=True, cold_sore_now=False, medications_list="Vitamin D", notes="Saved note"
    )
    steps = [s.id for s in qn.steps]
    if target == "review":
        questions, earlier = qn.review_questions, [q for s in qn.steps for q in s.step_questions]
    else:
        section = qn.steps[steps.index(target)]
        questions = section.step_questions
        earlier = [q for s in qn.steps[: steps.index(target)] for q in s.step_questions]
    session = Session(app, answers)
    limit = app.config["MAX_CONTENT_LENGTH"]
    path = "/review" if target == "review" else f"/step/{target}"

    @BAD_INPUT
    @given(
        pairs=hostile_pairs(qn, questions, answers), raw=st.booleans(), multipart=st.integers(0, 7)
    )
    def attempt(pairs, raw, multipart):
        TRIED["count"] += 1
        status_before, before = draft_answers(app)
        assert status_before == "draft"
        rev = revision(session.client.get(path).text)  # the answers the page shows
        if multipart == 0:  # now and then as multipart/form-data (text values only)
            fields = [("csrf_token", session.token), ("rev", rev)] + [
                (
                    k.decode("latin-1") if isinstance(k, bytes) else k,
                    v.decode("latin-1") if isinstance(v, bytes) else v,
                )
                for k, v in pairs
            ]
            environ = EnvironBuilder(
                method="POST", data=MultiDict(fields), content_type="multipart/form-data"
            ).get_environ()
            body = environ["wsgi.input"].read()
            response = session.client.post(path, data=body, content_type=environ["CONTENT_TYPE"])
        else:
            body = encode([("rev", rev), *pairs], session.token, raw)
            response = session.client.post(
                path, data=body, content_type="application/x-www-form-urlencoded"
            )
        check_reply(response, body, limit, session.client, path)
        REPLIES[response.status_code] = REPLIES.get(response.status_code, 0) + 1
        status_after, after = draft_answers(app)
        if status_after == "submitted":  # the review post happened to be valid
            assert target == "review" and response.location == "/done"
            assert qn.validate(qn.normalize(after), TODAY) == {}
            session.new_draft()
            return
        for q in earlier:
            assert after.get(q.id) == before.get(q.id), q.id
        if response.status_code != 302 or response.location == path:
            assert after == before  # a rejected post saves nothing at all

    tried = TRIED["count"]
    attempt()
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    print(
        f"\nbad input: {TRIED['count'] - tried} hostile posts to {path} "
        f"({TRIED['count']} so far; replies by status: {dict(sorted(REPLIES.items()))})"
    )


def test_bodies_over_the_limit_get_a_polite_413_and_change_nothing(wizard, client, app):
    wizard.start()
    wizard.post_step("about", valid_answers())
    status, before = draft_answers(app)
    page = client.get("/step/skin")
    token = csrf_token(page.text)
    limit = app.config["MAX_CONTENT_LENGTH"]
    for size in (limit + 1, limit * 4, 5 * 1024 * 1024):
        response = client.post(
            "/step/skin",
            data=f"csrf_token={token}&active_acne=yes&x=" + "a" * size,
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 413 and "Too much text" in response.text
        assert "Shorten your answers" in response.text
    assert draft_answers(app) == (status, before)
    within = client.post(
        "/step/skin", data={"csrf_token": token, "x": "a" * (limit - 1000), "nav": "back"}
    )
    assert within.status_code == 302


def test_bytes_that_are_not_utf8_get_field_errors_not_a_400(wizard, client, app):
    """Werkzeug drops a url-encoded form with such bytes whole, CSRF token included."""
    wizard.start()
    page = client.get("/step/about").text
    token, rev = csrf_token(page).encode(), revision(page).encode()
    body = (
        b"csrf_token=" + token + b"&rev=" + rev + b"&full_name=Ana\xff\xfe"
        b"&date_of_birth=19\xc3(-01-01&treatment_areas=full_face&nav=next"
    )
    response = client.post(
        "/step/about",
        data=body,
        content_type="application/x-www-form-urlencoded",
        follow_redirects=True,
    )
    assert response.status_code == 422 and 'id="error-summary"' in response.text
    assert "Date of birth: please enter a real date" in response.text
    assert draft_answers(app) == ("draft", {})


# --- The staff side ------------------------------------------------------------------------

STAFF_NAME = "Ana María Pérez"  # valid_answers' client
# Half the client side's examples by default (six staff targets, a 2-core machine shared
# with other work); BAD_INPUT_EXAMPLES sets both.
STAFF_BAD_INPUT = settings(BAD_INPUT, max_examples=int(os.environ.get("BAD_INPUT_EXAMPLES", "50")))


@pytest.fixture
def staff_app(tmp_path, cheap_argon2):
    """An app with three submitted screenings (one decided) and an admin logged in (argon2
    at its lowest cost: these tests are about input handling)."""
    from screening.content import questionnaire as current_questionnaire
    from screening.content import rules as current_rules
    from screening.content import today
    from screening.store import get_db
    from screening.store.submissions import import_answers

    init_db(tmp_path / "db")
    app = create_app({"SECRET_KEY": "k", "DATABASE": str(tmp_path / "db"), **TEST_SETTINGS})
    with app.app_context():
        ids = [
            import_answers(
                get_db(), valid_answers(**extra), current_questionnaire(), current_rules(), today()
            )
            for extra in ({}, {"active_acne": True}, {"sunburn_recent": True})
        ]
    make_user(app, "fuzz-admin", "admin", name="Fuzz Admin")
    make_user(app, "fuzz-desk", "front_desk")
    admin = app.test_client()
    assert log_in(admin, "fuzz-admin").status_code == 302
    page = admin.get(f"/staff/submissions/{ids[1]}")
    admin.post(
        f"/staff/submissions/{ids[1]}/decision",
        data={"csrf_token": csrf_token(page.text), "decision": "consult"},
    )
    app.fuzz = {"admin": admin, "ids": ids, "token": csrf_token(page.text)}
    return app


def table(app, name: str) -> list[tuple]:
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        return conn.execute(f"SELECT * FROM {name} ORDER BY rowid").fetchall()
    finally:
        conn.close()


# Views of health data are audited as they happen: a page viewed (or a name searched) adds
# its row, whatever the input; nothing else may change.
READS = ("view_queue", "view_day", "view_audit", "view_users", "search")


def stored(app, names=("users", "submissions", "decisions", "audit")) -> dict:
    found = {name: table(app, name) for name in names}
    if "audit" in found:  # columns: id, at, user_id, username, action, ...
        found["audit"] = [row for row in found["audit"] if row[4] not in READS]
    return found


def check_polite(response, statuses=(200,)) -> str:
    """No 500, no traceback, a status we expect, no active content in what came back."""
    text = response.get_data(as_text=True)
    assert response.status_code != 500 and "Traceback" not in text, response.status_code
    assert response.status_code in statuses, (response.status_code, text[:500])
    if response.mimetype == "text/html":
        assert_no_active_content(text)
    return text


HUGE = str(2**63)  # one past SQLite's largest integer
TOO_HUGE = "9" * 30


def test_numbers_beyond_sqlite_integers_get_a_404_or_are_ignored(staff_app):
    """Python ints have no limit and SQLite's stop at 2**63 - 1: a bigger one used to
    reach the database and fail there (OverflowError, a 500)."""
    admin, [sid, *_] = staff_app.fuzz["admin"], staff_app.fuzz["ids"]
    before = stored(staff_app)
    for number in (HUGE, TOO_HUGE, "9" * 5000):
        for path in (f"/staff/submissions/{number}", f"/staff/submissions/{number}/summary.pdf"):
            assert "Page not found" in check_polite(admin.get(path), (404,)), path
        response = admin.post(
            f"/staff/submissions/{number}/decision",
            data={"csrf_token": staff_app.fuzz["token"], "decision": "cleared"},
        )
        check_polite(response, (404,))
        for query in (
            f"after=0~x~{number}",
            f"before={number}~2020-01-01~1",
            f"after={number}~{number}~{number}",
            f"before=1~x~-{number}",
        ):
            text = check_polite(admin.get(f"/staff/?decided=all&{query}"))
            assert "Screening queue" in text, query
        for query in (f"before={number}", f"submission={number}", "before=²", "before=١٢"):
            assert "Audit log" in check_polite(admin.get(f"/staff/audit?{query}")), query
    assert stored(staff_app) == before
    # The control: ordinary ids and cursors still work.
    assert STAFF_NAME in check_polite(admin.get(f"/staff/submissions/{sid}"))
    first = check_polite(admin.get("/staff/?decided=all"))
    assert first.count(STAFF_NAME) == 3


FILTERS = {  # page -> (its filter fields and a valid value each, what the page says)
    "/staff/": (
        {
            "outcome": "refer",
            "decided": "all",
            "since": (TODAY - dt.timedelta(days=30)).isoformat(),
            "until": TODAY.isoformat(),
            "after": "",
            "before": "",
            "last": "",
        },
        "Screening queue",
    ),
    "/staff/day": ({"date": (TODAY + dt.timedelta(days=7)).isoformat()}, "Clients for"),
    "/staff/audit": (
        {
            "action": "decision",
            "username": "fuzz-admin",
            "submission": "2",
            "date": TODAY.isoformat(),
            "before": "",
        },
        "Audit log",
    ),
}
DATE_FIELDS = {"since": "Submitted from", "until": "Submitted until", "date": "Date"}
CHOICES = {
    "outcome": ("refer", "defer", "review", "prep", "clear"),
    "decided": ("no", "yes", "all"),
}
LENGTHS = {"action": 40, "username": 64, "submission": 12}
FILTER_TEXT = HOSTILE_TEXT + [
    "0001-01-01",
    "0001-01-02",
    "9999-12-30",
    "1970-01-01",
    "2038-01-19",
    HUGE,
    TOO_HUGE,
    f"0~x~{HUGE}",
    "4~2020-01-01T00:00:00+00:00~1",
    "~~",
    "1~~",
    "²",
    "refer",
    "all",
    "yes",
    "decision",
    "login_failed",
]


def filter_values() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from(FILTER_TEXT),
        st.text(max_size=30),
        st.binary(max_size=16),
        st.dates().map(dt.date.isoformat),
        st.integers(-(10**25), 10**25).map(str),
        st.builds(
            lambda s, n: s * n,
            st.sampled_from(["a", "é", "<b>", "\x00", "9 "]),
            st.integers(50, 20_000),
        ),
    )


def value_for(key) -> st.SearchStrategy:
    """Hostile values; for a date field, dates at and near the calendar's ends as often."""
    if key not in DATE_FIELDS:
        return filter_values()
    edges = st.sampled_from(
        [
            "0001-01-01",
            "0001-01-02",
            "9999-12-31",
            "9999-12-30",
            "1899-12-31",
            "3000-01-01",
            "2024-02-29",
            "2023-02-29",
        ]
    )
    return st.one_of(filter_values(), edges, st.dates().map(dt.date.isoformat))


@st.composite
def hostile_query(draw, fields):
    """A filter form's valid query, then broken as in hostile_pairs."""
    keys = st.one_of(
        st.sampled_from(list(fields) + ["csrf_token", "next"]),
        st.text(min_size=1, max_size=8),
        st.binary(min_size=1, max_size=6),
    )
    pairs = [(k, v) for k, v in fields.items() if v and draw(st.integers(0, 3))]
    pairs = [(k, draw(value_for(k)) if draw(st.booleans()) else v) for k, v in pairs]
    pairs += draw(st.lists(st.tuples(keys, filter_values()), max_size=4))
    pairs += draw(
        st.lists(
            st.sampled_from(list(fields)).flatmap(lambda k: st.tuples(st.just(k), value_for(k))),
            max_size=2,
        )
    )
    return draw(st.permutations(pairs)) if draw(st.booleans()) else pairs


def query_string(pairs) -> str:
    """Keys and values percent-encoded; bytes values as they are (maybe not UTF-8)."""

    def part(value) -> str:
        return quote_from_bytes(
            value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        )

    return "&".join(part(k) + "=" + part(v) for k, v in pairs)


def expected_errors(pairs, fields) -> dict[str, str]:
    """This page's filter fields sent once whose value it must call wrong (field -> label)."""
    sent: dict[str, list[str]] = {}
    for key, value in pairs:
        key = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
        value = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        sent.setdefault(key, []).append(value)
    wrong = {}
    for key, [value] in ((k, v) for k, v in sent.items() if len(v) == 1 and k in fields):
        if key in DATE_FIELDS and value.strip():
            try:
                day = dt.datetime.strptime(value, "%Y-%m-%d").date()
            except ValueError:
                day = None
            if day is None or day.year in (1, 9999):
                wrong[key] = DATE_FIELDS[key]
        elif key in CHOICES and value not in CHOICES[key] and (key != "outcome" or value.strip()):
            wrong[key] = key.title() if key == "outcome" else "Decision"
        elif key in LENGTHS and value.strip() and len(value) > LENGTHS[key]:
            wrong[key] = key
    return wrong


@pytest.mark.parametrize("path", list(FILTERS))
def test_hostile_staff_filters_get_the_page_with_field_errors(staff_app, path, caplog):
    """The queue, day and audit filters (GET): wrong types, repeated and unknown keys,
    huge values, null bytes, invalid UTF-8, dates at the calendar's edges (which used to
    overflow computing the next day: a 500), unknown choice ids."""
    admin = staff_app.fuzz["admin"]
    fields, heading = FILTERS[path]
    before = stored(staff_app)

    @STAFF_BAD_INPUT
    @given(pairs=hostile_query(fields))
    @example(pairs=[("since", "0001-01-01"), ("date", "0001-01-01")])  # the calendar's ends
    @example(pairs=[("until", "9999-12-31"), ("date", "9999-12-31")])
    def attempt(pairs):
        TRIED["count"] += 1
        response = admin.get(f"{path}?{query_string(pairs)}")
        text = check_polite(response)
        REPLIES[response.status_code] = REPLIES.get(response.status_code, 0) + 1
        assert heading in text and "<form" in text
        shown = re.findall(r'<p class="error-message"[^>]*>([^<]*)</p>', text)
        for key, label in expected_errors(pairs, fields).items():
            if key in DATE_FIELDS or key in CHOICES:  # the length errors say their limit
                assert any(message.startswith(label) for message in shown), (key, shown)
            else:
                assert shown, key
        assert stored(staff_app) == before

    tried = TRIED["count"]
    attempt()
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    print(f"\nbad input: {TRIED['count'] - tried} hostile queries to {path}")


STAFF_TEXT = HOSTILE_TEXT + [
    "cleared",
    "refer_dermatology",
    "defer_until",
    "consult",
    "Cleared",
    "cleared ",
    "refer",
    "provider",
    "front_desk",
    "admin",
    "root",
    "fuzz-admin",
    " fuzz-admin ",
    "FUZZ-ADMIN",
    "correct horse battery staple",
    (TODAY + dt.timedelta(days=14)).isoformat(),
    (TODAY - dt.timedelta(days=1)).isoformat(),
    "a/b",
    "..",
    ".",
    "a b",
    "a\tb",
    "x" * 65,
    "//evil.example/",
    "https://evil.example/",
    "/\\evil.example",
    "javascript:alert(1)",
    "/staff/day",
    "/staff/../staff/audit",
    "a\x1b[2Jb",
    "note\r\nline two",
    "\x7f",
]


def staff_values(qn) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(STAFF_TEXT), values_for(qn))


@st.composite
def hostile_form(draw, qn, valid: dict):
    """A staff form's valid post, then broken: fields dropped, values swapped for hostile
    ones, unknown and repeated keys, the order shuffled."""
    values = staff_values(qn)
    keys = st.one_of(
        st.sampled_from(list(valid) + ["csrf_token", "next", "id", "user_id"]),
        st.text(min_size=1, max_size=10),
        st.binary(min_size=1, max_size=6),
    )
    pairs = [(k, v) for k, v in valid.items() if draw(st.integers(0, 4))]
    pairs = [(k, draw(values) if draw(st.integers(0, 2)) == 0 else v) for k, v in pairs]
    pairs += draw(st.lists(st.tuples(keys, values), max_size=4))
    if pairs and draw(st.booleans()):
        key = draw(st.sampled_from([k for k, _ in pairs]))
        pairs.insert(draw(st.integers(0, len(pairs))), (key, draw(values)))
    return draw(st.permutations(pairs)) if draw(st.booleans()) else pairs


def post_form(client, path: str, pairs, token: str, raw: bool, multipart: bool, **kwargs):
    """Post as a tampered browser would: url-encoded (bytes raw or quoted) or multipart."""
    if multipart:
        fields = [("csrf_token", token)] + [
            (
                k.decode("latin-1") if isinstance(k, bytes) else k,
                v.decode("latin-1") if isinstance(v, bytes) else v,
            )
            for k, v in pairs
        ]
        environ = EnvironBuilder(
            method="POST", data=MultiDict(fields), content_type="multipart/form-data"
        ).get_environ()
        body = environ["wsgi.input"].read()
        return body, client.post(path, data=body, content_type=environ["CONTENT_TYPE"], **kwargs)
    body = encode(pairs, token, raw)
    return body, client.post(
        path, data=body, content_type="application/x-www-form-urlencoded", **kwargs
    )


def sent(pairs, key: str) -> list[str]:
    """The values posted for a key, as the app reads them."""
    return [
        (v.decode("utf-8", "replace") if isinstance(v, bytes) else v)
        for k, v in pairs
        if (k.decode("utf-8", "replace") if isinstance(k, bytes) else k) == key
    ]


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def run_staff_fuzz(attempt, name: str, caplog) -> None:
    tried, before = TRIED["count"], dict(REPLIES)
    attempt()
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    replies = {k: v - before.get(k, 0) for k, v in sorted(REPLIES.items()) if v > before.get(k, 0)}
    print(
        f"\nbad input: {TRIED['count'] - tried} hostile posts to {name} "
        f"(replies by status: {replies})"
    )


@pytest.mark.parametrize(
    "where, page, heading",
    [("queue", "/staff/", "Screening queue"), ("day", "/staff/day", "Clients for")],
)
def test_hostile_name_searches_are_kept_or_refused_politely(
    staff_app, where, page, heading, caplog
):
    """The name search is posted and kept in the session (names stay out of URLs): any
    text up to 100 characters is searched for, a longer one gets a message; a `back` that
    is not a staff page is ignored; the page afterwards is polite and nothing is stored."""
    qn = staff_app.extensions["questionnaire"]
    admin = staff_app.fuzz["admin"]
    valid = {"q": "Pérez", "back": page}
    limit = staff_app.config["MAX_CONTENT_LENGTH"]
    before = stored(staff_app)

    @STAFF_BAD_INPUT
    @given(pairs=hostile_form(qn, valid), raw=st.booleans(), multipart=st.integers(0, 7))
    @example(pairs=[("q", "x" * 101)], raw=False, multipart=1)
    @example(pairs=[("q", "a\x00b"), ("back", "//evil.example/")], raw=True, multipart=0)
    def attempt(pairs, raw, multipart):
        TRIED["count"] += 1
        token = csrf_token(admin.get(page).text)
        body, response = post_form(
            admin, f"/staff/search/{where}", pairs, token, raw, multipart == 0
        )
        REPLIES[response.status_code] = REPLIES.get(response.status_code, 0) + 1
        if len(body) > limit:
            assert "Too much text" in check_polite(response, (413,))
            return
        check_polite(response, (302,))
        assert response.location.startswith("/staff/"), response.location
        shown = check_polite(admin.get(page))
        assert heading in shown and "<form" in shown
        first = next(
            (
                (k, v)
                for k, v in pairs
                if (k.decode("utf-8", "replace") if isinstance(k, bytes) else k) == "q"
            ),
            None,
        )
        if first and isinstance(first[0], str) and isinstance(first[1], str):
            assert ("at most 100 characters" in shown) == (len(first[1]) > 100), len(first[1])
        assert stored(staff_app) == before

    run_staff_fuzz(attempt, f"/staff/search/{where}", caplog)


def test_hostile_staff_logins_get_a_polite_page_and_log_nobody_in(staff_app, caplog):
    """The login form (and its ?next=): a 302 only for the right name and password, and
    then only to a local path; otherwise a field error, the no-match or the lockout page;
    never a new user, never a session."""
    qn = staff_app.extensions["questionnaire"]
    valid = {"username": "fuzz-admin", "password": PASSWORD}
    limit = staff_app.config["MAX_CONTENT_LENGTH"]
    users = table(staff_app, "users")

    @STAFF_BAD_INPUT
    @given(
        pairs=hostile_form(qn, valid),
        raw=st.booleans(),
        multipart=st.integers(0, 7),
        next_url=st.one_of(st.none(), staff_values(qn)),
    )
    def attempt(pairs, raw, multipart, next_url):
        TRIED["count"] += 1
        client = staff_app.test_client()  # a fresh browser: a success logs it in
        token = csrf_token(client.get("/staff/login").text)
        path = "/staff/login" + (
            "" if next_url is None else "?next=" + query_string([("", next_url)])[1:]
        )
        sessions = len(table(staff_app, "staff_sessions"))
        address = (
            f"10.{TRIED['count'] // 65536 % 256}.{TRIED['count'] // 256 % 256}."
            f"{TRIED['count'] % 256}"
        )  # each try from its own address: no lockout
        body, response = post_form(
            client, path, pairs, token, raw, multipart == 0, environ_base={"REMOTE_ADDR": address}
        )
        REPLIES[response.status_code] = REPLIES.get(response.status_code, 0) + 1
        assert table(staff_app, "users") == users
        if len(body) > limit:
            assert "Too much text" in check_polite(response, (413,))
            return
        text = check_polite(response, (302, 401, 422, 429))
        if response.status_code == 302:
            assert [u.strip() for u in sent(pairs, "username")][:1] == ["fuzz-admin"]
            assert sent(pairs, "password")[:1] == [PASSWORD]
            assert response.location.startswith("/") and not response.location.startswith(
                ("//", "/\\")
            ), response.location
            assert len(table(staff_app, "staff_sessions")) == sessions + 1
            return
        assert len(table(staff_app, "staff_sessions")) == sessions
        expected = {
            401: "do not match an active account",
            422: 'class="error-message"',
            429: "paused for 15 minutes",
        }[response.status_code]
        assert expected in text

    run_staff_fuzz(attempt, "/staff/login", caplog)


def test_hostile_decisions_get_field_errors_and_store_nothing(staff_app, caplog):
    """The decision form: unknown decision ids, deferral dates missing, past, huge or not
    dates, notes too long or holding control characters: a field error and no decision
    row; a valid one exactly one row, as posted."""
    qn = staff_app.extensions["questionnaire"]
    admin, sid = staff_app.fuzz["admin"], staff_app.fuzz["ids"][0]
    valid = {
        "decision": "defer_until",
        "defer_until": (TODAY + dt.timedelta(days=14)).isoformat(),
        "note": "Seen in clinic",
    }
    limit = staff_app.config["MAX_CONTENT_LENGTH"]
    path = f"/staff/submissions/{sid}/decision"

    @STAFF_BAD_INPUT
    @given(pairs=hostile_form(qn, valid), raw=st.booleans(), multipart=st.integers(0, 7))
    @example(pairs=[("decision", "cleared"), ("note", "a\x00b")], raw=False, multipart=1)
    @example(pairs=[("decision", "consult"), ("note", "\x1b[2J")], raw=True, multipart=0)
    def attempt(pairs, raw, multipart):
        TRIED["count"] += 1
        before = stored(staff_app)
        body, response = post_form(admin, path, pairs, staff_app.fuzz["token"], raw, multipart == 0)
        REPLIES[response.status_code] = REPLIES.get(response.status_code, 0) + 1
        after = stored(staff_app)
        if len(body) > limit:
            assert "Too much text" in check_polite(response, (413,))
            assert after == before
            return
        text = check_polite(response, (302, 422))
        if response.status_code == 422:
            assert 'id="error-summary"' in text and STAFF_NAME in text
            assert after == before  # no decision row, the submission as it was
            return
        # Saved: on to the next submission waiting in the queue's order. None comes after
        # this one (the sunburn client, a "defer", is ahead of it), so: the queue.
        assert response.location == "/staff/"
        [row] = after["decisions"][len(before["decisions"]) :]
        _, submission_id, decision, defer_until, note, *_ = row
        assert submission_id == sid and decision == sent(pairs, "decision")[0]
        assert decision in ("cleared", "refer_dermatology", "defer_until", "consult")
        assert (defer_until is not None) == (decision == "defer_until")
        assert defer_until is None or defer_until >= TODAY.isoformat()
        assert len(note) <= 2000 and not CONTROL.search(note.replace("\n", "")), note[:80]

    run_staff_fuzz(attempt, path, caplog)


USERNAME = re.compile(r"[\w.@+-]{1,64}")


def test_hostile_new_accounts_get_field_errors_and_create_nobody(staff_app, caplog):
    """The new-account form: unknown roles, names with spaces, slashes, dots only or
    control characters, huge values: a field error and no user; a valid one one user,
    whose name works in its disable link."""
    qn = staff_app.extensions["questionnaire"]
    admin = staff_app.fuzz["admin"]
    token = csrf_token(admin.get("/staff/users").text)
    valid = {"username": "new.person", "name": "New Person", "role": "front_desk"}
    limit = staff_app.config["MAX_CONTENT_LENGTH"]

    @STAFF_BAD_INPUT
    @given(pairs=hostile_form(qn, valid), raw=st.booleans(), multipart=st.integers(0, 7))
    @example(pairs=[("username", "a/b"), ("role", "admin")], raw=False, multipart=1)
    @example(pairs=[("username", ".."), ("role", "admin")], raw=False, multipart=1)
    @example(pairs=[("username", "a\x00b"), ("role", "admin")], raw=False, multipart=1)
    @example(
        pairs=[("username", "c.d"), ("name", "\x07"), ("role", "admin")], raw=False, multipart=1
    )
    def attempt(pairs, raw, multipart):
        TRIED["count"] += 1
        before = stored(staff_app)
        body, response = post_form(admin, "/staff/users", pairs, token, raw, multipart == 0)
        REPLIES[response.status_code] = REPLIES.get(response.status_code, 0) + 1
        after = stored(staff_app)
        if len(body) > limit:
            assert "Too much text" in check_polite(response, (413,))
            assert after == before
            return
        text = check_polite(response, (200, 422))
        if response.status_code == 422:
            assert 'id="error-summary"' in text and after == before
            return
        assert "Account created" in text
        [user] = after["users"][len(before["users"]) :]
        _, username, name, role, *_ = user
        assert USERNAME.fullmatch(username) and username.strip("."), username
        assert not CONTROL.search(name or ""), name
        assert role in ("provider", "front_desk", "admin")
        link = re.search(  # to a page that asks for confirmation, whose form disables
            r'href="(/staff/users/[^"]*/disable)"', text.split(f"<td>{escape(username)}</td>")[1]
        ).group(1)
        confirm = check_polite(admin.get(link.replace("&amp;", "&")))
        action = re.search(r'<form method="post" action="(/staff/users/[^"]*)"', confirm).group(1)
        assert action == link
        assert admin.post(link.replace("&amp;", "&"), data={"csrf_token": token}).status_code == 302
        assert table(staff_app, "users")[-1][5] == 0  # disabled through its own link

    run_staff_fuzz(attempt, "/staff/users", caplog)
