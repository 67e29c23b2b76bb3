"""Importing coordinators from a CSV file (email, name, scheme, role): every row checked first, then all or none.

The page and `flask import-coordinators` both call `import_coordinators`; the caller commits when the report is ok
and then sends the invitations queued.
"""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select

from coordinator import audit
from coordinator.admin.services import AdminError, check_person_name
from coordinator.auth.models import Role, User
from coordinator.auth.services import invite_user, normalise_email
from coordinator.csvfiles import CSVFileError, ImportLine, ImportReport, read_csv
from coordinator.extensions import db
from coordinator.schemes.models import CoordinatorRole, Scheme, SchemeCoordinator

IMPORT_COLUMNS = ("email", "name", "scheme", "role")
EMAIL_MAX = 254


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

    The caller commits when `report.ok` (the invitations go at that commit); otherwise nothing was added.
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
        if email:
            _check_repeats(row, normalise_email(email), scheme, first_name_for, first_line_for_pair)
        if row.is_ok:
            accepted.append((row, email, scheme, role))

    if report.ok:
        _create_imported(report, accepted, actor, send_invitations)
    return report


def _check_repeats(
    row: ImportRow,
    key: str,
    scheme: Scheme | None,
    first_name_for: dict[str, tuple[str, int]],
    first_line_for_pair: dict[tuple[str, int], int],
) -> None:
    """Note a repeat within the file: the same person twice in one scheme, or one email with two names."""
    earlier_name, earlier_line = first_name_for.setdefault(key, (row.name.strip(), row.line))
    if earlier_name != row.name.strip():
        row.problems.append(f"Line {earlier_line} gives this email a different name.")
    if scheme is not None:
        first_line = first_line_for_pair.setdefault((key, scheme.id), row.line)
        if first_line != row.line:
            row.problems.append(f"Line {first_line} already adds this email to this scheme.")


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
