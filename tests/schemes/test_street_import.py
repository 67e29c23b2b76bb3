"""Importing a scheme's streets from a CSV file, checked without HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.schemes import street_import
from coordinator.schemes.models import Street
from tests.factories import make_scheme, make_street
from tests.schemes.helpers import audit_entries, csv_bytes, street_count, twin_added_by_someone_else

# --- importing streets -------------------------------------------------------------------------------------------


def test_import_adds_every_street_and_audits_the_count(app):
    scheme = make_scheme()
    data = csv_bytes("Hayes Lane,br2 9ea,64,2,Flats: lobby", "Bourne Way,BR2 7EY,38,0,", "Hast Hill,BR27DT,22,0,")
    report = street_import.import_streets(scheme, data)
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
    twin_added_by_someone_else(scheme, "BOURNE WAY", "BR2 7EY")
    report = street_import.import_streets(scheme, csv_bytes("Hayes Lane,BR2 9EA,64,2,", "Bourne Way,BR2 7EY,38,0,"))
    assert not report.ok and "upload the file again" in report.file_problems[0]
    db.session.commit()
    assert [street.name for street in scheme.streets] == ["BOURNE WAY"]
    assert audit_entries("streets.imported") == []


def test_import_with_a_bom_and_without_the_optional_column(app):
    scheme = make_scheme()
    data = b"\xef\xbb\xbf" + csv_bytes("Hayes Lane,BR2 9EA,64,2", header="name,postcode,households,no_leaflets")
    report = street_import.import_streets(scheme, data)
    assert report.ok and report.imported == 1
    assert street_count(scheme) == 1


def test_blank_lines_are_skipped_and_line_numbers_stay_true(app):
    scheme = make_scheme()
    data = csv_bytes("", "Hayes Lane,BR2 9EA,64,2,", " , , , ,", "Bourne Way,BR2 7EY,x,0,")
    report = street_import.import_streets(scheme, data)
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
    report = street_import.import_streets(scheme, data)
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
    report = street_import.import_streets(scheme, data)
    assert not report.ok
    assert [line.problems for line in report.rows] == [
        [], [], ["Same street and postcode as line 2"], ["This scheme already has warren road in BR2 7AL"]]
    assert street_count(scheme) == 1
    assert audit_entries("streets.imported") == []


def test_formula_cells_are_refused(app):
    scheme = make_scheme()
    data = csv_bytes('"=HYPERLINK(""http://x"")",BR2 9EA,4,0,', "Hayes Lane,BR2 9EA,4,0,@SUM(A1)", "Bourne Way,BR2 7EY,4,0,")
    report = street_import.import_streets(scheme, data)
    assert not report.ok
    assert report.rows[0].name == '=HYPERLINK("http://x")'
    assert any("name starts with '='" in p and "formula" in p for p in report.rows[0].problems)
    assert any("delivery_notes starts with '@'" in p for p in report.rows[1].problems)
    assert report.rows[2].is_ok
    assert street_count(scheme) == 0


def test_a_sign_before_anything_but_a_number_is_a_formula_too(app):
    scheme = make_scheme()
    refused = ["-1+1", "-2+3+cmd|' /C calc'!A0", "+44 20 7946 0000", "- see notes", "+=1"]
    report = street_import.import_streets(scheme, csv_bytes(*(f"Street {n},BR2 9EA,4,0,\"{cell}\"" for n, cell in
                                                         enumerate(refused))))
    assert not report.ok
    for row, cell in zip(report.rows, refused, strict=True):
        assert any("delivery_notes starts with" in p and "formula" in p for p in row.problems), cell
    assert street_count(scheme) == 0
    # A signed number, or a dash alone, is data to a spreadsheet.
    assert street_import.import_streets(scheme, csv_bytes("Hayes Lane,BR2 9EA,4,0,-", "Bourne Way,BR2 7EY,4,0,-5")).ok


def test_hidden_characters_in_any_cell_refuse_the_file_naming_each_cell(app):
    scheme = make_scheme()
    data = csv_bytes("Hayes Lane,BR2 9EA,4,0,", "Bourne\u200bWay,BR2 7EY,4,0,", "Hast Hill,BR2 7DT,4,0,Call \u202e101")
    report = street_import.import_streets(scheme, data)
    assert not report.ok and len(report.file_problems) == 1
    problem = report.file_problems[0]
    assert "line 3, name: U+200B (zero width space)" in problem
    assert "line 4, delivery_notes: U+202E (right-to-left override)" in problem
    assert street_count(scheme) == 0


def test_a_file_the_csv_reader_chokes_on_is_explained_in_plain_words(app):
    scheme = make_scheme()
    # A cell over the csv module's field limit (128 KB), well inside the 2 MB upload limit.
    report = street_import.import_streets(scheme, csv_bytes(f"Hayes Lane,BR2 9EA,4,0,\"{'x' * 200_000}\""))
    assert not report.ok
    problem = report.file_problems[0]
    assert problem.startswith("Line 2 cannot be read as CSV: a quotation mark may be missing, or a cell is far too long")
    assert "field limit" not in problem and "131072" not in problem


def test_ten_megabytes_of_junk_is_refused_before_reading(app):
    scheme = make_scheme()
    report = street_import.import_streets(scheme, b"\x8f\xff junk " * (10 * 1024 * 1024 // 8))
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
    report = street_import.import_streets(scheme, data)
    assert not report.ok and message in report.file_problems[0]
    assert street_count(scheme) == 0


def test_a_row_with_too_many_cells_means_nothing_is_imported(app):
    scheme = make_scheme()
    data = csv_bytes("Hayes Lane,BR2 9EA,64,2,", "Bourne Way,BR2 7EY,38,0,notes,surprise", "Hast Hill,BR2 7DT,22,0,")
    report = street_import.import_streets(scheme, data)
    assert not report.ok
    assert [line.line for line in report.bad_rows] == [3]
    assert report.rows[1].problems == ["This row has more cells than the header has columns"]
    assert street_count(scheme) == 0


def test_every_problem_of_a_row_is_listed(app):
    scheme = make_scheme()
    report = street_import.import_streets(scheme, csv_bytes(",nowhere,3,4," + "x" * 501))
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
    rows = [f"Street {n},BR2 9EA,1,0," for n in range(street_import.MAX_IMPORT_ROWS + 1)]
    report = street_import.import_streets(scheme, csv_bytes(*rows))
    assert not report.ok and "one import takes at most 1,000" in report.file_problems[0]
    assert street_count(scheme) == 0
