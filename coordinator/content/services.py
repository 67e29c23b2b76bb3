"""Content rules: drafting, the one approval state machine, helpline review, and what coordinators are offered.

Every state change goes through `transition()`: it checks the move is allowed from the current
state, checks who may make it (only admins approve; four eyes), stamps who and when, writes the
audit entry `content.<transition>` and queues the submitter's email. Services flush; the view or
command commits, then sends queued mail.

Later work (leaflets, bulletins) reads content only through the functions under "What
coordinators are offered": `current_campaigns`, `get_version`, `usable_helplines`,
`local_notices_for_scheme`.
"""

from __future__ import annotations

import difflib
import enum
import re
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from coordinator import audit
from coordinator.auth.models import Role, User
from coordinator.content.fields import (
    FieldErrors,
    clean_campaign,
    clean_helpline,
    clean_helpline_set,
    clean_local_notice,
)
from coordinator.content.images import CleanImage, ImageError, clean_image
from coordinator.content.models import (
    CampaignVersion,
    ContentImage,
    ContentItem,
    ContentKind,
    ContentVersion,
    HelplineCheck,
    HelplineSetEntry,
    HelplineSetVersion,
    HelplineVersion,
    LocalNoticeVersion,
    VersionState,
)
from coordinator.content.phones import is_police_number
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.links import public_url
from coordinator.mail import queue_mail
from coordinator.schemes.models import Scheme, SchemeCoordinator
from coordinator.settings import get_settings
from coordinator.slugs import unique_slug

LOCAL_TIME = ZoneInfo("Europe/London")
REASON_MAX = 1000

VERSION_CLASSES: dict[ContentKind, type[ContentVersion]] = {
    ContentKind.CAMPAIGN: CampaignVersion,
    ContentKind.HELPLINE: HelplineVersion,
    ContentKind.HELPLINE_SET: HelplineSetVersion,
    ContentKind.LOCAL_NOTICE: LocalNoticeVersion,
}
CLEANERS = {
    ContentKind.CAMPAIGN: clean_campaign,
    ContentKind.HELPLINE: clean_helpline,
    ContentKind.HELPLINE_SET: clean_helpline_set,
    ContentKind.LOCAL_NOTICE: clean_local_notice,
}


class ContentError(Exception):
    """A content rule was broken; the message is fit to show."""


class ContentPermissionError(ContentError):
    """The person may not do this to this content."""


# --- Rules the association sets -----------------------------------------------------------------


def four_eyes_required() -> bool:
    """Whether an admin needs another admin to approve their own submission (while one exists)."""
    return get_settings().is_four_eyes_required


def review_grace_days() -> int:
    """Days after a helpline's review falls due before it is left out of new leaflets and bulletins."""
    return get_settings().helpline_grace_days


def default_review_interval_months() -> int:
    """The review interval a new helpline gets when none is given."""
    return get_settings().helpline_review_months


def today() -> date:
    """Today's date in the association's time zone."""
    return datetime.now(LOCAL_TIME).date()


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


def other_active_admin_exists(user: User) -> bool:
    """Whether an active admin other than this one exists (so four eyes are possible)."""
    return db.session.scalar(
        select(func.count()).select_from(User).where(
            User.role == Role.ADMIN, User.is_active_account.is_(True), User.id != user.id
        )
    ) > 0


# --- The state machine --------------------------------------------------------------------------

S = VersionState
# (from, to) -> the transition's name, used in the audit log as content.<name>.
TRANSITIONS: dict[tuple[VersionState, VersionState], str] = {
    (S.DRAFT, S.SUBMITTED): "submitted",
    (S.SUBMITTED, S.DRAFT): "withdrawn",
    (S.SUBMITTED, S.APPROVED): "approved",
    (S.SUBMITTED, S.CHANGES_REQUESTED): "changes_requested",
    (S.CHANGES_REQUESTED, S.DRAFT): "revised",
    (S.APPROVED, S.RETIRED): "retired",
}
ADMIN_ONLY_TRANSITIONS = frozenset({"approved", "changes_requested"})


