"""A leaflet's recipe: the plain data it prints, and the key that names its PDF in the cache."""

from __future__ import annotations

from datetime import date

from coordinator.content.models import ContentKind
from coordinator.leaflets import recipes
from coordinator.settings import get_settings
from tests.factories import current, load_starter, make_coordinated_scheme, make_notice, starter_choice


def test_build_leaflet_data_maps_versions_to_plain_data():
    admin = load_starter()
    scheme, coordinator = make_coordinated_scheme("Chislehurst West", contact_other="Meetings: St Nicholas hall")
    notice = make_notice(scheme, coordinator, approver=admin, title="Residents' meeting", body="Tuesday 7pm\nAll welcome")
    campaign = current(ContentKind.CAMPAIGN, "you-are-not-alone")
    helpline_set = current(ContentKind.HELPLINE_SET, "domestic-abuse")
    data = recipes.build_leaflet_data(scheme, campaign, helpline_set, notice, printed_on=date(2026, 3, 12))
    assert data.headline == campaign.title and data.hashtag == "#YouAreNotAlone"
    assert data.key_messages == tuple(campaign.key_messages) and data.call_to_action == campaign.call_to_action
    assert [h.name for h in data.helplines] == [item.title for item in helpline_set.helpline_items]
    assert data.helplines[0].number_display == "0808 2000 247" and data.helplines[0].is_24_7
    assert data.local_notice.body == "Tuesday 7pm\nAll welcome"
    assert data.contact_line == ("Contact your local scheme, Chislehurst West: watch@example.org · 020 7946 0018 · "
                                 "Meetings: St Nicholas hall")
    assert data.association_name == get_settings().association_name and data.printed_on == date(2026, 3, 12)
    # The reference names the exact versions: another notice, another reference.
    other = recipes.build_leaflet_data(scheme, campaign, helpline_set, None, printed_on=date(2026, 3, 12))
    assert other.reference != data.reference and len(data.reference) == 9


def test_a_scheme_without_contact_lines_prints_none():
    load_starter()
    scheme, _ = make_coordinated_scheme(contact_email="", contact_phone="")
    assert recipes.scheme_contact_line(scheme) == ""
    assert recipes.prepare_leaflet(scheme, starter_choice()).recipe.data.contact_line == ""


def test_the_cache_key_covers_the_template_version(monkeypatch):
    load_starter()
    scheme, _ = make_coordinated_scheme()
    recipe = recipes.prepare_leaflet(scheme, starter_choice()).recipe
    key = recipe.key
    monkeypatch.setattr(recipes, "template_version", lambda: "a-new-template")
    assert recipe.key != key
