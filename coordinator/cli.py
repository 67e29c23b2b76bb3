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
        click.echo(
            "The starter helplines are marked 'verify before use' and stay off leaflets and bulletins until an\n"
            "admin verifies each one: log in as the admin, then Content -> Helplines to verify."
        )

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

    @content_group.command("review-reminder")
    def content_review_reminder_command() -> None:
        """Email the admins today's list of helplines to verify, unless today's reminder has gone already."""
        from coordinator.content.reminders import send_review_reminder

        sent = send_review_reminder()
        click.echo(f"Reminder emailed to {sent} admin(s)." if sent else
                   "No reminder sent: today's has gone already, or no helpline needs verifying.")

    @app.cli.group("leaflet")
    def leaflet_group() -> None:
        """Leaflets: print-ready PDFs of approved campaigns and helpline sets."""

    @leaflet_group.command("render")
    @click.option("--campaign", "campaign_slug", required=True, help="The campaign's slug, e.g. its-not-ok.")
    @click.option("--helplines", "helplines_slug", required=True, help="The helpline set's slug, e.g. sexual-violence.")
    @click.option("--layout", type=click.Choice(["a5", "a4", "dl", "a6", "wallet"]), required=True)
    @click.option("--mode", type=click.Choice(["home", "shop"]), default="home", show_default=True,
                  help="home: A4 sheets with cut marks; shop: trim size with bleed and crop marks.")
    @click.option("--large-print", is_flag=True, help="Large print (A5, A4 and DL only).")
    @click.option("--scheme", "scheme_name", default=None, help="Print this scheme's contact line (name or slug).")
    @click.option("--copies", type=click.IntRange(1, 100_000), default=1, show_default=True)
    @click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path))
    def leaflet_render_command(campaign_slug: str, helplines_slug: str, layout: str, mode: str, large_print: bool,
                               scheme_name: str | None, copies: int, out_file: Path) -> None:
        """Write one leaflet's PDF to FILE.pdf, from the campaign and helpline set approved now (recorded and audited)."""
        from coordinator.leaflets import cli as leaflet_cli
        from coordinator.leaflets.builder import generate_leaflet
        from coordinator.leaflets.offers import LeafletChoiceError
        from coordinator.leaflets.pdfs import leaflet_pdf

        try:
            scheme, choice = leaflet_cli.choice_from_slugs(
                campaign_slug, helplines_slug, layout, mode, large_print, scheme_name
            )
            record, prepared = generate_leaflet(scheme, choice, None, copies=copies)
            pdf = leaflet_pdf(prepared.recipe)
        except LeafletChoiceError as exc:
            db.session.rollback()
            raise click.ClickException(" ".join(exc.errors.values())) from exc
        out_file.write_bytes(pdf)
        db.session.commit()
        for note in prepared.notes:
            click.echo(("Left out: " if note.is_left_out else "Note: ") + note.message, err=True)
        click.echo(f"Wrote {out_file}: {prepared.layout.label}, {prepared.plan.pages} page(s), "
                   f"ref {record.reference}.")
        for note in prepared.printing_notes:
            click.echo(f"  {note}")

    @app.cli.command("print-order")
    @click.option("--campaign", "campaign_slug", required=True, help="The campaign's slug.")
    @click.option("--helplines", "helplines_slug", required=True, help="The helpline set's slug.")
    @click.option("--layout", type=click.Choice(["a5", "a4", "dl", "a6", "wallet"]), required=True)
    @click.option("--large-print", is_flag=True, help="Large print (A5, A4 and DL only).")
    @click.option("--scheme", "scheme_names", multiple=True,
                  help="Only this scheme (name or slug); repeat for several. Default: every scheme.")
    @click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
    def print_order_command(campaign_slug: str, helplines_slug: str, layout: str, large_print: bool,
                            scheme_names: tuple[str, ...], out_dir: Path) -> None:
        """Build a central print order now: a zip of one print-shop PDF per scheme, and the quantities CSV, in DIR."""
        from coordinator.leaflets import cli as leaflet_cli
        from coordinator.leaflets.models import PrintOrderState
        from coordinator.leaflets.offers import LeafletChoiceError
        from coordinator.leaflets.print_order_job import build_print_order
        from coordinator.leaflets.print_orders import copy_print_order_files, create_print_order

        try:
            _, choice = leaflet_cli.choice_from_slugs(campaign_slug, helplines_slug, layout, "shop", large_print, None)
            scheme_ids = leaflet_cli.scheme_ids_from_names(scheme_names) if scheme_names else None
            order = create_print_order(choice, scheme_ids, None)
        except LeafletChoiceError as exc:
            db.session.rollback()
            raise click.ClickException(" ".join(exc.errors.values())) from exc
        db.session.commit()
        build_print_order(order.id)
        db.session.refresh(order)
        if order.state != PrintOrderState.DONE:
            raise click.ClickException(f"Print order {order.id} failed: {order.error}")
        zip_path, csv_path = copy_print_order_files(order, out_dir)
        for row in order.results:
            if row["problem"]:
                click.echo(f"Left out {row['scheme']}: {row['problem']}", err=True)
        click.echo(f"Print order {order.id}: {order.copies_total:,} copies for "
                   f"{sum(1 for row in order.results if row['file'])} scheme(s).")
        click.echo(f"Wrote {zip_path} and {csv_path}.")

    @app.cli.group("bulletin")
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
        from sqlalchemy import select

        from coordinator.bulletins import services
        from coordinator.bulletins.models import BulletinState
        from coordinator.bulletins.render import is_outbox_folder
        from coordinator.bulletins.sending import send_later
        from coordinator.schemes.models import Scheme

        if bool(scheme_name) == all_schemes:
            raise click.UsageError("Give either --scheme NAME or --all-schemes.")
        if all_schemes:
            schemes = list(db.session.scalars(select(Scheme).order_by(Scheme.name)))
        else:
            scheme = services.find_scheme_by_name(scheme_name)
            if scheme is None:
                raise click.ClickException(f"No scheme is called {scheme_name!r}.")
            schemes = [scheme]
        try:
            report = services.send_campaign_to_schemes(
                schemes, list(campaign_slugs), helplines_slug, subject, intro, None, actor_label="command line"
            )
        except services.BulletinError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        if is_outbox_folder():
            click.echo("No MAIL_SERVER is set: messages are written to instance/outbox/ as .eml files.")
        send_later([b.id for b in report.bulletins if b.state == BulletinState.APPROVED])
        for bulletin in report.bulletins:
            db.session.refresh(bulletin)
        for line in report.lines():
            click.echo(line)
        click.echo(f"{len(report.bulletins)} bulletin(s) made, {len(report.skipped)} scheme(s) skipped.")