def transition(
    version: ContentVersion,
    to_state: VersionState,
    actor: User | None,
    reason: str | None = None,
    *,
    system_label: str | None = None,
) -> ContentVersion:
    """Move a version to `to_state`, if that move is allowed from where it is and for this person.

    `actor` None is the command line acting for the association (`system_label` names it); it may
    only submit, as a content-pack import does.
    """
    name = TRANSITIONS.get((version.state, to_state))
    if name is None:
        raise ContentError(
            f"Version {version.number} of “{version.title}” is {version.state.label}; "
            f"it cannot be made {to_state.label} from there."
        )
    _check_may_make(version, name, actor, system_label)
    reason = (reason or "").strip()
    previous = None
    now = utcnow()
    summary = f"{version.kind.label} “{version.title}” version {version.number} {name.replace('_', ' ')}"
    if name == "submitted":
        version.submitted_by, version.submitted_at = actor, now
    elif name == "approved":
        _check_four_eyes(version, actor)
        previous = version.item.current_version
        version.approved_by, version.approved_at = actor, now
    elif name == "changes_requested":
        if not reason:
            raise ContentError("Say what needs to change, so the person who submitted it knows what to do.")
        if len(reason) > REASON_MAX:
            raise ContentError(f"Keep the reason to {REASON_MAX:,} characters or fewer.")
        version.changes_requested_by, version.changes_requested_at = actor, now
        version.change_request_reason = reason
    elif name == "retired":
        version.retired_at = now
    version.state = to_state
    audit.record(
        f"content.{name}",
        version,
        summary,
        actor=actor,
        actor_label=None if actor is not None else (system_label or "system"),
        item_id=version.item_id,
        kind=version.kind.value,
        number=version.number,
        reason=reason or None,
    )
    if name == "approved" and previous is not None and previous is not version:
        # The newer approval replaces the older one: "current" is always the latest approved version.
        transition(previous, S.RETIRED, actor, reason=f"replaced by version {version.number}")
    if name in ("approved", "changes_requested"):
        _notify_submitter(version, name, actor, reason)
    db.session.flush()
    return version


def _check_may_make(version: ContentVersion, name: str, actor: User | None, system_label: str | None) -> None:
    if actor is None:
        if name == "submitted" and system_label:
            return
        raise ContentPermissionError("Log in to change content.")
    if not actor.is_active_account:
        raise ContentPermissionError("This account is not active.")
    if name in ADMIN_ONLY_TRANSITIONS and not actor.is_admin:
        raise ContentPermissionError("Only an admin can approve content or ask for changes.")
    if name == "retired" and not can_edit(version.item, actor):
        raise ContentPermissionError("Only an admin can retire this content.")
    if name in ("submitted", "withdrawn", "revised") and not can_edit(version.item, actor):
        raise ContentPermissionError("You cannot change this content.")


def _check_four_eyes(version: ContentVersion, approver: User) -> None:
    if four_eyes_required() and version.submitted_by_id == approver.id and other_active_admin_exists(approver):
        raise ContentPermissionError(
            "You submitted this version, so another admin must approve it. Four eyes see everything we print."
        )


def submit_version(version: ContentVersion, actor: User | None, *, system_label: str | None = None) -> ContentVersion:
    """Send a draft for approval."""
    return transition(version, S.SUBMITTED, actor, system_label=system_label)


def withdraw_version(version: ContentVersion, actor: User) -> ContentVersion:
    """Take a submitted version back to draft, to change it before anyone approves it."""
    return transition(version, S.DRAFT, actor)


def approve_version(version: ContentVersion, actor: User) -> ContentVersion:
    """Approve a submitted version; it replaces the item's previously approved one."""
    return transition(version, S.APPROVED, actor)


def request_changes(version: ContentVersion, actor: User, reason: str) -> ContentVersion:
    """Send a submitted version back to its author with the reason."""
    return transition(version, S.CHANGES_REQUESTED, actor, reason=reason)


def decide_version(version: ContentVersion, actor: User, decision: str, reason: str = "") -> ContentVersion:
    """The review form's one call: "approve" or "request_changes" (with a reason)."""
    if decision == "approve":
        return approve_version(version, actor)
    if decision == "request_changes":
        return request_changes(version, actor, reason)
    raise ContentError("Choose whether to approve this version or ask for changes.")


def retire_item(item: ContentItem, actor: User) -> ContentVersion:
    """Stop offering an item: its approved version is retired and nothing replaces it."""
    version = item.current_version
    if version is None:
        raise ContentError(f"“{item.title}” has no approved version to retire.")
    return transition(version, S.RETIRED, actor, reason="retired")


