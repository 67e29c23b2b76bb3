"""Importing schemes with their streets from one CSV file: an association set up in one step, all or nothing.

One line per street (scheme, ward, postcode_district, street, postcode, households, no_leaflets, and
optionally delivery_notes); a scheme's lines share its name, and its ward and postcode district are given
on its first line (later lines may leave them empty or repeat them). A line with a scheme and no street
makes a scheme with no streets yet. Every line is checked as the scheme and street forms check them; if any
is wrong, the report names it and nothing is added. The page and `flask import-schemes` both call
`import_schemes`; the caller commits when the report is ok.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, insert, select

from coordinator import audit
from coordinator.auth.models import User
from coordinator.csvfiles import CSVFileError, CSVRow, ImportLine, ImportReport, looks_like_formula, read_csv
from coordinator.extensions import db
from coordinator.schemes.models import Scheme, Street
from coordinator.schemes.services import StreetDetails, check_street_details, street_key
from coordinator.slugs import slugify

SCHEME_COLUMNS = (
    "scheme", "ward", "postcode_district", "street", "postcode", "households", "no_leaflets", "delivery_notes"
)
SCHEME_REQUIRED_COLUMNS = SCHEME_COLUMNS[:-1]
# 600 schemes of a dozen streets each, with room to spare; the file size limit (CSV_MAX_BYTES) comes first.
MAX_IMPORT_ROWS = 20_000
MAX_SCHEME_NAME = 120
MAX_WARD = 120
POSTCODE_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")


@dataclass
class SchemeImportLine(ImportLine):
    """One line of a schemes file and what is wrong with it (nothing, when it is fine)."""

    scheme: str
    street: str

    @property
    def label(self) -> str:
        return f"{self.scheme or '(no scheme)'}, {self.street or '(no street)'}"


@dataclass
class SchemeImportReport(ImportReport[SchemeImportLine]):
    """The row-by-row answer to an upload. Schemes and streets are only added when every line is fine."""

    schemes_created: int = 0
    streets_created: int = 0

    def imported_summary(self) -> str:
        return (
            f"Imported {self.schemes_created:,} scheme{'s' if self.schemes_created != 1 else ''} "
            f"with {self.streets_created:,} street{'s' if self.streets_created != 1 else ''}."
        )


@dataclass
class _PlannedScheme:
    name: str
    ward: str
    postcode_district: str
    first_line: int
    streets: list[StreetDetails] = field(default_factory=list)
    street_lines: dict[tuple[str, str], int] = field(default_factory=dict)


def _shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def import_schemes(data: bytes, actor: User | None) -> SchemeImportReport:
    """Check every line of a schemes CSV and, only if all are good, create the schemes and their streets."""
    report = SchemeImportReport()
    try:
        rows = read_csv(data, SCHEME_COLUMNS, current_app.config["CSV_MAX_BYTES"], required=SCHEME_REQUIRED_COLUMNS)
    except CSVFileError as exc:
        report.file_problems.append(str(exc))
        return report
    if not rows:
        report.file_problems.append("The file has a header but no schemes under it.")
        return report
    if len(rows) > MAX_IMPORT_ROWS:
        report.file_problems.append(f"The file has {len(rows):,} lines; one import takes at most {MAX_IMPORT_ROWS:,}.")
        return report

    # Everything the lines are checked against is read once: 5,000 lines cost two queries.
    existing_names = {name.lower() for name in db.session.scalars(select(func.lower(Scheme.name)))}
    planned: dict[str, _PlannedScheme] = {}
    for row in rows:
        report.rows.append(_check_row(row, planned, existing_names))
    if report.ok:
        _create(report, list(planned.values()), actor)
    return report


def _check_row(row: CSVRow, planned: dict[str, _PlannedScheme], existing_names: set[str]) -> SchemeImportLine:
    values = row.values
    name = " ".join(values.get("scheme", "").split())
    line = SchemeImportLine(line=row.line, scheme=_shorten(name), street=_shorten(values.get("street", "")))
    if row.has_extra_cells:
        line.problems.append("This line has more cells than the header has columns.")
    for column in SCHEME_COLUMNS:
        if looks_like_formula(values.get(column, "")):
            line.problems.append(f"{column} starts with {values[column].lstrip()[0]!r}, which a spreadsheet would run "
                                 "as a formula; remove that character.")
    scheme = _check_scheme(line, name, values, planned, existing_names)
    has_street = any(values.get(c, "").strip() for c in ("street", "postcode", "households", "no_leaflets",
                                                           "delivery_notes"))
    if not has_street:
        return line
    details, errors = check_street_details(
        values.get("street", ""), values.get("postcode", ""), values.get("households", ""),
        values.get("no_leaflets", ""), values.get("delivery_notes", ""),
    )
    for messages in errors.values():
        line.problems.extend(f"{m}." for m in messages)
    if details is None or scheme is None:
        return line
    key = street_key(details.name, details.postcode)
    if key in scheme.street_lines:
        line.problems.append(f"Line {scheme.street_lines[key]} already adds this street and postcode to this scheme.")
    else:
        scheme.street_lines[key] = row.line
        if line.is_ok:
            scheme.streets.append(details)
    return line


def _check_scheme(line: SchemeImportLine, name: str, values: dict[str, str], planned: dict[str, _PlannedScheme],
                  existing_names: set[str]) -> _PlannedScheme | None:
    """The scheme this line belongs to (new, or met on an earlier line), or None after noting what is wrong."""
    ward = " ".join(values.get("ward", "").split())
    district = "".join(values.get("postcode_district", "").split()).upper()
    if not name:
        line.problems.append("The scheme's name is missing.")
        return None
    if len(name) > MAX_SCHEME_NAME:
        line.problems.append(f"The scheme's name must be {MAX_SCHEME_NAME} characters or fewer.")
        return None
    if len(ward) > MAX_WARD:
        line.problems.append(f"The ward must be {MAX_WARD} characters or fewer.")
    if district and not POSTCODE_DISTRICT.match(district):
        line.problems.append("The postcode district must be like BR2 or SE9.")
    key = name.lower()
    if key in existing_names:
        line.problems.append("A scheme with this name already exists; add its streets on its own page.")
        return None
    scheme = planned.get(key)
    if scheme is None:
        planned[key] = scheme = _PlannedScheme(name, ward, district, line.line)
        return scheme
    if ward and ward != scheme.ward:
        line.problems.append(f"Line {scheme.first_line} gives this scheme the ward {scheme.ward or '(none)'!r}.")
    if district and district != scheme.postcode_district:
        line.problems.append(
            f"Line {scheme.first_line} gives this scheme the postcode district {scheme.postcode_district or '(none)'!r}."
        )
    return scheme


def _create(report: SchemeImportReport, schemes: list[_PlannedScheme], actor: User | None) -> None:
    taken = set(db.session.scalars(select(Scheme.slug)))
    made: list[tuple[Scheme, _PlannedScheme]] = []
    for plan in schemes:
        base = slugify(plan.name)
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        made.append((Scheme(name=plan.name, slug=slug, ward=plan.ward, postcode_district=plan.postcode_district),
                     plan))
    db.session.add_all(scheme for scheme, _plan in made)
    db.session.flush()
    streets = [
        {"scheme_id": scheme.id, "name": d.name, "postcode": d.postcode, "households": d.households,
         "households_no_leaflets": d.households_no_leaflets, "delivery_notes": d.delivery_notes}
        for scheme, plan in made
        for d in plan.streets
    ]
    if streets:
        db.session.execute(insert(Street), streets)
    for scheme, plan in made:
        audit.record("schemes.created", scheme, f"scheme {scheme.name} created by import", actor=actor,
                     actor_label=None if actor is not None else "command line", slug=scheme.slug,
                     streets=len(plan.streets))
    report.schemes_created = len(made)
    report.streets_created = len(streets)
    audit.record(
        "schemes.imported",
        None,
        f"{report.schemes_created} schemes with {report.streets_created} streets imported",
        actor=actor,
        actor_label=None if actor is not None else "command line",
        schemes=report.schemes_created,
        streets=report.streets_created,
    )
    db.session.flush()
