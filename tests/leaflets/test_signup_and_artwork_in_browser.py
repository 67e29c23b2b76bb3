"""The sign-up panel and a print shop's artwork in a real browser on a 320-pixel phone, without JavaScript."""

from __future__ import annotations

from playwright.sync_api import expect

from coordinator.extensions import db
from coordinator.leaflets import builder
from tests.factories import PASSWORD, load_starter, make_coordinated_scheme, starter_choice
from tests.helpers.browser import axe_violations, log_in, scrolls_sideways


def test_the_panel_is_chosen_refused_on_the_wallet_card_and_the_shop_record_says_how_many(phone):
    page = phone
    load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park", slug="bickley-park")
    record, _ = builder.generate_leaflet(scheme, starter_choice(layout="dl", print_mode="shop"), coordinator,
                                         copies=245)
    db.session.commit()
    log_in(page, coordinator.email, PASSWORD)

    page.goto(f"/leaflets/schemes/{scheme.id}/new")
    box = page.get_by_label("Add the bulletin sign-up panel")
    expect(box).not_to_be_checked()
    page.get_by_label("Folded wallet card", exact=False).check()
    box.check()
    page.locator("main form").get_by_role("button", name="Preview", exact=True).click()
    summary = page.get_by_role("link", name="The folded wallet card has no room for the sign-up panel", exact=False)
    expect(summary).to_have_count(1)
    expect(page.get_by_label("Add the bulletin sign-up panel")).to_be_checked()  # the choice survives the error
    assert not scrolls_sideways(page)
    assert axe_violations(page) == []

    page.goto(f"/leaflets/{record.id}")
    expect(page.get_by_role("link", name="Download the artwork (PDF)", exact=False)).to_have_count(1)
    expect(page.get_by_role("link", name="Download the quantities (CSV)")).to_have_count(1)
    expect(page.locator("main")).to_contain_text("Order 245 copies of the artwork")
    assert not scrolls_sideways(page)
    assert axe_violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the quantities (CSV)").click()
    assert download.value.suggested_filename == f"leaflet-{record.id}-quantities.csv"
