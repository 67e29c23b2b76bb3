"""Small things the bulletin and subscriber tests share: mail queued to a person, a scheme's subscribers,
confirmation links, CSV uploads, everything stored, and the fastest sending the association allows."""

from __future__ import annotations

import re

from sqlalchemy import inspect, select

from coordinator.bulletins.models import Subscriber
from coordinator.extensions import db
from coordinator.mail import OutgoingMail
from coordinator.schemes.models import Scheme
from coordinator.settings import get_settings

LINK_RE = re.compile(r"https?://\S+/join/confirm/[A-Za-z0-9_.\-]+")


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


def fast_sending() -> None:
    """The association allows the most messages a second (500), so tests do not wait on the pacing."""
    get_settings().messages_per_second = 500
    db.session.commit()


def body(message, subtype: str) -> str:
    """The decoded text of one part of a parsed message ("plain" or "html"), with the line ends a reader sees."""
    return message.get_body(preferencelist=(subtype,)).get_content().replace("\r\n", "\n")


def compose_values(world, **overrides) -> dict:
    """The compose form filled in for scheme A of `world`, as a coordinator sends it, with `overrides` on top."""
    values = {
        "subject": "Doorstep scams: what to do",
        "intro": "Hello from your coordinators.",
        "campaigns": [str(world.campaign.id)],
        "helpline_set": str(world.helpline_set.id),
        "notices": [str(world.notice.id)],
        "audience": "scheme",
    }
    values.update(overrides)
    return values
