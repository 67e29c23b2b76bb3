"""Setting schemes up: creating and renaming one, and the admins' list of every scheme, without HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from coordinator.extensions import db
from coordinator.schemes import setup
from coordinator.schemes.models import CoordinatorRole, Scheme, SchemeCoordinator
from coordinator.schemes.services import SchemeError
from tests.factories import make_scheme, make_street, make_user
from tests.schemes.helpers import audit_entries


def test_create_scheme_makes_a_unique_slug_and_refuses_a_taken_name(app):
    first = setup.create_scheme("Hayes Lane Watch", "Hayes and Coney Hall", "br2")
    assert (first.slug, first.postcode_district) == ("hayes-lane-watch", "BR2")
    second = setup.create_scheme("Hayes Lane: Watch!")
    third = setup.create_scheme("Hayes-Lane Watch")
    assert (second.slug, third.slug) == ("hayes-lane-watch-2", "hayes-lane-watch-3")
    with pytest.raises(SchemeError, match="already has that name"):
        setup.create_scheme("  HAYES lane watch ")
    with pytest.raises(SchemeError, match="Enter the scheme's name"):
        setup.create_scheme("   ")
    assert db.session.scalar(select(func.count(Scheme.id))) == 3
    assert [e.details["slug"] for e in audit_entries("schemes.created")] == [
        "hayes-lane-watch",
        "hayes-lane-watch-2",
        "hayes-lane-watch-3",
    ]


def test_update_scheme_keeps_the_slug_and_audits_what_changed(app):
    scheme = setup.create_scheme("Old Name", "Ward", "BR1")
    other = setup.create_scheme("Other Watch")
    assert setup.update_scheme(scheme, "New Name", "Ward", "br1") == ["name"]
    assert (scheme.name, scheme.slug) == ("New Name", "old-name")
    [changed] = audit_entries("schemes.changed")
    assert changed.details == {"fields": ["name"], "old": {"name": "Old Name"}}
    assert setup.update_scheme(scheme, "New Name", "Ward", "BR1") == []
    assert len(audit_entries("schemes.changed")) == 1
    # Its own name in another case is fine; another scheme's name is not.
    assert setup.update_scheme(scheme, "NEW NAME", "Ward", "BR1") == ["name"]
    with pytest.raises(SchemeError):
        setup.update_scheme(scheme, other.name.upper())


def test_schemes_query_and_totals(app):
    hayes = make_scheme("Hayes Lane Watch", ward="Hayes and Coney Hall")
    chis = make_scheme("Chislehurst Watch", ward="Chislehurst")
    empty = make_scheme("Empty Watch", ward="Hayes and Coney Hall")
    make_street(hayes, households=10)
    make_street(hayes, households=5)
    make_street(chis, households=7)
    hayes.memberships.append(SchemeCoordinator(user=make_user(), role=CoordinatorRole.MAIN))
    db.session.flush()
    names = [s.name for s in db.session.scalars(setup.schemes_query("hayes"))]
    assert names == ["Empty Watch", "Hayes Lane Watch"]
    assert [s.name for s in db.session.scalars(setup.schemes_query("CHISLE"))] == ["Chislehurst Watch"]
    totals = setup.scheme_totals([hayes.id, chis.id, empty.id])
    assert (totals[hayes.id].streets, totals[hayes.id].households, totals[hayes.id].coordinators) == (2, 15, 1)
    assert (totals[chis.id].streets, totals[chis.id].households, totals[chis.id].coordinators) == (1, 7, 0)
    assert (totals[empty.id].streets, totals[empty.id].households) == (0, 0)
