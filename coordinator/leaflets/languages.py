"""What may be printed in which language: a leaflet in one language, or English with one other.

A coordinator chooses in the builder (or with `flask leaflet render --language/--second-language`) the leaflet's
language: the campaign's own (as written, usually English) or one it has an approved translation in; or English
with one other language, side by side on the A4 poster and front and back on the A5 flyer and the DL leaflet (a
leaflet marked sensitive: inside the A5, behind a neutral outside in both languages; coordinator/leaflets/bilingual.py).
The A6 postcard, the folded A4 and the wallet card print one language.

A language other than the campaign's own is printed only when
- the campaign, each helpline printed and the local notice (if one is chosen) have a usable translation in it
  (coordinator/content/translations.py: approved, and up to date with its original or confirmed still right by an
  admin); a helpline with nothing to translate (no hours, no "who for": its name and number are the same in
  every language) prints as it is;
- the association approved the language's fixed wording (coordinator/wording.py), so that the headings and the
  police block are in the reader's language too.
Otherwise the builder says why, at the language's field. A record or print run keeps its languages and, made
again, prints the translations that were in use when it was made.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from coordinator.content.models import CampaignVersion, ContentVersion, HelplineVersion
from coordinator.content.phones import is_police_number
from coordinator.content.translations import (
    find_translation,
    merged_wording,
    translation_state,
    usable_translation,
)
from coordinator.language_tags import english_name as language_name
from coordinator.language_tags import native_name as own_name
from coordinator.languages import primary_subtag
from coordinator.leaflets.bilingual import BILINGUAL_LAYOUTS, check_bilingual
from coordinator.leaflets.layouts import LAYOUTS
from coordinator.leaflets.offers import ChosenContent, LeafletChoiceError
from coordinator.leaflets.render import LeafletData, LeafletError, LocalNotice, content_reference
from coordinator.wording import DRAFT_LANGUAGES, catalogue_sha256, printed_language, wording_ready

ENGLISH = "en-GB"
FIRST, SECOND = "language", "second_language"  # the builder's fields, where a refusal is shown
_TAG = re.compile(r"[a-z]{2,3}(-[a-z]{4})?(-([a-z]{2}|[0-9]{3}))?")
ONE_LANGUAGE_ONLY = "The A6 postcard, the folded A4 and the wallet card print in one language."


def normalised_tag(text: str | None) -> str:
    """A language tag as stored ("ur-pk" -> "ur-PK"); "" for none; ValueError for anything else."""
    raw = (text or "").strip().replace("_", "-")
    if not raw:
        return ""
    if len(raw) > 20 or not _TAG.fullmatch(raw.lower()):
        raise ValueError(f"{raw[:20]!r} is not a language tag such as pl, ar or ur-PK.")
    parts = raw.lower().split("-")
    return "-".join([parts[0], *(p.title() if len(p) == 4 else p.upper() for p in parts[1:])])


def is_english(tag: str | None) -> bool:
    """English in any of its regional forms."""
    return primary_subtag(tag) == "en"


def same_language(first: str | None, second: str | None) -> bool:
    """Tags a reader would call one language: "en" and "en-GB" are; "pa-Arab" and "pa-Guru" are not."""
    def key(tag: str | None) -> tuple[str, str]:
        subtags = (tag or "").replace("_", "-").lower().split("-")
        return subtags[0], next((s for s in subtags[1:] if len(s) == 4 and s.isalpha()), "")

    return key(first) == key(second)


def language_label(tag: str) -> str:
    """A language as the builder lists it: "Polski (Polish)", "English"."""
    own, english = own_name(tag), language_name(tag)
    return english if own == english else f"{own} ({english})"


def offered_languages(campaigns: list[CampaignVersion]) -> list[tuple[str, str]]:
    """(tag, label) of each language the builder offers: those the association ships wording for, and any a
    campaign offered now has a translation in (approved or not: choosing one says what is missing)."""
    tags = {normalised_tag(tag) for tag in DRAFT_LANGUAGES}
    for version in campaigns:
        tags.update(item.language for item in getattr(version.item, "translations", ()) if item.language)
    tags = {tag for tag in tags if not is_english(tag)}
    return sorted(((tag, language_label(tag)) for tag in tags), key=lambda pair: language_name(pair[0]))


def check_languages(layout_key: str, language: str, second_language: str) -> dict[str, str]:
    """What is wrong with the languages chosen for this layout, by field, before any content is read."""
    errors: dict[str, str] = {}
    tags = {}
    for field, text in ((FIRST, language), (SECOND, second_language)):
        try:
            tags[field] = normalised_tag(text)
        except ValueError as error:
            errors[field] = str(error)
    if errors or not tags[SECOND]:
        return errors
    if tags[FIRST] and not is_english(tags[FIRST]):
        errors[SECOND] = ("Two languages are English with one other: choose English as the first language, or no "
                          "second language.")
    elif is_english(tags[SECOND]):
        errors[SECOND] = "Choose a language other than English as the second language, or none."
    elif layout_key in LAYOUTS and layout_key not in BILINGUAL_LAYOUTS:
        errors[SECOND] = ("Two languages print side by side on the A4 poster, or front and back on the A5 flyer and "
                          f"the DL leaflet. {ONE_LANGUAGE_ONLY} Choose one of those layouts, or one language.")
    return errors


def _original_language(version: ContentVersion) -> str:
    # Only a campaign says what language it is written in; helplines, sets and notices are written in English.
    return getattr(version, "language", None) or ENGLISH


def _translation_as_of(version: ContentVersion, language: str, as_of: datetime) -> ContentVersion | None:
    # A record made again prints what it printed: the translation's version that was current when it was made.
    translation = find_translation(version.item, language)
    if translation is None:
        return None
    approved = [v for v in translation.versions if v.approved_at is not None and v.approved_at <= as_of]
    return merged_wording(version, max(approved, key=lambda v: v.number)) if approved else None


def version_in(version: ContentVersion, language: str, as_of: datetime | None = None) -> ContentVersion | None:
    """The version to print in `language`: `version` itself in its own language, else its usable translation."""
    if same_language(language, _original_language(version)):
        return version
    if as_of is not None:
        return _translation_as_of(version, language, as_of)
    return usable_translation(version.item, language)


def why_not(version: ContentVersion, language: str) -> str:
    """Why `version` cannot be printed in `language`, as the builder says it."""
    name, title = language_name(language), version.title[:80]
    state = translation_state(version.item, language)
    if state == "original-changed":
        return (f"The original of “{title}” changed since its {name} translation was approved: an admin must "
                "confirm the translation is still right, or approve a new one.")
    if state == "draft":
        return f"No approved {name} translation of “{title}” yet: one is being written."
    return f"No approved {name} translation of “{title}” yet."


def wording_problem(language: str) -> str:
    """What the builder says while a language's fixed wording is not approved."""
    return (f"The {language_name(language)} wording of the leaflet's headings and police block is not approved yet: "
            "an admin approves it in Settings, “Fixed wording by language”.")


