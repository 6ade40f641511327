"""`flask export csv` and the queue's CSV download: rows a spreadsheet opens safely."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import stat

import pytest
from helpers import TODAY, csrf_token, rows, search

from screening.output.csv import COLUMNS, neutralise

HYPERLINK = '=HYPERLINK("http://x")'


def read_csv(data: bytes) -> list[dict]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, so Excel reads accents"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def export(runner, path, *args) -> list[dict]:
    result = runner.invoke(args=["export", "csv", *args, "-o", str(path)])
    assert result.exit_code == 0, result.output
    return read_csv(path.read_bytes())


def test_a_thousand_demo_submissions_open_in_the_csv_module(runner, app, tmp_path):
    assert runner.invoke(args=["demo", "--count", "1000", "--seed", "3"]).exit_code == 0
    path = tmp_path / "all.csv"
    found = export(runner, path)
    assert len(found) == 1000
    assert (
        "Wrote 1,000 submissions"
        in runner.invoke(args=["export", "csv", "-o", str(tmp_path / "again.csv")]).output
    )
    qn = app.extensions["questionnaire"]
    assert list(found[0]) == [*COLUMNS, *qn.questions]  # then one column per question id
    stored = {r["id"]: r for r in rows(app, "SELECT * FROM submissions")}
    decided = 0
    for line in found:
        row = stored[int(line["Submission id"])]
        assert line["Name"] == row["client_name"] and line["Outcome"] == row["outcome"]
        assert line["Flags"] == ";".join(f["id"] for f in json.loads(row["flags"]))
        assert line["Rules version"] == row["rules_version"]
        assert line["Questionnaire version"] == row["questionnaire_version"]
        if row["decision"]:
            decided += 1
            assert line["Decided by"] == "Demo Provider" and line["Decision date"]
    assert decided, "the demo decides some older submissions"
    # The file holds health data: its owner only.
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_formula_in_any_cell_comes_out_as_text(runner, submitted, tmp_path):
    submitted(
        full_name=HYPERLINK,
        signature=HYPERLINK,
        notes="-2+3",
        medications_list="@SUM(A1)",
        phone="+1 555 0100",
    )
    submitted(full_name="Tab Client", signature="Tab Client", notes="\tcmd", medications_list="\rx")
    first, second = export(runner, tmp_path / "x.csv")
    assert first["Name"] == "'" + HYPERLINK and first["full_name"] == "'" + HYPERLINK
    assert first["signature"] == "'" + HYPERLINK
    assert first["notes"] == "'-2+3" and first["medications_list"] == "'@SUM(A1)"
    assert first["phone"] == "'+1 555 0100"
    assert second["notes"] == "'\tcmd" and second["medications_list"] == "'\rx"
    # Nothing else is changed: a cell that is not a formula is as stored.
    assert second["Name"] == "Tab Client"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_each_formula_start_is_neutralised(start):
    assert neutralise(f"{start}1") == f"'{start}1"
    assert neutralise(f"a{start}1") == f"a{start}1"


def test_answers_as_stored_and_lists_joined_with_semicolons(runner, submitted, tmp_path):
    submitted(
        full_name="Zoë Ñandú",
        signature="Zoë Ñandú",
        treatment_areas=["around_eyes", "neck"],
        cold_sores=True,
        cold_sore_now=False,
        notes="two\nlines, with a comma",
    )
    (line,) = export(runner, tmp_path / "x.csv")
    assert line["Name"] == "Zoë Ñandú"  # accents survive the round trip
    assert line["treatment_areas"] == "around_eyes;neck"
    assert line["cold_sores"] == "yes" and line["cold_sore_now"] == "no"
    assert line["eczema"] == "no" and line["notes"] == "two\nlines, with a comma"
    assert line["Outcome"] == "review" and "cold-sore-history" in line["Flags"].split(";")
    assert line["Decision"] == "" and line["Decided by"] == ""


def test_from_and_to_choose_the_days_submitted(runner, app, submitted, tmp_path):
    submitted()
    today, tomorrow = TODAY.isoformat(), (TODAY + dt.timedelta(days=1)).isoformat()
    assert len(export(runner, tmp_path / "a.csv", "--from", today, "--to", today)) == 1
    assert export(runner, tmp_path / "b.csv", "--from", tomorrow) == []
    wrong = runner.invoke(
        args=["export", "csv", "--from", tomorrow, "--to", today, "-o", str(tmp_path / "c")]
    )
    assert wrong.exit_code == 2 and "--from is after --to" in wrong.output
    bad = runner.invoke(args=["export", "csv", "--from", "31/12/2026", "-o", str(tmp_path / "d")])
    assert bad.exit_code == 2 and "--from" in bad.output and "Traceback" not in bad.output
    audit = rows(app, "SELECT * FROM audit WHERE action = 'export_csv' ORDER BY id")
    assert [(r["username"], r["detail"]) for r in audit] == [
        ("(command line)", f"from={today} to={today} rows=1"),
        ("(command line)", f"from={tomorrow} rows=0"),
    ]


def test_export_to_a_missing_folder_is_one_clear_line(runner, submitted, tmp_path):
    submitted()
    result = runner.invoke(args=["export", "csv", "-o", str(tmp_path / "nope" / "x.csv")])
    assert result.exit_code == 1 and "no such folder" in result.output
    assert "Traceback" not in result.output


def queue_ids(text: str) -> list[int]:
    import re

    return [int(i) for i in re.findall(r'href="/staff/submissions/(\d+)(?:\?[^"]*)?"', text)]


def test_the_queue_download_has_the_queues_rows_and_is_audited(app, staff, submitted):
    acne = submitted(full_name="Zoë Acne", signature="Zoë Acne", active_acne=True)
    burn = submitted(full_name="Bob Burn", signature="Bob Burn", sunburn_recent=True)
    other = submitted(full_name="Cy Acne", signature="Cy Acne", active_acne=True)
    client = staff("provider")
    page = client.get("/staff/?outcome=refer")
    assert 'href="/staff/queue.csv?outcome=refer"' in page.text
    response = client.get("/staff/queue.csv?outcome=refer")
    assert response.status_code == 200
    assert (
        response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    )
    assert "no-store" in response.headers["Cache-Control"]
    assert "Acne" not in response.headers["Content-Disposition"]
    found = read_csv(response.data)
    assert sorted(int(r["Submission id"]) for r in found) == sorted(queue_ids(page.text))
    assert {int(r["Submission id"]) for r in found} == {acne, other}
    # The name search is kept in the session (never a URL) and applies to the download too.
    search(client, "queue", "zoe")
    found = read_csv(client.get("/staff/queue.csv").data)
    assert [int(r["Submission id"]) for r in found] == [acne]
    search(client, "queue", "")
    decide = client.get(f"/staff/submissions/{burn}")
    client.post(
        f"/staff/submissions/{burn}/decision",
        data={"csrf_token": csrf_token(decide.text), "decision": "consult", "note": ""},
    )
    undecided = read_csv(client.get("/staff/queue.csv").data)  # the queue's default
    assert {int(r["Submission id"]) for r in undecided} == {acne, other}
    decided = read_csv(client.get("/staff/queue.csv?decided=yes").data)
    assert [(int(r["Submission id"]), r["Decision"]) for r in decided] == [
        (burn, "Needs a consultation")
    ]
    audit = rows(app, "SELECT * FROM audit WHERE action = 'export_csv' ORDER BY id")
    assert [r["detail"] for r in audit] == [
        "outcome=refer decided=no rows=2",
        "decided=no name=searched rows=1",
        "decided=no rows=2",
        "decided=yes rows=1",
    ]
    assert all(r["username"] == "provider-user" for r in audit)
    assert "Zo" not in json.dumps(audit) and "zoe" not in json.dumps(audit)


def test_only_providers_and_admins_download_the_queue(staff, submitted):
    submitted()
    desk = staff("front_desk")
    assert desk.get("/staff/queue.csv").status_code == 403
    assert "queue.csv" not in desk.get("/staff/day").text
    assert staff("admin").get("/staff/queue.csv").status_code == 200


@pytest.mark.parametrize("command", [["export", "csv"], ["export", "fhir"], ["rules", "diff"]])
def test_a_missing_or_unreadable_database_is_one_clear_line(app, runner, tmp_path, command):
    args = [*command, *(["-o", str(tmp_path / "out")] if command[0] == "export" else [])]
    if command[0] == "rules":
        args.append(app.config["RULES_PATH"])
    app.config["DATABASE"] = str(tmp_path / "missing.db")
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and "no database at" in result.output
    assert not (tmp_path / "missing.db").exists()  # never created empty
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    app.config["DATABASE"] = str(garbage)
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and "cannot read the database" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_an_export_lists_exactly_the_rows_it_counted_page_by_page(app, submitted):
    """The snapshot pins what an export sees: a client submitting meanwhile is in the next
    export, not half in this one; pages are keyset by id, in order, filters kept."""
    from screening.store.exports import Filters, snapshot

    first = [submitted(active_acne=i % 2 == 0) for i in range(5)]
    with snapshot(app.config["DATABASE"]) as snap:
        everyone, refer = Filters(), Filters(outcome="refer")
        assert snap.count(everyone) == 5 and snap.count(refer) == 3
        late = submitted()  # committed on another connection after the count
        assert [r["id"] for r in snap.export_rows(everyone, batch=2)] == first
        assert [r["id"] for r in snap.export_rows(refer, batch=2)] == first[::2]
        assert all(isinstance(r["answers"], dict) for r in snap.judged_rows(everyone, batch=3))
    with snapshot(app.config["DATABASE"]) as snap:
        assert [r["id"] for r in snap.export_rows(Filters(), batch=2)] == [*first, late]
