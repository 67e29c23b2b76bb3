"""Subscriber fixtures: two schemes, each with its own coordinator and streets, and a subscriber factory."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import inspect, select

from coordinator.auth.models import User
from coordinator.bulletins.models import Subscriber, SubscriberStatus
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.mail import OutgoingMail
from coordinator.schemes.models import Scheme, Street
from tests.factories import make_scheme, make_street, make_user

HOSTILE_TEXTS = ("<script>alert(1)</script>", "{{ 7*7 }}", '"><img src=x onerror=alert(1)>')
LINK_RE = re.compile(r"https?://\S+/join/confirm/[A-Za-z0-9_.\-]+")

_seq = itertools.count(1)


@dataclass
class TwoSchemes:
    """Scheme A run by coordinator A, scheme B run by coordinator B; neither may see the other's subscribers."""

    coordinator_a: User
    scheme_a: Scheme
    street_a: Street
    coordinator_b: User
    scheme_b: Scheme
    street_b: Street


@pytest.fixture
def two_schemes(app) -> TwoSchemes:
    coordinator_a = make_user(name="Pat Okafor", email="pat.okafor@example.org")
    coordinator_b = make_user(name="Sam Brightwell")
    scheme_a = make_scheme("Hayes Lane Watch", [coordinator_a], slug="hayes-lane-watch")
    scheme_b = make_scheme("Secret Close Watch", [coordinator_b], slug="secret-close-watch")
    street_a = make_street(scheme_a, "Hayes Lane", postcode="BR2 9EA")
    street_b = make_street(scheme_b, "Confidential Crescent", postcode="BR7 5PG")
    db.session.commit()
    return TwoSchemes(coordinator_a, scheme_a, street_a, coordinator_b, scheme_b, street_b)


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


def mail_to(address: str) -> list[OutgoingMail]:
    """Every transactional message to this address, queued or gone."""
    return list(db.session.scalars(select(OutgoingMail).where(OutgoingMail.to_address == address)))


def subscribers_of(scheme: Scheme) -> list[Subscriber]:
    """A scheme's subscribers, oldest first."""
    return list(db.session.scalars(select(Subscriber).where(Subscriber.scheme_id == scheme.id).order_by(Subscriber.id)))


def token_in(row: OutgoingMail) -> str:
    """The token of the confirmation link in a queued message's plain text."""
    return row.text_body.split("/join/confirm/", 1)[1].split()[0]


def confirmation_link(message) -> str:
    """The confirmation link in the plain-text part of a parsed email."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    match = LINK_RE.search(text)
    assert match, text
    return match.group(0)


def everything_stored() -> str:
    """Every value of every row of every table, as one string: to prove something is stored nowhere."""
    parts = []
    for table in db.metadata.sorted_tables:
        if not inspect(db.engine).has_table(table.name):
            continue
        for row in db.session.execute(select(table)).all():
            parts.append(repr(tuple(row)))
    return "\n".join(parts)


def csv_bytes(*lines: str, header: str = "email,name,street", encoding: str = "utf-8") -> bytes:
    """A small CSV upload, header first, lines joined with CRLF as a spreadsheet saves them."""
    return "\r\n".join([header, *lines]).encode(encoding) + b"\r\n"


# --- Bulletins ---------------------------------------------------------------------------------------------------


@dataclass
class BulletinWorld:
    """Two schemes (as in `two_schemes`) plus what a bulletin needs: an admin, a current campaign, verified
    helplines in an approved set, and an approved local notice of scheme A."""

    s: TwoSchemes
    admin: User
    campaign: object
    helplines: list
    helpline_set: object
    notice: object


@pytest.fixture
def world(two_schemes) -> BulletinWorld:
    from coordinator.content import services as content
    from tests.content.factories import make_campaign, make_helpline, make_helpline_set, make_notice
    from tests.factories import make_admin

    admin = make_admin(name="Ada Admin", email="ada.admin@example.org")
    # One second admin approves everything the first writes (four eyes), instead of a new admin per item.
    reviewer = make_admin(name="Rex Reviewer")
    campaign = make_campaign(
        admin,
        approver=reviewer,
        title="Doorstep scams",
        summary="Cold callers who pressure you are not to be trusted.",
        body="## Say no\n\nNever let a caller rush you. See [Action Fraud](https://www.actionfraud.police.uk).",
        key_messages=["Take your time", "Ask a neighbour"],
        call_to_action="Report scams to Action Fraud on 0300 123 2040.",
        hashtag="#ScamAware",
        web_address="www.met.police.uk/scams",
    )
    helplines = [
        make_helpline(admin, approver=reviewer, title="Victim Support", number="0808 168 9111",
                      who_for="anyone affected by crime", web_address="www.victimsupport.org.uk"),
        make_helpline(admin, approver=reviewer, title="Crimestoppers", number="0800 555 111",
                      who_for="reporting crime anonymously"),
    ]
    for helpline in helplines:
        content.reverify_helpline(helpline.item, admin)
    helpline_set = make_helpline_set(helplines, admin, title="Victims and witnesses")
    notice = make_notice(two_schemes.scheme_a, two_schemes.coordinator_a, title="Residents' meeting",
                         body="Tuesday 7pm at St Mary's hall.\nAll welcome.", approver=admin)
    db.session.commit()
    return BulletinWorld(two_schemes, admin, campaign, helplines, helpline_set, notice)


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


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on loopback, and the app pointed at it; 4xx retries come after a few milliseconds."""
    from tests.bulletins.smtp import SMTPServer

    server = SMTPServer()
    server.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, BULLETIN_RETRY_BASE_SECONDS=0.01)
    try:
        yield server
    finally:
        server.stop()


def fast_sending() -> None:
    """The association allows the most messages a second (500), so tests do not wait on the pacing."""
    from coordinator.settings import get_settings

    get_settings().messages_per_second = 500
    db.session.commit()


def body(message, subtype: str) -> str:
    """The decoded text of one part of a parsed message ("plain" or "html"), with the line ends a reader sees."""
    return message.get_body(preferencelist=(subtype,)).get_content().replace("\r\n", "\n")
