"""Links in emails: PUBLIC_BASE_URL, or in development without it, the address the request came to."""

from __future__ import annotations

import pytest

from coordinator.extensions import db
from coordinator.links import public_base_url, public_url
from tests.factories import make_scheme
from tests.helpers.web import csrf_from, outbox_messages

CONFIRM = "/join/confirm/"


@pytest.fixture
def unset(app):
    """PUBLIC_BASE_URL left at its default, as `make run` leaves it."""
    app.config.update(PUBLIC_BASE_URL="http://127.0.0.1:5000", PUBLIC_BASE_URL_IS_SET=False)
    return app


def test_a_link_made_in_a_request_follows_the_address_the_app_is_served_on_until_one_is_set(unset):
    with unset.test_request_context("/", base_url="http://127.0.0.1:5101/"):
        assert public_base_url() == "http://127.0.0.1:5101/"
        assert public_url("bulletins.join", slug="hayes") == "http://127.0.0.1:5101/join/hayes"
    # Outside a request (the worker, a command) there is only the configured address.
    assert public_url("bulletins.join", slug="hayes") == "http://127.0.0.1:5000/join/hayes"
    # In production a request's Host header never makes a link: it is the visitor's to choose.
    unset.config["ENV_NAME"] = "production"
    with unset.test_request_context("/", base_url="http://evil.example/"):
        assert public_url("bulletins.join", slug="hayes") == "http://127.0.0.1:5000/join/hayes"
    # A set address always wins.
    unset.config.update(ENV_NAME="development", PUBLIC_BASE_URL="https://watch.example.org", PUBLIC_BASE_URL_IS_SET=True)
    with unset.test_request_context("/", base_url="http://127.0.0.1:5101/"):
        assert public_url("bulletins.join", slug="hayes") == "https://watch.example.org/join/hayes"


def test_development_without_the_variable_follows_the_request(app, monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    app.config.pop("PUBLIC_BASE_URL_IS_SET", None)
    app.config["ENV_NAME"] = "development"
    with app.test_request_context("/", base_url="http://127.0.0.1:5101/"):
        assert public_url("bulletins.join", slug="hayes") == "http://127.0.0.1:5101/join/hayes"
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://watch.example.org")
    with app.test_request_context("/", base_url="http://127.0.0.1:5101/"):
        assert public_url("bulletins.join", slug="hayes").startswith(app.config["PUBLIC_BASE_URL"])


def test_the_confirmation_email_of_a_sign_up_links_to_the_port_it_was_made_on(unset):
    scheme = make_scheme("Hayes Lane Watch", slug="hayes-lane-watch")
    db.session.commit()
    client, page = unset.test_client(), f"/join/{scheme.slug}"
    token = csrf_from(client.get(page, base_url="http://127.0.0.1:5101").get_data(as_text=True))
    response = client.post(page, base_url="http://127.0.0.1:5101",
                           data={"email": "robin@example.net", "consent": "y", "csrf_token": token})
    assert response.status_code == 302
    [message] = outbox_messages(unset)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f"http://127.0.0.1:5101{CONFIRM}" in text
    assert "127.0.0.1:5000" not in text
