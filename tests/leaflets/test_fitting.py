"""Type that fits the space (render.py fit_panels): the measuring layout measures panels as the print lays them out,
a short campaign gets bigger type rather than a blank half page, grown type never cuts a word, and a leaflet is
measured once however many times it is rendered."""

from __future__ import annotations

import base64
from dataclasses import replace
from io import BytesIO

import pytest

from coordinator.leaflets import render
from coordinator.leaflets.layouts import LAYOUTS, get_layout
from coordinator.leaflets.render import fit_panels, render_leaflet_pdf, render_leaflet_sides
from tests.helpers.pdf import reader
from tests.leaflets.starter_leaflets import CAMPAIGN_SETS, starter_leaflet

# The print's flex columns and the measuring layout's blocks give the same heights, up to rounding.
SAME_SHARE = 0.01
# Every panel of a starter leaflet is filled at least this much as printed, unless its type is at its largest.
MIN_FILLED = 0.7


@pytest.fixture(autouse=True)
def fresh_fitting():
    render.clear_fittings()
    yield
    render.clear_fittings()


@pytest.mark.parametrize("key", list(LAYOUTS))
def test_the_measuring_layout_measures_each_panel_as_the_print_lays_it_out(key):
    layout = get_layout(key)
    for campaign in ("its-not-ok", "you-are-not-alone"):
        data = starter_leaflet(campaign)
        fits = fit_panels(data, layout)
        pages, printed = render._layout_fills(data, layout, False, fits, is_measuring=False)
        _, measured = render._layout_fills(data, layout, False, fits)
        assert pages == layout.pages
        assert set(printed) == set(measured) == set(render.panel_roles(layout))
        for role, fill in printed.items():
            assert fill.share == pytest.approx(measured[role].share, abs=SAME_SHARE), (campaign, role)
            assert fill.fits and measured[role].fits, (campaign, role)


@pytest.mark.parametrize("key", list(LAYOUTS))
def test_a_short_campaign_gets_bigger_type_not_a_blank_half_page(key):
    layout = get_layout(key)
    for campaign in CAMPAIGN_SETS:
        data = starter_leaflet(campaign)
        fits = fit_panels(data, layout)
        first = render.measure_panels(data, layout)
        _, printed = render._layout_fills(data, layout, False, fits, is_measuring=False)
        for role, fill in printed.items():
            # Content allows no more: the layout's largest type, or its widest word or number as wide as its line.
            largest = min(layout.max_fit, first[role].widen * render.WIDEN_SAFETY) - render.FIT_STEP
            assert fill.share >= MIN_FILLED or fits[role] >= largest, (campaign, role, fits[role], fill.share)


def test_the_two_helpline_set_grows_its_type_where_the_seven_number_set_cannot():
    short, long = (fit_panels(starter_leaflet(slug), get_layout("a5")) for slug in ("its-not-ok", "you-are-not-alone"))
    assert short["back"] > long["back"] >= 1.0


def test_grown_type_never_cuts_a_word_that_fitted_at_the_smallest_size():
    # A word that nearly fills a DL panel's line at 12 pt: grown, it would be cut (overflow-wrap), which preflight
    # refuses. The fitting keeps that panel's type small enough to hold it whole, and the leaflet prints.
    data = replace(starter_leaflet("vawg-prevention", is_sensitive=False),
                   headline="Neighbourhood", key_messages=("Look out for each other.",))
    fits = fit_panels(data, get_layout("dl"))
    assert 1.0 <= fits["front"] < get_layout("dl").max_fit
    pdf = render_leaflet_sides(data, "dl")
    assert "Neighbourhood" in reader(pdf).pages[0].extract_text().split()


def test_a_leaflet_is_measured_once_however_often_it_is_rendered(monkeypatch):
    # A spy, not a stand-in: each measuring layout is the real one, counted.
    layouts = []
    real = render._layout_fills

    def counted(*args, **kwargs):
        layouts.append(args[1].key)
        return real(*args, **kwargs)

    monkeypatch.setattr(render, "_layout_fills", counted)
    data = starter_leaflet("metoo-bystanders")
    render_leaflet_sides(data, "a5")
    first = len(layouts)
    assert first == 1  # one measuring layout, then the print
    render_leaflet_pdf(data, "a5", mode="shop")
    render_leaflet_pdf(data, "a5", mode="home", copies=4)
    render.render_leaflet_html(data, "a5", asset_base="/static/")
    assert len(layouts) == first  # the preview, its pictures and every PDF share one fitting
    render_leaflet_sides(data, "dl")
    assert len(layouts) > first and set(layouts) == {"a5", "dl"}


def test_too_long_at_the_smallest_type_still_says_which_layout_to_choose():
    data = replace(starter_leaflet("you-are-not-alone"), headline="Help is there for you. " * 20)
    with pytest.raises(render.LeafletDoesNotFit, match="Too long for A6: choose A5"):
        fit_panels(data, get_layout("a6"))


def _picture() -> str:
    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (800, 450), "#6a8fb5").save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def test_the_campaign_picture_prints_where_the_format_has_room_for_it():
    # Not marked sensitive: the A5's front carries the campaign, and its picture when there is room for it.
    short, long = (replace(starter_leaflet(slug, is_sensitive=False), picture_src=_picture())
                   for slug in ("metoo-bystanders", "its-not-ok"))
    assert len(reader(render_leaflet_sides(short, "a5")).pages[0].images) == 1
    # Four key messages and a four-line headline leave no room: it prints without the picture, not refused.
    with pytest.raises(render.LeafletDoesNotFit):
        render.measure_panels(long, get_layout("a5"))
    pdf = render_leaflet_sides(long, "a5")
    assert len(reader(pdf).pages[0].images) == 0
    assert "Tell someone about anyone who is harming you" in reader(pdf).pages[0].extract_text().replace("\n", " ")
    # The DL has no room for a picture at all.
    assert len(reader(render_leaflet_sides(short, "dl")).pages[0].images) == 0
