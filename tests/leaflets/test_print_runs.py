"""Print runs: one PDF for all the copies, pages as stated, and a delivery sheet whose totals match."""

from __future__ import annotations

import csv
import io
import re
from io import BytesIO

import pikepdf
import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.extensions import db
from coordinator.leaflets import delivery_sheets, pdfs, print_runs
from coordinator.leaflets.layouts import get_layout, plan_print
from coordinator.leaflets.models import PrintRun
from coordinator.leaflets.offers import LeafletChoiceError
from coordinator.settings import get_settings
from tests.factories import load_starter, make_coordinated_scheme, starter_choice
from tests.helpers.pdf import pdftotext, reader
from tests.helpers.web import login_as

STREETS = ((23, 2), (7, 0), (5, 5), (40, 4))  # with 5% spares: 21+2, 7+1, 0, 36+2


def make_run(layout="a5", print_mode="home", streets=STREETS, **changes):
    load_starter()
    scheme, coordinator = make_coordinated_scheme("Petts Wood North", streets=streets)
    run = print_runs.create_print_run(
        scheme, starter_choice(layout=layout, print_mode=print_mode, **changes), [s.id for s in scheme.streets],
        coordinator,
    )
    db.session.commit()
    return run


def test_a_print_run_records_each_streets_copies_and_is_audited():
    run = make_run()
    assert [(s.name, s.households, s.households_no_leaflets, s.copies) for s in run.streets] == [
        ("Petts Wood North Road 1", 23, 2, 23),
        ("Petts Wood North Road 2", 7, 0, 8),
        ("Petts Wood North Road 3", 5, 5, 0),
        ("Petts Wood North Road 4", 40, 4, 38),
    ]
    assert run.copies == run.copies_for_streets == 69 and run.spare_copies_percent == 5
    assert (run.sheets, run.pages) == (35, 70)  # 2 A5s to a sheet, printed on both sides
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "print_runs.created"))
    assert entry.object_id == str(run.id) and entry.details["copies"] == 69
    assert entry.details["streets"] == {str(s.street_id): s.copies for s in run.streets}


@pytest.mark.parametrize(
    ("layout", "pages"),
    [
        ("a5", 70),  # 69 copies, 2 to a sheet: 35 sheets, front and back
        ("a4", 69),  # one side, one to a sheet
        ("dl", 46),  # 3 to a sheet: 23 sheets
        ("wallet", 28),  # the folded card, 5 to a sheet: 14 sheets, front and back
    ],
)
def test_a_home_run_pdf_has_the_pages_it_states(layout, pages):
    run = make_run(layout, "home")
    plan = print_runs.print_run_plan(run)
    pdf = print_runs.print_run_pdf(run)
    assert len(reader(pdf).pages) == plan.pages == run.pages == pages
    assert plan.sheets * plan.sides == plan.pages
    assert plan.copies >= run.copies and plan.copies == plan_print(get_layout(layout), "home", 69).copies
    # Every sheet shares one laid-out front and one back: nothing was laid out 69 times.
    with pikepdf.open(BytesIO(pdf)) as document:
        assert len({page.Contents.objgen for page in document.pages}) == (1 if layout == "a4" else 2)


def test_a_shop_run_is_one_artwork_and_a_quantities_sheet(client):
    # 245 DL copies were a 490-page file; a print shop wants the artwork once and how many to print.
    load_starter()
    scheme, coordinator = make_coordinated_scheme(streets=((200, 10), (42, 0)))
    choice = starter_choice(layout="dl", print_mode="shop")
    run = print_runs.create_print_run(scheme, choice, [s.id for s in scheme.streets], coordinator)
    db.session.commit()
    assert run.copies == 245 and run.pages == 2  # 190 + 10 spares and 42 + 3 spares (5%, rounded up per street)
    pdf = print_runs.print_run_pdf(run)
    read = reader(pdf)
    assert len(read.pages) == 2  # front and back, once
    assert read.trailer["/Root"]["/OutputIntents"][0]["/S"] == "/GTS_PDFX"
    # The artwork is the one a builder or a central order makes of the same content: one render, in the cache.
    assert print_runs.print_run_recipe(run).copies == 1
    rows = list(csv.DictReader(io.StringIO(print_runs.print_run_quantities(run))))
    assert [(r["street"], r["households"], r["households_no_leaflets"], r["copies"]) for r in rows] == [
        (street.name, str(street.households), str(street.households_no_leaflets), str(street.copies))
        for street in run.streets]
    assert sum(int(r["copies"]) for r in rows) == 245
    assert {r["pdf_file"] for r in rows} == {f"print-run-{run.id}-dl-artwork.pdf"}
    prepared = print_runs.prepare_print_run(scheme, choice, [s.id for s in scheme.streets])
    assert print_runs.print_run_notes(run) == prepared.printing_notes == [(
        "For a print shop: one artwork (2 pages, front and back, printed double-sided) to print 245 times, at trim "
        "size with 3 mm bleed and crop marks, PDF/X-4. The quantities sheet gives the copies for each street.")]

    login_as(client, coordinator)
    page = client.get(f"/leaflets/print-runs/{run.id}").get_data(as_text=True)
    assert "Download the artwork (PDF)" in page and "Download the quantities (CSV)" in page
    with client.get(f"/leaflets/print-runs/{run.id}/leaflets.pdf") as download:
        assert download.headers["Content-Disposition"].endswith(f"print-run-{run.id}-dl-artwork.pdf")
        assert len(reader(download.data).pages) == 2
    with client.get(f"/leaflets/print-runs/{run.id}/quantities.csv") as download:
        assert download.mimetype == "text/csv"
        assert download.get_data(as_text=True).splitlines()[0] == ",".join(print_runs.QUANTITY_COLUMNS)


