"""Leaflet rules: what a coordinator may print, how many copies each street gets, the records and the cache.

Content is read only through the content library's offers (`current_campaigns`, `approved_helpline_sets`,
`usable_helplines`, `local_notices_for_scheme`, `get_version`): an id that is not offered now (a retired or
ended campaign, another scheme's notice, a set that is not approved) is refused before anything is rendered.

`build_leaflet_data` maps approved versions to the plain `LeafletData` the print template sees. A
`LeafletRecipe` is that data plus the layout, mode, copies and content version ids: everything that decides
the PDF's bytes, so its `key` names the PDF in the content-addressed cache (coordinator/leaflets/cache.py).
Renders run through `jobs.run_in_subprocess` (a recycled process; in place in tests and RQ work-horses) and
are counted in `render_count()`.

Copies per street = households - households that asked for none + spares, where spares are the association's
`spare_copies_percent` of the households to deliver to, rounded up per street (a street nobody is to get a
leaflet in gets none, spares included).

Services flush; the view, command or job commits.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

from flask import current_app
from sqlalchemy import or_, select

from coordinator import audit, jobs
from coordinator.auth.models import User
from coordinator.content import services as content
from coordinator.content.models import (
    CampaignVersion,
    ContentKind,
    HelplineSetVersion,
    HelplineVersion,
    LocalNoticeVersion,
)
from coordinator.csvfiles import write_csv
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.leaflets.cache import app_cache, cache_key
from coordinator.leaflets.layouts import HOME, LAYOUTS, PRINT_MODES, SHOP, Layout, PrintPlan, get_layout, plan_print
from coordinator.leaflets.models import LeafletRecord, PrintOrder, PrintOrderState, PrintRun, PrintRunStreet
from coordinator.leaflets.render import (
    LeafletData,
    LeafletDoesNotFit,
    LeafletError,
    LeafletHelpline,
    LocalNotice,
    content_reference,
    render_leaflet_html,
    render_leaflet_pdf,
    render_print_html,
    template_version,
)
from coordinator.pdf import PDFMetadata, render_pdf
from coordinator.schemes.models import Scheme, Street
from coordinator.settings import get_settings

log = logging.getLogger(__name__)

THUMBNAIL_WIDTH_PX = 480
PRINT_ORDERS_FOLDER = "print-orders"
QUANTITIES_CSV = "quantities.csv"
# A running print order whose job has not reported progress for this long has lost its worker: run it again.
STALE_ORDER_AFTER = timedelta(minutes=15)

# Renders done by this process, by kind: a cache hit adds nothing (tests count renders this way).
_renders: Counter[str] = Counter()


def render_count(kind: str = "leaflet") -> int:
    """How many PDFs (or thumbnails, "thumbnail"; delivery sheets, "delivery_sheet") this process has rendered."""
    return _renders[kind]


class LeafletChoiceError(Exception):
    """Something chosen cannot be printed; `errors` maps each form field (or "form") to a message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


# --- What a coordinator is offered, and what they chose --------------------------------------------------------


@dataclass(frozen=True)
class LeafletChoice:
    """What was chosen in the builder, the print-run form or on the command line, as ids and keys."""

    campaign_version_id: int | None
    helpline_set_version_id: int | None
    local_notice_version_id: int | None = None
    layout: str = "a5"
    print_mode: str = HOME
    is_large_print: bool = False


@dataclass(frozen=True)
class ContentOffer:
    """The approved content a scheme may print today."""

    campaigns: list[CampaignVersion]
    helpline_sets: list[HelplineSetVersion]
    local_notices: list[LocalNoticeVersion]


def content_offer(scheme: Scheme | None, on: date | None = None) -> ContentOffer:
    """Current approved campaigns, approved helpline sets and (for a scheme) its own approved local notices."""
    notices = content.local_notices_for_scheme(scheme) if scheme is not None else []
    return ContentOffer(content.current_campaigns(on), content.approved_helpline_sets(), notices)


