"""Bulk actions on a selection of the coordinators list: invite again, deactivate, reactivate, change role, add, move.

The list posts the ids ticked and the ids that were on the page. An id ticked but not on the page, or one that no
longer exists, means the admin is not acting on what they saw: the whole action is refused before anything changes.
Each change goes through the one-account service (`auth.services`, `schemes.membership`), so it is audited exactly
as it would be from the person's own page, and one more entry records the action as a whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from coordinator import audit
from coordinator.admin.services import PER_PAGE, AccountStatus, AdminError, account_status, resend_invitation
from coordinator.auth.models import Role, User
from coordinator.auth.services import change_role, deactivate_user, reactivate_user
from coordinator.extensions import db
from coordinator.schemes.membership import add_coordinator_to_scheme, remove_coordinator_from_scheme, role_words
from coordinator.schemes.models import CoordinatorRole, Scheme, SchemeCoordinator


@dataclass
class BulkOutcome:
    """What one bulk action did: the accounts it changed and those it left as they were, with why."""

    done: str
    changed: list[User] = field(default_factory=list)
    skipped: list[tuple[User, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One or two sentences for the flash message."""
        left = "; ".join(f"{user.email} {reason}" for user, reason in self.skipped)
        if not self.changed:
            return f"Nothing was changed: {left}."
        text = f"{self.done} ({_count(len(self.changed), 'account')})."
        return f"{text} Left as they were: {left}." if left else text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def selected_accounts(ids: Iterable[int], visible_ids: Iterable[int]) -> list[User]:
    """The accounts ticked on one page of the list, by name; AdminError if any is not on that page or is gone."""
    chosen, visible = set(ids), set(visible_ids)
    if not chosen:
        raise AdminError("Tick at least one person in the list, then choose what to do.")
    if len(visible) > PER_PAGE:
        raise AdminError(
            f"A bulk action works on one page of the list, {PER_PAGE} people at most. Nothing was changed."
        )
    outside = chosen - visible
    if outside:
        raise AdminError(
            f"{_count(len(outside), 'selected account')} {'is' if len(outside) == 1 else 'are'} not on the page "
            "you were looking at. Nothing was changed: tick the people again from the list."
        )
    users = list(db.session.scalars(select(User).where(User.id.in_(chosen)).order_by(func.lower(User.name), User.id)))
    missing = len(chosen) - len(users)
    if missing:
        raise AdminError(
            f"{_count(missing, 'selected account')} no longer {'exists' if missing == 1 else 'exist'}. "
            "Nothing was changed: reload the list and tick the people again."
        )
    return users


def _refuse_own_account(users: list[User], by: User, what: str) -> None:
    if any(user.id == by.id for user in users):
        raise AdminError(
            f"Your own account is ticked: you cannot {what} it. Untick it, or ask another admin. Nothing was changed."
        )


def _scheme_or_refuse(scheme_id: int | None, what: str) -> Scheme:
    scheme = db.session.get(Scheme, scheme_id) if scheme_id else None
    if scheme is None:
        raise AdminError(f"Choose {what}. Nothing was changed.")
    return scheme


def _places_in(scheme: Scheme, users: list[User]) -> dict[int, SchemeCoordinator]:
    stmt = select(SchemeCoordinator).where(
        SchemeCoordinator.scheme_id == scheme.id, SchemeCoordinator.user_id.in_([u.id for u in users])
    )
    return {membership.user_id: membership for membership in db.session.scalars(stmt)}


def _record_bulk(action: str, outcome: BulkOutcome, by: User | None, **details: object) -> BulkOutcome:
    # One entry for the action as a whole, beside the per-account entries: who changed many people at once.
    if outcome.changed:
        audit.record(
            f"users.bulk_{action}",
            None,
            f"{outcome.done} ({_count(len(outcome.changed), 'account')})",
            actor=by,
            user_ids=[user.id for user in outcome.changed],
            skipped_ids=[user.id for user, _reason in outcome.skipped] or None,
            **details,
        )
    db.session.flush()
    return outcome


def bulk_resend_invitations(ids: Iterable[int], visible_ids: Iterable[int], by: User) -> BulkOutcome:
    """Queue a fresh invitation for each ticked account that has not set a password; they go at the commit."""
    users = selected_accounts(ids, visible_ids)
    outcome = BulkOutcome("Invitation sent again")
    for user in users:
        status = account_status(user)
        if status == AccountStatus.INVITED:
            resend_invitation(user, invited_by=by)
            outcome.changed.append(user)
        elif status == AccountStatus.ACTIVE:
            outcome.skipped.append((user, "has already set a password"))
        else:
            outcome.skipped.append((user, "is deactivated"))
    return _record_bulk("invited", outcome, by)


