"""Bilingual leaflets fit their type as one-language ones do (coordinator/leaflets/render.py fit_panels), both halves
at one size, and English words in a leaflet in another language are marked as English (lang="en-GB").

The sentences are the tests' own (tests/leaflets/languages.py); no language's fixed wording is approved here, so the
fixed words print in English. Each PDF is read back with pdftotext.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from functools import cache

import pytest

from coordinator.leaflets import render
from coordinator.leaflets.layouts import get_layout
from tests.leaflets.languages import SENTENCES, leaflet

CASES = (("pl", "a5", 3), ("ar", "a4", 3), ("ur", "dl", 2))


def bilingual(second: str, helplines: int, **changes):
    lines = leaflet("en-GB").helplines[:helplines]
    return replace(leaflet("en-GB", helplines=lines), second=leaflet(second, helplines=lines), **changes)


def printed_fills(data, layout: str) -> dict[str, float]:
    """Each panel's share of its height filled as printed, as bench/leaflets.py measures it."""
    fits = render.fit_panels(data, layout)
    _, fills = render._layout_fills(data, get_layout(layout), False, fits, is_measuring=False)
    return {role: fill.share for role, fill in fills.items()}


@cache
def sides_pdf(second: str, layout: str, helplines: int) -> bytes:
    return render.render_leaflet_sides(bilingual(second, helplines), layout)


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "read.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["/usr/bin/pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout


@pytest.mark.parametrize(("second", "layout", "helplines"), CASES)
def test_both_halves_are_fitted_at_one_size(second, layout, helplines):
    data = bilingual(second, helplines)
    fits = render.fit_panels(data, layout)
    assert fits["first"] == fits["second"]
    assert 1.0 <= fits["first"] <= get_layout(layout).max_fit


def test_a_half_with_room_grows_its_type():
    # The poster's columns hold three numbers with room to spare: the type grows from the smallest.
    fits = render.fit_panels(bilingual("ar", 3), "a4")
    assert fits["first"] > 1.0


def test_the_language_name_does_not_hold_the_type_at_its_smallest():
    # The name of a half's language is as wide as itself in its band: its room is the band's, not its own width.
    fills = render.measure_panels(bilingual("pl", 3), "a5")
    assert all(fill.widen > 1.5 for fill in fills.values())


def test_the_bilingual_a5_panels_are_mostly_full():
    fills = printed_fills(bilingual("pl", 3), "a5")
    assert set(fills) == {"first", "second"}
    assert all(0.7 <= share <= 1.0 + 1e-3 for share in fills.values()), fills


def test_a_sensitive_a5_keeps_its_inside_columns_alike():
    data = bilingual("pl", 2, is_sensitive=True)
    fits = render.fit_panels(data, "a5")
    assert fits["first"] == fits["second"]
    assert "cover" in fits


@pytest.mark.parametrize(("second", "layout", "helplines"), CASES)
def test_fitted_leaflets_pass_preflight_and_read_back(second, layout, helplines, tmp_path):
    # render_leaflet_sides runs preflight: a refusal would raise here.
    text = pdf_text(sides_pdf(second, layout, helplines), tmp_path)
    assert SENTENCES["en-GB"][0] in text
    if second == "pl":
        assert SENTENCES["pl"][0] in text
    assert "0808 2000 247" in text


def test_a_half_too_long_is_still_refused():
    lines = leaflet("en-GB").helplines
    long = ("Długie zdanie o pomocy, która jest bezpłatna i poufna dla każdego. " * 30).strip()
    data = replace(leaflet("en-GB", helplines=lines),
                   second=replace(leaflet("pl", helplines=lines), call_to_action=long))
    with pytest.raises(render.LeafletError):
        render.render_leaflet_sides(data, "dl")


def _tags_with(html: str, css_class: str) -> list[str]:
    return re.findall(rf'<[a-z0-9]+ [^>]*class="{css_class}"[^>]*>', html)


def test_english_fixed_words_in_a_polish_half_are_marked_english():
    html = render.render_leaflet_html(bilingual("pl", 3), "a5")
    second = html[html.index('data-panel="second"'):]
    first = html[html.index('data-panel="first"'):html.index('data-panel="second"')]
    for css_class in ("police-more", "web-line", "small-print"):
        tags = _tags_with(second, css_class)
        assert tags and all('lang="en-GB"' in tag for tag in tags), css_class
    assert '<h2 lang="en-GB">' in second  # "Where to get help", "Police"
    assert 'dir="ltr"' not in re.sub(r'data-panel="second"[^>]*', "", second)  # Polish is left to right already
    # The English half needs no marking, it is in the page's language; but for the line in Polish telling Polish
    # readers to turn over, whose "Turn over." is English while Polish wording is not approved.
    assert re.findall(r'<[a-z0-9]+[^>]*lang="en-GB"[^>]*>[^<]*', first.split(">", 1)[1]) == ['<span lang="en-GB">Turn over.']


def test_english_fixed_words_in_an_arabic_half_are_marked_left_to_right():
    html = render.render_leaflet_html(bilingual("ar", 3), "a4")
    second = html[html.index('data-panel="second"'):]
    tags = _tags_with(second, "police-more")
    assert tags and all('lang="en-GB" dir="ltr"' in tag for tag in tags)


def test_a_one_language_arabic_leaflet_marks_its_english_words():
    data = leaflet("ar", contact_line="Contact Bickley Park: bickley.park@example.org")
    html = render.render_leaflet_html(data, "a5")
    assert re.search(r'<html lang="ar" dir="rtl">', html)
    contact = _tags_with(html, "contact-line")
    assert contact and all('lang="en-GB" dir="ltr"' in tag for tag in contact)
    assert all('lang="en-GB"' in tag for tag in _tags_with(html, "police-more"))
    assert all('lang="en-GB"' in tag for tag in _tags_with(html, "small-print"))
    # Its own content is not marked English.
    headline = re.search(r'<h[12] class="headline" data-field="headline"[^>]*>', html).group()
    assert "lang=" not in headline


def test_an_english_leaflet_is_not_marked():
    html = render.render_leaflet_html(leaflet("en-GB"), "a5")
    assert html.count('lang="en-GB"') == 1  # the page's own
    assert html.count('dir="ltr"') == 1


def test_a_few_helplines_are_listed_one_under_another_in_each_half():
    html = render.render_leaflet_html(bilingual("ar", 2), "a5")
    assert html.count('<ul class="helplines is-few">') == 2
    html = render.render_leaflet_html(bilingual("ar", 3), "a5")
    assert "is-few" not in html


def test_english_hours_and_turn_over_are_marked():
    html = render.render_leaflet_html(bilingual("ar", 2), "a5")
    second = html[html.index('data-panel="second"'):]
    # The National Domestic Abuse Helpline is open all hours: "24 hours, 7 days" is fixed wording, here English.
    assert '<span class="helpline-hours" lang="en-GB" dir="ltr">24 hours, 7 days</span>' in second
    # The English front tells Arabic readers to turn over, in English while Arabic's wording is not approved.
    assert re.search(r'<p class="overleaf other-language" lang="ar" dir="rtl">[^<]*<span lang="en-GB" dir="ltr">Turn '
                     r'over\.</span>', html)
