"""The scheme page, contact lines, streets and the CSV import, through the browser's eyes."""

from __future__ import annotations

import io

import pytest
from markupsafe import escape
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from coordinator.audit.models import AuditEntry
from coordinator.extensions import db
from coordinator.schemes.models import CoordinatorRole, SchemeCoordinator, Street
from tests.factories import make_admin, make_street, make_user
from tests.helpers.hostile import HOSTILE_TEXTS
from tests.helpers.web import csrf_from, login_as, post_form
from tests.schemes.helpers import csv_bytes


def street_form(**overrides) -> dict:
    values = {"name": "Bourne Way", "postcode": "br2 7ey", "households": "38", "no_leaflets": "1",
              "delivery_notes": "Gate at the side"}
    values.update(overrides)
    return values


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def reload(street_id: int) -> Street | None:
    return db.session.scalar(select(Street).where(Street.id == street_id))


# --- the scheme page ---------------------------------------------------------------------------------------------


def test_coordinator_sees_their_scheme_page(client, two_schemes):
    s = two_schemes
    deputy = make_user(name="Dee Deputy", email="dee.private@example.org")
    s.scheme_a.memberships.append(SchemeCoordinator(user=deputy, role=CoordinatorRole.DEPUTY))
    s.scheme_a.contact_phone = "020 7946 0018"
    make_street(s.scheme_a, "Bourne Way", households=38, no_leaflets=0, postcode="BR2 7EY", delivery_notes="Side gate")
    db.session.commit()
    login_as(client, s.coordinator_a)
    response = client.get(f"/schemes/{s.scheme_a.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # The phone number is one unit, never split on a narrow screen (coordinator/numbers.py).
    for text in ("Hayes Lane Watch", "Hayes and Coney Hall", "BR2", '<span class="number">020&nbsp;7946&nbsp;0018</span>',
                 "Pat Okafor (main coordinator)",
                 "Dee Deputy (deputy)", "Hayes Lane", "BR2 9EA", "Side gate", "Total (2 streets)"):
        assert text in page, text
    assert "dee.private@example.org" not in page  # names only, never the coordinators' own emails
    # Totals: 64 + 38 households, 2 asked for none, 100 to deliver to.
    assert '<td class="num">102</td>' in page and '<td class="num">100</td>' in page
    for link in (f"/schemes/{s.scheme_a.id}/streets/new", f"/schemes/{s.scheme_a.id}/streets/import",
                 f"/schemes/{s.scheme_a.id}/contact", f"/schemes/{s.scheme_a.id}/streets/{s.street_a.id}",
                 f"/schemes/{s.scheme_a.id}/streets/{s.street_a.id}/delete"):
        assert f'href="{link}"' in page, link
    assert "<caption>Streets of Hayes Lane Watch</caption>" in page


def test_admin_may_see_any_scheme(client, two_schemes):
    admin = make_admin()
    db.session.commit()
    login_as(client, admin)
    page = client.get(f"/schemes/{two_schemes.scheme_b.id}").get_data(as_text=True)
    assert "Confidential Crescent" in page and "Sam Brightwell" in page


def test_anonymous_is_sent_to_login(client, two_schemes):
    response = client.get(f"/schemes/{two_schemes.scheme_a.id}")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


# --- another scheme's ids ----------------------------------------------------------------------------------------

SECRETS = ("Secret Close Watch", "Confidential Crescent", "Hidden Ward", "secret.close@example.org", "Key safe code")


@pytest.mark.parametrize(
    "path",
    [
        "/schemes/{b}",
        "/schemes/{b}/contact",
        "/schemes/{b}/streets/new",
        "/schemes/{b}/streets/import",
        "/schemes/{b}/streets/{sb}",
        "/schemes/{b}/streets/{sb}/delete",
        "/schemes/{a}/streets/{sb}",
        "/schemes/{a}/streets/{sb}/delete",
        "/schemes/{b}/streets/{sa}",
        "/schemes/999999",
        "/schemes/{a}/streets/999999",
    ],
)
def test_another_schemes_ids_are_404_and_show_nothing_of_it(client, two_schemes, path):
    s = two_schemes
    login_as(client, s.coordinator_a)
    url = path.format(a=s.scheme_a.id, b=s.scheme_b.id, sa=s.street_a.id, sb=s.street_b.id)
    response = client.get(url)
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in body


def test_coordinator_of_a_cannot_post_to_bs_street_through_their_own_schemes_url(client, two_schemes):
    s = two_schemes
    street_b_id = s.street_b.id
    login_as(client, s.coordinator_a)
    token = csrf_from(client.get(f"/schemes/{s.scheme_a.id}/streets/{s.street_a.id}").get_data(as_text=True))
    edit = client.post(
        f"/schemes/{s.scheme_a.id}/streets/{s.street_b.id}",
        data={**street_form(name="Taken Over"), "csrf_token": token},
    )
    delete = client.post(f"/schemes/{s.scheme_a.id}/streets/{s.street_b.id}/delete", data={"csrf_token": token})
    direct = client.post(
        f"/schemes/{s.scheme_b.id}/streets/{s.street_b.id}",
        data={**street_form(name="Taken Over"), "csrf_token": token},
    )
    contact = client.post(f"/schemes/{s.scheme_b.id}/contact", data={"contact_email": "x@example.org", "csrf_token": token})
    assert [r.status_code for r in (edit, delete, direct, contact)] == [404, 404, 404, 404]
    for response in (edit, delete, direct):
        assert "Confidential Crescent" not in response.get_data(as_text=True)
    street_b = reload(street_b_id)
    assert street_b is not None and street_b.name == "Confidential Crescent"
    assert street_b.scheme.contact_email == "secret.close@example.org"
    assert actions() == ["auth.login"]


# --- adding, changing and removing streets -----------------------------------------------------------------------


def test_add_a_street(client, two_schemes):
    s = two_schemes
    login_as(client, s.coordinator_a)
    response = post_form(client, f"/schemes/{s.scheme_a.id}/streets/new", street_form())
    assert response.status_code == 302 and response.headers["Location"] == f"/schemes/{s.scheme_a.id}"
    street = db.session.scalars(select(Street).where(Street.name == "Bourne Way")).one()
    assert (street.scheme_id, street.postcode, street.households, street.households_no_leaflets) == (
        s.scheme_a.id, "BR2 7EY", 38, 1)
    assert street.delivery_notes == "Gate at the side"
    assert actions()[-1] == "streets.created"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bourne Way (BR2 7EY) is added." in page


def test_form_keeps_what_was_typed_when_it_has_errors(client, two_schemes):
    s = two_schemes
    login_as(client, s.coordinator_a)
    typed = street_form(name="Bourne  Way", postcode="nowhere", households="12", no_leaflets="20",
                        delivery_notes="Dog at number 4")
    response = post_form(client, f"/schemes/{s.scheme_a.id}/streets/new", typed)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert 'href="#postcode">Enter a UK postcode, like BR2 9EA</a>' in page
    assert "cannot be more than the households (12)" in page
    for value in ('value="Bourne  Way"', 'value="nowhere"', 'value="12"', 'value="20"', "Dog at number 4</textarea>"):
        assert value in page, value
    assert 'aria-invalid="true"' in page
    assert db.session.scalars(select(Street).where(Street.name.like("Bourne%"))).all() == []


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ({"name": '=HYPERLINK("http://x")'}, "Street name starts with &#39;=&#39;, which a spreadsheet would run as a formula"),
        ({"delivery_notes": "-1+cmd|' /C calc'!A0"}, "Delivery notes starts with &#39;-&#39;, which a spreadsheet"),
        ({"delivery_notes": "+44 20 7946 0000"}, "Delivery notes starts with &#39;+&#39;"),
        ({"name": "Bourne\u200bWay"}, "Street name contains a hidden control character, U+200B (zero width space)"),
        ({"delivery_notes": "Call \u202e101"}, "Delivery notes contains a hidden control character, U+202E"),
    ],
)
def test_the_street_form_refuses_formulas_and_hidden_characters_as_the_import_does(client, two_schemes, typed,
                                                                                   message):
    s = two_schemes
    login_as(client, s.coordinator_a)
    response = post_form(client, f"/schemes/{s.scheme_a.id}/streets/new", street_form(**typed))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(Street).where(Street.scheme_id == s.scheme_a.id)).all() == [s.street_a]


