"""The content library as every page and domain reads it: who may see and edit what, what is approved and running,
how fresh a helpline's verification is, what coordinators are offered, and plain data for print and email.

Leaflets and bulletins read content only through this module: `current_campaigns`, `get_version`,
`usable_helplines`, `local_notices_for_scheme` and the plain data under "Plain data for print and email
templates". Changing content is elsewhere: drafting in `drafting.py`, the approval state machine in
`approval.py`, comparing versions for review in `comparison.py`.
"""

from __future__ import annotations

import enum
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from coordinator import audit
from coordinator.auth.models import User
from coordinator.content.models import (
    CampaignVersion,
    ContentImage,
    ContentItem,
    ContentKind,
    ContentVersion,
    HelplineCheck,
    HelplineSetVersion,
    HelplineVersion,
    LocalNoticeVersion,
    VersionState,
)
from coordinator.content.phones import is_police_number
from coordinator.dates import today
from coordinator.extensions import db
from coordinator.schemes.models import Scheme, SchemeCoordinator
from coordinator.settings import get_settings


class ContentError(Exception):
    """A content rule was broken; the message is fit to show."""


class ContentPermissionError(ContentError):
    """The person may not do this to this content."""


# --- Rules the association sets -----------------------------------------------------------------


def review_grace_days() -> int:
    """Days after a helpline's review falls due before it is left out of new leaflets and bulletins."""
    return get_settings().helpline_grace_days


def default_review_interval_months() -> int:
    """The review interval a new helpline gets when none is given."""
    return get_settings().helpline_review_months


# --- Who may do what ----------------------------------------------------------------------------


def is_coordinator_of(user: User, scheme_id: int | None) -> bool:
    """Whether the user coordinates this scheme."""
    if scheme_id is None:
        return False
    return db.session.scalar(
        select(func.count()).select_from(SchemeCoordinator).where(
            SchemeCoordinator.user_id == user.id, SchemeCoordinator.scheme_id == scheme_id
        )
    ) > 0


def can_edit(item: ContentItem, user: User | None) -> bool:
    """Admins edit everything; a coordinator edits only the local notices of their own schemes."""
    if user is None or not user.is_active_account:
        return False
    if user.is_admin:
        return True
    return item.kind == ContentKind.LOCAL_NOTICE and is_coordinator_of(user, item.scheme_id)


def can_see(item: ContentItem, user: User) -> bool:
    """Admins see every item; a coordinator sees approved association content and their schemes' notices."""
    if user.is_admin:
        return True
    if item.kind == ContentKind.LOCAL_NOTICE:
        return is_coordinator_of(user, item.scheme_id)
    return item.current_version is not None


# --- Reading the library ------------------------------------------------------------------------


def get_item(item_id: int) -> ContentItem | None:
    """An item by id, with its versions."""
    return db.session.get(ContentItem, item_id, options=[selectinload(ContentItem.versions)])


def get_version(version_id: int, kind: ContentKind | None = None) -> ContentVersion | None:
    """A version by id, in any state (leaflets and bulletins keep the exact version they used)."""
    version = db.session.get(ContentVersion, version_id)
    if version is None or (kind is not None and version.kind != kind):
        return None
    return version


def find_item(kind: ContentKind, slug: str) -> ContentItem | None:
    """The original item of this kind with this slug (a translation is found through its original)."""
    return db.session.scalar(select(ContentItem).where(
        ContentItem.kind == kind, ContentItem.slug == slug, ContentItem.translation_of_id.is_(None)
    ))


def _items(kind: ContentKind | None = None, scheme_id: int | None = None):
    """Original items: every list, count and offer is of originals; each one's translations hang off it."""
    stmt = (select(ContentItem).options(selectinload(ContentItem.versions))
            .where(ContentItem.translation_of_id.is_(None)).order_by(ContentItem.kind, ContentItem.id))
    if kind is not None:
        stmt = stmt.where(ContentItem.kind == kind)
    if scheme_id is not None:
        stmt = stmt.where(ContentItem.scheme_id == scheme_id)
    return db.session.scalars(stmt).all()


