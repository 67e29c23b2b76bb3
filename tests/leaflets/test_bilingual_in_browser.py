"""Choosing a leaflet's languages in a real browser on a 320-pixel phone, without JavaScript: the refusal at the
language's field (no sideways scrolling), then a preview in English and Polish; no axe-core violations."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.helpers.bilingual_leaflets import content_in_languages
from tests.helpers.browser import axe_violations, log_in, scrolls_sideways

# Pictures for people to look at, only when asked for (SCREENSHOTS_DIR): a run leaves the checkout as it was.
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR")


def test_a_coordinator_is_told_what_is_missing_then_previews_english_and_polish(phone):
    page = phone
    scheme, coordinator, campaign, _ = content_in_languages()
    log_in(page, coordinator.email, PASSWORD)

    page.goto(f"/leaflets/schemes/{scheme.id}/new")
    page.get_by_label("Campaign", exact=True).select_option(label=campaign.title)
    page.get_by_label("Helpline set", exact=True).select_option(label="Honour-based abuse and any crime (2 helplines)")
    page.get_by_label("DL leaflet", exact=False).check()
    second = page.get_by_label("Second language, beside English (optional)", exact=False)
    expect(page.locator("main")).to_contain_text("The A6 postcard, the folded A4 and the wallet card print in one "
                                                 "language.")
    second.select_option(label="اردو (Urdu)")
    page.locator("main form").get_by_role("button", name="Preview", exact=True).click()
    summary = page.get_by_role("link", name="No approved Urdu translation of", exact=False)
    expect(summary).to_have_count(1)
    expect(second).to_have_value("ur")  # the choice survives the refusal
    assert not scrolls_sideways(page)
    assert axe_violations(page) == []
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "leaflet-languages-refused-320.png"), full_page=True)

    second.select_option(label="Polski (Polish)")
    page.locator("main form").get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_role("heading", name="Preview: DL leaflet")).to_have_count(1)
    frame = page.frame_locator("iframe[title='Preview of the leaflet']")
    expect(frame.locator("[lang='pl']").get_by_text("Przemoc wobec kobiet", exact=False)).to_have_count(1)
    expect(frame.get_by_text("0800 5999 247")).to_have_count(2)  # on each side, each a whole message
    expect(page.get_by_role("img", name="Back of the DL leaflet, as printed")).to_have_count(1)
    # The PDF's first page (480 px) and the preview's frame shrink to the phone rather than widen the page.
    assert not scrolls_sideways(page)
    assert axe_violations(page) == []
