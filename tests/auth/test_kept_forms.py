"""A form sent after the session ended is kept, and sent again after logging in: what was typed is never lost."""

from __future__ import annotations

import io
import re
import time
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from coordinator.bulletins.models import Bulletin
from coordinator.extensions import db
from tests.bulletins.helpers import compose_values
from tests.factories import PASSWORD, make_user
from tests.helpers.hostile import HOSTILE_TEXTS
from tests.helpers.web import csrf_from, login_as, post_form

SAME_SITE = {"Sec-Fetch-Site": "same-origin"}
KEPT = "/account/kept-form"


def _type_until_the_session_ends(app, client, url: str) -> str:
    """Open the form, then take longer than the session lasts; returns the form's (now useless) CSRF token."""
    app.config["SESSION_IDLE_LIFETIME"] = timedelta(seconds=1)
    token = csrf_from(client.get(url).get_data(as_text=True))
    time.sleep(2.1)  # more than a second since the last request: the session is idle, so over
    return token


def _send(client, url: str, values: dict, token: str, headers=SAME_SITE):
    return client.post(url, data={**values, "csrf_token": token}, headers=headers)


def _bulletins() -> list[Bulletin]:
    db.session.expire_all()
    return list(db.session.scalars(select(Bulletin)))


def _kept_fields(html: str) -> list[tuple[str, str]]:
    form = html.split('<main id="main"', 1)[1].split("</form>", 1)[0]
    return [(unescape(name), unescape(value)) for name, value in
            re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', form) if name != "csrf_token"]


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS[:1])
def test_a_bulletin_typed_past_the_idle_timeout_is_sent_after_logging_in_again(
        app, client, world, hostile):
    s = world.s
    url = f"/schemes/{s.scheme_a.id}/bulletins/new"
    login_as(client, s.coordinator_a)
    token = _type_until_the_session_ends(app, client, url)
    intro = f"Line one {hostile}\nLine two, after a break."
    values = compose_values(world, subject=f"Scams {hostile}", intro=intro)

    refused = _send(client, url, values, token)
    assert refused.status_code == 302 and refused.headers["Location"] == "/account/login?next=/account/kept-form"
    assert _bulletins() == []
    # The session that carries the notice is new: under a busy machine more than the 1-second lifetime may pass
    # before the login page is asked for, which would end it too. The session that mattered has ended already.
    app.config["SESSION_IDLE_LIFETIME"] = timedelta(minutes=30)
    login_page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "What you typed is kept: log in again to send it." in login_page

    logged_in = post_form(client, refused.headers["Location"], {"email": s.coordinator_a.email, "password": PASSWORD})
    assert logged_in.headers["Location"] == KEPT
    html = client.get(KEPT).get_data(as_text=True)
    assert f'action="{url}"' in html and hostile not in html  # escaped in the page, whole in the fields
    fields = _kept_fields(html)
    assert ("subject", f"Scams {hostile}") in fields and ("intro", intro) in fields
    assert ("campaigns", str(world.campaign.id)) in fields

    sent = client.post(url, data=MultiDict([*fields, ("csrf_token", csrf_from(html))]))
    assert sent.status_code == 302
    [bulletin] = _bulletins()
    assert bulletin.subject == f"Scams {hostile}" and bulletin.intro.replace("\r\n", "\n") == intro
    # Sent once, it is forgotten.
    assert client.get(KEPT).headers["Location"] == "/"


def test_a_form_posted_from_another_site_is_refused_and_not_kept(app, client, world):
    s = world.s
    url = f"/schemes/{s.scheme_a.id}/bulletins/new"
    login_as(client, s.coordinator_a)
    token = _type_until_the_session_ends(app, client, url)
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}, {}):
        refused = _send(client, url, compose_values(world, subject="Planted words"), token, headers=headers)
        assert refused.status_code == 400, headers
        assert "Your form has expired or was sent from elsewhere" in refused.get_data(as_text=True)
    # (Logging in before the lifetime goes back to 30 minutes: the refusals left the ended cookie in place.)
    login_as(client, s.coordinator_a)
    app.config["SESSION_IDLE_LIFETIME"] = timedelta(minutes=30)
    assert client.get(KEPT).headers["Location"] == "/"
    assert _bulletins() == []


def test_someone_else_logging_in_on_the_same_computer_is_not_offered_it(app, client, world):
    s = world.s
    url = f"/schemes/{s.scheme_a.id}/bulletins/new"
    login_as(client, s.coordinator_a)
    token = _type_until_the_session_ends(app, client, url)
    assert _send(client, url, compose_values(world, subject="Private draft"), token).status_code == 302
    app.config["SESSION_IDLE_LIFETIME"] = timedelta(minutes=30)

    login_as(client, s.coordinator_b)
    response = client.get(KEPT)
    assert response.status_code == 302 and "Private draft" not in client.get("/").get_data(as_text=True)


