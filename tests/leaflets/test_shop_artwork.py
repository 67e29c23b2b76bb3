"""A leaflet for a print shop is one artwork and a quantity, in the print run's shape; home printing keeps its sheets."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from coordinator.extensions import db
from coordinator.leaflets import builder, pdfs, print_runs, recipes
from coordinator.leaflets.models import LeafletRecord
from tests.factories import load_starter, make_coordinated_scheme, starter_choice
from tests.helpers.pdf import reader
from tests.helpers.web import login_as


def test_a_shop_leaflet_of_many_copies_is_the_artwork_once_and_a_quantities_sheet(client):
    load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park")
    choice = starter_choice(layout="dl", print_mode="shop")
    # The artwork of one copy is in the cache already (a preview, a print run or a central order made it).
    one, _ = builder.generate_leaflet(scheme, choice, coordinator)
    renders = pdfs.render_count()
    record, prepared = builder.generate_leaflet(scheme, choice, coordinator, copies=245)
    db.session.commit()
    assert pdfs.render_count() == renders  # 245 copies are the same file: nothing rendered again
    assert record.copies == 245 and prepared.recipe.key == recipes.recipe_of(one).key
    pdf = builder.record_pdf(record)
    read = reader(pdf)
    assert len(read.pages) == 2 == prepared.recipe.pages_in_file  # front and back, once (was 490 pages)
    assert read.trailer["/Root"]["/OutputIntents"][0]["/S"] == "/GTS_PDFX"
    assert float(read.pages[0].bleedbox.width) > float(read.pages[0].trimbox.width)  # trim and bleed
    assert prepared.printing_notes == [(
        "For a print shop: one artwork (2 pages, front and back, printed double-sided) to print 245 times, at trim "
        "size with 3 mm bleed and crop marks, PDF/X-4. Order 245 copies: the quantities sheet says so too.")]

    # The quantities sheet in a print run's columns, naming the artwork as it is downloaded.
    file_name = f"leaflet-{record.id}-dl-artwork.pdf"
    assert builder.record_file_name(record) == file_name
    rows = list(csv.DictReader(io.StringIO(builder.record_quantities(record))))
    assert rows == [{"scheme": "Bickley Park", "pdf_file": file_name, "street": "", "postcode": "",
                     "households": "", "households_no_leaflets": "", "copies": "245"}]
    assert builder.record_quantities(record).splitlines()[0] == ",".join(print_runs.QUANTITY_COLUMNS)

    login_as(client, coordinator)
    page = client.get(f"/leaflets/{record.id}").get_data(as_text=True)
    assert "Download the artwork (PDF)" in page and "Download the quantities (CSV)" in page
    assert "Order <strong>245 copies</strong> of the" in page and file_name in page
    with client.get(f"/leaflets/{record.id}/leaflet.pdf") as download:
        assert download.headers["Content-Disposition"].endswith(file_name)
        assert len(reader(download.data).pages) == 2
    with client.get(f"/leaflets/{record.id}/quantities.csv") as download:
        assert download.mimetype == "text/csv" and download.headers["Cache-Control"] == "private, no-store"
        assert f'filename="leaflet-{record.id}-quantities.csv"' in download.headers["Content-Disposition"]
        assert download.get_data(as_text=True) == builder.record_quantities(record)


def test_home_printing_keeps_its_sheets_and_has_no_quantities_sheet(client):
    load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park")
    record, prepared = builder.generate_leaflet(scheme, starter_choice(layout="a5"), coordinator, copies=5)
    db.session.commit()
    assert len(reader(builder.record_pdf(record)).pages) == 6 == prepared.recipe.pages_in_file  # 3 sheets, 2 sides
    assert builder.record_file_name(record) == f"leaflet-a5-{record.reference}.pdf"
    login_as(client, coordinator)
    page = client.get(f"/leaflets/{record.id}").get_data(as_text=True)
    assert "Download the quantities" not in page and "Download the PDF" in page
    assert client.get(f"/leaflets/{record.id}/quantities.csv").status_code == 404


def test_another_schemes_quantities_sheet_is_not_found(client):
    load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park")
    record, _ = builder.generate_leaflet(scheme, starter_choice(layout="dl", print_mode="shop"), coordinator, copies=9)
    _, stranger = make_coordinated_scheme("Elsewhere")
    db.session.commit()
    login_as(client, stranger)
    assert client.get(f"/leaflets/{record.id}/quantities.csv").status_code == 404
    assert client.get("/leaflets/999999/quantities.csv").status_code == 404


def test_leaflet_render_for_a_shop_writes_the_artwork_and_its_quantities(runner, tmp_path):
    load_starter()
    make_coordinated_scheme("Bickley Park")
    db.session.commit()
    out = tmp_path / "dl.pdf"
    result = runner.invoke(args=["leaflet", "render", "--campaign", "its-not-ok", "--helplines", "sexual-violence",
                                 "--layout", "dl", "--mode", "shop", "--copies", "40", "--scheme", "Bickley Park",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(reader(out.read_bytes()).pages) == 2
    sheet = tmp_path / "dl-quantities.csv"
    rows = list(csv.DictReader(io.StringIO(sheet.read_text(encoding="utf-8"))))
    assert [(row["scheme"], row["pdf_file"], row["copies"]) for row in rows] == [("Bickley Park", "dl.pdf", "40")]
    assert "2 page(s)" in result.output and f"Wrote {sheet}: order 40 copies." in result.output
    record = db.session.scalar(select(LeafletRecord))
    assert record.copies == 40 and record.print_mode == "shop"
