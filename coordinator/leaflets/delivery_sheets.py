"""Delivery sheets: for each print run, the streets to deliver to and how many copies each, on one A4 PDF.

No resident's name is on a sheet: only streets, households, how many of them asked for no leaflets, copies, and
each street's delivery notes as its coordinator wrote them (gate codes, "no leaflets at 12 and 14").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from coordinator.content import services as content
from coordinator.content.models import ContentKind
from coordinator.extensions import db
from coordinator.leaflets.cache import cache_key
from coordinator.leaflets.layouts import get_layout
from coordinator.leaflets.models import PrintRun, PrintRunStreet
from coordinator.leaflets.pdfs import cached_render, count_render
from coordinator.leaflets.print_runs import print_run_notes
from coordinator.leaflets.render import qr_data_uri, render_print_html, template_version
from coordinator.numbers import keep_numbers_whole
from coordinator.pdf import PDFMetadata, render_pdf
from coordinator.schemes.models import Street

DELIVERY_TEMPLATE = "print/delivery_sheet.html"


@dataclass(frozen=True)
class DeliveryRow:
    """One street to deliver to: no resident names, only the street and its numbers."""

    name: str
    postcode: str
    households: int
    copies: int
    households_no_leaflets: int = 0
    delivery_notes: str = ""  # the street's notes today, phone numbers kept whole (coordinator/numbers.py)


@dataclass(frozen=True)
class DeliverySheet:
    """Everything a delivery sheet prints, as plain values."""

    scheme_name: str
    campaign_title: str
    layout_label: str
    reference: str
    printed_on: date
    rows: tuple[DeliveryRow, ...]
    streets_with_none: tuple[str, ...]
    printing_notes: tuple[str, ...]
    association_name: str = ""
    language: str = "en-GB"
    # A delivery round's sheet (coordinator/leaflets/rounds.py): its name, deliverer, and link with a QR code.
    round_name: str = ""
    deliverer_name: str = ""
    round_address: str = ""
    round_link_until: date | None = None

    @property
    def total_households(self) -> int:
        """Households in the streets listed."""
        return sum(row.households for row in self.rows)

    @property
    def total_no_leaflets(self) -> int:
        """Households in the streets listed that asked for no leaflets."""
        return sum(row.households_no_leaflets for row in self.rows)

    @property
    def total_copies(self) -> int:
        """Copies over the streets listed: the run's copies."""
        return sum(row.copies for row in self.rows)


def delivery_sheet_data(run: PrintRun) -> DeliverySheet:
    """A print run's delivery sheet as plain data: streets with copies to deliver, and the totals."""
    campaign = content.get_version(run.campaign_version_id, ContentKind.CAMPAIGN)
    return DeliverySheet(
        scheme_name=run.scheme.name if run.scheme is not None else "",
        campaign_title=campaign.title if campaign is not None else "",
        layout_label=get_layout(run.layout).label,
        reference=run.reference,
        printed_on=run.printed_on,
        rows=tuple(_delivery_row(s) for s in run.streets if s.copies > 0),
        streets_with_none=tuple(s.name for s in run.streets if s.copies == 0),
        printing_notes=tuple(print_run_notes(run)),
        association_name=run.association_name,
    )


def _delivery_row(street: PrintRunStreet) -> DeliveryRow:
    # The numbers are the run's, as they were that day; the notes are the street's now (a gate code changes, and
    # the sheet is printed when the leaflets go out). A street deleted since has none.
    current = db.session.get(Street, street.street_id) if street.street_id is not None else None
    notes = current.delivery_notes if current is not None else ""
    return DeliveryRow(street.name, street.postcode, street.households, street.copies,
                       households_no_leaflets=street.households_no_leaflets, delivery_notes=keep_numbers_whole(notes))


def render_delivery_sheet(sheet: DeliverySheet) -> bytes:
    """The delivery sheet's PDF (A4, tagged), through the app's one PDF engine (counted)."""
    count_render("delivery_sheet")
    qr_src = qr_data_uri(sheet.round_address) if sheet.round_address else ""
    html = render_print_html(DELIVERY_TEMPLATE, sheet=sheet, qr_src=qr_src)
    title = f"Delivery sheet: {sheet.campaign_title}"
    return render_pdf(
        html,
        metadata=PDFMetadata(
            title=title[:300],
            author=sheet.association_name or "Neighbourhood Watch",
            subject=f"Delivery sheet for {sheet.scheme_name}"[:300],
            language=sheet.language,
        ),
        variant="pdf/ua-1",
    )


def delivery_sheet_pdf(run: PrintRun) -> bytes:
    """A print run's delivery sheet PDF, from the cache or rendered once."""
    sheet = delivery_sheet_data(run)
    key = cache_key(kind="delivery_sheet", sheet=sheet, template=template_version())
    return cached_render(key, render_delivery_sheet, sheet)
