"""Forms for the leaflet builder, print runs and central print orders.

The choices list what is offered, but ids are not trusted to them: every form hands its ids to
`offers.check_choice` (and `print_runs.streets_of`), which refuses anything not offered with a message per field.
So `validate_choice` is off, and an id that is not a number becomes None rather than a crash.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from coordinator.forms import ProblemsMixin
from coordinator.leaflets.layouts import HOME, SHOP
from coordinator.leaflets.offers import ContentOffer, LeafletChoice
from coordinator.schemes.models import Scheme

LAYOUT_HINTS = {
    "a5": "A5 flyer: two-sided, the campaign on the front and where to get help on the back. Two to an A4 sheet.",
    "a4": "A4 poster: everything on one side, for a notice board or window.",
    "dl": "DL leaflet (a third of A4): two-sided, slim, for letterboxes. Three to an A4 sheet.",
    "a4-folded": "Folded A4 (DL tri-fold): an A4 sheet folded in three, six panels, the most room for a door drop. "
    "One to an A4 sheet, printed landscape.",
    "a6": "A6 postcard: two-sided, the headline and the numbers. Four to an A4 sheet.",
    "wallet": "Folded wallet card: folds to bank-card size, a neutral outside and the numbers inside. "
    "Five to an A4 sheet.",
}
AS_WRITTEN = "As the campaign is written (English)"
NO_SECOND = "None: one language"
SECOND_LANGUAGE_HINT = (
    "English with one other language: side by side on the A4 poster, English on the front and the other language on "
    "the back of the A5 flyer and the DL leaflet, each a whole message with the numbers (a leaflet marked sensitive: "
    "inside the A5, behind a neutral outside). The A6 postcard, the folded A4 and the wallet card print in one "
    "language."
)
MODE_LABELS = {
    HOME: "On my own printer: A4 sheets, several copies to a sheet, with cut marks",
    SHOP: "At a print shop: each copy at its trim size with 3 mm bleed and crop marks",
}


def options(pairs) -> list[SelectChoice]:
    """Choices for a select, radio or checkbox list from (value, label) pairs."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def optional_id(value: object) -> int | None:
    """A posted id as a number, or None for nothing or anything that is not a whole number."""
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if number > 0 else None


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (the form macro draws it as a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LeafletForm(ProblemsMixin, FlaskForm):
    """What to print: campaign, helpline set, local notice, layout, printer and large print."""

    campaign = SelectField("Campaign", coerce=optional_id, validate_choice=False,
                           description="Campaigns the association has approved and that are running now.")
    helplines = SelectField("Helpline set", coerce=optional_id, validate_choice=False,
                            description="The helplines printed on the leaflet, with the police numbers 101 and 999.")
    notice = SelectField("Local notice (optional)", coerce=optional_id, validate_choice=False,
                         description="One of your scheme's approved notices, printed with the helplines.")
    layout = RadioField("Layout", choices=options(LAYOUT_HINTS.items()), default="a5", validate_choice=False)
    language = SelectField("Language", choices=options([("", AS_WRITTEN)]), validate_choice=False,
                           description="The campaign and its helplines in an approved translation, with the leaflet's "
                           "headings and police block in that language too.")
    second_language = SelectField("Second language, beside English (optional)", choices=options([("", NO_SECOND)]),
                                  validate_choice=False, description=SECOND_LANGUAGE_HINT)
    print_mode = RadioField("Where it is printed", choices=options(MODE_LABELS.items()), default=HOME,
                            validate_choice=False)
    is_large_print = BooleanField("Large print", description="For the A5, A4 and DL layouts: text of 14 pt or more.")
    has_signup_panel = BooleanField(
        "Add the bulletin sign-up panel",
        description="Prints your scheme's sign-up address and a QR code to it, so residents can ask for your "
        "bulletin by email. Nobody's details are printed. Not on the folded wallet card: it has no room for it.",
    )
    preview = SubmitField("Preview")
    download = SubmitField("Download PDF")

    def offer_languages(self, languages: list[tuple[str, str]]) -> None:
        """Offer these (tag, name) languages, after the campaign as written and no second language."""
        self.language.choices = options([("", AS_WRITTEN), *languages])
        self.second_language.choices = options([("", NO_SECOND), *languages])

    def offer_choices(self, offer: ContentOffer) -> None:
        """Fill the lists with what is offered now."""
        self.campaign.choices = options((v.id, v.title) for v in offer.campaigns)
        self.helplines.choices = options((v.id, f"{v.title} ({len(v.entries)} helplines)") for v in offer.helpline_sets)
        self.notice.choices = options([("", "No local notice"), *((v.id, v.title) for v in offer.local_notices)])

    @property
    def choice(self) -> LeafletChoice:
        """What was chosen, as the services take it."""
        return LeafletChoice(
            campaign_version_id=self.campaign.data,
            helpline_set_version_id=self.helplines.data,
            local_notice_version_id=self.notice.data,
            layout=self.layout.data or "",
            language=self.language.data or "",
            second_language=self.second_language.data or "",
            print_mode=self.print_mode.data or "",
            is_large_print=bool(self.is_large_print.data),
            has_signup_panel=bool(self.has_signup_panel.data),
        )


def choice_from_query(args: Mapping[str, str]) -> LeafletChoice:
    """A choice from a preview or thumbnail URL's query string (the same names as the builder's fields)."""
    return LeafletChoice(
        campaign_version_id=optional_id(args.get("campaign")),
        helpline_set_version_id=optional_id(args.get("helplines")),
        local_notice_version_id=optional_id(args.get("notice")),
        layout=args.get("layout", ""),
        language=args.get("language", ""),
        second_language=args.get("second_language", ""),
        print_mode=args.get("print_mode", ""),
        is_large_print=args.get("is_large_print") in ("y", "1", "on", "true"),
        has_signup_panel=args.get("has_signup_panel") in ("y", "1", "on", "true"),
    )


def query_from_choice(choice: LeafletChoice) -> dict[str, str]:
    """The query string for a preview or thumbnail URL of this choice."""
    query = {
        "campaign": str(choice.campaign_version_id or ""),
        "helplines": str(choice.helpline_set_version_id or ""),
        "layout": choice.layout,
        "print_mode": choice.print_mode,
    }
    if choice.local_notice_version_id is not None:
        query["notice"] = str(choice.local_notice_version_id)
    if choice.language:
        query["language"] = choice.language
    if choice.second_language:
        query["second_language"] = choice.second_language
    if choice.is_large_print:
        query["is_large_print"] = "y"
    if choice.has_signup_panel:
        query["has_signup_panel"] = "y"
    return query


class PrintRunForm(LeafletForm):
    """A print run: what to print, and for which of the scheme's streets."""

    streets = MultiCheckboxField("Streets", coerce=optional_id, validate_choice=False,
                                 description="Each street gets a copy for every household that has not asked for "
                                 "none, plus spares.")
    work_out = SubmitField("Work out the copies")
    create = SubmitField("Create the print run")

    def offer_streets(self, scheme: Scheme) -> None:
        """List the scheme's streets, all ticked at first."""
        self.streets.choices = options(
            (street.id, f"{street.name}, {street.postcode} ({street.households_for_leaflets:,} to deliver to)")
            for street in scheme.streets
        )
        if not self.is_submitted():
            self.streets.data = [street.id for street in scheme.streets]

    @property
    def street_ids(self) -> list[int]:
        """The street ids ticked (None for any that was not a number, which the service refuses)."""
        return list(self.streets.data or [])


class PrintOrderForm(ProblemsMixin, FlaskForm):
    """An admin's central order: one campaign and layout for every scheme or the ones ticked."""

    campaign = SelectField("Campaign", coerce=optional_id, validate_choice=False)
    helplines = SelectField("Helpline set", coerce=optional_id, validate_choice=False)
    layout = RadioField("Layout", choices=options(LAYOUT_HINTS.items()), default="a5", validate_choice=False)
    is_large_print = BooleanField("Large print", description="For the A5, A4 and DL layouts: text of 14 pt or more.")
    which_schemes = RadioField("Schemes", choices=options([("all", "Every scheme"),
                                                           ("chosen", "Only the schemes ticked below")]),
                               default="all", validate_choice=False)
    schemes = MultiCheckboxField("Schemes to include", coerce=optional_id, validate_choice=False,
                                 description="Only used when you choose 'Only the schemes ticked below'.")

    def offer_choices(self, offer: ContentOffer, schemes: list[Scheme]) -> None:
        """Fill the lists with what is offered now."""
        self.campaign.choices = options((v.id, v.title) for v in offer.campaigns)
        self.helplines.choices = options((v.id, f"{v.title} ({len(v.entries)} helplines)") for v in offer.helpline_sets)
        self.schemes.choices = options((scheme.id, scheme.name) for scheme in schemes)

    @property
    def choice(self) -> LeafletChoice:
        """What was chosen, as the services take it (print orders are always for a print shop)."""
        return LeafletChoice(
            campaign_version_id=self.campaign.data,
            helpline_set_version_id=self.helplines.data,
            layout=self.layout.data or "",
            print_mode=SHOP,
            is_large_print=bool(self.is_large_print.data),
        )

    @property
    def scheme_ids(self) -> list[int] | None:
        """None for every scheme, else the ids ticked."""
        if self.which_schemes.data != "chosen":
            return None
        return list(self.schemes.data or [])
