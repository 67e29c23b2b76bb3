"""Scheme and street rules, checked without HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from coordinator.audit.models import AuditEntry
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.schemes import services as schemes
from coordinator.schemes.models import Street
from tests.factories import make_scheme, make_street, make_user
from tests.schemes.helpers import csv_bytes


def audit_entries(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def street_count(scheme) -> int:
    return db.session.scalar(select(func.count(Street.id)).where(Street.scheme_id == scheme.id))


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


def _twin_added_by_someone_else(scheme, name: str, postcode: str) -> None:
    """Just before this session writes, another person's request adds and commits the same street."""

    def add_twin(_session, _context, _instances):
        with db.engine.begin() as other:
            other.execute(Street.__table__.insert().values(
                scheme_id=scheme.id, name=name, postcode=postcode, households=5, households_no_leaflets=0,
                delivery_notes="", created_at=utcnow(), updated_at=utcnow()))

    event.listen(db.session, "before_flush", add_twin, once=True)


def test_a_twin_street_added_at_the_same_moment_is_refused_by_the_database_as_the_same_problem(app):
    scheme = make_scheme()
    db.session.commit()
    _twin_added_by_someone_else(scheme, "HAYES LANE", "BR2 9EA")
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
    _twin_added_by_someone_else(scheme, "hayes lane", "BR2 9EA")
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


def test_totals_and_coordinator_order(app):
    main = make_user(name="Zara Main")
    deputy_b = make_user(name="bob Deputy")
    deputy_a = make_user(name="Alice Deputy")
    scheme = make_scheme(coordinators=[main, deputy_b, deputy_a])
    make_street(scheme, "A Street", households=10, no_leaflets=2)
    make_street(scheme, "B Street", households=5, no_leaflets=0)
    db.session.refresh(scheme)
    assert schemes.total_streets(scheme.streets) == schemes.StreetTotals(2, 15, 2, 13)
    assert [m.user.name for m in schemes.list_coordinators(scheme)] == ["Zara Main", "Alice Deputy", "bob Deputy"]


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


# --- importing streets -------------------------------------------------------------------------------------------


def test_import_adds_every_street_and_audits_the_count(app):
    scheme = make_scheme()
    data = csv_bytes("Hayes Lane,br2 9ea,64,2,Flats: lobby", "Bourne Way,BR2 7EY,38,0,", "Hast Hill,BR27DT,22,0,")
    report = schemes.import_streets(scheme, data)
    db.session.commit()
    assert report.ok and report.imported == 3
    assert [(line.line, line.name, line.is_ok) for line in report.rows] == [
        (2, "Hayes Lane", True), (3, "Bourne Way", True), (4, "Hast Hill", True)]
    saved = {s.name: s for s in db.session.scalars(select(Street).where(Street.scheme_id == scheme.id))}
    assert saved["Hayes Lane"].postcode == "BR2 9EA" and saved["Hayes Lane"].delivery_notes == "Flats: lobby"
    assert saved["Hast Hill"].postcode == "BR2 7DT"
    [entry] = audit_entries("streets.imported")
    assert entry.details["count"] == 3 and entry.object_id == str(scheme.id)
    assert report.lines() == ["Line 2: Hayes Lane: OK", "Line 3: Bourne Way: OK", "Line 4: Hast Hill: OK",
                              "Imported 3 streets."]


def test_a_street_added_while_the_file_is_checked_stops_the_whole_import(app):
    scheme = make_scheme()
    db.session.commit()
    _twin_added_by_someone_else(scheme, "BOURNE WAY", "BR2 7EY")
    report = schemes.import_streets(scheme, csv_bytes("Hayes Lane,BR2 9EA,64,2,", "Bourne Way,BR2 7EY,38,0,"))
    assert not report.ok and "upload the file again" in report.file_problems[0]
    db.session.commit()
    assert [street.name for street in scheme.streets] == ["BOURNE WAY"]
    assert audit_entries("streets.imported") == []


