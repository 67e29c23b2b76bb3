"""The campaign calendar: which approved campaigns run in each of the coming months, for the admins' page.

A campaign runs on a day when `services.runs_on` says so (its one-off dates and its yearly window); the calendar
only groups those days into runs, month by month. Campaigns with no dates at all run all year and are listed once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from coordinator.content import services as content
from coordinator.content.fields import month_day_words
from coordinator.content.models import CampaignVersion


@dataclass(frozen=True)
class CalendarRun:
    """One campaign's days within one month."""

    campaign: CampaignVersion
    first: date
    last: date

    @property
    def days(self) -> str:
        """ "1 to 14 February", or "3 February" for a single day."""
        if self.first == self.last:
            return f"{self.first:%-d %B}"
        return f"{self.first:%-d} to {self.last:%-d %B}"


@dataclass
class CalendarMonth:
    """A month and the runs in it, by first day."""

    first: date
    runs: list[CalendarRun] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.first:%B %Y}"


def is_all_year(version: CampaignVersion) -> bool:
    """No one-off dates and no yearly window: offered every day."""
    return version.first_day is None and version.last_day is None and not version.every_year_from


def window_words(version: CampaignVersion) -> str:
    """When the campaign runs, in words: "Every year, 1 February to 14 February", "All year round", ..."""
    parts = []
    if version.every_year_from:
        parts.append(f"every year, {month_day_words(version.every_year_from)} to "
                     f"{month_day_words(version.every_year_until)}")
    if version.first_day and version.last_day:
        parts.append(f"{version.first_day:%-d %B %Y} to {version.last_day:%-d %B %Y}")
    elif version.first_day:
        parts.append(f"from {version.first_day:%-d %B %Y}")
    elif version.last_day:
        parts.append(f"until {version.last_day:%-d %B %Y}")
    text = ", ".join(parts) if parts else "all year round"
    return text[0].upper() + text[1:]


def _month_starts(start: date, months: int) -> list[date]:
    firsts, year, month = [], start.year, start.month
    for _ in range(months):
        firsts.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return firsts


def campaign_calendar(start: date | None = None, months: int = 12) -> tuple[list[CalendarMonth], list[CampaignVersion]]:
    """The coming `months` months from `start`'s month with each dated campaign's runs, and the all-year campaigns."""
    start = start or content.today()
    campaigns = content.approved_campaigns()
    dated = [v for v in campaigns if not is_all_year(v)]
    calendar = []
    for first in _month_starts(start, months):
        month = CalendarMonth(first)
        next_month = (first + timedelta(days=32)).replace(day=1)
        for version in dated:
            run_start = None
            day = first
            while day < next_month:
                if content.runs_on(version, day):
                    run_start = run_start or day
                elif run_start is not None:
                    month.runs.append(CalendarRun(version, run_start, day - timedelta(days=1)))
                    run_start = None
                day += timedelta(days=1)
            if run_start is not None:
                month.runs.append(CalendarRun(version, run_start, next_month - timedelta(days=1)))
        month.runs.sort(key=lambda run: (run.first, run.campaign.title.lower()))
        calendar.append(month)
    return calendar, [v for v in campaigns if is_all_year(v)]
