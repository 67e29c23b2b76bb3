"""Who coordinates a scheme: adding, changing and removing coordinators, and listing them, without HTTP."""

from __future__ import annotations

import pytest

from coordinator.extensions import db
from coordinator.schemes import membership
from coordinator.schemes.models import CoordinatorRole
from coordinator.schemes.services import SchemeError
from tests.factories import make_scheme, make_user
from tests.schemes.helpers import audit_entries


def test_memberships_by_user_for_a_page(app):
    pat = make_user()
    sam = make_user()
    alone = make_user()
    first = make_scheme("Alpha Watch", coordinators=[pat, sam])
    second = make_scheme("Beta Watch", coordinators=[pat])
    result = membership.memberships_by_user([pat.id, sam.id, alone.id])
    assert [(m.scheme_id, m.role) for m in result[pat.id]] == [
        (first.id, CoordinatorRole.MAIN),
        (second.id, CoordinatorRole.MAIN),
    ]
    assert [(m.scheme_id, m.role) for m in result[sam.id]] == [(first.id, CoordinatorRole.DEPUTY)]
    assert result[alone.id] == []
    assert membership.memberships_by_user([]) == {}


def test_add_change_and_remove_a_scheme_place(app):
    user = make_user()
    scheme = make_scheme()
    membership.add_coordinator_to_scheme(scheme, user, CoordinatorRole.DEPUTY)
    with pytest.raises(SchemeError, match="already the deputy coordinator"):
        membership.add_coordinator_to_scheme(scheme, user, CoordinatorRole.DEPUTY)
    membership.add_coordinator_to_scheme(scheme, user, CoordinatorRole.MAIN)
    assert [(m.user_id, m.role) for m in membership.user_memberships(user)] == [(user.id, CoordinatorRole.MAIN)]
    assert audit_entries("schemes.coordinator_changed")[0].details["new"] == "main"
    membership.remove_coordinator_from_scheme(scheme, user)
    assert membership.user_memberships(user) == []
    assert audit_entries("schemes.coordinator_removed")[0].details["user_id"] == user.id
    with pytest.raises(SchemeError, match="is not a coordinator"):
        membership.remove_coordinator_from_scheme(scheme, user)


def test_add_coordinator_by_email(app):
    user = make_user(email="Pat@Example.org")
    scheme = make_scheme()
    place = membership.add_coordinator_by_email(scheme, " pat@example.ORG ", CoordinatorRole.MAIN)
    assert place.user_id == user.id
    with pytest.raises(SchemeError, match="No account has that email"):
        membership.add_coordinator_by_email(scheme, "nobody@example.org", CoordinatorRole.MAIN)


def test_coordinators_are_listed_main_first_then_by_name(app):
    zed = make_user(name="Zed")
    amy = make_user(name="Amy")
    bob = make_user(name="Bob")
    scheme = make_scheme(coordinators=[zed, bob, amy])
    assert [m.user.name for m in membership.list_coordinators(scheme)] == ["Zed", "Amy", "Bob"]
    main = make_user(name="Zara Main")
    deputy_b = make_user(name="bob Deputy")
    deputy_a = make_user(name="Alice Deputy")
    other = make_scheme(coordinators=[main, deputy_b, deputy_a])
    db.session.refresh(other)
    assert [m.user.name for m in membership.list_coordinators(other)] == ["Zara Main", "Alice Deputy", "bob Deputy"]
