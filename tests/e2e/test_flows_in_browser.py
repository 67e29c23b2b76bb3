"""Whole stories in a real browser: an admin approves another admin's campaign; a resident signs up, confirms from
the email a real SMTP server received, gets the bulletin their coordinator sends, and unsubscribes from the link in
it; a coordinator adds a street, and builds and downloads a leaflet, with the keyboard alone."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from playwright.sync_api import expect
from sqlalchemy import select

from coordinator.bulletins import subscribers
from coordinator.bulletins.models import SubscriberStatus
from coordinator.content import drafting
from coordinator.content import services as content
from coordinator.content.models import VersionState
from coordinator.extensions import db
from coordinator.schemes.models import Street
from coordinator.settings import get_settings
from tests.factories import (
    PASSWORD,
    campaign_fields,
    load_starter,
    make_admin,
    make_campaign,
    make_coordinated_scheme,
    make_helpline,
    make_helpline_set,
    make_scheme,
    make_street,
    make_user,
    settle,
)
from tests.helpers.browser import axe_violations, focused, log_in, tab_to
from tests.helpers.pdf import pdftotext, squeeze
from tests.helpers.web import outbox_messages

CONFIRM_LINK = re.compile(r"https?://\S+/join/confirm/[A-Za-z0-9_.\-]+")


def _library_row(page, title: str):
    return page.get_by_role("table", name=re.compile(r"^\d+ items?\b")).get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=title, exact=True)
    )


def test_admin_approves_a_campaign_another_admin_submitted(app, page):
    author, reviewer = make_admin(name="Alex Author"), make_admin(name="Rae Reviewer")
    first = make_campaign(author, title="Lock it or lose it", summary="Lock your car.")
    changed = campaign_fields(title="Lock it or lose it", summary="Lock your car, always.")
    second = drafting.edit_item(first.item, changed, author)
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


def _mail_to(smtp_server, address: str, count: int = 0, seconds: float = 10) -> list:
    """The messages the SMTP server received for one address, once there are `count` of them (or `seconds` passed)."""
    deadline = time.monotonic() + seconds
    while True:
        found = [m for m in smtp_server.messages() if m["To"].addresses[0].addr_spec == address]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_resident_signs_up_confirms_gets_a_bulletin_and_unsubscribes_from_it(page, live_server, smtp_server):
    coordinator = make_user(name="Pat Okafor")
    scheme = make_scheme("Hayes Lane Watch", [coordinator], slug="hayes-lane-watch")
    make_street(scheme, "Hayes Lane", postcode="BR2 9EA")
    make_street(scheme, "Bourne Way", postcode="BR2 7EY")
    # What a bulletin is made of: an approved campaign, and verified helplines in an approved set.
    admin = make_admin(name="Ada Admin")
    make_campaign(admin, title="Doorstep scams", summary="Cold callers who pressure you are not to be trusted.")
    helplines = [make_helpline(admin, title="Victim Support", number="0808 168 9111")]
    for helpline in helplines:
        content.reverify_helpline(helpline.item, admin)
    make_helpline_set(helplines, admin, title="Victims and witnesses")
    get_settings().messages_per_second = 500
    db.session.commit()

    page.goto("/join/hayes-lane-watch")
    page.get_by_label("Email address").fill("kim.adeyemi@example.net")
    page.get_by_label("Your name (optional)").fill("Kim Adeyemi")
    page.get_by_label("Your street (optional)").select_option(label="Bourne Way")
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="Send me a link to confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    # The confirmation went out by SMTP, to the address typed, with a link back to this server.
    [message] = _mail_to(smtp_server, "kim.adeyemi@example.net", 1)
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

    # Her coordinator writes a bulletin to the whole scheme and sends it (jobs run at once in tests).
    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/schemes/{scheme.id}/bulletins/new")
    page.get_by_label("Subject").fill("Doorstep scams: what to do")
    page.get_by_label("A few words from you (optional)").fill("Dear neighbours,\n\nPlease read this one.")
    page.get_by_label("Doorstep scams").check()
    page.get_by_label("Victims and witnesses (1 helpline)").check()
    page.get_by_role("button", name="Save and preview").click()
    page.locator("main").get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Sending has started")
    expect(page.locator("[data-progress-summary]")).to_have_text("Sent 1 of 1")

    # The bulletin reaches her by SMTP: her name, the campaign, the helpline, and her own unsubscribe link.
    confirmation, bulletin = _mail_to(smtp_server, "kim.adeyemi@example.net", 2)
    assert bulletin["Subject"] == "Doorstep scams: what to do"
    text = bulletin.get_body(preferencelist=("plain",)).get_content()
    assert "Hello Kim Adeyemi" in text and "Please read this one." in text
    assert "Doorstep scams" in text and "0808 168 9111" in text
    html = bulletin.get_body(preferencelist=("html",)).get_content()
    assert "Doorstep scams" in html and "0808&nbsp;168&nbsp;9111" in html  # a number that never breaks
    assert bulletin["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header_link = re.fullmatch(r"<(\S+)>", bulletin["List-Unsubscribe"]).group(1)
    assert header_link.startswith(live_server.url + "/unsubscribe/")
    html_link = re.search(r'<a [^>]*href="([^"]+)"[^>]*>Unsubscribe</a>', html).group(1)
    assert html_link == header_link and f"Unsubscribe (one click, no password): {header_link}" in text

    # She follows the link in the email; the page it opens has one button, and one press is enough.
    page.context.clear_cookies()
    page.goto(html_link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop email bulletins from Hayes Lane Watch?")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    db.session.expire_all()
    assert kim.status == SubscriberStatus.UNSUBSCRIBED
    # Nothing more is sent to someone who left.
    assert _mail_to(smtp_server, "kim.adeyemi@example.net") == [confirmation, bulletin]


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


def _choose_by_keyboard(page, select_id: str, label: str) -> None:
    """Move through a focused <select>'s options with the arrow keys until `label` is chosen."""
    shown = "(() => { const s = document.activeElement; return s.options[s.selectedIndex].label })()"
    for _ in range(12):
        if page.evaluate(shown) == label:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"the arrow keys never reached {label!r} in #{select_id}")


def test_coordinator_builds_and_downloads_a_leaflet_with_the_keyboard_alone(page, tmp_path):
    load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park Watch")
    db.session.commit()
    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/leaflets/schemes/{scheme.id}/new")

    tab_to(page, element_id="campaign")
    _choose_by_keyboard(page, "campaign", "Domestic abuse: You are not alone")
    tab_to(page, element_id="helplines")
    _choose_by_keyboard(page, "helplines", "Domestic abuse (7 helplines)")
    tab_to(page, element_id="download")  # the form's "Download PDF" button
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your A5 flyer is ready to print")

    tab_to(page, text="Download the PDF of the A5 flyer")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    pdf = (tmp_path / "leaflet.pdf")
    download.value.save_as(pdf)
    text = squeeze(pdftotext(pdf.read_bytes(), tmp_path))
    assert squeeze("You are not alone") in text
    assert squeeze("0808 2000 247") in text, "the National Domestic Abuse Helpline, as the seed facts print it"
    assert squeeze("Bickley Park Watch") in text, "the scheme's contact line"
