"""The reach report: what a campaign's leaflets and bulletins reached in a period, per scheme and per ward.

Every figure comes from a handful of grouped queries (one per kind of record, grouped by scheme), so the
report costs the same at 600 schemes and 5,000 streets as at ten; wards and totals are sums of the scheme rows,
which keeps the three levels of the page and of the CSV file in agreement by construction.

What is counted (the page says the same in words, under "How the figures are counted"):

- leaflets generated: leaflet records (the builder's downloads and `flask leaflet render`) made in the period;
- copies printed: the copies of those leaflet records plus the copies of the print runs made in the period
  (a print run is not also a leaflet record, so nothing is counted twice); central print orders are counted beside
  it (an admin's order finished in the period, each scheme's copies in it), and with it in "all copies printed";
- streets reached: distinct streets that a print run of the period had copies for, counted once however many runs
  went to them, and only while the street still exists (a removed street has no place in today's households);
- households covered: each reached street's households as the latest such print run recorded them, out of every
  household of every scheme today. That is what was printed for, not what was delivered:
- streets and households delivered: for each street of those print runs, the latest one whose delivery was
  recorded (delivery rounds, coordinator/leaflets/rounds.py) as delivered or partly delivered, and the households
  it says got a leaflet;
- bulletins sent: bulletins of the period (by the time sending started) that are sending or sent; their copies
  to residents are counted by outcome: delivered, failed, still being sent, not sent on purpose (skipped).

Dates are London dates; a period runs from the start of its first day to the end of its last.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Integer, and_, cast, exists, func, select
from wtforms import BooleanField, Form, SelectField
from wtforms.fields import DateField
from wtforms.validators import Optional, ValidationError

from coordinator import audit, dates
from coordinator.bulletins.models import Bulletin, BulletinDelivery, BulletinState, DeliveryState
from coordinator.content.models import ContentItem, ContentKind, ContentVersion, VersionState
from coordinator.csvfiles import write_csv
from coordinator.dates import LOCAL_TIME
from coordinator.db import UTC
from coordinator.extensions import db
from coordinator.forms import FilterMixin, PeriodMixin
from coordinator.leaflets.models import DeliveryState as StreetDeliveryState
from coordinator.leaflets.models import (
    LeafletRecord,
    PrintOrder,
    PrintOrderState,
    PrintRun,
    PrintRunStreet,
    StreetDelivery,
)
from coordinator.schemes.models import Scheme, Street

SCHEMES_PER_PAGE = 50
NO_WARD = "No ward given"
NO_SCHEME = "No scheme (made from the command line)"
EXPORTED = "reach.exported"
SENT_STATES = (BulletinState.SENDING, BulletinState.SENT)


# --- What the report is for -----------------------------------------------------------------------------------------


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last 12 months: from the day after this date last year up to today, both included."""
    today = today or dates.today()
    return _year_before(today) + timedelta(days=1), today


def _year_before(day: date) -> date:
    # 29 February has no twin in the year before: the day before it, 28 February, stands in.
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class ReachFilter:
    """One campaign (a content item's id) or every campaign (None), over a period of London dates, both included."""

    date_from: date
    date_to: date
    campaign_id: int | None = None

    @property
    def starts_at(self) -> datetime:
        """The first moment of the period, in UTC."""
        return datetime.combine(self.date_from, time.min, LOCAL_TIME).astimezone(UTC)

    @property
    def ends_at(self) -> datetime:
        """The first moment after the period, in UTC."""
        return datetime.combine(self.date_to + timedelta(days=1), time.min, LOCAL_TIME).astimezone(UTC)


def campaign_choices() -> list[tuple[int, str]]:
    """(item id, title) of every campaign, approved or not, by title: the title of its latest approved version."""
    rows = db.session.execute(
        select(ContentVersion.item_id, ContentVersion.title, ContentVersion.state, ContentItem.slug)
        .join(ContentItem, ContentItem.id == ContentVersion.item_id)
        # A translation is a campaign item too; its leaflets and sends count under its original.
        .where(ContentItem.kind == ContentKind.CAMPAIGN, ContentItem.translation_of_id.is_(None))
        .order_by(ContentVersion.item_id, ContentVersion.number)
    )
    titles: dict[int, str] = {}
    approved: set[int] = set()
    for item_id, title, state, slug in rows:
        # Versions come in order: a later approved title wins; a draft only names an item never approved.
        if state == VersionState.APPROVED:
            titles[item_id] = title
            approved.add(item_id)
        elif item_id not in approved:
            titles[item_id] = title or slug
    return sorted(titles.items(), key=lambda pair: (pair[1].lower(), pair[0]))


