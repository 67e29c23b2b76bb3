"""What a scheme will most likely print: the builder preselects the campaign's recommended set in its usual format."""

from __future__ import annotations

import re

from coordinator.content.models import ContentKind
from coordinator.extensions import db
from coordinator.leaflets import builder
from coordinator.leaflets.likely import UsualFormat, usual_formats
from tests.factories import make_coordinated_scheme, make_scheme
from tests.factories.leaflets import current, load_starter, starter_choice
from tests.helpers.web import login_as


def selected(html: str, name: str) -> str:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.DOTALL).group(0)
    return re.search(r'<option selected value="([^"]*)"', select).group(1)


def test_the_builder_preselects_a_campaign_by_slug_with_its_recommended_set_in_the_usual_format(client):
    load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park")
    db.session.commit()
    login_as(client, coordinator)
    html = client.get(f"/leaflets/schemes/{scheme.id}/new?campaign=metoo-bystanders").get_data(as_text=True)
    assert selected(html, "campaign") == str(current(ContentKind.CAMPAIGN, "metoo-bystanders").id)
    assert selected(html, "helplines") == str(current(ContentKind.HELPLINE_SET, "sexual-violence").id)
    assert 'value="a5"' in html and re.search(r'<input checked[^>]*value="a5"', html)

    # After a DL leaflet for a print shop, that is the scheme's usual format.
    builder.generate_leaflet(scheme, starter_choice("metoo-bystanders", layout="dl", print_mode="shop"), coordinator)
    db.session.commit()
    html = client.get(f"/leaflets/schemes/{scheme.id}/new?campaign=vawg-prevention").get_data(as_text=True)
    assert selected(html, "helplines") == str(current(ContentKind.HELPLINE_SET, "domestic-abuse").id)
    assert re.search(r'<input checked[^>]*value="dl"', html) and re.search(r'<input checked[^>]*value="shop"', html)
    # An unknown campaign preselects nothing, and says nothing about it.
    html = client.get(f"/leaflets/schemes/{scheme.id}/new?campaign=%3Cscript%3E").get_data(as_text=True)
    assert "<script>" not in html.split("<main", 1)[1]


def test_usual_formats_take_each_scheme_s_latest_leaflet_in_one_query():
    load_starter()
    printed, coordinator = make_coordinated_scheme()
    fresh = make_scheme()
    builder.generate_leaflet(printed, starter_choice("metoo-bystanders", layout="a6"), coordinator)
    builder.generate_leaflet(printed, starter_choice("metoo-bystanders", layout="a4", is_large_print=True),
                             coordinator)
    db.session.flush()
    assert usual_formats([printed.id, fresh.id]) == {
        printed.id: UsualFormat("a4", "home", True), fresh.id: UsualFormat("a5", "home", False),
    }