def test_import_with_a_bom_and_without_the_optional_column(app):
    scheme = make_scheme()
    data = b"\xef\xbb\xbf" + csv_bytes("Hayes Lane,BR2 9EA,64,2", header="name,postcode,households,no_leaflets")
    report = schemes.import_streets(scheme, data)
    assert report.ok and report.imported == 1
    assert street_count(scheme) == 1


def test_blank_lines_are_skipped_and_line_numbers_stay_true(app):
    scheme = make_scheme()
    data = csv_bytes("", "Hayes Lane,BR2 9EA,64,2,", " , , , ,", "Bourne Way,BR2 7EY,x,0,")
    report = schemes.import_streets(scheme, data)
    assert not report.ok
    assert [(line.line, line.name) for line in report.rows] == [(3, "Hayes Lane"), (5, "Bourne Way")]
    assert report.rows[0].is_ok
    assert report.rows[1].problems == ["The number of households must be a whole number, 0 or more"]
    assert report.lines() == [
        "Line 3: Hayes Lane: OK", "Line 5: Bourne Way: The number of households must be a whole number, 0 or more",
        "Nothing was imported: 1 of 2 rows has problems. Correct the file and upload all of it again."]
    assert street_count(scheme) == 0


def test_latin1_bytes_give_a_clear_error_and_import_nothing(app):
    scheme = make_scheme()
    data = "name,postcode,households,no_leaflets\nRue de l'Église,BR2 9EA,4,0\n".encode("latin-1")
    report = schemes.import_streets(scheme, data)
    assert not report.ok and report.rows == []
    assert report.file_problems[0].startswith("Line 2 is not UTF-8 text.") and "CSV UTF-8" in report.file_problems[0]
    assert street_count(scheme) == 0


def test_duplicate_rows_in_the_file_and_streets_already_in_the_scheme(app):
    scheme = make_scheme()
    make_street(scheme, "Warren Road", postcode="BR2 7AL")
    data = csv_bytes(
        "Hayes Lane,BR2 9EA,64,2,",
        "Bourne Way,BR2 7EY,38,0,",
        "HAYES LANE,br29ea,60,0,",
        "warren road,BR2 7AL,55,0,",
    )
    report = schemes.import_streets(scheme, data)
    assert not report.ok
    assert [line.problems for line in report.rows] == [
        [], [], ["Same street and postcode as line 2"], ["This scheme already has warren road in BR2 7AL"]]
    assert street_count(scheme) == 1
    assert audit_entries("streets.imported") == []


def test_formula_cells_are_refused(app):
    scheme = make_scheme()
    data = csv_bytes('"=HYPERLINK(""http://x"")",BR2 9EA,4,0,', "Hayes Lane,BR2 9EA,4,0,@SUM(A1)", "Bourne Way,BR2 7EY,4,0,")
    report = schemes.import_streets(scheme, data)
    assert not report.ok
    assert report.rows[0].name == '=HYPERLINK("http://x")'
    assert any("name starts with '='" in p and "formula" in p for p in report.rows[0].problems)
    assert any("delivery_notes starts with '@'" in p for p in report.rows[1].problems)
    assert report.rows[2].is_ok
    assert street_count(scheme) == 0


def test_a_sign_before_anything_but_a_number_is_a_formula_too(app):
    scheme = make_scheme()
    refused = ["-1+1", "-2+3+cmd|' /C calc'!A0", "+44 20 7946 0000", "- see notes", "+=1"]
    report = schemes.import_streets(scheme, csv_bytes(*(f"Street {n},BR2 9EA,4,0,\"{cell}\"" for n, cell in
                                                         enumerate(refused))))
    assert not report.ok
    for row, cell in zip(report.rows, refused, strict=True):
        assert any("delivery_notes starts with" in p and "formula" in p for p in row.problems), cell
    assert street_count(scheme) == 0
    # A signed number, or a dash alone, is data to a spreadsheet.
    assert schemes.import_streets(scheme, csv_bytes("Hayes Lane,BR2 9EA,4,0,-", "Bourne Way,BR2 7EY,4,0,-5")).ok


