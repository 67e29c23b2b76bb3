"""Slugs: the short lower-case names in addresses and import files ("hayes-lane-watch"), made one way everywhere.

A title in any script gets a readable Latin slug: anyascii transliterates (Arabic "ليس الأمر على ما يرام" becomes
"lys-l-mr-la-m-yrm", Bengali "আপনি একা নন" becomes "apni-eka-nn"). anyascii is ISC-licensed, so it sits under the
AGPL without conditions of its own; Unidecode, its best-known rival, is GPL-2.0-or-later, which the AGPL could take,
but a permissive table is the lighter thing to carry, and anyascii covers more scripts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from anyascii import anyascii
from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from coordinator.extensions import db

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 120

# Words that name no one thing: an address made only of one of them tells a resident nothing, and it was what a
# title with no Latin letters used to get (issue 14: an Arabic campaign at /campaigns/scheme).
GENERIC_WORDS = frozenset({
    "scheme", "schemes", "campaign", "campaigns", "helpline", "helplines", "helpline-set", "local-notice", "notice",
    "leaflet", "bulletin", "new", "edit", "item", "page", "index", "untitled", "none", "null",
})


def slugify(text: str, max_length: int = SLUG_MAX, fallback: str = "scheme") -> str:
    """A URL-safe lower-case slug: "Hayes Lane Watch" -> "hayes-lane-watch", "Łódź" -> "lodz", any script too.

    A text with no letters or digits in any script ("!!!") gets `fallback` with a short digest of the text, so it is
    never the bare generic word; the admin can give it a better one.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", anyascii(text).lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    if not slug or slug in GENERIC_WORDS:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:6]
        slug = f"{(slug or fallback)[:max_length - 7]}-{digest}"
    return slug


def slug_problem(value: str, max_length: int = SLUG_MAX) -> str | None:
    """Why `value` cannot be a slug someone typed, in words, or None when it can."""
    if not SLUG_RE.match(value) or len(value) > max_length:
        return (f"Use lower-case letters a to z, digits and single hyphens, at most {max_length} characters, "
                "like its-not-ok.")
    if value in GENERIC_WORDS:
        return f"“{value}” names nothing in particular: use words from the title, like its-not-ok."
    return None


def unique_slug(
    column: InstrumentedAttribute[str],
    text: str,
    *where: object,
    max_length: int = SLUG_MAX,
    fallback: str = "scheme",
    also_taken: Iterable[str] = (),
) -> str:
    """A slug for `text` that no row (of those `where` picks) has in `column` yet: "hayes-lane-watch", then "...-2".

    `also_taken` are slugs kept elsewhere that must not be reused, such as a renamed campaign's old address.
    """
    base = slugify(text, max_length, fallback)
    taken = set(db.session.scalars(select(column).where(*where, column.startswith(base, autoescape=True))))
    taken.update(also_taken)
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug
