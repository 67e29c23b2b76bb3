"""Association settings: defaults, ranges, audit."""

from __future__ import annotations

import dataclasses

import pytest

from coordinator.audit.models import AuditEntry
from coordinator.extensions import db
from coordinator.settings import SettingsChange, SettingsError, get_settings, update_settings


def _change(**overrides) -> SettingsChange:
    settings = get_settings()
    # The logo's upload and removal are not columns: they default to "leave the logo as it is".
    values = {f.name: getattr(settings, f.name) for f in dataclasses.fields(SettingsChange) if hasattr(settings, f.name)}
    values.update(overrides)
    return SettingsChange(**values)


def test_defaults(app):
    settings = get_settings()
    assert settings.spare_copies_percent == 5
    assert settings.helpline_review_months == 6 and settings.helpline_grace_days == 30
    assert settings.is_four_eyes_required is True and settings.is_bulletin_approval_required is False


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("spare_copies_percent", -1, "Spare copies"),
        ("messages_per_second", 0, "Messages per second"),
        ("helpline_review_months", 0, "review interval"),
        ("helpline_grace_days", 999, "grace period"),
        ("sender_address", "not an address", "sender address"),
        ("association_name", "   ", "association's name"),
    ],
)
def test_out_of_range_values_are_refused(app, field, value, words):
    with pytest.raises(SettingsError, match=words):
        update_settings(_change(**{field: value}))
    db.session.rollback()
    assert getattr(get_settings(), field) != value


def test_changes_are_audited(app):
    changed = update_settings(_change(spare_copies_percent=10, association_name="Orpington NWA"))
    db.session.commit()
    assert set(changed) == {"spare_copies_percent", "association_name"}
    entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "settings.changed")).one()
    assert entry.details["changes"]["spare_copies_percent"] == {"old": 5, "new": 10}
    assert update_settings(_change()) == []
