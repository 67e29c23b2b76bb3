"""Bulletin factories: subscribers as the sign-up form leaves them, and draft bulletins made through the service."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from coordinator.auth.models import User
from coordinator.bulletins.models import Subscriber, SubscriberStatus
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.schemes.models import Scheme, Street

if TYPE_CHECKING:
    from tests.fixtures.bulletins import BulletinWorld

_seq = itertools.count(1)


def make_subscriber(scheme: Scheme, email: str | None = None, status: SubscriberStatus = SubscriberStatus.CONFIRMED,
                    name: str = "", street: Street | None = None, **fields) -> Subscriber:
    """A subscriber as if they had signed up (and, for confirmed ones, confirmed) by the web form."""
    now = utcnow()
    has_confirmed = status in (SubscriberStatus.CONFIRMED, SubscriberStatus.BOUNCING)
    fields.setdefault("confirmed_at", now if has_confirmed else None)
    fields.setdefault("unsubscribed_at", now if status == SubscriberStatus.UNSUBSCRIBED else None)
    subscriber = Subscriber(
        scheme=scheme,
        email=email or f"resident{next(_seq)}@example.net",
        name=name,
        street=street,
        status=status,
        consented_at=now,
        consent_method="web form",
        consent_wording=f"I agree that {scheme.name} may email me.",
        confirmation_sent_at=now,
        **fields,
    )
    db.session.add(subscriber)
    db.session.flush()
    return subscriber


def bulletin_draft(world: BulletinWorld, **overrides):
    """A complete draft for scheme A: the campaign, the set, the notice, the whole scheme."""
    from coordinator.bulletins.drafts import BulletinDraft

    values = {
        "subject": "Doorstep scams: what to do",
        "intro": "Hello from your coordinators.\n\nPlease read this one.",
        "campaign_version_ids": [world.campaign.id],
        "helpline_set_version_id": world.helpline_set.id,
        "local_notice_version_ids": [world.notice.id],
        "is_whole_scheme": True,
        "street_ids": [],
    }
    values.update(overrides)
    return BulletinDraft(**values)


def make_bulletin(world: BulletinWorld, scheme: Scheme | None = None, actor: User | None = None, **overrides):
    """A draft bulletin made through the service, committed."""
    from coordinator.bulletins.drafts import create_bulletin

    scheme = scheme or world.s.scheme_a
    if scheme is not world.s.scheme_a:
        overrides.setdefault("local_notice_version_ids", [])
    bulletin = create_bulletin(scheme, bulletin_draft(world, **overrides), actor or world.s.coordinator_a)
    db.session.commit()
    return bulletin


def make_recipients(scheme: Scheme, count: int, prefix: str = "resident", **fields) -> list[Subscriber]:
    """`count` confirmed subscribers in one go (fast enough for a few thousand)."""
    now = utcnow()
    rows = [
        Subscriber(
            scheme=scheme,
            email=f"{prefix}{n}@example.net",
            name=fields.get("name", f"Resident {n}"),
            status=fields.get("status", SubscriberStatus.CONFIRMED),
            consented_at=now,
            consent_method="web form",
            consent_wording="I agree.",
            confirmation_sent_at=now,
            confirmed_at=now,
        )
        for n in range(count)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows
