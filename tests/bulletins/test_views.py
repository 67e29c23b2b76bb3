"""Sign-up, confirmation, unsubscribing and the coordinator's subscriber pages, through the browser's eyes."""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.bulletins import subscribers
from coordinator.bulletins.models import Subscriber, SubscriberStatus
from coordinator.extensions import db
from tests.bulletins.helpers import confirmation_link, csv_bytes, everything_stored
from tests.factories import make_admin, make_street, make_subscriber
from tests.helpers.hostile import HOSTILE_TEXTS
from tests.helpers.web import csrf_from, login_as, outbox_messages, post_form

Status = SubscriberStatus
QUICK_EXIT = "Exit this page"


def join(client, scheme, **overrides):
    values = {"email": "robin@example.net", "name": "", "street": "", "consent": "y"}
    values.update(overrides)
    return post_form(client, f"/join/{scheme.slug}", values)


def subscriber_by_email(email: str) -> Subscriber | None:
    db.session.expire_all()
    return db.session.scalar(select(Subscriber).where(Subscriber.email == email))


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


# --- the sign-up page --------------------------------------------------------------------------------------------


def test_the_sign_up_page_shows_the_scheme_streets_and_the_exact_wording(client, two_schemes):
    s = two_schemes
    response = client.get("/join/hayes-lane-watch")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Get email bulletins from Hayes Lane Watch" in page
    assert QUICK_EXIT in page
    assert f'<label for="consent">{subscribers.consent_wording(s.scheme_a)}</label>' in page
    assert f'<option value="{s.street_a.id}">Hayes Lane</option>' in page
    assert "My street is not listed" in page
    assert "Confidential Crescent" not in page  # another scheme's street
    assert 'novalidate' in page and 'name="csrf_token"' in page
    assert client.get("/join/no-such-scheme").status_code == 404
    response = post_form(client, "/join/no-such-scheme", {"email": "a@example.net", "consent": "y"},
                         page="/join/hayes-lane-watch")
    assert response.status_code == 404
    assert client.get("/join/no-such-scheme/check-your-email").status_code == 404


def test_double_opt_in_round_trip_through_the_outbox(app, client, two_schemes):
    s = two_schemes
    response = join(client, s.scheme_a, email="Robin@Example.net", name="Robin Ash", street=str(s.street_a.id))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/join/hayes-lane-watch/check-your-email")
    subscriber = subscriber_by_email("robin@example.net")
    assert subscriber.status == Status.PENDING and subscriber.street_id == s.street_a.id

    [message] = outbox_messages(app)
    assert message["To"].addresses[0].addr_spec == "robin@example.net"
    assert "Hayes Lane Watch" in message["Subject"]
    link = confirmation_link(message)
    assert link.startswith("http://127.0.0.1:5000/join/confirm/")
    html_part = message.get_body(preferencelist=("html",)).get_content()
    assert f'href="{link}"' in html_part

    # Opening the link (as a mail scanner would) only shows the button.
    page = client.get(path_of(link))
    assert page.status_code == 200 and "Yes, send me bulletins" in page.get_data(as_text=True)
    assert QUICK_EXIT in page.get_data(as_text=True)
    assert subscriber_by_email("robin@example.net").status == Status.PENDING

    response = post_form(client, path_of(link))
    assert response.status_code == 302 and response.headers["Location"].endswith("/join/hayes-lane-watch/subscribed")
    subscriber = subscriber_by_email("robin@example.net")
    assert subscriber.status == Status.CONFIRMED and subscriber.confirmed_at is not None
    assert subscribers.recipients_for(s.scheme_a) == [subscriber]
    assert "You are subscribed" in client.get(response.headers["Location"]).get_data(as_text=True)

    # The same link, used again: refused, nothing changes, and no more mail.
    again = client.get(path_of(link))
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)
    assert len(outbox_messages(app)) == 1


def test_the_answer_is_the_same_for_a_known_and_an_unknown_address(app, client, two_schemes):
    s = two_schemes
    make_subscriber(s.scheme_a, "known@example.net")
    db.session.commit()
    answers = []
    for email in ("known@example.net", "stranger@example.net"):
        response = join(client, s.scheme_a, email=email)
        followed = client.get(response.headers["Location"])
        answers.append((response.status_code, response.headers["Location"], response.get_data(),
                        followed.status_code, followed.get_data()))
    assert answers[0] == answers[1]
    assert "Check your email" in answers[0][4].decode()
    # Only the unknown address was sent a confirmation request.
    assert [m["To"].addresses[0].addr_spec for m in outbox_messages(app)] == ["stranger@example.net"]