@dataclass(frozen=True)
class ChosenContent:
    """The versions behind a choice, each checked against what is offered."""

    campaign: CampaignVersion
    helpline_set: HelplineSetVersion
    local_notice: LocalNoticeVersion | None
    layout: Layout


def check_choice(scheme: Scheme | None, choice: LeafletChoice, offer: ContentOffer | None = None) -> ChosenContent:
    """The chosen versions if every id is offered now; LeafletChoiceError naming each field otherwise."""
    offer = offer or content_offer(scheme)
    errors: dict[str, str] = {}
    campaign = next((v for v in offer.campaigns if v.id == choice.campaign_version_id), None)
    if campaign is None:
        errors["campaign"] = (
            "Choose one of the campaigns running now. If you chose one a moment ago, it has changed or ended since."
        )
    helpline_set = next((v for v in offer.helpline_sets if v.id == choice.helpline_set_version_id), None)
    if helpline_set is None:
        errors["helplines"] = "Choose one of the approved helpline sets."
    notice = None
    if choice.local_notice_version_id is not None:
        notice = next((v for v in offer.local_notices if v.id == choice.local_notice_version_id), None)
        if notice is None:
            errors["notice"] = "Choose one of your scheme's approved local notices, or none."
    layout = LAYOUTS.get(choice.layout)
    if layout is None:
        errors["layout"] = "Choose a layout: " + ", ".join(item.label for item in LAYOUTS.values()) + "."
    elif choice.is_large_print and not layout.has_large_print:
        errors["is_large_print"] = "Large print is for the A5, A4 and DL layouts: turn it off or choose one of those."
    if choice.print_mode not in PRINT_MODES:
        errors["print_mode"] = "Choose your own printer or a print shop."
    if errors:
        raise LeafletChoiceError(errors)
    return ChosenContent(campaign, helpline_set, notice, layout)


@dataclass(frozen=True)
class HelplineNote:
    """Something to tell the coordinator about one helpline of the chosen set."""

    name: str
    message: str
    is_left_out: bool


def helplines_to_print(
    helpline_set: HelplineSetVersion, on: date | None = None
) -> tuple[list[HelplineVersion], list[HelplineNote]]:
    """The set's helplines to print today, and notes: those left out (review overdue, unverified) and those due."""
    usable, left_out = content.usable_helplines(helpline_set, on)
    notes = [HelplineNote(row.title, f"{row.title} is left out: {row.reason}.", True) for row in left_out]
    for version in usable:
        review = content.helpline_review(version, on)
        if review.status == content.ReviewStatus.DUE:
            notes.append(HelplineNote(version.title, f"{version.title}: {review.message}", False))
    return usable, notes


# --- Plain data for the print template ------------------------------------------------------------------------


def scheme_contact_line(scheme: Scheme | None) -> str:
    """The line that tells residents how to reach the scheme, from the contact lines its coordinators chose."""
    if scheme is None:
        return ""
    parts = [part for part in (scheme.contact_email, scheme.contact_phone, scheme.contact_other) if part]
    if not parts:
        return ""
    return f"Contact your local scheme, {scheme.name}: " + " · ".join(parts)


def helpline_for_print(version: HelplineVersion) -> LeafletHelpline:
    """One helpline version as the leaflet prints it."""
    return LeafletHelpline(
        name=version.title,
        number_display=version.phone_number_shown,
        hours=version.opening_hours,
        who_for=version.who_for,
        is_free=version.is_free_to_call,
        is_24_7=version.is_24_7,
    )


def leaflet_reference(
    campaign: CampaignVersion,
    helpline_set: HelplineSetVersion,
    helplines: list[HelplineVersion],
    notice: LocalNoticeVersion | None,
) -> str:
    """The small-print reference of these exact content versions."""
    return content_reference(
        campaign=campaign.id,
        helplines=helpline_set.id,
        lines="-".join(str(version.id) for version in helplines),
        notice=notice.id if notice is not None else "none",
    )


