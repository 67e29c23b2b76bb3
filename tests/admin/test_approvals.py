"""The approval queue: every kind of item awaiting approval, oldest first, decided in one step."""

from __future__ import annotations

from freezegun import freeze_time

from coordinator.content.models import VersionState
from coordinator.extensions import db
from tests.factories import make_admin, make_campaign, make_notice, make_scheme, make_user
from tests.helpers.web import login_as, post_form


def test_queue_lists_every_kind_oldest_first_and_returns_after_a_decision(client):
    author, reviewer = make_admin(name="Author Admin"), make_admin(name="Reviewer Admin")
    coordinator = make_user(name="Pat <b>Okafor</b>")
    scheme = make_scheme("Hayes Lane Watch", coordinators=[coordinator])
    with freeze_time("2026-11-20 09:00"):
        notice = make_notice(scheme, coordinator, state=VersionState.SUBMITTED, title="Residents' <meeting>")
    with freeze_time("2026-11-21 09:00"):
        campaign = make_campaign(author, state=VersionState.SUBMITTED, title="Winter safety")
    db.session.commit()

    login_as(client, reviewer)
    page = client.get("/admin/approvals").get_data(as_text=True)
    assert page.index("Residents&#39; &lt;meeting&gt;") < page.index("Winter safety")  # oldest first, escaped
    assert "Pat &lt;b&gt;Okafor&lt;/b&gt;" in page and "local notice" in page and "campaign" in page

    review = f"/content/versions/{campaign.id}/review?from=queue"
    response = post_form(client, review, {"decision": "approve"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/approvals")
    assert db.session.get(type(campaign), campaign.id).state == VersionState.APPROVED
    after = client.get("/admin/approvals").get_data(as_text=True)
    assert "Review “Winter safety”" not in after and "Residents&#39; &lt;meeting&gt;" in after
    assert "is approved" in after  # the decision is confirmed on the queue itself
    assert notice.state == VersionState.SUBMITTED


def test_queue_is_for_admins_only(client):
    coordinator = make_user()
    db.session.commit()
    login_as(client, coordinator)
    assert client.get("/admin/approvals").status_code == 403


def test_dashboard_counts_what_awaits_approval(client):
    author, reviewer = make_admin(), make_admin()
    make_campaign(author, state=VersionState.SUBMITTED, title="Winter safety")
    make_campaign(author, state=VersionState.SUBMITTED, title="Spring safety")
    db.session.commit()
    login_as(client, reviewer)
    page = client.get("/admin/").get_data(as_text=True)
    assert "2 items are awaiting approval" in page and "2 campaign" in page
