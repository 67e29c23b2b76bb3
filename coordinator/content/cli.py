"""`flask content export|import|review-reminder`: content packs shared between associations, and the admins'
daily reminder of helplines to verify."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from coordinator.auth.services import find_user_by_email
from coordinator.content.packs import PackError, export_pack, import_pack, pack_json
from coordinator.content.reminders import send_review_reminder
from coordinator.extensions import db


@click.group("content", cls=AppGroup)
def content_group() -> None:
    """Content packs: share approved campaigns, helplines and helpline sets between associations."""


@content_group.command("export")
@click.argument("pack_file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--no-images", is_flag=True, help="Leave campaign pictures out of the pack.")
def content_export_command(pack_file: Path, no_images: bool) -> None:
    """Write every approved, current campaign, helpline and helpline set to PACK_FILE (JSON)."""
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
    for line in report.lines():
        click.echo(line)


@content_group.command("review-reminder")
def content_review_reminder_command() -> None:
    """Email the admins today's list of helplines to verify, unless today's reminder has gone already."""
    sent = send_review_reminder()
    click.echo(f"Reminder emailed to {sent} admin(s)." if sent else
               "No reminder sent: today's has gone already, or no helpline needs verifying.")


COMMANDS = (content_group,)