def campaign_slug(campaign_id: int) -> str:
    """The campaign item's slug, for file names ("" when there is no such campaign)."""
    return db.session.scalar(
        select(ContentItem.slug).where(ContentItem.id == campaign_id, ContentItem.kind == ContentKind.CAMPAIGN)
    ) or ""


# --- The figures ----------------------------------------------------------------------------------------------------


@dataclass
class ReachFigures:
    """Every figure of the report for one scheme, one ward or the whole association."""

    leaflets: int = 0
    leaflet_copies: int = 0
    print_runs: int = 0
    print_run_copies: int = 0
    streets_reached: int = 0
    streets_all: int = 0
    households_covered: int = 0
    households_all: int = 0
    bulletins_sent: int = 0
    delivered: int = 0
    failed: int = 0
    still_sending: int = 0
    skipped: int = 0
    central_order_copies: int = 0
    # The central print orders with copies here: a set, so a ward or the association counts an order once.
    central_order_ids: set[int] = field(default_factory=set)
    streets_delivered: int = 0
    households_delivered: int = 0

    @property
    def copies(self) -> int:
        """Copies printed: those of the leaflet records and those of the print runs (the column admins know)."""
        return self.leaflet_copies + self.print_run_copies

    @property
    def central_orders(self) -> int:
        """Central print orders with copies for this scheme, ward or association."""
        return len(self.central_order_ids)

    @property
    def copies_with_central_orders(self) -> int:
        """Every copy printed: leaflets, print runs and central print orders."""
        return self.copies + self.central_order_copies

    @property
    def delivered_percent(self) -> float | None:
        """Households delivered to as a share of all households, in per cent; None when there are no households."""
        if not self.households_all:
            return None
        return 100 * self.households_delivered / self.households_all

    @property
    def coverage_percent(self) -> float | None:
        """Households covered as a share of all households, in per cent; None when there are no households."""
        if not self.households_all:
            return None
        return 100 * self.households_covered / self.households_all

    @property
    def has_activity(self) -> bool:
        """Anything at all happened in the period: a leaflet, a print run or a bulletin."""
        return bool(self.leaflets or self.print_runs or self.bulletins_sent or self.delivered or self.failed
                    or self.still_sending or self.skipped or self.central_order_copies)

    def add(self, other: ReachFigures) -> None:
        """Add another row's figures to these (a scheme's to its ward's, a ward's to the totals)."""
        for name in self.__dataclass_fields__:
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, mine | theirs if isinstance(mine, set) else mine + theirs)


def format_percent(value: float | None) -> str:
    """A share with one decimal place ("45.0%"), or "no households" when there is nothing to divide by."""
    return "no households" if value is None else f"{value:.1f}%"


@dataclass
class ReachRow:
    """One scheme or one ward with its figures; `scheme_id` is None for a ward and for the no-scheme row."""

    label: str
    ward: str
    figures: ReachFigures
    scheme_id: int | None = None
    schemes: int = 0


@dataclass
class ReachReport:
    """The whole report for one filter: totals, one row per ward, one row per scheme."""

    filter: ReachFilter
    campaign_title: str
    totals: ReachFigures
    wards: list[ReachRow]
    schemes: list[ReachRow]

    @property
    def schemes_with_activity(self) -> list[ReachRow]:
        """The scheme rows where anything happened in the period."""
        return [row for row in self.schemes if row.figures.has_activity]


def _campaign_versions(campaign_id: int):
    return select(ContentVersion.id).where(ContentVersion.item_id == campaign_id).scalar_subquery()


def _in_period(column, f: ReachFilter):
    return and_(column >= f.starts_at, column < f.ends_at)


