"""The provider queue, a submission and its decisions, the front desk, the audit log."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from helpers import PASSWORD, TODAY, csrf_token, log_in, rows, search


def names_in_order(html: str) -> list[str]:
    # A submission's link carries the queue's filters and page (?outcome=...), for its
    # "back to the queue" and "next" links.
    return re.findall(r'<a href="/staff/submissions/\d+(?:\?[^"]*)?">([^<]+)</a>', html)


def ids_in_order(html: str) -> list[str]:
    return re.findall(r'href="/staff/submissions/(\d+)(?:\?[^"]*)?"', html)


def test_queue_orders_by_severity_then_waiting_longest(staff, submitted):
    submitted(full_name="Prep Early", signature="Prep Early")
    submitted(full_name="Refer Person", signature="Refer Person", active_acne=True)
    submitted(full_name="Review Person", signature="Review Person", skin_type="type_5")
    submitted(full_name="Defer Person", signature="Defer Person", sunburn_recent=True)
    page = staff("provider").get("/staff/")
    assert names_in_order(page.text) == [
        "Refer Person",
        "Defer Person",
        "Review Person",
        "Prep Early",
    ]
    assert '<span class="badge refer">Refer</span>' in page.text


def test_queue_filters(app, staff, submitted):
    a = submitted(full_name="Zoë Acne", signature="Zoë Acne", active_acne=True)
    submitted(full_name="Bob Burn", signature="Bob Burn", sunburn_recent=True)
    client = staff("provider")
    assert names_in_order(client.get("/staff/?outcome=refer").text) == ["Zoë Acne"]
    search(client, "queue", "zoe")
    assert names_in_order(client.get("/staff/").text) == ["Zoë Acne"]  # accents ignored
    search(client, "queue", "acn")
    assert names_in_order(client.get("/staff/").text) == ["Zoë Acne"]  # any word, prefix
    assert "matching “acn”" in client.get("/staff/").text
    search(client, "queue", "")
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    assert names_in_order(client.get(f"/staff/?since={tomorrow}").text) == []
    assert len(names_in_order(client.get(f"/staff/?until={TODAY.isoformat()}").text)) == 2
    page = client.get(f"/staff/submissions/{a}")
    client.post(
        f"/staff/submissions/{a}/decision",
        data={"csrf_token": csrf_token(page.text), "decision": "refer_dermatology", "note": ""},
    )
    assert names_in_order(client.get("/staff/").text) == ["Bob Burn"]  # default: not decided
    assert "Nothing is waiting for a decision" not in client.get("/staff/").text
    assert "No submissions match these filters" in client.get(f"/staff/?since={tomorrow}").text
    assert names_in_order(client.get("/staff/?decided=yes").text) == ["Zoë Acne"]
    assert len(names_in_order(client.get("/staff/?decided=all").text)) == 2
    page = client.get("/staff/")
    b = rows(app, "SELECT id FROM submissions WHERE client_name = 'Bob Burn'")[0]["id"]
    client.post(  # sunburn is a "defer": clearing it takes a confirmation and a note
        f"/staff/submissions/{b}/decision",
        data={
            "csrf_token": csrf_token(page.text),
            "decision": "cleared",
            "confirm_clear": "y",
            "note": "Healed",
        },
    )
    empty = client.get("/staff/").text  # all decided: say so, not "no match"
    assert "Nothing is waiting for a decision" in empty
    assert "No submissions match" not in empty and 'href="/staff/?decided=yes"' in empty


def test_queue_pages_of_50_forward_back_and_last(app, staff):
    import random

    from screening.content import questionnaire as current_questionnaire
    from screening.content import rules as current_rules
    from screening.demo import seed
    from screening.store import get_db

    with app.app_context():
        seed(get_db(), current_questionnaire(), current_rules(), 120, random.Random(1), TODAY)
    client = staff("provider")
    first = client.get("/staff/?decided=all")
    assert len(names_in_order(first.text)) == 50 and "First" not in first.text
    seen = []
    page = first
    while True:
        seen += ids_in_order(page.text)
        nxt = re.search(r'href="([^"]*after=[^"]*)" rel="next"', page.text)
        if not nxt:
            break
        page = client.get(nxt.group(1).replace("&amp;", "&"))
    assert len(seen) == len(set(seen)) == 120  # every submission exactly once
    last = client.get("/staff/?decided=all&last=1")
    assert ids_in_order(last.text) == seen[-50:]
    prev = re.search(r'href="([^"]*before=[^"]*)" rel="prev"', last.text).group(1)
    back = client.get(prev.replace("&amp;", "&"))
    assert ids_in_order(back.text) == seen[-100:-50]


def test_submission_page_explains_every_flag_and_shows_every_answer(app, staff, submitted):
    sid = submitted(
        active_acne=True,
        cold_sores=True,
        cold_sore_now=False,
        notes="<script>alert(1)</script> please",
    )
    page = staff("provider").get(f"/staff/submissions/{sid}")
    sub = rows(app, "SELECT flags, rules_version FROM submissions")[0]
    for flag in json.loads(sub["flags"]):
        assert flag["staff_message"] in page.text.replace("&#39;", "'")
    assert "Do you have active acne" in page.text and "It read these answers" in page.text
    assert sub["rules_version"][:8] in page.text
    assert "[Ramsdell]" in page.text  # the rule's source
    assert '<span class="mark">FLAG</span> Yes' in page.text  # the answer that fired
    assert "&lt;script&gt;alert(1)&lt;/script&gt; please" in page.text
    assert "<script>alert(1)" not in page.text
    assert "Ana María Pérez" in page.text and "(age 45)" in page.text


def test_decisions_are_kept_as_history(app, staff, submitted):
    sid = submitted(sunburn_recent=True)
    client = staff("provider")
    page = client.get(f"/staff/submissions/{sid}")
    token = csrf_token(page.text)
    response = client.post(
        f"/staff/submissions/{sid}/decision",
        data={"csrf_token": token, "decision": "defer_until", "note": "Sunburn must heal"},
    )
    assert response.status_code == 422 and "Give the date to defer until." in response.text
    later = (TODAY + dt.timedelta(days=14)).isoformat()
    client.post(
        f"/staff/submissions/{sid}/decision",
        data={
            "csrf_token": token,
            "decision": "defer_until",
            "defer_until": later,
            "note": "Sunburn must heal",
        },
    )
    client.post(  # clearing a "defer" outcome: confirmed, with its note
        f"/staff/submissions/{sid}/decision",
        data={
            "csrf_token": token,
            "decision": "cleared",
            "confirm_clear": "y",
            "note": "Healed, seen in clinic",
        },
    )
    page = client.get(f"/staff/submissions/{sid}").text
    assert page.index("Cleared to book") < page.index(f"Defer until {later}</strong>")
    assert "Sunburn must heal" in page and "(current)" in page
    history = rows(app, "SELECT decision FROM decisions ORDER BY id")
    assert [h["decision"] for h in history] == ["defer_until", "cleared"]
    assert rows(app, "SELECT decision FROM submissions")[0]["decision"] == "cleared"


def test_decisions_and_the_audit_log_cannot_be_changed_or_removed(app, staff, submitted):
    """Evidence stays: the database itself refuses to edit or delete a decision or an audit
    row (as the sqlite3 shell would try), and the rows read back unchanged."""
    import sqlite3

    sid = submitted()
    client = staff("provider")
    page = client.get(f"/staff/submissions/{sid}")
    client.post(
        f"/staff/submissions/{sid}/decision",
        data={"csrf_token": csrf_token(page.text), "decision": "consult", "note": "Discuss scars"},
    )
    before = {t: rows(app, f"SELECT * FROM {t} ORDER BY id") for t in ("decisions", "audit")}
    assert before["decisions"] and any(r["action"] == "decision" for r in before["audit"])
    shell = sqlite3.connect(app.config["DATABASE"])
    try:
        for statement in (
            "UPDATE decisions SET note = 'changed'",
            "DELETE FROM decisions",
            "UPDATE audit SET username = 'someone else'",
            "DELETE FROM audit",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="never changed or removed"):
                shell.execute(statement)
    finally:
        shell.close()
    assert {t: rows(app, f"SELECT * FROM {t} ORDER BY id") for t in before} == before
    again = client.post(
        f"/staff/submissions/{sid}/decision",
        data={"csrf_token": csrf_token(page.text), "decision": "cleared", "note": ""},
    )
    assert again.status_code == 302  # new rows are still added
    assert len(rows(app, "SELECT * FROM decisions")) == 2


def test_front_desk_sees_the_day_and_cannot_decide(app, staff, submitted):
    today_id = submitted(
        full_name="Today Person", signature="Today Person", appointment_date=TODAY.isoformat()
    )
    submitted(
        full_name="Later Person",
        signature="Later Person",
        appointment_date=(TODAY + dt.timedelta(days=3)).isoformat(),
    )
    desk = staff("front_desk")
    page = desk.get("/staff/day")
    assert "Today Person" in page.text and "Later Person" not in page.text
    later = desk.get(f"/staff/day?date={(TODAY + dt.timedelta(days=3)).isoformat()}")
    tomorrow = TODAY + dt.timedelta(days=1)
    assert f"{tomorrow:%a} {tomorrow.day} {tomorrow:%b} →" in page.text  # dates as people say
    assert "Later Person" in later.text and "Today Person" not in later.text
    search(desk, "day", "tod")
    assert "Today Person" in desk.get("/staff/day").text
    assert "Print this summary (PDF)" in desk.get("/staff/day").text  # one client: no "all 1"
    search(desk, "day", "later")  # booked for another date: the page says where
    found = desk.get("/staff/day").text
    later_day = TODAY + dt.timedelta(days=3)
    other_dates = found.split("on other dates")[1]
    assert f'href="/staff/day?date={later_day.isoformat()}"' in other_dates
    assert f"Later Person, {later_day.strftime('%A %-d %B %Y')}" in other_dates
    assert "Today Person" not in found
    search(desk, "day", "zzz")
    nobody = desk.get("/staff/day").text
    assert "Today Person" not in nobody and "on other dates" not in nobody
    assert (
        desk.post(
            "/staff/search/queue", data={"csrf_token": csrf_token(page.text), "q": "x"}
        ).status_code
        == 404
    )
    response = desk.post(
        f"/staff/submissions/{today_id}/decision",
        data={"csrf_token": csrf_token(page.text), "decision": "cleared"},
    )
    assert response.status_code == 403
    assert rows(app, "SELECT count(*) AS n FROM decisions")[0]["n"] == 0


def test_each_audited_action_writes_one_row_without_answers_or_names(app, staff, submitted):
    sid = submitted(
        full_name="Secret Name",
        signature="Secret Name",
        notes="very private note",
        medications_list="Warfarin 5 mg",
    )
    client = app.test_client()
    from helpers import make_user

    make_user(app, "dana", "provider")
    make_user(app, "boss", "admin")

    def actions():
        return [r["action"] for r in rows(app, "SELECT action FROM audit ORDER BY id")]

    log_in(client, "dana", "wrong!")
    # The two accounts were made as on the command line, audited like any account change.
    assert actions() == ["user_create", "user_create", "login_failed"]
    log_in(client, "dana")
    assert actions()[-1] == "login"
    page = client.get(f"/staff/submissions/{sid}")
    assert actions()[-1] == "view_submission"
    client.post(
        f"/staff/submissions/{sid}/decision",
        data={
            "csrf_token": csrf_token(page.text),
            "decision": "consult",
            "note": "Secret Name note",
        },
    )
    assert actions()[-1] == "decision"
    client.post("/staff/logout", data={"csrf_token": csrf_token(page.text)})
    assert actions()[-1] == "logout"
    admin = app.test_client()
    log_in(admin, "boss")
    page = admin.get("/staff/users")
    admin.post(
        "/staff/users",
        data={
            "csrf_token": csrf_token(page.text),
            "username": "newbie",
            "role": "front_desk",
            "name": "New Person",
        },
    )
    admin.post("/staff/users/newbie/disable", data={"csrf_token": csrf_token(page.text)})
    assert actions() == [
        "user_create",
        "user_create",
        "login_failed",
        "login",
        "view_submission",
        "decision",
        "logout",
        "login",
        "view_users",  # the users page is audited as it is viewed (issue 16)
        "user_create",
        "user_disable",
    ]
    audit = rows(app, "SELECT * FROM audit")
    text = json.dumps(audit)
    for secret in ("Secret Name", "very private note", "Warfarin", "Ana María"):
        assert secret not in text
    decision = next(r for r in audit if r["action"] == "decision")
    assert decision["submission_id"] == sid and decision["username"] == "dana"
    assert decision["detail"] == "consult"
    created = [r for r in audit if r["action"] == "user_create"]
    assert [(r["username"], r["detail"]) for r in created] == [
        ("(command line)", "dana (provider)"),
        ("(command line)", "boss (admin)"),
        ("boss", "newbie (front_desk)"),
    ]
    log = admin.get("/staff/audit?action=decision")
    body = log.text.split("<tbody>")[1]  # in words, not codes
    assert "Recorded a decision" in body and "Needs a consultation" in body
    assert "Created an account" not in body and "consult<" not in body


def test_admin_creates_an_account_whose_password_works(app, staff):
    admin = staff("admin")
    page = admin.get("/staff/users")
    response = admin.post(
        "/staff/users",
        data={"csrf_token": csrf_token(page.text), "username": "frank", "role": "front_desk"},
    )
    password = re.search(r'<code class="password">([^<]+)</code>', response.text).group(1)
    assert "Account created: frank" in response.text
    assert 'value="frank"' not in response.text  # the form is empty for the next account
    assert log_in(app.test_client(), "frank", password).location == "/staff/day"


def test_users_cli(runner, app):
    result = runner.invoke(
        args=["users", "create", "dana", "--role", "provider", "--name", "Dr Dana Lee"]
    )
    assert result.exit_code == 0, result.output
    password = result.output.split("keep it safe): ")[1].strip()
    assert len(password) >= 16 and log_in(app.test_client(), "dana", password).status_code == 302
    result = runner.invoke(
        args=["users", "create", "eve", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0 and PASSWORD not in result.output
    assert log_in(app.test_client(), "eve").status_code == 302
    assert runner.invoke(args=["users", "create", "dana", "--role", "admin"]).exit_code == 1
    listed = runner.invoke(args=["users", "list"]).output
    assert "dana" in listed and "provider" in listed and "Dr Dana Lee" in listed
    assert runner.invoke(args=["users", "disable", "dana"]).exit_code == 0
    assert "disabled" in runner.invoke(args=["users", "list"]).output
    assert log_in(app.test_client(), "dana", password).status_code == 401
    result = runner.invoke(
        args=["users", "set-password", "eve", "--password-stdin"], input="another long password\n"
    )
    assert result.exit_code == 0
    assert log_in(app.test_client(), "eve", "another long password").status_code == 302
    missing = runner.invoke(args=["users", "disable", "nobody"])
    assert missing.exit_code == 1 and "no user named 'nobody'" in missing.output


def test_ensure_admin_only_on_an_empty_instance(runner, app):
    first = runner.invoke(args=["users", "ensure-admin"])
    assert first.exit_code == 0 and "username: admin" in first.output
    password = first.output.split("password: ")[1].split()[0]
    assert log_in(app.test_client(), "admin", password).status_code == 302
    second = runner.invoke(args=["users", "ensure-admin"])
    assert second.exit_code == 0 and second.output == ""


def test_demo_adds_varied_submissions(runner, app):
    result = runner.invoke(args=["demo", "--count", "300", "--seed", "7"])
    assert result.exit_code == 0, result.output
    outcomes = {r["outcome"] for r in rows(app, "SELECT DISTINCT outcome FROM submissions")}
    assert {"refer", "defer", "review", "prep"} <= outcomes
    assert (
        rows(app, "SELECT count(*) AS n FROM submissions WHERE status='submitted'")[0]["n"] == 300
    )
    days = rows(app, "SELECT min(day) AS lo, max(day) AS hi FROM submissions")[0]
    assert days["lo"] < TODAY.isoformat() < days["hi"]
    # A minor names a guardian, who signs (version 2), in demo data too.
    minors = [
        json.loads(r["answers"])
        for r in rows(app, "SELECT answers, flags FROM submissions WHERE flags LIKE '%under-18%'")
    ]
    assert minors
    for answers in minors:
        assert (
            answers["guardian_name"] and answers["guardian_signature"] == answers["guardian_name"]
        )


def test_a_deferral_shows_its_date_wherever_the_decision_is_listed(staff, submitted):
    sid = submitted(
        full_name="Deferred Dee",
        signature="Deferred Dee",
        sunburn_recent=True,
        appointment_date=TODAY.isoformat(),
    )
    provider = staff("provider")
    page = provider.get(f"/staff/submissions/{sid}")
    until = (TODAY + dt.timedelta(days=30)).isoformat()
    response = provider.post(
        f"/staff/submissions/{sid}/decision",
        data={
            "csrf_token": csrf_token(page.text),
            "decision": "defer_until",
            "defer_until": until,
            "note": "",
        },
        follow_redirects=True,
    )
    assert f"Decision recorded: Defer until {until}." in response.text
    assert f"Defer until {until}" in response.text and f"{until} until" not in response.text
    assert f"Defer until {until}" in provider.get("/staff/?decided=yes").text
    # The front desk cannot open the submission, so the day list carries the date.
    assert f"<td>Defer until {until}</td>" in staff("front_desk").get("/staff/day").text
