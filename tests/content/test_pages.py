"""The content pages: library, forms, review, catalogue, local notices, helpline review, packs."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from coordinator.admin.dashboard import content_summary
from coordinator.content import approval
from coordinator.content import services as content
from coordinator.content.models import ContentItem, ContentKind, ContentVersion, VersionState
from coordinator.content.starter import STARTER_PACK
from coordinator.extensions import db
from tests.content.helpers import campaign_form
from tests.factories import (
    make_admin,
    make_campaign,
    make_helpline,
    make_helpline_set,
    make_notice,
    make_scheme,
    make_user,
)
from tests.helpers.web import login_as, outbox_messages, post_form

S = VersionState
HOSTILE = '<script>alert(1)</script> {{ 7*7 }} "><img src=x onerror=alert(1)>'
HOSTILE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }} &#34;&gt;&lt;img src=x onerror=alert(1)&gt;"


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


@pytest.fixture
def admins(client):
    first, second = make_admin(name="Alex Admin"), make_admin(name="Bea Admin")
    db.session.commit()
    return first, second


# --- Who may see what ---------------------------------------------------------------------------


ADMIN_PAGES = ["/content/library", "/content/new/campaign", "/content/new/helpline", "/content/new/helpline_set",
               "/content/helplines/review", "/content/packs", "/content/packs/export.json"]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_a_coordinator_on_an_admin_page_gets_403(client, url):
    coordinator = make_user()
    db.session.commit()
    login_as(client, coordinator)
    assert client.get(url).status_code == 403


def test_logged_out_people_are_sent_to_log_in(client):
    for url in ["/content/catalogue", "/content/library", "/content/items/1"]:
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_a_coordinator_cannot_approve_or_edit_association_content(client):
    version = make_campaign(state=S.SUBMITTED)
    approved = make_campaign(state=S.APPROVED)
    coordinator = make_user()
    db.session.commit()
    login_as(client, coordinator)
    assert client.get(f"/content/versions/{version.id}/review").status_code == 403
    assert client.get(f"/content/items/{approved.item_id}/edit").status_code == 403
    token_page = "/content/catalogue"
    assert post_form(client, f"/content/items/{approved.item_id}/retire", page=token_page).status_code == 403
    # A campaign still in review is not even visible to coordinators.
    assert client.get(f"/content/items/{version.item_id}").status_code == 404
    db.session.refresh(version)
    assert version.state == S.SUBMITTED and approved.item.current_version is not None


# --- Drafting, review and approval through the pages -----------------------------------------------


def test_admin_drafts_submits_and_another_admin_approves(client, app, admins):
    author, reviewer = admins
    login_as(client, author)
    response = post_form(client, "/content/new/campaign", campaign_form())
    assert response.status_code == 302
    item = db.session.scalars(select(ContentItem)).one()
    version = item.latest_version
    assert version.state == S.DRAFT and version.key_messages == ["Mark your bike", "Register it online"]
    assert version.audience_tags == ["cyclists", "families"]
    item_page = page(client, f"/content/items/{item.id}")
    assert "Submit version 1 for approval" in item_page
    assert post_form(client, f"/content/versions/{version.id}/submit", page=f"/content/items/{item.id}").status_code \
        == 302
    # The author cannot approve their own submission while Bea is active.
    review_url = f"/content/versions/{version.id}/review"
    refused = post_form(client, review_url, {"decision": "approve"})
    assert refused.status_code == 200 and "another admin must approve" in refused.get_data(as_text=True)
    db.session.refresh(version)
    assert version.state == S.SUBMITTED

    client.post("/account/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page(
        client, "/content/library")).group(1)})
    login_as(client, reviewer)
    assert post_form(client, review_url, {"decision": "approve"}).status_code == 302
    db.session.refresh(version)
    assert version.state == S.APPROVED and version.approved_by_id == reviewer.id
    [message] = outbox_messages(app)
    assert message["To"].addresses[0].addr_spec == author.email
    assert "Bike marking day" in page(client, "/content/catalogue")


def test_asking_for_changes_needs_a_reason_and_emails_it(client, app, admins):
    author, reviewer = admins
    version = make_campaign(author, S.SUBMITTED, title="Lock up")
    db.session.commit()
    login_as(client, reviewer)
    url = f"/content/versions/{version.id}/review"
    missing = post_form(client, url, {"decision": "request_changes", "reason": ""})
    assert "Say what needs to change" in missing.get_data(as_text=True)
    assert post_form(client, url, {"decision": "request_changes", "reason": "Add the date"}).status_code == 302
    db.session.refresh(version)
    assert version.state == S.CHANGES_REQUESTED
    [message] = outbox_messages(app)
    assert "Add the date" in message.get_body(("plain",)).get_content()


def test_editing_an_approved_campaign_starts_a_draft_and_review_marks_the_differences(client, admins):
    author, reviewer = admins
    approved = make_campaign(author, S.APPROVED, approver=reviewer, title="Lock up", summary="Lock your doors at night.")
    db.session.commit()
    login_as(client, author)
    edit_page = page(client, f"/content/items/{approved.item_id}/edit")
    assert "Saving starts a new draft version" in edit_page and "Lock your doors at night." in edit_page
    response = post_form(client, f"/content/items/{approved.item_id}/edit",
                         campaign_form(title="Lock up", summary="Lock your windows at night."))
    assert response.status_code == 302
    db.session.expire_all()
    item = db.session.get(ContentItem, approved.item_id)
    draft = item.open_version
    assert (draft.number, draft.state, draft.summary) == (2, S.DRAFT, "Lock your windows at night.")
    assert item.current_version.summary == "Lock your doors at night."
    approval.submit_version(draft, author)
    db.session.commit()
    client.post("/account/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page(
        client, "/content/library")).group(1)})
    login_as(client, reviewer)
    review = page(client, f"/content/versions/{draft.id}/review")
    assert re.search(r"<del><span class=\"visually-hidden\">\[removed: </span>doors", review)
    assert re.search(r"<ins><span class=\"visually-hidden\">\[added: </span>windows", review)
    assert "Version 2 beside approved version 1" in review


def test_hostile_text_shows_literally_on_every_content_page(client, admins):
    author, reviewer = admins
    approved = make_campaign(author, S.APPROVED, approver=reviewer, title=HOSTILE, summary=HOSTILE,
                             key_messages=["{{ 7*7 }}"])
    waiting = make_campaign(author, S.SUBMITTED, title=HOSTILE + " 2")
    helpline = make_helpline(author, approver=reviewer, title=HOSTILE, who_for=HOSTILE)
    make_helpline_set([helpline], author, title=HOSTILE)
    db.session.commit()
    login_as(client, reviewer)
    urls = ["/content/library", f"/content/items/{approved.item_id}", f"/content/versions/{waiting.id}/review",
            "/content/catalogue", f"/content/items/{helpline.item_id}", "/content/helplines/review"]
    for url in urls:
        html = page(client, url)
        assert "<script>alert(1)</script>" not in html, url
        assert "<img src=x" not in html, url
        assert HOSTILE_ESCAPED in html, url


def test_a_campaign_body_with_html_is_refused_with_a_message(client, admins):
    login_as(client, admins[0])
    response = post_form(client, "/content/new/campaign", campaign_form(body="Hello <script>alert(1)</script>"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Body: HTML such as &lt;script&gt; is not allowed" in html
    assert db.session.scalar(select(func.count()).select_from(ContentItem)) == 0


def test_a_bad_helpline_number_is_refused_naming_the_field(client, admins):
    login_as(client, admins[0])
    for number in ("0808 2000 24", "+44 7", "0808 HELPING"):
        response = post_form(client, "/content/new/helpline", {"title": "Line", "number": number,
                                                                "free_to_call": "auto"})
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and 'href="#number">Number:' in html, number
    assert db.session.scalar(select(func.count()).select_from(ContentItem)) == 0


def test_a_helpline_is_saved_with_its_number_in_uk_grouping(client, admins):
    login_as(client, admins[0])
    response = post_form(client, "/content/new/helpline", {"title": "Respect Phoneline", "number": "0808 8024040",
                                                            "free_to_call": "auto", "who_for": "perpetrators"})
    assert response.status_code == 302
    version = db.session.scalars(select(ContentVersion)).one()
    assert (version.phone_number, version.phone_number_shown, version.is_free_to_call) == \
        ("+448088024040", "0808 802 4040", True)
    assert '<span class="number">0808&nbsp;802&nbsp;4040</span>' in page(client, f"/content/items/{version.item_id}")


def test_a_helpline_set_lists_helplines_in_the_chosen_order(client, admins):
    first, second = make_helpline(title="First line"), make_helpline(title="Second line")
    db.session.commit()
    login_as(client, admins[0])
    response = post_form(client, "/content/new/helpline_set", {
        "title": "Local set", "helpline_1": str(second.item_id), "helpline_2": "0", "helpline_3": str(first.item_id)})
    assert response.status_code == 302
    version = db.session.scalars(select(ContentVersion).where(ContentVersion.kind == ContentKind.HELPLINE_SET)).one()
    assert [i.title for i in version.helpline_items] == ["Second line", "First line"]
    again = post_form(client, "/content/new/helpline_set", {
        "title": "Twice", "helpline_1": str(first.item_id), "helpline_2": str(first.item_id)})
    assert "each helpline can be in the set only once" in again.get_data(as_text=True)


# --- Pictures -----------------------------------------------------------------------------------


def test_an_svg_picture_is_refused_and_a_50_mb_upload_too(client, admins):
    login_as(client, admins[0])
    svg = (io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"), "picture.png")
    response = post_form(client, "/content/new/campaign", {**campaign_form(), "image": svg})
    assert response.status_code == 200
    assert "Picture: The picture must be a PNG or JPEG file" in response.get_data(as_text=True)
    # The body is built in memory: the test client would otherwise spool 50 MB to a temporary file it never closes.
    boundary = "----nwc-test-boundary"
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page(client, "/content/new/campaign")).group(1)
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="huge.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + b"\xff\xd8\xff" + b"\0" * (50 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    too_big = client.post("/content/new/campaign", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert too_big.status_code == 413
    assert "too large" in too_big.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ContentItem)) == 0


def test_a_picture_is_served_to_coordinators_only_once_approved(client, admins):
    out = io.BytesIO()
    Image.new("RGB", (30, 20), "red").save(out, "JPEG")
    waiting = make_campaign(admins[0], S.SUBMITTED, image_upload=out.getvalue())
    db.session.commit()
    coordinator = make_user()
    db.session.commit()
    login_as(client, coordinator)
    assert client.get(f"/content/images/{waiting.image_id}").status_code == 404
    approval.approve_version(waiting, admins[1])
    db.session.commit()
    response = client.get(f"/content/images/{waiting.image_id}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"


# --- Catalogue and local notices ----------------------------------------------------------------


def test_the_catalogue_shows_approved_content_with_helpline_warnings(client):
    admin = make_admin()
    make_campaign(title="Running campaign")
    make_campaign(title="Next month's campaign", first_day="2999-01-01")
    make_campaign(title="Old campaign", first_day="2018-02-04", last_day="2018-02-10")
    make_campaign(title="Draft campaign", state=S.DRAFT)
    verified, unverified = make_helpline(title="Checked line"), make_helpline(title="Unchecked line")
    content.reverify_helpline(verified.item, admin)
    make_helpline_set([verified, unverified], title="Local helplines")
    coordinator = make_user()
    db.session.commit()
    login_as(client, coordinator)
    html = page(client, "/content/catalogue")
    assert "Running campaign" in html and "Next month&#39;s campaign" in html
    assert "Old campaign" not in html and "Draft campaign" not in html
    assert "Local helplines" in html and "Checked line" in html
    assert "Unchecked line: not yet verified by an admin: verify before use" in html


def test_local_notices_are_offered_only_in_their_own_scheme_and_404_elsewhere(client):
    pat, lukasz = make_user(name="Pat"), make_user(name="Lukasz")
    hayes = make_scheme("Hayes", coordinators=[pat])
    make_scheme("Chislehurst", coordinators=[lukasz])
    notice = make_notice(hayes, pat, title="Hayes meeting", body=HOSTILE)
    draft = make_notice(hayes, pat, state=S.DRAFT, title="Hayes draft")
    db.session.commit()
    login_as(client, pat)
    html = page(client, "/content/catalogue")
    assert "Hayes meeting" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    client.post("/account/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)})
    login_as(client, lukasz)
    assert "Hayes meeting" not in page(client, "/content/catalogue")
    for url in [f"/content/items/{notice.item_id}", f"/content/items/{notice.item_id}/edit",
                f"/content/schemes/{hayes.id}/notices", f"/content/schemes/{hayes.id}/notices/new"]:
        assert client.get(url).status_code == 404, url
    for url in [f"/content/versions/{draft.id}/submit", f"/content/items/{notice.item_id}/retire"]:
        assert post_form(client, url, page="/content/catalogue").status_code == 404, url
    assert draft.state == S.DRAFT


def test_a_coordinator_writes_and_submits_a_notice_for_their_scheme(client):
    pat = make_user()
    scheme = make_scheme(coordinators=[pat])
    db.session.commit()
    login_as(client, pat)
    url = f"/content/schemes/{scheme.id}/notices/new"
    too_long = post_form(client, url, {"title": "Meeting", "body": "x" * 601})
    assert "Notice must be 600 characters or fewer" in too_long.get_data(as_text=True)
    assert post_form(client, url, {"title": "Meeting", "body": "Church hall, Tuesday 7pm"}).status_code == 302
    version = db.session.scalars(select(ContentVersion)).one()
    assert version.item.scheme_id == scheme.id
    assert post_form(client, f"/content/versions/{version.id}/submit", page=f"/content/items/{version.item_id}") \
        .status_code == 302
    db.session.refresh(version)
    assert version.state == S.SUBMITTED
    assert "Meeting" in page(client, f"/content/schemes/{scheme.id}/notices")


# --- Helpline review and packs ------------------------------------------------------------------


def test_reverifying_a_helpline_is_one_click(client, admins):
    helpline = make_helpline(title="Childline", number="0800 1111")
    db.session.commit()
    login_as(client, admins[0])
    listing = page(client, "/content/helplines/review")
    assert "Childline" in listing and "Verify before use" in listing
    response = post_form(client, f"/content/helplines/{helpline.item_id}/verify", {"next": "review"},
                         page="/content/helplines/review")
    assert response.status_code == 302 and response.headers["Location"].endswith("/content/helplines/review")
    assert content.helpline_review(helpline).status == content.ReviewStatus.OK
    after = page(client, "/content/helplines/review")
    assert "“Childline” is verified today, by you." in after
    assert "Every approved helpline is verified" in after


def test_packs_page_exports_and_imports_with_a_report(client, admins):
    login_as(client, admins[0])
    upload = (io.BytesIO(STARTER_PACK.read_bytes()), "starter.json")
    response = post_form(client, "/content/packs/import", {"pack": upload}, page="/content/packs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "18 new and 0 changed items are awaiting approval" in html
    assert db.session.scalar(select(func.count()).select_from(ContentVersion)) == 18
    for version in content.versions_awaiting_approval():
        approval.approve_version(version, admins[1])
    db.session.commit()
    exported = client.get("/content/packs/export.json")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    assert len(json.loads(exported.get_data())["items"]) == 18


def test_packs_page_refuses_a_hostile_pack_and_changes_nothing(client, admins):
    login_as(client, admins[0])
    hostile = json.dumps({"format": "nwc-content-pack", "version": 1, "items": [
        {"kind": "campaign", "slug": "evil", "fields": {"title": HOSTILE, "summary": "x",
                                                        "body": "<iframe src=x></iframe>"}}]}).encode()
    response = post_form(client, "/content/packs/import", {"pack": (io.BytesIO(hostile), "evil.json")},
                         page="/content/packs")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was imported" in html and "HTML such as &lt;iframe src=x&gt; is not allowed" in html
    assert db.session.scalar(select(func.count()).select_from(ContentItem)) == 0


def test_the_dashboard_panel_lists_waiting_versions_and_helplines_to_verify(client, admins):
    from flask import render_template

    waiting = make_campaign(admins[0], S.SUBMITTED, title="Waiting campaign")
    make_helpline(title="Unchecked line")
    with client.application.test_request_context():
        html = render_template("content/_dashboard_panel.html", content_summary=content_summary())
    assert f"/content/versions/{waiting.id}/review" in html and "Waiting campaign" in html
    assert "Unchecked line" in html and "verify before use" in html


def test_a_coordinator_sees_an_approved_campaign_without_edit_actions(client):
    approved = make_campaign(title="Approved campaign")
    coordinator = make_user()
    db.session.commit()
    login_as(client, coordinator)
    html = page(client, f"/content/items/{approved.item_id}")
    assert "Approved campaign" in html
    assert "Edit" not in html and "Retire" not in html and "History" not in html
