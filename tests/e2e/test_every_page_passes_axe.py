"""axe-core on every page of the toolkit, as the person who uses it, in its normal state and with its form's errors.

Each test builds its data with the factories and services, logs in as the right role and visits a group of
pages; every serious or critical violation of every page is collected, so one run lists them all.
"""

from __future__ import annotations

from datetime import date, timedelta
from pprint import pformat
from urllib.parse import urlsplit

from playwright.sync_api import expect
from sqlalchemy import select, update

from coordinator import jobs
from coordinator.auth.services import PURPOSE_INVITATION, account_link, find_user_by_email, hash_password
from coordinator.bulletins import approval, progress, subscribers
from coordinator.bulletins.models import BulletinDelivery, DeliveryState
from coordinator.content import drafting
from coordinator.content import services as content
from coordinator.content.models import ContentKind, VersionState
from coordinator.db import utcnow
from coordinator.demo import seed_demo
from coordinator.extensions import db
from coordinator.leaflets import rounds
from coordinator.leaflets.builder import generate_leaflet
from coordinator.leaflets.models import PrintOrderState
from coordinator.leaflets.print_orders import create_print_order
from coordinator.leaflets.print_runs import create_print_run
from coordinator.schemes.models import Scheme
from coordinator.settings import get_settings
from tests.factories import (
    PASSWORD,
    campaign_fields,
    current,
    load_starter,
    make_admin,
    make_bulletin,
    make_campaign,
    make_coordinated_scheme,
    make_helpline,
    make_helpline_set,
    make_notice,
    make_recipients,
    make_scheme,
    make_street,
    make_user,
    settle,
    starter_choice,
)
from tests.helpers.browser import axe_violations, log_in

HOSTILE = '<script>alert(1)</script> {{ 7*7 }} "><img src=x onerror=alert(1)>'
BAD_STREETS_CSV = (
    b"name,postcode,households,no_leaflets\r\n"
    b"Kechill Gardens,BR2 7NG,30,0\r\n"
    b"=HYPERLINK(\"http://x\"),BR2 7NG,12,0\r\n"
    b"Pickhurst Rise,NOT A POSTCODE,lots,0\r\n"
)
BAD_SUBSCRIBERS_CSV = (
    b"email,name,street\r\n"
    b"kim@example.net,Kim,Hayes Lane\r\n"
    b"not-an-address,Lee,\r\n"
    b"jo@example.net,@SUM(1),Nowhere Street\r\n"
)
BAD_COORDINATORS_CSV = (
    b"email,name,scheme,role\r\n"
    b"ada@example.org,Ada Lovelace,Hayes Lane Watch,main\r\n"
    b"not-an-address,=cmd,No Such Watch,boss\r\n"
)


class Crawl:
    """Visits pages in one browser tab and keeps axe-core's serious and critical findings, page by page."""

    def __init__(self, page) -> None:
        self.page = page
        self.checked: list[str] = []
        self.violations: dict[str, list[dict]] = {}
        # Hostile text on the pages must stay text: an alert() that ran would open a dialog.
        self.dialogs: list[str] = []
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))

    def check(self, label: str) -> None:
        """Run axe-core on the page as it is now; the page must have exactly one level-1 heading."""
        expect(self.page.get_by_role("heading", level=1), f"{label}: not one <h1>").to_have_count(1)
        self.checked.append(label)
        found = axe_violations(self.page)
        if found:
            self.violations[label] = found

    def visit(self, path: str, label: str | None = None, status: int = 200) -> None:
        """Open a page (it must answer `status` without sending us elsewhere) and check it."""
        response = self.page.goto(path)
        assert response is not None and response.status == status, f"{path}: HTTP {response and response.status}"
        assert urlsplit(self.page.url).path == urlsplit(path).path, f"{path}: sent on to {self.page.url}"
        self.check(label or path)

    def press(self, button: str, label: str, status: int | None = None) -> None:
        """Press a button of the page's main content, wait for the answer, and check the page it gives."""
        with self.page.expect_navigation() as navigation:
            self.page.locator("main").get_by_role("button", name=button, exact=True).click()
        if status is not None:
            assert navigation.value.status == status, f"{label}: HTTP {navigation.value.status}"
        self.check(label)

    def show_error(self, button: str, label: str) -> None:
        """Press a form's button with what is filled in and check the page shows its error summary."""
        self.press(button, label)
        assert self.page.locator(".error-summary").count() >= 1, f"{label}: no error summary"

    def upload(self, label_text: str, name: str, data: bytes) -> None:
        """Choose a file for a file field, as a person picks one from their disk."""
        chosen = {"name": name, "mimeType": "text/csv", "buffer": data}
        self.page.get_by_label(label_text).set_input_files(files=[chosen])

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"script in hostile text ran: {self.dialogs}"
        assert self.violations == {}, "axe-core found serious or critical violations:\n" + pformat(self.violations)


