"""The reach report: every number checked against a known data set, the filters, the charts, the CSV file.

The data set (every date in 2025 unless said, the period under test being the London year 2025):

    ward     scheme                 streets (households now)
    Bickley  Hayes Lane Watch       Hayes Lane 100, Hook Farm Road 50 (all asked for no leaflets), Oak Way 30
    Bickley  Bickley Park Watch     Park Road 200, Elm Walk 40
    Darwin   =HYPERLINK(...)        Cudham Lane 80, Berry's Hill 20

    print runs   R1 Hayes Lane, campaign A v1, 1 Feb: Hayes Lane (90 households then), Oak Way (30); 160 copies
                 R2 Hayes Lane, campaign A v2, 1 May: Hayes Lane (95 then), Hook Farm Road (0 copies); 110 copies
                 R3 Bickley Park, campaign B, 1 Apr: Park Road (200); 210 copies
                 R4 Darwin, campaign A v2, 31 Dec 2024 23:30 UTC (out of the period): Cudham Lane; 85 copies
                 R5 Darwin, campaign A v2, 1 Aug: Berry's Hill (20) and a street since removed; 25 copies
    leaflets     L1 Hayes Lane A v1 10 copies; L2 Bickley Park A v2 5 copies, 30 Jun 23:30 UTC (1 Jul in London);
                 L3 Darwin B 3 copies; L4 no scheme A v2 7 copies; L5 Hayes Lane A v1 100 copies, 2 Jan 2026 (out)
    bulletins    B1 Hayes Lane [A v2] sent: 3 delivered, 1 failed
                 B2 Bickley Park [B, A v1] sending: 2 delivered, 1 queued, 1 deferred
                 B3 Darwin [B] sent: 4 delivered, 2 failed, 1 skipped
                 B4 Darwin [A v2] sent in June 2024 (out): 5 delivered
                 B5 Hayes Lane [A v2] draft: not counted
                 B6 Bickley Park [A v2] cancelled while sending: 1 delivered, 2 skipped (emails count, the bulletin not)
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from coordinator.admin import reach, reach_charts
from coordinator.audit.models import AuditEntry
from coordinator.bulletins.models import (
    Bulletin,
    BulletinDelivery,
    BulletinState,
    DeliveryState,
    Subscriber,
    SubscriberStatus,
)
from coordinator.content.models import (
    CampaignVersion,
    ContentItem,
    ContentKind,
    HelplineSetVersion,
    VersionState,
)
from coordinator.extensions import db
from coordinator.leaflets.models import LeafletRecord, PrintRun, PrintRunStreet
from coordinator.schemes.models import Scheme, Street
from tests.admin.helpers import HOSTILE
from tests.factories import PASSWORD, make_admin, make_scheme, make_street, make_user
from tests.helpers.browser import axe_violations, log_in
from tests.helpers.web import login_as

YEAR_2025 = reach.ReachFilter(date_from=date(2025, 1, 1), date_to=date(2025, 12, 31))
FORMULA_NAME = '=HYPERLINK("http://evil.example","click")'
_seq = itertools.count(1)


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- Builders -------------------------------------------------------------------------------------------------------


def make_campaign(slug: str, *titles: str) -> list[CampaignVersion]:
    """A campaign item with one version per title, the last approved and the others retired."""
    item = ContentItem(kind=ContentKind.CAMPAIGN, slug=slug)
    db.session.add(item)
    versions = []
    for number, title in enumerate(titles, start=1):
        state = VersionState.APPROVED if number == len(titles) else VersionState.RETIRED
        version = CampaignVersion(item=item, number=number, state=state, title=title, summary=title)
        db.session.add(version)
        versions.append(version)
    db.session.flush()
    return versions


def make_helpline_set() -> HelplineSetVersion:
    item = ContentItem(kind=ContentKind.HELPLINE_SET, slug=f"set-{next(_seq)}")
    version = HelplineSetVersion(item=item, number=1, state=VersionState.APPROVED, title="Helplines")
    db.session.add_all([item, version])
    db.session.flush()
    return version


def _printed(campaign: CampaignVersion, helplines: HelplineSetVersion, created_at: datetime, copies: int) -> dict:
    return {
        "campaign_version_id": campaign.id,
        "helpline_set_version_id": helplines.id,
        "layout": "a5",
        "print_mode": "home",
        "copies": copies,
        "printed_on": created_at.date(),
        "reference": f"R{next(_seq):08d}"[:9],
        "created_at": created_at,
    }


def make_leaflet(scheme: Scheme | None, campaign, helplines, created_at: datetime, copies: int) -> LeafletRecord:
    record = LeafletRecord(scheme_id=scheme.id if scheme else None, **_printed(campaign, helplines, created_at, copies))
    db.session.add(record)
    db.session.flush()
    return record


def make_print_run(scheme: Scheme, campaign, helplines, created_at: datetime, copies: int,
                   streets: list[tuple[Street | None, int, int]]) -> PrintRun:
    """A print run for (street or None for one removed since, households then, copies) rows."""
    run = PrintRun(scheme_id=scheme.id, **_printed(campaign, helplines, created_at, copies))
    run.streets = [
        PrintRunStreet(position=index, street_id=street.id if street else None,
                       name=street.name if street else "Gone Road", households=households, copies=street_copies)
        for index, (street, households, street_copies) in enumerate(streets, start=1)
    ]
    db.session.add(run)
    db.session.flush()
    return run


def make_bulletin(scheme: Scheme, campaigns: list[CampaignVersion], helplines, state: BulletinState,
                  started_at: datetime | None, **deliveries: int) -> Bulletin:
    """A bulletin with `sent=3, failed=1, ...` outbox rows, one subscriber of the scheme each."""
    bulletin = Bulletin(scheme_id=scheme.id, subject=f"Bulletin {next(_seq)}", helpline_set_version_id=helplines.id,
                        campaign_version_ids=[c.id for c in campaigns], state=state, started_at=started_at)
    db.session.add(bulletin)
    db.session.flush()
    for state_name, how_many in deliveries.items():
        for _ in range(how_many):
            n = next(_seq)
            subscriber = Subscriber(scheme_id=scheme.id, email=f"resident{n}@example.net",
                                    status=SubscriberStatus.CONFIRMED)
            db.session.add(subscriber)
            db.session.flush()
            db.session.add(BulletinDelivery(bulletin_id=bulletin.id, subscriber_id=subscriber.id,
                                            to_address=subscriber.email, message_id=f"<b{n}@example.org>",
                                            state=DeliveryState(state_name)))
    db.session.flush()
    return bulletin


@dataclass
class KnownData:
    hayes: Scheme
    park: Scheme
    darwin: Scheme
    campaign_a: list[CampaignVersion]
    campaign_b: list[CampaignVersion]


@pytest.fixture
def known(app) -> KnownData:
    a1, a2 = campaign_a = make_campaign("stay-safe", "Stay safe (first edition)", "Stay safe")
    (b1,) = campaign_b = make_campaign("lock-up", "Lock up")
    helplines = make_helpline_set()

    hayes = make_scheme("Hayes Lane Watch", ward="Bickley")
    park = make_scheme("Bickley Park Watch", ward="Bickley")
    darwin = make_scheme(FORMULA_NAME, ward="Darwin")
    hayes_lane = make_street(hayes, "Hayes Lane", households=100)
    hook_farm = make_street(hayes, "Hook Farm Road", households=50, no_leaflets=50)
    oak_way = make_street(hayes, "Oak Way", households=30)
    park_road = make_street(park, "Park Road", households=200)
    make_street(park, "Elm Walk", households=40)
    cudham = make_street(darwin, "Cudham Lane", households=80)
    berrys = make_street(darwin, "Berry's Hill", households=20)

    make_print_run(hayes, a1, helplines, at(2025, 2, 1), 160, [(hayes_lane, 90, 95), (oak_way, 30, 32)])
    make_print_run(hayes, a2, helplines, at(2025, 5, 1), 110, [(hayes_lane, 95, 100), (hook_farm, 50, 0)])
    make_print_run(park, b1, helplines, at(2025, 4, 1), 210, [(park_road, 200, 210)])
    make_print_run(darwin, a2, helplines, at(2024, 12, 31, 23, 30), 85, [(cudham, 80, 84)])
    make_print_run(darwin, a2, helplines, at(2025, 8, 1), 25, [(berrys, 20, 21), (None, 10, 11)])

    make_leaflet(hayes, a1, helplines, at(2025, 3, 1), 10)
    make_leaflet(park, a2, helplines, at(2025, 6, 30, 23, 30), 5)
    make_leaflet(darwin, b1, helplines, at(2025, 9, 1), 3)
    make_leaflet(None, a2, helplines, at(2025, 10, 1), 7)
    make_leaflet(hayes, a1, helplines, at(2026, 1, 2), 100)

    make_bulletin(hayes, [a2], helplines, BulletinState.SENT, at(2025, 4, 10), sent=3, failed=1)
    make_bulletin(park, [b1, a1], helplines, BulletinState.SENDING, at(2025, 11, 1), sent=2, queued=1, deferred=1)
    make_bulletin(darwin, [b1], helplines, BulletinState.SENT, at(2025, 5, 5), sent=4, failed=2, skipped=1)
    make_bulletin(darwin, [a2], helplines, BulletinState.SENT, at(2024, 6, 1), sent=5)
    make_bulletin(hayes, [a2], helplines, BulletinState.DRAFT, None)
    make_bulletin(park, [a2], helplines, BulletinState.CANCELLED, at(2025, 7, 7), sent=1, skipped=2)
    db.session.commit()
    return KnownData(hayes, park, darwin, campaign_a, campaign_b)


@pytest.fixture
def admin(app, client):
    admin = make_admin(email="officer@example.org")
    db.session.commit()
    login_as(client, admin)
    return admin


def figures(**values) -> reach.ReachFigures:
    return reach.ReachFigures(**values)


def by_label(rows: list[reach.ReachRow]) -> dict[str, reach.ReachFigures]:
    return {row.label: row.figures for row in rows}


def query(**args) -> str:
    base = {"date_from": "2025-01-01", "date_to": "2025-12-31"}
    base.update(args)
    return "&".join(f"{key}={value}" for key, value in base.items())


# --- The numbers ----------------------------------------------------------------------------------------------------

HAYES = figures(leaflets=1, leaflet_copies=10, print_runs=2, print_run_copies=270, streets_reached=2, streets_all=3,
                households_covered=125, households_all=180, bulletins_sent=1, delivered=3, failed=1)
PARK = figures(leaflets=1, leaflet_copies=5, print_runs=1, print_run_copies=210, streets_reached=1, streets_all=2,
               households_covered=200, households_all=240, bulletins_sent=1, delivered=3, still_sending=2, skipped=2)
DARWIN = figures(leaflets=1, leaflet_copies=3, print_runs=1, print_run_copies=25, streets_reached=1, streets_all=2,
                 households_covered=20, households_all=100, bulletins_sent=1, delivered=4, failed=2, skipped=1)
NO_SCHEME = figures(leaflets=1, leaflet_copies=7)
BICKLEY = figures(leaflets=2, leaflet_copies=15, print_runs=3, print_run_copies=480, streets_reached=3, streets_all=5,
                  households_covered=325, households_all=420, bulletins_sent=2, delivered=6, failed=1, still_sending=2,
                  skipped=2)
TOTALS = figures(leaflets=4, leaflet_copies=25, print_runs=4, print_run_copies=505, streets_reached=4, streets_all=7,
                 households_covered=345, households_all=520, bulletins_sent=3, delivered=10, failed=3,
                 still_sending=2, skipped=3)


def test_totals_for_every_campaign_over_the_year(known):
    report = reach.build_reach_report(YEAR_2025)
    assert report.totals == TOTALS
    assert report.totals.copies == 530
    assert reach.format_percent(report.totals.coverage_percent) == "66.3%"
    assert report.campaign_title == "Every campaign"


def test_each_scheme(known):
    schemes = by_label(reach.build_reach_report(YEAR_2025).schemes)
    assert schemes == {"Hayes Lane Watch": HAYES, "Bickley Park Watch": PARK, FORMULA_NAME: DARWIN,
                       reach.NO_SCHEME: NO_SCHEME}
    assert [schemes[name].copies for name in ("Hayes Lane Watch", "Bickley Park Watch", FORMULA_NAME)] == [280, 215, 28]
    shares = [reach.format_percent(schemes[n].coverage_percent) for n in ("Hayes Lane Watch", "Bickley Park Watch",
                                                                          FORMULA_NAME)]
    assert shares == ["69.4%", "83.3%", "20.0%"]


def test_each_ward_and_the_rows_add_up(known):
    report = reach.build_reach_report(YEAR_2025)
    assert [row.label for row in report.wards] == ["Bickley", "Darwin", reach.NO_SCHEME]
    wards = by_label(report.wards)
    assert wards == {"Bickley": BICKLEY, "Darwin": DARWIN, reach.NO_SCHEME: NO_SCHEME}
    assert [row.schemes for row in report.wards] == [2, 1, 0]
    assert reach.format_percent(wards["Bickley"].coverage_percent) == "77.4%"
    total = reach.ReachFigures()
    for row in report.wards:
        total.add(row.figures)
    assert total == report.totals


def test_households_are_those_of_the_latest_run_and_a_street_counts_once(known):
    """Hayes Lane went out twice (90 households, then 95): it counts once, with 95; today's 100 is not used."""
    hayes = by_label(reach.build_reach_report(YEAR_2025).schemes)["Hayes Lane Watch"]
    assert (hayes.streets_reached, hayes.households_covered) == (2, 95 + 30)