def test_a_contact_line_with_an_override_is_refused_when_typed(client, two_schemes):
    s = two_schemes
    login_as(client, s.coordinator_a)
    response = post_form(client, f"/schemes/{s.scheme_a.id}/contact",
                         {"contact_email": "", "contact_phone": "", "contact_other": "Call \u202e742 0002 8080"})
    assert "Other contact details contains a hidden control character" in response.get_data(as_text=True)
    db.session.refresh(s.scheme_a)
    assert "\u202e" not in s.scheme_a.contact_other


def test_empty_form_says_what_is_missing(client, two_schemes):
    s = two_schemes
    login_as(client, s.coordinator_a)
    page = post_form(client, f"/schemes/{s.scheme_a.id}/streets/new", {}).get_data(as_text=True)
    for message in ("Enter the street name", "Enter the postcode", "Enter the number of households"):
        assert message in page


def test_duplicate_street_is_a_field_error_not_a_crash(client, two_schemes):
    s = two_schemes
    login_as(client, s.coordinator_a)
    response = post_form(client, f"/schemes/{s.scheme_a.id}/streets/new",
                         street_form(name="hayes lane", postcode="BR2 9EA"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="#name">This scheme already has hayes lane in BR2 9EA' in page
    assert 'value="hayes lane"' in page
    assert len(db.session.scalars(select(Street).where(Street.scheme_id == s.scheme_a.id)).all()) == 1


def test_edit_a_street(client, two_schemes):
    s = two_schemes
    street_a_id = s.street_a.id
    login_as(client, s.coordinator_a)
    url = f"/schemes/{s.scheme_a.id}/streets/{s.street_a.id}"
    form_page = client.get(url).get_data(as_text=True)
    assert 'value="Hayes Lane"' in form_page and 'value="64"' in form_page and 'value="2"' in form_page
    response = post_form(client, url, street_form(name="Hayes Lane", postcode="BR2 9EA", households="66",
                                                   no_leaflets="3", delivery_notes=""))
    assert response.status_code == 302
    street = reload(street_a_id)
    assert (street.households, street.households_no_leaflets) == (66, 3)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "streets.changed")).one()
    assert entry.details["changed"] == ["households", "households_no_leaflets"]