def _notify_submitter(version: ContentVersion, name: str, actor: User | None, reason: str) -> None:
    person = version.submitted_by
    if person is None or not person.is_active_account or (actor is not None and person.id == actor.id):
        return
    template = "content_approved" if name == "approved" else "content_changes_requested"
    queue_mail(
        template,
        person.email,
        template,
        to_name=person.name,
        name=person.name,
        kind_label=version.kind.label,
        title=version.title,
        number=version.number,
        decided_by=actor.name if actor else "An admin",
        reason=reason,
        link=public_url("content.item", item_id=version.item_id),
    )


# --- Drafting -----------------------------------------------------------------------------------


def clean_fields(kind: ContentKind, fields: dict) -> dict:
    """The kind's fields, checked; FieldErrors names each wrong field."""
    if kind == ContentKind.HELPLINE and fields.get("review_interval_months") in (None, ""):
        fields = {**fields, "review_interval_months": default_review_interval_months()}
    return CLEANERS[kind](fields)


def item_slug(kind: ContentKind, title: str) -> str:
    """A slug for a new item of this kind, from its title, that no item of the kind has yet."""
    fallback = kind.value.replace("_", "-")
    return unique_slug(ContentItem.slug, title, ContentItem.kind == kind, max_length=100, fallback=fallback)


def store_image(picture: CleanImage) -> ContentImage:
    """Keep a re-encoded picture once, however many versions use it."""
    image = db.session.scalar(select(ContentImage).where(ContentImage.sha256 == picture.sha256))
    if image is None:
        image = ContentImage(sha256=picture.sha256, media_type=picture.media_type, width=picture.width,
                             height=picture.height, data=picture.data)
        db.session.add(image)
        db.session.flush()
    return image


def _check_may_create(kind: ContentKind, actor: User | None, scheme: Scheme | None) -> None:
    if actor is None or not actor.is_active_account:
        raise ContentPermissionError("Log in to add content.")
    if kind == ContentKind.LOCAL_NOTICE:
        if scheme is None:
            raise ContentError("A local notice belongs to one scheme.")
        if not (actor.is_admin or is_coordinator_of(actor, scheme.id)):
            raise ContentPermissionError("You can only write notices for your own schemes.")
    elif not actor.is_admin:
        raise ContentPermissionError("Only admins add campaigns, helplines and helpline sets.")


def create_item(
    kind: ContentKind,
    fields: dict,
    actor: User | None,
    scheme: Scheme | None = None,
    *,
    slug: str | None = None,
    system_label: str | None = None,
) -> ContentVersion:
    """A new item with its first version as a draft."""
    if system_label is None:
        _check_may_create(kind, actor, scheme)
    cleaned = clean_fields(kind, fields)
    picture = _picture_from(fields)
    item = ContentItem(kind=kind, slug=slug or item_slug(kind, cleaned["title"]), scheme=scheme, created_by=actor)
    version = VERSION_CLASSES[kind](item=item, number=1, state=S.DRAFT, created_by=actor)
    db.session.add(item)
    _apply(version, cleaned, picture, fields)
    db.session.flush()
    audit.record(
        "content.created", version, f"{kind.label} “{version.title}” started", actor=actor,
        actor_label=None if actor is not None else (system_label or "system"), item_id=item.id, kind=kind.value,
    )
    return version


def start_new_version(item: ContentItem, actor: User | None, *, system_label: str | None = None) -> ContentVersion:
    """The version to edit: the open one, or a new draft copied from the approved (or latest) version."""
    if system_label is None and not can_edit(item, actor):
        raise ContentPermissionError("You cannot change this content.")
    if item.open_version is not None:
        return item.open_version
    base = item.current_version or item.latest_version
    number = item.latest_version.number + 1
    version = VERSION_CLASSES[item.kind](item=item, number=number, state=S.DRAFT, created_by=actor)
    db.session.add(version)
    for name in base.FIELDS:
        if name != "helplines":
            setattr(version, name, getattr(base, name))
    if isinstance(base, HelplineSetVersion):
        version.entries = [HelplineSetEntry(position=e.position, helpline_item=e.helpline_item) for e in base.entries]
    db.session.flush()
    audit.record(
        "content.new_version", version, f"{item.kind.label} “{version.title}” version {version.number} started "
        f"from version {base.number}", actor=actor,
        actor_label=None if actor is not None else (system_label or "system"), item_id=item.id,
    )
    return version