def _switch_to(page, user) -> None:
    page.context.clear_cookies()
    log_in(page, user.email, PASSWORD)
    assert urlsplit(page.url).path != "/account/login", f"{user.email} could not log in"


def test_account_pages(page):
    crawl = Crawl(page)
    coordinator = make_user(name="Pat Okafor")
    make_scheme("Hayes Lane Watch", [coordinator])
    invited = make_user(name="Ivy Invited", password=None)
    db.session.commit()
    invitation = urlsplit(account_link(invited, PURPOSE_INVITATION)).path

    crawl.visit("/account/login", "login")
    crawl.show_error("Log in", "login: empty")
    page.get_by_label("Email address").fill(coordinator.email)
    page.get_by_label("Password").fill("not the password")
    crawl.show_error("Log in", "login: wrong password")
    crawl.visit("/account/forgot-password", "forgot password")
    page.get_by_label("Email address").fill("not an address")
    crawl.show_error("Send me a link", "forgot password: bad address")
    crawl.visit(invitation, "set password (invitation)")
    crawl.show_error("Save password", "set password: empty")
    page.get_by_label("New password", exact=True).fill("short")
    crawl.show_error("Save password", "set password: too short")
    crawl.visit("/account/set-password/forged-token", "set password: link not valid", status=400)
    crawl.visit("/account/forgot-password", "forgot password, again")
    page.locator("input[name=csrf_token]").evaluate("input => { input.value = 'forged' }")
    crawl.press("Send me a link", "400: a form sent without its CSRF token", status=400)

    _switch_to(page, coordinator)
    crawl.visit("/account/", "profile")
    page.get_by_label("Your name").fill("")
    page.get_by_label("Email address").fill("not an address")
    crawl.show_error("Save my details", "profile: empty name, bad address")
    crawl.visit("/account/password", "change password")
    crawl.show_error("Change password", "change password: empty")
    crawl.assert_clean()
    assert len(crawl.checked) == 15