def bulk_deactivate(ids: Iterable[int], visible_ids: Iterable[int], by: User) -> BulkOutcome:
    """Deactivate each ticked account and end its sessions; refused outright if the admin's own account is ticked."""
    users = selected_accounts(ids, visible_ids)
    _refuse_own_account(users, by, "deactivate")
    outcome = BulkOutcome("Deactivated and logged out everywhere")
    for user in users:
        if user.is_active_account:
            deactivate_user(user, by)
            outcome.changed.append(user)
        else:
            outcome.skipped.append((user, "is already deactivated"))
    return _record_bulk("deactivated", outcome, by)


def bulk_reactivate(ids: Iterable[int], visible_ids: Iterable[int], by: User) -> BulkOutcome:
    """Let each ticked, deactivated account log in again."""
    users = selected_accounts(ids, visible_ids)
    outcome = BulkOutcome("Can log in again")
    for user in users:
        if user.is_active_account:
            outcome.skipped.append((user, "is already active"))
        else:
            reactivate_user(user, by)
            outcome.changed.append(user)
    return _record_bulk("reactivated", outcome, by)


def bulk_change_role(ids: Iterable[int], visible_ids: Iterable[int], role: Role, by: User) -> BulkOutcome:
    """Make each ticked account a coordinator or an admin; refused outright if it would demote the admin acting."""
    users = selected_accounts(ids, visible_ids)
    if role != Role.ADMIN:
        _refuse_own_account(users, by, "take the admin role away from")
    words = "an admin" if role == Role.ADMIN else "a coordinator"
    outcome = BulkOutcome(f"Now {'admins' if role == Role.ADMIN else 'coordinators'}")
    for user in users:
        if user.role == role:
            outcome.skipped.append((user, f"is already {words}"))
        else:
            change_role(user, role, by)
            outcome.changed.append(user)
    return _record_bulk("role_changed", outcome, by, role=role.value)


def bulk_add_to_scheme(
    ids: Iterable[int], visible_ids: Iterable[int], scheme_id: int | None, role: CoordinatorRole, by: User
) -> BulkOutcome:
    """Make each ticked account main coordinator or deputy of one scheme (or change their place, if already in it)."""
    users = selected_accounts(ids, visible_ids)
    scheme = _scheme_or_refuse(scheme_id, "the scheme to add them to")
    places = _places_in(scheme, users)
    outcome = BulkOutcome(f"Added to {scheme.name} as {role_words(role)}")
    for user in users:
        place = places.get(user.id)
        if place is not None and place.role == role:
            outcome.skipped.append((user, f"is already the {role_words(role)} of {scheme.name}"))
        else:
            add_coordinator_to_scheme(scheme, user, role)
            outcome.changed.append(user)
    return _record_bulk("added_to_scheme", outcome, by, scheme_id=scheme.id, role=role.value)


def bulk_move_to_scheme(
    ids: Iterable[int],
    visible_ids: Iterable[int],
    from_scheme_id: int | None,
    to_scheme_id: int | None,
    role: CoordinatorRole | None,
    by: User,
) -> BulkOutcome:
    """Take each ticked account off one scheme and put it in another, in the place given or the one it had."""
    users = selected_accounts(ids, visible_ids)
    source = _scheme_or_refuse(from_scheme_id, "the scheme they leave")
    target = _scheme_or_refuse(to_scheme_id, "the scheme they join")
    if source.id == target.id:
        raise AdminError("Choose two different schemes: the one they leave and the one they join. Nothing was changed.")
    old_places, new_places = _places_in(source, users), _places_in(target, users)
    outcome = BulkOutcome(f"Moved from {source.name} to {target.name}")
    for user in users:
        old = old_places.get(user.id)
        if old is None:
            outcome.skipped.append((user, f"is not a coordinator of {source.name}"))
            continue
        new_role = role or old.role
        remove_coordinator_from_scheme(source, user)
        already = new_places.get(user.id)
        if already is None or already.role != new_role:
            add_coordinator_to_scheme(target, user, new_role)
        outcome.changed.append(user)
    return _record_bulk(
        "moved", outcome, by, from_scheme_id=source.id, to_scheme_id=target.id, role=role.value if role else None
    )