def build_leaflet_data(
    scheme: Scheme | None,
    campaign_version: CampaignVersion,
    helpline_set_version: HelplineSetVersion,
    notice_version: LocalNoticeVersion | None = None,
    *,
    helplines: list[HelplineVersion] | None = None,
    printed_on: date | None = None,
    contact_line: str | None = None,
    association_name: str | None = None,
    footer_text: str | None = None,
) -> LeafletData:
    """The plain data one leaflet prints, from approved versions (templates never see ORM objects).

    `helplines` defaults to the set's helplines usable today; the texts around the content default to the
    scheme's contact line and the association's settings now. A record passes what it printed, to print it again.
    """
    if helplines is None:
        helplines, _ = helplines_to_print(helpline_set_version, printed_on)
    settings = get_settings()
    notice = LocalNotice(notice_version.title, notice_version.body) if notice_version is not None else None
    return LeafletData(
        headline=campaign_version.title,
        printed_on=printed_on or content.today(),
        reference=leaflet_reference(campaign_version, helpline_set_version, helplines, notice_version),
        key_messages=tuple(campaign_version.key_messages or ()),
        summary=campaign_version.summary,
        call_to_action=campaign_version.call_to_action,
        hashtag=campaign_version.hashtag,
        web_address=campaign_version.web_address,
        helplines=tuple(helpline_for_print(version) for version in helplines),
        local_notice=notice,
        contact_line=scheme_contact_line(scheme) if contact_line is None else contact_line,
        association_name=settings.association_name if association_name is None else association_name,
        footer_text=settings.footer_text if footer_text is None else footer_text,
        language=campaign_version.language or "en-GB",
    )


@dataclass(frozen=True)
class LeafletRecipe:
    """Everything that decides a leaflet PDF's bytes, as plain values (it crosses to render processes)."""

    data: LeafletData
    layout: str
    print_mode: str
    is_large_print: bool
    copies: int
    campaign_version_id: int
    helpline_set_version_id: int
    helpline_version_ids: tuple[int, ...]
    local_notice_version_id: int | None

    @property
    def key(self) -> str:
        """The cache key: every input above, plus the template's version."""
        return cache_key(kind="leaflet", recipe=self, template=template_version())

    @property
    def plan(self) -> PrintPlan:
        """Copies, sheets of paper and pages of this PDF."""
        return plan_print(get_layout(self.layout), self.print_mode, self.copies)


def make_recipe(chosen: ChosenContent, data: LeafletData, helplines: list[HelplineVersion], *,
                print_mode: str, is_large_print: bool, copies: int) -> LeafletRecipe:
    """A recipe from checked versions and the data built from them."""
    return LeafletRecipe(
        data=data,
        layout=chosen.layout.key,
        print_mode=print_mode,
        is_large_print=is_large_print,
        copies=copies,
        campaign_version_id=chosen.campaign.id,
        helpline_set_version_id=chosen.helpline_set.id,
        helpline_version_ids=tuple(version.id for version in helplines),
        local_notice_version_id=chosen.local_notice.id if chosen.local_notice is not None else None,
    )


@dataclass
class PreparedLeaflet:
    """A checked choice, ready to render: the recipe, the versions behind it and what to tell the coordinator."""

    recipe: LeafletRecipe
    chosen: ChosenContent
    notes: list[HelplineNote] = field(default_factory=list)

    @property
    def layout(self) -> Layout:
        """The layout chosen."""
        return self.chosen.layout

    @property
    def plan(self) -> PrintPlan:
        """Copies, sheets of paper and pages."""
        return self.recipe.plan

    @property
    def printing_notes(self) -> list[str]:
        """How to print it, in a few sentences."""
        return printing_notes(self.layout, self.recipe.print_mode, self.plan)


