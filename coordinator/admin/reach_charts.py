"""The reach report's charts: horizontal bar charts of households printed for and delivered to, copies printed and
bulletins delivered.

Charts are drawn on the server as inline SVG, so they need no script and no stylesheet: sizes and colours are SVG
presentation attributes (the CSP allows no inline style). The SVG has no viewBox: its units are CSS pixels, so its
text grows with the browser's zoom like the page's own text, while bar lengths are percentages of the chart's
width, so the chart fills its column at any zoom. Bars take at most BAR_AREA per cent of the width; the value is
written just after each bar, in the space left.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from coordinator.admin.reach import NO_SCHEME, ReachReport, ReachRow, format_percent

BAR_AREA = 62.0
LABEL_MAX = 40
TEXT_COLOUR = "#0b0c0c"
# Each against the white page: 10.5:1, 6.2:1 and 7.1:1, well over the 3:1 that a bar needs (WCAG 1.4.11).
TONES = {"primary": "#1d3f72", "good": "#00703c", "bad": "#b10e1e"}
TRACK_COLOUR = "#dee0e2"  # the unfilled rest of a share: decorative, the value is written beside it
LABEL_HEIGHT = 24
BAR_HEIGHT = 22
BAR_GAP = 8
GROUP_GAP = 14


@dataclass(frozen=True)
class Bar:
    """One bar: its value, its length as a percentage of the chart's width, and the words written after it."""

    value: float
    width: float
    text: str
    tone: str
    y: int = 0
    has_track: bool = False

    @property
    def fill(self) -> str:
        return TONES[self.tone]


@dataclass(frozen=True)
class BarGroup:
    """One labelled row of a chart: a ward or a scheme with one or more bars."""

    label: str
    bars: tuple[Bar, ...]
    summary: str
    y: int = 0

    @property
    def short_label(self) -> str:
        """The label as the chart writes it: long names are cut (the tables and the description have them whole)."""
        return self.label if len(self.label) <= LABEL_MAX else self.label[: LABEL_MAX - 1].rstrip() + "…"


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart: a title (its accessible name), a description that reads every value, the rows."""

    key: str
    title: str
    description: str
    groups: tuple[BarGroup, ...]
    height: int
    text_colour: str = TEXT_COLOUR
    track_colour: str = TRACK_COLOUR
    track_width: float = BAR_AREA
    bar_height: int = BAR_HEIGHT


def _width(value: float, largest: float) -> float:
    if largest <= 0 or value <= 0:
        return 0.0
    return round(BAR_AREA * min(value / largest, 1.0), 2)


def _chart(key: str, title: str, intro: str, rows: Iterable[tuple[str, list[Bar], str]]) -> BarChart:
    """Lay the rows out from the top: each label, then its bars, then a gap."""
    groups: list[BarGroup] = []
    y = 0
    for label, bars, summary in rows:
        top = y
        y += LABEL_HEIGHT
        placed = []
        for bar in bars:
            placed.append(Bar(bar.value, bar.width, bar.text, bar.tone, y=y, has_track=bar.has_track))
            y += BAR_HEIGHT + BAR_GAP
        groups.append(BarGroup(label, tuple(placed), summary, y=top))
        y += GROUP_GAP - BAR_GAP
    description = intro + " " + " ".join(group.summary for group in groups) if groups else intro + " No rows."
    return BarChart(key, title, description.strip(), tuple(groups), height=max(y, LABEL_HEIGHT))


def coverage_chart(rows: list[ReachRow], title: str, key: str) -> BarChart:
    """Households printed for and delivered to in each row, each a share of the row's households (a full bar is 100%).

    Two bars a row, as the tables have two columns: leaflets printed but not delivered yet show as a gap between them.
    Each bar's value is the share alone, which fits after the bar on a 320-pixel phone; the title says which bar is
    which (upper, lower), and the description reads both in words.
    """
    def bars(row: ReachRow) -> tuple[str, list[Bar], str]:
        n = row.figures
        printed, delivered = format_percent(n.coverage_percent), format_percent(n.delivered_percent)
        pair = [
            Bar(n.coverage_percent or 0.0, _width(n.coverage_percent or 0.0, 100.0), printed,
                "primary", has_track=True),
            Bar(n.delivered_percent or 0.0, _width(n.delivered_percent or 0.0, 100.0), delivered,
                "good", has_track=True),
        ]
        summary = (f"{row.label}: printed for {n.households_covered:,} of {n.households_all:,} households "
                   f"({printed}), delivered to {n.households_delivered:,} ({delivered}).")
        return row.label, pair, summary

    return _chart(key, title, "Bar chart; each row has two bars, households printed for and households delivered "
                  "to, each a share: a full bar is 100%.", (bars(r) for r in rows))


def copies_chart(rows: list[ReachRow], title: str, key: str) -> BarChart:
    """Copies printed in each row, the longest bar being the largest number."""
    largest = max((row.figures.copies for row in rows), default=0)

    def bars(row: ReachRow) -> tuple[str, list[Bar], str]:
        copies = row.figures.copies
        text = f"{copies:,} {'copy' if copies == 1 else 'copies'}"
        return row.label, [Bar(copies, _width(copies, largest), text, "primary")], f"{row.label}: {text}."

    return _chart(key, title, "Bar chart of copies printed.", (bars(r) for r in rows))


def bulletins_chart(rows: list[ReachRow], title: str, key: str) -> BarChart:
    """Bulletin copies delivered and failed in each row, on one scale so the two can be compared."""
    largest = max((max(row.figures.delivered, row.figures.failed) for row in rows), default=0)

    def bars(row: ReachRow) -> tuple[str, list[Bar], str]:
        delivered, failed = row.figures.delivered, row.figures.failed
        pair = [
            Bar(delivered, _width(delivered, largest), f"{delivered:,} delivered", "good"),
            Bar(failed, _width(failed, largest), f"{failed:,} failed", "bad"),
        ]
        return row.label, pair, f"{row.label}: {delivered:,} delivered, {failed:,} failed."

    return _chart(key, title, "Bar chart of bulletin emails delivered and failed, two bars each.",
                  (bars(r) for r in rows))


TOP_SCHEMES = 10


def top_schemes_chart(report: ReachReport) -> BarChart:
    """The schemes whose leaflets were printed for the most households, their bars as shares of their own households."""
    reached = [row for row in report.schemes if row.scheme_id is not None and row.figures.households_covered]
    reached.sort(key=lambda row: (-row.figures.households_covered, row.label.lower()))
    return coverage_chart(
        reached[:TOP_SCHEMES],
        f"The {TOP_SCHEMES} schemes printed for the most households: the share of each scheme's households printed "
        "for (upper bar) and delivered to (lower bar)",
        "chart-top-schemes",
    )


def ward_charts(report: ReachReport) -> list[BarChart]:
    """The three charts of the wards: households printed for and delivered to, copies printed, bulletins delivered
    and failed."""
    wards = [row for row in report.wards if row.label != NO_SCHEME]
    with_orphans = report.wards
    return [
        coverage_chart(wards, "Households printed for (upper bar) and delivered to (lower bar) in each ward, as a "
                       "share of the ward's households", "chart-ward-households"),
        copies_chart(with_orphans, "Copies printed for each ward", "chart-ward-copies"),
        bulletins_chart(wards, "Bulletin emails delivered and failed in each ward", "chart-ward-bulletins"),
    ]
