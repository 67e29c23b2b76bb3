"""What a coordinator may print today, and the check of what they chose against it.

Content is read only through the content library's offers (`current_campaigns`, `approved_helpline_sets`,
`usable_helplines`, `local_notices_for_scheme`): an id that is not offered now (a retired or ended campaign,
another scheme's notice, a set that is not approved) is refused before anything is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from coordinator.content import services as content
from coordinator.content.models import CampaignVersion, HelplineSetVersion, HelplineVersion, LocalNoticeVersion
from coordinator.leaflets.layouts import HOME, LAYOUTS, PRINT_MODES, Layout
from coordinator.schemes.models import Scheme


class LeafletChoiceError(Exception):
    """Something chosen cannot be printed; `errors` maps each form field (or "form") to a message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class LeafletChoice:
    """What was chosen in the builder, the print-run form or on the command line, as ids and keys."""

    campaign_version_id: int | None
    helpline_set_version_id: int | None
    local_notice_version_id: int | None = None
    layout: str = "a5"
    # "" for the campaign as written; a language tag for its approved translation (coordinator/leaflets/languages.py).
    language: str = ""
    second_language: str = ""  # English with this one: side by side on A4, front and back on A5 and DL
    print_mode: str = HOME
    is_large_print: bool = False
    has_signup_panel: bool = False  # the scheme's bulletin sign-up address and QR code (recipes.prepare_leaflet)


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