def prepare_leaflet(
    scheme: Scheme | None, choice: LeafletChoice, *, copies: int = 1, on: date | None = None,
    offer: ContentOffer | None = None,
) -> PreparedLeaflet:
    """Check the choice against what is offered and build its recipe; renders and writes nothing."""
    chosen = check_choice(scheme, choice, offer)
    usable, notes = helplines_to_print(chosen.helpline_set, on)
    if not usable:
        raise LeafletChoiceError({
            "helplines": f"None of the helplines in “{chosen.helpline_set.title}” can be printed now: "
            + " ".join(note.message for note in notes if note.is_left_out)
            + " Ask an admin to verify them, or choose another set."
        })
    data = build_leaflet_data(scheme, chosen.campaign, chosen.helpline_set, chosen.local_notice,
                              helplines=usable, printed_on=on)
    recipe = make_recipe(chosen, data, usable, print_mode=choice.print_mode,
                         is_large_print=choice.is_large_print, copies=copies)
    return PreparedLeaflet(recipe, chosen, notes)


def printing_notes(layout: Layout, print_mode: str, plan: PrintPlan) -> list[str]:
    """What to tell whoever prints it: sheets of paper, double-sided or not, cutting."""
    name = layout.label
    if print_mode == SHOP:
        sides = (
            f"each copy is two pages, front then back ({plan.pages:,} pages): ask for double-sided printing."
            if layout.is_two_sided else f"one page per copy ({plan.pages:,} pages), printed on one side."
        )
        shop = f"For a print shop: {plan.copies:,} {_plural(plan.copies, name)} at trim size with 3 mm bleed and "
        return [shop + f"crop marks; {sides}"]
    notes = []
    if layout.is_two_sided:
        notes.append(f"Print double-sided, flip on long edge: {plan.sheets:,} {_plural(plan.sheets, 'sheet')} "
                     f"of A4 paper, {plan.pages:,} pages (each sheet's front, then its back).")
    else:
        notes.append(f"Print on one side: {plan.sheets:,} {_plural(plan.sheets, 'sheet')} of A4 paper.")
    if plan.copies_per_sheet > 1:
        notes.append(f"Cut along the marks: {plan.copies_per_sheet} {_plural(2, name)} to a sheet, "
                     f"{plan.copies:,} in all.")
    return notes


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


# --- Rendering, through the cache -----------------------------------------------------------------------------


def render_recipe(recipe: LeafletRecipe) -> bytes:
    """Render a recipe's PDF now (the render process's entry point; counted)."""
    _renders["leaflet"] += 1
    return render_leaflet_pdf(
        recipe.data, recipe.layout, mode=recipe.print_mode, copies=recipe.copies, is_large_print=recipe.is_large_print
    )


def leaflet_pdf(recipe: LeafletRecipe) -> bytes:
    """The recipe's PDF: from the cache, or rendered once (in a render process) and kept.

    Raises LeafletError (LeafletDoesNotFit) when the text cannot be printed in this layout.
    """
    cache = app_cache()
    key = recipe.key
    pdf = cache.get(key)
    if pdf is None:
        pdf = jobs.run_in_subprocess("coordinator.leaflets.services:render_recipe", recipe)
        cache.put(key, pdf)
    return pdf


def render_thumbnail(pdf: bytes, width_px: int = THUMBNAIL_WIDTH_PX) -> bytes:
    """A PNG of the PDF's first page, `width_px` wide (counted)."""
    import pypdfium2

    _renders["thumbnail"] += 1
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        try:
            bitmap = page.render(scale=width_px / page.get_width())
            try:
                image = bitmap.to_pil()
            finally:
                bitmap.close()
        finally:
            page.close()
    finally:
        document.close()
    out = BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def leaflet_thumbnail(recipe: LeafletRecipe) -> bytes:
    """A PNG of page 1 of the recipe's real PDF, cached beside it."""
    cache = app_cache()
    key = cache_key(kind="thumbnail", pdf=recipe.key, width=THUMBNAIL_WIDTH_PX)
    png = cache.get(key, ".png")
    if png is None:
        pdf = leaflet_pdf(recipe)
        png = jobs.run_in_subprocess("coordinator.leaflets.services:render_thumbnail", pdf)
        cache.put(key, png, ".png")
    return png


