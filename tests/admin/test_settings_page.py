"""The settings page: admins change the association's settings; bad values are refused at the field."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from coordinator.extensions import db
from coordinator.settings import AssociationSettings, brand, get_settings
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
    "brand_colour": "#1d4e89",
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


# --- The association's face: brand colour and logo -------------------------------------------------


def _png(size=(240, 80)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", size, "navy").save(out, "PNG")
    return out.getvalue()


def _upload(client, data: bytes, filename: str = "logo.png", **fields):
    # The form encoded here, in memory: the test client would spool a body this large to a temporary file it never
    # closes, and the warning would fail the next test.
    token = csrf_from(client.get(URL).get_data(as_text=True))
    values = {**GOOD, **fields, "csrf_token": token, "logo_upload": FileStorage(io.BytesIO(data), filename)}
    stream, _length, boundary = stream_encode_multipart(values, use_tempfile=False)
    return client.post(URL, data=stream.read(), content_type=f"multipart/form-data; boundary={boundary}")


def test_the_form_is_sent_as_files_are_and_shows_the_brand_colour(client, admin):
    page = client.get(URL).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert _input_value(page, "brand_colour") == "#1d4e89"
    assert 'name="logo_upload"' in page and "No logo yet" in page
    assert 'name="remove_logo"' not in page  # nothing to remove


def test_an_uploaded_logo_is_shown_on_the_page_and_served_with_long_cache_headers(app, client, admin):
    response = _upload(client, _png())
    assert response.status_code == 302
    version = brand().logo_version
    page = client.get(URL).get_data(as_text=True)
    assert "Settings saved. Changed: Logo." in page
    src = f"/brand/logo-{version}.png"
    assert re.search(rf'<img[^>]*src="{re.escape(src)}"[^>]*alt="Bromley Neighbourhood Watch Association logo"'
                     r'[^>]*width="240" height="80"', page)
    assert 'name="remove_logo"' in page

    # The logo is public, and the same for everyone: residents' mail programs fetch it, and so does an admin.
    assert client.get(src).headers["Cache-Control"] == "public, max-age=31536000, immutable"
    visitor = app.test_client()
    served = visitor.get(src)
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.data == brand().logo_png
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    # An older address (a bulletin sent before the logo changed) leads to the logo now in use.
    older = visitor.get("/brand/logo-0123456789ab.png")
    assert older.status_code == 302 and older.headers["Location"] == src


def test_without_a_logo_its_address_is_not_found(client, admin):
    assert client.get("/brand/logo-0123456789ab.png").status_code == 404


def test_the_logo_can_be_removed(client, admin):
    _upload(client, _png())
    response = post_form(client, URL, {**GOOD, "remove_logo": "y"}, follow_redirects=True)
    assert "Changed: Logo." in response.get_data(as_text=True)
    assert brand().logo_png is None


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.png",
         "Logo: The picture must be a PNG or JPEG file. Other kinds, including SVG, are not accepted."),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (5 * 1024 * 1024), "big.png",
         "Logo: the file is 5.0 MB; the largest picture accepted is 5 MB."),
        (b"", "empty.png", "Logo: the file is empty."),
    ],
)
def test_a_bad_logo_is_refused_at_its_field_and_nothing_is_saved(client, admin, data, filename, message):
    response = _upload(client, data, filename, spare_copies_percent="9")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<a href="#logo_upload">{message}' in page
    assert re.search(r'<p class="field-error" id="logo_upload-error">.*?' + re.escape(message), page, re.DOTALL)
    assert _saved() is None or (_saved().logo_png is None and _saved().spare_copies_percent == 5)
    assert actions("settings.changed") == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("#ffcc00", "White text on the brand colour #ffcc00 has a contrast of 1.5:1; it needs at least 4.5:1"),
        ("blue", "Enter the brand colour as a hex colour code of six characters, like #1d4e89."),
        ("", "Enter the brand colour, like #1d4e89"),
    ],
)
def test_a_brand_colour_white_text_cannot_be_read_on_is_refused_at_its_field(client, admin, value, message):
    response = post_form(client, URL, {**GOOD, "brand_colour": value})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<a href="#brand_colour">{message}' in page
    assert _input_value(page, "brand_colour") == value
    assert brand().colour == "#1d4e89"


def test_a_readable_brand_colour_is_saved_and_shown(client, admin):
    response = post_form(client, URL, {**GOOD, "brand_colour": "#0B0C0C"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Changed: Brand colour." in page
    assert brand().colour == "#0b0c0c" and 'fill="#0b0c0c"' in page