def test_one_campaign_counts_every_version_of_it(known):
    campaign_a = known.campaign_a[0].item_id
    report = reach.build_reach_report(reach.ReachFilter(YEAR_2025.date_from, YEAR_2025.date_to, campaign_a))
    assert report.campaign_title == "Stay safe"
    assert report.totals == figures(
        leaflets=3, leaflet_copies=22, print_runs=3, print_run_copies=295, streets_reached=3, streets_all=7,
        households_covered=145, households_all=520, bulletins_sent=2, delivered=6, failed=1, still_sending=2,
        skipped=2,
    )
    assert report.totals.copies == 317
    assert reach.format_percent(report.totals.coverage_percent) == "27.9%"
    schemes = by_label(report.schemes)
    assert schemes["Bickley Park Watch"] == figures(leaflets=1, leaflet_copies=5, streets_all=2, households_all=240,
                                                    bulletins_sent=1, delivered=3, still_sending=2, skipped=2)


def test_the_other_campaign(known):
    campaign_b = known.campaign_b[0].item_id
    report = reach.build_reach_report(reach.ReachFilter(YEAR_2025.date_from, YEAR_2025.date_to, campaign_b))
    assert report.totals == figures(
        leaflets=1, leaflet_copies=3, print_runs=1, print_run_copies=210, streets_reached=1, streets_all=7,
        households_covered=200, households_all=520, bulletins_sent=2, delivered=6, failed=2, still_sending=2,
        skipped=1,
    )
    assert reach.format_percent(report.totals.coverage_percent) == "38.5%"
    assert reach.NO_SCHEME not in by_label(report.wards)