def preview_html(recipe: LeafletRecipe, asset_base: str) -> str:
    """The leaflet's HTML for the browser preview, from the same template as the PDF."""
    return render_leaflet_html(recipe.data, recipe.layout, is_large_print=recipe.is_large_print, asset_base=asset_base)


def _checked_pdf(prepared: PreparedLeaflet) -> bytes:
    """The PDF, or LeafletChoiceError saying why it cannot be printed (too long, hidden characters)."""
    try:
        return leaflet_pdf(prepared.recipe)
    except LeafletDoesNotFit as error:
        message = str(error)
        if prepared.chosen.local_notice is not None:
            message += " Leaving out the local notice may also make it fit."
        raise LeafletChoiceError({"layout": message}) from error
    except LeafletError as error:
        raise LeafletChoiceError({"form": str(error)}) from error


# --- The builder: preview and generate ------------------------------------------------------------------------


def preview_leaflet(scheme: Scheme, choice: LeafletChoice) -> PreparedLeaflet:
    """Check the choice and render it (through the cache), so a leaflet that does not fit is known now; no writes."""
    prepared = prepare_leaflet(scheme, choice)
    _checked_pdf(prepared)
    return prepared


def _actor_label(actor: User | None) -> str:
    return actor.email if actor is not None else "cli"


def _content_columns(recipe: LeafletRecipe) -> dict:
    return {
        "campaign_version_id": recipe.campaign_version_id,
        "helpline_set_version_id": recipe.helpline_set_version_id,
        "helpline_version_ids": list(recipe.helpline_version_ids),
        "local_notice_version_id": recipe.local_notice_version_id,
        "layout": recipe.layout,
        "print_mode": recipe.print_mode,
        "is_large_print": recipe.is_large_print,
        "copies": recipe.copies,
        "contact_line": recipe.data.contact_line,
        "association_name": recipe.data.association_name,
        "footer_text": recipe.data.footer_text,
        "printed_on": recipe.data.printed_on,
        "reference": recipe.data.reference,
    }


def _audit_details(recipe: LeafletRecipe, scheme: Scheme | None) -> dict:
    return {
        "scheme_id": scheme.id if scheme is not None else None,
        "campaign_version_id": recipe.campaign_version_id,
        "helpline_set_version_id": recipe.helpline_set_version_id,
        "helpline_version_ids": list(recipe.helpline_version_ids),
        "local_notice_version_id": recipe.local_notice_version_id,
        "layout": recipe.layout,
        "print_mode": recipe.print_mode,
        "is_large_print": recipe.is_large_print,
        "copies": recipe.copies,
        "reference": recipe.data.reference,
    }


def record_leaflet(prepared: PreparedLeaflet, scheme: Scheme | None, actor: User | None) -> LeafletRecord:
    """Keep what was generated and write `leaflets.generated` to the audit log."""
    recipe = prepared.recipe
    record = LeafletRecord(scheme=scheme, created_by=actor, created_by_label=_actor_label(actor),
                           **_content_columns(recipe))
    db.session.add(record)
    db.session.flush()
    where = f" for {scheme.name}" if scheme is not None else ""
    audit.record(
        "leaflets.generated",
        record,
        f"{prepared.layout.label} “{prepared.chosen.campaign.title}”{where}, ref {recipe.data.reference}",
        actor=actor,
        actor_label=None if actor is not None else "cli",
        **_audit_details(recipe, scheme),
    )
    return record


def generate_leaflet(
    scheme: Scheme | None, choice: LeafletChoice, actor: User | None, *, copies: int = 1
) -> tuple[LeafletRecord, PreparedLeaflet]:
    """Check, render (through the cache) and record one leaflet: the builder's "Download PDF" and `leaflet render`."""
    prepared = prepare_leaflet(scheme, choice, copies=copies)
    _checked_pdf(prepared)
    return record_leaflet(prepared, scheme, actor), prepared