def item_status(item: ContentItem) -> VersionState:
    """The one state that best describes an item: its open version's, else approved, else retired."""
    if item.open_version is not None:
        return item.open_version.state
    if item.current_version is not None:
        return VersionState.APPROVED
    return VersionState.RETIRED


def library_items(kind: ContentKind | None = None, state: VersionState | None = None) -> list[ContentItem]:
    """Every item for the admin library, narrowed by kind and by state (an open version's, or approved/retired)."""
    items = _items(kind)
    if state is None:
        return sorted(items, key=lambda i: (i.kind.value, i.title.lower()))
    if state == VersionState.APPROVED:
        chosen = [i for i in items if i.current_version is not None]
    else:
        chosen = [i for i in items if item_status(i) == state]
    return sorted(chosen, key=lambda i: (i.kind.value, i.title.lower()))


def versions_awaiting_approval() -> list[ContentVersion]:
    """Submitted versions, oldest submission first."""
    return list(db.session.scalars(
        select(ContentVersion).where(ContentVersion.state == VersionState.SUBMITTED).order_by(ContentVersion.submitted_at)
    ))


def helpline_items_for_sets() -> list[ContentItem]:
    """Helplines a set can list: any not wholly retired, by name."""
    items = [i for i in _items(ContentKind.HELPLINE) if i.current_version is not None or i.open_version is not None]
    return sorted(items, key=lambda i: i.title.lower())


# --- Campaign windows ---------------------------------------------------------------------------


class CampaignStatus(enum.StrEnum):
    """Where today falls in a campaign's window."""

    CURRENT = "current"
    UPCOMING = "upcoming"
    ENDED = "ended"


def in_yearly_window(version: CampaignVersion, on: date) -> bool:
    """Whether the day falls in the campaign's yearly window (always, when it has none); it may cross the new year."""
    start, end = version.every_year_from, version.every_year_until
    if not start or not end:
        return True
    day = f"{on.month:02d}-{on.day:02d}"
    if start <= end:
        return start <= day <= end
    return day >= start or day <= end  # "12-20" to "01-06": December's end, then January's start


def runs_on(version: CampaignVersion, on: date) -> bool:
    """Whether the campaign is offered on the day: inside its one-off dates and, if it has one, its yearly window."""
    if version.first_day is not None and on < version.first_day:
        return False
    if version.last_day is not None and on > version.last_day:
        return False
    return in_yearly_window(version, on)


def _month_day_in(year: int, value: str) -> date:
    month, day = (int(part) for part in value.split("-"))
    return date(year, month, min(day, monthrange(year, month)[1]))  # 29 February is the 28th in other years


def next_opening(version: CampaignVersion, on: date | None = None) -> date | None:
    """The first day after `on` on which the campaign starts running again, or None if it never does."""
    on = on or today()
    candidates = []
    if version.first_day is not None and version.first_day > on:
        candidates.append(version.first_day)
    if version.every_year_from:
        candidates += [_month_day_in(year, version.every_year_from) for year in (on.year, on.year + 1, on.year + 2)]
    for day in sorted(d for d in candidates if d > on):
        if runs_on(version, day) and not runs_on(version, day - timedelta(days=1)):
            return day
    return None


def campaign_status(version: CampaignVersion, on: date | None = None) -> CampaignStatus:
    """Current when it runs on the day; upcoming when it opens again later (a yearly window comes back); else ended."""
    on = on or today()
    if runs_on(version, on):
        return CampaignStatus.CURRENT
    if next_opening(version, on) is not None:
        return CampaignStatus.UPCOMING
    return CampaignStatus.ENDED