def test_coordinator_pages(app, page):
    crawl = Crawl(page)
    seed_demo()
    pat = find_user_by_email("pat@demo.bromleywatch.org.uk")
    pat.password_hash = hash_password(PASSWORD)
    scheme = db.session.scalar(select(Scheme).where(Scheme.name == "Hayes Lane Watch"))
    other_scheme = make_scheme("Secret Close Watch", [make_user()])
    street = scheme.streets[0]
    subscribers.sign_up(scheme, "kim@example.net", "Kim Adeyemi", street.id)
    kim = subscribers.find_subscriber(scheme, "kim@example.net")
    subscribers.confirm_subscription(kim)
    subscribers.sign_up(scheme, "lee@example.net", HOSTILE)
    notice = make_notice(scheme, pat, state=VersionState.APPROVED, title="Residents' meeting")
    make_notice(scheme, pat, state=VersionState.SUBMITTED, title="Street party")
    db.session.commit()
    _switch_to(page, pat)

    crawl.visit("/", "home")
    crawl.visit(f"/schemes/{scheme.id}", "scheme page")
    crawl.visit(f"/schemes/{scheme.id}/contact", "contact lines")
    page.get_by_label("Email address").fill("not an address")
    crawl.show_error("Save the contact lines", "contact lines: bad address")
    crawl.visit(f"/schemes/{scheme.id}/streets/new", "add a street")
    crawl.show_error("Add the street", "add a street: empty")
    crawl.visit(f"/schemes/{scheme.id}/streets/{street.id}", "change a street")
    page.get_by_label("Households", exact=True).fill("lots")
    page.get_by_label("Postcode").fill("XX")
    crawl.show_error("Save the street", "change a street: bad values")
    crawl.visit(f"/schemes/{scheme.id}/streets/{street.id}/delete", "remove a street")
    crawl.visit(f"/schemes/{scheme.id}/streets/import", "import streets")
    crawl.show_error("Check and import", "import streets: no file")
    crawl.upload("CSV file of streets", "streets.csv", BAD_STREETS_CSV)
    crawl.press("Check and import", "import streets: report with bad rows")
    expect(page.locator("main")).to_contain_text("Nothing was imported")

    crawl.visit(f"/schemes/{scheme.id}/subscribers", "subscribers")
    crawl.visit(f"/schemes/{scheme.id}/subscribers?q=" + "x" * 101, "subscribers: filter too long")
    crawl.visit(f"/schemes/{scheme.id}/subscribers/{kim.id}", "a subscriber")
    crawl.visit(f"/schemes/{scheme.id}/subscribers/{kim.id}/erase", "erase a subscriber")
    crawl.visit(f"/schemes/{scheme.id}/subscribers/import", "import subscribers")
    crawl.show_error("Check and import", "import subscribers: no file")
    crawl.upload("CSV file of members", "members.csv", BAD_SUBSCRIBERS_CSV)
    crawl.press("Check and import", "import subscribers: report with bad rows")

    crawl.visit(f"/content/schemes/{scheme.id}/notices", "local notices")
    crawl.visit(f"/content/schemes/{scheme.id}/notices/new", "write a notice")
    crawl.show_error("Save draft", "write a notice: empty")
    crawl.visit(f"/content/items/{notice.item.id}", "a local notice")
    crawl.visit("/content/catalogue", "catalogue")
    for summary in page.locator("main details > summary").all():
        summary.click()
    crawl.check("catalogue: every preview open")
    crawl.visit(f"/content/items/{content.approved_campaigns()[0].item.id}", "an approved campaign")

    app.config["MAX_CONTENT_LENGTH"] = 1024
    crawl.visit(f"/schemes/{scheme.id}/streets/import", "import streets")
    crawl.upload("CSV file of streets", "streets.csv", BAD_STREETS_CSV * 20)
    crawl.press("Check and import", "413: a file too large", status=413)
    crawl.visit("/account/logout", "405: a page asked for the wrong way", status=405)

    crawl.visit("/admin/", "403: a coordinator on an admin page", status=403)
    crawl.visit(f"/schemes/{other_scheme.id}", "404: another scheme's page", status=404)
    crawl.visit("/no-such-page", "404: no such page", status=404)
    crawl.assert_clean()
    assert len(crawl.checked) == 32


def test_admin_pages(page):
    crawl = Crawl(page)
    admin = make_admin(name="Alex Morgan")
    pat = make_user(name="Pat Okafor")
    invited = make_user(name="Ivy Invited", password=None)
    scheme = make_scheme("Hayes Lane Watch", [pat], ward="Hayes and Coney Hall", postcode_district="BR2")
    make_street(scheme, "Hayes Lane", postcode="BR2 9EA")
    make_scheme(HOSTILE, ward=HOSTILE)
    db.session.commit()
    _switch_to(page, admin)
    # Audit entries of several kinds, made through the pages themselves.
    page.goto(f"/admin/users/{invited.id}")
    page.get_by_role("button", name="Send the invitation again").click()

    crawl.visit("/admin/", "dashboard")
    crawl.visit("/admin/users", "coordinators")
    crawl.visit("/admin/users?status=invited", "coordinators: invited")
    crawl.visit(f"/admin/users/{pat.id}", "a coordinator")
    crawl.show_error("Add to the scheme", "a coordinator: no scheme chosen")
    crawl.visit(f"/admin/users/{invited.id}", "an invited coordinator")
    crawl.visit("/admin/users/invite", "invite a coordinator")
    crawl.show_error("Send the invitation", "invite: empty")
    crawl.visit("/admin/users/import", "import coordinators")
    crawl.show_error("Check and import", "import coordinators: no file")
    crawl.upload("CSV file", "coordinators.csv", BAD_COORDINATORS_CSV)
    crawl.press("Check and import", "import coordinators: report with bad rows")
    crawl.visit("/admin/schemes", "schemes")
    crawl.visit(f"/admin/schemes/{scheme.id}", "a scheme")
    crawl.show_error("Add the coordinator", "a scheme: add a coordinator, empty")
    crawl.visit("/admin/schemes/new", "new scheme")
    crawl.show_error("Create the scheme", "new scheme: empty")
    crawl.visit(f"/admin/schemes/{scheme.id}/edit", "change a scheme")
    page.get_by_label("Scheme name").fill("")
    crawl.show_error("Save the scheme", "change a scheme: empty name")
    crawl.visit("/admin/settings", "settings")
    page.get_by_label("Spare copies (%)").fill("-3")
    crawl.show_error("Save the settings", "settings: bad value")
    crawl.visit("/admin/audit", "audit log")
    crawl.visit("/admin/audit?date_from=yesterday", "audit log: bad date")
    crawl.assert_clean()
    assert len(crawl.checked) == 22


