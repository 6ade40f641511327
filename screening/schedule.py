"""The clinic's schedule as it arrives: one appointment typed at the front desk, or a day's
CSV export. Every row is checked here, and each problem names its line and field."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .questionnaire import normalize_name, parse_date

COLUMNS = ("name", "date_of_birth", "email", "phone", "appointment_date", "appointment_time")
# Columns a schedule may leave out. `language`: the client's language code (en, es: one of
# SCREENING_LANGUAGES) for their emails and questions; empty means not known, and then the
# language of their last visit is used.
OPTIONAL = ("language",)
MAX_ROWS = 2000
NAME_MAX = 200
EMAIL = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+")
PHONE = re.compile(r"\+?[0-9 ()./-]{6,30}")
TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Checked:
    """Bookings that passed, and problems as 'line N: field: reason' (or 'field: reason')."""

    bookings: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def check_booking(
    raw: dict, today: dt.date, languages: Sequence[str] = ()
) -> tuple[dict, dict[str, str]]:
    """One appointment's fields, cleaned, and {field: problem} for those that cannot be used.
    `languages` are the codes a `language` may be (the app's SCREENING_LANGUAGES)."""
    value = {k: " ".join(str(raw.get(k) or "").split()) for k in COLUMNS + OPTIONAL}
    value["language"] = value["language"].lower()
    errors = {}
    if not value["name"]:
        errors["name"] = "the client's name is missing"
    elif len(value["name"]) > NAME_MAX or _CONTROL.search(str(raw.get("name"))):
        errors["name"] = f"at most {NAME_MAX} characters, without special characters"
    born = parse_date(value["date_of_birth"])
    if born is None:
        errors["date_of_birth"] = "not a date like 1980-03-17"
    elif born > today or born.year < 1900:
        errors["date_of_birth"] = "not a possible date of birth"
    if value["email"] and (len(value["email"]) > 254 or not EMAIL.fullmatch(value["email"])):
        errors["email"] = "not an email address like name@example.com"
    digits = sum(c.isdigit() for c in value["phone"])
    if value["phone"] and (not PHONE.fullmatch(value["phone"]) or digits < 6):
        errors["phone"] = "not a phone number (digits, spaces, + ( ) - . only)"
    if not value["email"] and not value["phone"] and "email" not in errors:
        errors["email"] = "give an email address or a mobile phone (or both)"
    day = parse_date(value["appointment_date"])
    if day is None:
        errors["appointment_date"] = "not a date like 2026-12-24"
    elif day < today:
        errors["appointment_date"] = "this date has passed"
    if value["appointment_time"] and not TIME.fullmatch(value["appointment_time"]):
        errors["appointment_time"] = "not a time like 09:30 (24-hour clock)"
    if value["language"] and value["language"] not in languages:
        known = ", ".join(languages) or "none"
        errors["language"] = f"not a language the questions are in ({known}), or leave it empty"
    return value, errors


def read_csv(data: bytes | str, today: dt.date, languages: Sequence[str] = ()) -> Checked:
    """Check a schedule CSV (header: name,date_of_birth,email,phone,appointment_date,
    appointment_time, and optionally language). Any error means none of its bookings should
    be stored."""
    result = Checked()
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    except UnicodeDecodeError:
        result.errors.append("the file is not UTF-8 text (save it as CSV UTF-8)")
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            result.errors.append(f"line 1: no header (expected: {','.join(COLUMNS)})")
            return result
        names = [h.strip().lower() for h in header]
        unknown = [h for h in names if h not in COLUMNS + OPTIONAL]
        missing = [c for c in COLUMNS if c not in names]
        if unknown or missing:
            problem = "; ".join(
                ([f"unknown column(s) {', '.join(unknown)}"] if unknown else [])
                + ([f"missing column(s) {', '.join(missing)}"] if missing else [])
            )
            result.errors.append(f"line 1: {problem} (expected: {','.join(COLUMNS)})")
            return result
        seen: dict[tuple, int] = {}
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(names):
                result.errors.append(
                    f"line {line}: {len(cells)} values for {len(names)} columns "
                    "(a comma inside a value needs quotes)"
                )
                continue
            row = dict(zip(names, cells, strict=True))
            booking, errors = check_booking(row, today, languages)
            result.errors += [f"line {line}: {name}: {problem}" for name, problem in errors.items()]
            if errors:
                continue
            key = (
                normalize_name(booking["name"]),
                booking["date_of_birth"],
                booking["appointment_date"],
            )
            if key in seen:
                result.errors.append(f"line {line}: the same client and date as line {seen[key]}")
                continue
            seen[key] = line
            result.bookings.append({**booking, "line": line})
            if len(result.bookings) > MAX_ROWS:
                result.errors.append(f"line {line}: more than {MAX_ROWS} appointments in one file")
                break
    except csv.Error as exc:
        result.errors.append(f"line {reader.line_num}: not readable as CSV ({exc})")
    if not result.errors and not result.bookings:
        result.errors.append("the file has a header but no appointments")
    return result
