"""`flask import-subscribers`, `flask expire-subscribers`, `flask bulletin send` and `flask bulletin
process-bounces`: residents' subscriptions, campaign bulletins and their bounces from the command line, through
the same services as the pages."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from coordinator.bulletins import batches, bounces, subscriber_data, subscriber_import
from coordinator.bulletins.transitions import BulletinError
from coordinator.cli import finish_import
from coordinator.extensions import db
from coordinator.mail import is_outbox_folder
from coordinator.schemes.lookup import find_scheme_by_name
from coordinator.schemes.models import Scheme


@click.command("import-subscribers")
@click.option("--scheme", "scheme_name", required=True, help="The scheme's name or slug.")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_subscribers_command(scheme_name: str, csv_file: Path) -> None:
    """Import a scheme's existing members from a CSV with the header email,name,street,language (all or nothing).

    Each address becomes pending and is sent a confirmation request; nothing else until it is confirmed.
    """
    scheme = find_scheme_by_name(scheme_name)
    if scheme is None:
        raise click.ClickException(f"No scheme is called {scheme_name!r}.")
    finish_import(subscriber_import.import_subscribers(scheme, csv_file.read_bytes(), actor=None))


@click.command("expire-subscribers")
@with_appcontext
def expire_subscribers_command() -> None:
    """Forget sign-ups whose confirmation link expired unanswered (run daily)."""
    count = subscriber_data.expire_unconfirmed()
    db.session.commit()
    click.echo(f"{count} unconfirmed sign-up(s) expired.")


@click.group("bulletin", cls=AppGroup)
def bulletin_group() -> None:
    """Email bulletins to residents."""


@bulletin_group.command("send")
@click.option("--scheme", "scheme_name", default=None, help="The scheme's name or slug.")
@click.option("--all-schemes", is_flag=True, help="Every scheme, each with its own bulletin.")
@click.option("--campaign", "campaign_slugs", multiple=True, required=True,
              help="A current campaign's slug; repeat for more than one.")
@click.option("--helplines", "helplines_slug", required=True, help="An approved helpline set's slug.")
@click.option("--subject", required=True, help="The subject line.")
@click.option("--intro", default="", help="A few words at the top (plain text).")
def bulletin_send_command(scheme_name: str | None, all_schemes: bool, campaign_slugs: tuple[str, ...],
                          helplines_slug: str, subject: str, intro: str) -> None:
    """Send a campaign bulletin now to one scheme's subscribers, or to every scheme's (each its own version).

    When the association requires approval, the bulletins wait for an admin instead.
    """
    if bool(scheme_name) == all_schemes:
        raise click.UsageError("Give either --scheme NAME or --all-schemes.")
    if all_schemes:
        schemes = list(db.session.scalars(select(Scheme).order_by(Scheme.name)))
    else:
        scheme = find_scheme_by_name(scheme_name)
        if scheme is None:
            raise click.ClickException(f"No scheme is called {scheme_name!r}.")
        schemes = [scheme]
    try:
        report = batches.send_campaign_to_schemes(
            schemes, list(campaign_slugs), helplines_slug, subject, intro, None, actor_label="command line"
        )
    except BulletinError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    if is_outbox_folder():
        click.echo("No MAIL_SERVER is set: messages are written to instance/outbox/ as .eml files.")
    for bulletin in report.bulletins:
        db.session.refresh(bulletin)
    for line in report.lines():
        click.echo(line)
    click.echo(f"{len(report.bulletins)} bulletin(s) made, {len(report.skipped)} scheme(s) skipped.")


# sysexits.h EX_TEMPFAIL: an MTA piping a message in keeps it and tries again later.
EX_TEMPFAIL = 75


@bulletin_group.command("process-bounces")
@click.option("--stdin", "from_stdin", is_flag=True,
              help="Read one bounce or complaint message from standard input (an MTA's pipe) instead of the mailbox.")
def process_bounces_command(from_stdin: bool) -> None:
    """Read bounces (RFC 3464) and complaints (RFC 5965) and act on them: bouncing addresses, unsubscribes.

    Without --stdin, every report waiting in the BOUNCE_IMAP_* mailbox is read and then deleted from it.
    """
    if from_stdin:
        data = sys.stdin.buffer.read()
        try:
            run = bounces.process_message(data)
            db.session.commit()
        except SQLAlchemyError as exc:  # the database is away: the MTA keeps the message and pipes it again later
            db.session.rollback()
            click.echo(f"The message could not be recorded ({exc}); try again later.", err=True)
            sys.exit(EX_TEMPFAIL)
    else:
        if not bounces.is_mailbox_configured():
            raise click.ClickException("No bounce mailbox is set: set BOUNCE_IMAP_HOST (and BOUNCE_IMAP_USERNAME, "
                                       "BOUNCE_IMAP_PASSWORD), or pipe one message in with --stdin.")
        try:
            run = bounces.process_mailbox()
        except bounces.BounceMailboxError as exc:
            raise click.ClickException(str(exc)) from exc
    if from_stdin and run.not_reports:
        # An MTA's pipe has nowhere to leave it: say so, and let the MTA count it delivered.
        click.echo("The message is not a bounce (RFC 3464) or a complaint (RFC 5965): nothing was done.")
        return
    for line in run.lines():
        click.echo(line)


COMMANDS = (import_subscribers_command, expire_subscribers_command, bulletin_group)