def test_hidden_characters_in_any_cell_refuse_the_file_naming_each_cell(app):
    scheme = make_scheme()
    data = csv_bytes("Hayes Lane,BR2 9EA,4,0,", "Bourne\u200bWay,BR2 7EY,4,0,", "Hast Hill,BR2 7DT,4,0,Call \u202e101")
    report = schemes.import_streets(scheme, data)
    assert not report.ok and len(report.file_problems) == 1
    problem = report.file_problems[0]
    assert "line 3, name: U+200B (zero width space)" in problem
    assert "line 4, delivery_notes: U+202E (right-to-left override)" in problem
    assert street_count(scheme) == 0


def test_a_file_the_csv_reader_chokes_on_is_explained_in_plain_words(app):
    scheme = make_scheme()
    # A cell over the csv module's field limit (128 KB), well inside the 2 MB upload limit.
    report = schemes.import_streets(scheme, csv_bytes(f"Hayes Lane,BR2 9EA,4,0,\"{'x' * 200_000}\""))
    assert not report.ok
    problem = report.file_problems[0]
    assert problem.startswith("Line 2 cannot be read as CSV: a quotation mark may be missing, or a cell is far too long")
    assert "field limit" not in problem and "131072" not in problem


def test_ten_megabytes_of_junk_is_refused_before_reading(app):
    scheme = make_scheme()
    report = schemes.import_streets(scheme, b"\x8f\xff junk " * (10 * 1024 * 1024 // 8))
    assert not report.ok and "the most this import takes is 2,048 KB" in report.file_problems[0]
    assert street_count(scheme) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Hayes Lane,BR2 9EA,64,2,\r\n", "The first line must be the header"),
        (b"", "The file is empty."),
        (b"name,postcode,households\r\nHayes Lane,BR2 9EA,64\r\n", "Missing: no_leaflets"),
        (b"name,postcode,households,no_leaflets,colour\r\n", "Not recognised: colour"),
        (b"name,postcode,households,no_leaflets\r\n\r\n", "a header but no streets"),
        (b"\x00\x01PK binary", "not a CSV text file"),
    ],
)
def test_files_that_cannot_be_read_say_why(app, data, message):
    scheme = make_scheme()
    report = schemes.import_streets(scheme, data)
    assert not report.ok and message in report.file_problems[0]
    assert street_count(scheme) == 0


def test_a_row_with_too_many_cells_means_nothing_is_imported(app):
    scheme = make_scheme()
    data = csv_bytes("Hayes Lane,BR2 9EA,64,2,", "Bourne Way,BR2 7EY,38,0,notes,surprise", "Hast Hill,BR2 7DT,22,0,")
    report = schemes.import_streets(scheme, data)
    assert not report.ok
    assert [line.line for line in report.bad_rows] == [3]
    assert report.rows[1].problems == ["This row has more cells than the header has columns"]
    assert street_count(scheme) == 0


def test_every_problem_of_a_row_is_listed(app):
    scheme = make_scheme()
    report = schemes.import_streets(scheme, csv_bytes(",nowhere,3,4," + "x" * 501))
    [line] = report.rows
    assert line.name == ""
    assert line.problems == [
        "Enter the street name",
        "Enter a UK postcode, like BR2 9EA",
        "Households that asked for no leaflets cannot be more than the households (3)",
        "Delivery notes must be 500 characters or fewer",
    ]


def test_too_many_rows_for_one_import(app):
    scheme = make_scheme()
    rows = [f"Street {n},BR2 9EA,1,0," for n in range(schemes.MAX_IMPORT_ROWS + 1)]
    report = schemes.import_streets(scheme, csv_bytes(*rows))
    assert not report.ok and "one import takes at most 1,000" in report.file_problems[0]
    assert street_count(scheme) == 0
