"""The builder, preview, thumbnail and downloads, and print runs, as a coordinator uses them in the browser."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import func, select

from coordinator.content import approval
from coordinator.content import services as content
from coordinator.content.models import ContentKind, VersionState
from coordinator.extensions import db
from coordinator.leaflets import builder, pdfs, print_runs
from coordinator.leaflets.models import LeafletRecord, PrintRun
from coordinator.leaflets.offers import LeafletChoice
from tests.factories import (
    current,
    load_starter,
    make_campaign,
    make_coordinated_scheme,
    make_notice,
    make_user,
    starter_choice,
)
from tests.helpers.pdf import reader
from tests.helpers.web import csrf_from, login_as, post_form


def builder_form(choice: LeafletChoice, **extra) -> dict:
    data = {
        "campaign": str(choice.campaign_version_id),
        "helplines": str(choice.helpline_set_version_id),
        "notice": str(choice.local_notice_version_id or ""),
        "layout": choice.layout,
        "print_mode": choice.print_mode,
    }
    if choice.is_large_print:
        data["is_large_print"] = "y"
    data.update(extra)
    return data


@pytest.fixture
def coordinator_scheme(client):
    admin = load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park", streets=((20, 0), (10, 2)))
    db.session.commit()
    login_as(client, coordinator)
    return admin, scheme, coordinator


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_builder_offers_current_campaigns_sets_and_the_schemes_notices(client, coordinator_scheme):
    admin, scheme, coordinator = coordinator_scheme
    notice = make_notice(scheme, coordinator, approver=admin, title="Meeting at the hall")
    other, other_coordinator = make_coordinated_scheme("Elsewhere")
    make_notice(other, other_coordinator, approver=admin, title="Their private meeting")
    make_campaign(author=admin, title="Long gone", state=VersionState.RETIRED)
    db.session.commit()
    html = client.get(f"/leaflets/schemes/{scheme.id}/new").get_data(as_text=True)
    assert "#ITSNOTOK: Sexual Abuse and Sexual Violence Awareness Week" in html
    assert "Domestic abuse (7 helplines)" in html
    assert f'value="{notice.id}"' in html and "Meeting at the hall" in html
    assert "Their private meeting" not in html and "Long gone" not in html
    assert 'novalidate' in html and 'name="csrf_token"' in html
    assert "<script" not in html.split("<main", 1)[1]


def test_preview_shows_the_leaflet_a_thumbnail_of_the_real_pdf_and_how_to_print_it(client, coordinator_scheme):
    _, scheme, _ = coordinator_scheme
    url = f"/leaflets/schemes/{scheme.id}/new"
    response = post_form(client, url, builder_form(starter_choice("you-are-not-alone"), preview="Preview"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Print double-sided, flip on long edge: 1 sheet of A4 paper, 2 pages" in html
    thumbnail = re.search(r'<img src="([^"]+thumbnail\.png[^"]*)"', html).group(1).replace("&amp;", "&")
    frame = re.search(r'<iframe src="([^"]+)"', html).group(1).replace("&amp;", "&")
    # The choices survive: the page comes back with them selected.
    assert re.search(r'<option selected value="\d+">Domestic abuse', html)
    assert re.search(r'<input checked id="layout-0" name="layout" type="radio" value="a5">', html)

    image = client.get(thumbnail)
    assert image.status_code == 200 and image.mimetype == "image/png"
    png = Image.open(BytesIO(image.data))
    assert png.width == 480 and png.height == pytest.approx(480 * 297 / 210, abs=2)  # page 1: an A4 sheet

    preview = client.get(frame)
    assert preview.status_code == 200 and preview.mimetype == "text/html"
    text = preview.get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/print/a5.css">' in text
    assert "0808 2000 247" in text and "Contact your local scheme, Bickley Park" in text
    assert "frame-ancestors 'self'" in preview.headers["Content-Security-Policy"]
    assert "script-src 'none'" in preview.headers["Content-Security-Policy"]
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    with client.get("/static/print/a5.css") as stylesheet:
        assert stylesheet.status_code == 200
    assert count(LeafletRecord) == 0  # previews write nothing


def test_download_records_the_leaflet_and_serves_the_pdf_then_again_from_the_cache(client, coordinator_scheme):
    _, scheme, coordinator = coordinator_scheme
    url = f"/leaflets/schemes/{scheme.id}/new"
    response = post_form(client, url, builder_form(starter_choice(layout="dl", print_mode="shop"),
                                                   download="Download PDF"))
    assert response.status_code == 302
    record = db.session.scalar(select(LeafletRecord))
    assert response.headers["Location"].endswith(f"/leaflets/{record.id}")
    assert record.created_by_id == coordinator.id and record.layout == "dl" and record.print_mode == "shop"
    page = client.get(f"/leaflets/{record.id}").get_data(as_text=True)
    assert "Your DL leaflet is ready to print" in page and record.reference in page
    renders = pdfs.render_count()
    first = client.get(f"/leaflets/{record.id}/leaflet.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert "attachment" in first.headers["Content-Disposition"]
    assert len(reader(first.data).pages) == 2
    second = client.get(f"/leaflets/{record.id}/leaflet.pdf")
    assert second.data == first.data and pdfs.render_count() == renders


def test_a_validation_error_keeps_every_choice(client, coordinator_scheme):
    admin, scheme, coordinator = coordinator_scheme
    notice = make_notice(scheme, coordinator, approver=admin)
    db.session.commit()
    choice = starter_choice("vawg-prevention", layout="a6", is_large_print=True, print_mode="shop",
                            local_notice_version_id=notice.id)
    response = post_form(client, f"/leaflets/schemes/{scheme.id}/new", builder_form(choice, preview="Preview"))
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and "Large print is for the A5, A4 and DL layouts" in html
    assert f'<option selected value="{choice.campaign_version_id}">' in html
    assert f'<option selected value="{choice.helpline_set_version_id}">' in html
    assert f'<option selected value="{notice.id}">' in html
    assert re.search(r'<input checked id="layout-\d" name="layout" type="radio" value="a6">', html)
    assert re.search(r'<input checked id="print_mode-\d" name="print_mode" type="radio" value="shop">', html)
    assert re.search(r'<input[^>]* checked id="is_large_print" name="is_large_print" type="checkbox"', html)


def test_text_too_long_for_the_layout_says_which_to_choose(client, coordinator_scheme):
    admin, scheme, coordinator = coordinator_scheme
    # The seven-number set fits every layout now (the folded wallet card too); a long local notice on the back
    # of an A6 postcard with it does not.
    body = " ".join(["Residents' meeting at the church hall on Tuesday at 7pm, all welcome."] * 6)
    notice = make_notice(scheme, coordinator, approver=admin, title="Meeting at the hall", body=body)
    db.session.commit()
    choice = starter_choice("vawg-prevention", layout="a6", local_notice_version_id=notice.id)
    response = post_form(client, f"/leaflets/schemes/{scheme.id}/new", builder_form(choice, download="Download PDF"))
    assert response.status_code == 200
    assert "Too long for A6: choose A5. Leaving out the local notice may also make it fit." in response.get_data(
        as_text=True)
    assert count(LeafletRecord) == 0


def test_left_out_and_due_helplines_are_shown_on_the_preview(client, coordinator_scheme):
    _, scheme, _ = coordinator_scheme
    check = content.find_item(ContentKind.HELPLINE, "childline").helpline_checks[-1]
    check.checked_on = content.today().replace(year=content.today().year - 1)
    db.session.commit()
    html = post_form(client, f"/leaflets/schemes/{scheme.id}/new",
                     builder_form(starter_choice("vawg-prevention"), preview="Preview")).get_data(as_text=True)
    assert "Left out:" in html and "Childline is left out: review overdue" in html


# --- Another scheme, forged ids -------------------------------------------------------------------------------


def test_a_coordinator_cannot_build_for_another_scheme(client, coordinator_scheme):
    _, mine, _ = coordinator_scheme
    other, _ = make_coordinated_scheme("Not mine")
    db.session.commit()
    query = f"campaign={starter_choice().campaign_version_id}&helplines={starter_choice().helpline_set_version_id}&layout=a5&print_mode=home"
    for url in (f"/leaflets/schemes/{other.id}/new", f"/leaflets/schemes/{other.id}/print-runs/new",
                f"/leaflets/schemes/{other.id}/preview?{query}", f"/leaflets/schemes/{other.id}/thumbnail.png?{query}"):
        assert client.get(url).status_code == 404, url
    html = client.get(f"/leaflets/schemes/{mine.id}/new").get_data(as_text=True)  # their own page gives a token
    response = client.post(f"/leaflets/schemes/{other.id}/new",
                           data={**builder_form(starter_choice(), download="Download PDF"), "csrf_token": csrf_from(html)})
    assert response.status_code == 404
    assert count(LeafletRecord) == 0


def test_forged_ids_are_refused_by_the_form_and_404_in_urls(client, coordinator_scheme):
    admin, scheme, _ = coordinator_scheme
    other, other_coordinator = make_coordinated_scheme("Elsewhere")
    theirs = make_notice(other, other_coordinator, approver=admin)
    from datetime import date

    ended = make_campaign(author=admin, first_day=date(2020, 1, 1), last_day=date(2020, 2, 1))
    retired = make_campaign(author=admin, state=VersionState.RETIRED)
    unapproved_set = current(ContentKind.HELPLINE_SET, "domestic-abuse").id + 10_000
    db.session.commit()
    base = starter_choice()
    url = f"/leaflets/schemes/{scheme.id}/new"
    renders = pdfs.render_count()
    for forged, message in [
        ({"campaign": str(ended.id)}, "Choose one of the campaigns running now"),
        ({"campaign": str(retired.id)}, "Choose one of the campaigns running now"),
        ({"campaign": "abc"}, "Choose one of the campaigns running now"),
        ({"helplines": str(unapproved_set)}, "Choose one of the approved helpline sets"),
        ({"helplines": str(base.campaign_version_id)}, "Choose one of the approved helpline sets"),
        ({"notice": str(theirs.id)}, "Choose one of your scheme&#39;s approved local notices"),
        ({"layout": "a3"}, "Choose a layout"),
    ]:
        for button in ("preview", "download"):
            response = post_form(client, url, builder_form(base, **forged, **{button: "x"}))
            assert response.status_code == 200
            assert message in response.get_data(as_text=True), (forged, button)
        query = "&".join(f"{k}={v}" for k, v in {**builder_form(base), **forged}.items())
        assert client.get(f"/leaflets/schemes/{scheme.id}/thumbnail.png?{query}").status_code == 404
        assert client.get(f"/leaflets/schemes/{scheme.id}/preview?{query}").status_code == 404
    assert count(LeafletRecord) == 0 and pdfs.render_count() == renders


def test_records_and_print_runs_of_another_scheme_are_404(client, coordinator_scheme):
    other, other_coordinator = make_coordinated_scheme("Elsewhere")
    record, _ = builder.generate_leaflet(other, starter_choice(), other_coordinator)
    run = print_runs.create_print_run(other, starter_choice(), [s.id for s in other.streets], other_coordinator)
    cli_record, _ = builder.generate_leaflet(None, starter_choice(), None)
    db.session.commit()
    for url in (f"/leaflets/{record.id}", f"/leaflets/{record.id}/leaflet.pdf", f"/leaflets/print-runs/{run.id}",
                f"/leaflets/print-runs/{run.id}/leaflets.pdf", f"/leaflets/print-runs/{run.id}/delivery-sheet.pdf",
                f"/leaflets/{cli_record.id}", f"/leaflets/{cli_record.id}/leaflet.pdf"):
        assert client.get(url).status_code == 404, url
    index = client.get("/leaflets/").get_data(as_text=True)
    assert "Elsewhere" not in index and "Bickley Park" in index


def test_pages_need_a_login(client):
    for url in ("/leaflets/", "/leaflets/schemes/1/new", "/leaflets/print-orders"):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]


# --- Print runs -----------------------------------------------------------------------------------------------


def print_run_form(choice, street_ids, **extra) -> dict:
    return {**builder_form(choice), "streets": [str(i) for i in street_ids], **extra}


def test_a_print_run_from_the_form_with_its_pdf_and_delivery_sheet(client, coordinator_scheme):
    _, scheme, coordinator = coordinator_scheme
    url = f"/leaflets/schemes/{scheme.id}/print-runs/new"
    html = client.get(url).get_data(as_text=True)
    assert html.count('type="checkbox" value=') == 4  # two streets, ticked, large print and the sign-up panel
    streets = [s.id for s in scheme.streets]
    worked_out = post_form(client, url, print_run_form(starter_choice(), streets, work_out="x")).get_data(as_text=True)
    assert "Copies: 30 A5 flyers" in worked_out and count(PrintRun) == 0  # 20+1 and 8+1
    response = post_form(client, url, print_run_form(starter_choice(), streets, create="x"))
    assert response.status_code == 302
    run = db.session.scalar(select(PrintRun))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Print run: 30 A5 flyers for Bickley Park" in page
    assert "Print double-sided, flip on long edge" in page and "15 sheets of A4" in page
    pdf = client.get(f"/leaflets/print-runs/{run.id}/leaflets.pdf")
    assert pdf.mimetype == "application/pdf" and len(reader(pdf.data).pages) == run.pages == 30
    sheet = client.get(f"/leaflets/print-runs/{run.id}/delivery-sheet.pdf")
    assert sheet.mimetype == "application/pdf" and "Delivery sheet" in reader(sheet.data).pages[0].extract_text()
    assert run.created_by_id == coordinator.id


def test_another_schemes_street_cannot_be_slipped_into_a_print_run(client, coordinator_scheme):
    _, scheme, _ = coordinator_scheme
    other, _ = make_coordinated_scheme("Elsewhere", coordinator=make_user())
    db.session.commit()
    url = f"/leaflets/schemes/{scheme.id}/print-runs/new"
    for streets in ([scheme.streets[0].id, other.streets[0].id], [other.streets[0].id], ["abc"]):
        for button in ("work_out", "create"):
            response = post_form(client, url, print_run_form(starter_choice(), streets, **{button: "x"}))
            assert response.status_code == 200
            assert "Choose streets of this scheme only." in response.get_data(as_text=True)
            assert other.streets[0].name not in response.get_data(as_text=True).split("There is a problem")[1]
    assert count(PrintRun) == 0


def test_a_retired_campaign_cannot_be_slipped_into_a_print_run(client, coordinator_scheme):
    admin, scheme, _ = coordinator_scheme
    choice = starter_choice("metoo-bystanders")
    approval.retire_item(content.find_item(ContentKind.CAMPAIGN, "metoo-bystanders"), admin)
    db.session.commit()
    url = f"/leaflets/schemes/{scheme.id}/print-runs/new"
    response = post_form(client, url, print_run_form(choice, [s.id for s in scheme.streets], create="x"))
    assert "Choose one of the campaigns running now" in response.get_data(as_text=True)
    assert count(PrintRun) == 0


@pytest.mark.parametrize(("layout", "sides", "size_mm"), [
    ("a5", ("Front", "Back"), (148, 210)),
    ("a4-folded", ("Outside", "Inside"), (297, 210)),
    ("wallet", ("Outside", "Inside"), (170, 55)),
])
def test_the_builder_shows_every_side_at_its_true_proportions(client, coordinator_scheme, layout, sides, size_mm):
    _, scheme, _ = coordinator_scheme
    choice = starter_choice("its-not-ok", layout=layout)
    response = post_form(client, f"/leaflets/schemes/{scheme.id}/new", builder_form(choice, preview="Preview"))
    html = response.get_data(as_text=True)
    pictures = re.findall(r'<img src="([^"]+/sides/(\d)\.png[^"]*)"\s+width="(\d+)" height="(\d+)"\s+alt="([^"]+)"', html)
    assert [(side, alt.split(" of the ")[0]) for _, side, _, _, alt in pictures] == [
        (str(n), name) for n, name in enumerate(sides, start=1)]
    for url, _, width, height, _ in pictures:
        image = client.get(url.replace("&amp;", "&"))
        assert image.status_code == 200 and image.mimetype == "image/png"
        png = Image.open(BytesIO(image.data))
        # Each picture is the whole side, at the scale every layout shares: nothing of the back cut off.
        assert (png.width, png.height) == pytest.approx((int(width), int(height)), abs=2)
        assert png.width / png.height == pytest.approx(size_mm[0] / size_mm[1], rel=0.02)
    query = re.search(r'/sides/1\.png\?([^"]+)"', html).group(1).replace("&amp;", "&")
    assert client.get(f"/leaflets/schemes/{scheme.id}/sides/3.png?{query}").status_code == 404


def test_the_preview_allows_the_leaflets_own_style_block_by_its_hash_only(client, coordinator_scheme):
    _, scheme, _ = coordinator_scheme
    response = post_form(client, f"/leaflets/schemes/{scheme.id}/new",
                         builder_form(starter_choice("its-not-ok"), preview="Preview"))
    frame = re.search(r'<iframe src="([^"]+)"', response.get_data(as_text=True)).group(1).replace("&amp;", "&")
    preview = client.get(frame)
    policy = preview.headers["Content-Security-Policy"]
    assert re.search(r"style-src 'self' 'sha256-[A-Za-z0-9+/=]+';", policy) and "unsafe-inline" not in policy
    assert "--fit:" in preview.get_data(as_text=True)
