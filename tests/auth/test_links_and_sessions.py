"""Invitation and reset links, changing one's own details, and ending other sessions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from freezegun import freeze_time

from coordinator.auth import services as accounts
from coordinator.extensions import db
from tests.factories import PASSWORD, make_admin, make_user
from tests.helpers.web import csrf_from, login_as, outbox_messages, post_form

NEW_PASSWORD = "a brand new passphrase"


def _link_path(message) -> str:
    body = message.get_body(("plain",)).get_content()
    match = re.search(r"https?://[^/\s]+(/account/set-password/\S+)", body)
    assert match, body
    return match.group(1)


def test_invitation_link_sets_password_once(app, client):
    admin = make_admin()
    invitee = make_user(name="Łukasz Nowak", password=None)
    accounts.invite_user(invitee, invited_by=admin)
    db.session.commit()  # the invitation asked for its delivery: sent at this commit in the eager mode

    [message] = outbox_messages(app)
    assert message["To"].addresses[0].addr_spec == invitee.email
    assert "Łukasz Nowak" in message.get_body(("plain",)).get_content()
    assert message.get_body(("html",)) is not None
    path = _link_path(message)

    page = client.get(path)
    assert page.status_code == 200 and "Welcome, Łukasz Nowak" in page.get_data(as_text=True)
    done = post_form(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert client.get("/").status_code == 200  # logged in by setting the password

    other = app.test_client()
    reused = other.get(path)
    assert reused.status_code == 400
    assert "already been used" in reused.get_data(as_text=True)
    login_as(other, invitee, NEW_PASSWORD)


def test_expired_invitation_is_refused(app, client):
    invitee = make_user(password=None)
    db.session.commit()
    with freeze_time("2026-01-01 10:00:00"):
        token = accounts.make_account_token(invitee, accounts.PURPOSE_INVITATION)
    with freeze_time("2026-01-01 10:00:00") as frozen:
        frozen.tick(app.config["INVITATION_MAX_AGE"] + timedelta(minutes=1))
        response = client.get(f"/account/set-password/{token}")
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_forged_or_mangled_link_is_refused(client):
    user = make_user()
    db.session.commit()
    token = accounts.make_account_token(user, accounts.PURPOSE_RESET)
    for bad in (token[:-2] + "xx", "not-a-token", token.replace(".", "", 1)):
        response = client.get(f"/account/set-password/{bad}")
        assert response.status_code == 400
        assert "not valid" in response.get_data(as_text=True) or "no longer valid" in response.get_data(as_text=True)


def test_password_reset_same_answer_for_unknown_email(app, client):
    user = make_user()
    db.session.commit()
    known = post_form(client, "/account/forgot-password", {"email": user.email}, follow_redirects=True)
    unknown = post_form(client, "/account/forgot-password", {"email": "ghost@example.org"}, follow_redirects=True)
    words = "If that address has an account"
    assert words in known.get_data(as_text=True) and words in unknown.get_data(as_text=True)
    messages = outbox_messages(app)
    assert [m["To"].addresses[0].addr_spec for m in messages] == [user.email]

    path = _link_path(messages[0])
    assert post_form(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert accounts.check_password(db.session.get(type(user), user.id), NEW_PASSWORD)
    # Used once: the same link no longer works.
    assert client.get(path).status_code == 400


def test_changing_password_ends_other_sessions_but_keeps_this_one(app):
    user = make_user()
    db.session.commit()
    laptop, tablet = app.test_client(), app.test_client()
    login_as(laptop, user)
    login_as(tablet, user)
    response = post_form(
        laptop, "/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert laptop.get("/account/").status_code == 200
    ended = tablet.get("/account/")
    assert ended.status_code == 302 and "/account/login" in ended.headers["Location"]


def test_changing_password_needs_the_current_one(client):
    user = make_user()
    db.session.commit()
    login_as(client, user)
    response = post_form(
        client, "/account/password", {"current_password": "wrong one!", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert "That is not your current password." in response.get_data(as_text=True)
    assert accounts.check_password(user, PASSWORD)


def test_remember_me_cookie_stops_working_after_deactivation(app):
    user = make_user()
    db.session.commit()
    device = app.test_client()
    page = device.get("/account/login").get_data(as_text=True)
    device.post("/account/login", data={"email": user.email, "password": PASSWORD, "remember": "y",
                                        "csrf_token": csrf_from(page)})
    remember = device.get_cookie("nwc_remember")
    assert remember is not None
    accounts.deactivate_user(user, by=make_admin())
    db.session.commit()
    fresh = app.test_client()
    fresh.set_cookie("nwc_remember", remember.value)
    response = fresh.get("/account/")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_idle_session_expires(app):
    user = make_user()
    db.session.commit()
    device = app.test_client()
    with freeze_time("2026-03-01 09:00:00") as frozen:
        login_as(device, user)
        frozen.tick(timedelta(minutes=20))
        assert device.get("/account/").status_code == 200  # activity keeps the session alive
        frozen.tick(timedelta(minutes=31))
        response = device.get("/account/")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_user_changes_own_name_without_a_password_but_not_to_a_taken_email(client):
    user = make_user()
    taken = make_user(email="taken@example.org")
    db.session.commit()
    login_as(client, user)
    clash = post_form(client, "/account/", {"name": "New Name", "email": "TAKEN@example.org",
                                            "current_password": PASSWORD})
    assert "That email already has an account." in clash.get_data(as_text=True)
    assert 'value="New Name"' in clash.get_data(as_text=True)  # what was typed survives the error
    ok = post_form(client, "/account/", {"name": "<b>Zoë</b>", "email": user.email}, follow_redirects=True)
    body = ok.get_data(as_text=True)
    assert "&lt;b&gt;Zoë&lt;/b&gt;" in body and "<b>Zoë</b>" not in body and "Your details are saved." in body
    assert user.name == "<b>Zoë</b>" and taken.email == "taken@example.org"


def _email_link_path(message) -> str:
    body = message.get_body(("plain",)).get_content()
    match = re.search(r"https?://[^/\s]+(/account/email/\S+)", body)
    assert match, body
    return match.group(1)


def test_changing_email_asks_the_password_confirms_by_a_link_and_tells_the_old_address(app, client):
    user = make_user(email="old.address@example.org")
    db.session.commit()
    login_as(client, user)
    reset_link = accounts.account_link(user, accounts.PURPOSE_RESET)  # sent to the old address earlier

    unproven = post_form(client, "/account/", {"name": user.name, "email": "new.address@example.net"})
    assert "Enter your current password to change your email address" in unproven.get_data(as_text=True)
    wrong = post_form(client, "/account/", {"name": user.name, "email": "new.address@example.net",
                                            "current_password": "not my password"})
    assert "That is not your current password." in wrong.get_data(as_text=True)
    assert outbox_messages(app) == []

    asked = post_form(client, "/account/", {"name": user.name, "email": "new.address@example.net",
                                            "current_password": PASSWORD}, follow_redirects=True)
    assert "We have sent a link to new.address@example.net" in asked.get_data(as_text=True)
    assert user.email == "old.address@example.org"  # not until the link is followed
    [confirmation] = outbox_messages(app)
    assert confirmation["To"].addresses[0].addr_spec == "new.address@example.net"
    path = _email_link_path(confirmation)

    # Following the link (as a mail scanner would) changes nothing; the button does.
    assert "new.address@example.net" in app.test_client().get(path).get_data(as_text=True)
    assert user.email == "old.address@example.org"
    done = post_form(app.test_client(), path)
    assert done.status_code == 302
    assert user.email == "new.address@example.net"
    notice = outbox_messages(app)[-1]
    assert notice["To"].addresses[0].addr_spec == "old.address@example.org"
    assert "now logs in as new.address@example.net" in notice.get_body(("plain",)).get_content()

    assert app.test_client().get(path).status_code == 400  # used once
    assert client.get(reset_link.split("5000", 1)[1]).status_code == 400  # links to the old address are spent
    login_as(app.test_client(), user)


@pytest.mark.parametrize(("password", "why"), [
    ("password1234", "too easy to guess"),
    ("Qwertyuiop123", "too easy to guess"),
    ("neighbourhoodwatch1", "too easy to guess"),
    ("kim.jones.2024!", "does not contain your email address"),
    ("KimJones-1234", "does not contain your email address"),
])
def test_common_passwords_and_ones_made_of_the_email_are_refused(client, password, why):
    user = make_user(email="kim.jones@example.org", name="Kim Jones")
    db.session.commit()
    login_as(client, user)
    response = post_form(client, "/account/password",
                         {"current_password": PASSWORD, "password": password, "confirm": password})
    assert response.status_code == 200 and why in response.get_data(as_text=True)
    assert accounts.check_password(user, PASSWORD)
    # Invitations and resets apply the same rules.
    with pytest.raises(accounts.AccountError, match=why):
        accounts.set_password(user, password)


def test_passwords_are_argon2id_at_owasp_parameters():
    params = accounts.password_hasher
    assert params.type.name == "ID"
    assert params.memory_cost >= 19 * 1024 and params.time_cost >= 2
    assert accounts.hash_password("x" * 12).startswith("$argon2id$")


@pytest.mark.parametrize("target", ["/", "/account/", "/account/password", "/admin/", "/schemes/1"])
def test_pages_need_login(client, target):
    response = client.get(target)
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
