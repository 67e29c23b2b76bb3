"""Writing and reading the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import Select, select

from coordinator.audit.models import AuditEntry
from coordinator.auth.models import User
from coordinator.db import UTC
from coordinator.extensions import db


def record(
    action: str,
    obj: object | None = None,
    summary: str = "",
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    **details: object,
) -> AuditEntry:
    """Add one audit entry to the session; the caller's commit makes it permanent with the change itself."""
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()
    entry = AuditEntry(
        action=action,
        actor=actor,
        actor_label=actor_label if actor_label is not None else (actor.email if actor else "system"),
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(getattr(obj, "id", "") or "") if obj is not None else "",
        summary=summary[:500],
        details={k: v for k, v in details.items() if v is not None},
        ip_address=(request.remote_addr or "")[:45] if has_request_context() else "",
    )
    db.session.add(entry)
    return entry


@dataclass
class AuditFilter:
    """What an admin narrows the audit log by."""

    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: date | None = None
    date_to: date | None = None


def audit_query(f: AuditFilter) -> Select:
    """Newest first, narrowed by the filter."""
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if f.actor:
        stmt = stmt.where(AuditEntry.actor_label.icontains(f.actor, autoescape=True))
    if f.action:
        stmt = stmt.where(AuditEntry.action.startswith(f.action, autoescape=True))
    if f.object_type:
        stmt = stmt.where(AuditEntry.object_type == f.object_type)
    if f.object_id:
        stmt = stmt.where(AuditEntry.object_id == f.object_id)
    if f.date_from:
        stmt = stmt.where(AuditEntry.at >= datetime.combine(f.date_from, time.min, UTC))
    if f.date_to:
        stmt = stmt.where(AuditEntry.at < datetime.combine(f.date_to + timedelta(days=1), time.min, UTC))
    return stmt


def known_actions() -> list[str]:
    """Every action that appears in the log, for the filter's choices."""
    return list(db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def known_object_types() -> list[str]:
    """Every kind of object that appears in the log, for the filter's choices."""
    stmt = (
        select(AuditEntry.object_type).where(AuditEntry.object_type != "").distinct().order_by(AuditEntry.object_type)
    )
    return list(db.session.scalars(stmt))
