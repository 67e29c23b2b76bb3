"""Central print orders: an admin's order for every scheme (or some), built as a background job with progress."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from sqlalchemy import select

from coordinator import jobs
from coordinator.audit.models import AuditEntry
from coordinator.content.models import ContentKind
from coordinator.extensions import db
from coordinator.leaflets import pdfs, print_order_job, print_orders
from coordinator.leaflets.models import PrintOrder, PrintOrderState
from tests.factories import current, load_starter, make_coordinated_scheme, make_scheme, starter_choice
from tests.helpers.pdf import reader
from tests.helpers.web import login_as, post_form

A5_SHOP = (419.53 + 2 * 8.504, 595.28 + 2 * 8.504)


def order_form(**changes) -> dict:
    data = {
        "campaign": str(current(ContentKind.CAMPAIGN, "you-are-not-alone").id),
        "helplines": str(current(ContentKind.HELPLINE_SET, "domestic-abuse").id),
        "layout": "a5",
        "which_schemes": "all",
    }
    data.update(changes)
    return data


@pytest.fixture
def schemes():
    admin = load_starter()
    first, _ = make_coordinated_scheme("Bickley Park", streets=((20, 0), (10, 2)))
    second, _ = make_coordinated_scheme("Chelsfield", streets=((40, 40), (5, 0)))
    empty = make_scheme("No Streets Yet")
    hidden = make_coordinated_scheme("Hidden Characters", streets=((3, 0),), contact_other="\u202eevil")[0]
    db.session.commit()
    return admin, first, second, empty, hidden


def test_an_order_for_every_scheme_builds_a_zip_of_pdfs_and_quantities(client, schemes):
    admin, first, second, _, _ = schemes
    login_as(client, admin)
    response = post_form(client, "/leaflets/print-orders/new", order_form())
    assert response.status_code == 302  # JOBS_MODE is eager in tests: the job has already run
    order = db.session.scalar(select(PrintOrder))
    assert order.state == PrintOrderState.DONE and (order.progress_done, order.progress_total) == (4, 4)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page and "Download the order (zip)" in page
    assert '<progress id="order-progress" max="4" value="4">4 of 4 schemes</progress>' in page
    assert "Left out: no households to deliver to" in page and "Left out: The contact line contains hidden" in page

    with client.get(f"/leaflets/print-orders/{order.id}/download") as download:
        assert download.mimetype == "application/zip"
        data = download.data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(archive.namelist())
        assert names == sorted([f"{first.slug}-a5.pdf", f"{second.slug}-a5.pdf", "quantities.csv"])
        for name in (f"{first.slug}-a5.pdf", f"{second.slug}-a5.pdf"):
            pages = reader(archive.read(name)).pages
            assert len(pages) == 2  # the artwork: front and back, at trim size with bleed (and crop marks round it)
            assert (float(pages[0].bleedbox.width), float(pages[0].bleedbox.height)) == pytest.approx(A5_SHOP, abs=0.01)
        # The scheme's own contact line and the helplines are printed (where depends on the design: a sensitive
        # leaflet keeps its outside neutral).
        text = " ".join(page.extract_text() for page in reader(archive.read(f"{first.slug}-a5.pdf")).pages)
        assert "Contact your local scheme, Bickley Park" in " ".join(text.split()) and "0808 2000 247" in text
        rows = list(csv.DictReader(io.StringIO(archive.read("quantities.csv").decode())))
    assert [(r["scheme"], r["street"], r["copies"]) for r in rows] == [
        ("Bickley Park", "Bickley Park Road 1", "21"),
        ("Bickley Park", "Bickley Park Road 2", "9"),
        ("Chelsfield", "Chelsfield Road 1", "0"),
        ("Chelsfield", "Chelsfield Road 2", "6"),
    ]
    assert {r["pdf_file"] for r in rows} == {f"{first.slug}-a5.pdf", f"{second.slug}-a5.pdf"}
    assert order.copies_total == 36
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "print_orders.created"))
    assert entry.object_id == str(order.id) and entry.actor_id == admin.id


def test_an_order_for_chosen_schemes_only(client, schemes):
    admin, _, second, _, _ = schemes
    login_as(client, admin)
    post_form(client, "/leaflets/print-orders/new", order_form(
        which_schemes="chosen", schemes=[str(second.id)], layout="dl", is_large_print="y",
        campaign=str(current(ContentKind.CAMPAIGN, "metoo-bystanders").id),
        helplines=str(current(ContentKind.HELPLINE_SET, "sexual-violence").id),
    ))
    order = db.session.scalar(select(PrintOrder))
    assert order.scheme_ids == [second.id] and order.is_large_print and order.state == PrintOrderState.DONE
    assert [row["scheme"] for row in order.results] == ["Chelsfield"]
    with zipfile.ZipFile(print_orders.print_order_path(order)) as archive:
        assert sorted(archive.namelist()) == sorted([f"{second.slug}-dl.pdf", "quantities.csv"])


def test_the_order_form_refuses_what_is_not_offered(client, schemes):
    admin, *_ = schemes
    login_as(client, admin)
    for changes, message in [
        ({"campaign": "999999"}, "Choose one of the campaigns running now"),
        ({"layout": "wallet", "is_large_print": "y"}, "Large print is for the A5, A4 and DL layouts"),
        ({"which_schemes": "chosen"}, "Choose at least one scheme, or every scheme."),
        ({"which_schemes": "chosen", "schemes": ["987654"]}, "Choose schemes from the list."),
    ]:
        html = post_form(client, "/leaflets/print-orders/new", order_form(**changes)).get_data(as_text=True)
        assert message in html, changes
    assert db.session.scalar(select(PrintOrder.id)) is None


def test_the_progress_page_updates_in_place_while_the_order_waits_or_runs(client, schemes):
    admin, *_ = schemes
    with jobs.held():  # an order whose job has not started
        order = print_orders.create_print_order(starter_choice(), None, admin)
        db.session.commit()
    login_as(client, admin)
    page = client.get(f"/leaflets/print-orders/{order.id}").get_data(as_text=True)
    # No reload of the whole page (axe-core's meta-refresh, WCAG 2.2.1): a script updates the region in place, and
    # without JavaScript a link to the same page shows the latest figures.
    assert 'http-equiv="refresh"' not in page
    assert '<script src="/static/progress.js" defer></script>' in page.split("<main", 1)[0]
    assert "<script" not in page.split("<main", 1)[1]
    assert re.search(r'<div data-progress data-progress-live data-progress-seconds="3"\s+'
                     rf'data-progress-url="/leaflets/print-orders/{order.id}">', page)
    assert re.search(r'<progress id="order-progress" max="4" value="0">0 of 4 schemes</progress>', page)
    assert "Waiting to start." in page
    assert f'href="/leaflets/print-orders/{order.id}">Refresh progress</a>' in page
    assert print_order_job.print_orders_to_build() == [(print_order_job.build_print_order, (order.id,))]
    order.state, order.progress_done = PrintOrderState.RUNNING, 2
    db.session.commit()
    page = client.get(f"/leaflets/print-orders/{order.id}").get_data(as_text=True)
    assert "data-progress-live" in page and "2 of 4 schemes done" in page and "Refresh progress" in page
    assert print_order_job.print_orders_to_build() == []  # running, and reporting progress
    assert client.get(f"/leaflets/print-orders/{order.id}/download").status_code == 404

    # Finished: the region is no longer live (the script stops), and the page loads no script at all.
    print_order_job.build_print_order(order.id)
    page = client.get(f"/leaflets/print-orders/{order.id}").get_data(as_text=True)
    assert "<div data-progress>" in page and "data-progress-live" not in page
    assert "progress.js" not in page and "Refresh progress" not in page and "Download the order (zip)" in page


def test_building_an_order_twice_is_safe_and_a_failure_is_shown(client, schemes, monkeypatch):
    admin, *_ = schemes
    with jobs.held():  # an order whose job has not started
        order = print_orders.create_print_order(starter_choice(), None, admin)
        db.session.commit()
    print_order_job.build_print_order(order.id)
    built = print_orders.print_order_path(order).read_bytes()
    renders = pdfs.render_count()
    print_order_job.build_print_order(order.id)  # done already: nothing happens
    assert pdfs.render_count() == renders and print_orders.print_order_path(order).read_bytes() == built

    with jobs.held():
        broken = print_orders.create_print_order(starter_choice(), None, admin)
        db.session.commit()
    monkeypatch.setattr(print_order_job, "copies_for_streets", lambda *args: 1 / 0)
    print_order_job.build_print_order(broken.id)
    db.session.refresh(broken)
    assert broken.state == PrintOrderState.FAILED and "the server's log has the details" in broken.error
    login_as(client, admin)
    page = client.get(f"/leaflets/print-orders/{broken.id}").get_data(as_text=True)
    assert "The print order failed" in page
    assert "ZeroDivisionError" not in page and "division by zero" not in page


def test_print_orders_are_for_admins_only(client, schemes):
    admin, first, *_ = schemes
    coordinator = first.memberships[0].user
    with jobs.held():  # an order whose job has not started
        order = print_orders.create_print_order(starter_choice(), None, admin)
        db.session.commit()
    login_as(client, coordinator)
    for url in ("/leaflets/print-orders", "/leaflets/print-orders/new", f"/leaflets/print-orders/{order.id}",
                f"/leaflets/print-orders/{order.id}/download"):
        assert client.get(url).status_code == 403, url
