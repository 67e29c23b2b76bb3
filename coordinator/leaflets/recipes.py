"""The recipe of a leaflet: the plain data its print template sees and everything else that decides its bytes.

`build_leaflet_data` maps approved versions to the plain `LeafletData` the print template sees. A
`LeafletRecipe` is that data plus the layout, mode, copies and content version ids: everything that decides
the PDF's bytes, so its `key` names the PDF in the content-addressed cache (coordinator/leaflets/cache.py).

A leaflet record or print run keeps its recipe in the columns of `LeafletContentMixin`: `content_columns`
writes them and `recipe_of` reads them back, side by side with the recipe, so an ingredient added to one
is seen missing from the other. That includes the association's brand as printed (its colour, and its logo,
kept once per version in `printed_logos` by `keep_printed_logo`) and the sign-up panel's address: a reprint
prints what the first print did, whatever Settings or the scheme say by then.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy.exc import IntegrityError

from coordinator.auth.models import User
from coordinator.content import services as content
from coordinator.content.models import (
    CampaignVersion,
    ContentKind,
    HelplineSetVersion,
    HelplineVersion,
    LocalNoticeVersion,
)
from coordinator.extensions import db
from coordinator.leaflets.cache import cache_key
from coordinator.leaflets.languages import leaflet_in_languages, wording_of
from coordinator.leaflets.layouts import SHOP, Layout, PrintPlan, get_layout, plan_print
from coordinator.leaflets.models import LeafletRecord, PrintedLogo, PrintRun
from coordinator.leaflets.offers import (
    ChosenContent,
    ContentOffer,
    HelplineNote,
    LeafletChoice,
    LeafletChoiceError,
    check_choice,
    helplines_to_print,
)
from coordinator.leaflets.render import (
    LeafletData,
    LeafletError,
    LeafletHelpline,
    LocalNotice,
    content_reference,
    template_version,
)
from coordinator.links import printable_address, public_url, short_campaign_url
from coordinator.schemes.models import Scheme
from coordinator.settings import Brand, brand, get_settings, logo_version

# The folded wallet card has no panel with room for the sign-up address and its QR code.
NO_SIGNUP_LAYOUTS = frozenset({"wallet"})
LOGO_DATA_URI_START = "data:image/png;base64,"


def scheme_contact_line(scheme: Scheme | None) -> str:
    """The line that tells residents how to reach the scheme, from the contact lines its coordinators chose."""
    if scheme is None:
        return ""
    parts = [part for part in (scheme.contact_email, scheme.contact_phone, scheme.contact_other) if part]
    if not parts:
        return ""
    return f"Contact your local scheme, {scheme.name}: " + " · ".join(parts)


def signup_address(scheme: Scheme) -> str:
    """The scheme's bulletin sign-up page, PUBLIC_BASE_URL/join/<slug>: what the sign-up panel prints and its QR opens."""
    return public_url("bulletins.join", slug=scheme.slug)


def check_signup_panel(scheme: Scheme | None, layout: Layout) -> None:
    """LeafletChoiceError at the sign-up field when this leaflet cannot carry the sign-up panel."""
    if scheme is None:
        # Only the command line can ask for it without a scheme: the builder is always a scheme's.
        raise LeafletChoiceError({"has_signup_panel": "The sign-up panel prints a scheme's sign-up address: "
                                                      "name the scheme (--scheme)."})
    if layout.key in NO_SIGNUP_LAYOUTS:
        raise LeafletChoiceError({"has_signup_panel": f"The {layout.label} has no room for the sign-up panel: "
                                                      "choose another layout, or leave the panel out."})


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


