"""Which words of an approved version a reader gets in their language: its approved translation's, or the original's.

Bulletins and public pages keep the exact version they show (a bulletin holds version ids). A translation is used
only when `translations.usable_translation` finds one for that very version: the original's version in use today
with a translation up to date with it (or confirmed still right). Otherwise the original's words are shown, and
when they are English to someone who reads another language the part says so (`is_fallback`), in their language.
"""

from __future__ import annotations

from dataclasses import dataclass

from coordinator.content.models import ContentVersion
from coordinator.content.translations import original_language, same_language, usable_translation
from coordinator.languages import primary_subtag


@dataclass(frozen=True)
class InLanguage:
    """A version as a reader of `language` gets it: `version` reads like the original's (the plain-data functions
    take it), with the translation's words when there is one; `language` is the language of those words."""

    version: ContentVersion
    language: str
    is_fallback: bool
    # The words are a translation's (so the campaign's page in that language exists).
    is_translation: bool = False


def in_language(version: ContentVersion, language: str) -> InLanguage:
    """The version in `language` where an approved translation of it may be used, else the original marked."""
    found = usable_translation(version.item, language)
    # A translation goes with the original's version in use today; a bulletin holding an older one keeps its words.
    if found is not None and found.id == version.id:
        is_translation = bool(getattr(found, "is_translation", False))
        return InLanguage(found, getattr(found, "language", None) or original_language(version.item), False,
                          is_translation)
    written_in = original_language(version.item)
    is_fallback = not same_language(written_in, language) and primary_subtag(written_in) == "en"
    return InLanguage(version, written_in, is_fallback)