def test_the_period_is_in_london_dates(known):
    """30 June 23:30 UTC is 1 July in London (summer time): a period ending 30 June leaves that leaflet out."""
    first_half = reach.build_reach_report(reach.ReachFilter(date(2025, 1, 1), date(2025, 6, 30)))
    assert (first_half.totals.leaflets, first_half.totals.leaflet_copies) == (1, 10)
    assert (first_half.totals.print_runs, first_half.totals.print_run_copies) == (3, 480)
    assert (first_half.totals.bulletins_sent, first_half.totals.delivered, first_half.totals.failed) == (2, 7, 3)
    second_half = reach.build_reach_report(reach.ReachFilter(date(2025, 7, 1), date(2025, 12, 31)))
    assert (second_half.totals.leaflets, second_half.totals.leaflet_copies) == (3, 15)
    # 31 Dec 2024 23:30 UTC is still 2024 in London (winter time): run R4 is only in a period that has that day.
    last_day_of_2024 = reach.build_reach_report(reach.ReachFilter(date(2024, 12, 31), date(2024, 12, 31)))
    assert (last_day_of_2024.totals.print_runs, last_day_of_2024.totals.households_covered) == (1, 80)


def test_default_period_is_the_last_twelve_months(app):
    assert reach.default_period(date(2026, 3, 12)) == (date(2025, 3, 13), date(2026, 3, 12))
    assert reach.default_period(date(2028, 2, 29)) == (date(2027, 3, 1), date(2028, 2, 29))
    form = reach.ReachFilterForm(None, campaign_choices=[])
    form.validate()
    assert form.to_filter(date(2026, 3, 12)) == reach.ReachFilter(date(2025, 3, 13), date(2026, 3, 12), None)


