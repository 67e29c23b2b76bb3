"""Slugs: the short lower-case names in addresses and import files ("hayes-lane-watch"), made one way everywhere."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from coordinator.extensions import db


def slugify(text: str, max_length: int = 120, fallback: str = "scheme") -> str:
    """A URL-safe lower-case slug: "Hayes Lane Watch" -> "hayes-lane-watch"; `fallback` when nothing is left of it."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or fallback


def unique_slug(
    column: InstrumentedAttribute[str], text: str, *where: object, max_length: int = 120, fallback: str = "scheme"
) -> str:
    """A slug for `text` that no row (of those `where` picks) has in `column` yet: "hayes-lane-watch", then "...-2"."""
    base = slugify(text, max_length, fallback)
    taken = set(db.session.scalars(select(column).where(*where, column.startswith(base, autoescape=True))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug
