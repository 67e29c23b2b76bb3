"""Print runs: leaflets for some or all of a scheme's streets, with each street's copies.

Copies per street = households - households that asked for none + spares, where spares are the association's
`spare_copies_percent` of the households to deliver to, rounded up per street (a street nobody is to get a
leaflet in gets none, spares included). The run's PDF is the leaflet laid out once for all its copies: for a
home printer every sheet to print; for a print shop one artwork (front and back) and a quantities sheet saying how
many to print for each street, in the same columns as a central print order's (print_order_job.py).

Services flush; the view commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import select

from coordinator import audit
from coordinator.auth.models import User
from coordinator.csvfiles import write_csv
from coordinator.extensions import db
from coordinator.leaflets.layouts import SHOP, Layout, PrintPlan, get_layout, plan_print
from coordinator.leaflets.models import PrintRun, PrintRunStreet
from coordinator.leaflets.offers import LeafletChoice, LeafletChoiceError, check_choice
from coordinator.leaflets.pdfs import checked_pdf, leaflet_pdf
from coordinator.leaflets.recipes import (
    PreparedLeaflet,
    actor_label,
    audit_details,
    content_columns,
    keep_printed_logo,
    prepare_leaflet,
    printing_notes,
    recipe_of,
)
from coordinator.leaflets.recipes import shop_notes as leaflet_shop_notes
from coordinator.schemes.models import Scheme, Street
from coordinator.settings import get_settings

# A print shop's quantities sheet: a row for each street, the artwork file it prints from and how many copies.
QUANTITY_COLUMNS = ("scheme", "pdf_file", "street", "postcode", "households", "households_no_leaflets", "copies")


def street_copies(households: int, households_no_leaflets: int, spare_copies_percent: int) -> int:
    """Copies for one street: households to deliver to, plus spares (a percentage of them, rounded up)."""
    deliverable = max(households - households_no_leaflets, 0)
    # Integer arithmetic: a float's 0.30000000000000004 must not round 6 % of 5 up to 2.
    return deliverable + -(-deliverable * spare_copies_percent // 100)


@dataclass(frozen=True)
class StreetCopies:
    """One street's numbers in a print run."""

    street_id: int | None
    name: str
    postcode: str
    households: int
    households_no_leaflets: int
    copies: int

    @property
    def households_to_deliver(self) -> int:
        """Households that have not asked for no leaflets."""
        return max(self.households - self.households_no_leaflets, 0)


def copies_for_streets(streets: list[Street], spare_copies_percent: int) -> list[StreetCopies]:
    """Each street's copies under the spares rule, in the order given."""
    return [
        StreetCopies(
            street.id, street.name, street.postcode, street.households, street.households_no_leaflets,
            street_copies(street.households, street.households_no_leaflets, spare_copies_percent),
        )
        for street in streets
    ]


def quantity_rows(scheme_name: str, pdf_file: str, streets: Iterable[StreetCopies | PrintRunStreet]) -> list[tuple]:
    """The quantities sheet's rows (QUANTITY_COLUMNS) for these streets, all printed from `pdf_file`."""
    return [(scheme_name, pdf_file, street.name, street.postcode, street.households, street.households_no_leaflets,
             street.copies) for street in streets]


def quantities_csv(rows: Iterable[tuple]) -> str:
    """The quantities sheet as CSV, every cell neutralised for spreadsheets."""
    return write_csv(QUANTITY_COLUMNS, rows)


def streets_of(scheme: Scheme, street_ids: list[int]) -> list[Street]:
    """The chosen streets, all of this scheme, in the scheme's order; LeafletChoiceError otherwise."""
    if not street_ids:
        raise LeafletChoiceError({"streets": "Choose at least one street."})
    wanted = set(street_ids)
    streets = [street for street in scheme.streets if street.id in wanted]
    if len(streets) != len(wanted):
        raise LeafletChoiceError({"streets": "Choose streets of this scheme only."})
    return streets


@dataclass
class PreparedPrintRun:
    """A checked print run: the leaflet for all its copies and each street's share."""

    leaflet: PreparedLeaflet
    streets: list[StreetCopies]
    spare_copies_percent: int

    @property
    def copies(self) -> int:
        """Copies over every street of the run."""
        return sum(street.copies for street in self.streets)

    @property
    def printing_notes(self) -> list[str]:
        """How to print it: for a print shop one artwork and its quantities, for a home printer its sheets."""
        if self.leaflet.recipe.print_mode == SHOP:
            return shop_notes(self.leaflet.layout, self.copies)
        return self.leaflet.printing_notes

    @property
    def streets_with_none(self) -> list[StreetCopies]:
        """Streets where every household asked for no leaflets."""
        return [street for street in self.streets if street.copies == 0]


