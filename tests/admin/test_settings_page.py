"""The settings page: admins change the association's settings; bad values are refused at the field."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.settings import AssociationSettings, get_settings
from tests.admin.helpers import HOSTILE, actions
from tests.factories import make_admin, make_user
from tests.helpers.web import csrf_from, login_as, post_form

URL = "/admin/settings"

GOOD = {
    "association_name": "Bromley Neighbourhood Watch Association",
    "footer_text": "Neighbourhood Watch volunteers are unpaid, at every level.",
    "sender_address": "",
    "spare_copies_percent": "5",
    "helpline_review_months": "6",
    "helpline_grace_days": "30",
    "is_four_eyes_required": "y",
    "messages_per_second": "20",
}


@pytest.fixture
def admin(app, client):
    admin = make_admin(name="Alex Admin", email="alex@example.org")
    db.session.commit()
    login_as(client, admin)
    return admin


def _saved() -> AssociationSettings:
    db.session.expire_all()
    return db.session.scalar(select(AssociationSettings))


def _input_value(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    assert match, f"no input {name} on the page"
    return match.group(1)


def test_the_form_shows_the_current_settings(client, admin):
    page = client.get(URL).get_data(as_text=True)
    assert "<h1>Settings</h1>" in page
    assert _input_value(page, "association_name") == "Bromley Neighbourhood Watch Association"
    assert _input_value(page, "spare_copies_percent") == "5"
    assert _input_value(page, "messages_per_second") == "20"
    assert re.search(r'<input[^>]*checked[^>]*name="is_four_eyes_required"', page)
    assert not re.search(r'<input[^>]*checked[^>]*name="is_bulletin_approval_required"', page)
    # The hints state the same ranges the settings enforce.
    assert "A whole number from 0 to 50." in page and "A whole number from 1 to 500." in page
    assert "Nobody has changed the settings yet" in page


def test_the_dashboard_links_to_the_settings(client, admin):
    assert f'href="{URL}"' in client.get("/admin/").get_data(as_text=True)


def test_a_good_change_is_saved_flashed_and_audited(client, admin):
    data = {
        **GOOD,
        "association_name": "Orpington Neighbourhood Watch",
        "sender_address": "watch@orpington.example.org",
        "spare_copies_percent": "12",
        "helpline_review_months": "3",
        "helpline_grace_days": "0",
        "is_bulletin_approval_required": "y",
        "messages_per_second": "5",
    }
    del data["is_four_eyes_required"]  # an unticked box is not sent at all
    response = post_form(client, URL, data)
    assert response.status_code == 302 and response.headers["Location"] == URL
    settings = _saved()
    assert settings.association_name == "Orpington Neighbourhood Watch"
    assert settings.sender_address == "watch@orpington.example.org"
    assert (settings.spare_copies_percent, settings.helpline_review_months, settings.helpline_grace_days) == (12, 3, 0)
    assert settings.is_four_eyes_required is False and settings.is_bulletin_approval_required is True
    assert settings.messages_per_second == 5

    page = client.get(URL).get_data(as_text=True)
    assert (
        "Settings saved. Changed: Association name, Sender address, Spare copies (%), Helpline review interval "
        "(months), Helpline grace period (days), Four-eyes rule, Bulletin approval, Messages per second." in page
    )
    [entry] = actions("settings.changed")
    assert entry.actor_id == admin.id and entry.actor_label == "alex@example.org"
    assert entry.details["changes"]["spare_copies_percent"] == {"old": 5, "new": 12}
    assert entry.details["changes"]["is_four_eyes_required"] == {"old": True, "new": False}
    # The page lists the change under "Recent changes".
    assert "settings changed: association_name" in page and "Nobody has changed" not in page


def test_sending_the_same_values_changes_nothing(client, admin):
    response = post_form(client, URL, GOOD, follow_redirects=True)
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert actions("settings.changed") == []


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("spare_copies_percent", "-1", "Spare copies must be between 0 and 50 per cent."),
        ("spare_copies_percent", "51", "Spare copies must be between 0 and 50 per cent."),
        ("messages_per_second", "0", "Messages per second must be between 1 and 500."),
        ("messages_per_second", "501", "Messages per second must be between 1 and 500."),
        ("helpline_review_months", "0", "The helpline review interval must be between 1 and 24 months."),
        ("helpline_review_months", "25", "The helpline review interval must be between 1 and 24 months."),
        ("helpline_grace_days", "-5", "The grace period must be between 0 and 180 days."),
        ("helpline_grace_days", "181", "The grace period must be between 0 and 180 days."),
        ("sender_address", "not an address", "The sender address is not valid"),
        ("spare_copies_percent", "five", "Enter the percentage of spare copies as a whole number from 0 to 50, like 5"),
        ("messages_per_second", "2.5", "Enter the messages per second as a whole number from 1 to 500"),
        ("helpline_grace_days", "", "Enter the grace period in days, like 30"),
        ("association_name", "   ", "Enter the association&#39;s name"),
        ("association_name", "N" * 161, "Field cannot be longer than 160 characters."),
    ],
)
def test_bad_values_are_refused_at_the_field_and_what_was_typed_survives(client, admin, name, value, message):
    data = {**GOOD, "association_name": "Orpington Watch", "spare_copies_percent": "9", name: value}
    response = post_form(client, URL, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert f'<a href="#{name}">{message}' in page  # in the summary, linked to the field
    error = re.search(rf'<p class="field-error" id="{name}-error">(.*?)</p>', page, re.DOTALL)
    assert error and message in error.group(1)  # and beside the field itself
    assert re.search(rf'<input[^>]*aria-invalid="true"[^>]*name="{name}"', page)
    # Everything typed is still in the form, the bad value included.
    if name != "association_name":
        assert _input_value(page, "association_name") == "Orpington Watch"
    if name != "spare_copies_percent":
        assert _input_value(page, "spare_copies_percent") == "9"
    if value.strip():
        assert _input_value(page, name) == value
    # Nothing was saved or audited.
    settings = _saved()
    assert settings is None or (settings.spare_copies_percent, settings.association_name) == (
        5,
        "Bromley Neighbourhood Watch Association",
    )
    assert actions("settings.changed") == []


def test_hostile_text_is_saved_and_shown_literally(client, admin):
    data = {**GOOD, "association_name": HOSTILE[0], "footer_text": HOSTILE[1] + " " + HOSTILE[2]}
    response = post_form(client, URL, data, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert _saved().association_name == HOSTILE[0]
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{ 7*7 }}" in page


def test_a_coordinator_gets_403_and_changes_nothing(app, client):
    coordinator = make_user()
    db.session.commit()
    login_as(client, coordinator)
    assert client.get(URL).status_code == 403
    token = csrf_from(client.get("/").get_data(as_text=True))
    response = client.post(URL, data={**GOOD, "spare_copies_percent": "40", "csrf_token": token})
    assert response.status_code == 403
    assert get_settings().spare_copies_percent == 5
    assert actions("settings.changed") == []


def test_a_post_without_a_csrf_token_is_refused(client, admin):
    response = client.post(URL, data={**GOOD, "spare_copies_percent": "40"})
    assert response.status_code == 400
    assert _saved() is None or _saved().spare_copies_percent == 5