def test_content_pages(page):
    crawl = Crawl(page)
    author, reviewer = make_admin(name="Alex Author"), make_admin(name="Rae Reviewer")
    campaign = make_campaign(author, title="Lock it or lose it", hashtag="#LockItOrLoseIt")
    draft = drafting.edit_item(campaign.item, campaign_fields(title="Lock it, or lose it", summary="New words."), author)
    settle(draft, VersionState.SUBMITTED, submitter=author)
    helplines = [make_helpline(author, title="Victim Support"), make_helpline(author, title="Crimestoppers")]
    helpline_set = make_helpline_set(helplines, author, title="Borough helplines")
    new_helpline = make_helpline(author, state=VersionState.SUBMITTED, title="Age UK Advice Line")
    content.reverify_helpline(helplines[1].item, author, on=date(2020, 1, 6))  # long overdue for review
    hostile = make_campaign(author, state=VersionState.DRAFT, title=HOSTILE, summary=HOSTILE,
                            body="{{ 7*7 }} and 1 < 2")
    db.session.commit()
    _switch_to(page, reviewer)

    crawl.visit("/content/library", "content library")
    crawl.visit(f"/content/items/{campaign.item.id}", "a campaign with a submitted version")
    crawl.visit(f"/content/items/{hostile.item.id}", "a draft campaign of hostile text")
    crawl.visit(f"/content/items/{helplines[0].item.id}", "a helpline")
    crawl.visit(f"/content/items/{helpline_set.item.id}", "a helpline set")
    crawl.visit(f"/content/versions/{draft.id}/review", "review with a diff")
    crawl.show_error("Send decision", "review: no decision")
    crawl.visit(f"/content/versions/{new_helpline.id}/review", "review of a new helpline")
    crawl.visit("/content/new/campaign", "new campaign")
    crawl.show_error("Save draft", "new campaign: empty")
    crawl.visit("/content/new/helpline", "new helpline")
    page.get_by_label("Number", exact=True).fill("12345")
    crawl.show_error("Save draft", "new helpline: bad number")
    crawl.visit("/content/new/helpline_set", "new helpline set")
    crawl.show_error("Save draft", "new helpline set: empty")
    crawl.visit(f"/content/items/{hostile.item.id}/edit", "change a campaign")
    crawl.visit("/content/helplines/review", "helpline review")
    crawl.visit("/content/packs", "content packs")
    crawl.show_error("Check and import", "content packs: no file")
    crawl.upload("Content pack (JSON file)", "pack.json", b'{"format": "not a pack", "items": [{"kind": "<b>"}]}')
    crawl.press("Check and import", "content packs: a file that is not a pack")
    crawl.visit("/content/catalogue", "catalogue (admin)")
    crawl.assert_clean()
    assert len(crawl.checked) == 20


