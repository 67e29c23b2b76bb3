"""Admin rules, without HTTP: the coordinators list, inviting, dashboard figures."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coordinator.admin import dashboard, services
from coordinator.admin.services import AccountStatus, AdminError, UserFilter
from coordinator.auth.models import Role, User
from coordinator.extensions import db
from coordinator.schemes.models import CoordinatorRole, SchemeCoordinator
from tests.admin.helpers import actions, count, queued_mail
from tests.factories import make_admin, make_scheme, make_street, make_user


def _emails(stmt) -> list[str]:
    return [u.email for u in db.session.scalars(stmt)]


def test_dashboard_counts(app):
    active = make_user()
    make_user(password=None)
    make_user(password=None)
    make_user(active=False)
    make_admin()
    scheme = make_scheme(coordinators=[active])
    make_street(scheme, households=30)
    make_street(scheme, households=12)
    make_scheme()
    counts = dashboard.dashboard_counts()
    assert (counts.coordinators_active, counts.coordinators_invited, counts.coordinators_deactivated) == (1, 2, 1)
    assert (counts.admins, counts.schemes, counts.streets, counts.households) == (1, 2, 2, 42)


def test_dashboard_counts_on_an_empty_database(app):
    counts = dashboard.dashboard_counts()
    assert counts == dashboard.DashboardCounts(0, 0, 0, 0, 0, 0, 0)


def test_invited_not_active_lists_accounts_without_a_password(app):
    waiting = make_user(password=None)
    make_user()
    make_user(password=None, active=False)
    assert dashboard.invited_not_active() == [waiting]


def test_account_status(app):
    assert services.account_status(make_user()) == AccountStatus.ACTIVE
    assert services.account_status(make_user(password=None)) == AccountStatus.INVITED
    assert services.account_status(make_user(password=None, active=False)) == AccountStatus.DEACTIVATED


def test_users_query_searches_name_and_email_without_regard_to_case(app):
    make_user(name="Pat Okafor", email="pat@example.org")
    make_user(name="Sam Reid", email="sam.PATTERSON@example.org")
    make_user(name="Lee Chan", email="lee@example.org")
    assert sorted(_emails(services.users_query(UserFilter(search="PAT")))) == [
        "pat@example.org",
        "sam.PATTERSON@example.org",
    ]
    assert _emails(services.users_query(UserFilter(search="chan"))) == ["lee@example.org"]


def test_users_query_treats_like_wildcards_literally(app):
    make_user(name="100% Volunteer", email="a@example.org")
    make_user(name="Plain Name", email="b_c@example.org")
    make_user(name="Other", email="bxc@example.org")
    assert _emails(services.users_query(UserFilter(search="%"))) == ["a@example.org"]
    assert _emails(services.users_query(UserFilter(search="b_c"))) == ["b_c@example.org"]


def test_users_query_filters_by_role_status_and_scheme(app):
    admin = make_admin(email="admin@example.org")
    active = make_user(email="active@example.org")
    invited = make_user(email="invited@example.org", password=None)
    gone = make_user(email="gone@example.org", active=False)
    scheme = make_scheme(coordinators=[active, gone])
    make_scheme(coordinators=[invited])
    assert _emails(services.users_query(UserFilter(role="admin"))) == [admin.email]
    assert sorted(_emails(services.users_query(UserFilter(role="coordinator")))) == sorted(
        [active.email, invited.email, gone.email]
    )
    assert _emails(services.users_query(UserFilter(status="invited"))) == [invited.email]
    assert _emails(services.users_query(UserFilter(status="deactivated"))) == [gone.email]
    assert sorted(_emails(services.users_query(UserFilter(status="active")))) == sorted([admin.email, active.email])
    assert sorted(_emails(services.users_query(UserFilter(scheme_id=scheme.id)))) == sorted([active.email, gone.email])
    assert _emails(services.users_query(UserFilter(scheme_id=scheme.id, status="active"))) == [active.email]
    # Unknown values narrow nothing rather than failing.
    assert len(_emails(services.users_query(UserFilter(role="owner", status="asleep")))) == 4


def test_invite_coordinator_creates_account_place_and_invitation(app):
    admin = make_admin()
    scheme = make_scheme()
    user = services.invite_coordinator(
        " New@Example.org ", "  Nia Obi ", scheme, CoordinatorRole.DEPUTY, invited_by=admin
    )
    assert (user.email, user.name, user.role, user.has_password) == (
        "New@Example.org",
        "Nia Obi",
        Role.COORDINATOR,
        False,
    )
    assert user.invited_at is not None
    membership = db.session.scalar(select(SchemeCoordinator).where(SchemeCoordinator.user_id == user.id))
    assert (membership.scheme_id, membership.role) == (scheme.id, CoordinatorRole.DEPUTY)
    [mail] = queued_mail()
    assert mail.to_address == "New@Example.org" and "/account/set-password/" in mail.text_body
    assert admin.name in mail.text_body
    assert actions("users.invited")[0].actor_id == admin.id
    assert actions("schemes.coordinator_added")[0].object_id == str(scheme.id)


def test_invite_refuses_an_email_that_has_an_account_whatever_its_case(app):
    make_user(email="pat@example.org")
    with pytest.raises(AdminError, match="already has an account"):
        services.invite_coordinator("PAT@example.org", "Pat Again")
    assert count(User) == 1 and queued_mail() == []


def test_invite_refuses_a_formula_name(app):
    with pytest.raises(AdminError, match="formula"):
        services.invite_coordinator("eve@example.org", '=HYPERLINK("http://evil")')
    assert count(User) == 0


def test_resend_only_to_an_active_account_without_a_password(app):
    invited = make_user(password=None)
    services.resend_invitation(invited)
    assert len(queued_mail()) == 1
    with pytest.raises(AdminError, match="already set a password"):
        services.resend_invitation(make_user())
    with pytest.raises(AdminError, match="deactivated"):
        services.resend_invitation(make_user(password=None, active=False))
    assert len(queued_mail()) == 1
