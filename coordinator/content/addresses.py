"""Items' addresses: the slug a campaign's public page and short address (/campaigns/<slug>, /c/<slug>) are named by.

A slug is made from the title in any script (coordinator/slugs.py) unless the admin types one, and an admin may
change it later. Leaflets and QR codes already printed keep the old one for years, so a renamed item's former
slugs stay its own and the public pages send them on to the current one; no other item may take them.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from coordinator import audit
from coordinator.auth.models import User
from coordinator.content.fields import FieldErrors
from coordinator.content.models import ContentItem, ContentKind, FormerSlug
from coordinator.extensions import db
from coordinator.slugs import slug_problem, unique_slug

ITEM_SLUG_MAX = 100


def former_slugs(kind: ContentKind) -> set[str]:
    """The slugs items of this kind have given up."""
    return set(db.session.scalars(select(FormerSlug.slug).where(FormerSlug.kind == kind)))


def item_slug(kind: ContentKind, title: str) -> str:
    """A slug for a new item of this kind, from its title, that no item of the kind has or had."""
    fallback = kind.value.replace("_", "-")
    return unique_slug(ContentItem.slug, title, ContentItem.kind == kind, max_length=ITEM_SLUG_MAX,
                       fallback=fallback, also_taken=former_slugs(kind))


def check_slug_for(kind: ContentKind, value: str, item: ContentItem | None = None) -> str:
    """A slug an admin typed, checked: well formed, not a generic word, not another item's (now or before)."""
    value = value.strip()
    problem = slug_problem(value, ITEM_SLUG_MAX)
    if problem is None:
        owner = db.session.scalar(select(ContentItem).where(ContentItem.kind == kind, ContentItem.slug == value))
        former = db.session.scalar(select(FormerSlug).where(FormerSlug.kind == kind, FormerSlug.slug == value))
        if owner is not None and owner is not item:
            problem = "Another item already has this address. Choose another."
        elif former is not None and former.item is not item:
            problem = "Another item had this address, and leaflets may still print it. Choose another."
    if problem is not None:
        raise FieldErrors({"slug": f"Address: {problem}"})
    return value


def rename(item: ContentItem, value: str, actor: User | None) -> bool:
    """Give the item a new slug, keeping the old one leading to it; False when it is the same."""
    slug = check_slug_for(item.kind, value, item)
    old = item.slug
    if slug == old:
        return False
    # Taking back a slug it had before: it is no longer a former one.
    db.session.execute(delete(FormerSlug).where(FormerSlug.kind == item.kind, FormerSlug.slug == slug))
    db.session.add(FormerSlug(kind=item.kind, slug=old, item=item))
    item.slug = slug
    db.session.flush()
    audit.record(
        "content.address_changed", item, f"{item.kind.label} address changed from {old} to {slug}; the old address "
        "leads to the new one", actor=actor, item_id=item.id, old_slug=old, new_slug=slug,
    )
    return True


def renamed_to(kind: ContentKind, slug: str) -> str | None:
    """The current slug of the item that once had `slug`, or None."""
    return db.session.scalar(
        select(ContentItem.slug).join(FormerSlug, FormerSlug.item_id == ContentItem.id)
        .where(FormerSlug.kind == kind, FormerSlug.slug == slug)
    )
