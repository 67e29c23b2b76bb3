"""Translations: an item's wording in another language, belonging to its original and approved like any content.

A translation is a `ContentItem` of its original's kind with `translation_of` and `language` set (one per
language). Its versions are ordinary versions of that kind, drafted, submitted and approved through the same
state machine (approval.py, four eyes included), but only their wording counts (`TRANSLATED_FIELDS`: a campaign's
title, summary, body, key messages and call to action; a helpline's who-it-is-for and hours; a helpline set's
title; a notice's heading and text). Everything else (dates, the yearly window, the recommended set, the picture,
sensitivity, web addresses, the number, a set's helplines, the public address) is read from the original, so a
date moved on the original is never left behind in a translation. The other columns of a translation's version
are copied from the original's version it was made from only so the row is whole; nothing reads them.

Each translation version records `source_version`: the original's approved version its wording was made from.
When the original gets a newer approved version the translation's state becomes "original-changed" and it is not
printed or sent until either a new translation version is approved or an admin records that the approved one is
"still right for version N" (a `TranslationConfirmation`, audited).

Leaflets, bulletins and public pages read translations only through `usable_translation`, `translation_languages`
and `translation_state`; what they get back for a translation is a `TranslatedVersion`, which reads like the
original's version of the kind with the translation's words in it.
"""

from __future__ import annotations

import enum
import re

from sqlalchemy import select

from coordinator import audit
from coordinator.auth.models import User
from coordinator.content.approval import transition
from coordinator.content.drafting import VERSION_CLASSES
from coordinator.content.fields import (
    DEFAULT_LANGUAGE,
    FieldErrors,
    clean_campaign,
    clean_helpline,
    clean_helpline_set,
    clean_local_notice,
)
from coordinator.content.models import (
    CampaignVersion,
    ContentItem,
    ContentKind,
    ContentVersion,
    FormerSlug,
    TranslationConfirmation,
    VersionState,
)
from coordinator.content.services import ContentError, ContentPermissionError, can_edit
from coordinator.extensions import db
from coordinator.languages import primary_subtag, text_direction

S = VersionState
LANGUAGE_MAX = 35
SLUG_MAX = 120

# language (2-3 letters), then maybe a script (4 letters) and a region (2 letters or 3 digits): "pl", "ur-PK",
# "pa-Guru", "sr-Latn-RS". Variants and extensions are refused: no resident's language needs one.
_TAG = re.compile(r"(?P<language>[a-z]{2,3})(?:-(?P<script>[a-z]{4}))?(?:-(?P<region>[a-z]{2}|[0-9]{3}))?")


class TranslationState(enum.StrEnum):
    """What the builder and the content pages say about an item in one language (compares equal to its value)."""

    ORIGINAL = "original"  # the language the item is written in
    CURRENT = "current"  # approved, made from the original's current version
    ORIGINAL_CHANGED = "original-changed"  # approved, but the original has a newer version since: not used
    CONFIRMED = "confirmed"  # approved for an older version, and an admin found it still right for the current one
    DRAFT = "draft"  # being written or awaiting approval, never approved
    NONE = "none"  # no translation in this language

    @property
    def label(self) -> str:
        """The state in words, for pages."""
        return {
            "original": "Original",
            "current": "Up to date",
            "original-changed": "Original changed since",
            "confirmed": "Still right (confirmed)",
            "draft": "Not yet approved",
            "none": "No translation",
        }[self.value]

    @property
    def is_usable(self) -> bool:
        """Whether leaflets, bulletins and pages may print or send the item in this language."""
        return self in (TranslationState.ORIGINAL, TranslationState.CURRENT, TranslationState.CONFIRMED)


# --- Language tags ------------------------------------------------------------------------------


def normalise_language(text: str | None) -> str:
    """The tag as BCP 47 writes it ("UR_pk" -> "ur-PK", "pa-guru" -> "pa-Guru"); FieldErrors when it is not one."""
    raw = (text or "").strip()
    if not raw:
        raise FieldErrors({"language": "Language: enter a language tag, such as pl, ar or ur-PK."})
    match = _TAG.fullmatch(raw.replace("_", "-").lower()) if len(raw) <= LANGUAGE_MAX else None
    if match is None:
        shown = raw if len(raw) <= 20 else raw[:19] + "…"
        raise FieldErrors({"language": f"Language: {shown!r} is not a language tag. Write the language's two- or "
                           "three-letter code (BCP 47), such as pl, ar or ur-PK."})
    tag = match["language"]
    if match["script"]:
        tag += "-" + match["script"].title()
    if match["region"]:
        tag += "-" + match["region"].upper()
    return tag


def _tag_or_none(text: str | None) -> str | None:
    try:
        return normalise_language(text)
    except FieldErrors:
        return None


