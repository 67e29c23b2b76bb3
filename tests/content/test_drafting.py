"""Starting content: the slug a new item gets from its title."""

from __future__ import annotations

from coordinator.content import drafting
from coordinator.content.models import ContentKind
from tests.factories import campaign_fields, make_admin


def test_a_title_with_no_latin_letters_gets_a_transliterated_slug_never_the_kinds_name():
    admin = make_admin()
    first = drafting.create_item(ContentKind.CAMPAIGN, campaign_fields(title="Безопасность дома"), admin)
    second = drafting.create_item(ContentKind.CAMPAIGN, campaign_fields(title="Ασφάλεια στο σπίτι"), admin)
    third = drafting.create_item(ContentKind.CAMPAIGN, campaign_fields(title="?!"), admin)
    assert (first.item.slug, second.item.slug) == ("bezopasnost-doma", "asfaleia-sto-spiti")
    assert third.item.slug.startswith("campaign-") and third.item.slug != "campaign"
