"""The bulletin pages in a real browser, with axe-core on each: compose (and its errors), the bulletin with its
previews, sharing, the admin's pages, and the email itself."""

from __future__ import annotations

from coordinator.bulletins import services
from coordinator.extensions import db
from coordinator.settings import get_settings
from tests.bulletins.conftest import make_bulletin, make_recipients
from tests.e2e.conftest import axe_violations, browser, live_server, log_in, page  # noqa: F401 - e2e fixtures
from tests.factories import PASSWORD

HOSTILE = '<script>alert(1)</script> {{ 7*7 }} "><img src=x onerror=alert(1)>'


def check(page, label: str) -> None:  # noqa: F811
    assert page.get_by_role("heading", level=1).count() == 1, label
    assert axe_violations(page) == [], label


def test_a_coordinator_writes_previews_and_sends_a_bulletin(page, world):  # noqa: F811
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    get_settings().messages_per_second = 500
    make_recipients(world.s.scheme_a, 3)
    log_in(page, world.s.coordinator_a.email, PASSWORD)
    scheme_id = world.s.scheme_a.id

    page.goto(f"/schemes/{scheme_id}/subscribers")
    page.get_by_role("link", name="Email bulletins").click()
    check(page, "bulletin list")
    page.get_by_role("link", name="Write a bulletin").click()
    check(page, "compose")

    # Errors first: everything typed stays, and the summary links to each field.
    page.get_by_label("Subject").fill(HOSTILE)
    page.get_by_label("A few words from you (optional)").fill("x" * 700)
    page.get_by_role("button", name="Save and preview").click()
    assert "The introduction must be 600 characters or fewer" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Subject").input_value() == HOSTILE
    check(page, "compose with errors")

    page.get_by_label("A few words from you (optional)").fill(f"Dear neighbours,\n\n{HOSTILE}")
    page.get_by_label("Doorstep scams").check()
    page.get_by_label("Victims and witnesses (2 helplines)").check()
    page.get_by_role("button", name="Save and preview").click()
    assert page.get_by_role("heading", level=1).inner_text() == HOSTILE
    check(page, "bulletin draft with previews")
    frame = page.frame_locator("iframe[title='The bulletin as a phone shows it']")
    assert "Doorstep scams" in frame.locator("h2").first.inner_text()

    page.get_by_role("link", name="Text to paste into a WhatsApp or Facebook group").click()
    check(page, "share")
    page.go_back()

    page.get_by_role("button", name="Send", exact=True).click()
    assert "Sending has started" in page.locator(".flash").inner_text()
    assert "Sent 3 of 3" in page.locator("main").inner_text()
    check(page, "bulletin sent")
    assert dialogs == []


def test_the_email_preview_itself_passes_axe(page, world):  # noqa: F811
    bulletin = make_bulletin(world)
    log_in(page, world.s.coordinator_a.email, PASSWORD)
    page.goto(f"/schemes/{bulletin.scheme_id}/bulletins/{bulletin.id}/email.html")
    check(page, "the email")
    page.emulate_media(color_scheme="dark")
    check(page, "the email in dark mode")


def test_the_admin_bulletin_pages_pass_axe(page, world):  # noqa: F811
    settings = get_settings()
    settings.is_bulletin_approval_required = True
    db.session.commit()
    bulletin = make_bulletin(world)
    services.queue_bulletin(bulletin, world.s.coordinator_a)
    db.session.commit()
    log_in(page, world.admin.email, PASSWORD)
    page.goto("/admin/bulletins")
    check(page, "admin bulletins")
    page.get_by_role("link", name="Doorstep scams: what to do").first.click()
    page.get_by_role("button", name="Send decision").click()
    assert "Choose whether to approve" in page.get_by_role("alert").inner_text()
    check(page, "review with errors")
    page.goto("/admin/bulletins/all-schemes")
    check(page, "all schemes")
    page.get_by_role("button", name="Make the bulletins").click()
    check(page, "all schemes with errors")