def _bulletin_is_about(campaign_id: int):
    """True for a bulletin whose list of campaign version ids holds a version of this campaign."""
    # The ids are a JSON list: each database spells "for each element" its own way.
    if db.session.get_bind().dialect.name == "postgresql":
        elements = func.json_array_elements_text(Bulletin.campaign_version_ids).table_valued("value")
        value = cast(elements.c.value, Integer)
    else:
        elements = func.json_each(Bulletin.campaign_version_ids).table_valued("value")
        value = elements.c.value
    versions = select(ContentVersion.id).where(ContentVersion.item_id == campaign_id)
    return exists(select(1).select_from(elements).where(value.in_(versions)))


def _leaflet_counts(f: ReachFilter) -> dict[int | None, tuple[int, int]]:
    stmt = select(LeafletRecord.scheme_id, func.count(), func.coalesce(func.sum(LeafletRecord.copies), 0)).where(
        _in_period(LeafletRecord.created_at, f)
    )
    if f.campaign_id is not None:
        stmt = stmt.where(LeafletRecord.campaign_version_id.in_(_campaign_versions(f.campaign_id)))
    rows = db.session.execute(stmt.group_by(LeafletRecord.scheme_id))
    return {scheme_id: (int(count), int(copies)) for scheme_id, count, copies in rows}


def _run_conditions(f: ReachFilter) -> list:
    conditions = [_in_period(PrintRun.created_at, f)]
    if f.campaign_id is not None:
        conditions.append(PrintRun.campaign_version_id.in_(_campaign_versions(f.campaign_id)))
    return conditions


def _print_run_counts(f: ReachFilter) -> dict[int | None, tuple[int, int]]:
    stmt = (
        select(PrintRun.scheme_id, func.count(), func.coalesce(func.sum(PrintRun.copies), 0))
        .where(*_run_conditions(f))
        .group_by(PrintRun.scheme_id)
    )
    return {scheme_id: (int(count), int(copies)) for scheme_id, count, copies in db.session.execute(stmt)}


def _latest_of_street():
    """Numbers each street's rows newest run first: 1 is the street's latest run of the period."""
    return (
        func.row_number()
        .over(
            partition_by=PrintRunStreet.street_id,
            order_by=(PrintRun.created_at.desc(), PrintRun.id.desc(), PrintRunStreet.id.desc()),
        )
        .label("latest")
    )


def _per_scheme(ranked) -> dict[int, tuple[int, int]]:
    """Per scheme: the streets whose latest row this is, and the households those rows give."""
    stmt = (
        select(Street.scheme_id, func.count(), func.coalesce(func.sum(ranked.c.households), 0))
        .join(Street, Street.id == ranked.c.street_id)
        .where(ranked.c.latest == 1)
        .group_by(Street.scheme_id)
    )
    return {scheme_id: (int(count), int(households)) for scheme_id, count, households in db.session.execute(stmt)}


def _streets_reached(f: ReachFilter) -> dict[int, tuple[int, int]]:
    """Per scheme: distinct streets reached and their households as the latest run of the period recorded them."""
    ranked = (
        select(
            PrintRunStreet.street_id.label("street_id"),
            PrintRunStreet.households.label("households"),
            _latest_of_street(),
        )
        .join(PrintRun, PrintRun.id == PrintRunStreet.print_run_id)
        .where(PrintRunStreet.street_id.is_not(None), PrintRunStreet.copies > 0, *_run_conditions(f))
        .subquery()
    )
    return _per_scheme(ranked)


def _streets_delivered(f: ReachFilter) -> dict[int, tuple[int, int]]:
    """Per scheme: distinct streets delivered (or partly) and the households that got a leaflet, as the latest run
    of the period with a delivery recorded there says."""
    ranked = (
        select(
            PrintRunStreet.street_id.label("street_id"),
            StreetDelivery.households_delivered.label("households"),
            _latest_of_street(),
        )
        .join(PrintRunStreet, PrintRunStreet.id == StreetDelivery.print_run_street_id)
        .join(PrintRun, PrintRun.id == PrintRunStreet.print_run_id)
        .where(PrintRunStreet.street_id.is_not(None),
               StreetDelivery.state.in_((StreetDeliveryState.DELIVERED, StreetDeliveryState.PARTLY)), *_run_conditions(f))
        .subquery()
    )
    return _per_scheme(ranked)


