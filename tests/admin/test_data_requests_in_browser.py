"""The data-request and scheme import pages in a real browser, without JavaScript, on a small phone, with axe-core;
and a scheme's bounces and complaints on its subscribers page."""

from __future__ import annotations

from playwright.sync_api import expect

from coordinator.bulletins.models import BounceKind, SubscriberBounce
from coordinator.db import utcnow
from coordinator.extensions import db
from tests.factories import PASSWORD, make_admin, make_subscriber
from tests.helpers.browser import axe_violations, log_in
from tests.helpers.hostile import HOSTILE_TEXTS

PHONE = {"width": 320, "height": 640}


def fits(page) -> bool:
    """Nothing on the page is wider than the screen (no sideways scrolling at 320 px)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_admin_finds_and_erases_an_address_on_a_small_phone(page, two_schemes):
    admin = make_admin(email="alex@example.org")
    for scheme in (two_schemes.scheme_a, two_schemes.scheme_b):
        make_subscriber(scheme, "pat.resident@example.net", name=HOSTILE_TEXTS[0])
    db.session.commit()
    page.set_viewport_size(PHONE)
    log_in(page, admin.email, PASSWORD)

    page.goto("/admin/data-requests")
    assert axe_violations(page) == [] and fits(page)
    page.get_by_role("button", name="Find this address").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the email address")
    assert axe_violations(page) == []

    page.get_by_label("The resident's email address").fill("PAT.resident@example.net")
    page.get_by_role("button", name="Find this address").click()
    expect(page.locator("main")).to_contain_text("Subscribed in 2 schemes")
    expect(page.locator("main")).to_contain_text(HOSTILE_TEXTS[0])  # shown as text, never run
    assert axe_violations(page) == [] and fits(page)

    page.get_by_role("button", name="Erase from every scheme").click()
    expect(page.get_by_role("alert")).to_contain_text("Tick the box to confirm")
    assert axe_violations(page) == []
    page.get_by_label("I have checked that this is the person who asked").check()
    page.get_by_role("button", name="Erase from every scheme").click()
    expect(page.locator("main")).to_contain_text("The address was erased from 2 schemes.")


def test_the_scheme_import_page_reports_bad_lines_then_imports_on_a_small_phone(page):
    admin = make_admin(email="alex@example.org")
    db.session.commit()
    page.set_viewport_size(PHONE)
    log_in(page, admin.email, PASSWORD)
    page.goto("/admin/schemes")
    page.get_by_role("link", name="Import schemes and streets from a CSV file").click()
    assert axe_violations(page) == [] and fits(page)

    header = b"scheme,ward,postcode_district,street,postcode,households,no_leaflets\r\n"
    bad = header + b"Hayes Lane Watch,Hayes,BR2,Hayes Lane,BR2 9EA,48,3\r\n" \
        + b'"<script>alert(1)</script>",,,Baston Road,NOT A CODE,3,9\r\n'
    page.get_by_label("CSV file").set_input_files(files=[{"name": "schemes.csv", "mimeType": "text/csv", "buffer": bad}])
    page.get_by_role("button", name="Check and import").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was imported: 1 of 2 rows has problems.")
    assert axe_violations(page) == []

    good = header + b"Hayes Lane Watch,Hayes,BR2,Hayes Lane,BR2 9EA,48,3\r\nOakfield Watch,Bickley,BR1,,,,\r\n"
    page.get_by_label("CSV file").set_input_files(files=[{"name": "schemes.csv", "mimeType": "text/csv",
                                                          "buffer": good}])
    page.get_by_role("button", name="Check and import").click()
    expect(page.get_by_role("status")).to_contain_text("Imported 2 schemes with 1 street.")
    assert axe_violations(page) == [] and fits(page)


def test_a_coordinator_sees_bounces_and_complaints_on_the_subscribers_page(page, two_schemes):
    scheme = two_schemes.scheme_a
    gone = make_subscriber(scheme, "gone@example.net")
    cross = make_subscriber(scheme, "cross@example.net")
    now = utcnow()
    db.session.add_all([
        SubscriberBounce(subscriber_id=gone.id, scheme_id=scheme.id, kind=BounceKind.HARD, status="5.1.1",
                         detail="550 5.1.1 <gone@example.net>: Recipient address rejected: " + HOSTILE_TEXTS[2],
                         report_key="a" * 64, received_at=now),
        SubscriberBounce(subscriber_id=cross.id, scheme_id=scheme.id, kind=BounceKind.COMPLAINT, status="abuse",
                         report_key="b" * 64, received_at=now),
    ])
    db.session.commit()
    page.set_viewport_size(PHONE)
    log_in(page, two_schemes.coordinator_a.email, PASSWORD)
    page.goto(f"/schemes/{scheme.id}/subscribers")
    table = page.get_by_role("table", name="Bounces and complaints in the last 30 days")
    expect(table).to_contain_text("Permanent failure (5.1.1)")
    expect(table).to_contain_text("Complaint (marked as spam) (abuse)")
    expect(table).to_contain_text(HOSTILE_TEXTS[2])
    assert axe_violations(page) == []