def test_a_malformed_address_is_refused_at_the_field(client, two_schemes):
    response = join(client, two_schemes.scheme_a, email="robin@@example")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and 'href="#email"' in page
    assert 'aria-invalid="true"' in page and 'id="email-error"' in page
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_consent_must_be_ticked(client, two_schemes):
    response = join(client, two_schemes.scheme_a, consent="")
    assert response.status_code == 200
    assert "Tick the box to say you agree" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_a_street_of_another_scheme_is_refused(client, two_schemes):
    response = join(client, two_schemes.scheme_a, street=str(two_schemes.street_b.id))
    assert response.status_code == 200
    assert "Choose your street from the list" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_a_flood_of_sign_ups_gets_429(app, client, two_schemes):
    codes = []
    for n in range(8):
        codes.append(join(client, two_schemes.scheme_a, email=f"flood{n}@example.net").status_code)
    assert codes[:5] == [302] * 5
    assert codes[5:] == [429] * 3
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 5
    # One address asked for over and over from many places is limited too.
    from coordinator.extensions import limiter

    limiter.reset()
    codes = [
        post_form(client, "/join/hayes-lane-watch", {"email": "victim@example.net", "consent": "y"},
                  environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code
        for n in range(7)
    ]
    assert codes == [302] * 5 + [429] * 2
    assert len(outbox_messages(app)) == 5 + 1  # the flood above, and one request to the victim


def test_hostile_names_are_shown_literally(client, two_schemes):
    s = two_schemes
    admin = make_admin()
    make_street(s.scheme_a, HOSTILE_TEXTS[2], postcode="BR2 7EY")
    for n, text in enumerate(HOSTILE_TEXTS):
        make_subscriber(s.scheme_a, f"h{n}@example.net", name=text)
    db.session.commit()
    join_page = client.get("/join/hayes-lane-watch").get_data(as_text=True)
    assert "<img src=x" not in join_page and "&lt;img src=x onerror=alert(1)&gt;" in join_page
    login_as(client, admin)
    page = client.get(f"/schemes/{s.scheme_a.id}/subscribers").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{ 7*7 }}" in page and ">49<" not in page
    assert '"><img' not in page


# --- unsubscribing -----------------------------------------------------------------------------------------------


def test_opening_the_unsubscribe_link_does_not_unsubscribe(client, two_schemes):
    subscriber = make_subscriber(two_schemes.scheme_a, "reader@example.net")
    db.session.commit()
    url = path_of(subscribers.unsubscribe_url(subscriber))
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Stop email bulletins from Hayes Lane Watch?" in page and QUICK_EXIT in page
    assert "reader@example.net" not in page and "r…@example.net" in page
    assert subscriber_by_email("reader@example.net").status == Status.CONFIRMED


def test_the_unsubscribe_button_works_without_a_login_or_csrf_token(app, two_schemes):
    subscriber = make_subscriber(two_schemes.scheme_a, "reader@example.net")
    db.session.commit()
    url = path_of(subscribers.unsubscribe_url(subscriber))
    fresh_client = app.test_client()  # no session, so no CSRF token could exist
    response = fresh_client.post(url)
    assert response.status_code == 200
    assert "You are unsubscribed" in response.get_data(as_text=True)
    assert subscriber_by_email("reader@example.net").status == Status.UNSUBSCRIBED
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.unsubscribed"))
    assert entry.details["method"] == "link" and entry.actor_label == "resident"
    # Again: still a plain 200, nothing more recorded.
    assert fresh_client.post(url).status_code == 200
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "subscribers.unsubscribed")) == 1
    assert "You are unsubscribed" in fresh_client.get(url).get_data(as_text=True)


