"""What the admin home page shows: the figures, accounts still to set a password, content awaiting a decision, and
the latest activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select

from coordinator.audit.models import AuditEntry
from coordinator.audit.services import AuditFilter, audit_query
from coordinator.auth.models import Role, User
from coordinator.content.models import ContentVersion, HelplineVersion
from coordinator.content.services import (
    HelplineReview,
    helplines_needing_review,
    versions_awaiting_approval,
)
from coordinator.extensions import db
from coordinator.schemes.models import Scheme, Street

SETTINGS_CHANGED = "settings.changed"  # the action coordinator.settings records


@dataclass
class DashboardCounts:
    """The figures on the admin home page."""

    coordinators_active: int
    coordinators_invited: int
    coordinators_deactivated: int
    admins: int
    schemes: int
    streets: int
    households: int


def dashboard_counts() -> DashboardCounts:
    """Counts of coordinators by status, schemes, streets and households, in three queries."""
    is_coordinator = User.role == Role.COORDINATOR

    def how_many(condition) -> object:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    people = db.session.execute(
        select(
            how_many(is_coordinator & User.is_active_account & User.password_hash.is_not(None)),
            how_many(is_coordinator & User.is_active_account & User.password_hash.is_(None)),
            how_many(is_coordinator & ~User.is_active_account),
            how_many(User.role == Role.ADMIN),
        )
    ).one()
    streets, households = db.session.execute(
        select(func.count(Street.id), func.coalesce(func.sum(Street.households), 0))
    ).one()
    schemes = db.session.scalar(select(func.count(Scheme.id)))
    return DashboardCounts(
        coordinators_active=int(people[0]),
        coordinators_invited=int(people[1]),
        coordinators_deactivated=int(people[2]),
        admins=int(people[3]),
        schemes=int(schemes or 0),
        streets=int(streets or 0),
        households=int(households or 0),
    )


def invited_not_active(limit: int = 20) -> list[User]:
    """Accounts invited but still without a password, longest waiting first."""
    stmt = (
        select(User)
        .where(User.is_active_account, User.password_hash.is_(None))
        .order_by(User.invited_at.asc().nulls_last(), User.id.asc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def recent_activity(limit: int = 10) -> list[AuditEntry]:
    """The latest audit entries, newest first."""
    return list(db.session.scalars(audit_query(AuditFilter()).limit(limit)))


def settings_history(limit: int = 5) -> list[AuditEntry]:
    """The latest changes to the association's settings, newest first."""
    return list(db.session.scalars(audit_query(AuditFilter(action=SETTINGS_CHANGED)).limit(limit)))


@dataclass(frozen=True)
class ContentSummary:
    """What an admin's dashboard shows about content: versions awaiting approval, helplines to verify."""

    awaiting: list[ContentVersion]
    helplines: list[tuple[HelplineVersion, HelplineReview]]


def content_summary(on: date | None = None) -> ContentSummary:
    """Versions awaiting approval and helplines that are unverified, due or overdue, for the admin dashboard."""
    return ContentSummary(versions_awaiting_approval(), helplines_needing_review(on))
