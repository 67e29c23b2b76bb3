"""What the leaflet commands (coordinator/cli.py) need: slugs and names turned into a choice the services check."""

from __future__ import annotations

from coordinator.bulletins.services import find_scheme_by_name
from coordinator.content import services as content
from coordinator.content.models import ContentKind
from coordinator.leaflets.offers import LeafletChoice, LeafletChoiceError
from coordinator.schemes.models import Scheme


def _current_version_id(kind: ContentKind, slug: str, field: str, label: str) -> int:
    item = content.find_item(kind, slug)
    version = item.current_version if item is not None else None
    if version is None:
        raise LeafletChoiceError({field: f"No approved {label} has the slug {slug!r}."})
    if kind == ContentKind.CAMPAIGN and content.campaign_status(version) != content.CampaignStatus.CURRENT:
        raise LeafletChoiceError({field: f"The campaign {slug!r} is not running today: its window is "
                                         f"{version.first_day or 'open'} to {version.last_day or 'open'}."})
    return version.id


def choice_from_slugs(
    campaign_slug: str, helplines_slug: str, layout: str, mode: str, is_large_print: bool, scheme_name: str | None
) -> tuple[Scheme | None, LeafletChoice]:
    """The scheme (if named) and the choice of the approved versions now behind these slugs.

    Whether the campaign is running now, and the rest, is checked by the services like any other choice.
    """
    scheme = None
    if scheme_name:
        scheme = find_scheme_by_name(scheme_name)
        if scheme is None:
            raise LeafletChoiceError({"scheme": f"No scheme is called {scheme_name!r}."})
    choice = LeafletChoice(
        campaign_version_id=_current_version_id(ContentKind.CAMPAIGN, campaign_slug, "campaign", "campaign"),
        helpline_set_version_id=_current_version_id(ContentKind.HELPLINE_SET, helplines_slug, "helplines",
                                                    "helpline set"),
        layout=layout,
        print_mode=mode,
        is_large_print=is_large_print,
    )
    return scheme, choice


def scheme_ids_from_names(names: tuple[str, ...]) -> list[int]:
    """The ids of the schemes named (name or slug); LeafletChoiceError naming any that does not exist."""
    ids = []
    for name in names:
        scheme = find_scheme_by_name(name)
        if scheme is None:
            raise LeafletChoiceError({"schemes": f"No scheme is called {name!r}."})
        ids.append(scheme.id)
    return ids