def test_public_pages(app, page):
    crawl = Crawl(page)
    app.config["SIGNUP_LIMIT_PER_ADDRESS"] = "3 per minute"  # the fourth sign-up in a minute meets the 429 page
    scheme = make_scheme("Hayes Lane Watch", [make_user()], slug="hayes-lane-watch")
    make_street(scheme, "Hayes Lane", postcode="BR2 9EA")
    make_street(scheme, "Bourne Way", postcode="BR2 7EY")
    subscribers.sign_up(scheme, "kim@example.net", "Kim")
    kim = subscribers.find_subscriber(scheme, "kim@example.net")
    db.session.commit()
    confirm = f"/join/confirm/{subscribers.make_confirmation_token(kim)}"
    unsubscribe = urlsplit(subscribers.unsubscribe_url(kim)).path

    crawl.visit("/join/hayes-lane-watch", "sign-up")
    crawl.show_error("Send me a link to confirm", "sign-up: empty")
    page.get_by_label("Email address").fill("not an address")
    page.get_by_label("Your name (optional)").fill(HOSTILE)
    crawl.show_error("Send me a link to confirm", "sign-up: bad address, consent not given")
    crawl.press("Send me a link to confirm", "sign-up: third try")
    crawl.press("Send me a link to confirm", "429: too many sign-ups from one address", status=429)
    crawl.visit("/join/hayes-lane-watch/check-your-email", "check your email")
    crawl.visit(confirm, "confirm")
    crawl.press("Yes, send me bulletins", "subscribed")
    assert page.url.endswith("/join/hayes-lane-watch/subscribed")
    crawl.visit(unsubscribe, "unsubscribe")
    crawl.press("Unsubscribe", "unsubscribed", status=200)
    crawl.visit(unsubscribe, "unsubscribe: already unsubscribed")
    crawl.visit("/join/confirm/forged-token", "confirm: link not valid", status=400)
    crawl.visit("/unsubscribe/forged-token", "unsubscribe: link not valid", status=400)
    crawl.visit("/join/no-such-scheme", "404: no such scheme", status=404)
    load_starter()
    hostile = make_campaign(title=f"Lock up {HOSTILE}", summary=HOSTILE, key_messages=[HOSTILE], call_to_action=HOSTILE)
    db.session.commit()
    crawl.visit("/campaigns/", "campaigns running now")
    with page.expect_navigation():
        page.get_by_role("link", name="Domestic abuse: You are not alone").click()
    assert page.url.endswith("/campaigns/you-are-not-alone")
    crawl.check("a campaign with its helplines")
    crawl.visit(f"/campaigns/{hostile.item.slug}", "a campaign with hostile text")
    crawl.visit("/campaigns/no-such-campaign", "404: campaign not running", status=404)
    crawl.assert_clean()
    assert len(crawl.checked) == 18


def test_leaflet_pages(page):
    crawl = Crawl(page)
    admin = load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park", streets=((20, 0), (12, 12)))
    record, _ = generate_leaflet(scheme, starter_choice(), coordinator)
    run = create_print_run(scheme, starter_choice(), [s.id for s in scheme.streets], coordinator)
    with jobs.held():  # orders whose jobs have not started: the pages show them as they stand
        waiting = create_print_order(starter_choice(), None, admin)
        running = create_print_order(starter_choice(), None, admin)
        running.state = PrintOrderState.RUNNING
        failed = create_print_order(starter_choice(), None, admin)
        failed.state, failed.error = PrintOrderState.FAILED, HOSTILE
        db.session.commit()
    _switch_to(page, coordinator)

    crawl.visit("/leaflets/", "leaflets")
    crawl.visit(f"/leaflets/schemes/{scheme.id}/new", "leaflet builder")
    page.get_by_label("Campaign", exact=True).select_option(label="Domestic abuse: You are not alone")
    page.get_by_label("Helpline set", exact=True).select_option(label="Domestic abuse (7 helplines)")
    with page.expect_navigation():
        page.locator("main form").get_by_role("button", name="Preview", exact=True).click()
    page.wait_for_load_state("load")  # the thumbnail and the framed preview included
    expect(page.get_by_role("heading", name="Preview: A5 flyer")).to_have_count(1)
    crawl.check("leaflet builder: with its preview")
    preview_alone = page.get_by_role("link", name="Open the preview on its own page").get_attribute("href")
    page.get_by_label("Wallet card", exact=False).check()
    page.get_by_label("Large print", exact=True).check()
    with page.expect_navigation():
        page.locator("main form").get_by_role("button", name="Preview", exact=True).click()
    expect(page.locator(".error-summary")).to_have_count(1)
    crawl.check("leaflet builder: large print on a wallet card")
    crawl.visit(preview_alone, "the leaflet's preview on its own page (the print template)")
    crawl.visit(f"/leaflets/{record.id}", "a leaflet")
    crawl.visit(f"/leaflets/schemes/{scheme.id}/print-runs/new", "new print run")
    crawl.press("Work out the copies", "new print run: the copies worked out")
    crawl.visit(f"/leaflets/print-runs/{run.id}", "a print run")

    _switch_to(page, admin)
    crawl.visit("/leaflets/print-orders", "print orders")
    crawl.visit(f"/leaflets/print-orders/{waiting.id}", "print order: waiting (updating itself)")
    crawl.visit(f"/leaflets/print-orders/{running.id}", "print order: running (updating itself)")
    crawl.visit(f"/leaflets/print-orders/{failed.id}", "print order: failed")
    crawl.visit("/leaflets/print-orders/new", "new print order")
    page.get_by_label("Only the schemes ticked below").check()
    crawl.show_error("Start the print order", "new print order: no scheme ticked")
    page.get_by_label("Every scheme").check()
    page.get_by_label("Campaign", exact=True).select_option(str(current(ContentKind.CAMPAIGN, "its-not-ok").id))
    crawl.press("Start the print order", "print order: done")  # jobs run at once in tests
    expect(page.get_by_role("link", name="Download the order (zip)")).to_have_count(1)
    crawl.assert_clean()
    assert len(crawl.checked) == 16


