"""Preflight on every leaflet render (render.py's preflight_rules): the starter leaflets pass as they are printed,
and leaflets built to fail a rule are refused with a LeafletError naming the leaflet field (data-field)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from coordinator.leaflets import render
from coordinator.leaflets.preflight import PreflightFailed
from coordinator.leaflets.render import LeafletError, LeafletPreflightFailed
from coordinator.pdf import render_pdf
from tests.leaflets.starter_leaflets import CAMPAIGN_SETS, starter_leaflet


@pytest.fixture
def print_leaflet(monkeypatch):
    """Render a leaflet as the app prints it (its type fitted to each panel), counting the preflighted renders,
    with `css` (a hostile stylesheet) added to the page when given."""
    checked = []

    def printed(data, layout_key: str, *, mode: str = "home", css: str = "") -> bytes:
        def with_css(html, *args, **kwargs):
            checked.append(kwargs.get("preflight"))
            if css:
                html = html.replace("</head>", f"<style>{css}</style></head>")
            return render_pdf(html, *args, **kwargs)

        monkeypatch.setattr(render, "render_pdf", with_css)
        return render.render_leaflet_pdf(data, layout_key, mode=mode)

    printed.checked = checked
    return printed


def refusal(print_leaflet, data, layout_key: str = "a5", css: str = "") -> tuple[LeafletPreflightFailed, PreflightFailed]:
    with pytest.raises(LeafletPreflightFailed) as caught:
        print_leaflet(data, layout_key, css=css)
    assert isinstance(caught.value, LeafletError)  # what the builder, the commands and the waiting page show
    return caught.value, caught.value.__cause__


@pytest.mark.parametrize("slug", list(CAMPAIGN_SETS))
def test_the_starter_leaflets_pass_preflight_as_they_are_printed(slug, print_leaflet):
    for key in ("a5", "dl", "a4-folded", "a6", "wallet"):
        for mode in ("home", "shop"):
            print_leaflet(starter_leaflet(slug), key, mode=mode)
    assert print_leaflet.checked and all(rules is not None for rules in print_leaflet.checked)
    # Every format's type size is checked: 12 pt on leaflets, 9 pt on the wallet card (its small print 8 pt).
    assert {rules.min_text_pt for rules in print_leaflet.checked} == {12.0, 9.0}
    assert {rules.min_small_print_pt for rules in print_leaflet.checked} == {8.0}


def test_a_character_no_font_has_is_refused_at_its_field(print_leaflet):
    # Sinhala: no bundled font has it.
    data = replace(starter_leaflet("vawg-prevention"), contact_line="Your coordinator: සිංහල, 020 7946 0018")
    error, cause = refusal(print_leaflet, data)
    assert {(p.rule, p.field) for p in cause.problems} == {("missing-glyph", "contact_line")}
    assert set(error.fields) == {"contact_line"}
    assert str(error).startswith("The contact line has characters “ස” (U+0DC3)")


def test_a_brand_colour_too_pale_for_white_text_is_refused(print_leaflet):
    error, cause = refusal(print_leaflet, replace(starter_leaflet("vawg-prevention"), brand_colour="#8fb3e0"))
    assert {p.rule for p in cause.problems} == {"contrast"}
    assert {"association_name", "headline"} & set(error.fields)
    assert "under 4.5:1" in str(error)


def test_type_made_too_small_by_a_stylesheet_is_refused(print_leaflet):
    error, cause = refusal(print_leaflet, starter_leaflet("vawg-prevention"),
                           css=".helpline-name { font-size: 8pt !important; }")
    assert {(p.rule, p.field) for p in cause.problems} == {("small-text", "helplines")}
    assert "prints at 8.0 pt" in str(error) and "12 pt minimum" in str(error)


def test_the_wallet_cards_type_is_checked_against_its_9_pt(print_leaflet):
    # The association's name on the card's front is read, not small print: under 9 pt it is refused.
    error, cause = refusal(print_leaflet, starter_leaflet("you-are-not-alone"), "wallet",
                           css=".card-from { font-size: 8pt !important; }")
    assert {(p.rule, p.field) for p in cause.problems} == {("small-text", "association_name")}
    assert "prints at 8.0 pt" in str(error) and "9 pt minimum" in str(error)
    # Its numbers too: a helpline number under 9 pt names the helplines.
    error, cause = refusal(print_leaflet, starter_leaflet("you-are-not-alone"), "wallet",
                           css=".helpline-number { font-size: 7pt !important; }")
    assert {(p.rule, p.field) for p in cause.problems} == {("small-text", "helplines")}