def test_the_one_click_body_of_rfc_8058_unsubscribes(app, two_schemes):
    subscriber = make_subscriber(two_schemes.scheme_a, "reader@example.net")
    db.session.commit()
    url = path_of(subscribers.unsubscribe_headers(subscriber)["List-Unsubscribe"].strip("<>"))
    response = app.test_client().post(
        url, data=b"List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert subscriber_by_email("reader@example.net").status == Status.UNSUBSCRIBED
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.unsubscribed"))
    assert entry.details["method"] == "one-click"
    # Mail programs may also send it as multipart/form-data.
    other = make_subscriber(two_schemes.scheme_a, "other@example.net")
    db.session.commit()
    response = app.test_client().post(path_of(subscribers.unsubscribe_url(other)),
                                      data={"List-Unsubscribe": "One-Click"}, content_type="multipart/form-data")
    assert response.status_code == 200 and subscriber_by_email("other@example.net").status == Status.UNSUBSCRIBED


def test_a_forged_unsubscribe_link_changes_nothing(app, two_schemes):
    subscriber = make_subscriber(two_schemes.scheme_a, "reader@example.net")
    db.session.commit()
    token = subscribers.make_unsubscribe_token(subscriber)
    for bad in (token[:-4] + "abcd", "nonsense", subscribers.make_confirmation_token(subscriber)):
        assert app.test_client().post(f"/unsubscribe/{bad}").status_code == 400
        assert app.test_client().get(f"/unsubscribe/{bad}").status_code == 400
    assert subscriber_by_email("reader@example.net").status == Status.CONFIRMED


def test_expired_and_forged_confirmation_links_are_refused(client, two_schemes):
    from datetime import timedelta

    from freezegun import freeze_time

    from coordinator.db import utcnow

    start = utcnow()
    with freeze_time(start):
        join(client, two_schemes.scheme_a)
        subscriber = subscriber_by_email("robin@example.net")
        token = subscribers.make_confirmation_token(subscriber)
    with freeze_time(start + timedelta(days=8)):
        response = client.get(f"/join/confirm/{token}")
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "expired" in page and 'href="/join/hayes-lane-watch"' in page and QUICK_EXIT in page
    forged = client.get(f"/join/confirm/{token[:-3]}xyz")
    assert forged.status_code == 400 and "not valid" in forged.get_data(as_text=True)
    assert client.post(f"/join/confirm/{token[:-3]}xyz").status_code == 400
    assert subscriber_by_email("robin@example.net").status == Status.PENDING


# --- the coordinator's pages -------------------------------------------------------------------------------------


def test_a_coordinator_sees_counts_and_filters_their_subscribers(client, two_schemes):
    s = two_schemes
    for n in range(53):
        make_subscriber(s.scheme_a, f"reader{n:02d}@example.net")
    make_subscriber(s.scheme_a, "waiting@example.net", status=Status.PENDING)
    make_subscriber(s.scheme_a, "gone@example.net", status=Status.UNSUBSCRIBED)
    db.session.commit()
    login_as(client, s.coordinator_a)
    page = client.get(f"/schemes/{s.scheme_a.id}/subscribers").get_data(as_text=True)
    assert "<caption>Subscribers by status</caption>" in page
    assert re.search(r'Confirmed \(get bulletins\)</th><td class="num">53<', page)
    assert re.search(r'Waiting for confirmation</th><td class="num">1<', page)
    assert re.search(r'Total</th><td class="num">55<', page)
    assert "55 subscribers, page 1 of 2" in page
    assert f'href="/schemes/{s.scheme_a.id}/subscribers?page=2"' in page
    assert "http://127.0.0.1:5000/join/hayes-lane-watch" in page
    assert page.count(f'href="/schemes/{s.scheme_a.id}/subscribers/') >= 50
    second = client.get(f"/schemes/{s.scheme_a.id}/subscribers?page=2").get_data(as_text=True)
    assert "page 2 of 2" in second
    pending = client.get(f"/schemes/{s.scheme_a.id}/subscribers?status=pending").get_data(as_text=True)
    assert "waiting@example.net" in pending and "reader01@example.net" not in pending
    found = client.get(f"/schemes/{s.scheme_a.id}/subscribers?q=GONE").get_data(as_text=True)
    assert "gone@example.net" in found and "1 subscriber found" in found
    odd = client.get(f"/schemes/{s.scheme_a.id}/subscribers?status=nonsense&page=abc")
    assert odd.status_code == 200


SECRETS = ("secret.reader@example.net", "Secret Reader", "Secret Close Watch", "Confidential Crescent")


def test_a_coordinator_cannot_reach_another_schemes_subscribers(client, two_schemes):
    s = two_schemes
    theirs = make_subscriber(s.scheme_b, "secret.reader@example.net", name="Secret Reader", street=s.street_b)
    db.session.commit()
    login_as(client, s.coordinator_a)
    token = csrf_from(client.get(f"/schemes/{s.scheme_a.id}/subscribers/import").get_data(as_text=True))
    attempts = [
        client.get(f"/schemes/{s.scheme_b.id}/subscribers"),
        client.get(f"/schemes/{s.scheme_b.id}/subscribers/{theirs.id}"),
        client.get(f"/schemes/{s.scheme_b.id}/subscribers/{theirs.id}/erase"),
        client.get(f"/schemes/{s.scheme_b.id}/subscribers/import"),
        # Their subscriber reached through one's own scheme.
        client.get(f"/schemes/{s.scheme_a.id}/subscribers/{theirs.id}"),
        client.get(f"/schemes/{s.scheme_a.id}/subscribers/{theirs.id}/erase"),
        client.post(f"/schemes/{s.scheme_b.id}/subscribers/{theirs.id}/export", data={"csrf_token": token}),
        client.post(f"/schemes/{s.scheme_a.id}/subscribers/{theirs.id}/export", data={"csrf_token": token}),
        client.post(f"/schemes/{s.scheme_b.id}/subscribers/{theirs.id}/erase", data={"csrf_token": token}),
        client.post(f"/schemes/{s.scheme_a.id}/subscribers/{theirs.id}/erase", data={"csrf_token": token}),
    ]
    for response in attempts:
        assert response.status_code == 404
        body = response.get_data(as_text=True)
        for secret in SECRETS:
            assert secret not in body
    theirs = subscriber_by_email("secret.reader@example.net")
    assert theirs is not None and theirs.erased_at is None
    assert db.session.scalar(select(func.count()).where(AuditEntry.action.startswith("subscribers."))) == 0


def test_anonymous_visitors_are_sent_to_log_in(client, two_schemes):
    response = client.get(f"/schemes/{two_schemes.scheme_a.id}/subscribers")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_export_downloads_json_with_the_consent_record(client, two_schemes):
    s = two_schemes
    subscriber = make_subscriber(s.scheme_a, "robin@example.net", name="Robin Ash", street=s.street_a)
    db.session.commit()
    login_as(client, s.coordinator_a)
    detail = f"/schemes/{s.scheme_a.id}/subscribers/{subscriber.id}"
    page = client.get(detail).get_data(as_text=True)
    assert "robin@example.net" in page and subscriber.consent_wording in page
    response = post_form(client, f"{detail}/export", page=detail)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == f'attachment; filename="subscriber-{subscriber.id}.json"'
    data = json.loads(response.get_data(as_text=True))
    assert data["subscriber"]["email"] == "robin@example.net"
    assert data["consent"]["wording"] == subscriber.consent_wording
    assert data["consent"]["method"] == "web form" and data["consent"]["consented_at"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.exported"))
    assert entry.actor_id == s.coordinator_a.id and entry.object_id == str(subscriber.id)
    # Without the CSRF token nothing is exported.
    assert client.post(f"{detail}/export").status_code == 400


def test_erasing_from_the_pages_keeps_the_counts(client, two_schemes):
    s = two_schemes
    subscriber = make_subscriber(s.scheme_a, "forget.me@example.net", name="Forget Me")
    make_subscriber(s.scheme_a, "stays@example.net")
    db.session.commit()
    login_as(client, s.coordinator_a)
    erase_url = f"/schemes/{s.scheme_a.id}/subscribers/{subscriber.id}/erase"
    confirm_page = client.get(erase_url).get_data(as_text=True)
    assert "Erase forget.me@example.net from Hayes Lane Watch?" in confirm_page
    assert subscriber_by_email("forget.me@example.net") is not None  # the GET changed nothing
    response = post_form(client, erase_url)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Subscriber #{subscriber.id} is erased" in page
    assert re.search(r'Erased</th><td class="num">1<', page) and re.search(r'Total</th><td class="num">2<', page)
    assert "forget.me@example.net" not in page and "Forget Me" not in page
    assert "forget.me@example.net" not in everything_stored()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.erased"))
    assert entry.actor_id == s.coordinator_a.id and "forget.me" not in entry.summary


def test_importing_members_from_the_page(app, client, two_schemes):
    s = two_schemes
    make_subscriber(s.scheme_a, "already@example.net")
    db.session.commit()
    login_as(client, s.coordinator_a)
    url = f"/schemes/{s.scheme_a.id}/subscribers/import"
    data = csv_bytes("new.member@example.net,New Member,Hayes Lane", "already@example.net,,")
    response = post_form(client, url, {"file": (io.BytesIO(data), "members.csv")},
                         content_type="multipart/form-data")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Added 1 address" in page and "already on the list (confirmed); left as it is" in page
    assert subscriber_by_email("new.member@example.net").status == Status.PENDING
    assert [m["To"].addresses[0].addr_spec for m in outbox_messages(app)] == ["new.member@example.net"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (csv_bytes("fine@example.net,,", "bad-address,,", "=cmd|' /C calc'!A0,,"), "formula"),
        (csv_bytes("fine@example.net,Ann Lée,", encoding="latin-1"), "not UTF-8"),
        (b"fine@example.net,Ann,\r\n", "must be the header"),
    ],
    ids=["bad-rows", "latin-1", "no-header"],
)
def test_a_bad_file_on_the_page_imports_nothing(app, client, two_schemes, data, expected):
    s = two_schemes
    login_as(client, s.coordinator_a)
    url = f"/schemes/{s.scheme_a.id}/subscribers/import"
    response = post_form(client, url, {"file": (io.BytesIO(data), "members.csv")}, content_type="multipart/form-data")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert expected in page
    assert "Nothing was imported" in page or "There is a problem" in page
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0
    assert outbox_messages(app) == []
