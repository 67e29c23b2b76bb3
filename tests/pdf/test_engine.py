"""The PDF engine: bundled fonts, the page-count and off-page checks, metadata, imposition and repetition."""

from __future__ import annotations

import ctypes.util
import logging
import re
from io import BytesIO

import pikepdf
import pytest
from fontTools.ttLib import TTFont

from coordinator.pdf import (
    DoesNotFit,
    PDFMetadata,
    Placement,
    SheetPlan,
    check_font_subsetter,
    impose,
    mm,
    render_pdf,
    repeat_pages,
)
from tests.helpers.pdf import reader


def page(body: str, size: str = "148mm 210mm") -> str:
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        '<link rel="stylesheet" href="print/common.css">'
        f'<style>@page {{ size: {size}; margin: 8mm; }}</style></head><body class="layout-a5">{body}</body></html>'
    )


def embedded_fonts(pdf: bytes) -> dict[str, TTFont]:
    """BaseFont name -> the embedded font program, for every font on every page."""
    fonts = {}
    with pikepdf.open(BytesIO(pdf)) as document:
        for pdf_page in document.pages:
            for font in pdf_page.Resources.Font.values():
                descriptor = (
                    font.DescendantFonts[0].FontDescriptor if "/DescendantFonts" in font else font.FontDescriptor
                )
                fonts[str(font.BaseFont)] = TTFont(BytesIO(descriptor.FontFile2.read_bytes()))
    return fonts


def test_text_uses_only_the_bundled_fonts_subset_and_embedded():
    pdf = render_pdf(page("<p>Zoë Łukasz and Ólafur Ærø</p><p><strong>Café 0808 2000 247</strong></p>"))
    text = reader(pdf).pages[0].extract_text()
    assert "Zoë Łukasz" in text and "Ólafur Ærø" in text and "Café 0808 2000 247" in text
    fonts = embedded_fonts(pdf)
    assert {re.sub(r"^/[A-Z]{6}\+", "", name) for name in fonts} == {"Leaflet-Sans", "Leaflet-Sans-Bold"}
    assert all(re.match(r"^/[A-Z]{6}\+", name) for name in fonts), "fonts must be subset"
    # Noto Sans is bundled in static/fonts and is not installed on the system: its name proves the bundle is used.
    families = {font["name"].getDebugName(1) for font in fonts.values()}
    assert families == {"Noto Sans"}
    assert all(len(font.getGlyphOrder()) < 400 for font in fonts.values()), "the whole font was embedded"


def test_scripts_noto_sans_lacks_use_the_bundled_fallback_not_a_system_font():
    pdf = render_pdf(page("<p>Shalom שלום, Marhaba مرحبا, Zoë</p>"))
    fonts = embedded_fonts(pdf)
    assert {re.sub(r"^/[A-Z]{6}\+", "", name) for name in fonts} == {"Leaflet-Sans", "Leaflet-Sans-Fallback"}
    assert {font["name"].getDebugName(1) for font in fonts.values()} == {"Noto Sans", "DejaVu Sans"}


def test_more_pages_than_expected_raises_does_not_fit():
    html = page("<p>One</p><p style='break-before: page'>Two</p><p style='break-before: page'>Three</p>")
    assert len(reader(render_pdf(html)).pages) == 3
    with pytest.raises(DoesNotFit) as raised:
        render_pdf(html, expected_pages=1)
    assert (raised.value.page_count, raised.value.expected_pages) == (3, 1)


def test_text_running_off_the_page_raises_does_not_fit_even_on_one_page():
    html = page(f"<p style='white-space: nowrap'>{'0808 2000 247 ' * 40}</p>", size="105mm 148mm")
    with pytest.raises(DoesNotFit, match="runs out of its box or off the page"):
        render_pdf(html, expected_pages=1)


def test_text_running_over_its_neighbour_raises_does_not_fit():
    html = page(
        '<div style="display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr)">'
        '<p style="white-space: nowrap">0808 2000 247 0808 2000 247 0808</p><p>Samaritans</p></div>'
    )
    with pytest.raises(DoesNotFit, match="runs out of its box"):
        render_pdf(html, expected_pages=1)
    fits = page(
        '<div style="display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr)">'
        '<p style="white-space: nowrap">0808 2000 247</p><p>Samaritans</p></div>'
    )
    assert "0808 2000 247" in reader(render_pdf(fits, expected_pages=1)).pages[0].extract_text()


def test_a_long_word_wraps_instead_of_being_cut():
    pdf = render_pdf(page("<p>" + "x" * 800 + "</p>", size="105mm 148mm"), expected_pages=1)
    assert reader(pdf).pages[0].extract_text().replace("\n", "").count("x") == 800


def test_metadata_and_language_are_written():
    metadata = PDFMetadata(
        title="Zoë's leaflet",
        author="Bromley Neighbourhood Watch Association",
        subject="A5 flyer #ITSNOTOK",
        language="cy-GB",
    )
    pdf = render_pdf(page("<p>Hello</p>"), metadata=metadata)
    read = reader(pdf)
    assert read.metadata.title == "Zoë's leaflet"
    assert read.metadata.author == "Bromley Neighbourhood Watch Association"
    assert read.metadata.subject == "A5 flyer #ITSNOTOK"
    assert read.trailer["/Root"]["/Lang"] == "cy-GB"


