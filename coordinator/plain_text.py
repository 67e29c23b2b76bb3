"""Hidden control characters: refused where text is typed, and again before a leaflet prints.

A right-to-left override makes "Call 0808 802 4040" show as "Call 0404 208 8080", on screen and on paper; a
zero-width space makes two street names that look alike different. Nothing the Watch writes needs them, so the
forms, the CSV imports and the leaflet check all use the one rule below.
"""

from __future__ import annotations

import re
import unicodedata

from wtforms.validators import ValidationError

# Direction overrides, embeddings, isolates and marks can reorder the groups of a phone number (right-to-left
# scripts lay out correctly without them); zero-width spaces, word joiners, invisible operators, a stray byte-order
# mark and annotation marks hide inside words; C0 and C1 controls other than tab and line breaks have no printed
# form. The zero-width joiner and non-joiner stay allowed: Persian, several Indian scripts and emoji need them.
HIDDEN_CHARACTERS = re.compile(
    "[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]"
)


def hidden_character(text: str | None) -> str | None:
    """The first hidden control character in `text`, or None when there is none."""
    found = HIDDEN_CHARACTERS.search(text or "")
    return found.group() if found else None


def describe(character: str) -> str:
    """A hidden character as a person can look it up: "U+202E (right-to-left override)"."""
    name = unicodedata.name(character, "control character").lower()
    return f"U+{ord(character):04X} ({name})"


def hidden_character_problem(text: str | None, label: str) -> str | None:
    """The message for a typed value holding a hidden control character, or None when it has none."""
    found = hidden_character(text)
    if found is None:
        return None
    return (
        f"{label} contains a hidden control character, {describe(found)}, that changes how text reads: "
        "type it again rather than pasting it."
    )


def field_name(field) -> str:
    """A form field's label as a message names it: "Delivery notes (optional)" is "Delivery notes"."""
    return re.sub(r"\s*\([^)]*\)$", "", str(field.label.text))


class PlainText:
    """WTForms validator: the field's text holds no hidden control character."""

    def __init__(self, label: str | None = None) -> None:
        self.label = label

    def __call__(self, form, field) -> None:
        if not isinstance(field.data, str):
            return
        problem = hidden_character_problem(field.data, self.label or field_name(field))
        if problem:
            raise ValidationError(problem)
