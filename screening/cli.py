"""`flask --app screening ...` commands a clinic runs: init-db, submissions import, pdf,
backup and demo here; `rules ...` in rules_cli.py, `users ...` in users_cli.py.

Each command's docstring is its --help, with an example; mistakes become one clear line
and exit 1.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from . import demo, fhir_import, housekeeping
from .content import questionnaire, rules, today
from .export_cli import export_cli
from .files import open_private
from .rules_cli import rules_cli
from .store import connect, init_db, stored_time, transaction
from .store.backup import BackupError, backup
from .store.submissions import InvalidAnswers, import_answers
from .users_cli import users_cli

submissions_cli = AppGroup("submissions", help="Create submissions from answer files.")


@contextmanager
def database():
    """The configured database, for one command."""
    db = connect(current_app.config["DATABASE"])
    try:
        yield db
    finally:
        db.conn.close()


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database and its tables (safe to run twice).

    Example: flask --app screening init-db
    """
    init_db(current_app.config["DATABASE"])
    click.echo(f"Database ready: {current_app.config['DATABASE']}")


@submissions_cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option(
    "--fhir",
    "is_fhir",
    is_flag=True,
    help="FILE is a FHIR QuestionnaireResponse, or a Bundle of them (as `export fhir` writes).",
)
def import_command(file, is_fhir: bool) -> None:
    """Create submitted submissions from an answers JSON object and print each id.

    The answers are checked exactly as the wizard checks them; on any problem nothing is
    stored and each bad question id is named. With --fhir, each QuestionnaireResponse is
    mapped to answers first and checked as on the day it was authored; one bad response
    stores none.

    Examples: flask --app screening submissions import answers.json
              flask --app screening submissions import --fhir screenings.fhir.json
    """
    try:
        raw = json.load(file)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{file.name}: not valid JSON (line {exc.lineno}: {exc.msg})")
    if is_fhir:
        ids = _import_fhir(file.name, raw)
    else:
        ids = [_import_one(file.name, raw)]
    for submission_id in ids:
        click.echo(submission_id)


def _import_one(name: str, raw) -> int:
    with database() as db:
        try:
            return import_answers(db, raw, questionnaire(), rules(), today())
        except InvalidAnswers as exc:
            lines = "\n".join(f"  {qid}: {message}" for qid, message in exc.errors.items())
            raise click.ClickException(
                f"{name}: nothing stored, fix these answers:\n{lines}"
            ) from None


def _import_fhir(name: str, raw) -> list[int]:
    """Every response in the file, or none of them."""
    qn = questionnaire()
    try:
        found = fhir_import.responses(raw, qn)
    except fhir_import.FhirImportError as exc:
        lines = "\n".join(f"  {problem}" for problem in exc.problems)
        raise click.ClickException(f"{name}: nothing stored:\n{lines}") from None
    ids, problems = [], []
    with database() as db, transaction(db):
        for response in found:
            if response.problems:
                problems += [f"  {problem}" for problem in response.problems]
                continue
            stamp = response.authored or dt.datetime.now().astimezone()
            try:
                submission_id = import_answers(
                    db,
                    response.answers,
                    qn,
                    rules(),
                    stamp.astimezone().date(),  # checked and judged as on the day it was answered
                    submitted_at=stored_time(stamp),
                )
            except InvalidAnswers as exc:
                problems += [f"  {response.label}: {qid}: {m}" for qid, m in exc.errors.items()]
                continue
            ids.append(submission_id)
        if problems:  # raised inside the transaction: nothing is stored
            raise click.ClickException(
                f"{name}: nothing stored, fix these answers:\n" + "\n".join(problems)
            )
    return ids


@click.command("pdf")
@click.argument("submission_id", required=False, type=int)
@click.option("--day", "day", default=None, help="Print a day's batch (YYYY-MM-DD) instead.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="Where to write the PDF.",
)
@with_appcontext
def pdf_command(submission_id: int | None, day: str | None, output: str) -> None:
    """Write a client's PDF summary, or a day's batch, to a file.

    Examples: flask --app screening pdf 42 -o summary.pdf
              flask --app screening pdf --day 2026-11-25 -o today.pdf
    """
    from . import printing  # WeasyPrint loads only for commands that render
    from .store.lists import day_clients

    if (submission_id is None) == (day is None):
        raise click.UsageError("give a SUBMISSION_ID or --day YYYY-MM-DD (one of them)")
    with database() as db:
        if day is not None:
            try:
                chosen = dt.date.fromisoformat(day)
            except ValueError:
                raise click.ClickException(f"--day {day}: not a date like 2026-11-25") from None
            ids = [row["id"] for row in day_clients(db, chosen)]
            data = printing.batch_pdf(db, ids, chosen) if ids else None
            if data is None:
                raise click.ClickException(f"no submitted screenings for {chosen.isoformat()}")
        else:
            data = printing.summary(db, submission_id)  # stored while current
            if data is None:
                raise click.ClickException(f"no submitted screening with id {submission_id}")
    with open_private(output) as out:  # health data: 0600 from the first byte
        out.write(data)
    click.echo(f"Wrote {output} ({len(data):,} bytes).")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@with_appcontext
def backup_command(file: Path, force: bool) -> None:
    """Copy the database to FILE while the app keeps serving, and check the copy.

    Restore: stop the app, put the copy in place of the database, remove the old
    database's -wal and -shm files, start the app (see docs/backup.md).

    Example: flask --app screening backup /srv/backups/screening-$(date +%F).db
    """
    try:
        result = backup(current_app.config["DATABASE"], file, replace=force)
    except (BackupError, OSError, sqlite3.Error) as exc:
        raise click.ClickException(f"backup failed, nothing written to {file}: {exc}") from None
    click.echo(
        f"Backed up {result.submissions} submissions ({result.size / 1e6:.1f} MB) "
        f"to {result.path}; integrity check ok"
    )


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete drafts older than SCREENING_DRAFT_HOURS (counted in the audit log), write the
    counts of refused logins, forget old login attempts. The app does this itself at
    start-up and hourly; run it from cron if the app is often idle or stopped.

    Example: flask --app screening purge
    """
    with database() as db:
        done = housekeeping.run(db, current_app.config["DRAFT_HOURS"])
    click.echo("Purged: " + ", ".join(f"{count} {kind}" for kind, count in done.items()))


@click.command("demo")
@with_appcontext
@click.option(
    "--count",
    default=200,
    show_default=True,
    type=click.IntRange(1, 1_000_000),
    help="How many synthetic submissions to add.",
)
@click.option("--seed", "seed_value", default=None, type=int, help="Random seed (repeatable).")
def demo_command(count: int, seed_value: int | None) -> None:
    """Add realistic synthetic submissions (varied personas, dates around today), with
    decisions by a demo provider on some of the older ones.

    Example: flask --app screening demo --count 200
    """
    with database() as db:
        added = demo.seed(db, questionnaire(), rules(), count, random.Random(seed_value), today())
    click.echo(f"Added {added:,} demo submissions.")


def init_app(app: Flask) -> None:
    for command in (
        init_db_command,
        submissions_cli,
        pdf_command,
        backup_command,
        purge_command,
        demo_command,
        rules_cli,
        users_cli,
        export_cli,
    ):
        app.cli.add_command(command)
