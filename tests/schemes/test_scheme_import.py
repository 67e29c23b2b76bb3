"""Importing schemes with their streets from one CSV: the service, the admins' page and the command line.
All or nothing, with a line-by-line report."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.extensions import db
from coordinator.schemes.models import Scheme, Street
from coordinator.schemes.scheme_import import import_schemes
from tests.admin.helpers import HOSTILE, actions, count, csv_bytes, upload
from tests.factories import make_admin, make_scheme, make_user
from tests.helpers.web import login_as, post_form

HEADER = "scheme,ward,postcode_district,street,postcode,households,no_leaflets"
GOOD = (
    "Hayes Lane Watch,Hayes and Coney Hall,BR2,Hayes Lane,BR2 9EA,48,3",
    "Hayes Lane Watch,,,Baston Road,br2 7be,31,0",
    "Hayes Lane Watch,Hayes and Coney Hall,br2,Hayes Street,BR2 7LD,20,20",
    "Oakfield Watch,Bickley,BR1,,,,",
    "Chislehurst Common Watch,Chislehurst,BR7,Camden Park Road,BR7 5HE,64,2",
)


def schemes_csv(*lines: str, header: str = HEADER) -> bytes:
    return csv_bytes(*lines, header=header)


def nothing_imported(before: int = 0) -> None:
    assert count(Scheme) == before
    assert count(Street) == 0
    assert actions("schemes.imported") == []


# --- The service --------------------------------------------------------------------------------


def test_a_good_file_creates_the_schemes_with_their_streets(app):
    admin = make_admin()
    db.session.commit()

    report = import_schemes(schemes_csv(*GOOD), admin)
    db.session.commit()

    assert report.ok, report.lines()
    assert report.summary() == "Imported 3 schemes with 4 streets."
    hayes = db.session.scalar(select(Scheme).where(Scheme.name == "Hayes Lane Watch"))
    assert (hayes.slug, hayes.ward, hayes.postcode_district) == ("hayes-lane-watch", "Hayes and Coney Hall", "BR2")
    assert [(s.name, s.postcode, s.households, s.households_no_leaflets) for s in hayes.streets] == [
        ("Baston Road", "BR2 7BE", 31, 0), ("Hayes Lane", "BR2 9EA", 48, 3), ("Hayes Street", "BR2 7LD", 20, 20),
    ]
    oakfield = db.session.scalar(select(Scheme).where(Scheme.name == "Oakfield Watch"))
    assert oakfield.streets == [] and oakfield.postcode_district == "BR1"
    assert len(actions("schemes.created")) == 3
    summary = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "schemes.imported"))
    assert summary.details == {"schemes": 3, "streets": 4} and summary.actor_id == admin.id


def test_slugs_are_unique_beside_existing_schemes_and_delivery_notes_may_come_too(app):
    make_scheme("Hayes Lane", slug="hayes-lane-watch")
    db.session.commit()
    report = import_schemes(schemes_csv(
        'Hayes Lane Watch,,,Hayes Lane,BR2 9EA,48,3,"Gate code 1234; dog at 12"',
        header=HEADER + ",delivery_notes",
    ), None)
    assert report.ok, report.lines()
    scheme = db.session.scalar(select(Scheme).where(Scheme.name == "Hayes Lane Watch"))
    assert scheme.slug == "hayes-lane-watch-2"
    assert scheme.streets[0].delivery_notes == "Gate code 1234; dog at 12"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (",Ward,BR2,Hayes Lane,BR2 9EA,4,0", "The scheme's name is missing."),
        ("Hayes Lane Watch,Ward,BR22X,Hayes Lane,BR2 9EA,4,0", "The postcode district must be like BR2 or SE9."),
        ("Hayes Lane Watch,,,Hayes Lane,NOT A CODE,4,0", "Enter a UK postcode, like BR2 9EA."),
        ("Hayes Lane Watch,,,Hayes Lane,BR2 9EA,many,0", "must be a whole number"),
        ("Hayes Lane Watch,,,Hayes Lane,BR2 9EA,4,5", "cannot be more than the households (4)"),
        ("Hayes Lane Watch,,,,BR2 9EA,4,0", "Enter the street name."),
        ("Hayes Lane Watch,,,=HYPERLINK(1),BR2 9EA,4,0", "which a spreadsheet would run as a formula"),
        ("Hayes Lane Watch,,,Hayes Lane,BR2 9EA,4,0,notes,extra", "more cells than the header has columns"),
        ("Existing Watch,,,Hayes Lane,BR2 9EA,4,0", "A scheme with this name already exists"),
        ("x" * 121 + ",,,Hayes Lane,BR2 9EA,4,0", "must be 120 characters or fewer"),
    ],
)
def test_a_bad_line_is_reported_and_nothing_is_imported(app, line, expected):
    make_scheme("Existing Watch")
    db.session.commit()
    report = import_schemes(schemes_csv(GOOD[0], line), None)
    assert not report.ok
    assert report.rows[0].is_ok
    assert expected in " ".join(report.rows[1].problems), report.rows[1].problems
    assert report.summary().startswith("Nothing was imported: 1 of 2 rows has problems.")
    db.session.rollback()
    nothing_imported(before=1)


def test_repeats_and_disagreements_within_the_file_are_named_by_line(app):
    report = import_schemes(schemes_csv(
        GOOD[0],
        "Hayes Lane Watch,Another Ward,,Baston Road,BR2 7BE,31,0",
        "hayes lane watch,,SE9,Hayes Street,BR2 7LD,20,0",
        "Hayes Lane Watch,,,HAYES LANE,br29ea,1,0",
    ), None)
    problems = [" ".join(row.problems) for row in report.rows]
    assert problems[0] == ""
    assert "Line 2 gives this scheme the ward 'Hayes and Coney Hall'." in problems[1]
    assert "Line 2 gives this scheme the postcode district 'BR2'." in problems[2]
    assert "Line 2 already adds this street and postcode to this scheme." in problems[3]
    db.session.rollback()
    nothing_imported()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "The file is empty."),
        (HEADER.encode() + b"\r\n", "The file has a header but no schemes under it."),
        (b"name,postcode\r\nHayes,BR2 9EA\r\n", "The first line must be the header"),
        ((HEADER + "\r\nZo\xeb Watch,,,,,,\r\n").encode("latin-1"), "Line 2 is not UTF-8 text"),
        (b"PK\x03\x04\x00\x00binary", "This is not a CSV text file"),
        (schemes_csv("Hayes\u202eWatch,,,,,,"), "hidden control characters"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(app, data, expected):
    report = import_schemes(data, None)
    assert not report.ok
    assert expected in " ".join(report.file_problems)
    nothing_imported()


def test_six_hundred_schemes_with_five_thousand_streets_import_at_once(app):
    lines = []
    for n in range(5_000):
        scheme = n % 600
        lines.append(f"Scheme {scheme} Watch,Ward {scheme % 40},BR{1 + scheme % 8},Street {n},BR{1 + scheme % 8} 9EA,"
                     f"{10 + n % 50},{n % 3}")
    report = import_schemes(schemes_csv(*lines), None)
    db.session.commit()
    assert report.ok, report.lines()[:5]
    assert (count(Scheme), count(Street)) == (600, 5_000)


# --- The page -----------------------------------------------------------------------------------


def test_an_admin_imports_a_good_file_through_the_page(client):
    admin = make_admin()
    db.session.commit()
    login_as(client, admin)
    page = client.get("/admin/schemes").get_data(as_text=True)
    assert "/admin/schemes/import" in page

    response = post_form(client, "/admin/schemes/import", {"file": upload(schemes_csv(*GOOD), "schemes.csv")},
                         content_type="multipart/form-data")

    assert "Imported 3 schemes with 4 streets." in response.get_data(as_text=True)
    assert count(Scheme) == 3 and count(Street) == 4


def test_the_page_reports_line_by_line_with_hostile_text_escaped(client):
    admin = make_admin()
    db.session.commit()
    login_as(client, admin)
    data = schemes_csv(GOOD[0], f'"{HOSTILE[0]}",,,"{HOSTILE[2]}",BR2 9EA,4,9', f'"{HOSTILE[1]}",,,Road,BR2 9EA,4,0')

    page = post_form(client, "/admin/schemes/import", {"file": upload(data, "schemes.csv")},
                     content_type="multipart/form-data").get_data(as_text=True)

    assert "Nothing was imported: 1 of 3 rows has problems." in page
    assert '<a href="#line-3">Line 3</a>' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert count(Scheme) == 0


@pytest.mark.parametrize(
    ("filename", "data", "expected"),
    [
        ("schemes.xlsx", b"PK\x03\x04 zip", "The file must be a CSV file (ending .csv or .txt)"),
        ("big.csv", HEADER.encode() + b"\r\n" + b"j" * (3 * 1024 * 1024), "the most this import takes"),
        ("empty.csv", b"", "The file is empty"),
    ],
)
def test_the_page_refuses_other_files_and_big_ones(client, filename, data, expected):
    admin = make_admin()
    db.session.commit()
    login_as(client, admin)
    response = post_form(client, "/admin/schemes/import", {"file": upload(data, filename)},
                         content_type="multipart/form-data")
    # Werkzeug's test client spools a big body to a temporary file and leaves it open.
    response.request.environ["wsgi.input"].close()
    page = response.get_data(as_text=True)
    assert expected in page and "There is a problem" in page
    nothing_imported()


def test_coordinators_cannot_open_the_page(client):
    coordinator = make_user()
    db.session.commit()
    login_as(client, coordinator)
    assert client.get("/admin/schemes/import").status_code == 403
    assert post_form(client, "/admin/schemes/import", {"file": upload(schemes_csv(*GOOD), "s.csv")},
                     content_type="multipart/form-data").status_code == 403
    nothing_imported()


# --- The command line ---------------------------------------------------------------------------


def test_the_command_imports_a_good_file_and_refuses_a_bad_one(runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(schemes_csv(GOOD[0], "Hayes Lane Watch,,,Hayes Lane,BR2 9EA,4,0"))
    result = runner.invoke(args=["import-schemes", str(bad)])
    assert result.exit_code == 1
    assert "Line 3: Hayes Lane Watch, Hayes Lane: Line 2 already adds this street" in result.output
    nothing_imported()

    good = tmp_path / "good.csv"
    good.write_bytes(schemes_csv(*GOOD))
    result = runner.invoke(args=["import-schemes", str(good)])
    assert result.exit_code == 0, result.output
    assert "Imported 3 schemes with 4 streets." in result.output
    assert db.session.scalar(select(AuditEntry.actor_label).where(AuditEntry.action == "schemes.imported")) == \
        "command line"