def update_version(version: ContentVersion, fields: dict, actor: User | None, *,
                   system_label: str | None = None) -> ContentVersion:
    """Change a draft's fields. Approved and retired versions never change; a submitted one must be withdrawn first."""
    if version.is_settled:
        raise ContentError(
            f"Version {version.number} of “{version.title}” is {version.state.label} and can never change. "
            "Edit the item to start a new version."
        )
    if version.state == S.SUBMITTED:
        raise ContentError(
            f"Version {version.number} of “{version.title}” is awaiting approval. Withdraw it to make changes."
        )
    if system_label is None and not can_edit(version.item, actor):
        raise ContentPermissionError("You cannot change this content.")
    cleaned = clean_fields(version.kind, fields)
    picture = _picture_from(fields)
    if version.state == S.CHANGES_REQUESTED:
        transition(version, S.DRAFT, actor)
    before = version_fields(version)
    _apply(version, cleaned, picture, fields)
    db.session.flush()
    after = version_fields(version)
    changed = [name for name in after if after[name] != before.get(name)]
    if changed:
        audit.record(
            "content.draft_changed", version, f"{version.kind.label} “{version.title}” version {version.number} "
            f"changed: {', '.join(changed)}", actor=actor,
            actor_label=None if actor is not None else (system_label or "system"), item_id=version.item_id,
            fields=changed,
        )
    return version


def edit_item(item: ContentItem, fields: dict, actor: User) -> ContentVersion:
    """The edit form's one call: change the open draft, or start a new draft from the approved version."""
    open_version = item.open_version
    if open_version is not None and open_version.state == S.SUBMITTED:
        raise ContentError(
            f"Version {open_version.number} is awaiting approval. Withdraw it first if you need to change it."
        )
    version = open_version or start_new_version(item, actor)
    return update_version(version, fields, actor)


def _picture_from(fields: dict) -> CleanImage | None:
    upload = fields.get("image_upload")
    if not upload:
        return None
    if isinstance(upload, CleanImage):
        return upload
    try:
        return clean_image(upload, field="Picture")
    except ImageError as exc:
        raise FieldErrors({"image_upload": str(exc)}) from exc


def _apply(version: ContentVersion, cleaned: dict, picture: CleanImage | None, fields: dict) -> None:
    for name, value in cleaned.items():
        if name != "helplines":
            setattr(version, name, value)
    if isinstance(version, CampaignVersion):
        if picture is not None:
            version.image = store_image(picture)
        elif fields.get("remove_image"):
            version.image = None
    if isinstance(version, HelplineSetVersion):
        wanted = [item.id for item in cleaned["helplines"]]
        if [e.helpline_item_id for e in version.entries] != wanted:
            # Empty the list first: the database checks (version, position) and (version, helpline) are unique.
            version.entries.clear()
            db.session.flush()
            version.entries.extend(
                HelplineSetEntry(position=i, helpline_item=item) for i, item in enumerate(cleaned["helplines"], 1)
            )


def version_fields(version: ContentVersion) -> dict:
    """The kind's fields as plain data (helpline sets list their helplines' slugs)."""
    data = {}
    for name in version.FIELDS:
        if name == "helplines":
            data[name] = [e.helpline_item.slug for e in version.entries]
        else:
            data[name] = getattr(version, name)
    return data


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
    """The item of this kind with this slug."""
    return db.session.scalar(select(ContentItem).where(ContentItem.kind == kind, ContentItem.slug == slug))


def _items(kind: ContentKind | None = None, scheme_id: int | None = None):
    stmt = select(ContentItem).options(selectinload(ContentItem.versions)).order_by(ContentItem.kind, ContentItem.id)
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
        return S.APPROVED
    return S.RETIRED


def library_items(kind: ContentKind | None = None, state: VersionState | None = None) -> list[ContentItem]:
    """Every item for the admin library, narrowed by kind and by state (an open version's, or approved/retired)."""
    items = _items(kind)
    if state is None:
        return sorted(items, key=lambda i: (i.kind.value, i.title.lower()))
    if state == S.APPROVED:
        chosen = [i for i in items if i.current_version is not None]
    else:
        chosen = [i for i in items if item_status(i) == state]
    return sorted(chosen, key=lambda i: (i.kind.value, i.title.lower()))


