"""`flask --app screening ...` commands a clinic runs: submissions import, and the rules CLI.

Each command's docstring is its --help; mistakes become one clear line and exit 1.
"""

from __future__ import annotations

import datetime as dt
import json

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from . import current_questionnaire, current_rules, today
from .db import connect
from .submissions import InvalidAnswers, import_answers

submissions_cli = AppGroup("submissions", help="Create submissions from answer files.")


@submissions_cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
def import_command(file) -> None:
    """Create a submitted submission from an answers JSON object and print its id.

    The answers are checked exactly as the wizard checks them; on any problem nothing is
    stored and each bad question id is named.

    Example: flask --app screening submissions import answers.json
    """
    try:
        raw = json.load(file)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{file.name}: not valid JSON (line {exc.lineno}: {exc.msg})")
    db = connect(current_app.config["DATABASE"])
    try:
        submission_id = import_answers(db, raw, current_questionnaire(), current_rules(), today())
    except InvalidAnswers as exc:
        lines = "\n".join(f"  {qid}: {message}" for qid, message in exc.errors.items())
        raise click.ClickException(f"{file.name}: nothing stored, fix these answers:\n{lines}")
    finally:
        db.conn.close()
    click.echo(submission_id)


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
    from . import pdf

    if (submission_id is None) == (day is None):
        raise click.UsageError("give a SUBMISSION_ID or --day YYYY-MM-DD (one of them)")
    db = connect(current_app.config["DATABASE"])
    try:
        if day is not None:
            try:
                chosen = dt.date.fromisoformat(day)
            except ValueError:
                raise click.ClickException(f"--day {day}: not a date like 2026-11-25") from None
            data = pdf.day_pdf(db, chosen)
            if data is None:
                raise click.ClickException(f"no submitted screenings for {chosen.isoformat()}")
        else:
            data = pdf.summary_pdf(db, submission_id)
            if data is None:
                raise click.ClickException(f"no submitted screening with id {submission_id}")
    finally:
        db.conn.close()
    with open(output, "wb") as out:
        out.write(data)
    click.echo(f"Wrote {output} ({len(data):,} bytes).")


def init_app(app: Flask) -> None:
    app.cli.add_command(pdf_command)
    app.cli.add_command(submissions_cli)
    from .rules_cli import rules_cli
    from .staff.cli import users_cli

    app.cli.add_command(rules_cli)
    app.cli.add_command(users_cli)
    from .demo import demo_command

    app.cli.add_command(demo_command)
    from .backup import backup_command

    app.cli.add_command(backup_command)
