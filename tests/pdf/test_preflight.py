"""Preflight: documents built to break each rule are refused, naming the field and saying what to change."""

from __future__ import annotations

import pytest

from coordinator.leaflets.preflight import (
    PreflightFailed,
    PrintRules,
    bundled_characters,
    contrast,
    family_characters,
    field_label,
)
from coordinator.pdf import render_pdf
from tests.helpers.pdf import reader

LEAFLET_RULES = PrintRules(min_text_pt=12, min_small_print_pt=8)


def page(body: str, *, style: str = "", size: str = "99mm 210mm") -> str:
    """A leaflet-like page with the bundled fonts, `style` on top, and `body` inside."""
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        '<link rel="stylesheet" href="print/common.css">'
        f"<style>@page {{ size: {size}; margin: 6mm; }} body {{ font-size: 12pt; }} {style}</style></head>"
        f"<body>{body}</body></html>"
    )


def refused(html: str, rules: PrintRules = LEAFLET_RULES) -> PreflightFailed:
    with pytest.raises(PreflightFailed) as caught:
        render_pdf(html, preflight=rules)
    return caught.value


def test_a_leaflet_that_meets_every_rule_is_written():
    html = page(
        '<h1 data-field="headline" style="background:#1d4e89;color:#fff">You are not alone</h1>'
        '<p data-field="helplines">National Domestic Abuse Helpline <strong style="white-space:nowrap">0808 2000 247'
        "</strong>, free, 24 hours</p>"
        '<p data-field="web_address">More at <span style="white-space:nowrap">watch.example.org/c/its-not-ok</span></p>'
        '<p class="small-print" style="font-size:8pt">Printed 24 November 2026 · Ref 4F2A-91C0</p>'
    )
    pdf = render_pdf(html, preflight=LEAFLET_RULES)
    assert "0808 2000 247" in reader(pdf).pages[0].extract_text()


def test_type_under_the_formats_minimum_is_refused_with_its_size_and_field():
    # A tiny-type stylesheet: the key messages at 9 pt on a leaflet whose minimum is 12 pt.
    html = page('<ul class="key-messages" data-field="key_messages"><li>Lock your doors</li></ul>'
                '<p data-field="headline">Stay safe</p>', style=".key-messages { font-size: 9pt; }")
    error = refused(html)
    [problem] = error.problems  # the bullet, drawn smaller still, is decoration
    assert (problem.rule, problem.field, problem.page) == ("small-text", "key_messages", 1)
    assert str(error) == ("A key message prints at 9.0 pt on page 1, under this format's 12 pt minimum: shorten the "
                          "text so the type can be larger, or choose a larger format.")
    assert error.fields == {"key_messages": str(error)}


def test_type_is_measured_as_printed_and_the_small_print_has_its_own_minimum():
    html = page('<p data-field="summary">Body text</p><p class="small-print" style="font-size:8pt">Ref 1</p>')
    render_pdf(html, preflight=LEAFLET_RULES)
    # The same page shrunk to 92% on a home sheet prints its 12 pt body at 11 pt, and its 8 pt small print at 7.4 pt.
    error = refused(html, PrintRules(min_text_pt=12, min_small_print_pt=8, scale=0.92))
    assert [(p.field, p.rule) for p in error.problems] == [("summary", "small-text"), ("", "small-text")]
    assert "prints at 11.0 pt" in error.problems[0].message and "7.4 pt" in error.problems[1].message
    # Without a minimum, the size of type is not checked (a delivery sheet's page numbers are small).
    render_pdf(page('<p style="font-size:6pt">Page 1 of 2</p>'))


def test_content_that_runs_out_of_its_panel_is_refused():
    # Hostile length: a local notice far longer than its fixed-height panel holds.
    html = page(
        '<div data-panel="back" style="height:40mm"><section data-field="notice">'
        f'<p>{"Residents meeting at the church hall on Tuesday at seven. " * 12}</p></section></div>'
        '<div data-panel="next"><p data-field="contact_line">Call your coordinator</p></div>'
    )
    error = refused(html)
    assert {(p.rule, p.field) for p in error.problems} == {("overflow", "notice")}
    assert str(error).startswith("The local notice runs out of its panel on page 1")


@pytest.mark.parametrize(("field", "text", "width", "number"), [
    # The contact line as a coordinator typed it: a number in running text, in a column too narrow to keep it whole.
    ("contact_line", "Your coordinator is Zoë Łukasz on 020 7946 0018 any day", "38mm", "020 7946 0018"),
    ("contact_line", "Your coordinator is Zoë Łukasz on 020 7946 0018 any day", "46mm", "020 7946 0018"),
    # "0808 2000 / 247", as it was seen on a large-print front.
    ("helplines", "National Domestic Abuse Helpline 0808 2000 247, free, 24 hours", "87mm", "0808 2000 247"),
])
def test_a_phone_number_split_across_two_lines_is_refused(field, text, width, number):
    html = page(f'<p data-field="{field}" style="width:{width}">{text}</p>')
    error = refused(html)
    assert [(p.rule, p.field, p.text) for p in error.problems] == [("split-number", field, number)]
    assert str(error).startswith(f"{field_label(field)}: the number {number} is split across two lines on page 1")


def test_a_number_kept_whole_on_a_narrow_line_passes():
    html = page('<p data-field="helplines" style="width:87mm">National Domestic Abuse Helpline '
                '<span style="white-space:nowrap">0808 2000 247</span>, free, 24 hours</p>')
    render_pdf(html, preflight=LEAFLET_RULES)