def test_a_scheme_with_no_streets_has_no_share(app):
    make_scheme("Empty Watch", ward="")
    report = reach.build_reach_report(YEAR_2025)
    (row,) = report.wards
    assert row.label == reach.NO_WARD and row.figures.coverage_percent is None
    assert reach.format_percent(row.figures.coverage_percent) == "no households"


def test_the_query_count_does_not_grow_with_the_schemes(app, known):
    """Grouped queries, not one per scheme: 3 schemes or 60, the same statements."""
    def statements() -> int:
        seen = []
        listener = lambda *args: seen.append(1)
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            reach.build_reach_report(YEAR_2025)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    few = statements()
    for n in range(57):
        scheme = make_scheme(f"Extra Watch {n}", ward=f"Ward {n % 5}")
        make_street(scheme, households=10)
    db.session.commit()
    assert statements() == few <= 8


# --- The page -------------------------------------------------------------------------------------------------------


def svg_charts(html: str) -> dict[str, ET.Element]:
    """Each chart's <svg>, parsed, by the id of its chart."""
    charts = {}
    for key, svg in re.findall(r'<div class="chart" id="([^"]+)">.*?(<svg.*?</svg>)', html, re.DOTALL):
        charts[key] = ET.fromstring(svg)
    return charts


def bars(svg: ET.Element) -> list[tuple[float, float, str]]:
    """(value, width in per cent, fill) of every bar."""
    return [(float(r.get("data-value")), float(r.get("width").rstrip("%")), r.get("fill"))
            for r in svg.iter("rect") if r.get("class") == "chart-bar"]


