"""The association's settings, kept in the database and edited by admins (one row)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column

from coordinator import audit
from coordinator.db import TimestampMixin
from coordinator.extensions import db


class AssociationSettings(TimestampMixin, db.Model):
    """What the association decides once for everyone: its name, spares, review periods, approval rules."""

    __tablename__ = "association_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    association_name: Mapped[str] = mapped_column(String(160), default="Bromley Neighbourhood Watch Association")
    footer_text: Mapped[str] = mapped_column(Text, default="Neighbourhood Watch volunteers are unpaid, at every level.")
    sender_address: Mapped[str] = mapped_column(String(254), default="")
    spare_copies_percent: Mapped[int] = mapped_column(default=5)
    helpline_review_months: Mapped[int] = mapped_column(default=6)
    helpline_grace_days: Mapped[int] = mapped_column(default=30)
    is_four_eyes_required: Mapped[bool] = mapped_column(default=True, server_default=true())
    is_bulletin_approval_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    messages_per_second: Mapped[int] = mapped_column(default=20)


class SettingsError(ValueError):
    """A setting is out of range; the message names it."""


@dataclass
class SettingsChange:
    """New values for the settings, as typed by an admin."""

    association_name: str
    footer_text: str
    sender_address: str
    spare_copies_percent: int
    helpline_review_months: int
    helpline_grace_days: int
    is_four_eyes_required: bool
    is_bulletin_approval_required: bool
    messages_per_second: int


LIMITS = {
    "spare_copies_percent": (0, 50, "Spare copies must be between 0 and 50 per cent."),
    "helpline_review_months": (1, 24, "The helpline review interval must be between 1 and 24 months."),
    "helpline_grace_days": (0, 180, "The grace period must be between 0 and 180 days."),
    "messages_per_second": (1, 500, "Messages per second must be between 1 and 500."),
}


def get_settings() -> AssociationSettings:
    """The settings row, created with the defaults the first time it is asked for."""
    settings = db.session.get(AssociationSettings, 1)
    if settings is None:
        settings = AssociationSettings(id=1)
        db.session.add(settings)
        db.session.flush()
    return settings


def update_settings(change: SettingsChange) -> list[str]:
    """Apply an admin's change after checking every range; returns the names of the settings changed (audited)."""
    for name, (low, high, message) in LIMITS.items():
        value = getattr(change, name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise SettingsError(message)
    if not change.association_name.strip():
        raise SettingsError("Enter the association's name.")
    if change.sender_address.strip():
        try:
            validate_email(change.sender_address.strip(), check_deliverability=False)
        except EmailNotValidError as exc:
            raise SettingsError(f"The sender address is not valid: {exc}") from exc
    settings = get_settings()
    changed = {}
    for f in fields(change):
        new = getattr(change, f.name)
        new = new.strip() if isinstance(new, str) else new
        old = getattr(settings, f.name)
        if old != new:
            changed[f.name] = {"old": old, "new": new}
            setattr(settings, f.name, new)
    if changed:
        audit.record("settings.changed", settings, "settings changed: " + ", ".join(changed), changes=changed)
    return list(changed)