def opening_day(version: CampaignVersion, on: date | None = None) -> date | None:
    """The day its current run began (for a running campaign), else the day it next opens; None for all year."""
    on = on or today()
    if not runs_on(version, on):
        return next_opening(version, on)
    if version.first_day is None and not version.every_year_from:
        return None
    day = on
    for _ in range(366):  # a yearly window is shorter than a year; a one-off window starts on its first day
        if not runs_on(version, day - timedelta(days=1)):
            return day
        day -= timedelta(days=1)
    return version.first_day


def approved_campaigns() -> list[CampaignVersion]:
    """The approved version of every campaign, by title."""
    versions = [i.current_version for i in _items(ContentKind.CAMPAIGN) if i.current_version is not None]
    return sorted(versions, key=lambda v: v.title.lower())


def current_campaigns(on: date | None = None) -> list[CampaignVersion]:
    """Approved campaigns whose window includes the day: the ones leaflets and bulletins may use."""
    return [v for v in approved_campaigns() if campaign_status(v, on) == CampaignStatus.CURRENT]


def upcoming_campaigns(on: date | None = None) -> list[CampaignVersion]:
    """Approved campaigns whose window has not started, soonest first."""
    upcoming = [v for v in approved_campaigns() if campaign_status(v, on) == CampaignStatus.UPCOMING]
    return sorted(upcoming, key=lambda v: next_opening(v, on))


def running_campaign(slug: str, on: date | None = None) -> CampaignVersion | None:
    """The approved version of the campaign with this slug, if it is running on the day; else None.

    What residents may read on the campaign's public page: never a draft, and nothing before or after its window.
    """
    item = find_item(ContentKind.CAMPAIGN, slug)
    version = item.current_version if item is not None else None
    if version is None or campaign_status(version, on) != CampaignStatus.CURRENT:
        return None
    return version


def campaign_picture(sha256: str) -> ContentImage | None:
    """A picture anyone may load: one of an approved (or since retired) campaign version, never one in review."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        return None
    return db.session.scalar(
        select(ContentImage)
        .join(CampaignVersion, CampaignVersion.image_id == ContentImage.id)
        .where(ContentImage.sha256 == sha256, CampaignVersion.state.in_([VersionState.APPROVED, VersionState.RETIRED]))
        .limit(1)
    )


def public_helpline_sets(on: date | None = None) -> list[dict]:
    """Every approved helpline set with the helplines a leaflet would print today, each number once.

    A number in two sets is listed in the first only, and the police numbers not at all; a set left with
    nothing is dropped. Residents are never told what was left out or why: that is for admins and coordinators.
    """
    shown: set[str] = set()
    sets = []
    for version in approved_helpline_sets():
        helplines = [h for h in helpline_set_data(version, on)["helplines"]
                     if h["tel_href"] not in shown and not is_police_number(h["number"])]
        shown.update(h["tel_href"] for h in helplines)
        if helplines:
            sets.append({"title": version.title, "helplines": helplines})
    return sets


# --- Helpline review ----------------------------------------------------------------------------


class ReviewStatus(enum.StrEnum):
    """How fresh a helpline's verification is."""

    UNVERIFIED = "unverified"
    OK = "ok"
    DUE = "due"
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return {
            "unverified": "verify before use",
            "ok": "verified",
            "due": "review due",
            "overdue": "review overdue",
        }[self.value]


