"""The content pages in a real browser, with axe-core on each: the library, review, catalogue, forms."""

from __future__ import annotations

from playwright.sync_api import expect

from coordinator.auth.services import find_user_by_email, hash_password
from coordinator.content import drafting
from coordinator.content import services as content
from coordinator.content.models import ContentKind, VersionState
from coordinator.demo import seed_demo
from coordinator.extensions import db
from tests.factories import PASSWORD, campaign_fields, make_admin, settle
from tests.helpers.browser import axe_violations, log_in


def test_admin_content_pages_pass_axe(page):
    seed_demo()
    reviewer = make_admin(name="Rae Reviewer")
    item = content.find_item(ContentKind.CAMPAIGN, "its-not-ok")
    draft = drafting.edit_item(item, campaign_fields(title="#ITSNOTOK, revised", summary="New words."), make_admin())
    settle(draft, VersionState.SUBMITTED)
    db.session.commit()
    log_in(page, reviewer.email, PASSWORD)
    for url in ["/content/library", f"/content/items/{item.id}", f"/content/versions/{draft.id}/review",
                "/content/new/campaign", "/content/new/helpline", "/content/new/helpline_set",
                "/content/helplines/review", "/content/packs", "/content/catalogue"]:
        page.goto(url)
        expect(page.get_by_role("heading", level=1), url).to_have_count(1)
        assert axe_violations(page) == [], url
    # The review form's error summary is announced and accessible too.
    page.goto(f"/content/versions/{draft.id}/review")
    page.get_by_role("button", name="Send decision").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose whether to approve it")
    assert axe_violations(page) == []


def test_coordinator_catalogue_with_previews_opened_passes_axe(page):
    seed_demo()
    coordinator = find_user_by_email("pat@demo.bromleywatch.org.uk")
    coordinator.password_hash = hash_password(PASSWORD)
    db.session.commit()
    log_in(page, coordinator.email, PASSWORD)
    page.goto("/content/catalogue")
    for summary in page.locator("details > summary").all():
        summary.click()
    expect(page.get_by_role("heading", name="Campaigns running now")).to_have_count(1)
    assert axe_violations(page) == []
    scheme_link = page.get_by_role("link", name="Write or manage notices for Hayes Lane Watch")
    scheme_link.click()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Write a notice").click()
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter a heading")
    assert axe_violations(page) == []
