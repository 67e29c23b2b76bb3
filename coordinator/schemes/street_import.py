"""Importing a scheme's streets from a CSV file: every row is checked as the street form checks it, then all or none.

A coordinator's spreadsheet of streets comes back row by row: a wrong row is named with its line and what is
wrong with it, and no street is added until every row is fine.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from coordinator import audit
from coordinator.csvfiles import CSVFileError, CSVRow, ImportLine, ImportReport, looks_like_formula, read_csv
from coordinator.extensions import db
from coordinator.schemes.models import Scheme, Street
from coordinator.schemes.services import (
    StreetDetails,
    check_street_details,
    new_street,
    street_key,
    write_streets,
)

# A scheme has a few dozen streets; a file far bigger than that is a mistake, and its report unreadable.
MAX_IMPORT_ROWS = 1_000

STREET_COLUMNS = ("name", "postcode", "households", "no_leaflets", "delivery_notes")
STREET_REQUIRED_COLUMNS = ("name", "postcode", "households", "no_leaflets")


@dataclass
class StreetImportLine(ImportLine):
    """One row of a streets file and what is wrong with it (nothing, when it is fine)."""

    name: str

    @property
    def label(self) -> str:
        return self.name or "(no name)"


@dataclass
class StreetImportReport(ImportReport[StreetImportLine]):
    """The row-by-row answer to an upload. Streets are only added when every row is fine."""

    imported: int = 0

    def imported_summary(self) -> str:
        return f"Imported {self.imported} street{'s' if self.imported != 1 else ''}."


def import_streets(scheme: Scheme, data: bytes) -> StreetImportReport:
    """Check every row of a streets CSV and add them all to the scheme, or none when any row is wrong."""
    report = StreetImportReport()
    try:
        rows = read_csv(
            data, STREET_COLUMNS, max_bytes=current_app.config["CSV_MAX_BYTES"], required=STREET_REQUIRED_COLUMNS
        )
    except CSVFileError as exc:
        report.file_problems.append(str(exc))
        return report
    if not rows:
        report.file_problems.append("The file has a header but no streets under it.")
        return report
    if len(rows) > MAX_IMPORT_ROWS:
        report.file_problems.append(f"The file has {len(rows):,} streets; one import takes at most {MAX_IMPORT_ROWS:,}.")
        return report

    existing = {
        street_key(s.name, s.postcode) for s in db.session.scalars(select(Street).where(Street.scheme_id == scheme.id))
    }
    seen: dict[tuple[str, str], int] = {}
    checked: list[StreetDetails] = []
    for row in rows:
        line, details = _check_row(row, existing, seen)
        report.rows.append(line)
        if details is not None and line.is_ok:
            checked.append(details)

    if not report.ok:
        return report

    def write() -> None:
        for details in checked:
            street = new_street(details)
            street.scheme = scheme
            db.session.add(street)

    if not write_streets(scheme, write):
        report.file_problems.append(
            "Someone added one of these streets to the scheme while the file was being checked. Nothing was "
            "imported: upload the file again to see which."
        )
        return report
    report.imported = len(checked)
    audit.record(
        "streets.imported",
        scheme,
        f"{report.imported} streets imported into {scheme.name}",
        count=report.imported,
    )
    return report


def _check_row(
    row: CSVRow, existing: set[tuple[str, str]], seen: dict[tuple[str, str], int]
) -> tuple[StreetImportLine, StreetDetails | None]:
    """One row as the report shows it, and its checked street (None when its values are wrong)."""
    values = row.values
    line = StreetImportLine(line=row.line, name=_shorten(" ".join(values.get("name", "").split())))
    if row.has_extra_cells:
        line.problems.append("This row has more cells than the header has columns")
    for column in STREET_COLUMNS:
        if looks_like_formula(values.get(column, "")):
            line.problems.append(
                f"{column} starts with {values[column][0]!r}, which a spreadsheet would run as a "
                "formula; remove that character"
            )
    details, errors = check_street_details(
        values.get("name", ""),
        values.get("postcode", ""),
        values.get("households", ""),
        values.get("no_leaflets", ""),
        values.get("delivery_notes", ""),
    )
    for messages in errors.values():
        line.problems.extend(messages)
    if details is None:
        return line, None
    key = street_key(details.name, details.postcode)
    if key in seen:
        line.problems.append(f"Same street and postcode as line {seen[key]}")
    else:
        seen[key] = row.line
    if key in existing:
        line.problems.append(f"This scheme already has {details.name} in {details.postcode}")
    return line, details


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
