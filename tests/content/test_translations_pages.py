"""Translation pages: add, edit, submit, review beside the original, approve with four eyes, "still right for version
N", without JavaScript, with lang/dir on the translated words and hostile text escaped."""

from __future__ import annotations

import re

from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.content import approval, drafting, translations
from coordinator.content.models import VersionState
from coordinator.extensions import db
from tests.factories import make_admin, make_campaign, make_helpline, make_notice, make_scheme, make_user
from tests.helpers.hostile import HOSTILE_TEXTS
from tests.helpers.web import login_as, post_form

S = VersionState
POLISH = {"title": "Nie jesteś sam", "summary": "Pomoc jest blisko.", "body": "Zadzwoń, jeśli potrzebujesz pomocy.",
          "key_messages": "Zamknij drzwi\nZgłoś niepokój", "call_to_action": "Zadzwoń pod 101."}
ARABIC = {"title": "لست وحدك", "summary": "المساعدة قريبة منك.", "body": "اتصل بنا إذا احتجت إلى المساعدة.",
          "key_messages": "أغلق الباب", "call_to_action": "اتصل على 101."}


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def log_out(client) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', page(client, "/content/library")).group(1)
    client.post("/account/logout", data={"csrf_token": token})


def test_an_admin_adds_a_translation_another_approves_it_beside_the_original(client):
    author, reviewer = make_admin(name="Alex Admin"), make_admin(name="Bea Admin")
    original = make_campaign(title="You are not alone", summary="Help is close, day and night.")
    db.session.commit()
    login_as(client, author)

    item_page = page(client, f"/content/items/{original.item_id}")
    assert "Translations" in item_page and "No translations yet." in item_page
    assert f'action="/content/items/{original.item_id}/translations/new"' in item_page

    form_page = page(client, f"/content/items/{original.item_id}/translations/new?language=AR")
    # Each translated field is marked as Arabic, right to left; the original is shown below to translate from.
    assert re.search(r'<input[^>]*dir="rtl"[^>]*id="title"|<input[^>]*id="title"[^>]*dir="rtl"', form_page)
    assert 'lang="ar"' in form_page and "Help is close, day and night." in form_page
    url = f"/content/items/{original.item_id}/translations/new"
    response = post_form(client, url, {**ARABIC, "language": "ar"}, page=f"{url}?language=ar")
    assert response.status_code == 302
    translation = original.item.translations[0]
    version = translation.latest_version
    assert translation.language == "ar" and version.state == S.DRAFT and version.source_version_id == original.id
    assert response.headers["Location"].endswith(f"/content/items/{translation.id}")

    translation_page = page(client, f"/content/items/{translation.id}")
    assert '<h1 lang="ar" dir="rtl">لست وحدك</h1>' in translation_page
    assert "Not yet approved" in translation_page
    assert post_form(client, f"/content/versions/{version.id}/submit",
                     page=f"/content/items/{translation.id}").status_code == 302
    review_url = f"/content/versions/{version.id}/review"
    refused = post_form(client, review_url, {"decision": "approve"})
    assert refused.status_code == 200 and "another admin must approve" in refused.get_data(as_text=True)

    log_out(client)
    login_as(client, reviewer)
    review = page(client, review_url)
    assert "Review the ar translation of “You are not alone”" in review
    # The original's approved words and the translation's, side by side, each in its own language.
    assert re.search(r'<td lang="en-GB" dir="ltr"><pre class="literal">Help is close, day and night.</pre></td>',
                     review)
    assert re.search(r'<td lang="ar" dir="rtl"><pre class="literal">المساعدة قريبة منك.</pre></td>', review)
    assert post_form(client, review_url, {"decision": "approve"}).status_code == 302
    db.session.refresh(version)
    assert version.state == S.APPROVED and version.approved_by_id == reviewer.id
    assert "Up to date" in page(client, f"/content/items/{original.item_id}")


def test_the_original_changing_marks_it_and_an_admin_confirms_it_still_right(client):
    admin = make_admin(name="Cara Admin")
    original = make_campaign(title="Lock it")
    author = make_admin()
    version = translations.add_translation(original.item, "pl", {**POLISH, "key_messages": ["Zamknij drzwi"]}, author)
    approval.submit_version(version, author)
    approval.approve_version(version, make_admin())
    newer = drafting.edit_item(original.item, {"title": "Lock it", "summary": "Lock every door.", "body": ""}, author)
    approval.submit_version(newer, author)
    approval.approve_version(newer, make_admin())
    db.session.commit()
    login_as(client, admin)

    listing = page(client, f"/content/items/{original.item_id}")
    assert "Original changed since" in listing and "the original changed since" in listing
    translation_page = page(client, f"/content/items/{version.item_id}")
    assert "Original changed since." in translation_page
    assert f"Still right for version {newer.number}" in translation_page
    response = post_form(client, f"/content/items/{version.item_id}/translation/confirm",
                         {"original_version_id": str(newer.id)}, page=f"/content/items/{version.item_id}")
    assert response.status_code == 302
    assert translations.translation_state(original.item, "pl") == "confirmed"
    assert "Still right (confirmed)" in page(client, f"/content/items/{version.item_id}")
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "content.translation_confirmed")).one()
    assert entry.actor_id == admin.id


