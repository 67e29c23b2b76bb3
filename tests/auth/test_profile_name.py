"""One's own name, typed on My account, holds no hidden control character (coordinator.plain_text)."""

from __future__ import annotations

from coordinator.extensions import db
from tests.factories import PASSWORD, make_user
from tests.helpers.web import login_as, post_form


def test_ones_own_name_is_refused_with_an_override(client):
    pat = make_user(name="Pat Okafor")
    db.session.commit()
    login_as(client, pat)
    response = post_form(client, "/account/", {"name": "Pat \u202eOkafor", "email": pat.email,
                                               "current_password": PASSWORD})
    assert "Your name contains a hidden control character" in response.get_data(as_text=True)
    db.session.refresh(pat)
    assert pat.name == "Pat Okafor"
