"""Scheme and street rules."""

from __future__ import annotations

import re
import unicodedata


def slugify(text: str) -> str:
    """A URL-safe lower-case slug: "Hayes Lane Watch" -> "hayes-lane-watch"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:120] or "scheme"
