"""The coordinator's bulletin pages and the admin's, through the browser's eyes."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import func, select, update

from coordinator import jobs
from coordinator.audit.models import AuditEntry
from coordinator.bulletins import approval, batches, progress
from coordinator.bulletins.models import Bulletin, BulletinDelivery, BulletinState, DeliveryState
from coordinator.dates import LOCAL_TIME
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.settings import get_settings
from tests.bulletins.helpers import body, compose_values, fast_sending
from tests.factories import make_bulletin, make_recipients
from tests.helpers.hostile import HOSTILE_TEXTS
from tests.helpers.web import login_as, outbox_messages, post_form

B = BulletinState


def page_of(bulletin) -> str:
    return f"/schemes/{bulletin.scheme_id}/bulletins/{bulletin.id}"


def only_bulletin() -> Bulletin:
    db.session.expire_all()
    [bulletin] = db.session.scalars(select(Bulletin)).all()
    return bulletin


def test_the_compose_page_offers_only_what_this_scheme_may_send(client, world):
    s = world.s
    login_as(client, s.coordinator_a)
    page = client.get(f"/schemes/{s.scheme_a.id}/bulletins/new").get_data(as_text=True)
    assert "Write a bulletin for Hayes Lane Watch" in page
    assert f'value="{world.campaign.id}"' in page and "Doorstep scams" in page
    assert "Victims and witnesses (2 helplines)" in page
    assert "Residents&#39; meeting" in page
    assert "Hayes Lane" in page and "Confidential Crescent" not in page
    assert "No mail server is set up" in page and "instance/outbox/" in page
    assert 'novalidate' in page and 'name="csrf_token"' in page


@pytest.mark.parametrize("path", ["", "/new"])
def test_another_schemes_bulletin_pages_are_404(client, world, path):
    s = world.s
    login_as(client, s.coordinator_b)
    assert client.get(f"/schemes/{s.scheme_a.id}/bulletins{path}").status_code == 404


def test_another_schemes_bulletin_is_404_on_every_page_and_action(client, world):
    s = world.s
    bulletin = make_bulletin(world)
    login_as(client, s.coordinator_b)
    base = page_of(bulletin)
    for suffix in ("", "/edit", "/email.html", "/bulletin.eml", "/bulletin.html", "/bulletin.txt", "/share"):
        assert client.get(base + suffix).status_code == 404, suffix
    own = f"/schemes/{s.scheme_b.id}/bulletins/new"
    for suffix in ("/test", "/send", "/cancel", "/withdraw", "/review"):
        assert post_form(client, base + suffix, {"when": "now"}, page=own).status_code == 404, suffix
    # Scheme B's own address with scheme A's bulletin: still nothing.
    assert client.get(f"/schemes/{s.scheme_b.id}/bulletins/{bulletin.id}").status_code == 404
    db.session.refresh(bulletin)
    assert bulletin.state == B.DRAFT


def test_a_form_with_problems_keeps_everything_typed(client, world):
    s = world.s
    login_as(client, s.coordinator_a)
    url = f"/schemes/{s.scheme_a.id}/bulletins/new"
    response = post_form(client, url, compose_values(
        world, subject="Line one\r\nBcc: x@example.org", intro="My <b>own</b> words, kept.",
        audience="streets", streets=[],
    ))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert "The subject must be one line" in page
    assert "Choose at least one street" in page
    assert "My &lt;b&gt;own&lt;/b&gt; words, kept." in page
    assert re.search(rf'value="{world.campaign.id}"[^>]*checked|checked[^>]*value="{world.campaign.id}"', page)
    assert re.search(rf'value="{world.notice.id}"[^>]*checked|checked[^>]*value="{world.notice.id}"', page)
    assert re.search(r'value="streets"[^>]*checked|checked[^>]*value="streets"', page)
    assert db.session.scalar(select(func.count()).select_from(Bulletin)) == 0


def test_junk_ids_in_the_form_are_refused_without_an_error_page(client, world):
    s = world.s
    login_as(client, s.coordinator_a)
    response = post_form(client, f"/schemes/{s.scheme_a.id}/bulletins/new", compose_values(
        world, campaigns=["abc", "99999999999999"], helpline_set="'; drop table bulletins; --",
        notices=["-1"], audience="streets", streets=[str(s.street_b.id)],
    ))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for message in ("Choose at least one campaign", "Choose a helpline set", "Choose streets from the list"):
        assert message in page


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS)
def test_hostile_text_shows_literally_on_the_pages(client, world, hostile):
    s = world.s
    login_as(client, s.coordinator_a)
    response = post_form(client, f"/schemes/{s.scheme_a.id}/bulletins/new",
                         compose_values(world, subject=f"Subject {hostile}", intro=f"Intro {hostile}"))
    assert response.status_code == 302
    bulletin = only_bulletin()
    for path in ("", "/email.html", "/share"):
        page = client.get(page_of(bulletin) + path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page
        assert "<img src=x onerror" not in page
        if hostile == "{{ 7*7 }}":
            # Shown as typed, never run as a template (the short text to share carries the subject, not the intro).
            assert ("Subject {{ 7*7 }}" if path == "/share" else "Intro {{ 7*7 }}") in page
    listing = client.get(f"/schemes/{s.scheme_a.id}/bulletins").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in listing


def test_saving_leads_to_the_preview_at_two_widths_and_the_plain_text(client, world):
    s = world.s
    login_as(client, s.coordinator_a)
    response = post_form(client, f"/schemes/{s.scheme_a.id}/bulletins/new", compose_values(world))
    bulletin = only_bulletin()
    assert response.status_code == 302 and response.headers["Location"].endswith(page_of(bulletin))
    page = client.get(page_of(bulletin)).get_data(as_text=True)
    frames = re.findall(r"<iframe [^>]*>", page)
    assert len(frames) == 2
    assert all(f'src="{page_of(bulletin)}/email.html"' in f and "sandbox" in f and "title=" in f for f in frames)
    assert 'width="640"' in frames[0] and 'width="320"' in frames[1]
    assert "Hello,\n\nHello from your coordinators." in page  # the plain-text part, shown as it is
    assert "0808 168 9111" in page
    assert "data-progress-live" not in page and "progress.js" not in page  # nothing is being sent
    assert "Each campaign appears short: its summary, up to three key messages" in " ".join(page.split())

    preview = client.get(f"{page_of(bulletin)}/email.html")
    assert preview.status_code == 200 and preview.mimetype == "text/html"
    csp = preview.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in csp and "script-src" not in csp and "default-src 'none'" in csp
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert 'name="color-scheme"' in preview.get_data(as_text=True)
    # Every other page still refuses to be framed.
    assert client.get(page_of(bulletin)).headers["X-Frame-Options"] == "DENY"


def test_editing_shows_the_saved_choices_and_only_drafts_can_be_edited(client, world):
    s = world.s
    bulletin = make_bulletin(world, is_whole_scheme=False, street_ids=[s.street_a.id])
    login_as(client, s.coordinator_a)
    page = client.get(f"{page_of(bulletin)}/edit").get_data(as_text=True)
    assert 'value="Doorstep scams: what to do"' in page
    assert re.search(rf'value="{s.street_a.id}"[^>]*checked|checked[^>]*value="{s.street_a.id}"', page)
    response = post_form(client, f"{page_of(bulletin)}/edit", compose_values(world, subject="Changed"))
    assert response.status_code == 302
    db.session.refresh(bulletin)
    assert bulletin.subject == "Changed" and bulletin.is_whole_scheme

    approval.queue_bulletin(bulletin, s.coordinator_a, utcnow() + timedelta(days=1))
    db.session.commit()
    response = client.get(f"{page_of(bulletin)}/edit")
    assert response.status_code == 302 and response.headers["Location"].endswith(page_of(bulletin))


def test_send_now_sends_and_the_page_shows_the_progress(client, world, smtp_server):
    fast_sending()
    make_recipients(world.s.scheme_a, 5)
    bulletin = make_bulletin(world)
    login_as(client, world.s.coordinator_a)
    page = client.get(page_of(bulletin)).get_data(as_text=True)
    assert "5 confirmed subscribers now" in page and ">Send</button>" in page
    response = post_form(client, f"{page_of(bulletin)}/send", {"when": "now"}, page=page_of(bulletin))
    assert response.status_code == 302
    assert smtp_server.count() == 5  # jobs run at once in tests
    page = client.get(page_of(bulletin)).get_data(as_text=True)
    assert "Sending has started." in page
    assert "Sent 5 of 5" in page and '<progress id="progress" max="5" value="5">' in page
    assert "No mail server is set up" not in page
    assert "data-progress-live" not in page and "Refresh progress" not in page  # finished: nothing to update
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "bulletins.queued", AuditEntry.object_id == str(bulletin.id))) == 1


def test_the_progress_updates_in_place_while_the_bulletin_is_going(client, world):
    make_recipients(world.s.scheme_a, 4)
    bulletin = make_bulletin(world)
    with jobs.held():  # a bulletin part way through: the test moves its rows by hand
        approval.queue_bulletin(bulletin, world.s.coordinator_a)
        progress.start_sending(bulletin, "example.org")
        db.session.commit()
    row_ids = list(db.session.scalars(select(BulletinDelivery.id).order_by(BulletinDelivery.id)))
    db.session.execute(update(BulletinDelivery).where(BulletinDelivery.id == row_ids[0])
                       .values(state=DeliveryState.SENT))
    db.session.execute(update(BulletinDelivery).where(BulletinDelivery.id == row_ids[1])
                       .values(state=DeliveryState.FAILED, last_error="550 no"))
    db.session.execute(update(BulletinDelivery).where(BulletinDelivery.id == row_ids[2])
                       .values(state=DeliveryState.DEFERRED, last_error="451 4.7.1 <script>greylisted</script>"))
    db.session.commit()
    login_as(client, world.s.coordinator_a)
    page = client.get(page_of(bulletin)).get_data(as_text=True)
    # No reload of the whole page (axe-core's meta-refresh, WCAG 2.2.1): a script updates the region in place, and
    # without JavaScript a link to the same page shows the latest figures.
    assert 'http-equiv="refresh"' not in page
    assert '<script src="/static/progress.js" defer></script>' in page.split("<main", 1)[0]
    assert re.search(r'<div data-progress data-progress-live data-progress-seconds="5"\s+'
                     rf'data-progress-url="{page_of(bulletin)}">', page)
    assert f'href="{page_of(bulletin)}">Refresh progress</a>' in page
    # The previews are not in the region: they are not fetched again with every update.
    region = page.split("<div data-progress", 1)[1].split("<h2>How it looks</h2>", 1)[0]
    assert "<iframe" not in region and "data-progress-summary>Sent 1 of 4</label>" in region
    assert "Sent 1 of 4" in page
    assert re.search(r"Failed \(the mail server refused it\)</th><td class=\"num\">1<", page)
    assert re.search(r"Waiting to go</th><td class=\"num\">2<", page)
    assert "Stop sending" in page
    assert "451 4.7.1 &lt;script&gt;greylisted&lt;/script&gt;" in page  # the server's words, shown as text


def test_send_at_a_time_keeps_a_wrong_time_on_the_page(client, world):
    bulletin = make_bulletin(world)
    login_as(client, world.s.coordinator_a)
    url = f"{page_of(bulletin)}/send"
    page = post_form(client, url, {"when": "later", "send_at": "next tuesday"}, page=page_of(bulletin))
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "There is a problem" in text
    assert 'value="next tuesday"' in text
    page = post_form(client, url, {"when": "later", "send_at": "2001-01-01T09:00"}, page=page_of(bulletin))
    assert "Choose a time that is still to come" in page.get_data(as_text=True)
    assert 'value="2001-01-01T09:00"' in page.get_data(as_text=True)
    page = post_form(client, url, {"when": "later", "send_at": ""}, page=page_of(bulletin))
    assert "Enter the date and time to send it" in page.get_data(as_text=True)
    db.session.refresh(bulletin)
    assert bulletin.state == B.DRAFT

    future = (utcnow() + timedelta(days=3)).astimezone(LOCAL_TIME)
    response = post_form(client, url, {"when": "later", "send_at": future.strftime("%Y-%m-%dT%H:%M")},
                         page=page_of(bulletin))
    assert response.status_code == 302
    db.session.refresh(bulletin)
    assert bulletin.state == B.SCHEDULED
    page = client.get(page_of(bulletin)).get_data(as_text=True)
    assert f"It goes at {approval.local_time_text(bulletin.send_at)}" in page


def test_a_test_goes_to_the_coordinator_only(client, world, smtp_server):
    fast_sending()
    make_recipients(world.s.scheme_a, 3)
    bulletin = make_bulletin(world)
    login_as(client, world.s.coordinator_a)
    response = post_form(client, f"{page_of(bulletin)}/test", {}, page=page_of(bulletin))
    assert response.status_code == 302
    assert list(smtp_server.per_recipient()) == ["pat.okafor@example.org"]
    [message] = smtp_server.messages()
    assert message["Subject"] == "[Test] Doorstep scams: what to do"
    assert "Hello Pat Okafor," in body(message, "plain")
    assert message["From"].addresses[0].display_name == "Hayes Lane Watch via Bromley Neighbourhood Watch Association"
    db.session.refresh(bulletin)
    assert bulletin.state == B.DRAFT  # a test changes nothing
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "bulletins.test_sent")) == 1
    page = client.get(page_of(bulletin)).get_data(as_text=True)
    assert "A test copy is on its way to pat.okafor@example.org" in page


def test_without_a_mail_server_the_test_goes_to_the_outbox_folder(app, client, world):
    bulletin = make_bulletin(world)
    login_as(client, world.s.coordinator_a)
    post_form(client, f"{page_of(bulletin)}/test", {}, page=page_of(bulletin))
    tests = [m for m in outbox_messages(app) if str(m["Subject"]).startswith("[Test]")]
    assert [m["To"].addresses[0].addr_spec for m in tests] == ["pat.okafor@example.org"]
    assert "written to instance/outbox/" in client.get(page_of(bulletin)).get_data(as_text=True)


def test_with_approval_required_the_coordinator_submits_and_an_admin_approves(app, client, world, smtp_server):
    fast_sending()
    settings = get_settings()
    settings.is_bulletin_approval_required = True
    db.session.commit()
    make_recipients(world.s.scheme_a, 2)
    bulletin = make_bulletin(world)
    login_as(client, world.s.coordinator_a)
    page = client.get(page_of(bulletin)).get_data(as_text=True)
    assert "Submit for approval" in page
    post_form(client, f"{page_of(bulletin)}/send", {"when": "now"}, page=page_of(bulletin))
    db.session.refresh(bulletin)
    assert bulletin.state == B.AWAITING_APPROVAL and smtp_server.count() == 0
    page = client.get(page_of(bulletin)).get_data(as_text=True)
    assert "Your decision" not in page  # coordinators cannot approve
    response = post_form(client, f"{page_of(bulletin)}/review", {"decision": "approve"}, page=page_of(bulletin))
    assert response.status_code == 403
    assert client.get("/admin/bulletins").status_code == 403

    admin = app.test_client()
    login_as(admin, world.admin)
    listing = admin.get("/admin/bulletins").get_data(as_text=True)
    assert "Doorstep scams: what to do" in listing and "Hayes Lane Watch" in listing
    assert "Your decision" in admin.get(page_of(bulletin)).get_data(as_text=True)
    response = post_form(admin, f"{page_of(bulletin)}/review", {"decision": "approve"}, page=page_of(bulletin))
    assert response.status_code == 302
    db.session.refresh(bulletin)
    assert bulletin.state == B.SENT and bulletin.approved_by == world.admin
    assert smtp_server.count() == 2


def test_an_admin_asking_for_changes_must_say_why(client, world):
    settings = get_settings()
    settings.is_bulletin_approval_required = True
    db.session.commit()
    bulletin = make_bulletin(world)
    approval.queue_bulletin(bulletin, world.s.coordinator_a)
    db.session.commit()
    login_as(client, world.admin)
    page = post_form(client, f"{page_of(bulletin)}/review", {"decision": "request_changes", "reason": ""},
                     page=page_of(bulletin))
    assert page.status_code == 200 and "Say what needs to change" in page.get_data(as_text=True)
    post_form(client, f"{page_of(bulletin)}/review", {"decision": "request_changes", "reason": "Add the date <b>"},
              page=page_of(bulletin))
    db.session.refresh(bulletin)
    assert bulletin.state == B.DRAFT
    page = client.get(page_of(bulletin)).get_data(as_text=True)
    assert "An admin asked for changes" in page and "Add the date &lt;b&gt;" in page


def test_cancel_a_draft_from_its_page(client, world):
    bulletin = make_bulletin(world)
    login_as(client, world.s.coordinator_a)
    post_form(client, f"{page_of(bulletin)}/cancel", {}, page=page_of(bulletin))
    db.session.refresh(bulletin)
    assert bulletin.state == B.CANCELLED
    response = post_form(client, f"{page_of(bulletin)}/cancel", {}, page=page_of(bulletin))
    assert response.status_code == 302  # a second press explains, it does not fail
    assert "cannot be cancelled" in client.get(page_of(bulletin)).get_data(as_text=True)


def test_downloads_and_the_text_to_share_carry_no_personal_data(client, world):
    make_recipients(world.s.scheme_a, 2)
    bulletin = make_bulletin(world)
    login_as(client, world.s.coordinator_a)
    eml = client.get(f"{page_of(bulletin)}/bulletin.eml")
    assert eml.status_code == 200 and eml.mimetype == "message/rfc822"
    assert 'attachment; filename="hayes-lane-watch-bulletin-' in eml.headers["Content-Disposition"]
    message = email.message_from_bytes(eml.data, policy=policy.default)
    assert message["Subject"] == "Doorstep scams: what to do" and message["List-Unsubscribe"] is None
    html = client.get(f"{page_of(bulletin)}/bulletin.html")
    assert html.mimetype == "text/html" and "attachment" in html.headers["Content-Disposition"]
    text = client.get(f"{page_of(bulletin)}/bulletin.txt")
    assert text.mimetype == "text/plain"
    share = client.get(f"{page_of(bulletin)}/share").get_data(as_text=True)
    for content in (eml.data.decode(), html.get_data(as_text=True), text.get_data(as_text=True), share):
        assert "resident0@example.net" not in content and "Resident 0" not in content
        assert "/unsubscribe/" not in content
    assert "0808 168 9111" in text.get_data(as_text=True) and "/join/hayes-lane-watch" in share
    assert '<textarea class="input" id="share-text" rows="14" readonly>' in share


def test_an_eml_that_cannot_be_made_says_what_to_correct_instead_of_failing(client, world):
    world.s.scheme_a.contact_email = "hayes.watch@"  # stored before the contact form checked it
    bulletin = make_bulletin(world)
    login_as(client, world.s.coordinator_a)
    response = client.get(f"{page_of(bulletin)}/bulletin.eml")
    assert response.status_code == 302 and response.headers["Location"] == page_of(bulletin)
    page = client.get(page_of(bulletin)).get_data(as_text=True)
    assert "The .eml file cannot be made" in page and "correct it on the scheme&#39;s page" in page
    assert "hayes.watch@" in page
    # The other downloads carry no headers and still work.
    assert client.get(f"{page_of(bulletin)}/bulletin.html").status_code == 200


def test_the_all_schemes_page_is_for_admins_and_makes_a_bulletin_per_scheme(app, client, world, smtp_server):
    fast_sending()
    s = world.s
    make_recipients(s.scheme_a, 2, prefix="a")
    make_recipients(s.scheme_b, 2, prefix="b")
    login_as(client, s.coordinator_a)
    assert client.get("/admin/bulletins/all-schemes").status_code == 403
    client = app.test_client()
    login_as(client, world.admin)
    page = client.get("/admin/bulletins/all-schemes").get_data(as_text=True)
    assert world.campaign.item.slug in page and world.helpline_set.item.slug in page
    response = post_form(client, "/admin/bulletins/all-schemes", {
        "schemes": "all", "campaigns": [world.campaign.item.slug], "helpline_set": world.helpline_set.item.slug,
        "subject": "Scams this autumn", "intro": "",
    })
    assert response.status_code == 302
    bulletins = db.session.scalars(select(Bulletin).order_by(Bulletin.scheme_id)).all()
    assert [b.scheme_id for b in bulletins] == [s.scheme_a.id, s.scheme_b.id]
    assert all(b.state == B.SENT for b in bulletins)
    froms = {m["From"].addresses[0].display_name for m in smtp_server.messages()}
    assert froms == {"Hayes Lane Watch via Bromley Neighbourhood Watch Association",
                     "Secret Close Watch via Bromley Neighbourhood Watch Association"}
    # Each resident got their own scheme's version.
    for message in smtp_server.messages():
        scheme = "Hayes Lane Watch" if message["To"].addresses[0].addr_spec.startswith("a") else "Secret Close Watch"
        assert message["From"].addresses[0].display_name.startswith(scheme)


def test_the_all_schemes_page_names_its_problems(client, world):
    login_as(client, world.admin)
    page = post_form(client, "/admin/bulletins/all-schemes", {
        "schemes": "one", "scheme": "", "campaigns": [], "helpline_set": "", "subject": "",
    }).get_data(as_text=True)
    assert "Choose the scheme to send to" in page


def test_a_batch_awaiting_approval_is_approved_at_once(client, world, smtp_server):
    fast_sending()
    settings = get_settings()
    settings.is_bulletin_approval_required = True
    db.session.commit()
    s = world.s
    make_recipients(s.scheme_a, 1, prefix="a")
    make_recipients(s.scheme_b, 1, prefix="b")
    report = batches.send_campaign_to_schemes(
        [s.scheme_a, s.scheme_b], [world.campaign.item.slug], world.helpline_set.item.slug, "Scams", "", None,
    )
    db.session.commit()
    login_as(client, world.admin)
    page = client.get("/admin/bulletins").get_data(as_text=True)
    assert "Approve all 2 of them" in page
    post_form(client, f"/admin/bulletins/batches/{report.batch}/approve", {}, page="/admin/bulletins")
    assert smtp_server.count() == 2


def test_the_subscribers_page_links_to_the_bulletins(client, world):
    login_as(client, world.s.coordinator_a)
    page = client.get(f"/schemes/{world.s.scheme_a.id}/subscribers").get_data(as_text=True)
    assert f'href="/schemes/{world.s.scheme_a.id}/bulletins"' in page


def test_a_review_opened_from_the_approval_queue_goes_back_to_it(client, world):
    settings = get_settings()
    settings.is_bulletin_approval_required = True
    db.session.commit()
    bulletin = make_bulletin(world)
    approval.queue_bulletin(bulletin, world.s.coordinator_a)
    db.session.commit()
    login_as(client, world.admin)
    page = client.get(f"{page_of(bulletin)}?from=queue").get_data(as_text=True)
    assert f'action="{page_of(bulletin)}/review?from=queue"' in page
    response = post_form(client, f"{page_of(bulletin)}/review?from=queue", {"decision": "approve"},
                         page=f"{page_of(bulletin)}?from=queue")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/approvals")
