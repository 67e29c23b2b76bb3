"""Delivery rounds: a run's streets split between deliverers, each with a signed, expiring link to a page where
they record every street; the coordinator sees the progress and can record it too."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import select

from coordinator import dates
from coordinator.audit.models import AuditEntry
from coordinator.extensions import db
from coordinator.leaflets import print_runs, rounds
from coordinator.leaflets.models import DeliveryState, StreetDelivery
from coordinator.leaflets.rounds import DeliveryReport, RoundLinkError, RoundProblem
from tests.factories import load_starter, make_coordinated_scheme, make_user, starter_choice
from tests.helpers.hostile import HOSTILE_TEXTS
from tests.helpers.pdf import pdftotext
from tests.helpers.web import login_as, post_form

# Copies with 5% spares: 21+2, 7+1, none, 36+2, 10+1, 9+1
STREETS = ((23, 2), (7, 0), (5, 5), (40, 4), (10, 0), (9, 0))


def make_run(streets=STREETS):
    load_starter()
    scheme, coordinator = make_coordinated_scheme("Petts Wood North", streets=streets)
    scheme.streets[0].delivery_notes = "Mrs Patel at no. 4 asked for none"
    run = print_runs.create_print_run(scheme, starter_choice(), [s.id for s in scheme.streets], coordinator)
    db.session.commit()
    return run, coordinator


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def round_form(client, url: str, street_id: int) -> dict:
    """The deliverer's page's form fields for one street, with its token, as the browser would send them."""
    html = client.get(url).get_data(as_text=True)
    token = re.search(rf'id="s{street_id}-csrf_token" name="s{street_id}-csrf_token" type="hidden" value="([^"]+)"',
                      html)
    assert token, html[:3000]
    return {f"s{street_id}-csrf_token": token.group(1)}


# --- Splitting ------------------------------------------------------------------------------------------------


def test_balanced_split_keeps_the_streets_in_order_and_gives_every_round_a_street():
    assert rounds.balanced_split([10, 10, 10, 10], 2) == [0, 2]
    assert rounds.balanced_split([40, 1, 1, 1], 2) == [0, 1]
    assert rounds.balanced_split([1, 1, 1], 3) == [0, 1, 2]
    assert rounds.balanced_split([5, 5, 5], 1) == [0]


def test_a_run_splits_into_rounds_of_about_the_same_copies_without_the_streets_that_get_none():
    run, coordinator = make_run()
    made = rounds.split_into_rounds(run, 2, coordinator)
    db.session.commit()
    names = [[d.street.name for d in sorted(r.deliveries, key=lambda d: d.street.position)] for r in made]
    assert names == [["Petts Wood North Road 1", "Petts Wood North Road 2"],
                     ["Petts Wood North Road 4", "Petts Wood North Road 5", "Petts Wood North Road 6"]]
    assert [r.name for r in made] == ["Round 1", "Round 2"]
    assert all(r.link_expires_on == dates.today() + timedelta(days=28) for r in made)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "delivery_rounds.split"))
    assert entry.object_id == str(run.id) and len(entry.details["rounds"]) == 2

    with pytest.raises(RoundProblem, match="between 1 and 5"):
        rounds.split_into_rounds(run, 6, coordinator)
    # Split again before anything is recorded: the old rounds (and their links) are replaced.
    old_link = rounds.round_token(made[0])
    rounds.split_into_rounds(run, 3, coordinator)
    db.session.commit()
    assert len(rounds.rounds_of(run)) == 3
    with pytest.raises(RoundLinkError):
        rounds.round_for_token(old_link)


def test_once_a_delivery_is_recorded_the_run_is_not_split_again_but_streets_can_move():
    run, coordinator = make_run()
    first, second = rounds.split_into_rounds(run, 2, coordinator)
    street = first.deliveries[0]
    rounds.record_by_deliverer(first, street.print_run_street_id, DeliveryReport(DeliveryState.DELIVERED))
    with pytest.raises(RoundProblem, match="move streets"):
        rounds.split_into_rounds(run, 3, coordinator)
    assert rounds.move_streets(run, {street.print_run_street_id: second.id}, coordinator) == 1
    assert street.round_id == second.id
    with pytest.raises(RoundProblem):
        rounds.move_streets(run, {street.print_run_street_id: 999_999}, coordinator)


# --- Recording ------------------------------------------------------------------------------------------------


def test_delivered_partly_and_not_delivered_are_recorded_with_their_households_and_audited():
    run, coordinator = make_run()
    (only,) = rounds.split_into_rounds(run, 1, coordinator)
    only.deliverer_name = "Sam"
    first, second, fourth = (d.print_run_street_id for d in sorted(only.deliveries,
                                                                    key=lambda d: d.street.position)[:3])
    run.printed_on = yesterday = dates.today() - timedelta(days=1)
    rounds.record_by_deliverer(only, first, DeliveryReport(DeliveryState.DELIVERED))
    rounds.record_by_deliverer(only, second, DeliveryReport(DeliveryState.PARTLY, yesterday, households=4))
    rounds.record_by_deliverer(only, fourth, DeliveryReport(DeliveryState.NOT_DELIVERED, reason="Road closed"))
    db.session.commit()
    rows = rounds.deliveries_of(run)
    assert (rows[first].households_delivered, rows[first].delivered_on) == (21, dates.today())
    assert (rows[second].households_delivered, rows[second].delivered_on) == (4, yesterday)
    assert (rows[fourth].households_delivered, rows[fourth].reason) == (0, "Road closed")
    progress = rounds.progress(run.streets, rows)
    assert (progress.delivered, progress.partly, progress.not_delivered, progress.to_deliver) == (1, 1, 1, 2)
    assert (progress.households_delivered, progress.households_to_deliver) == (25, 21 + 7 + 36 + 10 + 9)
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "deliveries.recorded")).all()
    assert [e.details["state"] for e in entries] == ["delivered", "partly", "not_delivered"]
    assert entries[0].actor_label == "Sam (Round 1, from its link)" and entries[0].actor_id is None


@pytest.mark.parametrize(
    ("report", "field"),
    [
        (DeliveryReport(DeliveryState.TO_DELIVER), "state"),
        (DeliveryReport(DeliveryState.PARTLY, households=None), "households"),
        (DeliveryReport(DeliveryState.PARTLY, households=22), "households"),  # 21 households to deliver to
        (DeliveryReport(DeliveryState.NOT_DELIVERED, reason="  "), "reason"),
        (DeliveryReport(DeliveryState.NOT_DELIVERED, reason="closed\u202e"), "reason"),
        (DeliveryReport(DeliveryState.DELIVERED, delivered_on=dates.today() + timedelta(days=1)), "delivered_on"),
        (DeliveryReport(DeliveryState.DELIVERED, delivered_on=dates.today() - timedelta(days=400)), "delivered_on"),
    ],
)
def test_a_report_that_does_not_add_up_is_refused_by_its_field(report, field):
    run, coordinator = make_run()
    (only,) = rounds.split_into_rounds(run, 1, coordinator)
    first = only.deliveries[0].print_run_street_id
    with pytest.raises(RoundProblem) as refused:
        rounds.record_by_deliverer(only, first, report)
    assert list(refused.value.errors) == [field]


# --- Links ----------------------------------------------------------------------------------------------------


def test_forged_replaced_and_expired_links_open_nothing(client):
    run, coordinator = make_run()
    (only,) = rounds.split_into_rounds(run, 1, coordinator)
    db.session.commit()
    token = rounds.round_token(only)
    assert rounds.round_for_token(token) is only

    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(RoundLinkError, match="not a delivery round"):
        rounds.round_for_token(forged)
    response = client.get(f"/leaflets/deliver/{forged}")
    assert response.status_code == 404 and "not a delivery round" in response.get_data(as_text=True)

    # Past its last day (the day is inside the signed link, so it cannot be moved on by hand).
    with pytest.raises(RoundLinkError, match="stopped working"):
        rounds.round_for_token(token, today=only.link_expires_on + timedelta(days=1))
    assert rounds.round_for_token(token, today=only.link_expires_on) is only
    only.link_expires_on = dates.today() - timedelta(days=1)
    db.session.commit()
    expired = rounds.round_token(only)
    response = client.get(f"/leaflets/deliver/{expired}")
    assert response.status_code == 404 and "stopped working" in response.get_data(as_text=True)
    street = only.deliveries[0].print_run_street_id
    assert client.post(f"/leaflets/deliver/{expired}/streets/{street}", data={}).status_code == 404

    rounds.renew_link(only, coordinator)
    db.session.commit()
    new = rounds.round_token(only)
    assert client.get(f"/leaflets/deliver/{new}").status_code == 200
    with pytest.raises(RoundLinkError, match="replaced"):
        rounds.round_for_token(token)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "delivery_rounds.link_renewed"))


def test_the_deliverers_page_sets_no_cookie_and_says_nothing_about_residents(client):
    run, coordinator = make_run()
    first, _second = rounds.split_into_rounds(run, 2, coordinator)
    first.deliverer_name = HOSTILE_TEXTS[2]
    db.session.commit()
    response = client.get(path_of(rounds.round_url(first)))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"
    assert "Petts Wood North Road 1" in html and "Petts Wood North Road 4" not in html  # only its own streets
    assert "Patel" not in html and "asked for none" not in html  # the street's delivery notes stay off the page
    assert HOSTILE_TEXTS[2] not in html and "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_deliverer_records_a_street_from_the_link_with_a_token_bound_to_it(client):
    run, coordinator = make_run()
    first, second = rounds.split_into_rounds(run, 2, coordinator)
    first.deliverer_name = "Sam"
    db.session.commit()
    url = path_of(rounds.round_url(first))
    street = sorted(first.deliveries, key=lambda d: d.street.position)[1].print_run_street_id
    data = round_form(client, url, street) | {f"s{street}-state": "partly", f"s{street}-households": "5"}

    response = client.post(f"{url}/streets/{street}", data=data)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"saved={street}#street-{street}")
    assert "Set-Cookie" not in response.headers
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved: <strong>Partly delivered</strong> to 5 households" in page
    row = db.session.scalar(select(StreetDelivery).where(StreetDelivery.print_run_street_id == street))
    assert (row.state, row.households_delivered, row.recorded_by_label) == (
        DeliveryState.PARTLY, 5, "Sam (Round 1, from its link)")

    # No token, a token from the other round's page, a form another site sent: refused, nothing changes.
    other = path_of(rounds.round_url(second))
    other_street = second.deliveries[0].print_run_street_id
    other_token = round_form(client, other, other_street)[f"s{other_street}-csrf_token"]
    refusals = [
        ({f"s{street}-state": "delivered"}, {}),
        ({f"s{street}-state": "delivered", f"s{street}-csrf_token": other_token}, {}),
        (data | {f"s{street}-state": "delivered"}, {"Sec-Fetch-Site": "cross-site"}),
    ]
    for form, headers in refusals:
        response = client.post(f"{url}/streets/{street}", data=form, headers=headers)
        assert response.status_code == 400 and "save again" in response.get_data(as_text=True)
        db.session.refresh(row)
        assert row.state == DeliveryState.PARTLY
    # A street of another round through this round's link: refused.
    own_token = round_form(client, url, street)[f"s{street}-csrf_token"]
    response = client.post(f"{url}/streets/{other_street}",
                           data={f"s{other_street}-csrf_token": own_token, f"s{other_street}-state": "delivered"})
    assert response.status_code == 400
    # A mistake is shown beside its field, and the rest of what was typed is kept.
    response = client.post(f"{url}/streets/{street}", data=data | {f"s{street}-households": "99"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "from 1 to 7" in html and 'value="99"' in html


# --- The coordinator's pages ------------------------------------------------------------------------------------


def test_a_coordinator_splits_names_a_deliverer_and_records_a_street(client):
    run, coordinator = make_run()
    login_as(client, coordinator)
    page = client.get(f"/leaflets/print-runs/{run.id}").get_data(as_text=True)
    assert f"/leaflets/print-runs/{run.id}/rounds" in page
    response = post_form(client, f"/leaflets/print-runs/{run.id}/rounds", {"rounds": "2"})
    assert response.status_code == 302
    first = rounds.rounds_of(run)[0]
    response = post_form(client, f"/leaflets/rounds/{first.id}", {
        "name": "Station side", "deliverer_name": "Sam Okafor", "deliverer_contact": "07700 900123",
    })
    assert response.status_code == 200 and "Tick the box if the deliverer agreed" in response.get_data(as_text=True)
    response = post_form(client, f"/leaflets/rounds/{first.id}", {
        "name": "Station side", "deliverer_name": "Sam Okafor", "deliverer_contact": "07700 900123", "has_agreed": "y",
    })
    assert response.status_code == 302
    db.session.refresh(first)
    assert (first.name, first.deliverer_contact) == ("Station side", "07700 900123")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "delivery_rounds.deliverer_named"))
    assert entry.details["has_contact"] is True and "07700" not in str(entry.details) + entry.summary

    street = first.deliveries[0].print_run_street_id
    response = post_form(client, f"/leaflets/rounds/{first.id}/streets/{street}",
                         {f"s{street}-state": "delivered"}, page=f"/leaflets/rounds/{first.id}")
    assert response.status_code == 302
    assert rounds.deliveries_of(run)[street].recorded_by_label == coordinator.email
    html = client.get(f"/leaflets/print-runs/{run.id}/rounds").get_data(as_text=True)
    assert "1 delivered, 0 partly" in html and "21 of 83" in html

    # Streets move between rounds with one select each.
    second = rounds.rounds_of(run)[1]
    response = post_form(client, f"/leaflets/print-runs/{run.id}/rounds/streets", {f"street-{street}": second.id},
                         page=f"/leaflets/print-runs/{run.id}/rounds")
    assert response.status_code == 302
    assert rounds.deliveries_of(run)[street].round_id == second.id


def test_another_coordinators_rounds_are_not_found(client):
    run, coordinator = make_run()
    (only,) = rounds.split_into_rounds(run, 1, coordinator)
    db.session.commit()
    login_as(client, make_user(email="other@example.org"))
    for url in (f"/leaflets/print-runs/{run.id}/rounds", f"/leaflets/rounds/{only.id}",
                f"/leaflets/rounds/{only.id}/delivery-sheet.pdf"):
        assert client.get(url).status_code == 404


def test_the_rounds_delivery_sheet_has_its_streets_its_deliverer_and_a_qr_code_of_its_link(client, tmp_path):
    run, coordinator = make_run()
    first, _second = rounds.split_into_rounds(run, 2, coordinator)
    first.deliverer_name = HOSTILE_TEXTS[0]
    db.session.commit()
    login_as(client, coordinator)
    response = client.get(f"/leaflets/rounds/{first.id}/delivery-sheet.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(pdftotext(response.data, tmp_path).split())
    assert "Petts Wood North Road 2" in text and "Petts Wood North Road 4" not in text
    assert f"Round 1, delivered by {HOSTILE_TEXTS[0]}" in text  # printed as the words typed, never markup
    assert "Total, 2 streets" in text
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(response.data)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True)
    (png,) = tmp_path.glob("page*.png")
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True, check=True)
    assert decoded.stdout.strip() == rounds.round_url(first)


def test_the_links_lifetime_is_a_setting(app):
    run, coordinator = make_run()
    app.config["DELIVERY_ROUND_LINK_DAYS"] = 7
    (only,) = rounds.split_into_rounds(run, 1, coordinator)
    assert only.link_expires_on == dates.today() + timedelta(days=7)
