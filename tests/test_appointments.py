"""Appointments in: the CSV schedule (command line and upload) and the front desk's form,
every bad row named by line and reason with nothing imported; and out, on the day page:
each appointment's status, resend, the link and its QR code, attach and detach by hand."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from booking import DOB, answer_by_link, answers_for, book, open_link, post_step
from helpers import TODAY, csrf_token, rows

HEADER = "name,date_of_birth,email,phone,appointment_date,appointment_time"
TOMORROW = (TODAY + dt.timedelta(days=1)).isoformat()


def csv_file(tmp_path, *lines: str, header: str = HEADER):
    path = tmp_path / "schedule.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_import_a_schedule_and_import_it_again(app, runner, tmp_path):
    path = csv_file(
        tmp_path,
        f"Ana María Pérez,{DOB},ana@example.com,,{TOMORROW},09:30",
        f'"Lee, Dana",1975-06-01,,+1 (555) 010-0200,{TOMORROW},',
    )
    result = runner.invoke(args=["appointments", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Imported 2 appointments."
    again = runner.invoke(args=["appointments", "import", str(path)])
    assert again.output.strip() == "Imported 0 appointments (2 already booked)."
    stored = rows(app, "SELECT client_name, email, phone, appointment_time FROM appointments")
    assert stored == [
        {
            "client_name": "Ana María Pérez",
            "email": "ana@example.com",
            "phone": None,
            "appointment_time": "09:30",
        },
        {
            "client_name": "Lee, Dana",
            "email": None,
            "phone": "+1 (555) 010-0200",
            "appointment_time": None,
        },
    ]
    [audit] = rows(app, "SELECT detail FROM audit WHERE action = 'appointment_import'")[:1]
    assert audit["detail"] == "2 added, 0 already booked"


def test_a_bad_row_is_named_by_line_and_nothing_is_imported(app, runner, tmp_path):
    path = csv_file(
        tmp_path,
        f"Good Client,{DOB},good@example.com,,{TOMORROW},",
        f"Bad Birth,1980-02-30,bad@example.com,,{TOMORROW},",
        f"No Contact,{DOB},,,{TOMORROW},",
        f"Past Visit,{DOB},p@example.com,,2001-01-01,25:00",
        f"Good Client,{DOB},good@example.com,,{TOMORROW},",
    )
    result = runner.invoke(args=["appointments", "import", str(path)])
    assert result.exit_code == 1
    assert f"{path}: nothing imported, fix these lines:" in result.output
    for problem in (
        "line 3: date_of_birth: not a date like 1980-03-17",
        "line 4: email: give an email address or a mobile phone (or both)",
        "line 5: appointment_date: this date has passed",
        "line 5: appointment_time: not a time like 09:30 (24-hour clock)",
        "line 6: the same client and date as line 2",
    ):
        assert problem in result.output, problem
    assert "Traceback" not in result.output
    assert rows(app, "SELECT count(*) AS n FROM appointments")[0]["n"] == 0


@pytest.mark.parametrize(
    ("header", "lines", "problem"),
    [
        ("name,date_of_birth,email", [], "line 1: missing column(s) phone, appointment_date"),
        (HEADER + ",notes", [], "line 1: unknown column(s) notes"),
        (HEADER, [], "the file has a header but no appointments"),
        (HEADER, [f"Too,{DOB},a@b.co,,{TOMORROW},,extra"], "line 2: 7 values for 6 columns"),
        (HEADER, [f"Bad Mail,{DOB},not-an-address,,{TOMORROW},"], "line 2: email: not an email"),
    ],
)
def test_a_file_of_the_wrong_shape_is_explained(runner, tmp_path, header, lines, problem):
    result = runner.invoke(
        args=["appointments", "import", str(csv_file(tmp_path, *lines, header=header))]
    )
    assert result.exit_code == 1 and problem in result.output, result.output


def test_a_file_that_is_not_utf8_is_explained(runner, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + f"\nJosé,{DOB},j@example.com,,{TOMORROW},\n").encode("latin-1"))
    result = runner.invoke(args=["appointments", "import", str(path)])
    assert result.exit_code == 1 and "not UTF-8 text" in result.output


def test_an_excel_csv_with_a_byte_order_mark_imports(app, runner, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(
        ("\ufeff" + HEADER + f"\r\nJosé,{DOB},j@example.com,,{TOMORROW},\r\n").encode()
    )
    assert runner.invoke(args=["appointments", "import", str(path)]).exit_code == 0
    assert rows(app, "SELECT client_name FROM appointments") == [{"client_name": "José"}]


def upload(client, data: bytes, send_now: bool = False):
    import io

    page = client.get("/staff/appointments")
    form = {"csrf_token": csrf_token(page.text), "schedule": (io.BytesIO(data), "day.csv")}
    if send_now:
        form["send_now"] = "y"
    return client.post("/staff/appointments/upload", data=form, content_type="multipart/form-data")


def test_the_front_desk_uploads_a_schedule(app, staff):
    desk = staff("front_desk")
    bad = upload(desk, f"{HEADER}\nGood,{DOB},g@example.com,,{TOMORROW},\nBad,{DOB},,,,\n".encode())
    assert bad.status_code == 422
    assert "Nothing was imported" in bad.text
    assert "line 3: email: give an email address or a mobile phone" in bad.text
    assert "line 3: appointment_date: not a date like" in bad.text
    assert rows(app, "SELECT count(*) AS n FROM appointments")[0]["n"] == 0
    good = upload(desk, f"{HEADER}\nGood,{DOB},g@example.com,,{TOMORROW},\n".encode(), True)
    assert good.status_code == 302
    page = desk.get(good.headers["Location"])
    assert "Imported 1 appointment; 1 invitation is on the way." in page.text
    assert rows(app, "SELECT kind FROM outbox") == [{"kind": "invitation"}]
    empty = upload(desk, b"")
    assert empty.status_code == 422 and "no header" in empty.text


def test_the_front_desk_adds_one_appointment(app, staff):
    desk = staff("front_desk")
    page = desk.get("/staff/appointments")
    data = {"csrf_token": csrf_token(page.text), "name": "", "date_of_birth": "1980-13-01"}
    wrong = desk.post("/staff/appointments", data=data)
    assert wrong.status_code == 422
    for message in (
        "The client&#39;s name is missing.",
        "Not a date like 1980-03-17.",
        "Give an email address or a mobile phone (or both).",
        "Not a date like 2026-12-24.",
    ):
        assert message in wrong.text, message
    data.update(name="Dana Lee", date_of_birth=DOB, phone="555 0100", appointment_date=TOMORROW)
    added = desk.post("/staff/appointments", data=data)
    assert added.status_code == 302 and added.headers["Location"] == f"/staff/day?date={TOMORROW}"
    day = desk.get(added.headers["Location"])
    assert "Dana Lee" in day.text and "Not invited (no email)" in day.text
    twice = desk.post("/staff/appointments", data=data)
    assert twice.status_code == 422 and "already booked on that day" in twice.text
    [audit] = rows(app, "SELECT user_id, detail FROM audit WHERE action = 'appointment_add'")
    assert audit["detail"] == "appointment 1" and audit["user_id"]


def test_appointment_pages_are_for_staff_only(app, client, staff):
    appointment_id, _ = book(app)
    for url in ("/staff/appointments", f"/staff/appointments/{appointment_id}"):
        assert client.get(url).status_code == 302  # to the login page
        for role in ("front_desk", "provider", "admin"):
            assert staff(role).get(url).status_code == 200, (url, role)
    assert staff("front_desk").get("/staff/appointments/999").status_code == 404


def set_invited(app, appointment_id: int) -> None:
    from screening.store import appointments, get_db

    with app.app_context():
        appointments.mark_sent(get_db(), appointment_id, "invitation", "2026-01-05T09:00:00+00:00")


def test_the_day_page_shows_where_each_appointment_stands(app, staff):
    from screening.store import decisions, get_db

    qn = app.extensions["questionnaire"]
    book(app, name="Nora Phoneonly", email="", phone="555 0101", appointment_time="09:00")
    invited, _ = book(app, name="Ivy Invited", appointment_time="09:30")
    set_invited(app, invited)
    _opened, opened_path = book(app, name="Otto Opened", appointment_time="10:00")
    open_link(app.test_client(), opened_path)
    started, started_path = book(app, name="Paula Progress", appointment_time="10:30")
    phone = app.test_client()
    open_link(phone, started_path)
    for section in qn.steps[:2]:
        post_step(phone, qn, section, answers_for(app, started))
    sent, sent_path = book(app, name="Sam Submitted", appointment_time="11:00")
    answer_by_link(app, sent_path, answers_for(app, sent, active_acne=True))
    decided, decided_path = book(app, name="Dee Decided", appointment_time="11:30")
    answer_by_link(app, decided_path, answers_for(app, decided))
    [row] = rows(app, "SELECT submission_id FROM appointments WHERE id = ?", [decided])
    with app.app_context():
        decisions.record(
            get_db(), row["submission_id"], "cleared", user={"id": None, "username": "x"}
        )
    page = staff("front_desk").get(f"/staff/day?date={TOMORROW}")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert "6 booked: 3 not started , 1 in progress, 2 answered." in text
    for line in (
        "09:00 Nora Phoneonly 555 0101 Not started Not invited (no email)",
        "09:30 Ivy Invited ana@example.com · 555 0123 Not started Invited 2026-01-05",
        "10:00 Otto Opened ana@example.com · 555 0123 Not started Opened",
        f"10:30 Paula Progress ana@example.com · 555 0123 In progress (step 3 of {len(qn.steps) + 1})",
        "11:00 Sam Submitted ana@example.com · 555 0123 Submitted Refer",
        "11:30 Dee Decided ana@example.com · 555 0123 Decided: Cleared to book",
    ):
        assert line in text, line
    # Not started rows are marked for the eye, and only they are.
    marked = re.findall(r'<tr class="status-(\w+)( not-started)?"', page.text)
    assert [code for code, mark in marked if mark] == ["not_invited", "invited", "opened"]
    assert len(marked) == 6


def test_resend_queues_the_invitation_again_once(app, staff):
    appointment_id, _ = book(app)
    desk = staff("front_desk")
    page = desk.get(f"/staff/day?date={TOMORROW}")
    form = {"csrf_token": csrf_token(page.text), "back": f"/staff/day?date={TOMORROW}"}
    first = desk.post(f"/staff/appointments/{appointment_id}/resend", data=form)
    assert first.status_code == 302 and first.headers["Location"] == f"/staff/day?date={TOMORROW}"
    assert "The invitation is on its way again." in desk.get(first.headers["Location"]).text
    second = desk.post(f"/staff/appointments/{appointment_id}/resend", data=form)
    assert "still waiting to go out" in desk.get(second.headers["Location"]).text
    assert len(rows(app, "SELECT * FROM outbox")) == 1
    assert len(rows(app, "SELECT * FROM audit WHERE action = 'invitation_resend'")) == 1
    outside = desk.post(
        f"/staff/appointments/{appointment_id}/resend", data={**form, "back": "//evil.example/"}
    )
    assert outside.headers["Location"] == f"/staff/day?date={TOMORROW}"


def test_the_appointment_page_shows_the_link_and_its_qr_code(app, staff):
    appointment_id, path = book(app)
    page = staff("front_desk").get(f"/staff/appointments/{appointment_id}")
    assert f'value="http://localhost{path}"' in page.text
    assert 'src="data:image/svg+xml' in page.text and "QR code of Ana María Pérez" in page.text
    assert "img-src 'self' data:" in page.headers["Content-Security-Policy"]
    [audit] = rows(app, "SELECT detail FROM audit WHERE action = 'invitation_link'")
    assert audit["detail"] == f"appointment {appointment_id}"
    app.config["BASE_URL"] = "https://screening.clinic.example/"
    page = staff("front_desk").get(f"/staff/appointments/{appointment_id}")
    assert f'value="https://screening.clinic.example{path}"' in page.text


def test_attach_and_detach_a_walk_in_by_hand(app, staff, submitted):
    appointment_id, _ = book(app)
    walk_in = submitted(
        full_name="Ana Perez-Lopez",
        signature="Ana Perez-Lopez",
        date_of_birth=DOB,
        appointment_date=TOMORROW,
    )
    assert rows(app, "SELECT submission_id FROM appointments")[0]["submission_id"] is None
    desk = staff("front_desk")
    page = desk.get(f"/staff/appointments/{appointment_id}")
    assert "Ana Perez-Lopez" in page.text
    token = csrf_token(page.text)
    attached = desk.post(
        f"/staff/appointments/{appointment_id}/attach",
        data={"csrf_token": token, "submission_id": walk_in},
    )
    assert "Submission attached to this appointment." in desk.get(attached.headers["Location"]).text
    assert rows(app, "SELECT submission_id, status FROM appointments") == [
        {"submission_id": walk_in, "status": "submitted"}
    ]
    other, _ = book(app, name="Someone Else")
    taken = desk.post(
        f"/staff/appointments/{other}/attach", data={"csrf_token": token, "submission_id": walk_in}
    )
    assert "cannot be attached" in desk.get(taken.headers["Location"]).text
    detached = desk.post(f"/staff/appointments/{appointment_id}/detach", data={"csrf_token": token})
    assert "detached" in desk.get(detached.headers["Location"]).text
    assert rows(app, "SELECT submission_id FROM appointments WHERE id = ?", [appointment_id]) == [
        {"submission_id": None}
    ]
    audit = rows(
        app, "SELECT action, submission_id, detail FROM audit WHERE action LIKE 'appointment_%'"
    )
    assert audit == [
        {
            "action": "appointment_attach",
            "submission_id": walk_in,
            "detail": f"appointment {appointment_id}",
        },
        {
            "action": "appointment_detach",
            "submission_id": walk_in,
            "detail": f"appointment {appointment_id}",
        },
    ]
