"""A scheme's contact lines and street rules, checked without HTTP."""

from __future__ import annotations

import pytest

from coordinator.extensions import db
from coordinator.schemes import services as schemes
from coordinator.schemes.models import Street
from tests.factories import make_scheme, make_street
from tests.schemes.helpers import audit_entries, street_count, twin_added_by_someone_else


def details(name="Hayes Lane", postcode="BR2 9EA", households="20", no_leaflets="0", notes=""):
    checked, errors = schemes.check_street_details(name, postcode, households, no_leaflets, notes)
    assert not errors, errors
    return checked


# --- postcodes ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("br2 9ea", "BR2 9EA"),
        ("BR29EA", "BR2 9EA"),
        ("  br2    9ea  ", "BR2 9EA"),
        ("sw1a 1aa", "SW1A 1AA"),
        ("W1A 0AX", "W1A 0AX"),
        ("m1 1ae", "M1 1AE"),
        ("dn551pt", "DN55 1PT"),
        ("CR2 6XH", "CR2 6XH"),
    ],
)
def test_postcodes_are_normalised_to_upper_case_with_one_space(typed, expected):
    assert schemes.normalise_postcode(typed) == expected


@pytest.mark.parametrize(
    "typed", ["", "   ", "BR2", "12345", "BR2 9EAA", "BR2 9E0", "BR2 9EO", "BR2-9EA", "<script>", "BRR2 9EA", "2BR 9EA"]
)
def test_text_not_shaped_like_a_postcode_is_refused(typed):
    assert schemes.normalise_postcode(typed) is None


# --- the street rules --------------------------------------------------------------------------------------------


def test_good_street_values_come_back_tidy():
    checked, errors = schemes.check_street_details("  Hayes \t Lane ", "br2 9ea", " 64 ", "2", "  Flats 1-12\r\nlobby ")
    assert errors == {}
    assert checked == schemes.StreetDetails("Hayes Lane", "BR2 9EA", 64, 2, "Flats 1-12\nlobby")


@pytest.mark.parametrize(
    ("households", "no_leaflets", "field", "message"),
    [
        ("5", "6", "no_leaflets", "cannot be more than the households (5)"),
        ("-1", "0", "households", "whole number, 0 or more"),
        ("1.5", "0", "households", "whole number, 0 or more"),
        ("twelve", "0", "households", "whole number, 0 or more"),
        ("", "0", "households", "Enter the number of households"),
        ("5", "", "no_leaflets", "Enter the number of households that asked for no leaflets"),
        ("5", "-2", "no_leaflets", "whole number, 0 or more"),
        ("99999999999", "0", "households", "10,000 or fewer"),
    ],
)
def test_households_rule(households, no_leaflets, field, message):
    checked, errors = schemes.check_street_details("Hayes Lane", "BR2 9EA", households, no_leaflets)
    assert checked is None
    assert any(message in m for m in errors[field]), errors


def test_no_leaflets_may_equal_households_and_zero_households_is_allowed():
    assert details(households="5", no_leaflets="5").households_no_leaflets == 5
    assert details(households="0", no_leaflets="0").households == 0


def test_name_postcode_and_notes_rules():
    _, errors = schemes.check_street_details("", "", "1", "0", "x" * 501)
    assert errors["name"] == ["Enter the street name"]
    assert errors["postcode"] == ["Enter the postcode"]
    assert errors["delivery_notes"] == ["Delivery notes must be 500 characters or fewer"]
    _, errors = schemes.check_street_details("x" * 121, "not a postcode", "1", "0")
    assert errors["name"] == ["The street name must be 120 characters or fewer"]
    assert errors["postcode"] == ["Enter a UK postcode, like BR2 9EA"]
    assert schemes.check_street_details("x" * 120, "BR2 9EA", "1", "0", "y" * 500)[1] == {}
    assert "control character" in schemes.check_street_details("Hayes\x07Lane", "BR2 9EA", "1", "0")[1]["name"][0]


# --- adding, changing and removing streets -----------------------------------------------------------------------


def test_add_street_saves_and_audits(app):
    scheme = make_scheme()
    street = schemes.add_street(scheme, details(name="Bourne Way", postcode="br2 7ey", households="38", no_leaflets="1"))
    db.session.commit()
    assert (street.name, street.postcode, street.households, street.households_no_leaflets) == (
        "Bourne Way", "BR2 7EY", 38, 1)
    [entry] = audit_entries("streets.created")
    assert entry.object_id == str(street.id) and entry.details["scheme_id"] == scheme.id


def test_same_street_and_postcode_twice_in_a_scheme_is_refused_whatever_the_case(app):
    scheme = make_scheme()
    other = make_scheme()
    make_street(scheme, "Hayes Lane", postcode="BR2 9EA")
    with pytest.raises(schemes.SchemeProblems) as caught:
        schemes.add_street(scheme, details(name="HAYES lane", postcode="br2 9ea"))
    assert "already has HAYES lane in BR2 9EA" in caught.value.errors["name"][0]
    # A different postcode, or the same street in another scheme, is a different street.
    schemes.add_street(scheme, details(name="Hayes Lane", postcode="BR2 7AL"))
    schemes.add_street(other, details(name="Hayes Lane", postcode="BR2 9EA"))
    assert street_count(scheme) == 2 and street_count(other) == 1