def test_the_delivery_sheet_lists_the_streets_with_totals_that_match(tmp_path):
    run = make_run()
    pdf = delivery_sheets.delivery_sheet_pdf(run)
    read = reader(pdf)
    assert read.pages[0].mediabox.width == pytest.approx(595.28, abs=0.01)
    assert read.metadata.title.startswith("Delivery sheet: #ITSNOTOK")
    text = pdftotext(pdf, tmp_path, layout=True)
    for street in run.streets:
        if street.copies:
            assert re.search(rf"{re.escape(street.name)}\s+{street.postcode}\s+{street.households}\s+"
                             rf"{street.households_no_leaflets}\s+{street.copies}", text), street.name
    total = re.search(r"Total, 3 streets\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)", text)
    assert total, text
    households, no_leaflets, copies = (int(value.replace(",", "")) for value in total.groups())
    assert households == 23 + 7 + 40 and no_leaflets == 2 + 0 + 4 and copies == 23 + 8 + 38 == run.copies
    assert "No leaflets for Petts Wood North Road 3: every household there asked for none." in " ".join(text.split())
    assert "Print double-sided, flip on long edge: 35 sheets of A4 paper" in " ".join(text.split())
    assert "Delivered" in text and "Date" in text


def test_the_delivery_sheet_runs_over_pages_with_its_header_and_each_streets_notes(tmp_path):
    load_starter()
    scheme, coordinator = make_coordinated_scheme(streets=tuple((10 + n, 0) for n in range(40)))
    for street in scheme.streets:
        street.delivery_notes = "Gate code 4417; no leaflets at 12 and 14"
    run = print_runs.create_print_run(scheme, starter_choice(), [s.id for s in scheme.streets], coordinator)
    pdf = delivery_sheets.delivery_sheet_pdf(run)
    pages = reader(pdf).pages
    assert len(pages) >= 2
    text = pdftotext(pdf, tmp_path)
    # The form asks for no residents' names; the notes are printed as the coordinator wrote them, under each street.
    assert text.count("Notes: Gate code 4417; no leaflets at 12 and 14") == 40
    assert all("Street" in page.extract_text() and "Copies" in page.extract_text() for page in pages)
    assert f"Page 1 of {len(pages)}" in text


def test_the_run_pdf_and_delivery_sheet_come_from_the_cache_the_second_time():
    run = make_run(print_mode="shop")
    pdf = print_runs.print_run_pdf(run)
    sheet = delivery_sheets.delivery_sheet_pdf(run)
    leaflets, sheets = pdfs.render_count(), pdfs.render_count("delivery_sheet")
    assert print_runs.print_run_pdf(run) == pdf and delivery_sheets.delivery_sheet_pdf(run) == sheet
    assert (pdfs.render_count(), pdfs.render_count("delivery_sheet")) == (leaflets, sheets)


def test_spares_follow_the_setting_at_the_time_of_the_run():
    load_starter()
    get_settings().spare_copies_percent = 0
    scheme, coordinator = make_coordinated_scheme(streets=((10, 0),))
    run = print_runs.create_print_run(scheme, starter_choice(), [scheme.streets[0].id], coordinator)
    assert run.copies == 10 and run.spare_copies_percent == 0
    assert db.session.get(PrintRun, run.id).streets[0].copies == 10


# --- Copies per street ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("households", "none", "percent", "copies"),
    [
        (20, 0, 5, 21),  # 5% of 20 is exactly 1
        (21, 0, 5, 23),  # 1.05 rounds up to 2
        (1, 0, 5, 2),  # any household at all gets a spare with any spares at all
        (40, 10, 5, 32),  # 30 to deliver to, 1.5 rounds up to 2
        (100, 0, 0, 100),  # no spares
        (50, 0, 6, 53),  # 3 exactly: integer arithmetic, no 3.0000000001 rounding up to 4
        (12, 12, 5, 0),  # every household asked for none: no copies, no spares
        (0, 0, 5, 0),
    ],
)
def test_copies_are_households_less_those_asking_for_none_plus_spares_rounded_up(households, none, percent, copies):
    assert print_runs.street_copies(households, none, percent) == copies


def test_a_print_run_uses_the_associations_spare_percentage_for_each_street():
    load_starter()
    get_settings().spare_copies_percent = 10
    scheme, _ = make_coordinated_scheme(streets=((30, 0), (11, 1), (8, 8)))
    prepared = print_runs.prepare_print_run(scheme, starter_choice(), [s.id for s in scheme.streets])
    assert [s.copies for s in prepared.streets] == [33, 11, 0]
    assert prepared.copies == 44 == prepared.leaflet.recipe.copies
    assert [s.name for s in prepared.streets_with_none] == [scheme.streets[2].name]


def test_a_print_run_of_streets_that_all_asked_for_none_is_refused():
    load_starter()
    scheme, _ = make_coordinated_scheme(streets=((8, 8), (3, 3)))
    with pytest.raises(LeafletChoiceError) as raised:
        print_runs.prepare_print_run(scheme, starter_choice(), [s.id for s in scheme.streets])
    assert "asked for no leaflets" in raised.value.errors["streets"]


def test_a_print_run_takes_only_its_own_schemes_streets():
    load_starter()
    scheme, _ = make_coordinated_scheme()
    other, _ = make_coordinated_scheme()
    with pytest.raises(LeafletChoiceError) as raised:
        print_runs.create_print_run(scheme, starter_choice(), [scheme.streets[0].id, other.streets[0].id], None)
    assert raised.value.errors == {"streets": "Choose streets of this scheme only."}
    with pytest.raises(LeafletChoiceError, match="at least one street"):
        print_runs.prepare_print_run(scheme, starter_choice(), [])
