"""A coordinator's import of existing members: an `email,name,street,language` CSV, all or nothing.

Every row is checked first; only when all are fine are the new addresses added, each as pending and sent a
confirmation request, and nothing else until its owner confirms. Addresses the scheme already has are
reported and left exactly as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from coordinator import audit
from coordinator.auth.models import User
from coordinator.bulletins.models import Subscriber, SubscriberStatus
from coordinator.bulletins.subscribers import (
    check_subscriber_email,
    check_subscriber_name,
    consent_wording,
    request_confirmation,
)
from coordinator.csvfiles import CSVFileError, CSVRow, ImportLine, ImportReport, looks_like_formula, read_csv
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.language_tags import ENGLISH, check_language_tag
from coordinator.schemes.models import Scheme, Street

# The language column came last, so files made for the first three columns still import as they are.
IMPORT_COLUMNS = ("email", "name", "street", "language")
IMPORT_REQUIRED_COLUMNS = ("email",)
# A scheme covers a few hundred households; a file far bigger than that is the wrong file.
MAX_IMPORT_ROWS = 2_000


@dataclass
class SubscriberImportLine(ImportLine):
    """One row of an uploaded file: what will happen to it, or what is wrong with it."""

    email: str
    # What the row does when the file is imported: "added ...", or why it adds nothing ("already on the list").
    outcome: str = ""
    is_new: bool = False

    @property
    def label(self) -> str:
        return self.email or "(no email)"


@dataclass
class SubscriberImportReport(ImportReport[SubscriberImportLine]):
    """The row-by-row answer to an upload. Addresses are only added when every row is fine."""

    added: int = 0
    already: int = 0

    def imported_summary(self) -> str:
        if not self.added:
            return f"No new addresses: all {self.already} are already on the list or repeated in the file."
        return (
            f"Added {self.added} address{'es' if self.added != 1 else ''}, each sent a request to confirm; "
            f"{self.already} already on the list or repeated in the file."
        )

    def outcome(self, row: SubscriberImportLine) -> str:
        # A good row of a refused file says OK: "added" would not be true of it.
        if not row.is_ok:
            return "; ".join(row.problems)
        return row.outcome if self.ok or not row.is_new else "OK"


def _street_lookup(scheme: Scheme) -> dict[str, list[Street]]:
    # Keyed by the name and by "name (postcode)", so two streets sharing a name can still be told apart.
    lookup: dict[str, list[Street]] = {}
    for street in scheme.streets:
        for key in (street.name, f"{street.name} ({street.postcode})"):
            lookup.setdefault(" ".join(key.split()).casefold(), []).append(street)
    return lookup


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_rows(data: bytes, report: SubscriberImportReport) -> list[CSVRow]:
    """The file's rows; none, with the reason in `report.file_problems`, when the file as a whole is refused."""
    try:
        csv_rows = read_csv(
            data, IMPORT_COLUMNS, max_bytes=current_app.config["CSV_MAX_BYTES"], required=IMPORT_REQUIRED_COLUMNS
        )
    except CSVFileError as exc:
        report.file_problems.append(str(exc))
        return []
    if not csv_rows:
        report.file_problems.append("The file has a header but no addresses under it.")
        return []
    if len(csv_rows) > MAX_IMPORT_ROWS:
        report.file_problems.append(
            f"The file has {len(csv_rows):,} rows; one import takes at most {MAX_IMPORT_ROWS:,}."
        )
        return []
    return csv_rows


