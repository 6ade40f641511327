"""`flask --app screening ...` commands a clinic runs: submissions import, and the rules CLI.

Each command's docstring is its --help; mistakes become one clear line and exit 1.
"""

from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import AppGroup

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


def init_app(app: Flask) -> None:
    app.cli.add_command(submissions_cli)
    from .rules_cli import rules_cli
    app.cli.add_command(rules_cli)
    from .backup import backup_command
    app.cli.add_command(backup_command)
