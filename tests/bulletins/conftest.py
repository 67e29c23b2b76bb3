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
