"""The "Fixed wording by language" pages in a real browser at 320 pixels, without JavaScript, with axe-core: an
admin reads the Arabic wording beside the English and approves it."""

from __future__ import annotations

import os

from playwright.sync_api import expect

from coordinator.extensions import db
from coordinator.wording import wording_ready
from tests.factories import PASSWORD, make_admin
from tests.helpers.browser import axe_violations, log_in, scrolls_sideways


def test_an_admin_reads_the_arabic_wording_on_a_phone_and_approves_it(page):
    admin = make_admin(email="alex@example.org")
    db.session.commit()
    page.set_viewport_size({"width": 320, "height": 640})
    log_in(page, admin.email, PASSWORD)
    page.goto("/admin/settings")
    page.get_by_role("link", name="Fixed wording by language").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fixed wording by language")
    assert axe_violations(page) == [] and not scrolls_sideways(page)

    page.get_by_role("link", name="Arabic").click()
    expect(page.locator("main")).to_contain_text("print these words in English")
    phrase = page.locator('span[lang="ar"][dir="rtl"]', has_text="أين تجد المساعدة").first
    expect(phrase).to_be_visible()
    assert axe_violations(page) == [] and not scrolls_sideways(page)
    if os.environ.get("SCREENSHOTS_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOTS_DIR"], "wording-arabic-320.png"), full_page=False)

    page.get_by_role("button", name="Approve this wording").click()
    expect(page.locator("main")).to_contain_text("The fixed wording in Arabic is approved")
    expect(page.get_by_role("row", name="Arabic")).to_contain_text("Approved")
    db.session.expire_all()
    assert wording_ready("ar")