def test_page_shows_the_totals_and_the_tables(client, admin, known):
    response = client.get(f"/admin/reach?{query()}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Every campaign, 01 January 2025 to 31 December 2025" in html
    totals = re.search(r'<table class="reach-totals">.*?</table>', html, re.DOTALL).group(0)
    cells = re.findall(r'<th scope="row">(.*?)</th><td class="num">(.*?)</td>', totals)
    assert dict(cells) == {
        "Leaflets generated": "4",
        "Print runs": "4",
        "Copies printed (leaflets 25, print runs 505)": "530",
        "Central print orders": "0",
        "Copies in central print orders": "0",
        "All copies printed, central print orders included": "530",
        "Streets printed for, of 7": "4",
        "Households printed for, of 520 in all schemes": "345",
        "Share of all households printed for": "66.3%",
        "Streets delivered (all or partly)": "0",
        "Households delivered to": "0",
        "Share of all households delivered to": "0.0%",
        "Bulletins sent": "3",
        "Bulletin emails delivered": "10",
        "Bulletin emails failed": "3",
        "Bulletin emails still being sent": "2",
        "Bulletin emails not sent on purpose (the resident left, or the bulletin was stopped)": "3",
    }
    ward_table, scheme_table = re.findall(r'<table class="reach-table">.*?</table>', html, re.DOTALL)
    assert '<caption>Each ward: Every campaign, 01 Jan 2025 to 31 Dec 2025</caption>' in ward_table
    assert ward_table.count('scope="col"') == 13
    bickley = re.search(r'<th scope="row">Bickley</th>(.*?)</tr>', ward_table, re.DOTALL).group(1)
    assert re.findall(r'<td class="num">(.*?)</td>', bickley) == [
        "2", "2", "3", "495", "0", "3 of 5", "325 of 420", "77.4%", "0", "2", "6", "1"]
    hayes = re.search(r'Hayes Lane Watch</a></th>(.*?)</tr>', scheme_table, re.DOTALL).group(1)
    assert re.findall(r"<td[^>]*>(.*?)</td>", hayes) == [
        "Bickley", "1", "2", "280", "0", "2 of 3", "125 of 180", "69.4%", "0", "1", "3", "1"]
    assert "Schemes with leaflets, print runs or bulletins in the period (4)" in scheme_table


def test_page_charts_are_accessible_svg_with_proportional_bars(client, admin, known):
    html = client.get(f"/admin/reach?{query()}").get_data(as_text=True)
    assert "style=" not in html and "<style" not in html and "<script" not in html
    charts = svg_charts(html)
    assert set(charts) == {"chart-ward-households", "chart-ward-copies", "chart-ward-bulletins", "chart-top-schemes"}
    for svg in charts.values():
        assert svg.get("role") == "img" and svg.get("aria-label")
        assert svg.find("title").text == svg.get("aria-label")
        assert svg.find("desc").get("id") == svg.get("aria-describedby")
        assert svg.get("width") == "100%" and svg.get("viewBox") is None  # text in CSS pixels: it grows with zoom
        assert float(svg.get("font-size")) >= 16

    households = charts["chart-ward-households"]
    assert households.get("aria-label") == (
        "Households printed for (upper bar) and delivered to (lower bar) in each ward, as a share of the ward's households")
    assert ("Bickley: printed for 325 of 420 households (77.4%), delivered to 0 (0.0%). "
            "Darwin: printed for 20 of 100 households (20.0%), delivered to 0 (0.0%).") in households.find("desc").text
    # Two bars a ward, printed for then delivered to; a full bar is 100%: the widths are the shares.
    (bickley_value, bickley_width, printed_fill), bickley_delivered, (darwin_value, darwin_width, _), _d = bars(
        households)
    assert bickley_value == pytest.approx(100 * 325 / 420) and darwin_value == pytest.approx(20.0)
    assert bickley_width == pytest.approx(reach_charts.BAR_AREA * 325 / 420, abs=0.01)
    assert darwin_width == pytest.approx(reach_charts.BAR_AREA * 0.2, abs=0.01)
    assert printed_fill == "#1d3f72" and bickley_delivered == (0.0, 0.0, "#00703c")
    assert [t.text for t in households.iter("text")] == [
        "Bickley", "77.4%", "0.0%", "Darwin", "20.0%", "0.0%"]

    copies = bars(charts["chart-ward-copies"])
    assert [value for value, _w, _f in copies] == [495, 28, 7]
    assert copies[0][1] == reach_charts.BAR_AREA
    for value, width, _fill in copies:
        assert width == pytest.approx(reach_charts.BAR_AREA * value / 495, abs=0.01)

    bulletin_bars = bars(charts["chart-ward-bulletins"])
    assert [(value, fill) for value, _w, fill in bulletin_bars] == [
        (6, "#00703c"), (1, "#b10e1e"), (4, "#00703c"), (2, "#b10e1e")]
    for value, width, _fill in bulletin_bars:
        assert width == pytest.approx(reach_charts.BAR_AREA * value / 6, abs=0.01)
    texts = [t.text for t in charts["chart-ward-bulletins"].iter("text")]
    assert texts == ["Bickley", "6 delivered", "1 failed", "Darwin", "4 delivered", "2 failed"]

    top = charts["chart-top-schemes"]
    assert [t.text for t in top.iter("text") if t.get("font-weight")] == [
        "Bickley Park Watch", "Hayes Lane Watch", FORMULA_NAME[: reach_charts.LABEL_MAX - 1] + "…"]
    assert FORMULA_NAME in top.find("desc").text  # the description has the name whole


def test_page_filters_by_campaign_and_period(client, admin, known):
    campaign_b = known.campaign_b[0].item_id
    html = client.get(f"/admin/reach?{query(campaign=campaign_b)}").get_data(as_text=True)
    assert "Lock up, 01 January 2025 to 31 December 2025" in html
    assert f'<option selected value="{campaign_b}">Lock up</option>' in html
    assert '<th scope="row">Copies printed (leaflets 3, print runs 210)</th><td class="num">213</td>' in html
    assert '<th scope="row">Share of all households printed for</th><td class="num">38.5%</td>' in html
    assert f"campaign={campaign_b}" in re.search(r'href="(/admin/reach\.csv[^"]*)"', html).group(1)

    html = client.get("/admin/reach?date_from=2025-07-01&date_to=2025-12-31").get_data(as_text=True)
    assert '<th scope="row">Leaflets generated</th><td class="num">3</td>' in html


def test_page_without_dates_shows_the_last_twelve_months(client, admin):
    (campaign,) = make_campaign("recent", "Recent")
    helplines = make_helpline_set()
    scheme = make_scheme("Hayes Lane Watch", ward="Bickley")
    make_leaflet(scheme, campaign, helplines, datetime.now(UTC) - timedelta(days=2), 4)
    make_leaflet(scheme, campaign, helplines, datetime.now(UTC) - timedelta(days=400), 40)
    db.session.commit()
    html = client.get("/admin/reach").get_data(as_text=True)
    start, end = reach.default_period()
    assert f"Every campaign, {start:%d %B %Y} to {end:%d %B %Y}" in html
    assert '<th scope="row">Copies printed (leaflets 4, print runs 0)</th><td class="num">4</td>' in html


def test_bad_filter_values_are_reported_and_the_default_used(client, admin, known):
    html = client.get("/admin/reach?campaign=999999&date_from=2025-12-31&date_to=2025-01-01").get_data(as_text=True)
    assert "There is a problem" in html
    assert "Choose a campaign from the list" in html
    assert "The &#39;to&#39; date must be the same as or after the &#39;from&#39; date" in html
    # The 'to' date in error is left out: from the 'from' date to today.
    assert f"Every campaign, 31 December 2025 to {reach.default_period()[1]:%d %B %Y}" in html
    html = client.get("/admin/reach?campaign=abc&date_from=yesterday").get_data(as_text=True)
    assert "Choose a campaign from the list" in html and "Not a valid date value" in html


def test_schemes_with_nothing_are_listed_on_request_fifty_a_page(client, admin, known):
    for n in range(60):
        make_scheme(f"Quiet Watch {n:02d}", ward="Zetland")
    db.session.commit()
    html = client.get(f"/admin/reach?{query()}").get_data(as_text=True)
    assert "Quiet Watch" not in html.split('id="schemes"')[1]
    assert "60 other schemes had nothing in this period" in html
    html = client.get(f"/admin/reach?{query(every_scheme='y')}").get_data(as_text=True)
    assert "Every scheme (64), page 1 of 2" in html
    assert html.count("Quiet Watch") == 50 - 3
    assert "every_scheme=y" in re.search(r'href="([^"]*page=2[^"]*)"', html).group(1)
    html = client.get(f"/admin/reach?{query(every_scheme='y', page=2)}").get_data(as_text=True)
    assert "page 2 of 2" in html and html.count("Quiet Watch") == 13


def test_hostile_names_show_literally_in_the_tables_and_the_charts(client, admin, app):
    helplines = make_helpline_set()
    (campaign,) = make_campaign("hostile", HOSTILE[0])
    for index, text in enumerate(HOSTILE):
        scheme = make_scheme(text, ward=f"{text} ward")
        street = make_street(scheme, households=10)
        make_print_run(scheme, campaign, helplines, at(2025, 5, 1), 10, [(street, 10, 10 + index)])
    db.session.commit()
    html = client.get(f"/admin/reach?{query(campaign=campaign.item_id)}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html
    charts = svg_charts(html)  # still well-formed: every hostile character was escaped
    ward_labels = [t.text for t in charts["chart-ward-households"].iter("text") if t.get("font-weight")]
    assert ward_labels == sorted((f"{text} ward" for text in HOSTILE), key=str.lower)
    scheme_labels = {t.text for t in charts["chart-top-schemes"].iter("text") if t.get("font-weight")}
    assert scheme_labels == set(HOSTILE)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;, " in html  # the campaign title in the heading


def test_a_coordinator_gets_403(client, known):
    coordinator = make_user()
    make_scheme("Own Watch", coordinators=[coordinator])
    db.session.commit()
    login_as(client, coordinator)
    assert client.get("/admin/reach").status_code == 403
    assert client.get(f"/admin/reach.csv?{query()}").status_code == 403
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == reach.EXPORTED)) is None