def test_edit_with_errors_keeps_typed_values_and_changes_nothing(client, two_schemes):
    s = two_schemes
    street_a_id = s.street_a.id
    login_as(client, s.coordinator_a)
    url = f"/schemes/{s.scheme_a.id}/streets/{s.street_a.id}"
    page = post_form(client, url, street_form(name="Hayes Lane", households="-4")).get_data(as_text=True)
    assert "whole number, 0 or more" in page and 'value="-4"' in page
    assert reload(street_a_id).households == 64


def test_delete_asks_first_then_removes(client, two_schemes):
    s = two_schemes
    street_a_id = s.street_a.id
    login_as(client, s.coordinator_a)
    url = f"/schemes/{s.scheme_a.id}/streets/{s.street_a.id}/delete"
    confirm = client.get(url).get_data(as_text=True)
    assert "Remove Hayes Lane from Hayes Lane Watch?" in confirm
    assert 'method="post"' in confirm and 'name="csrf_token"' in confirm and "novalidate" in confirm
    assert reload(street_a_id) is not None  # looking at the question removes nothing
    response = post_form(client, url)
    assert response.status_code == 302
    assert reload(street_a_id) is None
    assert actions()[-1] == "streets.deleted"


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS)
def test_hostile_street_names_show_literally(client, two_schemes, hostile):
    s = two_schemes
    street_id = make_street(s.scheme_a, hostile, postcode="BR2 7EY", delivery_notes=hostile).id
    db.session.commit()
    login_as(client, s.coordinator_a)
    escaped = str(escape(hostile))
    for url in (f"/schemes/{s.scheme_a.id}", f"/schemes/{s.scheme_a.id}/streets/{street_id}/delete"):
        page = client.get(url).get_data(as_text=True)
        assert escaped in page, url
        assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    edit = client.get(f"/schemes/{s.scheme_a.id}/streets/{street_id}").get_data(as_text=True)
    assert f'value="{escaped}"' in edit


