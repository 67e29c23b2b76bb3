"""`flask import-coordinators` and `flask import-schemes`: coordinator accounts, and schemes with their streets,
from a CSV, as the admins' import pages make them."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from coordinator.admin.coordinator_import import import_coordinators
from coordinator.cli import finish_import
from coordinator.schemes.scheme_import import import_schemes


@click.command("import-coordinators")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-invitations", is_flag=True, help="Create the accounts without emailing invitations.")
@with_appcontext
def import_coordinators_command(csv_file: Path, no_invitations: bool) -> None:
    """Import coordinators from a CSV with the header email,name,scheme,role (all or nothing)."""
    finish_import(import_coordinators(csv_file.read_bytes(), actor=None, send_invitations=not no_invitations))


@click.command("import-schemes")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_schemes_command(csv_file: Path) -> None:
    """Import schemes with their streets from a CSV with the header
    scheme,ward,postcode_district,street,postcode,households,no_leaflets (all or nothing)."""
    finish_import(import_schemes(csv_file.read_bytes(), actor=None))


COMMANDS = (import_coordinators_command, import_schemes_command)