def _deliveries(bulletin, state: DeliveryState, count: int, last_error: str = "") -> None:
    """Move `count` of a bulletin's queued copies to `state`, as its sending job would."""
    ids = db.session.scalars(select(BulletinDelivery.id).where(
        BulletinDelivery.bulletin_id == bulletin.id, BulletinDelivery.state == DeliveryState.QUEUED,
    ).order_by(BulletinDelivery.id).limit(count)).all()
    db.session.execute(update(BulletinDelivery).where(BulletinDelivery.id.in_(ids))
                       .values(state=state, last_error=last_error))


def test_bulletin_pages(page, world):
    crawl = Crawl(page)
    coordinator, scheme = world.s.coordinator_a, world.s.scheme_a
    make_recipients(scheme, 3)
    settings = get_settings()
    # One bulletin in every state a coordinator meets.
    with jobs.held():  # none of these bulletins' sending jobs has started: the pages show them as they stand
        draft = make_bulletin(world, subject=f"Draft: {HOSTILE}", intro=HOSTILE)
        awaiting, changes_asked = make_bulletin(world, subject="Awaiting approval"), make_bulletin(world, subject="Fix")
        settings.is_bulletin_approval_required = True
        approval.queue_bulletin(awaiting, coordinator)
        approval.queue_bulletin(changes_asked, coordinator)
        approval.request_bulletin_changes(changes_asked, world.admin, f"Say which hall. {HOSTILE}")
        settings.is_bulletin_approval_required = False
        scheduled = make_bulletin(world, subject="Scheduled")
        approval.queue_bulletin(scheduled, coordinator, utcnow() + timedelta(days=1))
        ready = make_bulletin(world, subject="Ready to send")
        approval.queue_bulletin(ready, coordinator)  # approved; its sending job has not started yet
        sending, sent = make_bulletin(world, subject="Sending"), make_bulletin(world, subject="Sent")
        for bulletin in (sending, sent):
            approval.queue_bulletin(bulletin, coordinator)
            progress.start_sending(bulletin, "example.org")
        _deliveries(sending, DeliveryState.SENT, 1)
        _deliveries(sending, DeliveryState.DEFERRED, 1, last_error=f"451 4.7.1 greylisted {HOSTILE}")
        _deliveries(sent, DeliveryState.SENT, 2)
        _deliveries(sent, DeliveryState.FAILED, 1, last_error="550 no such mailbox")
        progress.finish_sending(sent)
        cancelled = make_bulletin(world, subject="Cancelled")
        approval.cancel_bulletin(cancelled, coordinator)
        db.session.commit()
    _switch_to(page, coordinator)

    base = f"/schemes/{scheme.id}/bulletins"
    crawl.visit(base, "bulletins")
    crawl.visit(f"{base}/new", "write a bulletin")
    crawl.show_error("Save and preview", "write a bulletin: empty")
    page.get_by_label("Subject").fill(HOSTILE)
    page.get_by_label("A few words from you (optional)").fill("x" * 700)
    crawl.show_error("Save and preview", "write a bulletin: introduction too long")
    crawl.visit(f"{base}/{draft.id}/edit", "change a draft")
    crawl.visit(f"{base}/{draft.id}", "bulletin: draft, with its previews")
    page.get_by_label("At a time I choose").check()
    page.get_by_label("Date and time (UK time)").fill("2001-01-01T09:00")
    crawl.show_error("Send", "bulletin: draft, a sending time gone by")
    crawl.visit(f"{base}/{changes_asked.id}", "bulletin: draft, changes asked for")
    crawl.visit(f"{base}/{awaiting.id}", "bulletin: awaiting approval")
    crawl.visit(f"{base}/{scheduled.id}", "bulletin: scheduled")
    crawl.visit(f"{base}/{ready.id}", "bulletin: ready to send (updating itself)")
    crawl.visit(f"{base}/{sending.id}", "bulletin: sending, some copies deferred (updating itself)")
    crawl.visit(f"{base}/{sent.id}", "bulletin: sent")
    crawl.visit(f"{base}/{cancelled.id}", "bulletin: cancelled")
    crawl.visit(f"{base}/{draft.id}/share", "text to share")
    crawl.visit(f"{base}/{draft.id}/email.html", "the email on its own page")

    _switch_to(page, world.admin)
    crawl.visit("/admin/bulletins", "admin: bulletins")
    crawl.visit("/admin/approvals", "admin: approval queue, a bulletin waiting")
    crawl.visit("/admin/reach", "admin: reach, a bulletin sent")
    crawl.visit(f"{base}/{awaiting.id}?from=queue", "admin: a bulletin to review")
    crawl.show_error("Send decision", "admin: review, no decision")
    crawl.visit("/admin/bulletins/all-schemes", "admin: a bulletin for every scheme")
    crawl.show_error("Make the bulletins", "admin: a bulletin for every scheme, empty")
    crawl.assert_clean()
    assert len(crawl.checked) == 23


