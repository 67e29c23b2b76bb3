"""Comparing a version with the approved one, field by field and word by word, for the review page."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date

from coordinator.content.fields import month_day_words
from coordinator.content.models import ContentKind, ContentVersion

FIELD_LABELS = {
    "title": "Title",
    "summary": "Summary",
    "body": "Body",
    "key_messages": "Key messages",
    "call_to_action": "Call to action",
    "hashtag": "Hashtag",
    "web_address": "Web address",
    "first_day": "First day",
    "last_day": "Last day",
    "every_year_from": "Every year from",
    "every_year_until": "Every year until",
    "recommended_set_item_id": "Recommended helpline set",
    "language": "Language",
    "audience_tags": "Audience tags",
    "image_id": "Picture",
    "is_sensitive": "Sensitive",
    "phone_number": "Number (stored)",
    "phone_number_shown": "Number as printed",
    "opening_hours": "Opening hours",
    "is_24_7": "Open 24 hours, 7 days",
    "who_for": "Who it is for",
    "is_free_to_call": "Free to call",
    "review_interval_months": "Review interval (months)",
    "helplines": "Helplines, in order",
}


def field_label(kind: ContentKind, name: str) -> str:
    """A field's label in words for this kind."""
    if name == "title":
        return {ContentKind.HELPLINE: "Name", ContentKind.LOCAL_NOTICE: "Heading"}.get(kind, "Title")
    if name == "body" and kind == ContentKind.LOCAL_NOTICE:
        return "Notice"
    return FIELD_LABELS.get(name, name)


def field_text(version: ContentVersion, name: str) -> str:
    """One field as the text a reviewer reads."""
    if name == "helplines":
        return "\n".join(f"{e.position}. {e.helpline_item.title}" for e in version.entries)
    value = getattr(version, name)
    if name == "recommended_set_item_id":
        return version.recommended_set_item.title if version.recommended_set_item is not None else "none"
    if name in ("every_year_from", "every_year_until"):
        return month_day_words(value) or "none"
    if name == "image_id":
        image = version.image
        return f"picture {image.sha256[:12]} ({image.width} × {image.height})" if image else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return "open" if name in ("first_day", "last_day") else ""
    return str(value)


@dataclass
class FieldChange:
    """One field of a version beside the approved one; segments mark removed and added words."""

    label: str
    old: list[tuple[str, str]] = field(default_factory=list)
    new: list[tuple[str, str]] = field(default_factory=list)
    is_changed: bool = False


_TOKENS = re.compile(r"\s+|[^\s]+")


def compare_versions(
    old: ContentVersion | None, new: ContentVersion, names: tuple[str, ...] | None = None
) -> list[FieldChange]:
    """Each field of `new` (or only `names`) beside `old`, word by word: ("same"|"del"|"ins", text) segments."""
    changes = []
    for name in names or new.FIELDS:
        new_text = field_text(new, name)
        old_text = field_text(old, name) if old is not None else ""
        change = FieldChange(field_label(new.kind, name), is_changed=old is not None and old_text != new_text)
        if old is None or old_text == new_text:
            change.old = [("same", old_text)] if old is not None else []
            change.new = [("same", new_text)]
        else:
            a, b = _TOKENS.findall(old_text), _TOKENS.findall(new_text)
            for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
                if op == "equal":
                    change.old.append(("same", "".join(a[i1:i2])))
                    change.new.append(("same", "".join(b[j1:j2])))
                else:
                    if i2 > i1:
                        change.old.append(("del", "".join(a[i1:i2])))
                    if j2 > j1:
                        change.new.append(("ins", "".join(b[j1:j2])))
        changes.append(change)
    return changes


@dataclass
class TranslationRow:
    """One translated field for review: the original's words, and the translation's beside its approved version."""

    label: str
    original: str
    change: FieldChange


def compare_translation(
    original: ContentVersion | None, approved: ContentVersion | None, version: ContentVersion
) -> list[TranslationRow]:
    """The translation's wording beside the original's version (`original`), each field marked word by word against
    the translation's approved version (`approved`), if it has one."""
    names = version.TRANSLATED_FIELDS
    changes = compare_versions(approved, version, names)
    return [TranslationRow(change.label, field_text(original, name) if original is not None else "", change)
            for name, change in zip(names, changes, strict=True)]
