"""Language tags as pages, emails and leaflets need them: which way a language's text runs.

A campaign's language is a BCP 47 tag typed by an admin ("ar", "ur-PK", "en-GB"); only its primary subtag
decides the direction.
"""

from __future__ import annotations

# Languages written right to left that London's residents read (and their neighbours in the same scripts):
# Arabic, Urdu, Persian, Pashto, Sindhi, Kurdish (Sorani), Hebrew, Yiddish, Dhivehi, Uyghur.
RIGHT_TO_LEFT = frozenset({"ar", "ur", "fa", "ps", "sd", "ckb", "he", "yi", "dv", "ug"})


def primary_subtag(tag: str | None) -> str:
    """"ur-PK" -> "ur"; "" for no tag."""
    return (tag or "").strip().replace("_", "-").split("-", 1)[0].lower()


def text_direction(tag: str | None) -> str:
    """"rtl" for a language written right to left, else "ltr": the value of an HTML dir attribute."""
    subtags = (tag or "").strip().replace("_", "-").lower().split("-")
    # A script subtag says so too: Punjabi in Shahmukhi is "pa-Arab".
    return "rtl" if subtags[0] in RIGHT_TO_LEFT or "arab" in subtags[1:] or "hebr" in subtags[1:] else "ltr"