def _has_wording(helpline: HelplineVersion) -> bool:
    return bool((helpline.who_for or "").strip() or (helpline.opening_hours or "").strip())


def texts_in(data: LeafletData, chosen: ChosenContent, helplines: list[HelplineVersion], language: str,
             as_of: datetime | None = None) -> tuple[LeafletData, list[int]]:
    """`data` with the campaign's, helplines' and notice's texts in `language`, and the ids of the translation
    versions used; LeafletError with every reason it cannot be."""
    problems: list[str] = []
    used: list[int] = []

    def find(version: ContentVersion) -> ContentVersion | None:
        found = version_in(version, language, as_of)
        if found is None:
            problems.append(why_not(version, language))
        elif getattr(found, "translation_version_id", None) is not None:
            used.append(found.translation_version_id)
        return found

    campaign = find(chosen.campaign)
    lines = []
    for helpline, printed in zip(helplines, data.helplines, strict=True):
        # The police block prints 999 and 101 in the leaflet's own words (printed_helplines leaves them out).
        needs_words = _has_wording(helpline) and not is_police_number(printed.number_display)
        translated = find(helpline) if needs_words else helpline
        if translated is not None and translated is not helpline:
            printed = replace(printed, who_for=translated.who_for or "", hours=translated.opening_hours or "")
        lines.append(printed)
    notice = data.local_notice
    if chosen.local_notice is not None:
        translated = find(chosen.local_notice)
        if translated is not None:
            notice = LocalNotice(translated.title, translated.body)
    # A record made again printed its wording when it was made; a new leaflet needs it approved now.
    if as_of is None and not is_english(language) and not wording_ready(language):
        problems.append(wording_problem(language))
    if problems:
        raise LeafletError(" ".join(problems))
    if not used and same_language(language, data.language):
        return data, used
    return replace(
        data,
        headline=campaign.title,
        summary=campaign.summary or "",
        key_messages=tuple(campaign.key_messages or ()),
        call_to_action=campaign.call_to_action or "",
        helplines=tuple(lines),
        local_notice=notice,
        language=language,
        second=None,
    ), used


