"""What a scheme will most likely print: its usual format, and a campaign with the helpline set it recommends.

The builder preselects it and the warm-up (warmup.py) renders it ahead of a launch, from the same functions, so
that a coordinator who opens the builder and presses "Download PDF" asks for exactly the file made ready.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select

from coordinator.content.models import CampaignVersion, HelplineSetVersion
from coordinator.extensions import db
from coordinator.leaflets.forms import optional_id
from coordinator.leaflets.layouts import HOME, LAYOUTS, PRINT_MODES
from coordinator.leaflets.models import LeafletRecord
from coordinator.leaflets.offers import ContentOffer, LeafletChoice
from coordinator.schemes.models import Scheme

DEFAULT_LAYOUT = "a5"


@dataclass(frozen=True)
class UsualFormat:
    """How a scheme printed its latest leaflet: layout, printer and large print (A5 at home before the first)."""

    layout: str = DEFAULT_LAYOUT
    print_mode: str = HOME
    is_large_print: bool = False


def usual_formats(scheme_ids: Iterable[int]) -> dict[int, UsualFormat]:
    """Each scheme's usual format, in one query; a scheme that has printed nothing gets the default."""
    ids = list(scheme_ids)
    found: dict[int, UsualFormat] = {}
    if ids:
        rows = db.session.execute(
            select(LeafletRecord.scheme_id, LeafletRecord.layout, LeafletRecord.print_mode,
                   LeafletRecord.is_large_print)
            .where(LeafletRecord.scheme_id.in_(ids))
            .order_by(LeafletRecord.scheme_id, LeafletRecord.created_at.desc(), LeafletRecord.id.desc())
        )
        for scheme_id, layout, print_mode, is_large_print in rows:
            if scheme_id not in found and layout in LAYOUTS and print_mode in PRINT_MODES:
                found[scheme_id] = UsualFormat(layout, print_mode, bool(is_large_print))
    return {scheme_id: found.get(scheme_id, UsualFormat()) for scheme_id in ids}


def usual_format(scheme: Scheme) -> UsualFormat:
    """The scheme's usual format."""
    return usual_formats([scheme.id])[scheme.id]


def recommended_set(campaign: CampaignVersion, offer: ContentOffer | None = None) -> HelplineSetVersion | None:
    """The approved version of the set the campaign recommends (and, given an offer, only if it is offered)."""
    item = campaign.recommended_set_item
    version = item.current_version if item is not None else None
    if version is None or (offer is not None and version not in offer.helpline_sets):
        return None
    return version


def likely_choice(campaign: CampaignVersion, helpline_set: HelplineSetVersion, usual: UsualFormat) -> LeafletChoice:
    """The campaign with this set in the scheme's usual format, with no local notice."""
    return LeafletChoice(
        campaign_version_id=campaign.id,
        helpline_set_version_id=helpline_set.id,
        layout=usual.layout,
        print_mode=usual.print_mode,
        is_large_print=usual.is_large_print and LAYOUTS[usual.layout].has_large_print,
    )


def builder_choice(scheme: Scheme, offer: ContentOffer, args: Mapping[str, str]) -> LeafletChoice:
    """What the builder shows chosen when it opens: what the address names, the rest as the scheme most likely wants.

    `campaign` may be a version id or a campaign's slug (the launch email links by slug, which outlives versions);
    the helpline set defaults to the campaign's recommended set, the layout and printer to the scheme's usual format.
    """
    reference = (args.get("campaign") or "").strip()
    campaign = next((v for v in offer.campaigns if str(v.id) == reference or v.item.slug == reference), None)
    helplines_id = optional_id(args.get("helplines"))
    helpline_set = next((v for v in offer.helpline_sets if v.id == helplines_id), None)
    if helpline_set is None and campaign is not None:
        helpline_set = recommended_set(campaign, offer)
    usual = usual_format(scheme)
    layout = args.get("layout") if args.get("layout") in LAYOUTS else usual.layout
    print_mode = args.get("print_mode") if args.get("print_mode") in PRINT_MODES else usual.print_mode
    is_large_print = args.get("is_large_print") in ("y", "1") if "layout" in args else usual.is_large_print
    return LeafletChoice(
        campaign_version_id=campaign.id if campaign is not None else None,
        helpline_set_version_id=helpline_set.id if helpline_set is not None else None,
        local_notice_version_id=optional_id(args.get("notice")),
        layout=layout,
        print_mode=print_mode,
        is_large_print=is_large_print,
    )
