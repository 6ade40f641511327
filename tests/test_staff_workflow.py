"""The staff workflow (issue 16): the worklist, the next submission after a decision, a
second look before clearing, contacts, printing what is listed, logoff without loss,
account changes with confirmation, audited views, name search and date ranges."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3

import pytest
from helpers import (
    PASSWORD,
    TODAY,
    csrf_token,
    log_in,
    make_user,
    pdf_text,
    rows,
    search,
    valid_answers,
)

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def client_record(app):
    """Store a submitted screening as if answered `days_ago` days ago (so an appointment
    that has passed since was valid then); return its id."""
    from screening.content import questionnaire, rules
    from screening.store import get_db
    from screening.store.submissions import import_answers

    def make(name: str, appointment: dt.date | None = None, days_ago: int = 0, **answers) -> int:
        answered_on = TODAY - dt.timedelta(days=days_ago)
        if appointment is not None:
            answered_on = min(answered_on, appointment)
        stamp = (NOW - dt.timedelta(days=(TODAY - answered_on).days)).isoformat()
        answers = valid_answers(
            full_name=name,
            signature=name,
            appointment_date=appointment.isoformat() if appointment else None,
            **answers,
        )
        with app.app_context():
            return import_answers(get_db(), answers, questionnaire(), rules(), answered_on, stamp)

    return make


def day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


def queue_names(html: str) -> list[str]:
    return re.findall(r'<a href="/staff/submissions/\d+(?:\?[^"]*)?">([^<]+)</a>', html)


def groups(html: str) -> list[str]:
    return re.findall(r'<th scope="colgroup" colspan="7" id="group-(\w+)">', html)


def post(client, url: str, data: dict, page: str = "/staff/day", **kwargs):
    token = csrf_token(client.get(page).text)
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


def audit_rows(app, action: str | None = None) -> list[dict]:
    if action:
        return rows(app, "SELECT * FROM audit WHERE action = ? ORDER BY id", [action])
    return rows(app, "SELECT * FROM audit ORDER BY id")


# -- the worklist ---------------------------------------------------------------------------


@pytest.fixture
def worklist(client_record):
    """Clients as on a clinic's busy day: booked today and soon, not booked, booked long
    ahead, and some whose appointment has passed (one of them a refer)."""
    return {
        "Passed Refer": client_record("Passed Refer", day(-2), days_ago=10, active_acne=True),
        "Passed Clear": client_record("Passed Clear", day(-1), days_ago=5),
        "Unbooked Old": client_record("Unbooked Old", None, days_ago=6),
        "Unbooked Defer": client_record("Unbooked Defer", None, days_ago=1, sunburn_recent=True),
        "Far Ahead": client_record("Far Ahead", day(20), days_ago=2, active_acne=True),
        "In Three Days": client_record("In Three Days", day(3), days_ago=3),
        "Today Clear": client_record("Today Clear", day(0), days_ago=4),
        "Today Refer": client_record("Today Refer", day(0), days_ago=1, active_acne=True),
        "In A Week": client_record("In A Week", day(7), days_ago=0),
    }


def test_the_default_queue_is_a_worklist_of_appointments_first(staff, worklist):
    """Booked in the coming days first, soonest first (a same-day tie: most severe first);
    then the rest by severity and waiting time (a booking weeks ahead among them); past
    appointments last, in their own group, most recent first; counts for each group."""
    page = staff("provider").get("/staff/").text
    assert queue_names(page) == [
        "Today Refer",
        "Today Clear",
        "In Three Days",
        "In A Week",
        "Far Ahead",  # refer
        "Unbooked Defer",
        "Unbooked Old",  # prep or clear, waiting 6 days
        "Passed Clear",  # yesterday's
        "Passed Refer",  # the day before
    ]
    assert groups(page) == ["upcoming", "unbooked", "past"]
    counts = re.findall(r'<li class="count count-(\w+)"><b>(\d+)</b> ([^<]+)</li>', page)
    assert counts == [
        ("upcoming", "4", "Appointment in the next 7 days"),
        ("unbooked", "3", "No appointment in the next 7 days"),
        ("past", "2", "Appointment date passed"),
    ]
    assert '<span class="today">today</span>' in page


def test_the_severity_order_stays_available_as_a_filter(staff, worklist):
    page = staff("provider").get("/staff/?order=severity").text
    names = queue_names(page)
    assert names[:4] == ["Passed Refer", "Far Ahead", "Today Refer", "Unbooked Defer"]
    assert groups(page) == [] and "<b>9</b> waiting for a decision" in page


def test_worklist_counts_follow_the_filters(staff, worklist):
    provider = staff("provider")
    page = provider.get("/staff/?outcome=refer").text
    assert queue_names(page) == ["Today Refer", "Far Ahead", "Passed Refer"]
    assert re.findall(r"<b>(\d+)</b>", page) == ["1", "1", "1"]
    search(provider, "queue", "passed")
    assert queue_names(provider.get("/staff/").text) == ["Passed Clear", "Passed Refer"]


# "clear": since version 2 the commonest outcome (no rule fires for everyone any more).
@pytest.mark.parametrize("outcome", ["", "clear"])
@pytest.mark.parametrize("order", ["worklist", "severity"])
def test_every_submission_once_paging_forward_and_back(app, staff, order, outcome):
    """Keyset pages across the worklist's groups: forward, back and last agree (with an
    outcome filter too, which leaves the severity out of the cursor's comparison)."""
    import random

    from screening.content import questionnaire, rules
    from screening.demo import seed
    from screening.store import get_db

    with app.app_context():
        seed(get_db(), questionnaire(), rules(), 200, random.Random(3), TODAY)
    client = staff("provider")

    def ids(html: str) -> list[str]:
        return re.findall(r'href="/staff/submissions/(\d+)\?', html)

    query = f"order={order}&decided=all&outcome={outcome}"
    expected = rows(
        app,
        "SELECT count(*) AS n FROM submissions WHERE status = 'submitted' AND outcome LIKE ?",
        [outcome or "%"],
    )[0]["n"]
    assert expected > 60
    seen, page = [], client.get(f"/staff/?{query}").text
    pages = [page]
    while nxt := re.search(r'href="([^"]*after=[^"]*)" rel="next"', page):
        page = client.get(nxt.group(1).replace("&amp;", "&")).text
        pages.append(page)
    for page in pages:
        seen += ids(page)
    assert len(seen) == len(set(seen)) == expected and len(pages) == -(-expected // 50)
    last = client.get(f"/staff/?{query}&last=1").text
    assert ids(last) == seen[-50:]  # "Last": the last 50 in the order
    prev = re.search(r'href="([^"]*before=[^"]*)" rel="prev"', last).group(1)
    assert ids(client.get(prev.replace("&amp;", "&")).text) == seen[-100:-50]


def test_large_group_counts_stop_at_the_cap(staff, worklist, monkeypatch):
    """Counting 55,000 waiting rows cost more than the page: a count stops past the cap."""
    from screening.store import lists

    monkeypatch.setattr(lists, "COUNT_CAP", 3)
    page = staff("provider").get("/staff/").text
    assert re.findall(r"<b>([^<]+)</b>", page) == ["3+", "3", "2"]
    assert 'Appointment in the next 7 days <span class="muted">· 3+ ·' in page


def test_a_cursor_is_a_group_and_an_id_never_a_date_or_a_name(app, staff):
    """Pager links hold no appointment date (a client's answer) nor time: a group and an id."""
    import random

    from screening.content import questionnaire, rules
    from screening.demo import seed
    from screening.store import get_db

    with app.app_context():
        seed(get_db(), questionnaire(), rules(), 60, random.Random(8), TODAY)
    provider = staff("provider")
    first = provider.get("/staff/?decided=all").text
    after = re.search(r'href="([^"]*after=[^"]*)" rel="next"', first).group(1)
    second = provider.get(after.replace("&amp;", "&")).text
    links = re.findall(r"(?:after|before)=([^&\"]+)", first + second)
    assert len(links) >= 3
    assert all(re.fullmatch(r"[0-9]~[0-9]+", key) for key in links), links


# -- a decision, then the next submission ---------------------------------------------------


def test_saving_a_decision_opens_the_next_undecided_submission_in_the_same_order(staff, worklist):
    provider = staff("provider")
    queue = provider.get("/staff/?outcome=refer&order=worklist").text
    first = re.search(r'href="(/staff/submissions/(\d+)\?[^"]*)"', queue)
    url, sid = first.group(1).replace("&amp;", "&"), int(first.group(2))
    assert sid == worklist["Today Refer"]
    page = provider.get(url).text
    assert 'href="/staff/?outcome=refer&amp;order=worklist" data-shortcut="q"' in page
    response = provider.post(
        url.replace(f"/submissions/{sid}", f"/submissions/{sid}/decision"),
        data={"csrf_token": csrf_token(page), "decision": "refer_dermatology", "note": ""},
    )
    far = worklist["Far Ahead"]
    assert response.status_code == 302
    assert response.location == f"/staff/submissions/{far}?outcome=refer&order=worklist"
    following = provider.get(response.location).text
    assert "This is the next submission waiting for a decision." in following
    assert "<h1>Far Ahead</h1>" in following
    # The last one in this list: back to the queue, filters kept.
    passed = worklist["Passed Refer"]
    response = provider.post(
        f"/staff/submissions/{passed}/decision?outcome=refer&order=worklist",
        data={"csrf_token": csrf_token(page), "decision": "consult", "note": ""},
    )
    assert response.location == "/staff/?outcome=refer&order=worklist"
    assert "Nothing else in this list is waiting" in provider.get(response.location).text


def test_back_to_the_queue_keeps_filters_and_page(app, staff):
    import random

    from screening.content import questionnaire, rules
    from screening.demo import seed
    from screening.store import get_db

    with app.app_context():
        seed(get_db(), questionnaire(), rules(), 80, random.Random(5), TODAY)
    provider = staff("provider")
    first = provider.get("/staff/?decided=all").text
    second_url = re.search(r'href="([^"]*after=[^"]*)" rel="next"', first).group(1)
    second = provider.get(second_url.replace("&amp;", "&")).text
    link = re.search(r'href="(/staff/submissions/\d+\?[^"]*)"', second).group(1)
    assert "decided=all" in link and "after=" in link
    page = provider.get(link.replace("&amp;", "&")).text
    back = re.search(r'<a href="([^"]*)" data-shortcut="q"', page).group(1)
    assert back == second_url  # the same filters, the same page
    assert provider.get(back.replace("&amp;", "&")).text.count("submissions/") >= 30


def test_next_and_previous_follow_the_queue_with_their_shortcuts_listed(staff, worklist):
    provider = staff("provider")
    page = provider.get(f"/staff/submissions/{worklist['In Three Days']}").text
    prev = re.search(r'<a href="/staff/submissions/(\d+)" rel="prev" data-shortcut="p"', page)
    nxt = re.search(r'<a href="/staff/submissions/(\d+)" rel="next" data-shortcut="n"', page)
    assert int(prev.group(1)) == worklist["Today Clear"]
    assert int(nxt.group(1)) == worklist["In A Week"]
    assert 'id="decision-form" data-shortcut="d"' in page
    listed = re.search(r'<p class="shortcuts[^>]*>(.*?)</p>', page).group(1)
    assert re.sub(r"<[^>]+>", "", listed) == (
        "Keyboard: n next, p previous, d the decision form, q back to the queue."
    )
    first = provider.get(f"/staff/submissions/{worklist['Today Refer']}").text
    assert 'rel="prev"' not in first  # nothing before the first


# -- clearing a refer or a defer ------------------------------------------------------------


@pytest.mark.parametrize(
    "answers, outcome", [({"active_acne": True}, "Refer"), ({"sunburn_recent": True}, "Defer")]
)
def test_clearing_a_refer_or_defer_needs_a_confirmation_and_a_note(
    app, staff, client_record, answers, outcome
):
    sid = client_record("Second Look", day(3), **answers)
    provider = staff("provider")
    page = provider.get(f"/staff/submissions/{sid}").text
    assert "I have read the flags and clear this client anyway" in page
    url, token = f"/staff/submissions/{sid}/decision", csrf_token(page)
    refused = provider.post(url, data={"csrf_token": token, "decision": "cleared", "note": ""})
    assert refused.status_code == 422
    assert f"Say why you clear a client whose outcome is {outcome}." in refused.text
    assert f"The outcome is {outcome}: tick to confirm that you clear this client." in (
        refused.text
    )
    unnoted = provider.post(
        url, data={"csrf_token": token, "decision": "cleared", "confirm_clear": "y"}
    )
    assert unnoted.status_code == 422 and "Say why you clear" in unnoted.text
    unconfirmed = provider.post(
        url, data={"csrf_token": token, "decision": "cleared", "note": "Checked"}
    )
    assert unconfirmed.status_code == 422 and "tick to confirm" in unconfirmed.text
    assert rows(app, "SELECT count(*) AS n FROM decisions")[0]["n"] == 0
    done = provider.post(
        url,
        data={
            "csrf_token": token,
            "decision": "cleared",
            "confirm_clear": "y",
            "note": "Seen: lesion healed",
        },
    )
    assert done.status_code == 302
    assert rows(app, "SELECT decision, note FROM decisions") == [
        {"decision": "cleared", "note": "Seen: lesion healed"}
    ]


def test_other_decisions_and_other_outcomes_need_no_confirmation(app, staff, client_record):
    refer = client_record("Refer Consult", day(3), active_acne=True)
    plain = client_record("Plain Client", day(3))
    provider = staff("provider")
    page = provider.get(f"/staff/submissions/{plain}").text
    assert "clear this client anyway" not in page
    for sid, decision in ((refer, "consult"), (plain, "cleared")):
        response = post(
            provider, f"/staff/submissions/{sid}/decision", {"decision": decision, "note": ""}
        )
        assert response.status_code == 302, (decision, response.text[:500])


# -- phone numbers and contacts -------------------------------------------------------------


def test_phone_is_a_tel_link_and_a_contact_joins_the_history(app, staff, client_record):
    sid = client_record("Call Me", day(2), phone="+1 (555) 010-0199")
    provider = staff("provider")
    page = provider.get(f"/staff/submissions/{sid}").text
    assert '<a href="tel:+15550100199">+1 (555) 010-0199</a>' in page
    refused = post(provider, f"/staff/submissions/{sid}/contact", {"contact-note": "Hi"})
    assert refused.status_code == 422
    assert "Choose how you contacted the client." in refused.text
    response = post(
        provider,
        f"/staff/submissions/{sid}/contact?order=severity",
        {"contact-method": "phone", "contact-note": "Booked a patch test"},
    )
    assert response.status_code == 302
    assert response.location == f"/staff/submissions/{sid}?order=severity"
    post(provider, f"/staff/submissions/{sid}/decision", {"decision": "consult", "note": ""})
    history = provider.get(f"/staff/submissions/{sid}").text.split('id="history"')[1]
    history = history.split("</ol>")[0]
    assert history.index("Needs a consultation") < history.index("Contacted: Phone call")
    assert "by Test provider," in history and "Booked a patch test" in history
    [row] = audit_rows(app, "contact")
    assert (row["submission_id"], row["detail"], row["username"]) == (
        sid,
        "phone",
        "provider-user",
    )
    conn = sqlite3.connect(app.config["DATABASE"])
    with pytest.raises(sqlite3.IntegrityError, match="never changed or removed"):
        conn.execute("UPDATE contacts SET note = 'changed'")
    conn.close()


# -- printing what is listed ----------------------------------------------------------------


def print_button(html: str) -> tuple[str, str]:
    found = re.search(r'<a class="button" href="([^"]*)" data-print-count="\d+">([^<]*)</a>', html)
    return found.group(1).replace("&amp;", "&"), found.group(2)


def test_a_filtered_day_list_prints_exactly_what_it_lists(app, staff, client_record):
    for name in ("Ann O'Brien", "Bob O'Brien", "Cat Other", "Dan Other"):
        client_record(name, day(1))
    desk = staff("front_desk")
    listing = f"/staff/day?date={day(1).isoformat()}"
    url, label = print_button(desk.get(listing).text)
    assert (url, label) == (f"/staff/day/{day(1).isoformat()}.pdf", "Print all 4 summaries (PDF)")
    search(desk, "day", "ann")
    url, label = print_button(desk.get(listing).text)
    ann = rows(app, "SELECT id FROM submissions WHERE client_name = 'Ann O''Brien'")[0]["id"]
    assert (url, label) == (f"/staff/submissions/{ann}/summary.pdf", "Print this summary (PDF)")
    text = pdf_text(desk.get(url).data)
    assert "Ann O'Brien" in text and "Bob" not in text and "Other" not in text
    search(desk, "day", "obrien")
    url, label = print_button(desk.get(listing).text)
    assert label == "Print these 2 summaries (PDF)" and "/selected.pdf?id=" in url
    response = desk.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "Ann O'Brien" in text and "Bob O'Brien" in text and "Other" not in text
    assert "2 clients" in text and "matching a name search" in text
    ids = sorted(
        r["id"] for r in rows(app, "SELECT id FROM submissions WHERE name_key LIKE '%brien'")
    )
    [row] = audit_rows(app, "print_batch")
    assert row["detail"] == f"{day(1).isoformat()}: {ids[0]},{ids[1]}"
    assert "O'Brien" not in json.dumps(audit_rows(app))


def test_a_batch_of_more_than_ten_asks_first(app, staff, client_record):
    for number in range(11):
        client_record(f"Client Number{number:02d}", day(2))
    desk = staff("front_desk")
    url, label = print_button(desk.get(f"/staff/day?date={day(2).isoformat()}").text)
    assert label == "Print all 11 summaries (PDF)"
    ask = desk.get(url)
    assert ask.status_code == 200 and ask.mimetype == "text/html"
    assert "<h1>Print 11 summaries?</h1>" in ask.text
    assert audit_rows(app, "print_day") == []
    confirmed = re.search(r'<a class="button" href="([^"]*)">Print all 11', ask.text).group(1)
    response = desk.get(confirmed.replace("&amp;", "&"))
    assert response.mimetype == "application/pdf" and "11 clients" in pdf_text(response.data)
    [row] = audit_rows(app, "print_day")
    ids = [r["id"] for r in rows(app, "SELECT id FROM submissions ORDER BY name_key")]
    assert row["detail"] == f"{day(2).isoformat()}: {','.join(map(str, ids))}"
    # A selected batch asks too; ids that are not on that day are left out.
    search(desk, "day", "client")
    selected, label = print_button(desk.get(f"/staff/day?date={day(2).isoformat()}").text)
    assert label == "Print these 11 summaries (PDF)"
    assert "Print 11 summaries?" in desk.get(selected).text
    other = client_record("Other Day", day(5))
    assert desk.get(f"/staff/day/{day(2).isoformat()}/selected.pdf?id={other}").status_code == 404
    for bad in ("id=x", "id=", "", "id=" + "9" * 30, "id=²"):
        assert desk.get(f"/staff/day/{day(2).isoformat()}/selected.pdf?{bad}").status_code == 404


# -- logoff: the note stays in the browser, the provider comes back -------------------------


def idle(app) -> None:
    conn = sqlite3.connect(app.config["DATABASE"])
    conn.execute(
        "UPDATE staff_sessions SET last_seen = ?", [(NOW - dt.timedelta(hours=1)).isoformat()]
    )
    conn.commit()
    conn.close()


def test_a_decision_posted_after_idle_logoff_returns_to_the_submission(app, staff, client_record):
    """The post reaches the login wall: the login page, then the submission (with the
    queue's filters), never a 405. The note is not sent on: the browser keeps it."""
    sid = client_record("Typed Note", day(2))
    provider = staff("provider")
    page = provider.get(f"/staff/submissions/{sid}?order=severity").text
    back = re.search(r'name="back" value="([^"]*)"', page).group(1).replace("&amp;", "&")
    assert back == f"/staff/submissions/{sid}?order=severity"
    idle(app)
    response = provider.post(
        f"/staff/submissions/{sid}/decision?order=severity",
        data={
            "csrf_token": csrf_token(page),
            "decision": "consult",
            "note": "private words",
            "back": back,
        },
    )
    assert response.status_code == 302
    assert response.location.startswith("/staff/login?next=")
    assert "private" not in response.location
    login = provider.get(response.location)
    assert "without activity" in login.text
    again = provider.post(
        response.location,
        data={
            "csrf_token": csrf_token(login.text),
            "username": "provider-user",
            "password": PASSWORD,
        },
    )
    assert again.location == f"/staff/submissions/{sid}?order=severity"
    landed = provider.get(again.location)
    assert landed.status_code == 200 and "<h1>Typed Note</h1>" in landed.text
    assert rows(app, "SELECT count(*) AS n FROM decisions")[0]["n"] == 0


def test_a_post_without_any_session_goes_to_login_not_an_error_page(app, client_record):
    """The session cookie itself gone (expired, cleared): no CSRF session either. Staff
    posts go to the login page and back to the page their form was on."""
    make_user(app, "dana", "provider")
    sid = client_record("Nobody Home", day(2))
    fresh = app.test_client()
    for url in (
        f"/staff/submissions/{sid}/decision",
        f"/staff/submissions/{sid}/contact",
        "/staff/search/queue",
        "/staff/users/dana/enable",
    ):
        response = fresh.post(
            url, data={"csrf_token": "stale", "back": f"/staff/submissions/{sid}"}
        )
        assert response.status_code == 302, url
        assert response.location == f"/staff/login?next=/staff/submissions/{sid}", url
    assert "Please log in again" in fresh.get("/staff/login").text
    assert log_in(fresh, "dana", next_url=f"/staff/submissions/{sid}").status_code == 302


def test_a_post_without_a_back_field_returns_to_its_address_if_that_is_a_page(app, staff):
    make_user(app, "frank", "front_desk")
    admin = staff("admin")
    page = admin.get("/staff/users/frank/role").text
    idle(app)
    response = admin.post(
        "/staff/users/frank/role", data={"csrf_token": csrf_token(page), "role": "provider"}
    )
    assert response.location == "/staff/login?next=/staff/users/frank/role"
    assert rows(app, "SELECT role FROM users WHERE username = 'frank'") == [{"role": "front_desk"}]
    admin = staff("admin")
    page = admin.get("/staff/users").text
    idle(app)
    response = admin.post("/staff/users/frank/disable", data={"csrf_token": csrf_token(page)})
    assert response.location == "/staff/login?next=/staff/users/frank/disable"  # it asks
    assert rows(app, "SELECT active FROM users WHERE username = 'frank'") == [{"active": 1}]
    admin = staff("admin")
    page = admin.get("/staff/users").text
    idle(app)
    response = admin.post("/staff/keepalive", headers={"X-CSRFToken": csrf_token(page)})
    assert response.location == "/staff/login"  # a post-only address: no way back, no 405


def test_a_form_address_opened_as_a_page_shows_its_submission(staff, client_record):
    sid = client_record("Bookmarked", day(2))
    provider = staff("provider")
    for form in ("decision", "contact"):
        response = provider.get(f"/staff/submissions/{sid}/{form}?order=severity&x=1")
        assert response.location == f"/staff/submissions/{sid}?order=severity"


def test_stay_logged_in_counts_as_activity(app, staff):
    provider = staff("provider")
    page = provider.get("/staff/").text
    total = app.config["STAFF_IDLE_MINUTES"] * 60
    left = int(re.search(r'data-idle-seconds="(\d+)"', page).group(1))
    assert total - 5 <= left <= total and f'data-idle-total="{total}"' in page
    conn = sqlite3.connect(app.config["DATABASE"])
    nearly = (
        dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=total - 60)
    ).isoformat()
    conn.execute("UPDATE staff_sessions SET last_seen = ?", [nearly])
    conn.commit()
    response = provider.post("/staff/keepalive", headers={"X-CSRFToken": csrf_token(page)})
    assert response.status_code == 200 and response.json["seconds_left"] >= total - 5
    assert conn.execute("SELECT last_seen FROM staff_sessions").fetchone()[0] > nearly
    conn.close()
    assert app.test_client().post("/staff/keepalive").status_code in (302, 400)