def same_language(first: str | None, second: str | None) -> bool:
    """The rule coordinator/languages.py uses for direction: two tags are one language when their primary subtags
    are ("en" and "en-GB" are; "ur" and "ar" are not)."""
    return bool(primary_subtag(first)) and primary_subtag(first) == primary_subtag(second)


# --- Reading: the API leaflets, bulletins and public pages use ----------------------------------


def original_of(item: ContentItem) -> ContentItem:
    """The original of a translation; an original is its own."""
    return item.translation_of if item.translation_of is not None else item


def original_language(item: ContentItem) -> str:
    """The language the original is written in: a campaign's own tag, else the association's (en-GB)."""
    original = original_of(item)
    version = original.current_version or original.latest_version
    if isinstance(version, CampaignVersion) and version.language:
        return version.language
    return DEFAULT_LANGUAGE


def find_translation(item: ContentItem, language: str) -> ContentItem | None:
    """The translation of `item`'s original in `language`, in any state: the same tag first, else the same
    primary subtag ("ur" finds "ur-PK")."""
    tag = _tag_or_none(language)
    if tag is None:
        return None
    translations = original_of(item).translations
    exact = next((t for t in translations if t.language == tag), None)
    if exact is not None:
        return exact
    return next((t for t in translations if same_language(t.language, tag)), None)


def _state_of(original: ContentItem, translation: ContentItem) -> TranslationState:
    approved = translation.current_version
    if approved is None:
        return TranslationState.DRAFT if translation.open_version is not None else TranslationState.NONE
    in_use = original.current_version
    if in_use is not None and approved.source_version_id == in_use.id:
        return TranslationState.CURRENT
    if in_use is not None and any(
        c.translation_version_id == approved.id and c.original_version_id == in_use.id
        for c in translation.translation_confirmations
    ):
        return TranslationState.CONFIRMED
    return TranslationState.ORIGINAL_CHANGED


def state_of_translation(translation: ContentItem) -> TranslationState:
    """The state of one translation item (never "original")."""
    return _state_of(original_of(translation), translation)


def usable_translation(item: ContentItem, language: str) -> ContentVersion | None:
    """The approved version of `item` in `language` that may be printed or sent: the translation's current
    version when it is up to date with the original's current version or an admin confirmed it still right; the
    item's own current version when `language` is the original's language (same primary subtag rules as
    coordinator/languages.py); else None."""
    original = original_of(item)
    in_use = original.current_version
    if in_use is None:
        return None
    if same_language(language, original_language(original)):
        return in_use
    translation = find_translation(original, language)
    if translation is None or not _state_of(original, translation).is_usable:
        return None
    return merged_wording(in_use, translation.current_version)


def translation_languages(item: ContentItem) -> list[str]:
    """Language tags `item` can be used in: the original's, then each usable translation's, sorted."""
    original = original_of(item)
    if original.current_version is None:
        return []
    usable = sorted(t.language for t in original.translations if _state_of(original, t).is_usable)
    return [original_language(original), *usable]


def translation_state(item: ContentItem, language: str) -> str:
    """'original' | 'current' | 'original-changed' (usable only if confirmed) | 'confirmed' | 'draft' | 'none':
    what the builder and the content pages say about a translation."""
    original = original_of(item)
    if same_language(language, original_language(original)):
        return TranslationState.ORIGINAL
    translation = find_translation(original, language)
    if translation is None:
        return TranslationState.NONE
    return _state_of(original, translation)


class TranslatedVersion:
    """The original's approved version with a translation's words: what renderers print in place of the original's.

    The wording (the kind's TRANSLATED_FIELDS) and `language` are the translation's; every other attribute (`id`,
    `item`, the number, dates, picture, helplines, `state`...) is the original version's, so links and the public
    address stay the original's. `translation` is the translation's version and `translation_version_id` its id,
    for a record of exactly which words went out. `isinstance(v, CampaignVersion)` holds for a translated
    campaign, as renderers and plain-data functions check the kind that way.
    """

    is_translation = True

    def __init__(self, original: ContentVersion, translation: ContentVersion):
        self.original = original
        self.translation = translation
        self.language = translation.item.language
        self.translation_version_id = translation.id
        self.source_version_id = translation.source_version_id

    @property  # type: ignore[misc]
    def __class__(self):
        # isinstance() also asks __class__: a translated campaign passes wherever a CampaignVersion is expected.
        return type(self.original)

    @property
    def dir(self) -> str:
        """"rtl" or "ltr": the HTML dir attribute for this language."""
        return text_direction(self.language)

    def __getattr__(self, name: str):
        if name in ("original", "translation"):  # not set yet (a copy being made): never recurse
            raise AttributeError(name)
        if name in type(self.original).TRANSLATED_FIELDS:
            return getattr(self.translation, name)
        return getattr(self.original, name)

    def __repr__(self) -> str:
        return f"<TranslatedVersion {self.language} of {self.original!r} from {self.translation!r}>"