def test_pdf_ua_variant_is_tagged_and_unknown_variants_are_refused():
    pdf = render_pdf(page("<h1>Title</h1><p>Body</p>"), variant="pdf/ua-1")
    root = reader(pdf).trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert b"pdfuaid" in pdf or b"pdfuaid" in _metadata_stream(pdf)
    with pytest.raises(ValueError, match="Unknown PDF variant"):
        render_pdf(page("<p>x</p>"), variant="pdf/nonsense")


def _metadata_stream(pdf: bytes) -> bytes:
    with pikepdf.open(BytesIO(pdf)) as document:
        return document.Root.Metadata.read_bytes() if "/Metadata" in document.Root else b""


def test_a_missing_fast_font_subsetter_is_logged(monkeypatch, caplog):
    assert check_font_subsetter() is True  # installed here, as `make` does
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    with caplog.at_level(logging.WARNING, logger="coordinator.pdf"):
        assert check_font_subsetter() is False
    assert "libharfbuzz-subset0 is not installed" in caplog.text


def card_pdf() -> bytes:
    return render_pdf(
        page("<p>Front</p><p style='break-before: page'>Back</p>", size="85mm 55mm"),
        metadata=PDFMetadata(title="Card", author="Watch", subject="Wallet card", language="en-GB"),
        variant="pdf/ua-1",
    )


def test_impose_places_each_page_on_its_own_sheet_and_repeats_sheets_by_reference():
    width, height = mm(85), mm(55)
    fronts = tuple(Placement(mm(20), mm(11) + row * height) for row in range(5))
    backs = tuple(Placement(mm(20) + width, mm(11) + row * height) for row in range(5))
    plan = SheetPlan(mm(210), mm(297), (fronts, backs), cut_marks=(((0, 0), (10, 0)),))
    pdf = impose(card_pdf(), plan, sheets=3)
    read = reader(pdf)
    assert len(read.pages) == 6
    assert [read.pages[i].extract_text().count("Front") for i in range(6)] == [5, 0, 5, 0, 5, 0]
    assert [read.pages[i].extract_text().count("Back") for i in range(6)] == [0, 5, 0, 5, 0, 5]
    # Metadata survives; the structure tree and the PDF/UA claim, which no longer describe the pages, do not.
    assert (read.metadata.title, read.metadata.author, read.metadata.subject) == ("Card", "Watch", "Wallet card")
    assert read.trailer["/Root"]["/Lang"] == "en-GB"
    assert "/StructTreeRoot" not in read.trailer["/Root"]
    assert b"pdfuaid:part" not in _metadata_stream(pdf)
    with pikepdf.open(BytesIO(pdf)) as document:
        contents = {document.pages[i].Contents.objgen for i in range(6)}
        assert len(contents) == 2  # one front sheet and one back sheet, each referenced three times
        assert document.pages[0].Contents.read_bytes().count(b" Do ") == 5
        assert b" m " in document.pages[0].Contents.read_bytes()  # the cut mark


def test_impose_refuses_a_plan_that_does_not_match_the_pages():
    with pytest.raises(ValueError, match="plan places 1 pages, the document has 2"):
        impose(card_pdf(), SheetPlan(mm(210), mm(297), ((Placement(0, 0),),)))


@pytest.mark.parametrize("rotation", [90, -90])
def test_turned_placement_lands_inside_its_cell_with_its_top_to_the_side(rotation):
    pdf = render_pdf(page("<p>Top of the leaflet</p>"))
    plan = SheetPlan(mm(210), mm(297), ((Placement(mm(10), mm(20), 0.5, rotation),),))
    with pikepdf.open(BytesIO(impose(pdf, plan))) as document:
        matrix = document.pages[0].Contents.read_bytes().split(b" cm")[0].split()[-6:]
    a, b, c, d, e, f = (float(value) for value in matrix)
    # The A5 page's corners (0, 0) and (w, h) map inside the cell of width 0.5*h and height 0.5*w.
    w, h = mm(148), mm(210)

    def at(x, y):
        return a * x + c * y + e, b * x + d * y + f

    corners = [at(x, y) for x, y in ((0, 0), (w, 0), (0, h), (w, h))]
    assert min(x for x, _ in corners) == pytest.approx(mm(10), abs=0.01)
    assert max(x for x, _ in corners) == pytest.approx(mm(10) + 0.5 * h, abs=0.01)
    assert min(y for _, y in corners) == pytest.approx(mm(20), abs=0.01)
    assert max(y for _, y in corners) == pytest.approx(mm(20) + 0.5 * w, abs=0.01)
    # The page's top edge (y = h) faces the sheet's left for 90 degrees, its right for -90.
    top_x = at(w / 2, h)[0]
    assert top_x == pytest.approx(mm(10) if rotation == 90 else mm(10) + 0.5 * h, abs=0.01)


def test_placements_turn_only_by_quarter_turns_either_way():
    with pytest.raises(ValueError, match="0, 90 or -90"):
        Placement(0, 0, rotation=180)


def test_repeat_pages_shares_content_and_costs_little_per_copy():
    single = card_pdf()
    many = repeat_pages(single, 500)
    read = reader(many)
    assert len(read.pages) == 1000
    assert (len(many) - len(single)) / 499 < 512
    with pikepdf.open(BytesIO(many)) as document:
        assert len({p.Contents.objgen for p in document.pages}) == 2
    assert repeat_pages(single, 1) == single
    with pytest.raises(ValueError):
        repeat_pages(single, 0)
