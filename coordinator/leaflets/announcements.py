"""Tell the coordinators: when a campaign opens, each active coordinator gets one email linking to their schemes'
builder for it, or a weekly digest, or nothing, as their account says (`User.campaign_emails`).

A campaign opens on the first day of its window (a one-off first day, or each year's first day of a yearly
window); one with no dates opens on the day its first version is approved. The sweep asks for
`announce_campaign` on that day, from CAMPAIGN_EMAIL_HOUR (UK time, 7 by default, so nobody is emailed at midnight;
24 turns the emails off), and on Mondays for `send_weekly_digest` of the campaigns that opened in the seven days
before. The messages go through the transactional outbox (coordinator/mail.py), which sends them in the
background; every announcement is audited.

Safe to run twice and from two workers at once: the `CampaignAnnouncement` row for the opening (or the week) is
flushed before any message is queued, in the same transaction, and its unique claim lets only one go on.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from coordinator import audit, jobs
from coordinator.auth.models import User
from coordinator.auth.services import CAMPAIGN_EMAILS_EACH as EACH
from coordinator.auth.services import CAMPAIGN_EMAILS_WEEKLY as WEEKLY
from coordinator.content import services as content
from coordinator.content.models import CampaignVersion, VersionState
from coordinator.dates import LOCAL_TIME
from coordinator.extensions import db
from coordinator.leaflets.models import CampaignAnnouncement
from coordinator.links import public_url
from coordinator.mail import queue_mail
from coordinator.schemes.models import Scheme, SchemeCoordinator

DEFAULT_ANNOUNCE_HOUR = 7


def _local_now() -> datetime:
    return datetime.now(LOCAL_TIME)


def opens_on(version: CampaignVersion, on: date) -> bool:
    """Whether the campaign opens on the day: its run begins then, or (with no dates) its first approval was then."""
    if not content.runs_on(version, on):
        return False
    if version.first_day is None and not version.every_year_from:
        approvals = [v.approved_at for v in version.item.versions
                     if v.approved_at is not None and v.state in (VersionState.APPROVED, VersionState.RETIRED)]
        return bool(approvals) and min(approvals).astimezone(LOCAL_TIME).date() == on
    return not content.runs_on(version, on - timedelta(days=1))


def _claim(claim: str, on: date, version: CampaignVersion | None = None) -> CampaignAnnouncement | None:
    row = CampaignAnnouncement(claim=claim, announced_on=on, campaign_item_id=version.item_id if version else None,
                               campaign_version_id=version.id if version else None)
    db.session.add(row)
    try:
        db.session.flush()  # claims the announcement before any message is written
    except IntegrityError:  # claimed already, here or by another worker
        db.session.rollback()
        return None
    return row


def _is_claimed(claim: str) -> bool:
    return db.session.scalar(select(CampaignAnnouncement.id).where(CampaignAnnouncement.claim == claim)) is not None


def coordinators_choosing(choice: str) -> list[tuple[User, list[Scheme]]]:
    """Active accounts that coordinate a scheme and chose these emails, each with their schemes, by id."""
    rows = db.session.execute(
        select(User, Scheme).join(SchemeCoordinator, SchemeCoordinator.user_id == User.id)
        .join(Scheme, Scheme.id == SchemeCoordinator.scheme_id)
        .where(User.is_active_account.is_(True), User.campaign_emails == choice)
        .order_by(User.id, Scheme.name)
    )
    people: dict[int, tuple[User, list[Scheme]]] = {}
    for user, scheme in rows:
        people.setdefault(user.id, (user, []))[1].append(scheme)
    return list(people.values())


def builder_links(schemes: list[Scheme], campaign: CampaignVersion) -> list[tuple[str, str]]:
    """(scheme name, the address of its builder with this campaign chosen) for each scheme."""
    return [(scheme.name, public_url("leaflets.build", scheme_id=scheme.id, campaign=campaign.item.slug))
            for scheme in schemes]


@jobs.job
def announce_campaign(campaign_item_id: int, on_text: str) -> int:
    """Email every coordinator who asked for each campaign that this one opened today; return messages queued."""
    on = date.fromisoformat(on_text)
    item = content.get_item(campaign_item_id)
    version = item.current_version if item is not None else None
    if version is None or not isinstance(version, CampaignVersion) or not opens_on(version, on):
        return 0
    announcement = _claim(f"opening:{item.id}:{on.isoformat()}", on, version)
    if announcement is None:
        return 0
    people = coordinators_choosing(EACH)
    for user, schemes in people:
        queue_mail("campaign_opened", user.email, "campaign_opened", to_name=user.name, name=user.name or user.email,
                   campaign=content.campaign_data(version), links=builder_links(schemes, version),
                   window=_window_words(version), account_link=public_url("auth.profile"))
    announcement.recipients = len(people)
    audit.record("leaflets.campaign_announced", version,
                 f"campaign “{version.title}” opened: emailed to {len(people)} coordinator(s)",
                 actor_label="system", opened_on=on.isoformat(), recipients=len(people))
    db.session.commit()
    return len(people)


@jobs.job
def send_weekly_digest(monday_text: str) -> int:
    """Email every coordinator who asked for a weekly digest the campaigns that opened in the week before Monday."""
    monday = date.fromisoformat(monday_text)
    opened = _opened_between(monday - timedelta(days=7), monday - timedelta(days=1))
    announcement = _claim(f"digest:{monday.isoformat()}", monday)
    if announcement is None:
        return 0
    people = coordinators_choosing(WEEKLY) if opened else []
    for user, schemes in people:
        queue_mail("campaign_digest", user.email, "campaign_digest", to_name=user.name, name=user.name or user.email,
                   campaigns=[(content.campaign_data(v), builder_links(schemes, v), _window_words(v)) for v in opened],
                   monday=monday, account_link=public_url("auth.profile"))
    announcement.recipients = len(people)
    if people:
        audit.record("leaflets.campaign_digest_sent", None,
                     f"weekly campaign digest: {len(opened)} campaign(s), emailed to {len(people)} coordinator(s)",
                     actor_label="system", week_of=monday.isoformat(), campaigns=[v.id for v in opened],
                     recipients=len(people))
    db.session.commit()
    return len(people)


def _opened_between(first: date, last: date) -> list[CampaignVersion]:
    """Approved campaigns, still running on `last`, that opened on a day from `first` to `last`."""
    found = []
    for version in content.approved_campaigns():
        day = first
        while day <= last:
            if opens_on(version, day) and content.runs_on(version, last):
                found.append(version)
                break
            day += timedelta(days=1)
    return found


def _window_words(version: CampaignVersion) -> str:
    from coordinator.content.calendar import window_words

    return window_words(version)


def announce_hour() -> int:
    """The UK hour from which the day's campaign emails go (CAMPAIGN_EMAIL_HOUR; 24: never)."""
    return int(current_app.config.get("CAMPAIGN_EMAIL_HOUR", DEFAULT_ANNOUNCE_HOUR))


@jobs.register_sweeper
def announcements_due() -> list[tuple[jobs.Job, tuple]]:
    """Sweeper: today's openings not yet announced, and on Mondays the digest of a week that had any, after the hour."""
    now = _local_now()
    if now.hour < announce_hour():
        return []
    on = now.date()
    wanted: list[tuple[jobs.Job, tuple]] = []
    for version in content.approved_campaigns():
        if opens_on(version, on) and not _is_claimed(f"opening:{version.item_id}:{on.isoformat()}"):
            wanted.append((announce_campaign, (version.item_id, on.isoformat())))
    if on.weekday() == 0 and not _is_claimed(f"digest:{on.isoformat()}") \
            and _opened_between(on - timedelta(days=7), on - timedelta(days=1)):
        wanted.append((send_weekly_digest, (on.isoformat(),)))
    return wanted
