"""Content packs: approved content as one JSON file, so associations can share campaigns and helplines.

A pack looks like this (format version 1)::

    {"format": "nwc-content-pack", "version": 1, "exported_at": "2026-11-24T12:00:00+00:00",
     "items": [{"kind": "helpline", "slug": "childline", "fields": {"title": "Childline", "number": "0800 1111", ...}},
               {"kind": "helpline_set", "slug": "domestic-abuse", "fields": {"title": "...", "helplines": ["childline"]}},
               {"kind": "campaign", "slug": "its-not-ok", "fields": {"title": "...", "image": {"media_type": "image/png",
                "data": "<base64>"}}}]}

An item may carry its translations, each its language and only its wording (an older pack has none, and
reads as before)::

    {"kind": "campaign", "slug": "its-not-ok", "fields": {...},
     "translations": [{"language": "pl", "fields": {"title": "...", "summary": "...", "body": "...",
                       "key_messages": [...], "call_to_action": "..."}}]}

Export writes the approved version of every campaign that has not ended, every helpline and every
helpline set (local notices belong to one scheme and never travel), each with the translations that may be
used with it (up to date, or confirmed still right); one whose original changed since stays behind. Import checks everything
first: the JSON, each item's kind, slug and fields, every phone number, every Markdown body and
picture, and every helpline a set names. If anything is wrong, nothing is changed and the report
says what and where. Otherwise each new or changed item gets a submitted version awaiting
approval, in the same transaction; items identical to their approved version are left alone. A translation
is made from the original's version the import leaves awaiting approval (or its approved one, when unchanged), so
once both are approved it is up to date.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

from sqlalchemy import exists, select

from coordinator import audit
from coordinator.auth.models import User
from coordinator.content import approval, drafting, translations
from coordinator.content import services as content
from coordinator.content.fields import FieldErrors, check_slug
from coordinator.content.images import MAX_IMAGE_BYTES, CleanImage, ImageError, clean_image
from coordinator.content.models import (
    CampaignVersion,
    ContentItem,
    ContentKind,
    ContentVersion,
    HelplineSetVersion,
    HelplineVersion,
    VersionState,
)
from coordinator.db import utcnow
from coordinator.extensions import db

PACK_FORMAT = "nwc-content-pack"
PACK_VERSION = 1
MAX_PACK_BYTES = 16 * 1024 * 1024
MAX_PACK_ITEMS = 500
PACK_KINDS = (ContentKind.HELPLINE, ContentKind.HELPLINE_SET, ContentKind.CAMPAIGN)  # the order items load in

# The fields a pack may carry for each kind; anything else is refused rather than silently dropped.
PACK_FIELDS = {
    ContentKind.CAMPAIGN: {"title", "summary", "body", "key_messages", "call_to_action", "hashtag", "web_address",
                           "first_day", "last_day", "every_year_from", "every_year_until",
                           "recommended_helpline_set", "language", "audience_tags", "image", "is_sensitive"},
    ContentKind.HELPLINE: {"title", "number", "opening_hours", "is_24_7", "who_for", "web_address",
                           "is_free_to_call", "review_interval_months"},
    ContentKind.HELPLINE_SET: {"title", "helplines", "is_sensitive"},
}


class PackError(content.ContentError):
    """The pack cannot be imported; `problems` lists every reason, and nothing was changed."""

    def __init__(self, problems: list[str]):
        super().__init__("The content pack was not imported: " + "; ".join(problems[:5]))
        self.problems = problems


@dataclass
class PackReport:
    """What an import did (or, with problems, why it did nothing)."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    approved: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """The report as lines of text, for the command line."""
        if self.problems:
            return ["Nothing was imported:"] + [f"  - {p}" for p in self.problems]
        waiting = "approved" if self.approved else "submitted for approval"
        lines = [(f"{len(self.added)} new and {len(self.updated)} changed items {waiting}; "
                 f"{len(self.unchanged)} unchanged.")]
        lines += [f"  new: {name}" for name in self.added]
        lines += [f"  changed: {name}" for name in self.updated]
        return lines


# --- Export -------------------------------------------------------------------------------------


def _export_fields(version: ContentVersion, include_images: bool) -> dict:
    if isinstance(version, HelplineVersion):
        return {
            "title": version.title,
            "number": version.phone_number_shown,
            "opening_hours": version.opening_hours,
            "is_24_7": version.is_24_7,
            "who_for": version.who_for,
            "web_address": version.web_address,
            "is_free_to_call": version.is_free_to_call,
            "review_interval_months": version.review_interval_months,
        }
    if isinstance(version, HelplineSetVersion):
        return {"title": version.title,
                "helplines": [e.helpline_item.slug for e in version.entries if e.helpline_item.current_version],
                "is_sensitive": version.is_sensitive}
    assert isinstance(version, CampaignVersion)
    data = {name: getattr(version, name) for name in version.FIELDS
            if name not in ("image_id", "recommended_set_item_id")}
    # The set by its slug, as helpline sets name their helplines: ids mean nothing in another library.
    recommended = version.recommended_set_item
    data["recommended_helpline_set"] = recommended.slug if recommended is not None else None
    for day in ("first_day", "last_day"):
        data[day] = data[day].isoformat() if data[day] else None
    if include_images and version.image is not None:
        data["image"] = {"media_type": version.image.media_type,
                         "data": base64.b64encode(version.image.data).decode("ascii")}
    return data


def _wording_for_pack(version: ContentVersion) -> dict:
    return {name: list(value) if isinstance(value, list) else value
            for name, value in translations.wording(version).items()}


def export_pack(on: date | None = None, include_images: bool = True) -> dict:
    """Every approved helpline and helpline set, and every approved campaign that has not ended, as a pack."""
    items = []
    for kind in PACK_KINDS:
        for item in sorted(content._items(kind), key=lambda i: i.slug):
            version = item.current_version
            if version is None:
                continue
            if isinstance(version, CampaignVersion) and content.campaign_status(version, on) == \
                    content.CampaignStatus.ENDED:
                continue
            entry = {"kind": kind.value, "slug": item.slug, "fields": _export_fields(version, include_images)}
            carried = [{"language": t.language, "fields": _wording_for_pack(t.current_version)}
                       for t, state in translations.translations_of(item) if state.is_usable]
            if carried:  # left out when there are none, so a toolkit that knows no translations reads the pack
                entry["translations"] = carried
            items.append(entry)
    return {"format": PACK_FORMAT, "version": PACK_VERSION, "exported_at": utcnow().isoformat(timespec="seconds"),
            "items": items}


def pack_json(pack: dict) -> str:
    """The pack as readable JSON text."""
    return json.dumps(pack, indent=2, ensure_ascii=False) + "\n"


# --- Import -------------------------------------------------------------------------------------


@dataclass
class _Planned:
    kind: ContentKind
    slug: str
    fields: dict  # raw fields for the services (sets: helpline slugs, resolved when applied)
    cleaned: dict  # the same, checked
    picture: CleanImage | None
    existing: ContentItem | None
    label: str
    translations: list[_PlannedTranslation] = field(default_factory=list)


@dataclass
class _PlannedTranslation:
    language: str
    cleaned: dict  # the wording, checked
    existing: ContentItem | None  # the translation already in the library, if any


def _read(data: bytes) -> dict:
    if len(data) > MAX_PACK_BYTES:
        raise PackError([(f"The file is {len(data) // (1024 * 1024)} MB; the largest pack accepted is "
                         f"{MAX_PACK_BYTES // (1024 * 1024)} MB.")])
    try:
        pack = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise PackError(["The file is not UTF-8 text, so it cannot be a content pack."]) from exc
    except json.JSONDecodeError as exc:
        # Where, in words an admin can act on; json's own message ("Expecting ',' delimiter") is Python's.
        raise PackError([f"The file is not valid JSON: the first problem is at line {exc.lineno}, column {exc.colno}."]) \
            from exc
    except (ValueError, RecursionError) as exc:
        raise PackError(["The file is not valid JSON, or is nested too deeply to be a content pack."]) from exc
    if not isinstance(pack, dict) or pack.get("format") != PACK_FORMAT:
        raise PackError([f"This is not a content pack: it must be a JSON object with \"format\": \"{PACK_FORMAT}\"."])
    if pack.get("version") != PACK_VERSION:
        raise PackError([(f"This pack is format version {pack.get('version')!r}; this toolkit reads version "
                         f"{PACK_VERSION}.")])
    items = pack.get("items")
    if not isinstance(items, list):
        raise PackError(["The pack has no \"items\" list."])
    if len(items) > MAX_PACK_ITEMS:
        raise PackError([f"The pack has {len(items)} items; at most {MAX_PACK_ITEMS} are accepted at once."])
    return pack


def _picture(raw: object, where: str) -> CleanImage:
    if not isinstance(raw, dict) or set(raw) - {"media_type", "data"} or not isinstance(raw.get("data"), str):
        raise FieldErrors({"image": f"{where}: image must be an object with media_type and base64 data."})
    if len(raw["data"]) > MAX_IMAGE_BYTES * 4 // 3 + 8:
        raise FieldErrors({"image": f"{where}: the picture is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB."})
    try:
        data = base64.b64decode(raw["data"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FieldErrors({"image": f"{where}: the picture's data is not valid base64."}) from exc
    try:
        return clean_image(data, field=f"{where}: picture")
    except ImageError as exc:
        raise FieldErrors({"image": str(exc)}) from exc


def _plan(pack: dict) -> list[_Planned]:
    """Check every item without touching the database; PackError lists every problem found."""
    problems: list[str] = []
    planned: list[_Planned] = []
    seen: set[tuple[ContentKind, str]] = set()
    pack_helplines: set[str] = set()
    pack_sets: set[str] = set()
    for raw in pack["items"]:
        if isinstance(raw, dict) and raw.get("kind") == ContentKind.HELPLINE.value and isinstance(raw.get("slug"), str):
            pack_helplines.add(raw["slug"])
        if isinstance(raw, dict) and raw.get("kind") == ContentKind.HELPLINE_SET.value \
                and isinstance(raw.get("slug"), str):
            pack_sets.add(raw["slug"])
    for index, raw in enumerate(pack["items"], 1):
        where = f"Item {index}"
        if not isinstance(raw, dict) or set(raw) - {"kind", "slug", "fields", "translations"}:
            problems.append(f"{where}: each item must be an object with kind, slug and fields (and translations) "
                            "only.")
            continue
        try:
            kind = ContentKind(raw.get("kind"))
        except ValueError:
            kind = None
        if kind not in PACK_KINDS:
            problems.append(f"{where}: kind must be one of {', '.join(k.value for k in PACK_KINDS)}, "
                            f"not {str(raw.get('kind'))[:40]!r}.")
            continue
        try:
            slug = check_slug(raw.get("slug"), field=f"{where} ({kind.label}): slug")
        except FieldErrors as exc:
            problems.append(exc.errors["slug"])
            continue
        where = f"Item {index} ({kind.label} '{slug}')"
        if (kind, slug) in seen:
            problems.append(f"{where}: the same slug appears twice in the pack.")
            continue
        seen.add((kind, slug))
        fields = raw.get("fields")
        if not isinstance(fields, dict):
            problems.append(f"{where}: fields must be an object.")
            continue
        unknown = sorted(set(fields) - PACK_FIELDS[kind])
        if unknown:
            problems.append(f"{where}: unknown field {unknown[0][:40]!r}.")
            continue
        try:
            item_fields, cleaned, picture = _check_fields(kind, fields, where, pack_helplines, frozenset(pack_sets))
        except FieldErrors as exc:
            problems.extend(f"{where}: {message}" for message in exc.errors.values())
            continue
        existing = content.find_item(kind, slug)
        if existing is not None and existing.open_version is not None:
            problems.append(f"{where}: version {existing.open_version.number} of this item is "
                            f"{existing.open_version.state.label}; finish or withdraw it before importing.")
            continue
        try:
            carried = _plan_translations(kind, raw.get("translations"), cleaned, existing, where)
        except FieldErrors as exc:
            problems.extend(exc.errors.values())
            continue
        planned.append(_Planned(kind, slug, item_fields, cleaned, picture, existing, f"{kind.label} “{cleaned['title']}”",
                                carried))
    if problems:
        raise PackError(problems)
    return sorted(planned, key=lambda p: PACK_KINDS.index(p.kind))


def _plan_translations(
    kind: ContentKind, raw: object, cleaned: dict, existing: ContentItem | None, where: str
) -> list[_PlannedTranslation]:
    """An item's translations checked: each a language and the kind's wording only; FieldErrors lists problems."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise FieldErrors({"translations": f"{where}: translations must be a list."})
    names = set(drafting.VERSION_CLASSES[kind].TRANSLATED_FIELDS)
    # What a helpline's wording is checked with: the name and number the pack gives the original.
    source = SimpleNamespace(title=cleaned.get("title"), phone_number_shown=cleaned.get("phone_number_shown"),
                             review_interval_months=cleaned.get("review_interval_months", 6))
    own_language = cleaned.get("language") or translations.DEFAULT_LANGUAGE
    problems: dict[str, str] = {}
    planned: list[_PlannedTranslation] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw, 1):
        at = f"{where}, translation {index}"
        if not isinstance(entry, dict) or set(entry) != {"language", "fields"} or not isinstance(entry["fields"], dict):
            problems[f"t{index}"] = f"{at}: each translation must be an object with language and fields only."
            continue
        try:
            tag = translations.normalise_language(entry["language"] if isinstance(entry["language"], str) else "")
        except FieldErrors as exc:
            problems[f"t{index}"] = f"{at}: {exc.errors['language']}"
            continue
        at = f"{where}, {tag} translation"
        unknown = sorted(set(entry["fields"]) - names)
        if unknown:
            problems[f"t{index}"] = f"{at}: unknown field {unknown[0][:40]!r} (a translation carries only " \
                                    f"{', '.join(sorted(names))})."
            continue
        if tag in seen or translations.same_language(tag, own_language):
            problems[f"t{index}"] = (f"{at}: the item is written in {own_language}." if tag not in seen
                                     else f"{at}: the same language appears twice.")
            continue
        seen.add(tag)
        try:
            wording = translations.clean_wording(kind, source, entry["fields"])
        except FieldErrors as exc:
            problems.update({f"t{index}.{name}": f"{at}: {message}" for name, message in exc.errors.items()})
            continue
        found = next((t for t in existing.translations if t.language == tag), None) if existing else None
        if found is not None and found.open_version is not None:
            problems[f"t{index}"] = (f"{at}: version {found.open_version.number} of this translation is "
                                     f"{found.open_version.state.label}; finish or withdraw it before importing.")
            continue
        planned.append(_PlannedTranslation(tag, wording, found))
    if problems:
        raise FieldErrors(problems)
    return planned


