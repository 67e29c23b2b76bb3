"""Hidden control characters (a right-to-left override, a zero-width space) are refused where text is typed:
content, the names of coordinators, schemes and the association; and a leaflet meets the same rule."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from coordinator.auth.models import User
from coordinator.content.models import ContentVersion
from coordinator.extensions import db
from coordinator.plain_text import hidden_character
from coordinator.schemes.models import Scheme
from tests.factories import make_admin, make_scheme, make_user
from tests.helpers.web import login_as, post_form

# What a reader sees as "Call 0808 802 4040" once the override has turned the digits round.
OVERRIDDEN = "Call \u202e0404 208 8080"


@pytest.mark.parametrize(
    "character",
    ["\u202e", "\u202a", "\u2066", "\u200e", "\u200f", "\u061c", "\u200b", "\u2060", "\ufeff", "\x07", "\x1b", "\x85"],
)
def test_overrides_marks_zero_width_characters_and_controls_are_hidden_characters(character):
    assert hidden_character(f"Hayes{character}Lane") == character


@pytest.mark.parametrize(
    "text",
    [
        "Łukasz and Zoë's street",
        "مرحبا بكم في الاجتماع",  # Arabic lays out right to left without any control character
        "שלום לכולם",
        "नमस्ते पड़ोसियों",
        "می\u200cخواهم",  # Persian needs the zero-width non-joiner
        "\U0001f469\u200d\U0001f467",  # an emoji family needs the zero-width joiner
        "Line one\nLine two\twith a tab\r\n",
    ],
)
def test_real_writing_in_any_script_has_no_hidden_characters(text):
    assert hidden_character(text) is None


def _versions() -> int:
    return db.session.scalar(select(func.count()).select_from(ContentVersion))


@pytest.mark.parametrize(
    ("url", "data", "field"),
    [
        ("/content/new/campaign", {"title": "Bike marking day", "summary": "Free bike marking.",
                                   "call_to_action": OVERRIDDEN, "language": "en-GB"}, "Call to action"),
        ("/content/new/campaign", {"title": "Bike\u200bmarking", "summary": "Free bike marking.",
                                   "language": "en-GB"}, "Title"),
        ("/content/new/campaign", {"title": "Bike marking day", "summary": "Free bike marking.", "language": "en-GB",
                                   "key_messages": "Mark your bike\nRing \u2067101\u2069"}, "Key messages"),
        ("/content/new/helpline", {"title": "Respect Phoneline", "number": "0808 802 4040",
                                   "who_for": "Anyone \u202eworried", "free_to_call": "auto"}, "Who it is for"),
    ],
)
def test_content_typed_with_hidden_characters_is_refused_beside_its_field(client, url, data, field):
    admin = make_admin()
    db.session.commit()
    login_as(client, admin)
    response = post_form(client, url, data)
    assert response.status_code == 200
    assert f"{field} contains a hidden control character" in response.get_data(as_text=True)
    assert _versions() == 0


def test_a_local_notice_typed_with_an_override_is_refused(client):
    pat = make_user()
    scheme = make_scheme(coordinators=[pat])
    db.session.commit()
    login_as(client, pat)
    response = post_form(client, f"/content/schemes/{scheme.id}/notices/new",
                         {"title": "Meeting", "body": f"Church hall. {OVERRIDDEN}"})
    assert "Notice contains a hidden control character, U+202E (right-to-left override)" in response.get_data(
        as_text=True)
    assert _versions() == 0


def test_coordinator_and_scheme_names_typed_by_an_admin_are_refused(client):
    admin = make_admin()
    db.session.commit()
    login_as(client, admin)
    invited = post_form(client, "/admin/users/invite",
                        {"email": "pat@example.org", "name": "Pat \u202eOkafor", "scheme": "0", "scheme_role": "main"})
    assert "Name contains a hidden control character" in invited.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "pat@example.org")) is None
    scheme = post_form(client, "/admin/schemes/new", {"name": "Hayes\u200bLane Watch", "ward": "Hayes"})
    assert "Scheme name contains a hidden control character, U+200B (zero width space)" in scheme.get_data(
        as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Scheme)) == 0


def test_the_association_name_is_refused_with_an_override(client):
    admin = make_admin()
    db.session.commit()
    login_as(client, admin)
    response = post_form(client, "/admin/settings", {
        "association_name": "Bromley \u202eWatch", "footer_text": "", "sender_address": "", "spare_copies_percent": "5",
        "helpline_review_months": "6", "helpline_grace_days": "30", "messages_per_second": "20",
    })
    assert "Association name contains a hidden control character" in response.get_data(as_text=True)


def test_a_leaflet_refuses_what_the_forms_refuse(app):
    # Content that came another way (a pack, an older version) meets the same rule before it prints.
    from coordinator.leaflets.render import LeafletError, check_leaflet_data
    from tests.pdf.samples import sample_leaflet

    with pytest.raises(LeafletError, match="hidden control characters"):
        check_leaflet_data(sample_leaflet(call_to_action="Call 0808\u200f 802 4040"))