def test_hostile_text_typed_into_the_form_is_saved_as_typed(client, two_schemes):
    s = two_schemes
    login_as(client, s.coordinator_a)
    post_form(client, f"/schemes/{s.scheme_a.id}/streets/new", street_form(name="{{ 7*7 }} <b>Road</b>"))
    assert db.session.scalars(select(Street).where(Street.name == "{{ 7*7 }} <b>Road</b>")).one()
    page = client.get(f"/schemes/{s.scheme_a.id}").get_data(as_text=True)
    assert "{{ 7*7 }} &lt;b&gt;Road&lt;/b&gt;" in page


def test_posts_without_csrf_are_refused(client, two_schemes):
    s = two_schemes
    street_a_id = s.street_a.id
    login_as(client, s.coordinator_a)
    a = s.scheme_a.id
    responses = [
        client.post(f"/schemes/{a}/streets/new", data=street_form()),
        client.post(f"/schemes/{a}/streets/{s.street_a.id}", data=street_form()),
        client.post(f"/schemes/{a}/streets/{s.street_a.id}/delete"),
        client.post(f"/schemes/{a}/contact", data={"contact_email": "x@example.org"}),
        client.post(f"/schemes/{a}/streets/import", data={"file": (io.BytesIO(csv_bytes("X,BR2 9EA,1,0,")), "s.csv")}),
    ]
    assert [r.status_code for r in responses] == [400] * 5
    assert "form has expired" in responses[0].get_data(as_text=True)
    assert reload(street_a_id) is not None
    assert len(db.session.scalars(select(Street)).all()) == 2
    assert actions() == ["auth.login"]


# --- contact lines -----------------------------------------------------------------------------------------------


def test_change_contact_lines(client, two_schemes):
    s = two_schemes
    login_as(client, s.coordinator_a)
    url = f"/schemes/{s.scheme_a.id}/contact"
    form_page = client.get(url).get_data(as_text=True)
    assert "never put a home address here unless you mean" in form_page
    response = post_form(client, url, {"contact_email": "Hayes.Watch@Example.org", "contact_phone": "+44 20 7946 0018",
                                       "contact_other": "Notes through the door of the community hall"})
    assert response.status_code == 302
    db.session.expire_all()
    scheme = s.scheme_a
    assert (scheme.contact_email, scheme.contact_phone) == ("Hayes.Watch@example.org", "+44 20 7946 0018")
    assert actions()[-1] == "schemes.contact_changed"
    page = client.get(f"/schemes/{s.scheme_a.id}").get_data(as_text=True)
    assert "Notes through the door of the community hall" in page