def test_visitors_are_sent_to_log_in(client, app):
    for url in ("/admin/reach", "/admin/reach.csv"):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_dashboard_links_to_the_report(client, admin):
    assert 'href="/admin/reach"' in client.get("/admin/").get_data(as_text=True)


# --- The CSV file ---------------------------------------------------------------------------------------------------


def read_download(response) -> list[dict[str, str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


def test_csv_has_every_number_and_neutralises_formulas(client, admin, known):
    response = client.get(f"/admin/reach.csv?{query()}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="reach-2025-01-01-to-2025-12-31.csv"'
    rows = read_download(response)
    assert list(rows[0]) == list(reach.CSV_HEADER)
    assert [(r["level"], r["ward"], r["scheme"]) for r in rows] == [
        ("all schemes", "", ""),
        ("ward", "Bickley", ""),
        ("ward", "Darwin", ""),
        ("ward", reach.NO_SCHEME, ""),
        ("scheme", "Bickley", "Bickley Park Watch"),
        ("scheme", "Bickley", "Hayes Lane Watch"),
        ("scheme", "Darwin", "'" + FORMULA_NAME),  # text in a spreadsheet, never a formula
        ("scheme", "", reach.NO_SCHEME),
    ]
    total = rows[0]
    assert {k: total[k] for k in ("campaign", "from", "to")} == {
        "campaign": "Every campaign", "from": "2025-01-01", "to": "2025-12-31"}
    numbers = [
        "leaflets generated", "leaflet copies", "print runs", "print run copies", "copies printed", "streets reached",
        "streets in all", "households covered", "households in all", "households covered %", "bulletins sent",
        "emails delivered", "emails failed", "emails still being sent", "emails not sent (skipped)",
    ]
    assert [total[k] for k in numbers] == ["4", "25", "4", "505", "530", "4", "7", "345", "520", "66.3", "3", "10",
                                           "3", "2", "3"]
    assert [rows[1][k] for k in numbers] == ["2", "15", "3", "480", "495", "3", "5", "325", "420", "77.4", "2", "6",
                                             "1", "2", "2"]
    assert [rows[6][k] for k in numbers] == ["1", "3", "1", "25", "28", "1", "2", "20", "100", "20.0", "1", "4",
                                             "2", "0", "1"]
    assert rows[7]["households covered %"] == ""  # the no-scheme row has no households to share


def test_csv_follows_the_filter_and_lists_every_scheme(client, admin, known):
    make_scheme("Quiet Watch", ward="Darwin")
    db.session.commit()
    campaign_a = known.campaign_a[0].item_id
    response = client.get(f"/admin/reach.csv?{query(campaign=campaign_a)}")
    assert response.headers["Content-Disposition"].endswith('-stay-safe.csv"')
    rows = read_download(response)
    assert rows[0]["campaign"] == "Stay safe" and rows[0]["copies printed"] == "317"
    quiet = next(r for r in rows if r["scheme"] == "Quiet Watch")
    assert (quiet["ward"], quiet["copies printed"], quiet["households covered %"]) == ("Darwin", "0", "")


def test_the_export_is_audited(client, admin, known):
    campaign_b = known.campaign_b[0].item_id
    client.get(f"/admin/reach.csv?{query(campaign=campaign_b)}")
    # Six rows: the totals, Bickley and Darwin, three schemes (campaign B has no leaflet of no scheme).
    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == reach.EXPORTED))
    assert entry.actor_label == "officer@example.org"
    assert entry.details == {"campaign_id": campaign_b, "date_from": "2025-01-01", "date_to": "2025-12-31", "rows": 6}
    assert "Lock up" in entry.summary


def test_export_service_without_http(app, known):
    document, name = reach.export_reach_csv(YEAR_2025)
    db.session.commit()
    assert name == "reach-2025-01-01-to-2025-12-31.csv"
    assert document.splitlines()[0].startswith("level,ward,scheme,campaign,from,to,leaflets generated")
    assert "'=HYPERLINK" in document and ',"=HYPERLINK' not in document
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == reach.EXPORTED))
    assert entry is not None and entry.actor_label == "system" and "campaign_id" not in entry.details


