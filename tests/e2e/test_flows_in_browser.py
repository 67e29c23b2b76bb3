"""Whole stories in a real browser: an admin approves another admin's campaign; a resident signs up, confirms from
the email a real SMTP server received, and unsubscribes; a coordinator adds a street with the keyboard alone."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect
from sqlalchemy import select

from coordinator.bulletins import services as subscribers
from coordinator.bulletins.models import SubscriberStatus
from coordinator.content import services as content
from coordinator.content.models import VersionState
from coordinator.extensions import db
from coordinator.schemes.models import Street
from tests.conftest import outbox_messages
from tests.content.factories import campaign_fields, make_campaign, settle
from tests.e2e.conftest import axe_violations, focused, log_in, tab_to
from tests.factories import PASSWORD, make_admin, make_scheme, make_street, make_user

CONFIRM_LINK = re.compile(r"https?://\S+/join/confirm/[A-Za-z0-9_.\-]+")


def _library_row(page, title: str):
    return page.get_by_role("table", name=re.compile(r"^\d+ items?\b")).get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=title, exact=True)
    )


def test_admin_approves_a_campaign_another_admin_submitted(app, page):
    author, reviewer = make_admin(name="Alex Author"), make_admin(name="Rae Reviewer")
    first = make_campaign(author, title="Lock it or lose it", summary="Lock your car.")
    changed = campaign_fields(title="Lock it or lose it", summary="Lock your car, always.")
    second = content.edit_item(first.item, changed, author)
    settle(second, VersionState.SUBMITTED, submitter=author)
    db.session.commit()

    # Four eyes: the author may not approve their own version, and is told why.
    log_in(page, author.email, PASSWORD)
    page.goto(f"/content/versions/{second.id}/review")
    expect(page.get_by_role("note")).to_contain_text("Another admin must approve it")
    page.get_by_label("Approve this version").check()
    page.get_by_role("button", name="Send decision").click()
    expect(page.get_by_role("alert")).to_contain_text("another admin must approve it")
    db.session.expire_all()
    assert second.state == VersionState.SUBMITTED

    # Another admin finds it waiting in the library, reads what changed, and approves it.
    page.context.clear_cookies()
    log_in(page, reviewer.email, PASSWORD)
    page.goto("/content/library")
    expect(_library_row(page, "Lock it or lose it").get_by_role("cell").last).to_have_text("Version 1")
    page.get_by_role("link", name="Review Lock it or lose it").click()
    summary_row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile("^Summary")))
    expect(summary_row).to_contain_text("Changed")
    expect(summary_row.locator("ins")).to_contain_text("always")
    assert axe_violations(page) == []
    page.get_by_label("Approve this version").check()
    page.get_by_role("button", name="Send decision").click()

    page.wait_for_url("**/content/library")
    expect(page.get_by_role("status")).to_have_text("Version 2 of “Lock it or lose it” is approved.")
    expect(page.get_by_text("Nothing is waiting for approval.")).to_be_visible()
    row = _library_row(page, "Lock it or lose it")
    expect(row.get_by_role("cell").nth(1)).to_contain_text("Approved")
    expect(row.get_by_role("cell").last).to_have_text("Version 2")
    db.session.expire_all()
    assert (second.state, second.approved_by_id) == (VersionState.APPROVED, reviewer.id)
    assert second.item.current_version == second
    # The author hears of it by email.
    assert [(m["To"], m["Subject"]) for m in outbox_messages(app)][-1][0].endswith(f"<{author.email}>")


def test_resident_signs_up_confirms_from_the_email_and_unsubscribes(page, live_server, smtp_server):
    scheme = make_scheme("Hayes Lane Watch", [make_user()], slug="hayes-lane-watch")
    make_street(scheme, "Hayes Lane", postcode="BR2 9EA")
    make_street(scheme, "Bourne Way", postcode="BR2 7EY")
    db.session.commit()

    page.goto("/join/hayes-lane-watch")
    page.get_by_label("Email address").fill("kim.adeyemi@example.net")
    page.get_by_label("Your name (optional)").fill("Kim Adeyemi")
    page.get_by_label("Your street (optional)").select_option(label="Bourne Way")
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="Send me a link to confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    # The confirmation went out by SMTP, to the address typed, with a link back to this server.
    [message] = smtp_server.wait_for_messages(1)
    assert message["To"].addresses[0].addr_spec == "kim.adeyemi@example.net"
    assert message["Subject"] == "Please confirm: email bulletins from Hayes Lane Watch"
    text = message.get_body(preferencelist=("plain",)).get_content()
    link = CONFIRM_LINK.search(text).group(0)
    assert link.startswith(live_server.url + "/join/confirm/")
    kim = subscribers.find_subscriber(scheme, "kim.adeyemi@example.net")
    assert kim.status == SubscriberStatus.PENDING

    # Opening the link only asks; pressing the button confirms.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm email bulletins from Hayes Lane Watch")
    db.session.expire_all()
    assert kim.status == SubscriberStatus.PENDING
    page.get_by_role("button", name="Yes, send me bulletins").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are subscribed")
    db.session.expire_all()
    assert (kim.status, kim.street.name) == (SubscriberStatus.CONFIRMED, "Bourne Way")

    # Every bulletin carries this link; the page it opens has one button.
    page.goto(subscribers.unsubscribe_url(kim))
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop email bulletins from Hayes Lane Watch?")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    db.session.expire_all()
    assert kim.status == SubscriberStatus.UNSUBSCRIBED
    assert smtp_server.wait_for_messages(1) == [message]  # nothing more is sent to someone who left


def test_coordinator_adds_a_street_with_the_keyboard_alone(page):
    coordinator = make_user(name="Pat Okafor")
    scheme = make_scheme("Hayes Lane Watch", [coordinator])
    make_street(scheme, "Hayes Lane", postcode="BR2 9EA")
    db.session.commit()

    # Log in: the skip link, then the form's fields in order, and Enter to send it.
    page.goto("/account/login")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the skip link: the next Tab starts inside <main>
    tab_to(page, element_id="email")
    page.keyboard.type(coordinator.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/(#main)?$"))  # a redirect keeps the skip link's #main

    tab_to(page, text="Hayes Lane Watch")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/schemes/{scheme.id}")
    tab_to(page, text="Add a street")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/schemes/{scheme.id}/streets/new")

    tab_to(page, element_id="name")
    page.keyboard.type("Kechill Gardens")
    page.keyboard.press("Tab")
    page.keyboard.type("br2 7ng")
    page.keyboard.press("Tab")
    page.keyboard.type("forty")  # a slip of the keyboard user
    page.keyboard.press("Tab")
    page.keyboard.type("2")
    page.keyboard.press("Tab")
    page.keyboard.type("Gate code 1234. Dog at no. 9.")
    tab_to(page, text="Add the street")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # The summary has the focus; its link takes the keyboard to the field to put right.
    expect(page.locator(".error-summary")).to_be_focused()
    page.keyboard.press("Tab")
    assert focused(page) == {"tag": "a", "id": "", "text": "The number of households must be a whole number, 0 or more"}
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "households"
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("40")
    page.keyboard.press("Enter")  # Enter in a field sends the form

    page.wait_for_url(re.compile(rf"/schemes/{scheme.id}(#households)?$"))  # a redirect keeps the #households
    expect(page.get_by_role("status")).to_contain_text("Kechill Gardens")
    expect(page.get_by_role("rowheader", name="Kechill Gardens")).to_be_visible()
    db.session.expire_all()
    street = db.session.scalar(select(Street).where(Street.name == "Kechill Gardens"))
    assert (street.postcode, street.households, street.households_no_leaflets, street.delivery_notes) == (
        "BR2 7NG", 40, 2, "Gate code 1234. Dog at no. 9."
    )
    assert urlsplit(page.url).path == f"/schemes/{scheme.id}"
