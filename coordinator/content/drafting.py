"""Drafting content: a new item and its first draft, a new version from the approved one, and changing a draft.

Approved and retired versions never change: editing an approved item starts a new draft beside it, which then
goes through approval (`approval.py`) like the first.
"""

from __future__ import annotations

from sqlalchemy import select

from coordinator import audit
from coordinator.auth.models import User
from coordinator.content import addresses
from coordinator.content.approval import transition
from coordinator.content.fields import (
    FieldErrors,
    clean_campaign,
    clean_helpline,
    clean_helpline_set,
    clean_local_notice,
)
from coordinator.content.images import CleanImage, ImageError, clean_image
from coordinator.content.models import (
    CampaignVersion,
    ContentImage,
    ContentItem,
    ContentKind,
    ContentVersion,
    HelplineSetEntry,
    HelplineSetVersion,
    HelplineVersion,
    LocalNoticeVersion,
    VersionState,
)
from coordinator.content.services import (
    ContentError,
    ContentPermissionError,
    can_edit,
    default_review_interval_months,
    is_coordinator_of,
)
from coordinator.extensions import db
from coordinator.schemes.models import Scheme

S = VersionState
VERSION_CLASSES: dict[ContentKind, type[ContentVersion]] = {
    ContentKind.CAMPAIGN: CampaignVersion,
    ContentKind.HELPLINE: HelplineVersion,
    ContentKind.HELPLINE_SET: HelplineSetVersion,
    ContentKind.LOCAL_NOTICE: LocalNoticeVersion,
}
CLEANERS = {
    ContentKind.CAMPAIGN: clean_campaign,
    ContentKind.HELPLINE: clean_helpline,
    ContentKind.HELPLINE_SET: clean_helpline_set,
    ContentKind.LOCAL_NOTICE: clean_local_notice,
}


def clean_fields(kind: ContentKind, fields: dict) -> dict:
    """The kind's fields, checked; FieldErrors names each wrong field."""
    if kind == ContentKind.HELPLINE and fields.get("review_interval_months") in (None, ""):
        fields = {**fields, "review_interval_months": default_review_interval_months()}
    cleaned = CLEANERS[kind](fields)
    recommended = cleaned.get("recommended_set_item_id")
    if recommended is not None:
        found = db.session.get(ContentItem, recommended)
        if found is None or found.kind != ContentKind.HELPLINE_SET:
            raise FieldErrors({"recommended_set_item_id": "Recommended helpline set: choose one of the helpline sets, "
                               "or none."})
    return cleaned


def store_image(picture: CleanImage) -> ContentImage:
    """Keep a re-encoded picture once, however many versions use it."""
    image = db.session.scalar(select(ContentImage).where(ContentImage.sha256 == picture.sha256))
    if image is None:
        image = ContentImage(sha256=picture.sha256, media_type=picture.media_type, width=picture.width,
                             height=picture.height, data=picture.data)
        db.session.add(image)
        db.session.flush()
    return image


def _check_may_create(kind: ContentKind, actor: User | None, scheme: Scheme | None) -> None:
    if actor is None or not actor.is_active_account:
        raise ContentPermissionError("Log in to add content.")
    if kind == ContentKind.LOCAL_NOTICE:
        if scheme is None:
            raise ContentError("A local notice belongs to one scheme.")
        if not (actor.is_admin or is_coordinator_of(actor, scheme.id)):
            raise ContentPermissionError("You can only write notices for your own schemes.")
    elif not actor.is_admin:
        raise ContentPermissionError("Only admins add campaigns, helplines and helpline sets.")


def create_item(
    kind: ContentKind,
    fields: dict,
    actor: User | None,
    scheme: Scheme | None = None,
    *,
    slug: str | None = None,
    system_label: str | None = None,
) -> ContentVersion:
    """A new item with its first version as a draft."""
    if system_label is None:
        _check_may_create(kind, actor, scheme)
    typed_slug = (fields.get("slug") or "").strip()
    if typed_slug:
        slug = addresses.check_slug_for(kind, typed_slug)
    cleaned = clean_fields(kind, fields)
    picture = _picture_from(fields)
    item = ContentItem(kind=kind, slug=slug or addresses.item_slug(kind, cleaned["title"]), scheme=scheme,
                       created_by=actor)
    version = VERSION_CLASSES[kind](item=item, number=1, state=S.DRAFT, created_by=actor)
    db.session.add(item)
    _apply(version, cleaned, picture, fields)
    db.session.flush()
    audit.record(
        "content.created", version, f"{kind.label} “{version.title}” started", actor=actor,
        actor_label=None if actor is not None else (system_label or "system"), item_id=item.id, kind=kind.value,
    )
    return version


