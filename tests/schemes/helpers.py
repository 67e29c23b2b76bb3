"""Small things the schemes tests share: CSV uploads, audit entries and a street added meanwhile."""

from __future__ import annotations

from sqlalchemy import event, func, select

from coordinator.audit.models import AuditEntry
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.schemes.models import Street


def csv_bytes(*lines: str, header: str = "name,postcode,households,no_leaflets,delivery_notes") -> bytes:
    """A small CSV upload, header first, lines joined with CRLF as a spreadsheet saves them."""
    return "\r\n".join([header, *lines]).encode("utf-8") + b"\r\n"


def audit_entries(action: str) -> list[AuditEntry]:
    """Audit entries with exactly this action, oldest first."""
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def street_count(scheme) -> int:
    """How many streets the scheme has in the database."""
    return db.session.scalar(select(func.count(Street.id)).where(Street.scheme_id == scheme.id))


def twin_added_by_someone_else(scheme, name: str, postcode: str) -> None:
    """Just before this session writes, another person's request adds and commits the same street."""

    def add_twin(_session, _context, _instances):
        with db.engine.begin() as other:
            other.execute(Street.__table__.insert().values(
                scheme_id=scheme.id, name=name, postcode=postcode, households=5, households_no_leaflets=0,
                delivery_notes="", created_at=utcnow(), updated_at=utcnow()))

    event.listen(db.session, "before_flush", add_twin, once=True)