# --- Tables on a 320-pixel phone ------------------------------------------------------------------------------------

PHONE = {"width": 320, "height": 640}
# Every table sits in a box that scrolls sideways (templates/_macros/tables.html); the box must take the keyboard
# focus and be a named region, and the page itself must never scroll sideways.
TABLE_BOXES = """() => ({
    pageFits: document.documentElement.scrollWidth <= window.innerWidth,
    tooWide: [...document.querySelectorAll('body *')]
        .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1 && !el.closest('.table-wrap'))
        .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : '')
             + ' ' + (el.textContent || '').trim().slice(0, 40))
        .slice(0, 5),
    tablesOutside: [...document.querySelectorAll('main table')].filter(t => !t.closest('.table-wrap')).length,
    boxes: [...document.querySelectorAll('main .table-wrap')].map(box => ({
        role: box.getAttribute('role'), name: box.getAttribute('aria-label'), tabindex: box.getAttribute('tabindex'),
        scrolls: box.scrollWidth > box.clientWidth,
    })),
})"""


class PhoneCrawl(Crawl):
    """The crawl at 320 pixels, which also checks each page's table boxes and counts those that scroll."""

    def __init__(self, page) -> None:
        super().__init__(page)
        page.set_viewport_size(PHONE)
        self.boxes = 0
        self.scrolling: list[str] = []

    def check(self, label: str) -> None:
        super().check(label)
        found = self.page.evaluate(TABLE_BOXES)
        assert found["pageFits"], f"{label}: the page scrolls sideways at 320 px: {found['tooWide']}"
        assert found["tablesOutside"] == 0, f"{label}: a table outside a scrolling box"
        for box in found["boxes"]:
            assert (box["role"], box["tabindex"]) == ("region", "0") and box["name"], f"{label}: {box}"
            self.boxes += 1
            if box["scrolls"]:
                self.scrolling.append(f"{label}: {box['name']}")


