"""What an admin does to an account: deactivate, reactivate, change its role; each checks, changes and audits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.auth import services as accounts
from coordinator.auth.models import Role
from coordinator.auth.services import AccountError
from coordinator.extensions import db
from tests.factories import make_admin, make_user


def actions(name: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == name).order_by(AuditEntry.id)))


def test_deactivate_ends_sessions_but_never_ones_own(app):
    admin = make_admin()
    user = make_user()
    token = user.session_token
    accounts.deactivate_user(user, by=admin)
    assert not user.is_active_account and user.session_token != token
    assert actions("users.deactivated")[0].object_id == str(user.id)
    with pytest.raises(AccountError, match="already deactivated"):
        accounts.deactivate_user(user, by=admin)
    with pytest.raises(AccountError, match="your own account"):
        accounts.deactivate_user(admin, by=admin)
    assert admin.is_active_account
    accounts.reactivate_user(user, by=admin)
    assert user.is_active_account
    with pytest.raises(AccountError, match="already active"):
        accounts.reactivate_user(user, by=admin)


def test_change_role_but_never_demote_oneself(app):
    admin = make_admin()
    user = make_user()
    accounts.change_role(user, Role.ADMIN, by=admin)
    assert user.role == Role.ADMIN
    assert actions("users.role_changed")[0].details == {"old": "coordinator", "new": "admin"}
    with pytest.raises(AccountError, match="already an admin"):
        accounts.change_role(user, Role.ADMIN, by=admin)
    with pytest.raises(AccountError, match="your own admin role"):
        accounts.change_role(admin, Role.COORDINATOR, by=admin)
    assert admin.role == Role.ADMIN
    # Another admin may demote them.
    accounts.change_role(admin, Role.COORDINATOR, by=user)
    assert admin.role == Role.COORDINATOR


def test_each_change_is_audited_as_the_admin_who_made_it_from_the_command_line_too(app):
    admin, user = make_admin(), make_user()
    accounts.change_role(user, Role.ADMIN, by=admin)
    accounts.deactivate_user(user, by=admin)
    accounts.reactivate_user(user, by=admin)
    entries = [*actions("users.role_changed"), *actions("users.deactivated"), *actions("users.reactivated")]
    assert [(e.actor_id, e.actor_label) for e in entries] == [(admin.id, admin.email)] * 3
