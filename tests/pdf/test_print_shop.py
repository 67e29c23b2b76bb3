"""Print-shop files read back: PDF/X-4 with its output intent, trim and bleed boxes, crop marks outside the bleed,
and colour carried into the bleed."""

from __future__ import annotations

from io import BytesIO

import pikepdf
import pypdfium2
import pytest

from coordinator.pdf import (
    BLEED_MM,
    CROP_MARK_OFFSET_MM,
    OUTPUT_CONDITION_IDENTIFIER,
    PRINT_SHOP_VARIANT,
    SLUG_MM,
    mm,
    render_pdf,
)
from tests.helpers.pdf import reader

DL = (99, 210)
BAND = (0x1D, 0x4E, 0x89)


def leaflet_page(body: str) -> str:
    """A two-sided DL leaflet in the shape of the leaflet template: full-page panels, a colour band at the top.

    Its own styles, not the leaflet's, so that these tests hold whatever the leaflet's design becomes.
    """
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>Shop test</title>'
        "<style>@page { size: 99mm 210mm; margin: 0; } body { --safe: 6mm; margin: 0; color: var(--ink, #0b0c0c); }"
        " .panel { box-sizing: border-box; height: 209mm; padding: var(--safe); break-after: page; }"
        " .brand { background: #1d4e89; color: #fff; margin: calc(-1 * var(--safe)) calc(-1 * var(--safe)) 0;"
        " padding: calc(var(--safe) * 0.8) var(--safe) 2mm; }</style></head>"
        f"<body>{body}</body></html>"
    )


FRONT_AND_BACK = leaflet_page(
    '<div class="side"><div class="panel"><div class="brand bleeds"><p>Bromley Neighbourhood Watch</p></div>'
    "<h1>You are not alone</h1></div></div>"
    '<div class="side"><div class="panel" style="background: #1d4e89; color: #fff; height: 210mm; break-after: auto">'
    "<p>Call 0808 2000 247, free, 24 hours.</p></div></div>"
)


@pytest.fixture(scope="module")
def shop_pdf() -> bytes:
    return render_pdf(FRONT_AND_BACK, ["print/shop.css"], variant=PRINT_SHOP_VARIANT)


def test_a_shop_file_is_pdf_x4_with_a_cmyk_output_intent(shop_pdf):
    with pikepdf.open(BytesIO(shop_pdf)) as pdf:
        assert pdf.pdf_version == "1.6"
        [intent] = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFX" and str(intent.OutputConditionIdentifier) == OUTPUT_CONDITION_IDENTIFIER
        assert str(intent.Info) == "ISO Coated v2 300% (basICColor)"
        profile = intent.DestOutputProfile
        assert profile.N == 4 and profile.read_bytes()[36:40] == b"acsp" and profile.read_bytes()[16:20] == b"CMYK"
        with pdf.open_metadata() as meta:
            assert meta["pdfxid:GTS_PDFXVersion"] == "PDF/X-4"
        assert str(pdf.trailer.Info.Trapped) == "/False" and "/ID" in pdf.trailer
        # Colours given in RGB are stated to be sRGB, for the shop's RIP to convert to the output condition.
        for page in pdf.pages:
            space = page.Resources.ColorSpace.DefaultRGB
            assert space[0] == "/ICCBased" and space[1].N == 3


def test_each_page_is_the_trim_with_3mm_bleed_and_paper_round_it_for_the_crop_marks(shop_pdf):
    read = reader(shop_pdf)
    # One artwork: front and back, not a page per copy.
    assert len(read.pages) == 2
    width, height = mm(DL[0]), mm(DL[1])
    bleed, slug = mm(BLEED_MM), mm(SLUG_MM)
    for page in read.pages:
        assert [float(v) for v in page.trimbox] == pytest.approx([0, 0, width, height], abs=0.01)
        assert [float(v) for v in page.bleedbox] == pytest.approx([-bleed, -bleed, width + bleed, height + bleed],
                                                                 abs=0.01)
        assert [float(v) for v in page.mediabox] == pytest.approx([-slug, -slug, width + slug, height + slug],
                                                                 abs=0.01)