def _check_row(
    scheme: Scheme, csv_row: CSVRow, streets: dict[str, list[Street]]
) -> tuple[SubscriberImportLine, str, str, Street | None, str]:
    """One row checked: its line in the report (with every problem), and its address, name, street and language."""
    values = csv_row.values
    raw_email = values.get("email", "")
    row = SubscriberImportLine(line=csv_row.line, email=_shorten(raw_email))
    if csv_row.has_extra_cells:
        row.problems.append("This row has more cells than the header has columns")
    for column in IMPORT_COLUMNS:
        if looks_like_formula(values.get(column, "")):
            row.problems.append(
                f"{column} starts with {values[column][0]!r}, which a spreadsheet would run as a formula; "
                "remove that character"
            )
    email = ""
    try:
        email = check_subscriber_email(raw_email)
    except ValueError as exc:
        row.problems.append(str(exc).replace("Enter your email address", "The email is missing"))
    name = ""
    try:
        name = check_subscriber_name(values.get("name", ""))
    except ValueError as exc:
        if not looks_like_formula(values.get("name", "")):
            row.problems.append(str(exc))
    street = None
    street_text = " ".join(values.get("street", "").split())
    if street_text:
        matches = streets.get(street_text.casefold(), [])
        if not matches:
            row.problems.append(f"{scheme.name} has no street called {_shorten(street_text, 60)}")
        elif len(matches) > 1:
            row.problems.append(
                f"{scheme.name} has {len(matches)} streets called {matches[0].name}; write it with its "
                f"postcode, like {matches[0].name} ({matches[0].postcode})"
            )
        else:
            street = matches[0]
    # Any language a resident may read, not only those translated today: the next translation reaches them.
    language = ENGLISH
    if values.get("language", "").strip() and not looks_like_formula(values["language"]):
        try:
            language = check_language_tag(values["language"])
        except ValueError as exc:
            row.problems.append(f"language: {exc}")
    return row, email, name, street, language


def _add_pending(scheme: Scheme, accepted: list[tuple[str, str, Street | None, str]], actor: User | None) -> int:
    """Add the accepted addresses as pending, each sent a request to confirm; returns how many."""
    method = f"imported by coordinator {actor.email}" if actor is not None else "imported from the command line"
    wording = consent_wording(scheme)
    added = [
        Subscriber(
            scheme=scheme,
            email=email,
            name=name,
            street=street,
            language=language,
            status=SubscriberStatus.PENDING,
            consent_method=method,
            consent_wording=wording,
        )
        for email, name, street, language in accepted
    ]
    db.session.add_all(added)
    db.session.flush()
    now = utcnow()
    for subscriber in added:
        request_confirmation(subscriber, now=now)
    return len(added)


def import_subscribers(scheme: Scheme, data: bytes, actor: User | None) -> SubscriberImportReport:
    """Check every row of an `email,name,street,language` CSV; only if all are fine, add the new addresses as pending.

    Each added address is sent a confirmation request and nothing else until its owner confirms. Addresses
    the scheme already has are reported and left exactly as they are. The caller commits when `report.ok`
    (the requests go at that commit); otherwise nothing was added.
    """
    report = SubscriberImportReport()
    csv_rows = _read_rows(data, report)
    if report.file_problems:
        return report
    existing = {
        s.email: s for s in db.session.scalars(select(Subscriber).where(Subscriber.scheme_id == scheme.id))
    }
    streets = _street_lookup(scheme)
    seen: dict[str, int] = {}
    accepted: list[tuple[str, str, Street | None, str]] = []
    for csv_row in csv_rows:
        row, email, name, street, language = _check_row(scheme, csv_row, streets)
        report.rows.append(row)
        if not row.is_ok:
            continue
        if email in seen:
            row.outcome = f"same address as line {seen[email]}; added once"
            report.already += 1
            continue
        seen[email] = row.line
        if email in existing:
            row.outcome = f"already on the list ({existing[email].status.value}); left as it is"
            report.already += 1
            continue
        row.outcome = "added; a request to confirm is sent"
        row.is_new = True
        accepted.append((email, name, street, language))

    if not report.ok:
        report.already = 0
        return report
    report.added = _add_pending(scheme, accepted, actor)
    audit.record(
        "subscribers.imported",
        scheme,
        f"{report.added} addresses imported into {scheme.name}, each asked to confirm",
        actor=actor,
        actor_label=None if actor is not None else "command line",
        count=report.added,
        already=report.already,
    )
    db.session.flush()
    return report
