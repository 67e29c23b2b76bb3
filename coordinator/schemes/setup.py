"""Setting schemes up: an admin creates a scheme, renames it, and looks through every scheme with its totals."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select

from coordinator import audit
from coordinator.extensions import db
from coordinator.schemes.models import Scheme, SchemeCoordinator, Street
from coordinator.schemes.services import SchemeError
from coordinator.slugs import unique_slug


def _check_scheme_name(name: str, exclude_id: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise SchemeError("Enter the scheme's name.")
    stmt = select(Scheme.id).where(func.lower(Scheme.name) == name.lower())
    if exclude_id is not None:
        stmt = stmt.where(Scheme.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise SchemeError("Another scheme already has that name.")
    return name


def create_scheme(name: str, ward: str = "", postcode_district: str = "") -> Scheme:
    """A new scheme with a unique name and slug."""
    name = _check_scheme_name(name)
    scheme = Scheme(
        name=name,
        slug=unique_slug(Scheme.slug, name),
        ward=ward.strip(),
        postcode_district=postcode_district.strip().upper(),
    )
    db.session.add(scheme)
    db.session.flush()
    audit.record("schemes.created", scheme, f"scheme {scheme.name} created", slug=scheme.slug)
    return scheme


def update_scheme(scheme: Scheme, name: str, ward: str = "", postcode_district: str = "") -> list[str]:
    """Change a scheme's name, ward and postcode district; return the names of the fields that changed."""
    name = _check_scheme_name(name, exclude_id=scheme.id)
    # The slug stays as it was: printed material and import files may already refer to it.
    new = {"name": name, "ward": ward.strip(), "postcode_district": postcode_district.strip().upper()}
    changed = [key for key, value in new.items() if getattr(scheme, key) != value]
    if changed:
        old = {key: getattr(scheme, key) for key in changed}
        for key in changed:
            setattr(scheme, key, new[key])
        db.session.flush()
        audit.record(
            "schemes.changed", scheme, f"scheme {scheme.name}: {', '.join(changed)} changed", fields=changed, old=old
        )
    return changed


# --- Every scheme, for the admins' list -----------------------------------------------------------


def schemes_query(search: str = "") -> Select:
    """Schemes whose name or ward contains `search` (any case, wildcards taken literally), by name."""
    stmt = select(Scheme).order_by(func.lower(Scheme.name), Scheme.id)
    term = search.strip().lower()
    if term:
        stmt = stmt.where(
            or_(func.lower(Scheme.name).contains(term, autoescape=True),
                func.lower(Scheme.ward).contains(term, autoescape=True))
        )
    return stmt


@dataclass
class SchemeTotals:
    """Street, household and coordinator counts of one scheme."""

    streets: int = 0
    households: int = 0
    coordinators: int = 0


def scheme_totals(scheme_ids: list[int]) -> dict[int, SchemeTotals]:
    """Totals for each of these schemes, in two grouped queries (for a page of the list)."""
    totals = {sid: SchemeTotals() for sid in scheme_ids}
    if not scheme_ids:
        return totals
    street_rows = db.session.execute(
        select(Street.scheme_id, func.count(Street.id), func.coalesce(func.sum(Street.households), 0))
        .where(Street.scheme_id.in_(scheme_ids))
        .group_by(Street.scheme_id)
    )
    for scheme_id, streets, households in street_rows:
        totals[scheme_id].streets = int(streets)
        totals[scheme_id].households = int(households)
    member_rows = db.session.execute(
        select(SchemeCoordinator.scheme_id, func.count(SchemeCoordinator.id))
        .where(SchemeCoordinator.scheme_id.in_(scheme_ids))
        .group_by(SchemeCoordinator.scheme_id)
    )
    for scheme_id, coordinators in member_rows:
        totals[scheme_id].coordinators = int(coordinators)
    return totals