# --- In a browser ---------------------------------------------------------------------------------------------------


def test_page_in_a_browser_at_200_percent_zoom(page, known):
    """No accessibility violations, nothing blocked by the CSP, and at 200% zoom every chart text fits its chart."""
    admin = make_admin(email="officer@example.org")
    db.session.commit()
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text
            else None)
    log_in(page, admin.email, PASSWORD)
    # 200% zoom of a 1280-pixel window lays the page out in 640 CSS pixels, with text twice the size on screen.
    page.set_viewport_size({"width": 640, "height": 900})
    page.goto(f"/admin/reach?{query()}")
    assert axe_violations(page) == []
    assert blocked == []
    overflow = page.evaluate("""() => [...document.querySelectorAll('svg.chart-svg')].flatMap(svg => {
        const width = svg.getBoundingClientRect().width;
        return [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBBox().x + t.getBBox().width, width])
            .filter(([, right, w]) => right > w);
    })""")
    assert overflow == []
    sizes = page.evaluate("""() => [...document.querySelectorAll('svg.chart-svg text')]
        .map(t => parseFloat(getComputedStyle(t).fontSize))""")
    assert min(sizes) >= 16
    # With the form's errors: the summary and the fields marked, still nothing for axe to find.
    page.goto("/admin/reach?date_from=yesterday&campaign=abc")
    assert page.get_by_role("alert").is_visible()
    assert axe_violations(page) == []


# --- Printed and delivered; central print orders --------------------------------------------------------------------


def add_deliveries_and_central_orders(known: KnownData) -> None:
    """Hayes Lane delivered by its May run (R2: 95 households) after half of it went in February (R1: 45 of 90);
    Oak Way could not be delivered; Park Road partly (150 of 200). Two central orders of the year (one for campaign
    B only), one failed and one of 2024, which count for nothing."""
    from coordinator.leaflets.models import DeliveryState as StreetState
    from coordinator.leaflets.models import PrintOrder, PrintOrderState, StreetDelivery

    runs = {(run.scheme_id, run.created_at.month): run for run in db.session.scalars(select(PrintRun))}

    def deliver(run: PrintRun, name: str, state: StreetState, households: int) -> None:
        street = next(s for s in run.streets if s.name == name)
        db.session.add(StreetDelivery(print_run_street_id=street.id, state=state, households_delivered=households))

    deliver(runs[(known.hayes.id, 2)], "Hayes Lane", StreetState.PARTLY, 45)
    deliver(runs[(known.hayes.id, 2)], "Oak Way", StreetState.NOT_DELIVERED, 0)
    deliver(runs[(known.hayes.id, 5)], "Hayes Lane", StreetState.DELIVERED, 95)
    deliver(runs[(known.park.id, 4)], "Park Road", StreetState.PARTLY, 150)
    a2, b1 = known.campaign_a[1], known.campaign_b[0]
    helplines = db.session.scalar(select(HelplineSetVersion))

    def order(campaign, created_at, state, *copies_by_scheme) -> None:
        db.session.add(PrintOrder(
            campaign_version_id=campaign.id, helpline_set_version_id=helplines.id, layout="a5", state=state,
            printed_on=created_at.date(), created_at=created_at,
            results=[{"scheme_id": scheme.id, "scheme": scheme.name, "copies": copies, "file": "", "problem": ""}
                     for scheme, copies in copies_by_scheme],
        ))

    order(a2, at(2025, 3, 3), PrintOrderState.DONE, (known.hayes, 180), (known.park, 0), (known.darwin, 100))
    order(b1, at(2025, 9, 9), PrintOrderState.DONE, (known.hayes, 20), (known.park, 240))
    order(a2, at(2025, 10, 10), PrintOrderState.FAILED, (known.hayes, 999))
    order(a2, at(2024, 3, 3), PrintOrderState.DONE, (known.hayes, 999))
    db.session.commit()


