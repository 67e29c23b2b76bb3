"""Residents choose the language of their bulletins (issue 14, item 7): on the sign-up page, from the link in every
bulletin, and in a coordinator's CSV import; the coordinator's pages show it, and erasing a resident forgets it."""

from __future__ import annotations

import io
import json
import re

from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.bulletins import subscriber_data, subscribers
from coordinator.bulletins.models import Subscriber, SubscriberStatus
from coordinator.bulletins.subscriber_import import import_subscribers
from coordinator.bulletins.subscriber_languages import offered_languages
from coordinator.extensions import db
from tests.bulletins.helpers import csv_bytes
from tests.factories import make_campaign, make_subscriber
from tests.helpers.hostile import HOSTILE_TEXTS
from tests.helpers.languages import ARABIC_CAMPAIGN, POLISH_CAMPAIGN, approved_translation
from tests.helpers.web import login_as, post_form


def join(client, scheme, **values):
    return post_form(client, f"/join/{scheme.slug}", {"email": "ola@example.net", "consent": "y", **values})


def stored(email: str) -> Subscriber | None:
    db.session.expire_all()
    return db.session.scalar(select(Subscriber).where(Subscriber.email == email))


def translated_world(world):
    """The world's campaign approved in Polish and Arabic."""
    approved_translation(world.campaign, "pl", POLISH_CAMPAIGN)
    approved_translation(world.campaign, "ar", ARABIC_CAMPAIGN)
    db.session.commit()


def test_with_english_content_only_the_sign_up_page_asks_no_language(client, world):
    assert offered_languages(world.s.scheme_a) == ["en-GB"]
    page = client.get("/join/hayes-lane-watch").get_data(as_text=True)
    assert 'name="language"' not in page
    assert join(client, world.s.scheme_a).status_code == 302
    assert stored("ola@example.net").language == "en-GB"


def test_the_sign_up_page_offers_each_language_of_the_current_campaigns_in_its_own_name(client, world):
    translated_world(world)
    # A draft translation is not a language the scheme's content exists in.
    draft = make_campaign(world.admin, title="Bike theft")
    from coordinator.content import translations

    translations.add_translation(draft.item, "ro", {"title": "Furtul de biciclete", "summary": "Pune lacăt."},
                                 world.admin)
    db.session.commit()
    assert offered_languages(world.s.scheme_a) == ["en-GB", "ar", "pl"]
    page = client.get("/join/hayes-lane-watch").get_data(as_text=True)
    options = re.findall(r'<input type="radio" id="language-\d+" name="language" value="([^"]+)"( checked)?>\s*'
                         r'<label for="language-\d+" lang="([^"]+)" dir="([^"]+)">([^<]+)</label>', page)
    assert [(value, lang, direction, name) for value, _, lang, direction, name in options] == [
        ("en-GB", "en-GB", "ltr", "English"), ("ar", "ar", "rtl", "العربية"), ("pl", "pl", "ltr", "Polski")]
    assert options[0][1] == " checked"  # English unless they choose
    assert "<legend>Which language should bulletins come in?</legend>" in page


def test_signing_up_in_polish_keeps_polish(client, world):
    translated_world(world)
    assert join(client, world.s.scheme_a, language="pl").status_code == 302
    subscriber = stored("ola@example.net")
    assert subscriber.language == "pl" and subscriber.status == SubscriberStatus.PENDING


def test_a_language_not_offered_or_not_a_language_is_refused_and_nothing_is_stored(client, world):
    translated_world(world)
    for value, message in (("de", "Choose one of the languages listed"),
                           ("pl-x-klingon", "is not a language tag"),
                           *((text, "is not a language tag") for text in HOSTILE_TEXTS)):
        response = join(client, world.s.scheme_a, language=value)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, value
        assert message in page, value
        assert '<a href="#language">' in page  # the error summary leads to the question
        assert stored("ola@example.net") is None
        assert "<script>alert(1)</script>" not in page and "<img src=x" not in page


def test_a_confirmed_address_signing_up_again_keeps_its_language(client, world):
    translated_world(world)
    make_subscriber(world.s.scheme_a, "ola@example.net", language="ar")
    db.session.commit()
    assert join(client, world.s.scheme_a, language="pl").status_code == 302
    assert stored("ola@example.net").language == "ar"  # anyone can type an address into the form