def _check_fields(
    kind: ContentKind, fields: dict, where: str, pack_helplines: set[str], pack_sets: frozenset[str] = frozenset()
) -> tuple[dict, dict, CleanImage | None]:
    picture = None
    item_fields = dict(fields)
    if kind == ContentKind.HELPLINE_SET:
        slugs = fields.get("helplines")
        if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
            raise FieldErrors({"helplines": "helplines must be a list of helpline slugs."})
        missing = [s for s in slugs if s not in pack_helplines and content.find_item(ContentKind.HELPLINE, s) is None]
        if missing:
            raise FieldErrors({"helplines": f"helpline '{missing[0][:60]}' is neither in the pack nor in the library."})
        # Stand-ins with one identity per slug let the usual checks (count, duplicates) run before anything exists.
        stand_ins = {s: object() for s in slugs}
        cleaned = drafting.clean_fields(kind, {**fields, "helplines": [stand_ins[s] for s in slugs]})
        return item_fields, cleaned, None
    if kind == ContentKind.CAMPAIGN:
        raw_image = item_fields.pop("image", None)
        if raw_image is not None:
            picture = _picture(raw_image, where)
        recommended = item_fields.get("recommended_helpline_set")
        if recommended is not None and (not isinstance(recommended, str) or (
                recommended not in pack_sets and content.find_item(ContentKind.HELPLINE_SET, recommended) is None)):
            raise FieldErrors({"recommended_helpline_set": f"recommended helpline set '{str(recommended)[:60]}' is "
                               "neither in the pack nor in the library."})
    return item_fields, drafting.clean_fields(kind, item_fields), picture


