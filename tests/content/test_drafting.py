"""Starting content: the slug a new item gets from its title."""

from __future__ import annotations

from coordinator.content import drafting
from coordinator.content.models import ContentKind
from tests.factories import campaign_fields, make_admin


def test_a_title_with_no_latin_letters_gets_a_slug_named_after_its_kind():
    admin = make_admin()
    first = drafting.create_item(ContentKind.CAMPAIGN, campaign_fields(title="Безопасность дома"), admin)
    second = drafting.create_item(ContentKind.CAMPAIGN, campaign_fields(title="Ασφάλεια στο σπίτι"), admin)
    assert (first.item.slug, second.item.slug) == ("campaign", "campaign-2")