def merged_wording(original_version: ContentVersion, translation_version: ContentVersion) -> TranslatedVersion:
    """The original's version in the translation's words (see TranslatedVersion)."""
    return TranslatedVersion(original_version, translation_version)


def translations_of(item: ContentItem) -> list[tuple[ContentItem, TranslationState]]:
    """Each translation of the item's original, by language, with its state."""
    original = original_of(item)
    return [(t, _state_of(original, t)) for t in sorted(original.translations, key=lambda t: t.language)]


def wording(version: ContentVersion) -> dict:
    """A version's translatable fields as plain data."""
    return {name: getattr(version, name) for name in version.TRANSLATED_FIELDS}


# --- Writing: adding, changing and confirming translations ---------------------------------------


def clean_wording(kind: ContentKind, source, fields: dict) -> dict:
    """The translatable fields, checked by the kind's own rules (lengths, Markdown, plain text); FieldErrors names
    each wrong field. `source` is the original's version (for a helpline: anything with its title, number as
    printed and review interval, as a content pack's checks have before the version exists)."""
    names = VERSION_CLASSES[kind].TRANSLATED_FIELDS
    typed = {name: fields.get(name) for name in names}
    if kind == ContentKind.CAMPAIGN:
        cleaned = clean_campaign(typed)
    elif kind == ContentKind.HELPLINE:
        # The original's name and number pass the rules they passed when approved; only the wording is new.
        cleaned = clean_helpline({**typed, "title": source.title, "number": source.phone_number_shown,
                                  "review_interval_months": source.review_interval_months})
    elif kind == ContentKind.HELPLINE_SET:
        cleaned = clean_helpline_set({**typed, "helplines": [object()]})  # the helplines are the original's
    else:
        cleaned = clean_local_notice(typed)
    return {name: cleaned[name] for name in names}


def check_new_language(original: ContentItem, language: str | None) -> str:
    """The tag of a new translation of `original`, normalised; FieldErrors when it is not a tag, is the original's
    own language, or already has a translation."""
    tag = normalise_language(language)
    if same_language(tag, original_language(original)):
        raise FieldErrors({"language": f"Language: “{original.title}” is written in {original_language(original)}; "
                           "choose another language for a translation."})
    taken = next((t for t in original.translations if t.language == tag), None)
    if taken is not None:
        raise FieldErrors({"language": f"Language: there is already a {tag} translation. Edit that one."})
    return tag