def _unchanged(plan: _Planned) -> bool:
    current = plan.existing.current_version if plan.existing else None
    if current is None:
        return False
    if plan.kind == ContentKind.HELPLINE_SET:
        return current.title == plan.cleaned["title"] and \
            [e.helpline_item.slug for e in current.entries] == plan.fields["helplines"] and \
            ("is_sensitive" not in plan.fields or current.is_sensitive == plan.cleaned["is_sensitive"])
    # A value the pack leaves out is not a change.
    compared = {name: value for name, value in plan.cleaned.items()
                if name not in ("is_free_to_call", "review_interval_months", "recommended_set_item_id", "is_sensitive")
                or name in plan.fields}
    same = all(getattr(current, name) == value for name, value in compared.items())
    if plan.kind == ContentKind.CAMPAIGN:
        recommended = current.recommended_set_item.slug if current.recommended_set_item is not None else None
        same = same and recommended == plan.fields.get("recommended_helpline_set")
        current_sha = current.image.sha256 if current.image else None
        same = same and current_sha == (plan.picture.sha256 if plan.picture else None)
    return same


def _import_translations(
    plan: _Planned, source: ContentVersion, actor: User | None, system_label: str | None, report: PackReport
) -> list[ContentVersion]:
    """The item's translations as submitted versions made from `source`, the original's version this pack gives."""
    submitted = []
    for carried in plan.translations:
        label = f"{carried.language} translation of {plan.label}"
        existing = carried.existing
        approved = existing.current_version if existing is not None else None
        if approved is not None and approved.source_version_id == source.id and \
                translations.wording(approved) == carried.cleaned:
            report.unchanged.append(label)
            continue
        if existing is None:
            version = translations.add_translation(source.item, carried.language, carried.cleaned, actor,
                                                   system_label=system_label, source=source)
            report.added.append(label)
        else:
            version = translations.edit_translation(existing, carried.cleaned, actor, system_label=system_label,
                                                    source=source)
            report.updated.append(label)
        approval.submit_version(version, actor, system_label=system_label)
        submitted.append(version)
    return submitted


