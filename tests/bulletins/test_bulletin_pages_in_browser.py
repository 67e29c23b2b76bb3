"""The bulletin pages in a real browser, with axe-core on each: compose (and its errors), the bulletin with its
previews, sharing, the admin's pages, and the email itself."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select, update

from coordinator import jobs
from coordinator.bulletins import approval, bulletin_pages, progress
from coordinator.bulletins.models import BulletinDelivery, DeliveryState
from coordinator.extensions import db
from coordinator.settings import get_settings
from tests.factories import PASSWORD, make_bulletin, make_recipients
from tests.helpers.browser import axe_violations, log_in

HOSTILE = '<script>alert(1)</script> {{ 7*7 }} "><img src=x onerror=alert(1)>'


def check(page, label: str) -> None:
    expect(page.get_by_role("heading", level=1), label).to_have_count(1)
    assert axe_violations(page) == [], label


def test_a_coordinator_writes_previews_and_sends_a_bulletin(page, world):
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
    expect(page.get_by_role("alert")).to_contain_text("The introduction must be 600 characters or fewer")
    assert page.get_by_label("Subject").input_value() == HOSTILE
    check(page, "compose with errors")

    page.get_by_label("A few words from you (optional)").fill(f"Dear neighbours,\n\n{HOSTILE}")
    page.get_by_label("Doorstep scams").check()
    page.get_by_label("Victims and witnesses (2 helplines)").check()
    page.get_by_role("button", name="Save and preview").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE)
    check(page, "bulletin draft with previews")
    frame = page.frame_locator("iframe[title='The bulletin as a phone shows it']")
    expect(frame.locator(".campaign h2").first).to_contain_text("Doorstep scams")

    page.get_by_role("link", name="Text to paste into a WhatsApp or Facebook group").click()
    check(page, "share")
    page.go_back()

    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Sending has started")
    expect(page.locator("main")).to_contain_text("Sent 3 of 3")
    check(page, "bulletin sent")
    assert dialogs == []


def test_the_email_preview_itself_passes_axe(page, world):
    bulletin = make_bulletin(world)
    log_in(page, world.s.coordinator_a.email, PASSWORD)
    page.goto(f"/schemes/{bulletin.scheme_id}/bulletins/{bulletin.id}/email.html")
    check(page, "the email")
    page.emulate_media(color_scheme="dark")
    check(page, "the email in dark mode")


def test_the_admin_bulletin_pages_pass_axe(page, world):
    settings = get_settings()
    settings.is_bulletin_approval_required = True
    db.session.commit()
    bulletin = make_bulletin(world)
    approval.queue_bulletin(bulletin, world.s.coordinator_a)
    db.session.commit()
    log_in(page, world.admin.email, PASSWORD)
    page.goto("/admin/bulletins")
    check(page, "admin bulletins")
    page.get_by_role("link", name="Doorstep scams: what to do").first.click()
    page.get_by_role("button", name="Send decision").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose whether to approve")
    check(page, "review with errors")
    page.goto("/admin/bulletins/all-schemes")
    check(page, "all schemes")
    page.get_by_role("button", name="Make the bulletins").click()
    check(page, "all schemes with errors")


def _mark_sent(count: int) -> None:
    """The sending job has sent `count` more copies (as its worker would, seen from another process)."""
    waiting = db.session.scalars(select(BulletinDelivery.id).where(BulletinDelivery.state == DeliveryState.QUEUED)
                                 .order_by(BulletinDelivery.id).limit(count)).all()
    db.session.execute(update(BulletinDelivery).where(BulletinDelivery.id.in_(waiting))
                       .values(state=DeliveryState.SENT))
    db.session.commit()


def test_the_progress_of_a_bulletin_going_out_updates_in_place(page, world, monkeypatch):
    monkeypatch.setattr(bulletin_pages, "PROGRESS_UPDATE_SECONDS", 1)  # the page's own figure: no test waits 5 s a step
    make_recipients(world.s.scheme_a, 4)
    bulletin = make_bulletin(world)
    with jobs.held():  # a bulletin part way through: the test moves its rows by hand
        approval.queue_bulletin(bulletin, world.s.coordinator_a)
        progress.start_sending(bulletin, "example.org")
        db.session.commit()
    log_in(page, world.s.coordinator_a.email, PASSWORD)
    fetches: list[str] = []
    page.on("request", lambda request: fetches.append(request.url) if request.resource_type == "fetch" else None)
    page.goto(f"/schemes/{bulletin.scheme_id}/bulletins/{bulletin.id}")
    summary = page.locator("[data-progress-summary]")
    expect(summary).to_have_text("Sent 0 of 4")
    page.evaluate("window.isTheSamePage = true")  # gone if the page were loaded again
    page.locator("iframe").first.evaluate("frame => { frame.dataset.seen = 'yes' }")
    previews: list[str] = []  # the framed previews, asked for again after the page loaded
    page.on("request", lambda request: previews.append(request.url) if "email.html" in request.url else None)

    _mark_sent(1)
    expect(summary).to_have_text("Sent 1 of 4")
    expect(page.locator("[role=status][aria-live=polite]")).to_have_text("Sent 1 of 4")
    expect(page.locator("iframe[data-seen=yes]")).to_have_count(1)  # the previews stay as they were
    assert previews == []

    # While the focus is in the region, it is left as it is; once the focus leaves, it catches up.
    stop = page.locator("main").get_by_role("button", name="Stop sending")
    stop.focus()
    _mark_sent(1)
    page.wait_for_timeout(2_500)
    expect(summary).to_have_text("Sent 1 of 4")
    expect(stop).to_be_focused()
    page.get_by_role("link", name="Open the email on its own page").focus()
    expect(summary).to_have_text("Sent 2 of 4")

    # Paused, nothing more is fetched.
    page.get_by_role("button", name="Pause updates").click()
    expect(page.get_by_role("button", name="Resume updates")).to_be_focused()
    fetched = len(fetches)
    _mark_sent(2)
    progress.finish_sending(bulletin)
    db.session.commit()
    page.wait_for_timeout(2_500)
    assert len(fetches) == fetched
    expect(summary).to_have_text("Sent 2 of 4")

    # Resumed: the bulletin is sent, the region shows it one last time, and the updates stop.
    page.get_by_role("button", name="Resume updates").click()
    expect(summary).to_have_text("Sent 4 of 4")
    expect(page.locator("main .tag").first).to_have_text("Sent")
    expect(page.get_by_text("Nothing more to wait for: these are the final figures.")).to_be_visible()
    assert page.locator("main").get_by_role("button", name="Stop sending").count() == 0
    assert page.get_by_role("link", name="Refresh progress").count() == 0
    fetched = len(fetches)
    page.wait_for_timeout(1_500)
    assert len(fetches) == fetched and page.evaluate("window.isTheSamePage") is True
    check(page, "bulletin sent, after updating in place")
