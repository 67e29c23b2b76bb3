"""Sessions: logging out ends that login on the server, every login has an absolute lifetime as well as the idle one,
the cookie outlives the idle limit, and a visitor reading a page without a form is given no cookie."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from freezegun import freeze_time
from sqlalchemy import func, select

from coordinator.auth.models import LoginSession
from coordinator.bulletins.subscribers import unsubscribe_url
from coordinator.extensions import db
from tests.factories import PASSWORD, make_admin, make_campaign, make_subscriber, make_user
from tests.helpers.web import csrf_from, login_as, post_form

SESSION_COOKIE, REMEMBER_COOKIE = "nwc_session", "nwc_remember"


def _log_in_remembered(client, user) -> None:
    response = post_form(client, "/account/login", {"email": user.email, "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302


def _log_out(client) -> None:
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/account/logout", data={"csrf_token": token}).status_code == 302


def _is_logged_in(client) -> bool:
    response = client.get("/account/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _with_cookie(app, name: str, value: str):
    device = app.test_client()
    device.set_cookie(name, value)
    return device


def _logins() -> int:
    return db.session.scalar(select(func.count()).select_from(LoginSession))


def test_logging_out_ends_that_login_for_a_copied_session_cookie_and_remember_me_cookie(app):
    user = make_user()
    db.session.commit()
    laptop, phone = app.test_client(), app.test_client()
    _log_in_remembered(laptop, user)
    login_as(phone, user)
    copied_session = laptop.get_cookie(SESSION_COOKIE).value
    copied_remember = laptop.get_cookie(REMEMBER_COOKIE).value
    assert _is_logged_in(_with_cookie(app, SESSION_COOKIE, copied_session))  # the copy works while logged in

    _log_out(laptop)

    assert not _is_logged_in(laptop)
    assert not _is_logged_in(_with_cookie(app, SESSION_COOKIE, copied_session))
    assert not _is_logged_in(_with_cookie(app, REMEMBER_COOKIE, copied_remember))
    assert _is_logged_in(phone)  # exactly that login ended, not the phone's
    assert _logins() == 1


def test_the_session_cookie_outlives_the_idle_limit_which_the_server_enforces(app):
    user = make_user()
    db.session.commit()
    device = app.test_client()
    with freeze_time("2026-03-01 09:00:00") as frozen:
        page = device.get("/account/login")
        response = device.post("/account/login", data={"email": user.email, "password": PASSWORD,
                                                       "csrf_token": csrf_from(page.get_data(as_text=True))})
        [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{SESSION_COOKIE}=")]
        expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
        # The browser keeps the cookie to the absolute lifetime, so it still sends it once the person is idle.
        assert expires - datetime.now(UTC) == app.config["SESSION_ABSOLUTE_LIFETIME"] > timedelta(hours=1)

        frozen.tick(timedelta(minutes=29))
        assert _is_logged_in(device)
        frozen.tick(timedelta(minutes=31))
        assert device.get_cookie(SESSION_COOKIE) is not None
        assert not _is_logged_in(device)


def test_a_login_ends_at_the_absolute_lifetime_however_active_and_remembered_or_not(app):
    user = make_user()
    db.session.commit()
    busy, remembered = app.test_client(), app.test_client()
    with freeze_time("2026-03-01 09:00:00") as frozen:
        login_as(busy, user)
        _log_in_remembered(remembered, user)
        remember_cookie = remembered.get_cookie(REMEMBER_COOKIE).value
        for _ in range(35):  # a request every 20 minutes for 11 h 40 min
            frozen.tick(timedelta(minutes=20))
            assert _is_logged_in(busy)
        # Remembered: idle for hours, still logged in by the remember-me cookie.
        assert _is_logged_in(_with_cookie(app, REMEMBER_COOKIE, remember_cookie))

        frozen.tick(timedelta(minutes=21))  # 12 h 1 min after logging in
        assert not _is_logged_in(busy)
        assert not _is_logged_in(_with_cookie(app, REMEMBER_COOKIE, remember_cookie))

        # Logging in again begins a new login, and clears away the ones past the absolute lifetime.
        login_as(busy, user)
        assert _is_logged_in(busy) and _logins() == 1


def test_files_the_same_for_everyone_neither_renew_the_cookie_nor_count_as_activity(app):
    user = make_user()
    db.session.commit()
    device = app.test_client()
    with freeze_time("2026-03-01 09:00:00") as frozen:
        login_as(device, user)
        for _ in range(4):  # a page left open, its browser fetching a stylesheet again every 10 minutes
            frozen.tick(timedelta(minutes=10))
            for path in ("/static/app.css", "/favicon.ico"):
                with device.get(path) as response:
                    # A shared cache may keep these answers: it must never be handed someone's session cookie.
                    assert response.status_code == 200 and not _sets_a_cookie(response), path
        assert not _is_logged_in(device)


def _sets_a_cookie(response) -> bool:
    return bool(response.headers.getlist("Set-Cookie"))


def test_a_visitor_gets_a_cookie_only_from_a_page_with_a_form(app, two_schemes):
    campaign = make_campaign(make_admin(), title="Lock up")
    subscriber = make_subscriber(two_schemes.scheme_a)
    db.session.commit()
    unsubscribe = urlsplit(unsubscribe_url(subscriber)).path
    for path in ("/campaigns/", f"/campaigns/{campaign.item.slug}", "/campaigns/no-such-campaign",
                 "/join/hayes-lane-watch/check-your-email", "/join/hayes-lane-watch/subscribed",
                 "/join/confirm/not-a-real-token", "/no-such-page"):
        response = app.test_client().get(path)
        assert response.status_code in (200, 400, 404), path
        assert not _sets_a_cookie(response), path
    # Unsubscribing is a button that needs no token: the answer page gives no cookie either.
    done = app.test_client().post(unsubscribe)
    assert done.status_code == 200 and not _sets_a_cookie(done)

    # A page with a form needs its CSRF token kept, and so a session.
    for path in ("/join/hayes-lane-watch", "/account/login"):
        response = app.test_client().get(path)
        assert [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{SESSION_COOKIE}=")], path