def versions_awaiting_approval() -> list[ContentVersion]:
    """Submitted versions, oldest submission first."""
    return list(db.session.scalars(
        select(ContentVersion).where(ContentVersion.state == S.SUBMITTED).order_by(ContentVersion.submitted_at)
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


def campaign_status(version: CampaignVersion, on: date | None = None) -> CampaignStatus:
    """Current inside the window (an open end has no limit), upcoming before it, ended after it."""
    on = on or today()
    if version.first_day is not None and on < version.first_day:
        return CampaignStatus.UPCOMING
    if version.last_day is not None and on > version.last_day:
        return CampaignStatus.ENDED
    return CampaignStatus.CURRENT


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
    return sorted(upcoming, key=lambda v: v.first_day)


def running_campaign(slug: str, on: date | None = None) -> CampaignVersion | None:
    """The approved version of the campaign with this slug, if it is running on the day; else None.

    What residents may read on the campaign's public page: never a draft, and nothing before or after its window.
    """
    item = find_item(ContentKind.CAMPAIGN, slug)
    version = item.current_version if item is not None else None
    if version is None or campaign_status(version, on) != CampaignStatus.CURRENT:
        return None
    return version


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


# --- Comparing versions for review ---------------------------------------------------------------

FIELD_LABELS = {
    "title": "Title",
    "summary": "Summary",
    "body": "Body",
    "key_messages": "Key messages",
    "call_to_action": "Call to action",
    "hashtag": "Hashtag",
    "web_address": "Web address",
    "first_day": "First day",
    "last_day": "Last day",
    "language": "Language",
    "audience_tags": "Audience tags",
    "image_id": "Picture",
    "phone_number": "Number (stored)",
    "phone_number_shown": "Number as printed",
    "opening_hours": "Opening hours",
    "is_24_7": "Open 24 hours, 7 days",
    "who_for": "Who it is for",
    "is_free_to_call": "Free to call",
    "review_interval_months": "Review interval (months)",
    "helplines": "Helplines, in order",
}


def field_label(kind: ContentKind, name: str) -> str:
    """A field's label in words for this kind."""
    if name == "title":
        return {ContentKind.HELPLINE: "Name", ContentKind.LOCAL_NOTICE: "Heading"}.get(kind, "Title")
    if name == "body" and kind == ContentKind.LOCAL_NOTICE:
        return "Notice"
    return FIELD_LABELS.get(name, name)


def field_text(version: ContentVersion, name: str) -> str:
    """One field as the text a reviewer reads."""
    if name == "helplines":
        return "\n".join(f"{e.position}. {e.helpline_item.title}" for e in version.entries)
    value = getattr(version, name)
    if name == "image_id":
        image = version.image
        return f"picture {image.sha256[:12]} ({image.width} × {image.height})" if image else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return "open" if name in ("first_day", "last_day") else ""
    return str(value)


@dataclass
class FieldChange:
    """One field of a version beside the approved one; segments mark removed and added words."""

    label: str
    old: list[tuple[str, str]] = field(default_factory=list)
    new: list[tuple[str, str]] = field(default_factory=list)
    is_changed: bool = False


_TOKENS = re.compile(r"\s+|[^\s]+")


def compare_versions(old: ContentVersion | None, new: ContentVersion) -> list[FieldChange]:
    """Each field of `new` beside `old`, word by word: ("same"|"del"|"ins", text) segments for the template."""
    changes = []
    for name in new.FIELDS:
        new_text = field_text(new, name)
        old_text = field_text(old, name) if old is not None else ""
        change = FieldChange(field_label(new.kind, name), is_changed=old is not None and old_text != new_text)
        if old is None or old_text == new_text:
            change.old = [("same", old_text)] if old is not None else []
            change.new = [("same", new_text)]
        else:
            a, b = _TOKENS.findall(old_text), _TOKENS.findall(new_text)
            for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
                if op == "equal":
                    change.old.append(("same", "".join(a[i1:i2])))
                    change.new.append(("same", "".join(b[j1:j2])))
                else:
                    if i2 > i1:
                        change.old.append(("del", "".join(a[i1:i2])))
                    if j2 > j1:
                        change.new.append(("ins", "".join(b[j1:j2])))
        changes.append(change)
    return changes


@dataclass(frozen=True)
class ContentSummary:
    """What an admin's dashboard shows about content: versions awaiting approval, helplines to verify."""

    awaiting: list[ContentVersion]
    helplines: list[tuple[HelplineVersion, HelplineReview]]


def dashboard_summary(on: date | None = None) -> ContentSummary:
    """Versions awaiting approval and helplines that are unverified, due or overdue, for the admin dashboard."""
    return ContentSummary(versions_awaiting_approval(), helplines_needing_review(on))


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