def has_approved_content() -> bool:
    """Whether anything has ever been approved here (a first install has nothing)."""
    return db.session.scalar(select(exists().where(
        ContentVersion.state.in_([VersionState.APPROVED, VersionState.RETIRED])
    )))


def import_pack(
    data: bytes,
    actor: User | None,
    *,
    approve_as: User | None = None,
    system_label: str | None = None,
) -> PackReport:
    """Load a pack as submitted versions awaiting approval, all or nothing; the caller commits.

    `approve_as` approves them at once as that admin, only on a first install (no approved content yet).
    Problems raise PackError before anything is changed.
    """
    if approve_as is not None:
        if not approve_as.is_admin or not approve_as.is_active_account:
            raise PackError([f"{approve_as.email} is not an active admin, so cannot approve the pack."])
        if has_approved_content():
            raise PackError([("This library already has approved content; --approve-as is only for a first "
                             "install. Import without it and approve the items in the library.")])
    pack = _read(data)
    planned = _plan(pack)
    report = PackReport(approved=approve_as is not None)
    submitted: list[ContentVersion] = []
    for plan in planned:
        if _unchanged(plan):
            report.unchanged.append(plan.label)
            submitted += _import_translations(plan, plan.existing.current_version, actor, system_label, report)
            continue
        fields = dict(plan.fields)
        if plan.kind == ContentKind.HELPLINE_SET:
            fields["helplines"] = [content.find_item(ContentKind.HELPLINE, s) for s in fields["helplines"]]
        if plan.kind == ContentKind.CAMPAIGN:
            fields["image_upload"] = plan.picture
            fields["remove_image"] = plan.picture is None
            recommended = fields.pop("recommended_helpline_set", None)
            if recommended is not None:  # sets load before campaigns, so one from this pack exists by now
                fields["recommended_set_item_id"] = content.find_item(ContentKind.HELPLINE_SET, recommended).id
        if plan.kind == ContentKind.HELPLINE and plan.existing is not None:
            fields.setdefault("review_interval_months", plan.existing.latest_version.review_interval_months)
        if plan.existing is None:
            version = drafting.create_item(plan.kind, fields, actor, slug=plan.slug, system_label=system_label)
            report.added.append(plan.label)
        else:
            version = drafting.start_new_version(plan.existing, actor, system_label=system_label)
            drafting.update_version(version, fields, actor, system_label=system_label)
            report.updated.append(plan.label)
        approval.submit_version(version, actor, system_label=system_label)
        submitted.append(version)
        submitted += _import_translations(plan, version, actor, system_label, report)
    for version in submitted:
        if approve_as is not None:
            approval.approve_version(version, approve_as)
    audit.record(
        "content.pack_imported", None,
        f"content pack: {len(report.added)} new, {len(report.updated)} changed, {len(report.unchanged)} unchanged"
        + (" (approved on first install)" if approve_as is not None else ""),
        actor=actor, actor_label=None if actor is not None else (system_label or "system"),
        added=report.added, updated=report.updated,
    )
    db.session.flush()
    return report


def check_pack(data: bytes) -> PackReport:
    """Read and check a pack without changing anything; the report lists its problems, if any."""
    try:
        _plan(_read(data))
    except PackError as exc:
        return PackReport(problems=exc.problems)
    return PackReport()