def _versions_of(row: LeafletRecord | PrintRun) -> tuple:
    campaign = content.get_version(row.campaign_version_id, ContentKind.CAMPAIGN)
    helpline_set = content.get_version(row.helpline_set_version_id, ContentKind.HELPLINE_SET)
    helplines = [content.get_version(version_id, ContentKind.HELPLINE) for version_id in row.helpline_version_ids]
    notice = None
    if row.local_notice_version_id is not None:
        notice = content.get_version(row.local_notice_version_id, ContentKind.LOCAL_NOTICE)
    if campaign is None or helpline_set is None or None in helplines:
        raise LeafletError("The content this was printed from is no longer in the library.")
    return campaign, helpline_set, helplines, notice


def recipe_of(row: LeafletRecord | PrintRun) -> LeafletRecipe:
    """The recipe a record or print run was made from, to make the same PDF again (its versions never change)."""
    campaign, helpline_set, helplines, notice = _versions_of(row)
    data = build_leaflet_data(
        row.scheme, campaign, helpline_set, notice, helplines=helplines, printed_on=row.printed_on,
        contact_line=row.contact_line, association_name=row.association_name, footer_text=row.footer_text,
    )
    return LeafletRecipe(
        data=data,
        layout=row.layout,
        print_mode=row.print_mode,
        is_large_print=row.is_large_print,
        copies=row.copies,
        campaign_version_id=campaign.id,
        helpline_set_version_id=helpline_set.id,
        helpline_version_ids=tuple(version.id for version in helplines),
        local_notice_version_id=notice.id if notice is not None else None,
    )


@dataclass(frozen=True)
class PrintedSummary:
    """What a record or print run printed, in words, for its page."""

    campaign_title: str
    helpline_set_title: str
    helplines: tuple[str, ...]
    left_out: tuple[str, ...]  # helplines of the set that were not printed (review overdue or unverified that day)
    notice_title: str
    layout: Layout
    plan: PrintPlan
    printing_notes: tuple[str, ...]


def summarise(row: LeafletRecord | PrintRun) -> PrintedSummary:
    """A record's or print run's content and printing, in words."""
    campaign, helpline_set, helplines, notice = _versions_of(row)
    printed_items = {version.item_id for version in helplines}
    layout = get_layout(row.layout)
    plan = plan_print(layout, row.print_mode, row.copies)
    return PrintedSummary(
        campaign_title=campaign.title,
        helpline_set_title=helpline_set.title,
        helplines=tuple(f"{version.title}: {version.phone_number_shown}" for version in helplines),
        left_out=tuple(e.helpline_item.title for e in helpline_set.entries if e.helpline_item_id not in printed_items),
        notice_title=notice.title if notice is not None else "",
        layout=layout,
        plan=plan,
        printing_notes=tuple(printing_notes(layout, row.print_mode, plan)),
    )


def record_pdf(record: LeafletRecord) -> bytes:
    """A recorded leaflet's PDF, again: from the cache, or made again from the same versions."""
    return leaflet_pdf(recipe_of(record))


def recent_records(schemes: list[Scheme], limit: int = 10) -> list[LeafletRecord]:
    """The latest leaflets generated for these schemes, newest first."""
    ids = [scheme.id for scheme in schemes]
    stmt = select(LeafletRecord).where(LeafletRecord.scheme_id.in_(ids))
    return list(db.session.scalars(stmt.order_by(LeafletRecord.created_at.desc(), LeafletRecord.id.desc()).limit(limit)))


# --- Print runs -------------------------------------------------------------------------------------------------


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
    _checked_pdf(prepared.leaflet)
    recipe = prepared.leaflet.recipe
    plan = recipe.plan
    run = PrintRun(
        scheme=scheme, created_by=actor, created_by_label=_actor_label(actor),
        spare_copies_percent=prepared.spare_copies_percent, sheets=plan.sheets, pages=plan.pages,
        **_content_columns(recipe),
    )
    run.streets = [
        PrintRunStreet(position=index, street_id=row.street_id, name=row.name, postcode=row.postcode,
                       households=row.households, households_no_leaflets=row.households_no_leaflets, copies=row.copies)
        for index, row in enumerate(prepared.streets, start=1)
    ]
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
        **_audit_details(recipe, scheme),
    )
    return run


