"""Delivery rounds in a real browser on a 320-pixel phone, checked with axe-core: the deliverer's page opened from
the round's link without JavaScript and without a cookie, and the coordinator's rounds and round pages."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import expect

from coordinator.extensions import db
from coordinator.leaflets import print_runs, rounds
from coordinator.leaflets.models import DeliveryState
from tests.factories import PASSWORD, load_starter, make_coordinated_scheme, starter_choice
from tests.helpers.browser import axe_violations, log_in
from tests.helpers.hostile import HOSTILE_TEXTS

PHONE = {"width": 320, "height": 640}


def fits(page) -> bool:
    """Nothing on the page is wider than the screen (no sideways scrolling at 320 px)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def shoot(page, name: str) -> None:
    # Screenshots for people to look at, when asked for (SCREENSHOTS_DIR), as the bulletin tests do.
    folder = os.environ.get("SCREENSHOTS_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def test_a_deliverer_records_their_round_on_a_small_phone_without_javascript(browser, live_server):
    load_starter()
    scheme, coordinator = make_coordinated_scheme("Petts Wood North", streets=((23, 2), (7, 0), (40, 4)))
    run = print_runs.create_print_run(scheme, starter_choice(), [s.id for s in scheme.streets], coordinator)
    (only,) = rounds.split_into_rounds(run, 1, coordinator)
    only.deliverer_name = HOSTILE_TEXTS[0]
    db.session.commit()
    address = rounds.round_url(only)
    first, second = (d.street for d in sorted(only.deliveries, key=lambda d: d.street.position)[:2])

    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(address)
        expect(page.get_by_role("heading", level=1)).to_have_text("Round 1: delivering leaflets")
        expect(page.locator("main")).to_contain_text(f"For {HOSTILE_TEXTS[0]}.")  # as text, never run
        assert axe_violations(page) == [] and fits(page)
        shoot(page, "round-320.png")

        street = page.locator(f"#street-{first.id}")
        street.get_by_label("Delivered", exact=True).check()
        street.get_by_role("button", name=f"Save {first.name}").click()
        expect(page.locator(f"#street-{first.id}")).to_contain_text("Saved: Delivered on")
        assert re.search(r"#street-\d+$", page.url)

        # Partly, without saying how many: the problem is named beside the field, and the page still fits.
        street = page.locator(f"#street-{second.id}")
        street.get_by_label("Partly delivered").check()
        street.get_by_role("button", name=f"Save {second.name}").click()
        expect(page.get_by_role("alert")).to_contain_text("how many households got a leaflet, from 1 to 7")
        assert axe_violations(page) == [] and fits(page)
        shoot(page, "round-320-problem.png")
        street = page.locator(f"#street-{second.id}")
        street.get_by_label("If partly: how many households got a leaflet?").fill("5")
        street.get_by_role("button", name=f"Save {second.name}").click()
        expect(page.locator(f"#street-{second.id}")).to_contain_text("Saved: Partly delivered to 5 households")
        expect(page.locator("dl")).to_contain_text(re.compile(r"Streets done\s*2 of 3"))
        assert axe_violations(page) == [] and fits(page)
        assert context.cookies() == []  # the page and its forms never set one
    finally:
        context.close()

    db.session.expire_all()
    states = {row.print_run_street_id: row.state for row in rounds.deliveries_of(run).values()}
    assert states[first.id] == DeliveryState.DELIVERED and states[second.id] == DeliveryState.PARTLY


def test_a_coordinator_splits_a_run_and_names_a_deliverer_on_a_small_phone(page):
    load_starter()
    scheme, coordinator = make_coordinated_scheme("Petts Wood North", streets=((23, 2), (7, 0), (40, 4)))
    run = print_runs.create_print_run(scheme, starter_choice(), [s.id for s in scheme.streets], coordinator)
    db.session.commit()
    page.set_viewport_size(PHONE)
    log_in(page, coordinator.email, PASSWORD)

    page.goto(f"/leaflets/print-runs/{run.id}")
    page.get_by_role("link", name="Delivery rounds and progress").click()
    assert axe_violations(page) == [] and fits(page)
    page.get_by_label("How many rounds?").fill("9")
    page.get_by_role("button", name="Split into rounds").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose between 1 and 3 rounds")
    page.get_by_label("How many rounds?").fill("2")
    page.get_by_role("button", name="Split into rounds").click()
    expect(page.get_by_role("table", name="Rounds")).to_contain_text("Not named yet")
    assert axe_violations(page) == [] and fits(page)
    shoot(page, "rounds-320.png")

    page.get_by_role("link", name="Round 1").click()
    page.get_by_label("Deliverer's name").fill(HOSTILE_TEXTS[2])
    page.get_by_role("button", name="Save the deliverer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Round 1: {HOSTILE_TEXTS[2]}")
    assert axe_violations(page) == [] and fits(page)
    shoot(page, "round-coordinator-320.png")