def translation_slug(original: ContentItem, tag: str) -> str:
    """The translation's own slug, unique among the kind's items: the original's with the tag ("its-not-ok-ur-pk").

    It is never a public address (public pages and packs find translations through their original)."""
    base = f"{original.slug[: SLUG_MAX - len(tag) - 4]}-{tag.lower()}"
    taken = set(db.session.scalars(select(ContentItem.slug).where(
        ContentItem.kind == original.kind, ContentItem.slug.startswith(base)))) | set(db.session.scalars(
        select(FormerSlug.slug).where(FormerSlug.kind == original.kind, FormerSlug.slug.startswith(base))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _fill(version: ContentVersion, source: ContentVersion, cleaned: dict, tag: str) -> None:
    """The wording typed, and the rest copied from the original's version so the row is whole."""
    for name in source.FIELDS:
        if name != "helplines" and name not in source.TRANSLATED_FIELDS:
            setattr(version, name, getattr(source, name))
    if isinstance(version, CampaignVersion):
        version.language = tag
    for name, value in cleaned.items():
        setattr(version, name, value)
    version.source_version = source


def _actor_label(actor: User | None, system_label: str | None) -> str | None:
    return None if actor is not None else (system_label or "system")


def _label(item: ContentItem, tag: str) -> str:
    return f"{tag} translation of {item.kind.label} “{item.title}”"


def add_translation(
    original: ContentItem, language: str, fields: dict, actor: User | None, *, system_label: str | None = None,
    source: ContentVersion | None = None,
) -> ContentVersion:
    """A new translation of an approved item in one language, its first version a draft made from the approved one.

    `source` is for content packs, whose original may be a version awaiting approval in the same import.
    """
    if original.is_translation:
        raise ContentError("A translation is made from the original, not from another translation.")
    if system_label is None and not can_edit(original, actor):
        raise ContentPermissionError("You cannot add translations of this content.")
    source = source or original.current_version
    if source is None:
        raise ContentError(f"“{original.title}” has no approved version yet. Translate it once it is approved.")
    tag = check_new_language(original, language)
    cleaned = clean_wording(original.kind, source, fields)
    item = ContentItem(kind=original.kind, slug=translation_slug(original, tag), scheme_id=original.scheme_id,
                       created_by=actor, translation_of=original, language=tag)
    with db.session.no_autoflush:
        version = VERSION_CLASSES[original.kind](item=item, number=1, state=S.DRAFT, created_by=actor)
        db.session.add(item)
        _fill(version, source, cleaned, tag)
    db.session.flush()
    audit.record(
        "content.translation_created", version, f"{_label(original, tag)} started from version {source.number}",
        actor=actor, actor_label=_actor_label(actor, system_label), item_id=item.id, original_item_id=original.id,
        language=tag, source_version_id=source.id,
    )
    return version


def edit_translation(
    translation: ContentItem, fields: dict, actor: User | None, *, system_label: str | None = None,
    source: ContentVersion | None = None,
) -> ContentVersion:
    """Change the translation's draft, or start a new draft; either way it is made from the original's approved
    version as it is now (`source` for content packs)."""
    original = translation.translation_of
    if original is None:
        raise ContentError("This is not a translation.")
    if system_label is None and not can_edit(translation, actor):
        raise ContentPermissionError("You cannot change this translation.")
    source = source or original.current_version
    if source is None:
        raise ContentError(f"“{original.title}” has no approved version now, so there is nothing to translate.")
    version = translation.open_version
    if version is not None and version.state == S.SUBMITTED:
        raise ContentError(f"Version {version.number} is awaiting approval. Withdraw it first if you need to change it.")
    cleaned = clean_wording(translation.kind, source, fields)
    label = _label(original, translation.language)
    if version is None:
        base = translation.current_version or translation.latest_version
        before = wording(base)
        # Reading the original's fields may load rows: the new version must not be flushed half filled.
        with db.session.no_autoflush:
            version = VERSION_CLASSES[translation.kind](item=translation, number=translation.latest_version.number
                                                        + 1, state=S.DRAFT, created_by=actor)
            db.session.add(version)
            _fill(version, source, cleaned, translation.language)
        db.session.flush()
        audit.record(
            "content.new_version", version, f"{label}: version {version.number} started from version {base.number}",
            actor=actor, actor_label=_actor_label(actor, system_label), item_id=translation.id,
            source_version_id=source.id,
        )
    else:
        if version.state == S.CHANGES_REQUESTED:
            transition(version, S.DRAFT, actor, system_label=system_label)
        before = wording(version)
        _fill(version, source, cleaned, translation.language)
        db.session.flush()
    changed = [name for name, value in wording(version).items() if value != before.get(name)]
    if changed:
        audit.record(
            "content.draft_changed", version, f"{label}: version {version.number} changed: {', '.join(changed)}",
            actor=actor, actor_label=_actor_label(actor, system_label), item_id=translation.id, fields=changed,
            source_version_id=source.id,
        )
    return version


def confirm_translation(
    translation: ContentItem, actor: User, original_version_id: int | None = None
) -> TranslationConfirmation:
    """An admin's word that the approved translation is still right for the original's current version.

    `original_version_id` is the version the admin read (the page's); another approved since is refused unread.
    """
    if actor is None or not actor.is_active_account or not actor.is_admin:
        raise ContentPermissionError("Only an admin can say a translation is still right.")
    original = translation.translation_of
    if original is None:
        raise ContentError("This is not a translation.")
    approved, in_use = translation.current_version, original.current_version
    if approved is None:
        raise ContentError("This translation has no approved version yet.")
    if in_use is None:
        raise ContentError(f"“{original.title}” has no approved version now.")
    if original_version_id is not None and original_version_id != in_use.id:
        raise ContentError(f"Version {in_use.number} of “{original.title}” was approved after you opened the page. "
                           "Read it beside the translation, then confirm again.")
    state = _state_of(original, translation)
    if state == TranslationState.CURRENT:
        raise ContentError(f"Version {approved.number} was made from version {in_use.number} of the original, which "
                           "is still in use: there is nothing to confirm.")
    if state == TranslationState.CONFIRMED:
        raise ContentError(f"Version {approved.number} is already confirmed for version {in_use.number}.")
    confirmation = TranslationConfirmation(item=translation, translation_version=approved, original_version=in_use,
                                           confirmed_by=actor, confirmed_by_label=actor.name or actor.email)
    db.session.add(confirmation)
    db.session.flush()
    made_from = approved.source_version.number if approved.source_version is not None else "?"
    audit.record(
        "content.translation_confirmed", approved,
        f"{_label(original, translation.language)}: version {approved.number} (made from version {made_from}) is "
        f"still right for version {in_use.number}", actor=actor, item_id=translation.id,
        original_item_id=original.id, original_version_id=in_use.id, language=translation.language,
    )
    return confirmation
