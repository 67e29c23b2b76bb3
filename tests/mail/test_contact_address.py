"""A scheme's contact email is every bulletin's Reply-To: one the mail library refuses is refused where typed."""

from __future__ import annotations

import pytest

from coordinator.extensions import db
from tests.factories import make_scheme, make_user
from tests.helpers.web import login_as, post_form


@pytest.mark.parametrize("typed", ["zoë@example.org", "watch@exämple.org"])
def test_the_contact_form_refuses_an_address_no_bulletin_could_reply_to(client, typed):
    coordinator = make_user()
    scheme = make_scheme("Hayes Lane Watch", [coordinator], contact_email="hayes.watch@example.org")
    db.session.commit()
    login_as(client, coordinator)
    response = post_form(client, f"/schemes/{scheme.id}/contact",
                         {"contact_email": typed, "contact_phone": "", "contact_other": ""})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Enter an address without accented letters or other alphabets, like watch@example.org" in page
    db.session.refresh(scheme)
    assert scheme.contact_email == "hayes.watch@example.org"