def test_staff_pages_load_the_staff_script_and_client_pages_do_not(staff, client):
    assert "js/staff.js" in staff("provider").get("/staff/").text
    assert "js/staff.js" in client.get("/staff/login").text
    assert "js/staff.js" not in client.get("/").text


# -- account changes ------------------------------------------------------------------------


def test_each_account_change_asks_first_and_is_audited(app, staff, cheap_argon2):
    make_user(app, "frank", "front_desk")
    admin = staff("admin")
    users = admin.get("/staff/users").text
    for change in ("disable", "role", "password"):
        assert f'href="/staff/users/frank/{change}"' in users
    assert 'href="/staff/users/admin-user/' not in users  # not one's own account

    def confirm(change: str, data: dict | None = None):
        page = admin.get(f"/staff/users/frank/{change}")
        assert (
            page.status_code == 200
            and '<form method="post" action="/staff/users/frank/' in page.text
        )
        return admin.post(
            f"/staff/users/frank/{change}",
            data={"csrf_token": csrf_token(page.text), **(data or {})},
        )

    assert "Disable frank?" in admin.get("/staff/users/frank/disable").text
    assert confirm("disable").status_code == 302
    assert rows(app, "SELECT active FROM users WHERE username = 'frank'") == [{"active": 0}]
    assert 'href="/staff/users/frank/enable"' in admin.get("/staff/users").text
    assert "Re-enable frank?" in admin.get("/staff/users/frank/enable").text
    assert rows(app, "SELECT active FROM users WHERE username = 'frank'") == [{"active": 0}]
    assert confirm("enable").status_code == 302
    assert log_in(app.test_client(), "frank").location == "/staff/day"
    frank = app.test_client()
    log_in(frank, "frank")
    assert confirm("role", {"role": "provider"}).status_code == 302
    assert rows(app, "SELECT role FROM users WHERE username = 'frank'") == [{"role": "provider"}]
    assert frank.get("/staff/day").status_code == 302  # logged out: log in as a provider
    assert confirm("role", {"role": "boss"}).status_code == 422
    done = confirm("password")
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    password = re.search(r'<code class="password">([^<]+)</code>', done.text).group(1)
    assert log_in(app.test_client(), "frank").status_code == 401
    assert log_in(app.test_client(), "frank", password).location == "/staff/"
    assert password not in admin.get("/staff/users").text  # shown once
    changes = [
        (r["action"], r["detail"], r["username"])
        for r in audit_rows(app)
        if r["action"].startswith("user_") and r["username"] == "admin-user"
    ]
    assert changes == [
        ("user_disable", "frank", "admin-user"),
        ("user_enable", "frank", "admin-user"),
        ("user_role", "frank (front_desk -> provider)", "admin-user"),
        ("user_password", "frank", "admin-user"),
    ]
    assert password not in json.dumps(audit_rows(app))


