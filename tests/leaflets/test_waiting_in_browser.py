"""The waiting page in a real browser, with the real render processes: with JavaScript it updates itself and sends
the download when the leaflet is ready; without it, it refreshes itself until the "Download PDF" button shows."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect

from coordinator import jobs
from coordinator.extensions import db
from coordinator.leaflets import render_queue
from tests.factories import PASSWORD, load_starter, make_coordinated_scheme
from tests.helpers.browser import axe_violations, log_in

# The README's picture is kept only when asked for (SCREENSHOTS_DIR=docs/screenshots): a run leaves the checkout
# as it was.
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR")


@pytest.fixture
def thread_app(app) -> Iterator[Flask]:
    """Renders in the background, in the real render processes (as `make run` does)."""
    app.config.update(JOBS_MODE="", REDIS_URL="", RENDER_PROCESSES=1)
    assert jobs.jobs_mode(app) == "thread"
    yield app
    render_queue.shutdown(app)
    jobs.shutdown(app)


def choose(page, campaign: str, helplines: str, layout: str) -> None:
    page.get_by_label("Campaign", exact=True).select_option(label=campaign)
    page.get_by_label("Helpline set", exact=True).select_option(label=helplines)
    page.get_by_label(layout, exact=False).check()


def test_with_javascript_the_waiting_page_updates_in_place_and_sends_the_download(thread_app, browser, live_server):
    load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park")
    db.session.commit()
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        log_in(page, coordinator.email, PASSWORD)
        page.goto(f"/leaflets/schemes/{scheme.id}/new?campaign=metoo-bystanders")
        # The builder chose the campaign's recommended set for it.
        expect(page.get_by_label("Helpline set", exact=True)).to_have_value(
            page.get_by_label("Helpline set", exact=True).locator("option", has_text="Sexual violence")
            .get_attribute("value"))
        page.locator("main form").get_by_role("button", name="Download PDF").click()
        summary = page.locator("[data-progress-summary]")
        expect(summary).to_contain_text("Your leaflet")
        if "being made" in summary.inner_text():
            expect(page.get_by_role("button", name="Pause updates")).to_be_visible()
            assert axe_violations(page) == []
        # progress.js sees it ready and sends "Download PDF": the leaflet's page, its record made.
        # The render process starts on first use: on a busy machine that and the render take a while.
        expect(page.get_by_role("heading", name="Your A5 flyer is ready to print")).to_have_count(1, timeout=120_000)
        with page.expect_download() as download:
            page.get_by_role("link", name="Download the PDF").click()
        assert download.value.suggested_filename.endswith(".pdf")
    finally:
        context.close()


def test_without_javascript_it_refreshes_itself_until_the_button_shows_and_fits_320_px(
        thread_app, browser, live_server):
    load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park")
    db.session.commit()
    context = browser.new_context(base_url=live_server.url, locale="en-GB", java_script_enabled=False,
                                  viewport={"width": 320, "height": 640})
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        log_in(page, coordinator.email, PASSWORD)
        page.goto(f"/leaflets/schemes/{scheme.id}/new?campaign=metoo-bystanders&layout=dl")
        page.locator("main form").get_by_role("button", name="Download PDF").click()
        expect(page.get_by_role("heading", name="Download PDF")).to_have_count(1)
        if page.locator("[data-progress-live]").count():
            if SCREENSHOTS:
                Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(Path(SCREENSHOTS) / "leaflet-waiting-320.png"))
            assert page.evaluate("document.documentElement.scrollWidth") <= 320
            assert axe_violations(page) == []
        ready = page.get_by_role("button", name="Download PDF")
        expect(ready).to_be_visible(timeout=120_000)  # after the page's own refreshes
        assert axe_violations(page) == []
        ready.click()
        expect(page.get_by_role("heading", name="Your DL leaflet is ready to print")).to_have_count(1)
    finally:
        context.close()