def prepare_print_run(scheme: Scheme, choice: LeafletChoice, street_ids: list[int]) -> PreparedPrintRun:
    """Check the choice and the streets and work out the copies; renders and writes nothing."""
    errors: dict[str, str] = {}
    try:
        streets = streets_of(scheme, street_ids)
    except LeafletChoiceError as error:
        errors.update(error.errors)
        streets = []
    try:
        check_choice(scheme, choice)
    except LeafletChoiceError as error:
        errors.update(error.errors)
    if errors:
        raise LeafletChoiceError(errors)
    percent = get_settings().spare_copies_percent
    rows = copies_for_streets(streets, percent)
    total = sum(row.copies for row in rows)
    if total == 0:
        raise LeafletChoiceError({"streets": "Every household in the chosen streets asked for no leaflets: "
                                             "there is nothing to print."})
    return PreparedPrintRun(prepare_leaflet(scheme, choice, copies=total), rows, percent)


def create_print_run(scheme: Scheme, choice: LeafletChoice, street_ids: list[int], actor: User) -> PrintRun:
    """Check, render the run's PDF once (through the cache), record it with its streets and audit it."""
    prepared = prepare_print_run(scheme, choice, street_ids)
    checked_pdf(prepared.leaflet)
    recipe = prepared.leaflet.recipe
    plan = recipe.plan
    layout = get_layout(recipe.layout)
    run = PrintRun(
        scheme=scheme, created_by=actor, created_by_label=actor_label(actor),
        spare_copies_percent=prepared.spare_copies_percent, sheets=plan.sheets,
        pages=layout.pages if recipe.print_mode == SHOP else plan.pages,
        **content_columns(recipe),
    )
    run.streets = [
        PrintRunStreet(position=index, street_id=row.street_id, name=row.name, postcode=row.postcode,
                       households=row.households, households_no_leaflets=row.households_no_leaflets, copies=row.copies)
        for index, row in enumerate(prepared.streets, start=1)
    ]
    keep_printed_logo(recipe)
    db.session.add(run)
    db.session.flush()
    audit.record(
        "print_runs.created",
        run,
        f"print run of {recipe.copies:,} {prepared.leaflet.layout.label}s “{prepared.leaflet.chosen.campaign.title}” "
        f"for {len(run.streets)} street(s) of {scheme.name}, ref {recipe.data.reference}",
        actor=actor,
        streets={str(row.street_id): row.copies for row in prepared.streets},
        spare_copies_percent=prepared.spare_copies_percent,
        **audit_details(recipe, scheme),
    )
    return run


def print_run_pdf(run: PrintRun) -> bytes:
    """The run's PDF: for a home printer every sheet (the leaflet laid out once, its pages repeated by reference);
    for a print shop one artwork, the copies being on the quantities sheet."""
    return leaflet_pdf(print_run_recipe(run))


def print_run_recipe(run: PrintRun):
    """The recipe of the run's PDF: a print shop's is one copy, which is also what the builder and a central print
    order make, so the three share one rendered artwork in the cache."""
    recipe = recipe_of(run)
    return replace(recipe, copies=1) if run.print_mode == SHOP else recipe


def print_run_file_name(run: PrintRun) -> str:
    """What the run's PDF is called when downloaded."""
    if run.print_mode == SHOP:
        return f"print-run-{run.id}-{run.layout}-artwork.pdf"
    return f"print-run-{run.id}-{run.layout}-{run.copies}-copies.pdf"


def print_run_quantities(run: PrintRun) -> str:
    """The run's quantities sheet for a print shop: copies per street, and the artwork file they print from."""
    scheme_name = run.scheme.name if run.scheme is not None else ""
    return quantities_csv(quantity_rows(scheme_name, print_run_file_name(run), run.streets))


def print_run_plan(run: PrintRun) -> PrintPlan:
    """Copies, sheets of paper and pages of a run's PDF."""
    return plan_print(get_layout(run.layout), run.print_mode, run.copies)


def print_run_notes(run: PrintRun) -> list[str]:
    """How to print a run, in a few sentences."""
    layout = get_layout(run.layout)
    if run.print_mode == SHOP:
        return shop_notes(layout, run.copies)
    return printing_notes(layout, run.print_mode, print_run_plan(run))


def shop_notes(layout: Layout, copies: int) -> list[str]:
    """How a print shop prints a run: one artwork, so many times, the copies for each street on the quantities sheet."""
    return leaflet_shop_notes(layout, copies, per_street=True)


def recent_print_runs(schemes: list[Scheme], limit: int = 10) -> list[PrintRun]:
    """The latest print runs of these schemes, newest first."""
    ids = [scheme.id for scheme in schemes]
    stmt = select(PrintRun).where(PrintRun.scheme_id.in_(ids))
    return list(db.session.scalars(stmt.order_by(PrintRun.created_at.desc(), PrintRun.id.desc()).limit(limit)))