def test_account_changes_are_for_admins_and_never_on_ones_own_account(app, staff):
    make_user(app, "frank", "front_desk")
    admin = staff("admin")
    for change in ("disable", "enable", "role", "password"):
        assert admin.get(f"/staff/users/nobody/{change}").status_code == 404
        own = admin.get(f"/staff/users/admin-user/{change}")
        assert own.status_code == 302 and own.location == "/staff/users"
        assert staff("provider").get(f"/staff/users/frank/{change}").status_code == 403
    response = post(admin, "/staff/users/admin-user/role", {"role": "front_desk"})
    assert response.status_code == 302
    assert rows(app, "SELECT role FROM users WHERE username = 'admin-user'") == [{"role": "admin"}]


# -- the audit log: every view of health data -----------------------------------------------


def test_views_of_health_data_are_audited_with_codes_never_names(app, staff, client_record):
    client_record("Secret Searchname", day(1), active_acne=True)
    provider = staff("provider")
    provider.get(f"/staff/?outcome=refer&since={day(-3).isoformat()}&until={TODAY.isoformat()}")
    search(provider, "queue", "Searchname")
    provider.get("/staff/?order=severity&decided=all&last=1")
    desk = staff("front_desk")
    desk.get(f"/staff/day?date={day(1).isoformat()}")
    search(desk, "day", "Secret")
    desk.get(f"/staff/day?date={day(1).isoformat()}")
    admin = staff("admin")
    admin.get("/staff/users")
    admin.get("/staff/audit?action=search&username=provider-user")
    views = [
        (r["action"], r["detail"])
        for r in audit_rows(app)
        if r["action"] not in ("login", "user_create")
    ]
    assert views == [
        ("view_queue", f"order=worklist decided=no outcome=refer since={day(-3)} until={TODAY}"),
        ("view_day", TODAY.isoformat()),  # the page the search was posted from (helpers)
        ("search", "queue"),
        ("view_queue", "order=severity decided=all name search page=last"),
        ("view_day", day(1).isoformat()),
        ("view_day", TODAY.isoformat()),
        ("search", "day"),
        ("view_day", f"{day(1).isoformat()} name search"),
        ("view_users", None),
        ("view_audit", "action=search username=provider-user"),
    ]
    assert "Secret" not in json.dumps(audit_rows(app)) and "Searchname" not in json.dumps(
        audit_rows(app)
    )
    shown = admin.get("/staff/audit").text
    assert "Viewed the queue" in shown and "Searched by name" in shown


