"""The builder: preview a leaflet (no writes), generate it (render, record, audit), and its records.

A leaflet for a print shop is one artwork (front and back, trim and bleed) whatever the copies: the record keeps the
quantity, and its quantities sheet says it in the columns of a print run's (print_runs.py), so every file a shop gets
from the toolkit has one shape. Services flush; the view or command commits.
"""

from __future__ import annotations

from sqlalchemy import select

from coordinator import audit
from coordinator.auth.models import User
from coordinator.extensions import db
from coordinator.leaflets.layouts import SHOP
from coordinator.leaflets.models import LeafletRecord
from coordinator.leaflets.offers import LeafletChoice
from coordinator.leaflets.pdfs import checked_pdf, leaflet_pdf
from coordinator.leaflets.print_runs import quantities_csv
from coordinator.leaflets.recipes import (
    PreparedLeaflet,
    actor_label,
    audit_details,
    content_columns,
    keep_printed_logo,
    prepare_leaflet,
    recipe_of,
)
from coordinator.schemes.models import Scheme


def preview_leaflet(scheme: Scheme, choice: LeafletChoice) -> PreparedLeaflet:
    """Check the choice and render it (through the cache), so a leaflet that does not fit is known now; no writes."""
    prepared = prepare_leaflet(scheme, choice)
    checked_pdf(prepared)
    return prepared


def record_leaflet(prepared: PreparedLeaflet, scheme: Scheme | None, actor: User | None) -> LeafletRecord:
    """Keep what was generated and write `leaflets.generated` to the audit log."""
    recipe = prepared.recipe
    record = LeafletRecord(scheme=scheme, created_by=actor, created_by_label=actor_label(actor),
                           **content_columns(recipe))
    keep_printed_logo(recipe)
    db.session.add(record)
    db.session.flush()
    where = f" for {scheme.name}" if scheme is not None else ""
    audit.record(
        "leaflets.generated",
        record,
        f"{prepared.layout.label} “{prepared.chosen.campaign.title}”{where}, ref {recipe.data.reference}",
        actor=actor,
        actor_label=None if actor is not None else "cli",
        **audit_details(recipe, scheme),
    )
    return record


def generate_leaflet(
    scheme: Scheme | None, choice: LeafletChoice, actor: User | None, *, copies: int = 1
) -> tuple[LeafletRecord, PreparedLeaflet]:
    """Check, render (through the cache) and record one leaflet: the builder's "Download PDF" and `leaflet render`."""
    prepared = prepare_leaflet(scheme, choice, copies=copies)
    checked_pdf(prepared)
    return record_leaflet(prepared, scheme, actor), prepared


def record_pdf(record: LeafletRecord) -> bytes:
    """A recorded leaflet's PDF, again: from the cache, or made again from the same versions and brand."""
    return leaflet_pdf(recipe_of(record))


def record_file_name(record: LeafletRecord) -> str:
    """What a recorded leaflet's PDF is called when downloaded: a print shop's says it is the artwork."""
    if record.print_mode == SHOP:
        return f"leaflet-{record.id}-{record.layout}-artwork.pdf"
    return f"leaflet-{record.layout}-{record.reference}.pdf"


def record_quantities_file_name(record: LeafletRecord) -> str:
    """What a print shop leaflet's quantities sheet is called when downloaded."""
    return f"leaflet-{record.id}-quantities.csv"


def record_quantities(record: LeafletRecord, pdf_file: str | None = None) -> str:
    """A print shop leaflet's quantities sheet: one row, the artwork file and the copies to print.

    The columns are a print run's (print_runs.QUANTITY_COLUMNS); a leaflet is for no street, so those cells are empty.
    """
    scheme_name = record.scheme.name if record.scheme is not None else ""
    return quantities_csv([(scheme_name, pdf_file or record_file_name(record), "", "", "", "", record.copies)])


def recent_records(schemes: list[Scheme], limit: int = 10) -> list[LeafletRecord]:
    """The latest leaflets generated for these schemes, newest first."""
    ids = [scheme.id for scheme in schemes]
    stmt = select(LeafletRecord).where(LeafletRecord.scheme_id.in_(ids))
    return list(db.session.scalars(stmt.order_by(LeafletRecord.created_at.desc(), LeafletRecord.id.desc()).limit(limit)))
