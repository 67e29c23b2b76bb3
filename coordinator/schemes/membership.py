"""Who coordinates a scheme: an admin adds, moves and removes main coordinators and deputies; pages list them.

Every change is audited against the scheme, naming the account it was about.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from coordinator import audit
from coordinator.auth.models import User
from coordinator.auth.services import find_user_by_email
from coordinator.extensions import db
from coordinator.schemes.models import CoordinatorRole, Scheme, SchemeCoordinator
from coordinator.schemes.services import SchemeError


def role_words(role: CoordinatorRole) -> str:
    """"main coordinator" or "deputy coordinator", as sentences name the place."""
    return "main coordinator" if role == CoordinatorRole.MAIN else "deputy coordinator"


def list_coordinators(scheme: Scheme) -> list[SchemeCoordinator]:
    """The scheme's coordinators: main coordinators first, then deputies, each by name."""
    rank = {CoordinatorRole.MAIN: 0, CoordinatorRole.DEPUTY: 1}
    return sorted(scheme.memberships, key=lambda m: (rank.get(m.role, 2), m.user.name.casefold()))


def memberships_by_user(user_ids: list[int]) -> dict[int, list[SchemeCoordinator]]:
    """The schemes of each of these accounts, in one query (for a page of the coordinators list)."""
    result: dict[int, list[SchemeCoordinator]] = {uid: [] for uid in user_ids}
    if not user_ids:
        return result
    stmt = (
        select(SchemeCoordinator)
        .join(SchemeCoordinator.scheme)
        .options(contains_eager(SchemeCoordinator.scheme))
        .where(SchemeCoordinator.user_id.in_(user_ids))
        .order_by(func.lower(Scheme.name))
    )
    for membership in db.session.scalars(stmt):
        result[membership.user_id].append(membership)
    return result


def user_memberships(user: User) -> list[SchemeCoordinator]:
    """The schemes one account coordinates, by scheme name."""
    return memberships_by_user([user.id])[user.id]


def add_coordinator_to_scheme(scheme: Scheme, user: User, role: CoordinatorRole) -> SchemeCoordinator:
    """Make an account main coordinator or deputy of a scheme (or change which, if it already is one)."""
    membership = db.session.scalar(
        select(SchemeCoordinator).where(SchemeCoordinator.scheme_id == scheme.id, SchemeCoordinator.user_id == user.id)
    )
    if membership is not None:
        if membership.role == role:
            raise SchemeError(f"{user.email} is already the {role_words(role)} of {scheme.name}.")
        old = membership.role
        membership.role = role
        audit.record(
            "schemes.coordinator_changed",
            scheme,
            f"{user.email} is now {role_words(role)} of {scheme.name}",
            user_id=user.id,
            old=old.value,
            new=role.value,
        )
        db.session.flush()
        return membership
    membership = SchemeCoordinator(scheme_id=scheme.id, user_id=user.id, role=role)
    db.session.add(membership)
    db.session.flush()
    audit.record(
        "schemes.coordinator_added",
        scheme,
        f"{user.email} added to {scheme.name} as {role_words(role)}",
        user_id=user.id,
        role=role.value,
    )
    return membership


def add_coordinator_by_email(scheme: Scheme, email: str, role: CoordinatorRole) -> SchemeCoordinator:
    """Add the account with this email to a scheme; the account must already exist."""
    user = find_user_by_email(email)
    if user is None:
        raise SchemeError("No account has that email. Invite the coordinator first.")
    return add_coordinator_to_scheme(scheme, user, role)


def remove_coordinator_from_scheme(scheme: Scheme, user: User) -> None:
    """Take an account off a scheme's coordinators."""
    membership = db.session.scalar(
        select(SchemeCoordinator).where(SchemeCoordinator.scheme_id == scheme.id, SchemeCoordinator.user_id == user.id)
    )
    if membership is None:
        raise SchemeError(f"{user.email} is not a coordinator of {scheme.name}.")
    db.session.delete(membership)
    db.session.flush()
    audit.record(
        "schemes.coordinator_removed",
        scheme,
        f"{user.email} removed from {scheme.name}",
        user_id=user.id,
        role=membership.role.value,
    )