def print_run_pdf(run: PrintRun) -> bytes:
    """The whole run's PDF: the leaflet laid out once, its pages repeated by reference."""
    return leaflet_pdf(recipe_of(run))


def print_run_plan(run: PrintRun) -> PrintPlan:
    """Copies, sheets of paper and pages of a run's PDF."""
    return plan_print(get_layout(run.layout), run.print_mode, run.copies)


def print_run_notes(run: PrintRun) -> list[str]:
    """How to print a run, in a few sentences."""
    return printing_notes(get_layout(run.layout), run.print_mode, print_run_plan(run))


def recent_print_runs(schemes: list[Scheme], limit: int = 10) -> list[PrintRun]:
    """The latest print runs of these schemes, newest first."""
    ids = [scheme.id for scheme in schemes]
    stmt = select(PrintRun).where(PrintRun.scheme_id.in_(ids))
    return list(db.session.scalars(stmt.order_by(PrintRun.created_at.desc(), PrintRun.id.desc()).limit(limit)))


# --- Delivery sheets ------------------------------------------------------------------------------------------

DELIVERY_TEMPLATE = "print/delivery_sheet.html"


@dataclass(frozen=True)
class DeliveryRow:
    """One street to deliver to: no resident names, only the street and its numbers."""

    name: str
    postcode: str
    households: int
    copies: int


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

    @property
    def total_households(self) -> int:
        """Households in the streets listed."""
        return sum(row.households for row in self.rows)

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
        rows=tuple(DeliveryRow(s.name, s.postcode, s.households, s.copies) for s in run.streets if s.copies > 0),
        streets_with_none=tuple(s.name for s in run.streets if s.copies == 0),
        printing_notes=tuple(print_run_notes(run)),
        association_name=run.association_name,
    )


def render_delivery_sheet(sheet: DeliverySheet) -> bytes:
    """The delivery sheet's PDF (A4, tagged), through the app's one PDF engine (counted)."""
    _renders["delivery_sheet"] += 1
    html = render_print_html(DELIVERY_TEMPLATE, sheet=sheet)
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
    cache = app_cache()
    key = cache_key(kind="delivery_sheet", sheet=sheet, template=template_version())
    pdf = cache.get(key)
    if pdf is None:
        pdf = jobs.run_in_subprocess("coordinator.leaflets.services:render_delivery_sheet", sheet)
        cache.put(key, pdf)
    return pdf


# --- Central print orders ---------------------------------------------------------------------------------------


def create_print_order(
    choice: LeafletChoice, scheme_ids: list[int] | None, actor: User | None
) -> PrintOrder:
    """Queue a central order: one campaign and layout for every scheme (`scheme_ids` None) or the ones chosen.

    The caller commits, then enqueues `build_print_order` (the command line runs it at once).
    """
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
        created_by_label=_actor_label(actor),
        campaign_version_id=chosen.campaign.id,
        helpline_set_version_id=chosen.helpline_set.id,
        layout=chosen.layout.key,
        print_mode=SHOP,
        is_large_print=choice.is_large_print,
        scheme_ids=scheme_ids,
        printed_on=content.today(),
        state=PrintOrderState.QUEUED,
        progress_total=len(scheme_ids) if scheme_ids is not None else len(_order_schemes(None)),
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
    return order


def _order_schemes(scheme_ids: list[int] | None) -> list[Scheme]:
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


QUANTITY_COLUMNS = ("scheme", "pdf_file", "street", "postcode", "households", "households_no_leaflets", "copies")