def start_new_version(item: ContentItem, actor: User | None, *, system_label: str | None = None) -> ContentVersion:
    """The version to edit: the open one, or a new draft copied from the approved (or latest) version."""
    if system_label is None and not can_edit(item, actor):
        raise ContentPermissionError("You cannot change this content.")
    if item.open_version is not None:
        return item.open_version
    base = item.current_version or item.latest_version
    number = item.latest_version.number + 1
    version = VERSION_CLASSES[item.kind](item=item, number=number, state=S.DRAFT, created_by=actor)
    db.session.add(version)
    for name in base.FIELDS:
        if name != "helplines":
            setattr(version, name, getattr(base, name))
    if isinstance(base, HelplineSetVersion):
        version.entries = [HelplineSetEntry(position=e.position, helpline_item=e.helpline_item) for e in base.entries]
    db.session.flush()
    audit.record(
        "content.new_version", version, f"{item.kind.label} “{version.title}” version {version.number} started "
        f"from version {base.number}", actor=actor,
        actor_label=None if actor is not None else (system_label or "system"), item_id=item.id,
    )
    return version


def update_version(version: ContentVersion, fields: dict, actor: User | None, *,
                   system_label: str | None = None) -> ContentVersion:
    """Change a draft's fields. Approved and retired versions never change; a submitted one must be withdrawn first."""
    if version.is_settled:
        raise ContentError(
            f"Version {version.number} of “{version.title}” is {version.state.label} and can never change. "
            "Edit the item to start a new version."
        )
    if version.state == S.SUBMITTED:
        raise ContentError(
            f"Version {version.number} of “{version.title}” is awaiting approval. Withdraw it to make changes."
        )
    if system_label is None and not can_edit(version.item, actor):
        raise ContentPermissionError("You cannot change this content.")
    cleaned = clean_fields(version.kind, fields)
    picture = _picture_from(fields)
    if version.state == S.CHANGES_REQUESTED:
        transition(version, S.DRAFT, actor)
    before = version_fields(version)
    _apply(version, cleaned, picture, fields)
    db.session.flush()
    after = version_fields(version)
    changed = [name for name in after if after[name] != before.get(name)]
    if changed:
        audit.record(
            "content.draft_changed", version, f"{version.kind.label} “{version.title}” version {version.number} "
            f"changed: {', '.join(changed)}", actor=actor,
            actor_label=None if actor is not None else (system_label or "system"), item_id=version.item_id,
            fields=changed,
        )
    return version


def edit_item(item: ContentItem, fields: dict, actor: User) -> ContentVersion:
    """The edit form's one call: change the open draft, or start a new draft from the approved version."""
    open_version = item.open_version
    if open_version is not None and open_version.state == S.SUBMITTED:
        raise ContentError(
            f"Version {open_version.number} is awaiting approval. Withdraw it first if you need to change it."
        )
    typed_slug = (fields.get("slug") or "").strip()
    if typed_slug:
        addresses.check_slug_for(item.kind, typed_slug, item)  # before anything changes
    version = open_version or start_new_version(item, actor)
    update_version(version, fields, actor)
    if typed_slug:
        # The address is the item's, not a version's: it changes at once, and the old one keeps leading here.
        addresses.rename(item, typed_slug, actor)
    return version


def _picture_from(fields: dict) -> CleanImage | None:
    upload = fields.get("image_upload")
    if not upload:
        return None
    if isinstance(upload, CleanImage):
        return upload
    try:
        return clean_image(upload, field="Picture")
    except ImageError as exc:
        raise FieldErrors({"image_upload": str(exc)}) from exc


def _apply(version: ContentVersion, cleaned: dict, picture: CleanImage | None, fields: dict) -> None:
    for name, value in cleaned.items():
        if name != "helplines":
            setattr(version, name, value)
    if isinstance(version, CampaignVersion):
        if picture is not None:
            version.image = store_image(picture)
        elif fields.get("remove_image"):
            version.image = None
    if isinstance(version, HelplineSetVersion):
        wanted = [item.id for item in cleaned["helplines"]]
        if [e.helpline_item_id for e in version.entries] != wanted:
            # Empty the list first: the database checks (version, position) and (version, helpline) are unique.
            version.entries.clear()
            db.session.flush()
            version.entries.extend(
                HelplineSetEntry(position=i, helpline_item=item) for i, item in enumerate(cleaned["helplines"], 1)
            )


def version_fields(version: ContentVersion) -> dict:
    """The kind's fields as plain data (helpline sets list their helplines' slugs)."""
    data = {}
    for name in version.FIELDS:
        if name == "helplines":
            data[name] = [e.helpline_item.slug for e in version.entries]
        else:
            data[name] = getattr(version, name)
    return data
