"""Bilingual leaflets as printed (coordinator/leaflets/bilingual.py): English and one other language, each half a whole
message with the numbers, side by side on the A4 poster and front and back on the A5 flyer and the DL leaflet.

The sentences are the tests' own (tests/leaflets/languages.py), not approved translations. Each PDF is read back:
its text with pdftotext, where each word stands with its boxes, and its fonts with fontTools.
"""

from __future__ import annotations

import io
import logging
import re
import subprocess
import unicodedata
from dataclasses import replace
from functools import cache

import pikepdf
import pytest
from fontTools.ttLib import TTFont
from markupsafe import escape

from coordinator.leaflets import render
from coordinator.leaflets.bilingual import BILINGUAL_LAYOUTS
from coordinator.leaflets.cache import cache_key
from coordinator.leaflets.render import LeafletError
from coordinator.pdf import STATIC_DIR
from tests.helpers.hostile import HOSTILE_TEXTS
from tests.leaflets.languages import SENTENCES, leaflet

NUMBER = "0808 2000 247"  # the National Domestic Abuse Helpline, on every leaflet of the domestic abuse set
# How many of the set's helplines each layout is printed with here: each side of an A5 or a DL holds the whole
# message, so fewer numbers fit than on a one-language leaflet's back; the poster's columns hold all seven.
HELPLINES = {"a4": 7, "a5": 3, "dl": 2}


def bilingual(second: str, helplines: int = 7, **changes):
    """The English test leaflet with `second`'s behind or beside it, with the domestic abuse set's first helplines."""
    lines = leaflet("en-GB").helplines[:helplines]
    return replace(leaflet("en-GB", helplines=lines), second=leaflet(second, helplines=lines), **changes)


@cache
def printed(second: str, layout: str, mode: str = "shop") -> tuple[bytes, tuple[str, ...]]:
    """The leaflet as the app prints it (a print shop's file: one side a page), with WeasyPrint's warnings."""
    warnings: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: warnings.append(record.getMessage())
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        pdf = render.render_leaflet_pdf(bilingual(second, HELPLINES[layout]), layout, mode=mode)
    finally:
        logger.removeHandler(handler)
    return pdf, tuple(warnings)


def page_text(pdf: bytes, tmp_path, page: int, *options: str) -> str:
    path = tmp_path / "read.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["/usr/bin/pdftotext", "-enc", "UTF-8", "-f", str(page), "-l", str(page), *options,
                           str(path), "-"], capture_output=True, text=True, check=True, timeout=60).stdout


def normalised(text: str) -> str:
    """Canonical decomposition, without whitespace, punctuation or the direction marks pdftotext adds."""
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if not c.isspace() and unicodedata.category(c)[0] not in "PC")


def words(sentence: str) -> list[str]:
    return [w for w in (normalised(word) for word in sentence.split()) if w]


def embedded_families(pdf: bytes) -> set[str]:
    families = set()
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for obj in document.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor" and "/FontFile2" in obj:
                families.add(TTFont(io.BytesIO(obj.FontFile2.read_bytes()))["name"].getDebugName(1))
    return families