@dataclass(frozen=True)
class HelplineReview:
    """A helpline's verification: the last check of its current number, and when the next is due."""

    status: ReviewStatus
    checked_on: date | None = None
    checked_by: str = ""
    due_on: date | None = None
    left_out_from: date | None = None

    @property
    def is_usable(self) -> bool:
        """Unverified and overdue helplines are left out of new leaflets and bulletins."""
        return self.status in (ReviewStatus.OK, ReviewStatus.DUE)

    @property
    def left_out_reason(self) -> str:
        """Why new outputs leave it out, in a few words (empty when it is usable)."""
        if self.status == ReviewStatus.UNVERIFIED:
            return "not yet verified by an admin: verify before use"
        if self.status == ReviewStatus.OVERDUE:
            return f"review overdue: last verified on {self.checked_on:%-d %B %Y}"
        return ""

    @property
    def message(self) -> str:
        """What a coordinator or admin is told about it."""
        if self.status == ReviewStatus.UNVERIFIED:
            return "Not yet verified by an admin: verify before use. It is left out of new leaflets and bulletins."
        if self.status == ReviewStatus.OK:
            return f"Verified on {self.checked_on:%-d %B %Y} by {self.checked_by}."
        if self.status == ReviewStatus.DUE:
            return (f"Review due since {self.due_on:%-d %B %Y}. Unless an admin verifies it, it is left out of new "
                    f"leaflets and bulletins from {self.left_out_from:%-d %B %Y}.")
        return (f"Review overdue: last verified on {self.checked_on:%-d %B %Y}. It is left out of new leaflets "
                "and bulletins until an admin verifies it.")


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def last_check(item: ContentItem, number: str) -> HelplineCheck | None:
    """The latest check of this helpline while it had this number."""
    checks = [c for c in item.helpline_checks if c.number == number]
    return max(checks, key=lambda c: (c.checked_on, c.id)) if checks else None


def helpline_review(version: HelplineVersion, on: date | None = None) -> HelplineReview:
    """Unverified, ok, due (interval passed) or overdue (grace period passed too)."""
    on = on or today()
    check = last_check(version.item, version.phone_number)
    if check is None:
        return HelplineReview(ReviewStatus.UNVERIFIED)
    due_on = add_months(check.checked_on, version.review_interval_months)
    left_out_from = date.fromordinal(due_on.toordinal() + review_grace_days())
    if on < due_on:
        status = ReviewStatus.OK
    elif on < left_out_from:
        status = ReviewStatus.DUE
    else:
        status = ReviewStatus.OVERDUE
    return HelplineReview(status, check.checked_on, check.checked_by_label, due_on, left_out_from)


def reverify_helpline(item: ContentItem, actor: User, on: date | None = None) -> HelplineCheck:
    """Record that an admin confirmed the helpline's current number and details today."""
    if actor is None or not actor.is_admin or not actor.is_active_account:
        raise ContentPermissionError("Only an admin can verify a helpline.")
    version = item.current_version
    if item.kind != ContentKind.HELPLINE or version is None:
        raise ContentError("Only an approved helpline can be verified.")
    check = HelplineCheck(item=item, number=version.phone_number, checked_on=on or today(), checked_by=actor,
                          checked_by_label=actor.name or actor.email)
    db.session.add(check)
    db.session.flush()
    audit.record("content.helpline_verified", version, f"helpline “{version.title}” ({version.phone_number_shown}) "
                 f"verified", actor=actor, item_id=item.id, number=version.phone_number, checked_on=check.checked_on.isoformat())
    return check


def helplines_needing_review(on: date | None = None) -> list[tuple[HelplineVersion, HelplineReview]]:
    """Approved helplines that are unverified, due or overdue: overdue first, then due, then unverified."""
    order = {ReviewStatus.OVERDUE: 0, ReviewStatus.DUE: 1, ReviewStatus.UNVERIFIED: 2}
    rows = []
    for item in _items(ContentKind.HELPLINE):
        version = item.current_version
        if version is None:
            continue
        review = helpline_review(version, on)
        if review.status != ReviewStatus.OK:
            rows.append((version, review))
    return sorted(rows, key=lambda row: (order[row[1].status], row[0].title.lower()))


@dataclass(frozen=True)
class LeftOutHelpline:
    """A helpline of a set that new outputs must leave out, and why."""

    title: str
    reason: str
    item_id: int


