"""The association's admin rules: inviting and managing coordinators, bulk actions, import, the audit log."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import Select, case, func, or_, select

from coordinator import audit
from coordinator.audit.models import AuditEntry
from coordinator.audit.services import AuditFilter, audit_query
from coordinator.auth.models import Role, User
from coordinator.auth.services import (
    AccountError,
    change_role,
    create_user,
    deactivate_user,
    invite_user,
    normalise_email,
    reactivate_user,
)
from coordinator.csvfiles import CSVFileError, ImportLine, ImportReport, looks_like_formula, read_csv
from coordinator.extensions import db
from coordinator.schemes.membership import add_coordinator_to_scheme, remove_coordinator_from_scheme, role_words
from coordinator.schemes.models import CoordinatorRole, Scheme, SchemeCoordinator, Street

PER_PAGE = 50
SETTINGS_CHANGED = "settings.changed"  # the action coordinator.settings records
IMPORT_COLUMNS = ("email", "name", "scheme", "role")
NAME_MAX = 120
EMAIL_MAX = 254


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


# --- Dashboard ----------------------------------------------------------------------------------


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


# --- Bulk actions on a selection of the coordinators list ---------------------------------------
#
# The list posts the ids ticked and the ids that were on the page. An id ticked but not on the page,
# or one that no longer exists, means the admin is not acting on what they saw: the whole action is
# refused before anything changes. Each change goes through the one-account service above, so it is
# audited exactly as it would be from the person's own page.


@dataclass
class BulkOutcome:
    """What one bulk action did: the accounts it changed and those it left as they were, with why."""

    done: str
    changed: list[User] = field(default_factory=list)
    skipped: list[tuple[User, str]] = field(default_factory=list)
    has_queued_mail: bool = False

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
    """Queue a fresh invitation for each ticked account that has not set a password; the caller sends after commit."""
    users = selected_accounts(ids, visible_ids)
    outcome = BulkOutcome("Invitation sent again")
    for user in users:
        status = account_status(user)
        if status == AccountStatus.INVITED:
            resend_invitation(user, invited_by=by)
            outcome.changed.append(user)
            outcome.has_queued_mail = True
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


# --- Bulk import of coordinators ----------------------------------------------------------------


@dataclass
class ImportRow(ImportLine):
    """One line of a coordinators file and what is wrong with it, if anything."""

    email: str
    name: str
    scheme: str
    role: str

    @property
    def label(self) -> str:
        return self.email or "(no email)"


@dataclass
class CoordinatorImportReport(ImportReport[ImportRow]):
    """The row-by-row outcome of one coordinators import: either every row went in, or none did."""

    accounts_created: int = 0
    memberships_created: int = 0
    invitations_queued: int = 0

    def imported_summary(self) -> str:
        return (
            f"Imported {self.accounts_created} coordinator{'s' if self.accounts_created != 1 else ''} "
            f"and {self.memberships_created} scheme place{'s' if self.memberships_created != 1 else ''}; "
            f"{self.invitations_queued} invitation{'s' if self.invitations_queued != 1 else ''} queued."
        )


def import_coordinators(data: bytes, actor: User | None, send_invitations: bool = True) -> CoordinatorImportReport:
    """Check every row of a coordinators CSV and, only if all are good, create the accounts and memberships.

    The caller commits when `report.ok`, then calls `send_queued_mail_later()`; otherwise nothing was added.
    """
    report = CoordinatorImportReport()
    try:
        csv_rows = read_csv(data, IMPORT_COLUMNS, current_app.config["CSV_MAX_BYTES"])
    except CSVFileError as exc:
        report.file_problems.append(str(exc))
        return report
    if not csv_rows:
        report.file_problems.append("The file has a header but no coordinators under it.")
        return report

    # Everything the rows are checked against is read once, so 600 rows cost a handful of queries.
    existing_emails = {normalise_email(email) for email in db.session.scalars(select(User.email))}
    all_schemes = list(db.session.scalars(select(Scheme)))
    schemes_by_key = {scheme.slug.lower(): scheme for scheme in all_schemes}
    # A scheme's name wins over another scheme's identical slug.
    schemes_by_key.update({scheme.name.strip().lower(): scheme for scheme in all_schemes})

    first_line_for_pair: dict[tuple[str, int], int] = {}
    first_name_for: dict[str, tuple[str, int]] = {}
    accepted: list[tuple[ImportRow, str, Scheme, CoordinatorRole]] = []
    for csv_row in csv_rows:
        values = csv_row.values
        row = ImportRow(
            line=csv_row.line,
            email=values.get("email", ""),
            name=values.get("name", ""),
            scheme=values.get("scheme", ""),
            role=values.get("role", ""),
        )
        report.rows.append(row)
        if csv_row.has_extra_cells:
            row.problems.append("This row has more cells than the header has columns.")
        email = _check_import_email(row, existing_emails)
        try:
            check_person_name(row.name)
        except AdminError as exc:
            row.problems.append(str(exc))
        scheme = _check_import_scheme(row, schemes_by_key)
        role = _check_import_role(row)

        # Duplicates within the file: the same person twice in one scheme, or one email with two names.
        if email:
            key = normalise_email(email)
            earlier_name, earlier_line = first_name_for.setdefault(key, (row.name.strip(), row.line))
            if earlier_name != row.name.strip():
                row.problems.append(f"Line {earlier_line} gives this email a different name.")
            if scheme is not None:
                first_line = first_line_for_pair.setdefault((key, scheme.id), row.line)
                if first_line != row.line:
                    row.problems.append(f"Line {first_line} already adds this email to this scheme.")

        if row.is_ok:
            accepted.append((row, email, scheme, role))

    if report.ok:
        _create_imported(report, accepted, actor, send_invitations)
    return report


def _check_import_email(row: ImportRow, existing_emails: set[str]) -> str:
    """The row's email in normal form, or "" after noting what is wrong with it."""
    if not row.email:
        row.problems.append("The email is missing.")
        return ""
    if len(row.email) > EMAIL_MAX:
        row.problems.append(f"The email is longer than {EMAIL_MAX} characters.")
        return ""
    try:
        email = validate_email(row.email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        row.problems.append(f"The email is not valid: {exc}")
        return ""
    if normalise_email(email) in existing_emails:
        row.problems.append("This email already has an account.")
    return email


def _check_import_scheme(row: ImportRow, schemes_by_key: dict[str, Scheme]) -> Scheme | None:
    """The scheme the row names, by name (any case) or slug, or None after noting the problem."""
    if not row.scheme:
        row.problems.append("The scheme is missing.")
        return None
    scheme = schemes_by_key.get(row.scheme.strip().lower())
    if scheme is None:
        row.problems.append("No scheme has this name or short name (slug).")
    return scheme


def _check_import_role(row: ImportRow) -> CoordinatorRole | None:
    """Main or deputy, or None after noting the problem."""
    text = row.role.strip().lower()
    if not text:
        row.problems.append("The role is missing: write main or deputy.")
        return None
    if text not in {r.value for r in CoordinatorRole}:
        row.problems.append("The role must be main or deputy.")
        return None
    return CoordinatorRole(text)


def _create_imported(
    report: CoordinatorImportReport,
    accepted: list[tuple[ImportRow, str, Scheme, CoordinatorRole]],
    actor: User | None,
    send_invitations: bool,
) -> None:
    users: dict[str, User] = {}
    for row, email, _scheme, _role in accepted:
        key = normalise_email(email)
        if key not in users:
            # No password: the coordinator chooses one through the invitation link, so no hashing here.
            users[key] = User(email=email, name=row.name.strip(), role=Role.COORDINATOR, is_active_account=True)
    db.session.add_all(users.values())
    db.session.flush()
    memberships = [
        SchemeCoordinator(scheme_id=scheme.id, user_id=users[normalise_email(email)].id, role=role)
        for _row, email, scheme, role in accepted
    ]
    db.session.add_all(memberships)
    db.session.flush()
    report.accounts_created = len(users)
    report.memberships_created = len(memberships)
    if send_invitations:
        for user in users.values():
            invite_user(user, invited_by=actor)
        report.invitations_queued = len(users)
    audit.record(
        "users.imported",
        None,
        f"{len(users)} coordinators imported",
        actor=actor,
        actor_label=None if actor is not None else "command line",
        count=len(users),
        memberships=len(memberships),
        invitations=report.invitations_queued,
    )
    db.session.flush()


# --- Approval queue -----------------------------------------------------------------------------


@dataclass
class QueueEntry:
    """One item awaiting an admin's decision, whatever its kind."""

    kind: str
    title: str
    detail: str
    submitted_by: str
    submitted_at: object
    review_endpoint: str
    review_args: dict


def approval_queue() -> list[QueueEntry]:
    """Every item awaiting approval (content, local notices, bulletins), oldest submission first."""
    from coordinator.bulletins.services import bulletins_awaiting_approval
    from coordinator.content.services import versions_awaiting_approval

    entries = [
        QueueEntry(
            kind=version.kind.label,
            title=version.title,
            detail=f"version {version.number}" + (f", {version.item.scheme.name}" if version.item.scheme else ""),
            submitted_by=version.submitted_by.name if version.submitted_by else "",
            submitted_at=version.submitted_at,
            review_endpoint="content.review_version",
            review_args={"version_id": version.id},
        )
        for version in versions_awaiting_approval()
    ]
    entries += [
        QueueEntry(
            kind="bulletin",
            title=bulletin.subject,
            detail=bulletin.scheme.name if bulletin.scheme else "",
            submitted_by=bulletin.submitted_by.name if bulletin.submitted_by else bulletin.author_label,
            submitted_at=bulletin.submitted_at,
            review_endpoint="bulletins.bulletin_detail",
            review_args={"scheme_id": bulletin.scheme_id, "bulletin_id": bulletin.id},
        )
        for bulletin in bulletins_awaiting_approval()
    ]
    return sorted(entries, key=lambda e: (e.submitted_at is None, e.submitted_at))