def _central_orders(f: ReachFilter) -> dict[int, tuple[set[int], int]]:
    """Per scheme: the finished central print orders of the period with copies for it, and those copies."""
    stmt = select(PrintOrder.id, PrintOrder.results).where(
        PrintOrder.state == PrintOrderState.DONE, _in_period(PrintOrder.created_at, f)
    )
    if f.campaign_id is not None:
        stmt = stmt.where(PrintOrder.campaign_version_id.in_(_campaign_versions(f.campaign_id)))
    result: dict[int, tuple[set[int], int]] = {}
    # An order's copies per scheme are in its results (a JSON list written by the job): a few orders a year.
    for order_id, results in db.session.execute(stmt):
        for row in results or []:
            copies = int(row.get("copies") or 0)
            if copies > 0 and isinstance(row.get("scheme_id"), int):
                ids, total = result.setdefault(row["scheme_id"], (set(), 0))
                result[row["scheme_id"]] = (ids | {order_id}, total + copies)
    return result


def _bulletin_conditions(f: ReachFilter) -> list:
    conditions = [_in_period(Bulletin.started_at, f)]
    if f.campaign_id is not None:
        conditions.append(_bulletin_is_about(f.campaign_id))
    return conditions


def _bulletins_sent(f: ReachFilter) -> dict[int, int]:
    stmt = (
        select(Bulletin.scheme_id, func.count())
        .where(Bulletin.state.in_(SENT_STATES), *_bulletin_conditions(f))
        .group_by(Bulletin.scheme_id)
    )
    return {scheme_id: int(count) for scheme_id, count in db.session.execute(stmt)}


def _deliveries(f: ReachFilter) -> dict[int, dict[DeliveryState, int]]:
    # Counted per bulletin first, in the order of the (bulletin, state) index, then per scheme: half the time of
    # grouping a year's outbox rows by scheme directly (SQLite, 160,000 rows).
    per_bulletin = (
        select(BulletinDelivery.bulletin_id, BulletinDelivery.state, func.count().label("emails"))
        .where(BulletinDelivery.bulletin_id.in_(select(Bulletin.id).where(*_bulletin_conditions(f))))
        .group_by(BulletinDelivery.bulletin_id, BulletinDelivery.state)
        .subquery()
    )
    stmt = (
        select(Bulletin.scheme_id, per_bulletin.c.state, func.sum(per_bulletin.c.emails))
        .join(per_bulletin, per_bulletin.c.bulletin_id == Bulletin.id)
        .group_by(Bulletin.scheme_id, per_bulletin.c.state)
    )
    result: dict[int, dict[DeliveryState, int]] = {}
    for scheme_id, state, count in db.session.execute(stmt):
        result.setdefault(scheme_id, {})[DeliveryState(state)] = int(count)
    return result


def _schemes_with_households() -> list[tuple[int, str, str, int, int]]:
    stmt = (
        select(
            Scheme.id,
            Scheme.name,
            Scheme.ward,
            func.count(Street.id),
            func.coalesce(func.sum(Street.households), 0),
        )
        .outerjoin(Street, Street.scheme_id == Scheme.id)
        .group_by(Scheme.id, Scheme.name, Scheme.ward)
    )
    return [(sid, name, ward, int(streets), int(households)) for sid, name, ward, streets, households in
            db.session.execute(stmt)]


