"""The coordinators list as admins see it, and inviting a coordinator (or inviting them again)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select

from coordinator.auth.models import Role, User
from coordinator.auth.services import AccountError, create_user, invite_user
from coordinator.csvfiles import looks_like_formula
from coordinator.extensions import db
from coordinator.schemes.membership import add_coordinator_to_scheme
from coordinator.schemes.models import CoordinatorRole, Scheme, SchemeCoordinator

PER_PAGE = 50
NAME_MAX = 120


class AdminError(Exception):
    """An admin rule was broken; the message is fit to show."""


class AccountStatus(enum.StrEnum):
    """Where an account stands, as admins see it."""

    ACTIVE = "active"
    INVITED = "invited"
    DEACTIVATED = "deactivated"


def account_status(user: User) -> AccountStatus:
    """Active (has a password), invited (no password yet) or deactivated."""
    if not user.is_active_account:
        return AccountStatus.DEACTIVATED
    return AccountStatus.ACTIVE if user.has_password else AccountStatus.INVITED


# --- Coordinators -------------------------------------------------------------------------------


@dataclass
class UserFilter:
    """What an admin narrows the coordinators list by."""

    search: str = ""
    role: str = ""
    status: str = ""
    scheme_id: int | None = None
    ward: str = ""


def users_query(f: UserFilter) -> Select:
    """Accounts matching the filter, by name."""
    stmt = select(User).order_by(func.lower(User.name), User.id)
    term = f.search.strip().lower()
    if term:
        stmt = stmt.where(
            or_(func.lower(User.name).contains(term, autoescape=True),
                func.lower(User.email).contains(term, autoescape=True))
        )
    if f.role in {r.value for r in Role}:
        stmt = stmt.where(User.role == Role(f.role))
    if f.status == AccountStatus.ACTIVE:
        stmt = stmt.where(User.is_active_account, User.password_hash.is_not(None))
    elif f.status == AccountStatus.INVITED:
        stmt = stmt.where(User.is_active_account, User.password_hash.is_(None))
    elif f.status == AccountStatus.DEACTIVATED:
        stmt = stmt.where(~User.is_active_account)
    if f.scheme_id:
        in_scheme = select(SchemeCoordinator.user_id).where(SchemeCoordinator.scheme_id == f.scheme_id)
        stmt = stmt.where(User.id.in_(in_scheme))
    if f.ward:
        in_ward = (
            select(SchemeCoordinator.user_id)
            .join(Scheme, Scheme.id == SchemeCoordinator.scheme_id)
            .where(Scheme.ward == f.ward)
        )
        stmt = stmt.where(User.id.in_(in_ward))
    return stmt


def schemes_held(memberships: dict[int, list[SchemeCoordinator]]) -> list[tuple[int, str]]:
    """(id, name) of every scheme in these memberships, once each, by name (from `memberships_by_user`)."""
    schemes = {m.scheme_id: m.scheme.name for places in memberships.values() for m in places}
    return sorted(schemes.items(), key=lambda pair: (pair[1].lower(), pair[0]))


def scheme_choices() -> list[tuple[int, str]]:
    """(id, name) of every scheme, by name, for select boxes."""
    stmt = select(Scheme.id, Scheme.name).order_by(func.lower(Scheme.name))
    return [(scheme_id, name) for scheme_id, name in db.session.execute(stmt)]


def ward_choices() -> list[str]:
    """Every ward or area named on a scheme, alphabetically, for the coordinators filter."""
    stmt = select(Scheme.ward).where(Scheme.ward != "").distinct().order_by(Scheme.ward)
    return list(db.session.scalars(stmt))


def check_person_name(name: str) -> None:
    """Refuse an empty, overlong or formula-looking name."""
    if not name.strip():
        raise AdminError("Enter the coordinator's name.")
    if len(name.strip()) > NAME_MAX:
        raise AdminError(f"The name is longer than {NAME_MAX} characters.")
    if looks_like_formula(name.strip()):
        raise AdminError("The name starts with =, +, - or @: type the name as it is written, without a formula.")


def invite_coordinator(
    email: str,
    name: str,
    scheme: Scheme | None = None,
    scheme_role: CoordinatorRole = CoordinatorRole.MAIN,
    invited_by: User | None = None,
) -> User:
    """Create a coordinator account, add it to a scheme if one is given, and queue the invitation email."""
    check_person_name(name)
    try:
        user = create_user(email, name, Role.COORDINATOR)
    except AccountError as exc:
        raise AdminError(str(exc)) from exc
    if scheme is not None:
        add_coordinator_to_scheme(scheme, user, scheme_role)
    invite_user(user, invited_by=invited_by)
    return user


def resend_invitation(user: User, invited_by: User | None = None) -> None:
    """Queue a fresh invitation for an account that has not yet set a password."""
    if not user.is_active_account:
        raise AdminError(f"{user.email} is deactivated. Reactivate the account before sending an invitation.")
    if user.has_password:
        raise AdminError(
            f"{user.email} has already set a password. They can use 'Forgotten your password?' on the log-in page."
        )
    invite_user(user, invited_by=invited_by)
