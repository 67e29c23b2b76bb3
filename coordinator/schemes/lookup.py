"""Finding a scheme from what a person typed: its sign-up page's slug, or its name on the command line.

Leaflets, bulletins and the commands all start from a scheme; they find it here, not in each other's modules.
"""

from __future__ import annotations

from sqlalchemy import select

from coordinator.extensions import db
from coordinator.schemes.models import Scheme


def find_scheme_by_slug(slug: str) -> Scheme | None:
    """The scheme whose public sign-up page is /join/<slug>."""
    return db.session.scalar(select(Scheme).where(Scheme.slug == slug))


def find_scheme_by_name(text: str) -> Scheme | None:
    """The scheme with this name (any case) or short name (slug), for the command line."""
    key = " ".join((text or "").split()).casefold()
    for scheme in db.session.scalars(select(Scheme)):
        if scheme.name.casefold() == key or scheme.slug == key:
            return scheme
    return None
