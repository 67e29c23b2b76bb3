"""Preflight on the real leaflet template and render path: the starter leaflets pass, and leaflets built to fail a
rule are refused, each naming the leaflet field (data-field) it came from."""

from __future__ import annotations

from dataclasses import replace

import pytest

from coordinator.leaflets import render
from coordinator.leaflets.layouts import get_layout
from coordinator.leaflets.preflight import PreflightFailed, PrintRules
from coordinator.pdf import render_pdf
from tests.leaflets.starter_leaflets import CAMPAIGN_SETS, starter_leaflet


def rules(layout_key: str) -> PrintRules:
    return PrintRules(min_text_pt=get_layout(layout_key).min_body_pt, min_small_print_pt=8.0)


@pytest.fixture
def print_leaflet(monkeypatch):
    """Render a leaflet as the app prints it (its type fitted to each panel), every render_pdf call preflighted,
    with `css` (a hostile stylesheet) added to the page when given."""
    calls = []

    def printed(data, layout_key: str, *, mode: str = "home", css: str = "") -> bytes:
        def preflighted(html, *args, **kwargs):
            kwargs.setdefault("preflight", rules(layout_key))
            calls.append(kwargs["preflight"])
            if css:
                html = html.replace("</head>", f"<style>{css}</style></head>")
            return render_pdf(html, *args, **kwargs)

        monkeypatch.setattr(render, "render_pdf", preflighted)
        return render.render_leaflet_pdf(data, layout_key, mode=mode)

    printed.calls = calls
    return printed


@pytest.mark.parametrize("slug", list(CAMPAIGN_SETS))
def test_the_starter_leaflets_pass_preflight_as_they_are_printed(slug, print_leaflet):
    for key in ("a5", "dl", "a4-folded", "a6"):
        for mode in ("home", "shop"):
            print_leaflet(starter_leaflet(slug), key, mode=mode)
    assert len(print_leaflet.calls) >= 8


def test_a_character_no_font_has_is_refused_at_its_field(print_leaflet):
    # Sinhala: no bundled font has it.
    data = replace(starter_leaflet("vawg-prevention"), contact_line="Your coordinator: සිංහල, 020 7946 0018")
    with pytest.raises(PreflightFailed) as caught:
        print_leaflet(data, "a5")
    assert {(p.rule, p.field) for p in caught.value.problems} == {("missing-glyph", "contact_line")}
    assert str(caught.value).startswith("The contact line has characters “ස” (U+0DC3)")


def test_a_brand_colour_too_pale_for_white_text_is_refused(print_leaflet):
    data = replace(starter_leaflet("vawg-prevention"), brand_colour="#8fb3e0")
    with pytest.raises(PreflightFailed) as caught:
        print_leaflet(data, "a5")
    assert {p.rule for p in caught.value.problems} == {"contrast"}
    assert {"association_name", "headline"} & set(caught.value.fields)
    assert "under 4.5:1" in str(caught.value)


def test_type_made_too_small_by_a_stylesheet_is_refused(print_leaflet):
    with pytest.raises(PreflightFailed) as caught:
        print_leaflet(starter_leaflet("vawg-prevention"), "a5", css=".helpline-name { font-size: 8pt !important; }")
    assert {(p.rule, p.field) for p in caught.value.problems} == {("small-text", "helplines")}
    assert "prints at 8.0 pt" in str(caught.value) and "12 pt minimum" in str(caught.value)