def test_a_resident_changes_their_language_from_the_link_in_a_bulletin(client, world):
    translated_world(world)
    subscriber = make_subscriber(world.s.scheme_a, "ola@example.net")
    db.session.commit()
    url = "/" + subscribers.unsubscribe_url(subscriber).split("/", 3)[3]
    page = client.get(url).get_data(as_text=True)
    assert f'action="{url}/language"' in page and f'action="{url}"' in page
    assert 'value="en-GB" checked' in page and 'lang="ar" dir="rtl">العربية</label>' in page

    response = post_form(client, f"{url}/language", {"language": "ar"}, page=url)
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    assert stored("ola@example.net").language == "ar"
    assert stored("ola@example.net").status == SubscriberStatus.CONFIRMED  # changing language is not leaving
    page = client.get(url).get_data(as_text=True)
    assert "Saved: your next bulletins come in the language ticked below." in page
    assert 'value="ar" checked' in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.language_changed"))
    assert entry.details == {"scheme_id": world.s.scheme_a.id, "language": "ar", "previous_language": "en-GB"}
    assert entry.actor_label == "resident"

    # A language the scheme does not offer, or no CSRF token: refused, nothing changes.
    response = post_form(client, f"{url}/language", {"language": "de"}, page=url)
    assert response.status_code == 400 and "Choose one of the languages listed" in response.get_data(as_text=True)
    assert client.post(f"{url}/language", data={"language": "pl"}).status_code == 400
    assert stored("ola@example.net").language == "ar"
    # A forged link changes nobody's language.
    assert post_form(client, url[:-3] + "AAA/language", {"language": "pl"}, page=url).status_code == 400


def test_a_resident_who_left_is_offered_no_language(client, world):
    translated_world(world)
    subscriber = make_subscriber(world.s.scheme_a, "ola@example.net", status=SubscriberStatus.UNSUBSCRIBED)
    db.session.commit()
    url = "/" + subscribers.unsubscribe_url(subscriber).split("/", 3)[3]
    page = client.get(url).get_data(as_text=True)
    assert "You are unsubscribed" in page and 'name="language"' not in page
    # Its page has no form: the token comes from the sign-up page's.
    assert post_form(client, f"{url}/language", {"language": "pl"}, page="/join/hayes-lane-watch").status_code == 404


def test_the_csv_import_takes_a_language_column_at_the_end_row_by_row(world):
    scheme = world.s.scheme_a
    data = csv_bytes("ann@example.net,Ann,,ur-pk", "bob@example.net,Bob,,", "cat@example.net,Cat,,PL",
                     "dee@example.net,Dee,,en-us", header="email,name,street,language")
    report = import_subscribers(scheme, data, actor=None)
    assert report.ok, report.lines()
    db.session.commit()
    # Any English is the association's en-GB: English readers are one group, rendered once.
    assert {s.email: s.language for s in db.session.scalars(select(Subscriber))} == {
        "ann@example.net": "ur-PK", "bob@example.net": "en-GB", "cat@example.net": "pl", "dee@example.net": "en-GB"}

    bad = csv_bytes("dan@example.net,Dan,,klingon", "eve@example.net,Eve,,zz", "fay@example.net,Fay,,pl",
                    "gus@example.net,Gus,,=cmd", header="email,name,street,language")
    report = import_subscribers(scheme, bad, actor=None)
    assert not report.ok
    lines = report.lines()
    assert "Line 2: dan@example.net: language: 'klingon' is not a language tag" in lines[0]
    assert lines[1].startswith("Line 3: eve@example.net: language: 'zz' is not a language we know")
    assert lines[2] == "Line 4: fay@example.net: OK"
    assert "language starts with '='" in lines[3]
    db.session.rollback()
    assert stored("dan@example.net") is None


def test_the_coordinator_sees_and_exports_each_resident_s_language(client, world):
    subscriber = make_subscriber(world.s.scheme_a, "ola@example.net", language="ar")
    db.session.commit()
    login_as(client, world.s.coordinator_a)
    page = client.get(f"/schemes/{world.s.scheme_a.id}/subscribers").get_data(as_text=True)
    assert '<th scope="col">Language</th>' in page
    assert '<td><span lang="ar" dir="rtl">العربية</span> (ar)</td>' in page
    page = client.get(f"/schemes/{world.s.scheme_a.id}/subscribers/{subscriber.id}").get_data(as_text=True)
    assert '<dt>Language</dt><dd><span lang="ar" dir="rtl">العربية</span> (ar)</dd>' in page
    response = post_form(client, f"/schemes/{world.s.scheme_a.id}/subscribers/{subscriber.id}/export",
                         page=f"/schemes/{world.s.scheme_a.id}/subscribers/{subscriber.id}")
    assert json.load(io.BytesIO(response.data))["subscriber"]["language"] == "ar"


def test_erasing_a_resident_forgets_the_language_they_chose(world):
    translated_world(world)
    subscriber = make_subscriber(world.s.scheme_a, "ola@example.net")
    from coordinator.bulletins.subscriber_languages import change_language

    change_language(subscriber, "pl", offered_languages(world.s.scheme_a))
    db.session.commit()
    subscriber_data.erase_subscriber(subscriber, actor=None)
    db.session.commit()
    assert subscriber.language == "en-GB"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.language_changed"))
    assert "language" not in entry.details and "previous_language" not in entry.details
