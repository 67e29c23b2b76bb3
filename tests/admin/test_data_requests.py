"""Data requests across schemes: a resident's address found, exported and erased in every scheme at once, and a
coordinator's own account exported and erased (pseudonymised) with the audit trail still whole."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from coordinator import jobs
from coordinator.admin.data_requests import DataRequestError, erase_account, find_address
from coordinator.audit.models import AuditEntry
from coordinator.auth.models import User
from coordinator.bulletins import approval, bounces, subscribers
from coordinator.bulletins.models import BulletinDelivery, Subscriber
from coordinator.bulletins.sending import send_bulletin
from coordinator.extensions import db
from coordinator.mail import return_path
from coordinator.schemes import membership
from coordinator.schemes.models import CoordinatorRole
from tests.admin.helpers import actions
from tests.bulletins.helpers import everything_stored, fast_sending
from tests.bulletins.reports import dsn
from tests.factories import make_admin, make_bulletin, make_user
from tests.helpers.web import login_as, post_form

ADDRESS = "pat.resident@example.net"


@pytest.fixture
def resident(world, smtp_server, app):
    """One resident in both schemes: confirmed in A (sent a bulletin, which bounced), waiting to confirm in B."""
    app.config["BOUNCE_ADDRESS"] = "bounces@watch.example"
    fast_sending()
    s = world.s
    subscribers.sign_up(s.scheme_a, "Pat.Resident@Example.net", "Pat Resident")
    subscribers.sign_up(s.scheme_b, ADDRESS, "Pat Resident")
    db.session.commit()
    in_a = subscribers.find_subscriber(s.scheme_a, ADDRESS)
    subscribers.confirm_subscription(in_a)
    db.session.commit()
    bulletin = make_bulletin(world)
    with jobs.held():
        approval.queue_bulletin(bulletin, s.coordinator_a, None)
        db.session.commit()
    assert send_bulletin(bulletin.id) == 1
    delivery = db.session.scalar(select(BulletinDelivery).where(BulletinDelivery.bulletin_id == bulletin.id))
    # A mail server's refusal at sending time quotes the address, and so does a bounce read back later.
    subscribers.record_hard_bounce(in_a.id, f"550 5.1.1 <{ADDRESS}>: no such user", 1)
    bounces.process_message(dsn(return_path(bounces.delivery_token(delivery.id)), ADDRESS, "4.2.2"))
    db.session.commit()
    return world


def test_the_address_is_found_in_every_scheme_whatever_its_case(resident):
    findings = find_address("  PAT.Resident@example.NET ")
    assert sorted(s.scheme.name for s in findings.subscribers) == sorted(
        [resident.s.scheme_a.name, resident.s.scheme_b.name])
    assert findings.account is None


def test_an_admin_erases_the_address_from_every_scheme_in_one_step_and_no_trace_is_left(resident, client):
    admin = resident.admin
    login_as(client, admin)
    assert ADDRESS in everything_stored().lower()

    found = post_form(client, "/admin/data-requests", {"email": ADDRESS}).get_data(as_text=True)
    assert "Subscribed in 2 schemes" in found
    refused = post_form(client, "/admin/data-requests/erase", {"email": ADDRESS}, page="/admin/data-requests")
    assert refused.status_code == 400 and "Tick the box to confirm" in refused.get_data(as_text=True)
    assert len(find_address(ADDRESS).subscribers) == 2

    response = post_form(client, "/admin/data-requests/erase", {"email": ADDRESS, "confirm": "y"},
                         page="/admin/data-requests", follow_redirects=True)

    assert "The address was erased from 2 schemes." in response.get_data(as_text=True)
    db.session.expire_all()
    stored = everything_stored().lower()
    assert ADDRESS not in stored and "pat resident" not in stored
    assert all(s.is_erased for s in db.session.scalars(select(Subscriber)))
    # The audit log still reads: what happened, to which subscriber number, by whom.
    assert len(actions("subscribers.erased")) == 2
    entry = actions("data_requests.erased")[0]
    assert entry.actor_id == admin.id and len(entry.details["subscriber_ids"]) == 2
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "address erased from 2 scheme(s) at once" in log and "subscribers.bouncing" in log, log[log.find("<table"):][:3000]


def test_an_admin_exports_the_address_from_every_scheme_as_one_file(resident, client):
    login_as(client, resident.admin)
    post_form(client, "/admin/data-requests", {"email": ADDRESS})

    response = post_form(client, "/admin/data-requests/export", {"email": ADDRESS}, page="/admin/data-requests")

    assert response.headers["Content-Disposition"] == 'attachment; filename="resident-data.json"'
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["address"] == ADDRESS
    assert sorted(s["scheme"]["name"] for s in data["subscriptions"]) == sorted(
        [resident.s.scheme_a.name, resident.s.scheme_b.name])
    assert any(s["bulletins"] for s in data["subscriptions"])
    assert len(actions("subscribers.exported")) == 2
    entry = actions("data_requests.exported")[0]
    assert ADDRESS not in entry.summary + json.dumps(entry.details)


def test_an_address_nobody_holds_is_said_so(client, app):
    admin = make_admin()
    db.session.commit()
    login_as(client, admin)
    page = post_form(client, "/admin/data-requests", {"email": "nobody@example.net"}).get_data(as_text=True)
    assert "No scheme has a subscriber with this address." in page
    page = post_form(client, "/admin/data-requests", {"email": "not an address"}).get_data(as_text=True)
    assert "Enter an email address like pat@example.org" in page


def test_coordinators_cannot_open_data_requests(client, app):
    coordinator = make_user()
    db.session.commit()
    login_as(client, coordinator)
    assert client.get("/admin/data-requests").status_code == 403


# --- A coordinator's own account ----------------------------------------------------------------------------------


@pytest.fixture
def coordinator_with_history(two_schemes):
    """Coordinator A, also a deputy of scheme B (an audited change that names their address)."""
    admin = make_admin(name="Ada Admin", email="ada.admin@example.org")
    pat = two_schemes.coordinator_a
    membership.add_coordinator_to_scheme(two_schemes.scheme_b, pat, CoordinatorRole.DEPUTY)
    db.session.commit()
    return two_schemes, admin, pat


def test_a_coordinator_exports_their_own_account_data_through_an_admin(coordinator_with_history, client, app):
    s, admin, pat = coordinator_with_history
    login_as(app.test_client(), pat)  # Pat's own browser: a login on record
    login_as(client, admin)

    response = post_form(client, f"/admin/users/{pat.id}/export", page=f"/admin/users/{pat.id}")

    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == pat.email and data["account"]["name"] == pat.name
    assert s.scheme_a.name in [scheme["name"] for scheme in data["schemes"]]
    assert "auth.login" in [a["action"] for a in data["actions"]]
    assert actions("users.exported")[0].actor_id == admin.id


def test_erasing_a_coordinator_pseudonymises_them_and_keeps_the_audit_trail(coordinator_with_history, client, app):
    s, admin, pat = coordinator_with_history
    email, name, pat_id = pat.email, pat.name, pat.id
    pats_browser = app.test_client()
    login_as(pats_browser, pat)
    before = {e.id: e.action for e in db.session.scalars(select(AuditEntry))}
    login_as(client, admin)

    page = client.get(f"/admin/users/{pat_id}/erase").get_data(as_text=True)
    assert "account #" in page
    refused = post_form(client, f"/admin/users/{pat_id}/erase", {})
    assert "Tick the box to confirm" in refused.get_data(as_text=True)
    response = post_form(client, f"/admin/users/{pat_id}/erase", {"confirm": "y"}, follow_redirects=True)

    assert f"Account #{pat_id} is erased" in response.get_data(as_text=True)
    db.session.expire_all()
    stored = everything_stored().lower()
    assert email.lower() not in stored and name.lower() not in stored
    user = db.session.get(User, pat_id)
    assert user.email == f"erased-user-{pat_id}@invalid" and not user.is_active_account and user.password_hash is None
    # Every entry is still there; the ones Pat made still name the same account, now by its number.
    after = {e.id: e for e in db.session.scalars(select(AuditEntry))}
    assert set(before) <= set(after)
    theirs = [e for e in after.values() if e.actor_id == pat_id]
    assert theirs and all(e.actor_label == f"erased account #{pat_id}" for e in theirs)
    assert actions("users.erased")[0].actor_id == admin.id
    # Pat's browser is logged out, and the account cannot log in again.
    assert pats_browser.get("/").status_code in (302, 200) and "/account/login" in \
        pats_browser.get(f"/schemes/{s.scheme_a.id}").headers.get("Location", "")
    refused = post_form(app.test_client(), "/account/login", {"email": email, "password": "correct horse battery"})
    assert refused.status_code == 200


def test_admins_and_oneself_cannot_be_erased_here(app):
    admin, other_admin = make_admin(), make_admin()
    db.session.commit()
    with pytest.raises(DataRequestError, match="your own account"):
        erase_account(admin, admin)
    with pytest.raises(DataRequestError, match="admin's"):
        erase_account(other_admin, admin)
