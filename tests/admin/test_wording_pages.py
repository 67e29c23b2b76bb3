"""Settings, "Fixed wording by language": admins read each language's wording beside the English and approve it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from coordinator.admin.wording import catalogue_state
from coordinator.extensions import db
from coordinator.wording import WordingApproval, wording_ready
from tests.admin.helpers import actions
from tests.factories import make_admin, make_user
from tests.helpers.web import csrf_from, login_as

LIST = "/admin/settings/wording"
POLISH = "/admin/settings/wording/pl"
APPROVE = "/admin/settings/wording/pl/approve"


@pytest.fixture
def admin(app, client):
    admin = make_admin(name="Alex Admin", email="alex@example.org")
    db.session.commit()
    login_as(client, admin)
    return admin


def _approvals() -> list[WordingApproval]:
    db.session.expire_all()
    return list(db.session.scalars(select(WordingApproval).order_by(WordingApproval.id)))


def _digest_on(page: str) -> str:
    match = re.search(r'name="digest"[^>]*value="([0-9a-f]{64})"|value="([0-9a-f]{64})"[^>]*name="digest"', page)
    assert match, "no digest on the page"
    return match.group(1) or match.group(2)


def test_only_admins_see_the_pages(app, client):
    coordinator = make_user(email="casey@example.org")
    db.session.commit()
    assert client.get(LIST).status_code == 302  # to the login page
    login_as(client, coordinator)
    assert client.get(LIST).status_code == 403
    assert client.get(POLISH).status_code == 403
    page = client.get("/admin/settings")
    assert page.status_code == 403
    response = client.post(APPROVE, data={"digest": catalogue_state("pl").digest,
                                          "csrf_token": csrf_from(client.get("/account/profile").get_data(as_text=True))})
    assert response.status_code == 403
    assert _approvals() == [] and not wording_ready("pl")


def test_the_list_shows_every_shipped_language_as_a_draft(client, admin):
    page = client.get(LIST).get_data(as_text=True)
    assert "<h1>Fixed wording by language</h1>" in page
    for name in ("Polish", "Romanian", "Bulgarian", "Turkish", "Arabic", "Urdu", "Bengali", "Gujarati",
                 "Punjabi (Gurmukhi)", "Tamil", "Somali", "Welsh"):
        assert f">{name}</a>" in page, name
    assert page.count(">Draft</span>") == 12
    assert 'lang="ar" dir="rtl"' in page and 'lang="pl" dir="ltr"' in page
    assert "in that language prints these words in English" in " ".join(page.split())
    settings = client.get("/admin/settings").get_data(as_text=True)
    assert 'href="/admin/settings/wording"' in settings


def test_a_language_page_shows_the_wording_beside_the_english_and_says_it_prints_english_until_approved(
        client, admin):
    page = client.get(POLISH).get_data(as_text=True)
    text = " ".join(page.split())
    assert "Fixed wording in Polish" in text
    assert "Until it is approved, leaflets, bulletins and pages in Polish print these words in English" in text
    assert "<td>Where to get help" in page
    assert '<span lang="pl" dir="ltr">Gdzie szukać pomocy</span>' in page
    assert "Approve this wording" in page
    arabic = client.get("/admin/settings/wording/ar").get_data(as_text=True)
    assert '<span lang="ar" dir="rtl">أين تجد المساعدة</span>' in arabic


def test_approving_records_the_catalogue_who_and_when_audited_and_the_language_then_prints(client, admin):
    page = client.get(POLISH).get_data(as_text=True)
    response = client.post(APPROVE, data={"digest": _digest_on(page), "csrf_token": csrf_from(page)})
    assert response.status_code == 302 and response.headers["Location"].endswith(LIST)
    (approval,) = _approvals()
    assert approval.language == "pl" and approval.catalogue_sha256 == catalogue_state("pl").digest
    assert approval.approved_by_id == admin.id and approval.approved_by_label == "alex@example.org"
    assert approval.approved_at is not None
    (entry,) = actions("wording.approved")
    assert entry.actor_id == admin.id and entry.details["language"] == "pl"
    assert entry.details["catalogue_sha256"] == approval.catalogue_sha256
    assert wording_ready("pl-PL") and not wording_ready("ar")

    listing = client.get(LIST).get_data(as_text=True)
    assert listing.count(">Approved</span>") == 1 and listing.count(">Draft</span>") == 11
    assert "by alex@example.org" in listing
    after = client.get(POLISH).get_data(as_text=True)
    assert "Approve this wording" not in after and "print these words" in " ".join(after.split())


def test_an_approval_without_the_form_token_or_with_another_catalogue_is_refused(client, admin):
    page = client.get(POLISH).get_data(as_text=True)
    digest = _digest_on(page)
    assert client.post(APPROVE, data={"digest": digest}).status_code in {302, 400}
    assert _approvals() == []

    stale = client.post(APPROVE, data={"digest": "f" * 64, "csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "changed after you opened the page" in stale.get_data(as_text=True)
    bad = client.post(APPROVE, data={"digest": "<script>", "csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "<script>" not in bad.get_data(as_text=True)
    assert _approvals() == [] and actions("wording.approved") == []
    assert not wording_ready("pl")


def test_an_unknown_language_is_not_found(client, admin):
    assert client.get("/admin/settings/wording/de").status_code == 404
    assert client.get("/admin/settings/wording/%3Cscript%3E").status_code == 404
    page = client.get(POLISH).get_data(as_text=True)
    response = client.post("/admin/settings/wording/de/approve", data={"digest": "0" * 64,
                                                                       "csrf_token": csrf_from(page)})
    assert response.status_code == 404