def build_reach_report(f: ReachFilter) -> ReachReport:
    """The report for one campaign (or all) and period: every scheme, every ward and the totals, in nine queries."""
    leaflets = _leaflet_counts(f)
    runs = _print_run_counts(f)
    reached = _streets_reached(f)
    delivered = _streets_delivered(f)
    central = _central_orders(f)
    sent = _bulletins_sent(f)
    deliveries = _deliveries(f)

    scheme_rows: list[ReachRow] = []
    for scheme_id, name, ward, streets_all, households_all in _schemes_with_households():
        by_state = deliveries.get(scheme_id, {})
        figures = ReachFigures(
            leaflets=leaflets.get(scheme_id, (0, 0))[0],
            leaflet_copies=leaflets.get(scheme_id, (0, 0))[1],
            print_runs=runs.get(scheme_id, (0, 0))[0],
            print_run_copies=runs.get(scheme_id, (0, 0))[1],
            streets_reached=reached.get(scheme_id, (0, 0))[0],
            streets_all=streets_all,
            households_covered=reached.get(scheme_id, (0, 0))[1],
            households_all=households_all,
            bulletins_sent=sent.get(scheme_id, 0),
            delivered=by_state.get(DeliveryState.SENT, 0),
            failed=by_state.get(DeliveryState.FAILED, 0),
            still_sending=sum(by_state.get(s, 0) for s in
                              (DeliveryState.QUEUED, DeliveryState.SENDING, DeliveryState.DEFERRED)),
            skipped=by_state.get(DeliveryState.SKIPPED, 0),
            central_order_ids=set(central.get(scheme_id, (set(), 0))[0]),
            central_order_copies=central.get(scheme_id, (set(), 0))[1],
            streets_delivered=delivered.get(scheme_id, (0, 0))[0],
            households_delivered=delivered.get(scheme_id, (0, 0))[1],
        )
        scheme_rows.append(ReachRow(label=name, ward=ward.strip(), figures=figures, scheme_id=scheme_id))
    scheme_rows.sort(key=lambda row: (row.ward == "", row.ward.lower(), row.label.lower(), row.scheme_id))

    # Leaflets made from the command line for no scheme belong to no ward, but they were printed all the same.
    orphan = ReachFigures(
        leaflets=leaflets.get(None, (0, 0))[0],
        leaflet_copies=leaflets.get(None, (0, 0))[1],
        print_runs=runs.get(None, (0, 0))[0],
        print_run_copies=runs.get(None, (0, 0))[1],
    )
    if orphan.has_activity:
        scheme_rows.append(ReachRow(label=NO_SCHEME, ward="", figures=orphan))

    wards: dict[str, ReachRow] = {}
    totals = ReachFigures()
    for row in scheme_rows:
        totals.add(row.figures)
        label = NO_SCHEME if row.scheme_id is None else (row.ward or NO_WARD)
        ward_row = wards.setdefault(label, ReachRow(label=label, ward=row.ward, figures=ReachFigures()))
        ward_row.figures.add(row.figures)
        ward_row.schemes += row.scheme_id is not None
    return ReachReport(
        filter=f,
        campaign_title=_campaign_title(f.campaign_id),
        totals=totals,
        wards=sorted(wards.values(), key=_ward_order),
        schemes=scheme_rows,
    )


def _ward_order(row: ReachRow) -> tuple:
    # Named wards alphabetically, then schemes with no ward, then the leaflets of no scheme at all.
    return (row.label == NO_SCHEME, row.label == NO_WARD, row.label.lower())


def _campaign_title(campaign_id: int | None) -> str:
    if campaign_id is None:
        return "Every campaign"
    return dict(campaign_choices()).get(campaign_id, "Unknown campaign")


# --- A page of the scheme rows --------------------------------------------------------------------------------------