def _pixels(pdf: bytes, index: int, dpi: int = 150):
    document = pypdfium2.PdfDocument(pdf)
    try:
        return document[index].render(scale=dpi / 72).to_pil().convert("RGB")
    finally:
        document.close()


def test_crop_marks_lie_outside_the_bleed_and_colour_runs_into_it(shop_pdf):
    dpi = 150
    image = _pixels(shop_pdf, 0, dpi)

    def px(millimetres: float) -> int:
        return round(millimetres / 25.4 * dpi)

    trim_left, trim_top = px(SLUG_MM), px(SLUG_MM)
    # The band at the top of the front goes on past the trim to the edge of the bleed, on the top and the left...
    for x, y in ((trim_left + px(20), trim_top - px(BLEED_MM) + 2), (trim_left - px(BLEED_MM) + 2, trim_top + 5),
                 (trim_left + px(20), trim_top + 3)):
        assert all(abs(a - b) < 40 for a, b in zip(image.getpixel((x, y)), BAND)), (x, y)
    # ...and stops there: the paper outside the bleed is white but for the marks.
    assert image.getpixel((trim_left + px(20), trim_top - px(BLEED_MM) - 3)) == (255, 255, 255)

    # Crop marks: dark lines on the trim lines, from CROP_MARK_OFFSET_MM out; nothing dark within the bleed.
    def dark(x: int, y: int) -> bool:
        return max(image.getpixel((x, y))) < 140

    mark_zone = range(trim_top - px(SLUG_MM) + 2, trim_top - px(CROP_MARK_OFFSET_MM))
    assert any(dark(x, y) for y in mark_zone for x in range(trim_left - 1, trim_left + 2)), "no crop mark at the left"
    within_bleed = [(x, y) for x in range(trim_left - px(BLEED_MM), trim_left) for y in range(trim_top - px(BLEED_MM),
                                                                                            trim_top)]
    assert not any(max(image.getpixel(p)) < 140 and image.getpixel(p) != BAND for p in within_bleed), \
        "a mark reaches into the bleed"

    # A panel painted edge to edge (the back here) is painted on into the bleed on every edge of the paper.
    back = _pixels(shop_pdf, 1, dpi)
    trim_bottom, trim_right = trim_top + px(DL[1]), trim_left + px(DL[0])
    for x, y in ((trim_left + px(20), trim_bottom + px(BLEED_MM) - 2), (trim_right + px(BLEED_MM) - 2, trim_top + 40),
                 (trim_left - px(BLEED_MM) + 2, trim_top + 40), (trim_left + px(20), trim_top - px(BLEED_MM) + 2)):
        assert all(abs(a - b) < 40 for a, b in zip(back.getpixel((x, y)), BAND)), (x, y)
    assert back.getpixel((trim_left + px(20), trim_bottom + px(BLEED_MM) + 4)) == (255, 255, 255)


def test_text_black_is_one_ink_and_the_text_is_all_there(shop_pdf):
    text = "".join(page.extract_text() for page in reader(shop_pdf).pages)
    assert "You are not alone" in text and "0808 2000 247" in text
    with pikepdf.open(BytesIO(shop_pdf)) as pdf:
        content = b"".join(part.read_bytes() for part in pdf.pages[0].obj.Contents)
    # shop.css sets the ink to device-cmyk(0 0 0 1): text fills in DeviceCMYK with K alone.
    assert b"/DeviceCMYK cs\n0 0 0 1 scn" in content


def test_a_home_file_is_left_as_it_was():
    pdf = render_pdf(FRONT_AND_BACK, variant="pdf/ua-1")
    with pikepdf.open(BytesIO(pdf)) as document:
        assert "/OutputIntents" not in document.Root
        assert [float(v) for v in document.pages[0].MediaBox] == pytest.approx([0, 0, mm(DL[0]), mm(DL[1])],
                                                                               abs=0.01)
