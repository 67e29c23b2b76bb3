"""Small builders for the admin tests."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.extensions import db
from coordinator.mail import OutgoingMail
from tests.helpers.hostile import HOSTILE_TEXTS

HOSTILE = HOSTILE_TEXTS
HEADER = "email,name,scheme,role"


def csv_bytes(*lines: str, header: str = HEADER, bom: bool = False) -> bytes:
    """A CSV upload: the header, then the lines as written."""
    text = "\r\n".join([header, *lines]) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def upload(data: bytes, filename: str = "coordinators.csv") -> tuple[io.BytesIO, str]:
    """A file field value for the test client."""
    return io.BytesIO(data), filename


def count(model) -> int:
    """Rows in a table."""
    return db.session.scalar(select(func.count()).select_from(model))


def actions(name: str) -> list[AuditEntry]:
    """Audit entries with exactly this action."""
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == name).order_by(AuditEntry.id)))


def queued_mail() -> list[OutgoingMail]:
    """Every outbox row, oldest first."""
    return list(db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))
