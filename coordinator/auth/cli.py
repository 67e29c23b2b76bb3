"""`flask create-admin`: the first admin account, from the command line."""

from __future__ import annotations

import os

import click
from flask.cli import with_appcontext

from coordinator import audit
from coordinator.auth.models import Role
from coordinator.auth.services import AccountError, create_user
from coordinator.extensions import db


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default="", help="Display name (defaults to the part of the email before @).")
@with_appcontext
def create_admin(email: str, name: str) -> None:
    """Create an admin account. The password is prompted for, or read from COORDINATOR_ADMIN_PASSWORD."""
    password = os.environ.get("COORDINATOR_ADMIN_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    try:
        user = create_user(email, name or email.split("@")[0], Role.ADMIN, password=password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    audit.record("users.created", user, f"admin {user.email} created from the command line", actor_label="cli")
    db.session.commit()
    click.echo(f"Admin {user.email} created.")


COMMANDS = (create_admin,)
