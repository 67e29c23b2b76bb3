"""Languages residents choose and links point at: a tag checked, and the language named in itself.

A tag is written as `translations.normalise_language` writes it ("ur-PK", "pa-Guru"), and must be one Babel (CLDR)
can name, since a language is offered by its own name ("Polski", "العربية"), never by a tag or an English name.
"""

from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError

from coordinator.content.fields import DEFAULT_LANGUAGE, FieldErrors
from coordinator.content.translations import normalise_language
from coordinator.languages import primary_subtag, text_direction

# What residents have until they choose: the association's own language, the one everything is first written in.
ENGLISH = DEFAULT_LANGUAGE


def check_language_tag(text: str) -> str:
    """The tag as stored ("ur-pk" -> "ur-PK"; any English, "en" or "en-US", is the association's "en-GB", which is
    what it writes, so that English readers are one group); ValueError, fit to show, when it is not one we can use."""
    try:
        tag = normalise_language(text)
    except FieldErrors as exc:
        raise ValueError(" ".join(exc.errors.values()).removeprefix("Language: ")) from exc
    if primary_subtag(tag) == "en":
        return ENGLISH
    if _locale(tag) is None:
        raise ValueError(f"{tag!r} is not a language we know. Write its code as BCP 47 does, such as pl, ar or ur-PK.")
    return tag


@lru_cache(maxsize=256)
def _locale(tag: str) -> Locale | None:
    try:
        return Locale.parse(tag, sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        return None


@lru_cache(maxsize=256)
def native_name(tag: str) -> str:
    """The language's name in itself, capitalised as a list of choices starts it: "pl" -> "Polski".

    The region is left out ("en-GB" is "English") and the script kept ("pa-Guru" is "ਪੰਜਾਬੀ (ਗੁਰਮੁਖੀ)"): the script
    is what tells a reader whether they can read it. A tag CLDR does not know is shown as it is.
    """
    locale = _locale(tag)
    if locale is None:
        return tag
    try:
        name = Locale(locale.language, script=locale.script).display_name or tag
    except (ValueError, UnknownLocaleError):  # CLDR has this language and script only with a region
        name = locale.display_name or tag
    return name[:1].upper() + name[1:]


@lru_cache(maxsize=256)
def english_name(tag: str) -> str:
    """The language's name in English, for coordinators and admins: "ur-PK" -> "Urdu" (its script kept, as in
    "Punjabi (Gurmukhi)", its region not). A tag CLDR does not know is shown as it is."""
    locale = _locale(tag)
    if locale is None:
        return tag
    try:
        return Locale(locale.language, script=locale.script).get_display_name("en") or tag
    except (ValueError, UnknownLocaleError):  # CLDR has this language and script only with a region
        return locale.get_display_name("en") or tag


def language_choice(tag: str) -> dict:
    """A language as lists and links offer it: its tag, its own name, and the direction of that name."""
    return {"tag": tag, "name": native_name(tag), "dir": text_direction(tag)}