def test_bad_contact_lines_show_errors_and_keep_what_was_typed(client, two_schemes):
    s = two_schemes
    login_as(client, s.coordinator_a)
    url = f"/schemes/{s.scheme_a.id}/contact"
    response = post_form(client, url, {"contact_email": "watch at example", "contact_phone": "020-7946",
                                       "contact_other": "<script>alert(1)</script>"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="#contact_email">Enter an email address in the right form' in page
    assert 'href="#contact_phone">Enter a phone number using only digits and spaces' in page
    assert 'value="watch at example"' in page and 'value="020-7946"' in page
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    db.session.expire_all()
    assert s.scheme_a.contact_email == "" and "schemes.contact_changed" not in actions()


# --- CSV import --------------------------------------------------------------------------------------------------


def upload(client, scheme_id: int, data: bytes, filename: str = "streets.csv"):
    """Upload a file through the import form."""
    url = f"/schemes/{scheme_id}/streets/import"
    token = csrf_from(client.get(url).get_data(as_text=True))
    # Encoded in memory: the test client spools a large body to a temporary file it never closes.
    boundary, body = encode_multipart({"csrf_token": token, "file": FileStorage(io.BytesIO(data), filename)})
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_import_a_good_file(client, two_schemes):
    s = two_schemes
    login_as(client, s.coordinator_a)
    response = upload(client, s.scheme_a.id, csv_bytes("Bourne Way,br2 7ey,38,0,", "Hast Hill,BR2 7DT,22,1,Flats"))
    assert response.status_code == 302
    names = set(db.session.scalars(select(Street.name).where(Street.scheme_id == s.scheme_a.id)))
    assert names == {"Hayes Lane", "Bourne Way", "Hast Hill"}
    assert actions()[-1] == "streets.imported"
    assert "2 streets are imported into Hayes Lane Watch." in client.get(response.headers["Location"]).get_data(
        as_text=True)


def test_import_with_bad_rows_shows_the_report_and_imports_nothing(client, two_schemes):
    s = two_schemes
    login_as(client, s.coordinator_a)
    data = csv_bytes("Bourne Way,BR2 7EY,38,0,", "<script>alert(1)</script>,BR2 7DT,2,5,", "Hayes Lane,BR2 9EA,1,0,",
                     '"=HYPERLINK(""http://x"")",BR2 7AL,4,0,')
    response = upload(client, s.scheme_a.id, data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Nothing was imported" in page and "Lines with problems: 3 of 4." in page
    assert "<caption>Row-by-row report</caption>" in page
    assert '<td class="num">2</td>' in page and '<span class="report-ok">OK</span>' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)</script>" not in page
    assert "cannot be more than the households (2)" in page
    assert "This scheme already has Hayes Lane in BR2 9EA" in page
    assert "which a spreadsheet would run as a formula" in page
    assert set(db.session.scalars(select(Street.name).where(Street.scheme_id == s.scheme_a.id))) == {"Hayes Lane"}
    assert "streets.imported" not in actions()


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"PK\x03\x04 spreadsheet", "streets.xlsx", "The file must be a CSV file (ending .csv or .txt)"),
        (b"x" * (10 * 1024 * 1024), "junk.csv", "the most this import takes is 2,048 KB"),
        ("name,postcode,households,no_leaflets\nÉcole Road,BR2 9EA,1,0\n".encode("latin-1"), "l.csv",
         "Line 2 is not UTF-8 text"),
        (b"Hayes Lane,BR2 9EA,1,0\r\n", "noheader.csv", "The first line must be the header"),
    ],
)
def test_files_the_import_refuses_say_why(client, two_schemes, data, filename, message):
    s = two_schemes
    login_as(client, s.coordinator_a)
    response = upload(client, s.scheme_a.id, data, filename)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and message in page
    assert len(db.session.scalars(select(Street)).all()) == 2


def test_import_without_a_file(client, two_schemes):
    s = two_schemes
    login_as(client, s.coordinator_a)
    page = post_form(client, f"/schemes/{s.scheme_a.id}/streets/import", {}).get_data(as_text=True)
    assert 'href="#file">Choose a CSV file to upload</a>' in page