def test_a_twin_street_added_at_the_same_moment_is_refused_by_the_database_as_the_same_problem(app):
    scheme = make_scheme()
    db.session.commit()
    twin_added_by_someone_else(scheme, "HAYES LANE", "BR2 9EA")
    with pytest.raises(schemes.SchemeProblems) as caught:
        schemes.add_street(scheme, details(name="Hayes Lane", postcode="BR2 9EA"))
    assert "already has Hayes Lane in BR2 9EA" in caught.value.errors["name"][0]
    # The session carries on: the refused street is gone from it, the other person's is the one kept.
    assert [street.name for street in scheme.streets] == ["HAYES LANE"]
    db.session.commit()
    assert street_count(scheme) == 1 and audit_entries("streets.created") == []


def test_renaming_a_street_into_a_twin_added_at_the_same_moment_is_refused(app):
    scheme = make_scheme()
    street = make_street(scheme, "Bourne Way", postcode="BR2 7EY")
    db.session.commit()
    twin_added_by_someone_else(scheme, "hayes lane", "BR2 9EA")
    with pytest.raises(schemes.SchemeProblems):
        schemes.update_street(street, details(name="Hayes Lane", postcode="BR2 9EA"))
    db.session.rollback()
    assert sorted(street.name for street in scheme.streets) == ["Bourne Way", "hayes lane"]
    assert audit_entries("streets.changed") == []


def test_update_street_reports_and_audits_what_changed(app):
    scheme = make_scheme()
    street = make_street(scheme, "Hayes Lane", households=20, postcode="BR2 9EA")
    changed = schemes.update_street(street, details(name="Hayes Lane", households="22", no_leaflets="3"))
    assert changed == ["households", "households_no_leaflets"]
    [entry] = audit_entries("streets.changed")
    assert entry.details["before"] == {"households": 20, "households_no_leaflets": 0}
    assert entry.details["after"] == {"households": 22, "households_no_leaflets": 3}
    assert schemes.update_street(street, details(name="Hayes Lane", households="22", no_leaflets="3")) == []
    assert len(audit_entries("streets.changed")) == 1


def test_update_street_may_keep_its_own_name_but_not_take_another_streets(app):
    scheme = make_scheme()
    street = make_street(scheme, "Hayes Lane", postcode="BR2 9EA")
    make_street(scheme, "Bourne Way", postcode="BR2 7EY")
    assert schemes.update_street(street, details(name="hayes lane", postcode="BR2 9EA")) == ["name"]
    with pytest.raises(schemes.SchemeProblems):
        schemes.update_street(street, details(name="Bourne Way", postcode="BR2 7EY"))
    assert street.name == "hayes lane"


def test_delete_street_keeps_what_it_was_in_the_audit_log(app):
    scheme = make_scheme()
    street = make_street(scheme, "Hayes Lane", postcode="BR2 9EA", households=64)
    street_id = street.id
    schemes.delete_street(street)
    db.session.commit()
    assert db.session.get(Street, street_id) is None
    [entry] = audit_entries("streets.deleted")
    assert entry.object_id == str(street_id)
    assert entry.details["name"] == "Hayes Lane" and entry.details["households"] == 64


# --- the scheme page's figures -----------------------------------------------------------------------------------


def test_totals_of_the_streets(app):
    scheme = make_scheme()
    make_street(scheme, "A Street", households=10, no_leaflets=2)
    make_street(scheme, "B Street", households=5, no_leaflets=0)
    db.session.refresh(scheme)
    assert schemes.total_streets(scheme.streets) == schemes.StreetTotals(2, 15, 2, 13)


# --- contact lines -----------------------------------------------------------------------------------------------


def test_contact_lines_are_checked_tidied_and_audited(app):
    scheme = make_scheme()
    changed = schemes.update_scheme_contact(scheme, " watch@Example.ORG ", "020  7946   0018", " Ring the Hall bell ")
    assert changed == ["contact_email", "contact_phone", "contact_other"]
    assert (scheme.contact_email, scheme.contact_phone, scheme.contact_other) == (
        "watch@example.org", "020 7946 0018", "Ring the Hall bell")
    [entry] = audit_entries("schemes.contact_changed")
    assert entry.details["before"]["contact_email"] == "" and entry.details["after"]["contact_phone"] == "020 7946 0018"
    assert schemes.update_scheme_contact(scheme, "watch@example.org", "020 7946 0018", "Ring the Hall bell") == []
    assert len(audit_entries("schemes.contact_changed")) == 1
    assert schemes.update_scheme_contact(scheme, "", "", "") == ["contact_email", "contact_phone", "contact_other"]


@pytest.mark.parametrize("phone", ["+44 20 7946 0018", "07700 900123", "1234567", "1" * 20])
def test_good_phone_numbers(phone):
    assert schemes.check_contact_phone(phone) == phone


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("020-7946-0018", "only digits and spaces"),
        ("ring 0207", "only digits and spaces"),
        ("020 +7946", "only digits and spaces"),
        ("123456", "7 to 20 digits"),
        ("1" * 21, "7 to 20 digits"),
        ("<script>alert(1)</script>", "only digits and spaces"),
    ],
)
def test_bad_phone_numbers(phone, message):
    with pytest.raises(ValueError, match=message):
        schemes.check_contact_phone(phone)


@pytest.mark.parametrize("email", ["not an email", "watch@", "@example.org", "a@b@example.org", "watch@example"])
def test_bad_emails(email):
    with pytest.raises(ValueError, match="Enter an email address"):
        schemes.check_contact_email(email)


def test_bad_contact_lines_change_nothing(app):
    scheme = make_scheme(contact_email="old@example.org")
    with pytest.raises(schemes.SchemeProblems) as caught:
        schemes.update_scheme_contact(scheme, "nope", "abc", "x" * 201)
    assert set(caught.value.errors) == {"contact_email", "contact_phone", "contact_other"}
    assert scheme.contact_email == "old@example.org"
    assert audit_entries("schemes.contact_changed") == []