def test_passwords_files_and_account_pages_are_never_kept(app, client, world):
    s = world.s
    url = f"/schemes/{s.scheme_a.id}/bulletins/new"
    login_as(client, s.coordinator_a)
    token = _type_until_the_session_ends(app, client, "/account/password")
    # The account pages (passwords) are never kept.
    profile = _send(client, "/account/password", {"current_password": PASSWORD, "new_password": "x" * 20}, token)
    assert profile.status_code == 400
    # A form that is only a file (an import) has nothing that can be kept.
    upload = {"file": (io.BytesIO(b"email\r\nkim@example.net\r\n"), "members.csv")}
    assert _send(client, f"/schemes/{s.scheme_a.id}/subscribers/import", upload, token).status_code == 400
    # A field named like a password is left out of what is kept.
    kept = _send(client, url, {**compose_values(world), "password_hint": "secret"}, token)
    assert kept.status_code == 302
    post_form(client, "/account/login?next=/account/kept-form",
              {"email": s.coordinator_a.email, "password": PASSWORD})
    app.config["SESSION_IDLE_LIFETIME"] = timedelta(minutes=30)
    fields = dict(_kept_fields(client.get(KEPT).get_data(as_text=True)))
    assert "password_hint" not in fields and fields["subject"] == "Doorstep scams: what to do"


def test_kept_words_can_be_thrown_away(app, client, world):
    s = world.s
    url = f"/schemes/{s.scheme_a.id}/bulletins/new"
    login_as(client, s.coordinator_a)
    token = _type_until_the_session_ends(app, client, url)
    _send(client, url, compose_values(world), token)
    app.config["SESSION_IDLE_LIFETIME"] = timedelta(minutes=30)
    post_form(client, "/account/login", {"email": s.coordinator_a.email, "password": PASSWORD})
    response = post_form(client, "/account/kept-form/discard", page=KEPT)
    assert response.status_code == 302
    assert client.get(KEPT).headers["Location"] == "/" and _bulletins() == []


def test_a_logged_in_person_whose_form_expired_goes_straight_to_it(app, client, world):
    s = world.s
    url = f"/schemes/{s.scheme_a.id}/bulletins/new"
    login_as(client, s.coordinator_a)
    # A token from another session (an old tab, say) is refused though the session is alive.
    response = _send(client, url, compose_values(world, subject="From an old tab"), "not-this-sessions-token")
    assert response.headers["Location"] == KEPT
    assert ("subject", "From an old tab") in _kept_fields(client.get(KEPT).get_data(as_text=True))


def test_nothing_kept_says_so(client):
    user = make_user()
    db.session.commit()
    login_as(client, user)
    response = client.get(KEPT, follow_redirects=True)
    assert "There is no kept form to send." in response.get_data(as_text=True)


def test_log_out_pressed_after_the_session_ended_says_logged_out(app, client):
    user = make_user()
    db.session.commit()
    login_as(client, user)
    token = _type_until_the_session_ends(app, client, "/")
    response = client.post("/account/logout", data={"csrf_token": token}, headers=SAME_SITE)
    assert response.status_code == 302 and response.headers["Location"] == "/account/login"
    assert "You are logged out." in client.get("/account/login").get_data(as_text=True)


def test_a_long_campaign_with_a_picture_is_kept_without_the_picture(app, client):
    from coordinator.auth.models import KeptForm
    from tests.content.helpers import campaign_form
    from tests.factories import make_admin
    from tests.helpers.images import png

    admin = make_admin()
    db.session.commit()
    login_as(client, admin)
    url = "/content/new/campaign"
    token = _type_until_the_session_ends(app, client, url)
    body = "\n\n".join(f"Paragraph {n}: {'look out for your neighbours ' * 20}" for n in range(25))  # 15 KB
    values = {**campaign_form(title="Winter safety", body=body), "image": (io.BytesIO(png()), "p.png"),
              "csrf_token": token}
    refused = client.post(url, data=values, headers=SAME_SITE, content_type="multipart/form-data")
    assert refused.headers["Location"] == "/account/login?next=/account/kept-form"
    post_form(client, refused.headers["Location"], {"email": admin.email, "password": PASSWORD})
    app.config["SESSION_IDLE_LIFETIME"] = timedelta(minutes=30)
    html = client.get(KEPT).get_data(as_text=True)
    assert "A file you chose is not kept." in html
    fields = dict(_kept_fields(html))
    assert fields["body"].replace("\r\n", "\n") == body and "image" not in fields
    # Sent, it is gone from the database too.
    sent = client.post(url, data={**fields, "csrf_token": csrf_from(html)})
    assert sent.status_code == 302
    assert db.session.scalars(select(KeptForm)).all() == []


def test_kept_forms_older_than_two_days_are_deleted_when_another_is_kept(app, client, world):
    from coordinator.auth.models import KeptForm
    from coordinator.db import utcnow

    s = world.s
    db.session.add(KeptForm(user_id=s.coordinator_b.id, path="/", fields=[["a", "b"]],
                            created_at=utcnow() - timedelta(days=3)))
    db.session.commit()
    url = f"/schemes/{s.scheme_a.id}/bulletins/new"
    login_as(client, s.coordinator_a)
    token = _type_until_the_session_ends(app, client, url)
    _send(client, url, compose_values(world), token)
    db.session.expire_all()
    assert [row.user_id for row in db.session.scalars(select(KeptForm))] == [s.coordinator_a.id]
