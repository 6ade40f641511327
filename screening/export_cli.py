"""`flask export ...`: submissions as a CSV for the clinic or FHIR for an EHR, and the
questionnaire as a FHIR Questionnaire. Each export of submissions is audited with its
filters and row count (never its content); files are readable by their owner only."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .content import questionnaire, rules
from .output import csv as csv_output
from .output import fhir
from .store import audit, connect
from .store.exports import Filters, Snapshot, snapshot

CLI_USER = "(command line)"

export_cli = AppGroup("export", help="Write submissions or the questionnaire to a file.")

DATE = click.DateTime(formats=["%Y-%m-%d"])
output_option = click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the file.",
)


def date_options(command):
    """--from and --to: the days submitted (the clinic's days, both included)."""
    command = click.option("--to", "until", type=DATE, metavar="YYYY-MM-DD", help="Last day.")(
        command
    )
    return click.option("--from", "since", type=DATE, metavar="YYYY-MM-DD", help="First day.")(
        command
    )


def filters(since: dt.datetime | None, until: dt.datetime | None) -> Filters:
    if since and until and since > until:
        raise click.UsageError("--from is after --to")
    return Filters(since=since.date() if since else None, until=until.date() if until else None)


def database_path() -> str:
    """The configured database, which must exist (an export never creates an empty one)."""
    path = current_app.config["DATABASE"]
    if not Path(path).is_file():
        raise click.ClickException(f"no database at {path} (run `flask --app screening init-db`)")
    return path


@contextmanager
def database_snapshot() -> Iterator[Snapshot]:
    """A read snapshot of the configured database; a database that cannot be read (not
    initialised, not SQLite) is one clear line, not a traceback."""
    path = database_path()
    try:
        with snapshot(path) as snap:
            yield snap
    except sqlite3.Error as exc:
        raise click.ClickException(
            f"cannot read the database at {path} ({exc}); run `flask --app screening init-db`?"
        ) from None


def write_private(path: Path, pieces: Iterable[bytes]) -> None:
    """Write beside the target, readable by its owner only, then move it into place whole."""
    if not path.parent.is_dir():
        raise click.ClickException(f"no such folder: {path.parent}")
    partial = path.with_name(f".{path.name}.partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            for piece in pieces:
                out.write(piece)
        os.replace(partial, path)
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from None
    finally:
        partial.unlink(missing_ok=True)


def audit_export(action: str, chosen: Filters, count: int) -> None:
    db = connect(current_app.config["DATABASE"])
    try:
        audit.record(db, action, username=CLI_USER, detail=f"{chosen.describe()} rows={count}")
    finally:
        db.conn.close()


@export_cli.command("csv")
@date_options
@output_option
def csv_command(since, until, output: Path) -> None:
    """Write submitted screenings as a CSV for a spreadsheet: one row per submission (id,
    times, name, outcome, flags, latest decision, versions), then one column per question.

    UTF-8 with a BOM; a cell that a spreadsheet would run as a formula starts with '.

    Example: flask --app screening export csv --from 2026-01-01 --to 2026-01-31 -o jan.csv
    """
    chosen, qn = filters(since, until), questionnaire()
    with database_snapshot() as snap:
        count = snap.count(chosen)
        write_private(output, csv_output.chunks(snap.export_rows(chosen), qn))
    audit_export("export_csv", chosen, count)
    click.echo(f"Wrote {count:,} submissions to {output}.")


@export_cli.command("fhir")
@date_options
@output_option
def fhir_command(since, until, output: Path) -> None:
    """Write submitted screenings as a FHIR R4 Bundle (type collection): per submission a
    Patient, a QuestionnaireResponse and a RiskAssessment.

    Example: flask --app screening export fhir --from 2026-01-01 -o screenings.fhir.json
    """
    chosen, qn, titles = filters(since, until), questionnaire(), fhir.rule_titles(rules())
    with database_snapshot() as snap:
        count = snap.count(chosen)
        pieces = fhir.bundle_chunks(snap.export_rows(chosen), qn, titles)
        write_private(output, (piece.encode("utf-8") for piece in pieces))
    audit_export("export_fhir", chosen, count)
    click.echo(f"Wrote {count:,} submissions to {output}.")


@export_cli.command("fhir-questionnaire")
@output_option
def fhir_questionnaire_command(output: Path) -> None:
    """Write the questionnaire as a FHIR R4 Questionnaire (linkId = question id).

    Example: flask --app screening export fhir-questionnaire -o questionnaire.fhir.json
    """
    try:
        resource = fhir.questionnaire_resource(questionnaire())
    except fhir.FhirMappingError as exc:
        raise click.ClickException(str(exc)) from None
    write_private(output, [(fhir.dumps(resource) + "\n").encode("utf-8")])
    click.echo(f"Wrote the questionnaire (version {resource['version']}) to {output}.")