def picture_data_uri(campaign_version: CampaignVersion) -> str:
    """The campaign's approved picture as a data: URI for the print template ("" when it has none)."""
    image = campaign_version.image
    if image is None:
        return ""
    return f"data:{image.media_type};base64," + base64.b64encode(image.data).decode("ascii")


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
    signup: str = "",
    face: Brand | None = None,
) -> LeafletData:
    """The plain data one leaflet prints, from approved versions (templates never see ORM objects).

    `helplines` defaults to the set's helplines usable today; the texts around the content default to the
    scheme's contact line and the association's settings now. A record passes what it printed, to print it again.
    The association's brand colour and logo (`face`) are as they are now unless given: part of the data, so part
    of the cache key. `signup` is the sign-up panel's address ("" for no panel).
    """
    if helplines is None:
        helplines, _ = helplines_to_print(helpline_set_version, printed_on)
    settings = get_settings()
    face = face or brand()
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
        # The wording it prints in now, on every leaflet however it is made (builder, print run, central order), so
        # they share one file in the cache and a language's wording approved later makes a new one.
        wording=wording_of(campaign_version.language or "en-GB"),
        # The association's own short address leads on to the campaign's site: nothing long is printed.
        short_address=short_campaign_url(campaign_version.item.slug) if campaign_version.web_address else "",
        signup_address=signup,
        is_sensitive=campaign_version.is_sensitive or helpline_set_version.is_sensitive,
        brand_colour=face.colour,
        logo_src=face.logo_data_uri() or "",
        picture_src=picture_data_uri(campaign_version),
        picture_alt="",
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
    def copies_in_file(self) -> int:
        """Copies the PDF holds: for a print shop one, the artwork (front and back), whatever the quantity, which
        goes on the quantities sheet; for a home printer every copy, on its sheets."""
        return 1 if self.print_mode == SHOP else self.copies

    @property
    def key(self) -> str:
        """The cache key: every input above that decides the file, plus the template's version.

        A print shop's file is the same artwork for any quantity, so its key leaves the quantity out: the builder,
        print runs and central print orders share one rendered artwork.
        """
        inputs = replace(self, copies=self.copies_in_file)
        return cache_key(kind="leaflet", recipe=inputs, template=template_version())

    @property
    def plan(self) -> PrintPlan:
        """Copies, sheets of paper and pages printed (for a print shop, of every copy it is to print)."""
        return plan_print(get_layout(self.layout), self.print_mode, self.copies)

    @property
    def pages_in_file(self) -> int:
        """Pages of the PDF itself: a print shop's artwork, or every home sheet's front and back."""
        return plan_print(get_layout(self.layout), self.print_mode, self.copies_in_file).pages


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


# The columns an audit entry repeats: the ids and choices, not the texts printed around the content.
AUDITED_COLUMNS = (
    "campaign_version_id", "helpline_set_version_id", "helpline_version_ids", "local_notice_version_id", "layout",
    "print_mode", "is_large_print", "copies", "reference", "brand_colour", "logo_version", "has_signup_panel",
)


def printed_logo_png(data: LeafletData) -> bytes | None:
    """The logo's PNG a leaflet prints (its data: URI's bytes), or None without a logo."""
    if not data.logo_src.startswith(LOGO_DATA_URI_START):
        return None
    return base64.b64decode(data.logo_src[len(LOGO_DATA_URI_START):])


def content_columns(recipe: LeafletRecipe) -> dict:
    """The recipe as the columns a leaflet record or print run keeps it in (`recipe_of` reads them back)."""
    return {
        "campaign_version_id": recipe.campaign_version_id,
        "helpline_set_version_id": recipe.helpline_set_version_id,
        "helpline_version_ids": list(recipe.helpline_version_ids),
        "local_notice_version_id": recipe.local_notice_version_id,
        "layout": recipe.layout,
        "print_mode": recipe.print_mode,
        "is_large_print": recipe.is_large_print,
        "copies": recipe.copies,
        "language": recipe.data.language,
        "second_language": recipe.data.second.language if recipe.data.second is not None else "",
        "contact_line": recipe.data.contact_line,
        "association_name": recipe.data.association_name,
        "footer_text": recipe.data.footer_text,
        "printed_on": recipe.data.printed_on,
        "reference": recipe.data.reference,
        "brand_colour": recipe.data.brand_colour,
        # From the leaflet's own bytes, not from Settings: they may have changed while it was being made.
        "logo_version": logo_version(printed_logo_png(recipe.data)),
        "has_signup_panel": bool(recipe.data.signup_address),
        "signup_address": recipe.data.signup_address,
    }