def usable_helplines(
    set_version: HelplineSetVersion, on: date | None = None
) -> tuple[list[HelplineVersion], list[LeftOutHelpline]]:
    """The set's helplines to print or email now (each its current approved version), and those left out with why."""
    usable: list[HelplineVersion] = []
    left_out: list[LeftOutHelpline] = []
    for entry in set_version.entries:
        item = entry.helpline_item
        version = item.current_version
        if version is None:
            left_out.append(LeftOutHelpline(item.title, "no approved version now", item.id))
            continue
        review = helpline_review(version, on)
        if review.is_usable:
            usable.append(version)
        else:
            left_out.append(LeftOutHelpline(version.title, review.left_out_reason, item.id))
    return usable, left_out


# --- What coordinators are offered --------------------------------------------------------------


def approved_helpline_sets() -> list[HelplineSetVersion]:
    """The approved version of every helpline set, by title."""
    versions = [i.current_version for i in _items(ContentKind.HELPLINE_SET) if i.current_version is not None]
    return sorted(versions, key=lambda v: v.title.lower())


def local_notices_for_scheme(scheme: Scheme) -> list[LocalNoticeVersion]:
    """The scheme's approved local notices (never another scheme's), by title."""
    versions = [i.current_version for i in _items(ContentKind.LOCAL_NOTICE, scheme.id) if i.current_version]
    return sorted(versions, key=lambda v: v.title.lower())


def local_notice_items(scheme: Scheme) -> list[ContentItem]:
    """Every local notice of a scheme, in any state, for its coordinators' page."""
    return sorted(_items(ContentKind.LOCAL_NOTICE, scheme.id), key=lambda i: i.title.lower())


# --- Plain data for print and email templates ---------------------------------------------------
# Leaflets and bulletins hand templates these dicts, never ORM objects; the campaign body arrives
# already rendered and passed through the sanitiser's allow-list.


def campaign_data(version: CampaignVersion, top_heading: int = 2) -> dict:
    """A campaign version as plain data: fields, the sanitised body HTML and its Markdown source, the picture."""
    from coordinator.content.fields import web_href
    from coordinator.content.sanitise import render_markdown

    return {
        "version_id": version.id,
        "slug": version.item.slug,
        "title": version.title,
        "summary": version.summary,
        "body_html": render_markdown(version.body, top_heading),
        "body_markdown": version.body,
        "key_messages": list(version.key_messages or []),
        "call_to_action": version.call_to_action,
        "hashtag": version.hashtag,
        "web_address": version.web_address,
        "web_href": web_href(version.web_address),
        "language": version.language,
        "audience_tags": list(version.audience_tags or []),
        "image": {"media_type": version.image.media_type, "data": version.image.data,
                  "width": version.image.width, "height": version.image.height} if version.image else None,
    }


def helpline_data(version: HelplineVersion) -> dict:
    """A helpline version as plain data, with its number as printed and as a tel: link."""
    from coordinator.content.fields import web_href
    from coordinator.content.phones import tel_href

    return {
        "version_id": version.id,
        "name": version.title,
        "number": version.phone_number_shown,
        "tel_href": tel_href(version.phone_number),
        "opening_hours": version.opening_hours,
        "is_24_7": version.is_24_7,
        "who_for": version.who_for,
        "web_address": version.web_address,
        "web_href": web_href(version.web_address),
        "is_free_to_call": version.is_free_to_call,
    }


def helpline_set_data(set_version: HelplineSetVersion, on: date | None = None) -> dict:
    """A helpline set as plain data: the helplines to print now, and those left out with why."""
    usable, left_out = usable_helplines(set_version, on)
    return {
        "version_id": set_version.id,
        "title": set_version.title,
        "helplines": [helpline_data(v) for v in usable],
        "left_out": [{"name": row.title, "reason": row.reason} for row in left_out],
    }


def local_notice_data(version: LocalNoticeVersion) -> dict:
    """A local notice as plain data (its body is plain text: escape it, keep its line breaks)."""
    return {"version_id": version.id, "scheme_id": version.item.scheme_id, "title": version.title,
            "body": version.body}