# -- name search, date ranges ---------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, found",
    [
        ("obrien", ["Siobhán O'Brien"]),
        ("o'brien", ["Siobhán O'Brien"]),
        ("O’Brien", ["Siobhán O'Brien"]),
        ("brien", ["Siobhán O'Brien"]),
        ("siobhan", ["Siobhán O'Brien"]),
        ("jeanluc", ["Jean-Luc Smith-Jones"]),
        ("jean-luc", ["Jean-Luc Smith-Jones"]),
        ("luc", ["Jean-Luc Smith-Jones"]),
        ("smithjones", ["Jean-Luc Smith-Jones"]),
        ("jones", ["Jean-Luc Smith-Jones"]),
        ("o", ["Siobhán O'Brien"]),
        ("obriens", []),
    ],
)
def test_name_search_ignores_apostrophes_and_hyphens_as_it_ignores_accents(
    staff, client_record, typed, found
):
    client_record("Siobhán O'Brien", day(1))
    client_record("Jean-Luc Smith-Jones", day(1))
    provider = staff("provider")
    search(provider, "queue", typed)
    assert queue_names(provider.get("/staff/").text) == [n.replace("'", "&#39;") for n in found]


def test_the_name_index_is_rebuilt_for_names_stored_before_the_change(tmp_path):
    """A clinic's existing database: migration 0006 indexes the names it already holds."""
    from screening.store import connect
    from screening.store.lists import name_match
    from screening.store.schema import init_db, migrations

    path = tmp_path / "old.db"
    db = connect(path)
    migrations.apply(db, stop_before="0006_staff_workflow")
    db.execute(
        "INSERT INTO submissions (status, created_at, updated_at, answers, client_name) "
        "VALUES ('submitted', 'x', 'x', '{}', 'Mary-Kate D''Arcy')"
    )
    assert (
        db.execute(
            "SELECT count(*) FROM names_fts WHERE names_fts MATCH ?", [name_match("darcy")]
        ).fetchone()[0]
        == 0
    )
    db.conn.close()
    init_db(path)
    db = connect(path)
    for typed in ("darcy", "d'arcy", "marykate", "kate", "mary"):
        assert db.execute(
            "SELECT rowid FROM names_fts WHERE names_fts MATCH ?", [name_match(typed)]
        ).fetchall() == [(1,)], typed
    db.execute("UPDATE submissions SET client_name = 'Someone Else' WHERE id = 1")
    assert (
        db.execute(
            "SELECT count(*) FROM names_fts WHERE names_fts MATCH ?", [name_match("darcy")]
        ).fetchone()[0]
        == 0
    )
    db.execute("DELETE FROM submissions")
    assert (
        db.execute(
            "SELECT count(*) FROM names_fts WHERE names_fts MATCH ?", [name_match("someone")]
        ).fetchone()[0]
        == 0
    )
    db.conn.close()


def test_a_date_range_the_wrong_way_round_gets_a_field_error(staff, worklist):
    provider = staff("provider")
    page = provider.get(f"/staff/?since={TODAY.isoformat()}&until={day(-5).isoformat()}").text
    error = re.search(r'<p class="error-message" id="until-error">([^<]*)</p>', page).group(1)
    assert error == (
        "Submitted until: This date is before the “Submitted from” date: "
        "choose an end on or after the start."
    )
    assert 'aria-describedby="until-error" aria-invalid="true"' in page
    assert len(queue_names(page)) == 9  # the wrong range is not applied: nothing hidden
