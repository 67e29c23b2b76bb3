"""Central print orders: an admin's order of one campaign and layout for every scheme, or the ones chosen.

`create_print_order` checks and queues the order; the job in print_order_job.py builds its zip in the
background. Services flush; the view or command commits, then enqueues the job.
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from coordinator import audit
from coordinator.auth.models import User
from coordinator.content import services as content
from coordinator.extensions import db
from coordinator.leaflets.layouts import SHOP
from coordinator.leaflets.models import PrintOrder, PrintOrderState
from coordinator.leaflets.offers import LeafletChoice, LeafletChoiceError, check_choice
from coordinator.leaflets.recipes import actor_label
from coordinator.leaflets.render import LeafletError
from coordinator.schemes.models import Scheme

PRINT_ORDERS_FOLDER = "print-orders"
QUANTITIES_CSV = "quantities.csv"


def create_print_order(
    choice: LeafletChoice, scheme_ids: list[int] | None, actor: User | None
) -> PrintOrder:
    """Queue a central order: one campaign and layout for every scheme (`scheme_ids` None) or the ones chosen.

    `build_print_order` is queued when the caller commits (the command line holds it and runs it at once).
    """
    from coordinator.leaflets.print_order_job import build_print_order  # that module imports this one

    choice = replace(choice, local_notice_version_id=None, print_mode=SHOP)
    chosen = check_choice(None, choice)
    if scheme_ids is not None:
        wanted = set(scheme_ids)
        found = set(db.session.scalars(select(Scheme.id).where(Scheme.id.in_(wanted))))
        if not wanted:
            raise LeafletChoiceError({"schemes": "Choose at least one scheme, or every scheme."})
        if found != wanted:
            raise LeafletChoiceError({"schemes": "Choose schemes from the list."})
        scheme_ids = sorted(wanted)
    order = PrintOrder(
        created_by=actor,
        created_by_label=actor_label(actor),
        campaign_version_id=chosen.campaign.id,
        helpline_set_version_id=chosen.helpline_set.id,
        layout=chosen.layout.key,
        print_mode=SHOP,
        is_large_print=choice.is_large_print,
        scheme_ids=scheme_ids,
        printed_on=content.today(),
        state=PrintOrderState.QUEUED,
        progress_total=len(scheme_ids) if scheme_ids is not None else len(order_schemes(None)),
        results=[],
    )
    db.session.add(order)
    db.session.flush()
    which = "every scheme" if scheme_ids is None else f"{len(scheme_ids)} scheme(s)"
    audit.record(
        "print_orders.created",
        order,
        f"print order of {chosen.layout.label}s “{chosen.campaign.title}” with “{chosen.helpline_set.title}” "
        f"for {which}",
        actor=actor,
        actor_label=None if actor is not None else "cli",
        campaign_version_id=chosen.campaign.id,
        helpline_set_version_id=chosen.helpline_set.id,
        layout=chosen.layout.key,
        is_large_print=choice.is_large_print,
        scheme_ids=scheme_ids,
    )
    build_print_order.after_commit(order.id)
    return order


def order_schemes(scheme_ids: list[int] | None) -> list[Scheme]:
    """The schemes an order is for, by name: those chosen, or every scheme there is now (`scheme_ids` None)."""
    stmt = select(Scheme).order_by(Scheme.name)
    if scheme_ids is not None:
        stmt = stmt.where(Scheme.id.in_(scheme_ids))
    return list(db.session.scalars(stmt))


def print_orders_folder() -> Path:
    """Where finished print orders' zips are kept: instance/print-orders/."""
    return Path(current_app.instance_path) / PRINT_ORDERS_FOLDER


def print_order_path(order: PrintOrder) -> Path | None:
    """The finished order's zip, if it is there."""
    if not order.file_name:
        return None
    path = print_orders_folder() / order.file_name
    return path if path.is_file() else None


def copy_print_order_files(order: PrintOrder, out_dir: Path) -> tuple[Path, Path]:
    """Copy a finished order's zip, and its quantities CSV beside it, into `out_dir` (the command line)."""
    source = print_order_path(order)
    if source is None:
        raise LeafletError("This print order has no finished file.")
    out_dir.mkdir(parents=True, exist_ok=True)
    zip_path = out_dir / source.name
    shutil.copyfile(source, zip_path)
    csv_path = out_dir / f"{source.stem}-{QUANTITIES_CSV}"
    with zipfile.ZipFile(source) as archive:
        csv_path.write_bytes(archive.read(QUANTITIES_CSV))
    return zip_path, csv_path


def recent_print_orders(limit: int = 20) -> list[PrintOrder]:
    """The latest central print orders, newest first."""
    stmt = select(PrintOrder).order_by(PrintOrder.created_at.desc(), PrintOrder.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))
