"""The launch pages in a real browser, checked by axe-core: the campaign calendar, a campaign's page with its
warm-ups, and the account page's campaign emails."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import expect

from coordinator.content.models import ContentKind
from coordinator.extensions import db
from coordinator.leaflets.models import LeafletWarmup, WarmupState
from tests.factories import PASSWORD, make_admin, make_coordinated_scheme
from tests.factories.leaflets import current, load_starter
from tests.helpers.browser import axe_violations, log_in


def test_the_calendar_a_campaign_s_warm_ups_and_campaign_emails_pass_axe(page):
    load_starter(with_windows=True)
    admin = make_admin()
    _, coordinator = make_coordinated_scheme("Bickley Park")
    metoo = current(ContentKind.CAMPAIGN, "metoo-bystanders")
    db.session.add(LeafletWarmup(campaign_item_id=metoo.item_id, campaign_version_id=metoo.id,
                                 helpline_set_version_id=current(ContentKind.HELPLINE_SET, "sexual-violence").id,
                                 printed_on=date(2026, 12, 7), reason="approved", state=WarmupState.RUNNING,
                                 total=600, rendered=412, cpu_seconds=120.5, bytes_written=8_400_000))
    db.session.commit()
    log_in(page, admin.email, PASSWORD)
    page.goto("/content/calendar")
    expect(page.get_by_role("heading", name="Campaign calendar")).to_have_count(1)
    expect(page.locator("main")).to_contain_text("1 to 14 February")
    assert axe_violations(page) == []
    page.goto(f"/content/items/{metoo.item_id}")
    expect(page.locator("[data-progress-summary]")).to_contain_text("Making leaflets: 412 of 600 schemes done.")
    expect(page.get_by_role("button", name="Pause updates")).to_be_visible()
    assert axe_violations(page) == []

    page.context.clear_cookies()
    log_in(page, coordinator.email, PASSWORD)
    page.goto("/account/")
    page.get_by_label("One email on Mondays", exact=False).check()
    page.get_by_role("button", name="Save my campaign emails").click()
    expect(page.locator("main")).to_contain_text("Your campaign emails are changed.")
    assert axe_violations(page) == []