def test_delivered_is_counted_apart_from_printed_and_central_orders_beside_the_copies(known):
    add_deliveries_and_central_orders(known)
    report = reach.build_reach_report(YEAR_2025)
    schemes = by_label(report.schemes)
    hayes, park, darwin = schemes["Hayes Lane Watch"], schemes["Bickley Park Watch"], schemes[FORMULA_NAME]
    # The latest run with a delivery recorded counts for a street: Hayes Lane's 95, not February's 45 as well.
    assert (hayes.streets_delivered, hayes.households_delivered, hayes.households_covered) == (1, 95, 125)
    assert (park.streets_delivered, park.households_delivered) == (1, 150)
    assert (darwin.streets_delivered, darwin.households_delivered) == (0, 0)
    assert (hayes.central_orders, hayes.central_order_copies, hayes.copies_with_central_orders) == (2, 200, 480)
    assert (park.central_orders, park.central_order_copies) == (1, 240)  # 0 copies in the first: not in it
    assert (darwin.central_orders, darwin.central_order_copies) == (1, 100)
    # An order counts once for a ward and for the association, however many of their schemes it printed for.
    bickley = by_label(report.wards)["Bickley"]
    assert (bickley.central_orders, bickley.central_order_copies, bickley.households_delivered) == (2, 440, 245)
    t = report.totals
    assert (t.central_orders, t.central_order_copies, t.copies, t.copies_with_central_orders) == (2, 540, 530, 1070)
    assert (t.streets_delivered, t.households_delivered) == (2, 245)
    assert reach.format_percent(t.delivered_percent) == "47.1%"
    assert t.copies == TOTALS.copies and t.households_covered == TOTALS.households_covered  # the old figures stay

    campaign_b = reach.build_reach_report(reach.ReachFilter(YEAR_2025.date_from, YEAR_2025.date_to,
                                                            known.campaign_b[0].item_id)).totals
    assert (campaign_b.central_orders, campaign_b.central_order_copies, campaign_b.households_delivered) == (1, 260, 150)


def test_the_csv_keeps_its_old_columns_first_and_adds_printed_and_delivered_after(client, admin, known):
    add_deliveries_and_central_orders(known)
    old = ("level", "ward", "scheme", "campaign", "from", "to", "leaflets generated", "leaflet copies", "print runs",
           "print run copies", "copies printed", "streets reached", "streets in all", "households covered",
           "households in all", "households covered %", "bulletins sent", "emails delivered", "emails failed",
           "emails still being sent", "emails not sent (skipped)")
    response = client.get(f"/admin/reach.csv?{query()}")
    header = next(csv.reader(io.StringIO(response.get_data(as_text=True)[1:])))
    assert tuple(header[:len(old)]) == old
    assert header[len(old):] == ["central print orders", "central print order copies", "all copies printed",
                                 "streets delivered", "households delivered", "households delivered %"]
    total = read_download(client.get(f"/admin/reach.csv?{query()}"))[0]
    assert [total[k] for k in header[len(old):]] == ["2", "540", "1070", "2", "245", "47.1"]
    assert (total["copies printed"], total["households covered"]) == ("530", "345")

    html = client.get(f"/admin/reach?{query()}").get_data(as_text=True)
    assert '<th scope="row">Households delivered to</th><td class="num">245</td>' in html
    # The charts show delivered beside printed for: Bickley 245 of 420 delivered to, Hayes Lane 95 of its 180.
    charts = svg_charts(html)
    assert [(value, fill) for value, _w, fill in bars(charts["chart-ward-households"])][:2] == [
        (pytest.approx(100 * 325 / 420), "#1d3f72"), (pytest.approx(100 * 245 / 420), "#00703c")]
    assert "Bickley: printed for 325 of 420 households (77.4%), delivered to 245 (58.3%)." in (
        charts["chart-ward-households"].find("desc").text)
    assert "Hayes Lane Watch: printed for 125 of 180 households (69.4%), delivered to 95 (52.8%)." in (
        charts["chart-top-schemes"].find("desc").text)
    assert '<th scope="row">Copies in central print orders</th><td class="num">540</td>' in html
