"""`flask --app coordinator ...` commands. Each calls the same services as the pages do."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import Flask

from coordinator.extensions import db


def register_cli(app: Flask) -> None:
    """Attach every command to the app."""

    @app.cli.command("create-admin")
    @click.argument("email")
    @click.option("--name", default="", help="Display name (defaults to the part of the email before @).")
    def create_admin(email: str, name: str) -> None:
        """Create an admin account. The password is prompted for, or read from COORDINATOR_ADMIN_PASSWORD."""
        from coordinator import audit
        from coordinator.auth.models import Role
        from coordinator.auth.services import AccountError, create_user

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

    @app.cli.command("import-coordinators")
    @click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--no-invitations", is_flag=True, help="Create the accounts without emailing invitations.")
    def import_coordinators_command(csv_file: Path, no_invitations: bool) -> None:
        """Import coordinators from a CSV with the header email,name,scheme,role (all or nothing)."""
        from coordinator.admin.services import import_coordinators
        from coordinator.mail import send_queued_mail_later

        report = import_coordinators(csv_file.read_bytes(), actor=None, send_invitations=not no_invitations)
        for line in report.lines():
            click.echo(line)
        if not report.ok:
            db.session.rollback()
            sys.exit(1)
        db.session.commit()
        send_queued_mail_later()

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    @click.option("--max-jobs", type=int, default=None, help="Stop after this many jobs (a process manager restarts it).")
    def worker_command(burst: bool, max_jobs: int | None) -> None:
        """Run background jobs from Redis (REDIS_URL): print orders, bulletin sends, emails."""
        from coordinator.jobs import run_worker

        try:
            run_worker(burst=burst, max_jobs=max_jobs)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from exc

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Create or refresh the demo accounts and schemes, and print the logins (new passwords each run)."""
        from coordinator.demo import seed_demo

        logins = seed_demo()
        db.session.commit()
        click.echo("Demo logins (passwords are new each time seed-demo runs):")
        for login in logins:
            click.echo(f"  {login.role:<12} {login.email:<36} password: {login.password}")
