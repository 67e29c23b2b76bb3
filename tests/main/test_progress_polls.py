"""A page polling its own progress (progress.js) is not the person: no renewed session, no flash messages."""

from __future__ import annotations

import time
from datetime import timedelta

from coordinator.extensions import db
from tests.factories import make_user
from tests.helpers.web import login_as

POLL = {"X-Progress-Poll": "1"}
SESSION_COOKIE = "nwc_session"


def _sets_session_cookie(response) -> bool:
    return any(header.startswith(f"{SESSION_COOKIE}=") for header in response.headers.getlist("Set-Cookie"))


def test_a_poll_leaves_the_flash_messages_for_the_next_page(client):
    user = make_user()
    db.session.commit()
    login_as(client, user)  # the login flashes nothing; a message is left as a finished action would leave it
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "The print order is ready.")]

    polled = client.get("/", headers=POLL)
    assert polled.status_code == 200 and "The print order is ready." not in polled.get_data(as_text=True)
    assert not _sets_session_cookie(polled)
    assert "The print order is ready." in client.get("/").get_data(as_text=True)


def test_polls_do_not_keep_an_idle_session_alive(app, client):
    user = make_user()
    db.session.commit()
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=2)
    login_as(client, user)
    for _ in range(3):  # 3 s of polling, every second
        time.sleep(1)
        assert client.get("/", headers=POLL).status_code in (200, 302)
    # Nobody did anything for 3 s: the session is over, as it would be after 30 minutes of polling.
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/account/login")


def test_a_person_opening_pages_keeps_the_session_alive(app, client):
    user = make_user()
    db.session.commit()
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=2)
    login_as(client, user)
    for _ in range(3):
        time.sleep(1)
        response = client.get("/")
        assert response.status_code == 200 and _sets_session_cookie(response)