def word_boxes(pdf: bytes, tmp_path, page: int) -> tuple[float, list[tuple[float, float, str]]]:
    """The page's width and each word's left and right edges."""
    html = page_text(pdf, tmp_path, page, "-bbox")
    width = float(re.search(r'<page width="([\d.]+)"', html)[1])
    return width, [(float(x0), float(x1), word) for x0, x1, word in re.findall(
        r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', html)]


def sentence_edges(boxes, sentence: str) -> tuple[float, float]:
    """The leftmost and rightmost edge of a sentence's words where they stand together, in the order pdftotext reads
    them (right-to-left words may read back letters reversed, and their line from either end)."""
    wanted = words(sentence)
    found = [(normalised(word), normalised(word[::-1])) for _, _, word in boxes]
    for start in range(len(found) - len(wanted) + 1):
        run = found[start:start + len(wanted)]
        if sorted(word if word in wanted else backwards for word, backwards in run) == sorted(wanted):
            edges = boxes[start:start + len(wanted)]
            return min(x0 for x0, _, _ in edges), max(x1 for _, x1, _ in edges)
    raise AssertionError(f"{sentence!r} not found together")


def test_english_and_polish_on_an_a5_english_on_the_front_polish_on_the_back_each_with_the_numbers(tmp_path):
    pdf, warnings = printed("pl", "a5")
    assert not [w for w in warnings if ".notdef" in w]
    front, back = (page_text(pdf, tmp_path, page) for page in (1, 2))
    # A side holds the whole message: the headline and what to do (the call to action), then the numbers.
    headline, key_message, call = SENTENCES["en-GB"]
    assert headline in front and call in front and key_message not in front
    headline, key_message, call = SENTENCES["pl"]
    assert headline in back and call in " ".join(back.split()) and key_message not in back
    # Each side a whole message: the helplines and the police on both, each language on its own side only.
    for side in (front, back):
        assert NUMBER in side and "999" in side and "101" in side
    assert "Nie jesteś sama" not in front and "You are not alone" not in back
    # Each half names its language in itself; the English front tells Polish readers to turn over.
    assert "Polski" in front and "Polski" in back and "English" in front


def test_english_and_arabic_side_by_side_on_an_a4_the_arabic_column_set_from_its_right_edge(tmp_path):
    pdf, warnings = printed("ar", "a4")
    assert not [w for w in warnings if ".notdef" in w]
    width, boxes = word_boxes(pdf, tmp_path, 1)
    middle = width / 2
    for sentence in SENTENCES["en-GB"]:
        left, right = sentence_edges(boxes, sentence)
        # In the left column, from its left edge: far nearer the page's edge than the middle.
        assert right < middle and left < middle - right, (sentence, left, right)
    for sentence in SENTENCES["ar"]:
        left, right = sentence_edges(boxes, sentence)
        # In the right column, set from its right edge.
        assert left > middle and (left - middle) > 1.5 * (width - right), (sentence, left, right)
    assert "Noto Naskh Arabic" in embedded_families(pdf)
    # The numbers stay whole and read left to right inside the right-to-left column.
    assert pdf_text_count(pdf, tmp_path, NUMBER) == 2


def pdf_text_count(pdf: bytes, tmp_path, text: str) -> int:
    return " ".join(page_text(pdf, tmp_path, 1).split()).count(text)


def test_english_and_urdu_on_a_dl_print_every_letter_from_the_nastaliq_font(tmp_path):
    pdf, warnings = printed("ur", "dl")  # preflighted as every leaflet is: a missing glyph would be refused
    assert not [w for w in warnings if ".notdef" in w]
    assert "Noto Nastaliq Urdu" in embedded_families(pdf)
    # Urdu's text layer reads back wrong (Kozea/WeasyPrint#2841), so the glyphs are checked: every letter of the
    # back's sentences is in the bundled font, and the font WeasyPrint embedded has glyphs beyond .notdef.
    cmap = TTFont(STATIC_DIR / "fonts" / "NotoNastaliqUrdu-Regular.ttf").getBestCmap()
    letters = {c for sentence in SENTENCES["ur"] for c in sentence if unicodedata.category(c)[0] == "L"}
    assert letters and all(ord(c) in cmap for c in letters)
    back = page_text(pdf, tmp_path, 2)
    assert NUMBER in back and "999" in back
    assert "You are not alone" in page_text(pdf, tmp_path, 1)


def test_home_sheets_of_a_bilingual_a5_hold_two_fronts_then_two_backs(tmp_path):
    pdf, _ = printed("pl", "a5", "home")
    assert "You are not alone" in page_text(pdf, tmp_path, 1)
    assert "Nie jesteś sama" in page_text(pdf, tmp_path, 2)


@pytest.mark.parametrize("layout", ["a6", "a4-folded", "wallet"])
def test_the_small_and_folded_formats_print_one_language(layout):
    assert layout not in BILINGUAL_LAYOUTS
    with pytest.raises(LeafletError, match="one language"):
        render.render_leaflet_html(bilingual("pl"), layout)


def test_a_sensitive_a5_has_a_neutral_outside_in_both_languages_and_both_messages_inside(tmp_path):
    data = bilingual("ar", 2, is_sensitive=True)
    pdf = render.render_leaflet_pdf(data, "a5", mode="shop")
    outside, inside = (" ".join(page_text(pdf, tmp_path, page).split()) for page in (1, 2))
    assert "Support for you and your neighbours" in outside and "999" in outside
    # No subject on the outside, in either language.
    headline, _, call = SENTENCES["en-GB"]
    assert headline not in outside and call not in outside
    outside_words = set(words(outside)) | {word[::-1] for word in words(outside)}
    assert not set(words(SENTENCES["ar"][0])) & outside_words and not set(words(SENTENCES["ar"][2])) & outside_words
    assert "You are not alone" in inside and NUMBER in inside and inside.count("999") >= 2
    width, boxes = word_boxes(pdf, tmp_path, 2)
    left, right = sentence_edges(boxes, SENTENCES["ar"][0])
    assert left > width / 2 and (left - width / 2) > 1.5 * (width - right)  # the Arabic column, from its right


def test_a_sensitive_dl_has_no_room_for_two_languages_behind_a_neutral_outside():
    with pytest.raises(LeafletError, match="inside an A5 flyer"):
        render.render_leaflet_html(bilingual("pl", 2, is_sensitive=True), "dl")
    assert "Nie jesteś sama" in render.render_leaflet_html(bilingual("pl", is_sensitive=True), "a4")


def test_each_half_carries_its_language_and_direction_and_the_page_has_one_h1():
    html = render.render_leaflet_html(bilingual("ar"), "a4")
    assert '<div class="panel panel-first wording-en" data-panel="first" lang="en-GB" dir="ltr">' in html
    # Arabic's wording is not approved here: its fixed words print in English, each line left to right.
    assert '<div class="panel panel-second wording-en" data-panel="second" lang="ar" dir="rtl">' in html
    assert html.count("<h1") == 1 and "print/bilingual.css" in html


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_text_in_the_second_language_is_printed_as_text(text):
    data = bilingual("pl", 3)
    second = replace(data.second, headline=text, call_to_action=text, key_messages=(text,))
    html = render.render_leaflet_html(replace(data, second=second), "a5")
    assert "<script" not in html and "<img src=x" not in html
    assert str(escape(text)) in html


def test_the_second_languages_text_is_checked_like_the_first():
    second = replace(leaflet("pl"), headline="Nie\u202ejesteś sama")  # a right-to-left override
    with pytest.raises(LeafletError, match="hidden control characters"):
        render.check_leaflet_data(replace(leaflet("en-GB"), second=second))


def test_the_second_language_is_part_of_the_cache_key():
    english = leaflet("en-GB")
    keys = {cache_key(data=english), cache_key(data=bilingual("pl")), cache_key(data=bilingual("ar"))}
    assert len(keys) == 3