def build_print_order(order_id: int) -> None:
    """The background job: one print-ready PDF per scheme (shop trim with bleed) and the quantities CSV, in a zip.

    Progress is committed after each scheme, for the progress page. Safe to run twice: a finished order is left
    alone, an unfinished one starts again. A scheme whose leaflet cannot be printed (nothing to deliver, a
    contact line too long for the layout) is listed with the reason and left out; the order still completes.
    """
    order = db.session.get(PrintOrder, order_id)
    if order is None or order.state == PrintOrderState.DONE:
        return
    order.state = PrintOrderState.RUNNING
    order.started_at, order.finished_at, order.error = utcnow(), None, ""
    order.progress_done, order.results = 0, []
    db.session.commit()
    try:
        _build_print_order(order)
    except Exception as error:  # the order must not stay "running" for ever; the page shows the failure
        log.exception("print order %s failed", order_id)
        db.session.rollback()
        order = db.session.get(PrintOrder, order_id)
        order.state = PrintOrderState.FAILED
        order.error = f"{type(error).__name__}: {error}"[:2000]
        order.finished_at = utcnow()
        db.session.commit()


def _build_print_order(order: PrintOrder) -> None:
    campaign = content.get_version(order.campaign_version_id, ContentKind.CAMPAIGN)
    helpline_set = content.get_version(order.helpline_set_version_id, ContentKind.HELPLINE_SET)
    layout = get_layout(order.layout)
    helplines, _ = helplines_to_print(helpline_set, order.printed_on)
    schemes = _order_schemes(order.scheme_ids)
    order.progress_total = len(schemes)
    db.session.commit()
    percent = get_settings().spare_copies_percent
    chosen = ChosenContent(campaign, helpline_set, None, layout)
    quantities: list[tuple] = []
    results: list[dict] = []
    folder = print_orders_folder()
    folder.mkdir(parents=True, exist_ok=True)
    file_name = f"print-order-{order.id}-{campaign.item.slug}-{layout.key}.zip"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".zip")
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for scheme in schemes:
                rows = copies_for_streets(list(scheme.streets), percent)
                copies = sum(row.copies for row in rows)
                result = {"scheme_id": scheme.id, "scheme": scheme.name, "copies": 0, "file": "", "problem": ""}
                if not helplines:
                    result["problem"] = "none of the set's helplines can be printed now"
                elif copies == 0:
                    result["problem"] = "no households to deliver to"
                else:
                    data = build_leaflet_data(scheme, campaign, helpline_set, None, helplines=helplines,
                                              printed_on=order.printed_on)
                    # The artwork of one copy (front and back); the CSV says how many the shop prints.
                    recipe = make_recipe(chosen, data, helplines, print_mode=SHOP,
                                         is_large_print=order.is_large_print, copies=1)
                    try:
                        pdf = leaflet_pdf(recipe)
                    except LeafletError as error:
                        result["problem"] = str(error)
                    else:
                        name = f"{scheme.slug}-{layout.key}.pdf"
                        archive.writestr(name, pdf)
                        result.update(copies=copies, file=name)
                        quantities += [(scheme.name, name, row.name, row.postcode, row.households,
                                        row.households_no_leaflets, row.copies) for row in rows]
                results.append(result)
                order.results = list(results)
                order.progress_done += 1
                db.session.commit()
            archive.writestr(QUANTITIES_CSV, write_csv(QUANTITY_COLUMNS, quantities))
        os.replace(temporary, folder / file_name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    order.file_name = file_name
    order.state = PrintOrderState.DONE
    order.finished_at = utcnow()
    db.session.commit()


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


@jobs.register_sweeper
def print_orders_to_build() -> list[tuple[str, tuple]]:
    """Sweeper: queued orders, and running ones whose worker has gone quiet, still need `build_print_order`."""
    stale = utcnow() - STALE_ORDER_AFTER
    ids = db.session.scalars(
        select(PrintOrder.id).where(
            or_(
                PrintOrder.state == PrintOrderState.QUEUED,
                (PrintOrder.state == PrintOrderState.RUNNING) & (PrintOrder.updated_at < stale),
            )
        )
    )
    return [("coordinator.leaflets.services:build_print_order", (order_id,)) for order_id in ids]