def keep_printed_logo(recipe: LeafletRecipe) -> None:
    """Keep the logo the recipe prints, once per version, so a record of it prints it again after Settings get a new
    one (flush only)."""
    png = printed_logo_png(recipe.data)
    if png is None:
        return
    version = logo_version(png)
    if db.session.get(PrintedLogo, version) is not None:
        return
    try:
        # Two leaflets printed at the same moment may both keep it: the second finds the first's row.
        with db.session.begin_nested():
            db.session.add(PrintedLogo(version=version, png=png))
    except IntegrityError:
        if db.session.get(PrintedLogo, version) is None:
            raise


def printed_brand(row: LeafletRecord | PrintRun) -> Brand:
    """The association's brand as a record or print run printed it: its colour and its logo of that day."""
    png = None
    if row.logo_version:
        logo = db.session.get(PrintedLogo, row.logo_version)
        if logo is None:
            raise LeafletError("The association's logo this was printed with is no longer kept.")
        png = logo.png
    return Brand(name=row.association_name, colour=row.brand_colour, logo_png=png, logo_version=row.logo_version)


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
        signup=row.signup_address if row.has_signup_panel else "", face=printed_brand(row),
    )
    chosen = ChosenContent(campaign, helpline_set, notice, get_layout(row.layout))
    data = leaflet_in_languages(data, chosen, helplines, row.language, row.second_language, as_of=row.created_at)
    return make_recipe(chosen, data, helplines, print_mode=row.print_mode, is_large_print=row.is_large_print,
                       copies=row.copies)


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
    if choice.has_signup_panel:
        check_signup_panel(scheme, chosen.layout)
    usable, notes = helplines_to_print(chosen.helpline_set, on)
    if not usable:
        raise LeafletChoiceError({
            "helplines": f"None of the helplines in “{chosen.helpline_set.title}” can be printed now: "
            + " ".join(note.message for note in notes if note.is_left_out)
            + " Ask an admin to verify them, or choose another set."
        })
    data = build_leaflet_data(scheme, chosen.campaign, chosen.helpline_set, chosen.local_notice,
                              helplines=usable, printed_on=on,
                              signup=signup_address(scheme) if choice.has_signup_panel and scheme else "")
    data = leaflet_in_languages(data, chosen, usable, choice.language, choice.second_language)
    recipe = make_recipe(chosen, data, usable, print_mode=choice.print_mode,
                         is_large_print=choice.is_large_print, copies=copies)
    return PreparedLeaflet(recipe, chosen, notes)


def printing_notes(layout: Layout, print_mode: str, plan: PrintPlan) -> list[str]:
    """What to tell whoever prints it: sheets of paper, double-sided or not, cutting."""
    name = layout.label
    if print_mode == SHOP:
        return shop_notes(layout, plan.copies)
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


def shop_notes(layout: Layout, copies: int, *, per_street: bool = False) -> list[str]:
    """How a print shop prints it: one artwork, so many times (the quantities sheet says how many, or per street)."""
    sides = "front and back, printed double-sided" if layout.is_two_sided else "printed on one side"
    pages = f"{layout.pages} {'page' if layout.pages == 1 else 'pages'}"
    note = (f"For a print shop: one artwork ({pages}, {sides}) to print {copies:,} times, at trim size "
            "with 3 mm bleed and crop marks, PDF/X-4. ")
    if per_street:
        return [note + "The quantities sheet gives the copies for each street."]
    return [note + f"Order {copies:,} {'copy' if copies == 1 else 'copies'}: the quantities sheet says so too."]


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


def actor_label(actor: User | None) -> str:
    """Who made it, as the `created_by_label` column keeps it: the account's email, or "cli"."""
    return actor.email if actor is not None else "cli"


def audit_details(recipe: LeafletRecipe, scheme: Scheme | None) -> dict:
    """The recipe's ids and choices, for the audit entry of whatever was made from it."""
    columns = content_columns(recipe)
    return {"scheme_id": scheme.id if scheme is not None else None, **{name: columns[name] for name in AUDITED_COLUMNS}}


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
    signup_shown: str = ""  # the sign-up panel's address as printed, without https:// ("" without the panel)


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
        signup_shown=printable_address(row.signup_address) if row.has_signup_panel else "",
    )
