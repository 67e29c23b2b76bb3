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

    @app.cli.command("import-subscribers")
    @click.option("--scheme", "scheme_name", required=True, help="The scheme's name or slug.")
    @click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def import_subscribers_command(scheme_name: str, csv_file: Path) -> None:
        """Import a scheme's existing members from a CSV with the header email,name,street (all or nothing).

        Each address becomes pending and is sent a confirmation request; nothing else until it is confirmed.
        """
        from coordinator.bulletins.services import find_scheme_by_name, import_subscribers
        from coordinator.mail import send_queued_mail_later

        scheme = find_scheme_by_name(scheme_name)
        if scheme is None:
            raise click.ClickException(f"No scheme is called {scheme_name!r}.")
        report = import_subscribers(scheme, csv_file.read_bytes(), actor=None)
        for line in report.lines():
            click.echo(line)
        if not report.ok:
            db.session.rollback()
            sys.exit(1)
        db.session.commit()
        send_queued_mail_later()

    @app.cli.command("expire-subscribers")
    def expire_subscribers_command() -> None:
        """Forget sign-ups whose confirmation link expired unanswered (run daily)."""
        from coordinator.bulletins.services import expire_unconfirmed

        count = expire_unconfirmed()
        db.session.commit()
        click.echo(f"{count} unconfirmed sign-up(s) expired.")

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

    @app.cli.group("content")
    def content_group() -> None:
        """Content packs: share approved campaigns, helplines and helpline sets between associations."""

    @content_group.command("export")
    @click.argument("pack_file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
    @click.option("--no-images", is_flag=True, help="Leave campaign pictures out of the pack.")
    def content_export_command(pack_file: Path, no_images: bool) -> None:
        """Write every approved, current campaign, helpline and helpline set to PACK_FILE (JSON)."""
        from coordinator.content.packs import export_pack, pack_json

        pack = export_pack(include_images=not no_images)
        pack_file.write_text(pack_json(pack), encoding="utf-8")
        counts: dict[str, int] = {}
        for item in pack["items"]:
            counts[item["kind"]] = counts.get(item["kind"], 0) + 1
        click.echo(f"Wrote {pack_file}: " + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items()))

    @content_group.command("import")
    @click.argument("pack_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--approve-as", "approve_as", metavar="ADMIN_EMAIL", default=None,
                  help="Approve everything as this admin. Only on a first install, with no approved content yet.")
    def content_import_command(pack_file: Path, approve_as: str | None) -> None:
        """Load PACK_FILE as versions awaiting approval (all or nothing)."""
        from coordinator.auth.services import find_user_by_email
        from coordinator.content.packs import PackError, import_pack
        from coordinator.mail import send_queued_mail_later

        admin = None
        if approve_as:
            admin = find_user_by_email(approve_as)
            if admin is None:
                raise click.ClickException(f"No account has the email {approve_as}.")
        try:
            report = import_pack(pack_file.read_bytes(), None, approve_as=admin, system_label="cli")
        except PackError as exc:
            db.session.rollback()
            click.echo("Nothing was imported:", err=True)
            for problem in exc.problems:
                click.echo(f"  - {problem}", err=True)
            sys.exit(1)
        db.session.commit()
        send_queued_mail_later()
        for line in report.lines():
            click.echo(line)
