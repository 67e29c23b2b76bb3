"""`flask --app coordinator ...` commands. Each calls the same services as the pages do.

Each domain keeps its commands in its own `cli.py` (auth, admin, bulletins, content, leaflets), listed in its
`COMMANDS`; the commands that belong to the whole app (the job worker, the demo data) are here.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext

from coordinator.csvfiles import ImportReport
from coordinator.extensions import db


def register_cli(app: Flask) -> None:
    """Attach every command to the app."""
    # Imported here: the domains' command modules import `finish_import` from this one.
    from coordinator.admin import cli as admin_cli
    from coordinator.auth import cli as auth_cli
    from coordinator.bulletins import cli as bulletins_cli
    from coordinator.content import cli as content_cli
    from coordinator.leaflets import cli as leaflets_cli

    for module in (auth_cli, admin_cli, bulletins_cli, content_cli, leaflets_cli):
        for command in module.COMMANDS:
            app.cli.add_command(command)
    app.cli.add_command(worker_command)
    app.cli.add_command(seed_demo_command)


def finish_import(report: ImportReport) -> None:
    """Print an all-or-nothing import's report; keep it and send its emails, or keep nothing and exit 1."""
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        db.session.rollback()
        sys.exit(1)
    db.session.commit()


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--max-jobs", type=int, default=None, help="Stop after this many jobs (a process manager restarts it).")
@with_appcontext
def worker_command(burst: bool, max_jobs: int | None) -> None:
    """Run background jobs from Redis (REDIS_URL): print orders, bulletin sends, emails."""
    from coordinator.jobs import run_worker

    try:
        run_worker(burst=burst, max_jobs=max_jobs)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create or refresh the demo accounts and schemes, and print the logins (new passwords each run)."""
    from coordinator.demo import seed_demo

    logins = seed_demo()
    db.session.commit()
    click.echo("Demo logins (passwords are new each time seed-demo runs):")
    for login in logins:
        click.echo(f"  {login.role:<12} {login.email:<36} password: {login.password}")
    click.echo(
        "The starter helplines are marked 'verify before use' and stay off leaflets and bulletins until an\n"
        "admin verifies each one: log in as the admin, then Content -> Helplines to verify."
    )