def test_confirming_needs_an_admin_and_the_version_the_admin_read(client):
    original = make_campaign()
    author = make_admin()
    version = translations.add_translation(original.item, "pl", {**POLISH, "key_messages": []}, author)
    approval.submit_version(version, author)
    approval.approve_version(version, make_admin())
    newer = drafting.edit_item(original.item, {"title": "New", "summary": "New words.", "body": ""}, author)
    approval.submit_version(newer, author)
    approval.approve_version(newer, make_admin())
    coordinator = make_user()
    db.session.commit()
    url = f"/content/items/{version.item_id}/translation/confirm"
    login_as(client, make_admin())
    stale = post_form(client, url, {"original_version_id": str(original.id)}, page="/content/library",
                      follow_redirects=True)
    assert "was approved after you opened the page" in stale.get_data(as_text=True)
    assert translations.translation_state(original.item, "pl") == "original-changed"
    log_out(client)
    login_as(client, coordinator)
    assert post_form(client, url, {"original_version_id": str(newer.id)}, page="/content/catalogue").status_code == 403


def test_editing_a_translation_starts_a_new_version_from_the_current_original(client):
    admin = make_admin()
    original = make_campaign()
    author = make_admin()
    version = translations.add_translation(original.item, "pl", {**POLISH, "key_messages": []}, author)
    approval.submit_version(version, author)
    approval.approve_version(version, make_admin())
    db.session.commit()
    login_as(client, admin)
    # The ordinary edit address leads to the translation's own form.
    assert client.get(f"/content/items/{version.item_id}/edit").headers["Location"].endswith(
        f"/content/items/{version.item_id}/translation/edit")
    url = f"/content/items/{version.item_id}/translation/edit"
    form_page = page(client, url)
    assert 'value="Nie jesteś sam"' in form_page and 'lang="pl"' in form_page
    assert post_form(client, url, {**POLISH, "summary": "Nowe słowa."}).status_code == 302
    newest = version.item.latest_version
    assert newest.number == 2 and newest.summary == "Nowe słowa." and newest.state == S.DRAFT
    assert version.state == S.APPROVED


def test_a_bad_or_taken_language_is_refused_with_a_message(client):
    original = make_campaign()
    translations.add_translation(original.item, "pl", {**POLISH, "key_messages": []}, make_admin())
    db.session.commit()
    login_as(client, make_admin())
    base = f"/content/items/{original.item_id}/translations/new"
    assert "is not a language tag" in page(client, f"{base}?language=Polish", 400)
    assert "already a pl translation" in page(client, f"{base}?language=pl", 400)
    assert "written in en-GB" in page(client, f"{base}?language=en", 400)
    wrong = post_form(client, base, {**POLISH, "title": "", "language": "ro"}, page=f"{base}?language=ro")
    assert wrong.status_code == 200 and "Enter the title" in wrong.get_data(as_text=True)
    assert len(original.item.translations) == 1


def test_hostile_text_in_a_translation_is_escaped_on_every_page(client):
    original = make_campaign()
    author, reviewer = make_admin(), make_admin()
    hostile = " ".join(HOSTILE_TEXTS)
    version = translations.add_translation(
        original.item, "pl", {"title": hostile[:120], "summary": hostile[:200], "body": "Zwykły tekst.",
                              "key_messages": [HOSTILE_TEXTS[2]], "call_to_action": HOSTILE_TEXTS[0]}, author)
    approval.submit_version(version, author)
    db.session.commit()
    login_as(client, reviewer)
    for url in (f"/content/items/{version.item_id}", f"/content/versions/{version.id}/review",
                f"/content/items/{original.item_id}", "/content/library",
                f"/content/items/{version.item_id}/translation/edit"):
        html = client.get(url, follow_redirects=True).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "<img src=x" not in html, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page(client, f"/content/versions/{version.id}/review")


def test_coordinators_cannot_add_translations_of_association_content_but_can_of_their_notices(client):
    coordinator = make_user()
    scheme = make_scheme(coordinators=[coordinator])
    notice = make_notice(scheme, coordinator)
    campaign = make_campaign()
    helpline = make_helpline()
    db.session.commit()
    login_as(client, coordinator)
    assert client.get(f"/content/items/{campaign.item_id}/translations/new?language=pl").status_code == 403
    assert client.get(f"/content/items/{helpline.item_id}/translations/new?language=pl").status_code == 403
    url = f"/content/items/{notice.item_id}/translations/new"
    response = post_form(client, url, {"title": "Zebranie", "body": "We wtorek o 19.", "language": "pl"},
                         page=f"{url}?language=pl")
    assert response.status_code == 302
    [translation] = notice.item.translations
    assert translation.latest_version.body == "We wtorek o 19." and translation.scheme_id == scheme.id
    other_scheme_notice = make_notice(make_scheme(coordinators=[make_user()]), make_admin())
    db.session.commit()
    assert client.get(f"/content/items/{other_scheme_notice.item_id}/translations/new?language=pl").status_code \
        == 404


def test_the_catalogue_says_which_languages_a_running_campaign_is_approved_in(client):
    original = make_campaign(title="Lock it")
    author = make_admin()
    version = translations.add_translation(original.item, "pl", {**POLISH, "key_messages": []}, author)
    coordinator = make_user()
    db.session.commit()
    login_as(client, coordinator)
    assert "Approved in" not in page(client, "/content/catalogue")
    approval.submit_version(version, author)
    approval.approve_version(version, make_admin())
    catalogue = page(client, "/content/catalogue")
    assert "Approved in en-GB, pl." in catalogue and catalogue.count("Lock it") >= 1
    assert "Nie jesteś sam" not in catalogue  # a translation is never an item of its own