@dataclass
class RowsPage:
    """One page of a list already in memory, with what the pager macro reads."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(math.ceil(self.total / self.per_page), 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def page_of(rows: list, page: int, per_page: int = SCHEMES_PER_PAGE) -> RowsPage:
    """Rows of page `page` (1 for a page number out of range, the last page past the end)."""
    pages = max(math.ceil(len(rows) / per_page), 1)
    page = min(max(page, 1), pages)
    start = (page - 1) * per_page
    return RowsPage(items=rows[start:start + per_page], page=page, per_page=per_page, total=len(rows))


# --- The CSV file ---------------------------------------------------------------------------------------------------

CSV_HEADER = (
    "level", "ward", "scheme", "campaign", "from", "to",
    "leaflets generated", "leaflet copies", "print runs", "print run copies", "copies printed",
    "streets reached", "streets in all", "households covered", "households in all", "households covered %",
    "bulletins sent", "emails delivered", "emails failed", "emails still being sent", "emails not sent (skipped)",
    # Added later, after every column above (admins' scripts read those by name or by place): central print orders
    # beside the copies printed, and what was delivered beside the households printed for ("households covered").
    "central print orders", "central print order copies", "all copies printed",
    "streets delivered", "households delivered", "households delivered %",
)


def _csv_row(level: str, ward: str, scheme: str, report: ReachReport, figures: ReachFigures) -> tuple:
    share = figures.coverage_percent
    delivered_share = figures.delivered_percent
    f = report.filter
    return (
        level, ward, scheme, report.campaign_title, f.date_from.isoformat(), f.date_to.isoformat(),
        figures.leaflets, figures.leaflet_copies, figures.print_runs, figures.print_run_copies, figures.copies,
        figures.streets_reached, figures.streets_all, figures.households_covered, figures.households_all,
        "" if share is None else f"{share:.1f}",
        figures.bulletins_sent, figures.delivered, figures.failed, figures.still_sending, figures.skipped,
        figures.central_orders, figures.central_order_copies, figures.copies_with_central_orders,
        figures.streets_delivered, figures.households_delivered,
        "" if delivered_share is None else f"{delivered_share:.1f}",
    )


def reach_csv_rows(report: ReachReport) -> list[tuple]:
    """The report as CSV rows: the totals, then each ward, then every scheme (those with nothing too)."""
    rows = [_csv_row("all schemes", "", "", report, report.totals)]
    rows += [_csv_row("ward", row.label, "", report, row.figures) for row in report.wards]
    rows += [_csv_row("scheme", row.ward or ("" if row.scheme_id is None else NO_WARD), row.label, report,
                      row.figures) for row in report.schemes]
    return rows


def csv_file_name(f: ReachFilter) -> str:
    """reach-2025-04-01-to-2026-03-31[-campaign-slug].csv"""
    slug = campaign_slug(f.campaign_id) if f.campaign_id is not None else ""
    return f"reach-{f.date_from.isoformat()}-to-{f.date_to.isoformat()}{'-' + slug if slug else ''}.csv"


def export_reach_csv(f: ReachFilter) -> tuple[str, str]:
    """The report as a CSV document (formula cells neutralised) and its file name; the export is audited."""
    report = build_reach_report(f)
    rows = reach_csv_rows(report)
    audit.record(
        EXPORTED,
        None,
        f"reach report exported: {report.campaign_title}, {f.date_from:%d %b %Y} to {f.date_to:%d %b %Y}",
        campaign_id=f.campaign_id,
        date_from=f.date_from.isoformat(),
        date_to=f.date_to.isoformat(),
        rows=len(rows),
    )
    db.session.flush()
    return write_csv(CSV_HEADER, rows), csv_file_name(f)


# --- The filter form ------------------------------------------------------------------------------------------------
# A GET form: it changes nothing, so it carries no CSRF token (like the other admin filters in forms.py).

EVERY_CAMPAIGN = 0
NOT_A_CAMPAIGN = -1


def _campaign_id(value) -> int:
    # Anything that is not a number is no campaign: one clear message instead of WTForms' "could not coerce".
    try:
        return int(value)
    except (TypeError, ValueError):
        return NOT_A_CAMPAIGN


class ReachFilterForm(PeriodMixin, FilterMixin, Form):
    """Choose the campaign and the period of the reach report."""

    campaign = SelectField("Campaign", coerce=_campaign_id, default=EVERY_CAMPAIGN, validate_choice=False)
    date_from = DateField("From (date)", validators=[Optional()], description="For example 2025-04-01")
    date_to = DateField("To (date, included)", validators=[Optional()], description="For example 2026-03-31")
    every_scheme = BooleanField("List every scheme in the table, also those with nothing in the period")

    def __init__(self, formdata, campaign_choices: list[tuple[int, str]]) -> None:
        super().__init__(formdata)
        self.campaign.choices = [(EVERY_CAMPAIGN, "Every campaign"), *campaign_choices]

    def validate_campaign(self, field) -> None:
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError("Choose a campaign from the list")

    def to_filter(self, today: date | None = None) -> ReachFilter:
        """The filter these fields describe; a missing or wrong date falls back to the last 12 months."""
        date_to = self._valid("date_to") or default_period(today)[1]
        date_from = self._valid("date_from")
        if date_from is None or date_from > date_to:
            date_from = _year_before(date_to) + timedelta(days=1)
        return ReachFilter(date_from=date_from, date_to=date_to, campaign_id=self._valid("campaign") or None)

    def filter_args(self) -> dict[str, str]:
        """The valid, non-empty fields as query arguments, for the pager's links and the CSV download."""
        args = {name: self._valid(name).isoformat() for name in ("date_from", "date_to") if self._valid(name)}
        if self._valid("campaign"):
            args["campaign"] = str(self._valid("campaign"))
        if self._valid("every_scheme"):
            args["every_scheme"] = "y"
        return args
