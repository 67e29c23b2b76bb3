"""The leaflet pages in a real browser: the whole flow with JavaScript off, and axe-core on every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from coordinator import jobs
from coordinator.content.models import ContentKind
from coordinator.extensions import db
from coordinator.leaflets import builder, print_orders, print_runs, views
from coordinator.leaflets.models import PrintOrderState
from tests.factories import PASSWORD, current, load_starter, make_coordinated_scheme, starter_choice
from tests.helpers.browser import axe_violations, log_in


@pytest.fixture
def page_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB", java_script_enabled=False)
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def preview(page, campaign: str, helplines: str) -> None:
    page.get_by_label("Campaign", exact=True).select_option(label=campaign)
    page.get_by_label("Helpline set", exact=True).select_option(label=helplines)
    page.locator("main form").get_by_role("button", name="Preview", exact=True).click()
    page.wait_for_load_state("load")  # the thumbnail and the framed preview included


def test_a_coordinator_previews_downloads_and_plans_a_print_run_without_javascript(page_without_javascript):
    page = page_without_javascript
    load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park", streets=((20, 0), (12, 12)))
    db.session.commit()
    log_in(page, coordinator.email, PASSWORD)

    page.goto("/leaflets/")
    page.get_by_role("link", name="Make a leaflet for Bickley Park").click()
    preview(page, "Domestic abuse: You are not alone", "Domestic abuse (7 helplines)")
    expect(page.get_by_role("heading", name="Preview: A5 flyer")).to_have_count(1)
    frame = page.frame_locator("iframe[title='Preview of the leaflet']")
    expect(frame.get_by_text("0808 2000 247")).to_have_count(1)
    thumbnail = page.get_by_role("img", name="The first page of the PDF", exact=False)
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth") == 480

    page.locator("main section").get_by_role("button", name="Download PDF").click()
    expect(page.get_by_role("heading", name="Your A5 flyer is ready to print")).to_have_count(1)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")

    page.goto(f"/leaflets/schemes/{scheme.id}/print-runs/new")
    page.locator("main form").get_by_role("button", name="Work out the copies").click()
    expect(page.get_by_role("heading", name="Copies: 21 A5 flyers")).to_have_count(1)
    page.locator("main section").get_by_role("button", name="Create the print run").click()
    expect(page.get_by_role("heading", name="Print run: 21 A5 flyers for Bickley Park")).to_have_count(1)
    expect(page.locator("main")).to_contain_text("Print double-sided, flip on long edge")

    # An error keeps what was chosen.
    page.goto(f"/leaflets/schemes/{scheme.id}/new")
    page.get_by_label("Wallet card", exact=False).check()
    page.get_by_label("Large print", exact=True).check()
    page.locator("main form").get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Large print is for the A5, A4 and DL layouts")
    assert page.get_by_label("Large print", exact=True).is_checked() and page.get_by_label("Wallet card", exact=False).is_checked()


def test_every_leaflet_page_passes_axe(page):
    admin = load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park", streets=((20, 0), (12, 12)))
    record, _ = builder.generate_leaflet(scheme, starter_choice(), coordinator)
    run = print_runs.create_print_run(scheme, starter_choice(), [s.id for s in scheme.streets], coordinator)
    with jobs.held():  # an order whose job has not started
        waiting = print_orders.create_print_order(starter_choice(), None, admin)
        db.session.commit()
    log_in(page, coordinator.email, PASSWORD)
    checked = {}
    for url in ("/leaflets/", f"/leaflets/schemes/{scheme.id}/new", f"/leaflets/{record.id}",
                f"/leaflets/schemes/{scheme.id}/print-runs/new", f"/leaflets/print-runs/{run.id}"):
        page.goto(url)
        expect(page.get_by_role("heading", level=1), url).to_have_count(1)
        checked[url] = axe_violations(page)
    page.goto(f"/leaflets/schemes/{scheme.id}/new")
    preview(page, "Domestic abuse: You are not alone", "Domestic abuse (7 helplines)")
    checked["builder with preview"] = axe_violations(page)
    page.get_by_label("Large print", exact=True).check()
    page.get_by_label("Wallet card", exact=False).check()
    page.locator("main form").get_by_role("button", name="Preview", exact=True).click()
    checked["builder with an error"] = axe_violations(page)
    page.goto(f"/leaflets/schemes/{scheme.id}/print-runs/new")
    page.locator("main form").get_by_role("button", name="Work out the copies").click()
    checked["print run worked out"] = axe_violations(page)

    page.context.clear_cookies()
    log_in(page, admin.email, PASSWORD)
    page.goto(f"/leaflets/print-orders/{waiting.id}")
    # The progress updates in place (no meta refresh, WCAG 2.2.1), with the script's pause button (2.2.2).
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    expect(page.get_by_role("button", name="Pause updates")).to_be_visible()
    checked["order waiting, updating"] = axe_violations(page)
    page.goto("/leaflets/print-orders/new")
    checked["order form"] = axe_violations(page)
    page.get_by_label("Campaign", exact=True).select_option(str(current(ContentKind.CAMPAIGN, "its-not-ok").id))
    page.get_by_role("button", name="Start the print order").click()
    expect(page.get_by_role("link", name="Download the order (zip)")).to_have_count(1)
    checked["order done"] = axe_violations(page)
    page.goto("/leaflets/print-orders")
    checked["orders"] = axe_violations(page)
    assert {label: found for label, found in checked.items() if found} == {}


def test_the_print_order_progress_updates_in_place_until_done_and_can_be_paused(page, monkeypatch):
    monkeypatch.setattr(views, "PROGRESS_UPDATE_SECONDS", 1)  # the page's own figure: no test waits 3 s a step
    admin = load_starter()
    make_coordinated_scheme("Bickley Park")
    make_coordinated_scheme("Chelsfield")
    with jobs.held():  # an order whose job has not started
        order = print_orders.create_print_order(starter_choice(), None, admin)
        db.session.commit()
    log_in(page, admin.email, PASSWORD)
    fetches: list[str] = []
    page.on("request", lambda request: fetches.append(request.url) if request.resource_type == "fetch" else None)
    page.goto(f"/leaflets/print-orders/{order.id}")
    summary, announcer = page.locator("[data-progress-summary]"), page.locator("[role=status][aria-live=polite]")
    expect(summary).to_have_text("Waiting to start. 0 of 2 schemes done.")
    expect(page.get_by_text("The figures below update every second.")).to_be_visible()
    page.evaluate("window.isTheSamePage = true")  # gone if the page were loaded again

    # The job moves on: the region changes in place, and the live region says the short sentence.
    order.state, order.progress_done = PrintOrderState.RUNNING, 1
    db.session.commit()
    expect(summary).to_have_text("Building the PDFs: 1 of 2 schemes done.")
    expect(page.locator("#order-progress")).to_have_attribute("value", "1")
    expect(announcer).to_have_text("Building the PDFs: 1 of 2 schemes done.")
    assert page.evaluate("window.isTheSamePage") is True

    # Paused from the keyboard, nothing more is fetched; the focus stays on the button.
    page.get_by_role("button", name="Pause updates").focus()
    page.keyboard.press("Enter")
    resume = page.get_by_role("button", name="Resume updates")
    expect(resume).to_be_focused()
    expect(page.get_by_text("Updates are paused.")).to_be_visible()
    fetched = len(fetches)
    order.progress_done = 2
    db.session.commit()
    page.wait_for_timeout(2_500)
    assert len(fetches) == fetched
    expect(summary).to_have_text("Building the PDFs: 1 of 2 schemes done.")

    page.keyboard.press("Space")
    expect(summary).to_have_text("Building the PDFs: 2 of 2 schemes done.")
    pause = page.get_by_role("button", name="Pause updates")
    expect(pause).to_be_focused()

    # Finished (here, failed): the region shows it one last time, and the updates stop.
    order.state, order.error = PrintOrderState.FAILED, "The print shop's layout is missing."
    db.session.commit()
    expect(page.get_by_role("alert")).to_contain_text("The print shop's layout is missing.")
    expect(page.get_by_text("Nothing more to wait for: these are the final figures.")).to_be_visible()
    expect(pause).to_have_attribute("aria-disabled", "true")  # it had the focus: it goes once the focus leaves
    page.keyboard.press("Tab")
    expect(pause).to_have_count(0)
    fetched = len(fetches)
    page.wait_for_timeout(1_500)
    assert len(fetches) == fetched and page.evaluate("window.isTheSamePage") is True
    assert page.get_by_role("link", name="Refresh progress").count() == 0


def test_without_javascript_the_progress_page_offers_a_refresh_link(page_without_javascript):
    page = page_without_javascript
    admin = load_starter()
    make_coordinated_scheme("Bickley Park")
    with jobs.held():  # an order whose job has not started
        order = print_orders.create_print_order(starter_choice(), None, admin)
        db.session.commit()
    log_in(page, admin.email, PASSWORD)
    page.goto(f"/leaflets/print-orders/{order.id}")
    expect(page.locator("[data-progress-summary]")).to_have_text("Waiting to start. 0 of 1 schemes done.")
    assert page.get_by_role("button", name="Pause updates").count() == 0
    order.state, order.progress_done = PrintOrderState.RUNNING, 1
    db.session.commit()
    page.get_by_role("link", name="Refresh progress").click()
    expect(page.locator("[data-progress-summary]")).to_have_text("Building the PDFs: 1 of 1 schemes done.")
    assert axe_violations(page) == []