def leaflet_in_languages(data: LeafletData, chosen: ChosenContent, helplines: list[HelplineVersion],
                         language: str = "", second_language: str = "", *,
                         as_of: datetime | None = None) -> LeafletData:
    """The leaflet's data in the languages chosen: as it is for the campaign's own language and no second one;
    else in `language`, or English with `second_language` beside or behind it. LeafletChoiceError naming the
    language's field for anything that cannot be printed (`as_of`: a record made again, as it was then)."""
    errors = check_languages(chosen.layout.key, language, second_language)
    if errors:
        raise LeafletChoiceError(errors)
    first_tag, second_tag = normalised_tag(language), normalised_tag(second_language)
    if second_tag and not first_tag:
        first_tag = ENGLISH
    if not second_tag and (not first_tag or same_language(first_tag, _original_language(chosen.campaign))):
        # The campaign as written: printed as it always was, whatever its language.
        return _with_wording(data)
    try:
        first, used = texts_in(data, chosen, helplines, first_tag, as_of)
    except LeafletError as error:
        errors[FIRST] = str(error)
    if second_tag:
        try:
            second, used_second = texts_in(data, chosen, helplines, second_tag, as_of)
        except LeafletError as error:
            errors[SECOND] = str(error)
        if not errors:
            try:
                check_bilingual(data, chosen.layout)
            except LeafletError as error:
                errors[SECOND] = str(error)
    if errors:
        raise LeafletChoiceError(errors)
    if second_tag:
        used += used_second
        first = replace(first, second=replace(second, second=None))
    if used:
        # The small print's reference names these exact translations too.
        first = replace(first, reference=content_reference(leaflet=data.reference,
                                                           translations="-".join(map(str, sorted(used)))))
    return _with_wording(first)


def _with_wording(data: LeafletData) -> LeafletData:
    # The wording each language prints in now is part of the leaflet's data, so of its cache key: a language's
    # wording approved later (or changed and approved again) makes a new file, never the old one from the cache.
    second = replace(data.second, wording=wording_of(data.second.language)) if data.second else None
    return replace(data, wording=wording_of(data.language), second=second)


def wording_of(language: str) -> str:
    """The fixed wording a leaflet in `language` prints now: "en", or the catalogue's language and digest."""
    printed = printed_language(language)
    digest = None if printed == "en" else catalogue_sha256(printed)
    return f"{printed}:{digest[:16]}" if digest else printed


def with_language_hints(errors: dict[str, str], layout_key: str, second_language: str) -> dict[str, str]:
    """The builder's problems, a two-language leaflet too long for its A5 or DL told where both fit: the layout's own
    message names a larger layout, which may print one language only."""
    message = errors.get("layout", "")
    if not second_language or layout_key not in ("a5", "dl") or not message.startswith("Too long for"):
        return errors
    name = LAYOUTS[layout_key].short_name
    return {**errors, "layout": f"Too long for {name} in two languages: choose the A4 poster, where each language has "
                                "a column, or a helpline set with fewer numbers."}
