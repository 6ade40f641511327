"""Issue 15, finding 7: the done page gives a short reference code the client quotes at the
desk (random: not the row id, nothing from the answers), the staff find the client by it,
and the page never says "call us" without a number."""

from __future__ import annotations

import re
import sqlite3

import pytest
from helpers import rows, search, valid_answers

from screening.store.submissions import REFERENCE_ALPHABET, normalize_reference

CODE = re.compile(rf"[{REFERENCE_ALPHABET}]{{3}}-[{REFERENCE_ALPHABET}]{{3}}")


def send(wizard, client, **overrides) -> tuple[dict, str]:
    answers = valid_answers(**overrides)
    answers["signature"] = answers["full_name"]
    wizard.walk(answers)
    assert wizard.submit(answers).location.endswith("/done")
    return rows(wizard.app, "SELECT * FROM submissions ORDER BY id DESC")[0], client.get(
        "/done"
    ).text


def test_the_done_page_gives_the_stored_reference_code(wizard, client, app):
    row, done = send(wizard, client)
    reference = row["reference"]
    assert CODE.fullmatch(reference), reference
    assert f'<p class="reference-code">{reference}</p>' in done
    assert "Give it at the front desk" in done
    assert str(row["id"]) not in reference.replace("-", "")  # not the database id


def test_every_submission_gets_its_own_code_imports_too(wizard, client, app, submitted):
    codes = {send(wizard, client, full_name=f"Person {n}")[0]["reference"] for n in "ABC"}
    imported = submitted()
    codes.add(
        rows(app, "SELECT reference FROM submissions WHERE id = ?", [imported])[0]["reference"]
    )
    assert len(codes) == 4 and all(CODE.fullmatch(c) for c in codes)


def test_the_database_refuses_two_submissions_with_one_code(app, submitted):
    first, second = submitted(), submitted(full_name="Other Person", signature="Other Person")
    [code] = [
        r["reference"] for r in rows(app, "SELECT reference FROM submissions WHERE id = ?", [first])
    ]
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("UPDATE submissions SET reference = ? WHERE id = ?", [code, second])
        names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")]
    finally:
        conn.close()
    assert "0004_client_reference" in names


@pytest.mark.parametrize(
    "typed, found",
    [
        ("K7Q-4MX", None),  # Q is not in the alphabet: no code could hold it
        ("ack-4mx", "ACK-4MX"),
        (" ack 4mx ", "ACK-4MX"),
        ("ACK4MX", "ACK-4MX"),
        ("ACK-4M", None),
        ("Ana Pérez", None),
        ("", None),
        (None, None),
    ],
)
def test_a_typed_reference_is_read_forgivingly(typed, found):
    assert normalize_reference(typed) == found


def test_staff_see_the_reference_and_the_desk_finds_the_client_by_it(
    wizard, client, app, staff, cheap_argon2
):
    row, _ = send(wizard, client, full_name="Quoted Reference")
    send(wizard, client, full_name="Someone Else")
    reference = row["reference"]
    provider = staff("provider")
    page = provider.get(f"/staff/submissions/{row['id']}").text
    assert f"<dt>Reference</dt><dd>{reference}</dd>" in page
    desk = staff("front_desk")
    day = desk.get(f"/staff/day?date={row['day']}").text
    assert f"<td>{reference}</td>" in day
    # Typed as a client reads it out: lower case, a space for the dash.
    assert search(desk, "day", reference.lower().replace("-", " ")).status_code == 302
    found = desk.get(f"/staff/day?date={row['day']}").text
    assert "Quoted Reference" in found and "Someone Else" not in found


@pytest.mark.parametrize("phone", ["", "020 7946 0000"])
def test_the_done_page_never_says_call_without_a_number(wizard, client, app, phone):
    """A cold sore now: its message says "Call us to pick a new date"; the standing advice
    says "Call the clinic ..."."""
    app.config["CLINIC_PHONE"] = phone
    _, done = send(wizard, client, cold_sores=True, cold_sore_now=True)
    text = re.sub(r"<[^>]+>", "", done)
    if phone:
        assert 'Call us on <a href="tel:02079460000">020 7946 0000</a>' in done
        assert 'Call the clinic on <a href="tel:02079460000">020 7946 0000</a>' in done
        assert not re.search(r"\b[Cc]all (us|the clinic)\b(?! on 020 7946 0000)", text)
    else:
        assert not re.search(r"\b[Cc]all (us|the clinic)\b", text), text
        assert "Contact us to pick a new date" in text