def test_pages_with_tables_on_a_320_pixel_phone(page):
    crawl = PhoneCrawl(page)
    admin = load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park", streets=((20, 0), (12, 12), (8, 1)))
    generate_leaflet(scheme, starter_choice(), coordinator)
    run = create_print_run(scheme, starter_choice(), [s.id for s in scheme.streets], coordinator)
    rounds.split_into_rounds(run, 2, coordinator)
    order = create_print_order(starter_choice(), None, admin)  # jobs run at once in tests
    subscribers.sign_up(scheme, "kim@example.net", HOSTILE)
    make_notice(scheme, coordinator, state=VersionState.APPROVED, title="Residents' meeting")
    db.session.commit()
    _switch_to(page, coordinator)

    crawl.visit("/leaflets/", "leaflets")
    crawl.visit(f"/leaflets/print-runs/{run.id}", "a print run")
    crawl.visit(f"/leaflets/print-runs/{run.id}/rounds", "delivery rounds, a dropdown for each street")
    for dropdown in page.locator("main table select").all():
        box = dropdown.bounding_box()
        # Wide enough to read its round ("Round 1") and at least the 24 pixels of a target (WCAG 2.5.8).
        assert box["width"] >= 90 and box["height"] >= 24, box
    page.locator("main table select").first.select_option(label="Round 2")
    crawl.press("Save the rounds", "delivery rounds: a street moved")
    crawl.visit(f"/leaflets/schemes/{scheme.id}/print-runs/new", "new print run")
    crawl.press("Work out the copies", "new print run: the copies worked out")
    crawl.visit(f"/schemes/{scheme.id}", "scheme page")
    crawl.visit(f"/schemes/{scheme.id}/streets/import", "import streets")
    crawl.visit(f"/schemes/{scheme.id}/subscribers", "subscribers")
    crawl.visit(f"/schemes/{scheme.id}/subscribers/import", "import subscribers")
    crawl.visit(f"/content/schemes/{scheme.id}/notices", "local notices")

    _switch_to(page, admin)
    crawl.visit("/admin/", "dashboard")
    crawl.visit("/admin/users", "coordinators")
    crawl.visit(f"/admin/users/{coordinator.id}", "a coordinator")
    crawl.visit("/admin/schemes", "schemes")
    crawl.visit(f"/admin/schemes/{scheme.id}", "a scheme")
    crawl.visit("/admin/schemes/import", "import schemes")
    crawl.visit("/admin/users/import", "import coordinators")
    crawl.upload("CSV file", "coordinators.csv", BAD_COORDINATORS_CSV)
    crawl.press("Check and import", "import coordinators: report with bad rows")
    crawl.visit("/admin/audit", "audit log")
    crawl.visit("/admin/settings", "settings")
    crawl.visit("/admin/reach", "reach")
    crawl.visit("/admin/data-requests", "data requests")
    page.get_by_label("Email address").fill("kim@example.net")
    crawl.press("Find this address", "data requests: an address found")
    crawl.visit("/leaflets/print-orders", "print orders")
    crawl.visit(f"/leaflets/print-orders/{order.id}", "a print order")
    crawl.visit("/content/library", "content library")
    crawl.visit(f"/content/items/{current(ContentKind.CAMPAIGN, 'its-not-ok').item_id}", "a campaign")
    crawl.visit("/content/helplines/review", "helpline review")
    crawl.assert_clean()
    assert len(crawl.checked) == 29
    assert crawl.boxes >= 30
    # The boxes are there for the tables that do not fit: the rounds' streets and the reach report's among them.
    assert "delivery rounds, a dropdown for each street: Streets and their rounds" in crawl.scrolling
    assert "reach: Each ward" in crawl.scrolling


def test_bulletin_pages_with_tables_on_a_320_pixel_phone(page, world):
    crawl = PhoneCrawl(page)
    coordinator, scheme = world.s.coordinator_a, world.s.scheme_a
    make_recipients(scheme, 3)
    with jobs.held():
        sent = make_bulletin(world, subject="Sent")
        approval.queue_bulletin(sent, coordinator)
        progress.start_sending(sent, "example.org")
        _deliveries(sent, DeliveryState.SENT, 2)
        _deliveries(sent, DeliveryState.FAILED, 1, last_error="550 no such mailbox")
        progress.finish_sending(sent)
        draft = make_bulletin(world, subject="Draft")
        db.session.commit()
    _switch_to(page, coordinator)

    base = f"/schemes/{scheme.id}/bulletins"
    crawl.visit(base, "bulletins")
    crawl.visit(f"{base}/{sent.id}", "bulletin: sent")
    crawl.visit(f"{base}/{draft.id}", "bulletin: draft, with its previews")
    _switch_to(page, world.admin)
    crawl.visit("/admin/bulletins", "admin: bulletins")
    crawl.assert_clean()
    assert len(crawl.checked) == 4
    # The computer's preview is wider than a phone: its box scrolls and the keyboard can reach it.
    assert "bulletin: draft, with its previews: The bulletin as a computer shows it" in crawl.scrolling