def test_a_web_address_split_inside_a_word_is_refused_but_may_break_after_a_slash_or_dot():
    long_address = "www.sexualabuseandsexualviolenceawarenessweek.org/about"
    html = page(f'<p data-field="web_address" style="width:40mm">More at {long_address}</p>')
    error = refused(html)
    [problem] = error.problems
    assert (problem.rule, problem.field) == ("split-address", "web_address")
    assert problem.text == long_address
    assert problem.message == (f"The web address: the address {long_address} is split in the middle of a word on "
                               "page 1: print a shorter address, or let it break only after “/” or “.”.")
    # An address given places to break, after its dots and slashes, prints on two lines; a part longer than the
    # line is still split inside a word, and refused.
    address = "www.ourwatch.org.uk/itsnotok/resources"
    render_pdf(page(f'<p data-field="web_address" style="width:40mm">More at {_breakable(address)}</p>'),
               preflight=LEAFLET_RULES)
    assert refused(page(f'<p data-field="web_address" style="width:40mm">More at {_breakable(long_address)}</p>'))


def _breakable(address: str) -> str:
    return address.replace(".", ".<wbr>").replace("/", "/<wbr>")


def test_two_words_on_two_lines_are_not_a_split_number():
    html = page('<p data-field="summary" style="width:30mm">Open from 0900 to 1700 and 020 on 7946 days</p>')
    render_pdf(html, preflight=LEAFLET_RULES)


def test_a_character_none_of_the_fonts_has_is_refused_by_name():
    # Sinhala: none of the fonts this page names has it (nor any bundled font), so it would print as an empty box
    # or in whatever font the machine has.
    html = page('<p data-field="contact_line">Coordinator: සිංහල 020 7946 0018</p>')
    error = refused(html)
    [problem] = error.problems
    assert (problem.rule, problem.field, problem.text) == ("missing-glyph", "contact_line", "සිංහල")
    assert problem.message.startswith("The contact line has characters “ස” (U+0DC3), “ි” (U+0DD2)")
    one = refused(page('<p data-field="contact_line">Coordinator: ස</p>'))
    assert str(one) == ("The contact line has the character “ස” (U+0DC3), which none of the leaflet's fonts can "
                        "print: remove it or write it another way.")


def test_only_the_fonts_the_text_asks_for_count():
    # Bengali has a bundled font (static/print/scripts.css) only once a page names its family; Latin needs none.
    families = ("Leaflet Sans", "Leaflet Sans Fallback")
    assert ord("ব") not in family_characters(families) and ord("Ł") in family_characters(families)
    assert family_characters(("sans-serif",)) == frozenset()  # the machine's own fonts never count
    # Latin, Polish, Welsh and the symbols leaflets use are all covered.
    assert all(ord(c) in bundled_characters() for c in "Zoë Łukasz ŵŷ £ € · – “ ” ✓")


def test_text_in_too_low_a_contrast_with_its_background_is_refused():
    # Light grey on white (2.8:1), and white on a pale brand colour.
    html = page('<p data-field="summary" style="color:#959595">Quiet words</p>'
                '<header data-field="headline" style="background:#8fb3e0"><h1 style="color:#fff">Loud</h1></header>')
    error = refused(html)
    assert [(p.rule, p.field) for p in error.problems] == [("contrast", "summary"), ("contrast", "headline")]
    assert "contrast of 3.0:1" in error.problems[0].message and "under 4.5:1" in error.problems[0].message
    # The same on the bundled dark blue passes.
    render_pdf(page('<header data-field="headline" style="background:#1d4e89"><h1 style="color:#fff">Loud</h1>'
                    "</header>"), preflight=LEAFLET_RULES)


def test_contrast_is_the_wcag_ratio():
    assert contrast((0, 0, 0), (1, 1, 1)) == pytest.approx(21)
    assert contrast((1, 1, 1), (1, 1, 1)) == pytest.approx(1)
    assert contrast((0x76 / 255,) * 3, (1, 1, 1)) == pytest.approx(4.54, abs=0.01)


def test_every_problem_is_listed_and_the_message_counts_the_rest():
    html = page('<p data-field="summary" style="color:#bbb;font-size:8pt">Faint and small සිංහල</p>')
    error = refused(html)
    assert {p.rule for p in error.problems} == {"small-text", "contrast", "missing-glyph"}
    assert str(error).endswith(f"(and {len(error.problems) - 1} more problems)")


def test_a_word_cut_where_it_does_not_break_is_refused_but_a_hyphen_may_break():
    # WeasyPrint cuts a word wider than its line rather than let it run out ("neighbour" / "s").
    html = page('<h1 data-field="headline" style="width:30mm;font-size:20pt">Support for your neighbours</h1>')
    error = refused(html)
    assert [(p.rule, p.field, p.text) for p in error.problems] == [("split-word", "headline", "neighbours")]
    assert str(error).startswith("The headline: the word “neighbours” is cut across two lines on page 1")
    render_pdf(page('<p data-field="summary" style="width:14mm">Good self-esteem</p>'), preflight=LEAFLET_RULES)


def test_a_refusal_survives_the_trip_back_from_a_render_process():
    import pickle

    from coordinator.leaflets.render import LeafletPreflightFailed

    error = refused(page('<p data-field="summary" style="color:#bbb">Faint</p>'))
    again = pickle.loads(pickle.dumps(error))
    assert again.problems == error.problems and str(again) == str(error)
    leaflet_error = pickle.loads(pickle.dumps(LeafletPreflightFailed(str(error), error.fields)))
    assert leaflet_error.fields == error.fields and str(leaflet_error) == str(error)
