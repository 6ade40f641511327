"""`flask --app screening users ...`: manage staff accounts from the terminal."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from .staff import accounts
from .store import connect
from .store import staff as store
from .vocab import ROLES

users_cli = AppGroup("users", help="Manage staff accounts.")


def _run(change, *args) -> None:
    """Apply one account change (audited by `accounts`); a mistake is one clear line."""
    db = connect(current_app.config["DATABASE"])
    try:
        change(db, *args)
    except accounts.UserError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.conn.close()


def _password(from_stdin: bool) -> tuple[str, bool]:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise click.ClickException("no password on standard input")
        return password, False
    return accounts.new_password(), True


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES.codes), required=True, help="What the user may do.")
@click.option("--name", default=None, help="The person's full name, shown on staff pages.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_command(username, role, name, password_stdin):
    """Create a staff account and print its generated password once.

    Example: flask --app screening users create dana --role provider --name "Dr Dana Lee"
    """
    password, generated = _password(password_stdin)
    _run(accounts.create, username, role, password, name)
    click.echo(f"Created {username} ({role}).")
    if generated:
        click.echo(f"Password (shown once, keep it safe): {password}")


@users_cli.command("list")
def list_command():
    """List staff accounts.

    Example: flask --app screening users list
    """
    db = connect(current_app.config["DATABASE"])
    try:
        for u in store.all_users(db):
            state = "active" if u["active"] else "disabled"
            click.echo(f"{u['username']:<20} {u['role']:<11} {state:<9} {u['name'] or ''}")
    finally:
        db.conn.close()


@users_cli.command("disable")
@click.argument("username")
def disable_command(username):
    """Disable an account; its open sessions end at once.

    Example: flask --app screening users disable dana
    """
    _run(accounts.disable, username)
    click.echo(f"Disabled {username}.")


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password_command(username, password_stdin):
    """Give an account a new password (generated and printed once, or from stdin).

    Example: flask --app screening users set-password dana
    """
    password, generated = _password(password_stdin)
    _run(accounts.set_password, username, password)
    click.echo(f"New password set for {username}; their open sessions were ended.")
    if generated:
        click.echo(f"Password (shown once, keep it safe): {password}")


@users_cli.command("reset-2fa")
@click.argument("username")
def reset_two_factor_command(username):
    """Reset an account's two-factor sign-in (a lost phone): it is set up again at the next
    login, and the account's open sessions end.

    Example: flask --app screening users reset-2fa dana
    """
    _run(accounts.reset_two_factor, username)
    click.echo(f"Two-factor sign-in reset for {username}; they set it up at their next login.")


@users_cli.command("ensure-admin")
def ensure_admin_command():
    """On an instance with no staff accounts, create `admin` and print its password once.

    Example: flask --app screening users ensure-admin
    """
    db = connect(current_app.config["DATABASE"])
    try:
        if store.count_users(db):
            return
        password = accounts.new_password()
        accounts.create(db, "admin", "admin", password, "Administrator")
    finally:
        db.conn.close()
    click.echo("")
    click.echo("  A staff account was created for you:")
    click.echo("    username: admin")
    click.echo(f"    password: {password}")
    click.echo("  It is shown only this once. Log in at /staff/ and create accounts for your team.")
    click.echo("")
