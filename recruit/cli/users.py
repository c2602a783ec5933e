"""`recruit users`: staff accounts and the custodian flag."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from recruit.db import writes


@click.group(cls=AppGroup)
def users():
    """Staff accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["reviewer", "coordinator"]), required=True)
@click.option("--custodian", is_flag=True, help="Hand this coordinator the custodian flag.")
@with_appcontext
@writes
def users_create(email, role, custodian):
    """Create a staff account; its random password is printed once."""
    from recruit.db import get_db
    from recruit.domain import accounts
    from recruit.models import Role

    session = get_db()
    try:
        user, password = accounts.create_staff(session, email=email, role=Role(role),
                                               custodian=custodian)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    session.commit()
    extra = " (custodian)" if user.is_custodian else ""
    click.echo(f"Created {role}{extra} {user.email} — password: {password}")
    click.echo("The password is shown only now.")


@users.command("make-custodian")
@click.argument("email")
@with_appcontext
@writes
def users_make_custodian(email):
    """Hand the custodian flag to a coordinator (recorded in the audit log)."""
    from recruit.db import get_db
    from recruit.domain import accounts

    session = get_db()
    user = accounts.find_user(session, email=email)
    if user is None:
        raise click.ClickException(f"no account with e-mail {email}")
    try:
        previous = accounts.make_custodian(session, user=user, by=None)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    session.commit()
    was = f" (was {previous.email})" if previous and previous.id != user.id else ""
    click.echo(f"{user.email} is now the custodian{was}.")

