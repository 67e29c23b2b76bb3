"""The bulletin sign-up panel: the scheme's /join address and a QR code to it, printed only when asked for.

Each format that has room prints it (read back with pdftotext, the QR code read with zbarimg); the wallet card has
none, so the builder refuses it there. A record and a print run keep the address they printed.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.leaflets import builder, print_runs, recipes
from coordinator.leaflets.cache import app_cache
from coordinator.leaflets.forms import choice_from_query, query_from_choice
from coordinator.leaflets.likely import likely_choice, usual_format
from coordinator.leaflets.models import LeafletRecord
from coordinator.leaflets.offers import LeafletChoice, LeafletChoiceError
from coordinator.leaflets.render import render_leaflet_html, render_leaflet_sides
from coordinator.links import public_url
from tests.factories import load_starter, make_coordinated_scheme, starter_choice
from tests.helpers.pdf import decode_qr, pdftotext, reader, squeeze
from tests.helpers.web import login_as, post_form
from tests.leaflets.starter_leaflets import PUBLIC_BASE_URL, starter_leaflet

JOIN = f"{PUBLIC_BASE_URL}/join/bickley-park"
JOIN_SHOWN = "watch.example.org/join/bickley-park"


def qr_codes(pdf: bytes, tmp_path) -> set[str]:
    """Every QR code on every page, as zbarimg reads it."""
    return {code for index in range(len(reader(pdf).pages)) for code in decode_qr(pdf, tmp_path, index)}


@pytest.mark.parametrize("layout", ["a5", "a4", "dl", "a6", "a4-folded"])
def test_every_format_with_room_prints_the_address_and_a_qr_code_to_it(layout, tmp_path):
    # #MeToo is not marked sensitive; #ITSNOTOK is, so the panel is also seen on a discreet leaflet's inside.
    slug = "its-not-ok" if layout in ("a5", "a4-folded") else "metoo-bystanders"
    pdf = render_leaflet_sides(starter_leaflet(slug, signup_address=JOIN), layout)
    text = squeeze(pdftotext(pdf, tmp_path))
    assert squeeze(f"Get your Watch's news by email: {JOIN_SHOWN}") in text.replace("’", "'")
    assert "https://" not in text  # printed without the part nobody types
    assert JOIN in qr_codes(pdf, tmp_path)
    assert f"{PUBLIC_BASE_URL}/c/{slug}" in qr_codes(pdf, tmp_path)  # the campaign's own code is still there


def test_without_the_option_nothing_of_it_prints(tmp_path):
    pdf = render_leaflet_sides(starter_leaflet("metoo-bystanders"), "a5")
    text = pdftotext(pdf, tmp_path)
    assert "/join/" not in squeeze(text) and "news by email" not in text
    assert qr_codes(pdf, tmp_path) == {f"{PUBLIC_BASE_URL}/c/metoo-bystanders"}


def test_the_wallet_card_has_no_room_so_prints_none(tmp_path):
    pdf = render_leaflet_sides(starter_leaflet("vawg-prevention", signup_address=JOIN), "wallet")
    assert "/join/" not in squeeze(pdftotext(pdf, tmp_path))
    assert JOIN not in qr_codes(pdf, tmp_path)


def test_the_printed_address_is_escaped():
    # Scheme slugs are letters, digits and hyphens, and the address is built by the URL map; the print template
    # escapes it all the same.
    hostile = 'https://watch.example.org/join/<b>x"</b>'
    html = render_leaflet_html(starter_leaflet("metoo-bystanders", signup_address=hostile), "a5")
    assert "<b>" not in html and '"</b>' not in html
    assert "&lt;b&gt;" in html


def test_a_hostile_slug_is_quoted_in_the_address_and_escaped_on_the_page():
    load_starter()
    scheme, _ = make_coordinated_scheme("Bickley Park")
    scheme.slug = 'x"><script>alert(1)</script>'
    prepared = recipes.prepare_leaflet(scheme, starter_choice("metoo-bystanders", has_signup_panel=True))
    address = prepared.recipe.data.signup_address
    assert address.startswith(public_url("bulletins.join", slug="x")[:-1]) and "<" not in address and '"' not in address
    html = render_leaflet_html(prepared.recipe.data, "a5")
    assert "<script>" not in html


def test_a_record_keeps_the_address_it_printed_and_prints_it_again(tmp_path):
    load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park", slug="bickley-park")
    choice = starter_choice("metoo-bystanders", layout="dl", has_signup_panel=True)
    record, prepared = builder.generate_leaflet(scheme, choice, coordinator)
    db.session.commit()
    joined = public_url("bulletins.join", slug="bickley-park")
    assert record.has_signup_panel and record.signup_address == joined == prepared.recipe.data.signup_address
    first = builder.record_pdf(record)
    shown = joined.split("://", 1)[1]
    assert squeeze(shown) in squeeze(pdftotext(first, tmp_path))
    # The scheme is renamed later: the record still prints what it printed.
    scheme.slug = "bickley-park-east"
    db.session.commit()
    assert recipes.recipe_of(record) == prepared.recipe
    for path in app_cache().folder.rglob("*.pdf"):
        path.unlink()
    again = builder.record_pdf(record)
    assert squeeze(shown) in squeeze(pdftotext(again, tmp_path)) and "east" not in pdftotext(again, tmp_path)
    # A new leaflet prints the new address.
    fresh = recipes.prepare_leaflet(scheme, choice)
    assert fresh.recipe.data.signup_address.endswith("/join/bickley-park-east")


def test_the_panel_is_part_of_the_cache_key_and_a_warm_up_leaves_it_out():
    load_starter()
    scheme, _ = make_coordinated_scheme("Bickley Park")
    without = recipes.prepare_leaflet(scheme, starter_choice("metoo-bystanders"))
    with_panel = recipes.prepare_leaflet(scheme, starter_choice("metoo-bystanders", has_signup_panel=True))
    assert without.recipe.data.signup_address == ""
    assert with_panel.recipe.key != without.recipe.key
    # What a warm-up makes ahead is the leaflet without the panel: the builder's default.
    campaign, helpline_set = without.chosen.campaign, without.chosen.helpline_set
    warm = likely_choice(campaign, helpline_set, usual_format(scheme))
    assert not warm.has_signup_panel
    assert recipes.prepare_leaflet(scheme, warm).recipe.key == without.recipe.key


def test_the_panel_is_refused_where_it_cannot_print():
    load_starter()
    scheme, _ = make_coordinated_scheme("Bickley Park")
    with pytest.raises(LeafletChoiceError) as refused:
        recipes.prepare_leaflet(scheme, starter_choice("vawg-prevention", layout="wallet", has_signup_panel=True))
    assert refused.value.errors == {
        "has_signup_panel": "The folded wallet card has no room for the sign-up panel: choose another layout, or "
                            "leave the panel out."}
    with pytest.raises(LeafletChoiceError) as refused:
        recipes.prepare_leaflet(None, starter_choice(has_signup_panel=True))
    assert "name the scheme (--scheme)" in refused.value.errors["has_signup_panel"]
    assert recipes.prepare_leaflet(scheme, starter_choice("vawg-prevention", layout="wallet")).recipe


def test_a_leaflet_too_full_for_the_panel_says_leaving_it_out_may_help():
    # The A6 postcard holds the seven domestic abuse numbers, but not with the sign-up panel as well.
    load_starter()
    scheme, _ = make_coordinated_scheme("Bickley Park")
    with pytest.raises(LeafletChoiceError) as refused:
        builder.preview_leaflet(scheme, starter_choice("vawg-prevention", layout="a6", has_signup_panel=True))
    assert refused.value.errors == {
        "layout": "Too long for A6: choose A5. Leaving out the sign-up panel may also make it fit."}


def test_a_print_run_carries_the_panel_and_keeps_it(tmp_path):
    load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park", streets=((30, 2),))
    choice = starter_choice("metoo-bystanders", layout="a4", print_mode="shop", has_signup_panel=True)
    run = print_runs.create_print_run(scheme, choice, [s.id for s in scheme.streets], coordinator)
    db.session.commit()
    assert run.has_signup_panel and run.signup_address == public_url("bulletins.join", slug=scheme.slug)
    pdf = print_runs.print_run_pdf(run)
    assert len(reader(pdf).pages) == 1
    assert f"/join/{scheme.slug}" in squeeze(pdftotext(pdf, tmp_path))
    assert print_runs.print_run_recipe(run).data.signup_address == run.signup_address


def test_the_choice_goes_through_the_query_string_both_ways():
    choice = LeafletChoice(campaign_version_id=1, helpline_set_version_id=2, has_signup_panel=True)
    query = query_from_choice(choice)
    assert query["has_signup_panel"] == "y"
    assert choice_from_query(query) == choice
    assert "has_signup_panel" not in query_from_choice(LeafletChoice(campaign_version_id=1, helpline_set_version_id=2))
    assert not choice_from_query({"has_signup_panel": "no"}).has_signup_panel


# --- The builder, in a test client ---------------------------------------------------------------------------------


@pytest.fixture
def coordinator_scheme(client):
    load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park", slug="bickley-park")
    db.session.commit()
    login_as(client, coordinator)
    return scheme, coordinator


def builder_form(choice, **extra) -> dict:
    data = {"campaign": str(choice.campaign_version_id), "helplines": str(choice.helpline_set_version_id),
            "notice": "", "layout": choice.layout, "print_mode": choice.print_mode}
    data.update(extra)
    return data


CHECKBOX = re.compile(r'<input(?P<attrs>[^>]*) name="has_signup_panel" type="checkbox"[^>]*>')


def test_the_builder_offers_the_panel_unticked(client, coordinator_scheme):
    scheme, _ = coordinator_scheme
    html = client.get(f"/leaflets/schemes/{scheme.id}/new").get_data(as_text=True)
    box = CHECKBOX.search(html)
    assert box and "checked" not in box.group("attrs")
    assert "Add the bulletin sign-up panel" in html
    assert "Not on the folded wallet card: it has no room for it." in html


def test_the_builder_previews_and_downloads_with_the_panel(client, coordinator_scheme, tmp_path):
    scheme, _ = coordinator_scheme
    url = f"/leaflets/schemes/{scheme.id}/new"
    choice = starter_choice("metoo-bystanders")
    response = post_form(client, url, builder_form(choice, has_signup_panel="y", preview="Preview"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "checked" in CHECKBOX.search(html).group("attrs")  # the choice survives
    frame = re.search(r'<iframe src="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "has_signup_panel=y" in frame
    preview = client.get(frame).get_data(as_text=True)
    joined = public_url("bulletins.join", slug="bickley-park").split("://", 1)[1]
    assert "Get your Watch" in preview and squeeze(joined) in re.sub(r"<[^>]+>|\u200b", "", preview)

    response = post_form(client, url, builder_form(choice, has_signup_panel="y", download="Download PDF"))
    assert response.status_code in (302, 303)
    record = db.session.scalar(select(LeafletRecord))
    assert record is not None and record.has_signup_panel
    page = client.get(f"/leaflets/{record.id}").get_data(as_text=True)
    assert "Bulletin sign-up panel" in page and joined in re.sub(r"<[^>]+>", "", page)
    with client.get(f"/leaflets/{record.id}/leaflet.pdf") as download:
        assert squeeze(joined) in squeeze(pdftotext(download.data, tmp_path))


def test_the_builder_refuses_the_panel_on_the_wallet_card_at_its_field(client, coordinator_scheme):
    scheme, _ = coordinator_scheme
    choice = starter_choice("vawg-prevention", layout="wallet")
    response = post_form(client, f"/leaflets/schemes/{scheme.id}/new",
                         builder_form(choice, has_signup_panel="y", preview="Preview"))
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert 'href="#has_signup_panel"' in html
    assert "The folded wallet card has no room for the sign-up panel" in html
    assert db.session.scalar(select(LeafletRecord.id)) is None


def test_leaflet_render_signup_on_the_command_line(runner, tmp_path):
    load_starter()
    make_coordinated_scheme("Bickley Park", slug="bickley-park")
    db.session.commit()
    out = tmp_path / "leaflet.pdf"
    base = ["leaflet", "render", "--campaign", "metoo-bystanders", "--helplines", "sexual-violence",
            "--layout", "dl", "--out", str(out)]
    result = runner.invoke(args=[*base, "--scheme", "Bickley Park", "--signup"])
    assert result.exit_code == 0, result.output
    assert "/join/bickley-park" in squeeze(pdftotext(out.read_bytes(), tmp_path))
    record = db.session.scalar(select(LeafletRecord))
    assert record.has_signup_panel
    out.unlink()
    result = runner.invoke(args=[*base, "--signup"])
    assert result.exit_code != 0 and "name the scheme (--scheme)" in result.output and not out.exists()
    result = runner.invoke(args=[*base[:-4], "--layout", "wallet", "--scheme", "bickley-park", "--signup",
                                 "--out", str(out)])
    assert result.exit_code != 0 and "no room for the sign-up panel" in result.output
