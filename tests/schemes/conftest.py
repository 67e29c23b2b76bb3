"""Schemes-only fixtures: two schemes, each with its own coordinator and a street."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from coordinator.auth.models import User
from coordinator.extensions import db
from coordinator.schemes.models import Scheme, Street
from tests.factories import make_scheme, make_street, make_user


@dataclass
class TwoSchemes:
    """Scheme A run by coordinator A, scheme B run by coordinator B; neither may see the other's."""

    coordinator_a: User
    scheme_a: Scheme
    street_a: Street
    coordinator_b: User
    scheme_b: Scheme
    street_b: Street


@pytest.fixture
def two_schemes(app) -> TwoSchemes:
    coordinator_a = make_user(name="Pat Okafor")
    coordinator_b = make_user(name="Sam Brightwell")
    scheme_a = make_scheme("Hayes Lane Watch", [coordinator_a], ward="Hayes and Coney Hall", postcode_district="BR2")
    scheme_b = make_scheme(
        "Secret Close Watch", [coordinator_b], ward="Hidden Ward", postcode_district="BR7",
        contact_email="secret.close@example.org",
    )
    street_a = make_street(scheme_a, "Hayes Lane", households=64, no_leaflets=2, postcode="BR2 9EA")
    street_b = make_street(scheme_b, "Confidential Crescent", households=31, no_leaflets=1, postcode="BR7 5PG",
                           delivery_notes="Key safe code 4417")
    db.session.commit()
    return TwoSchemes(coordinator_a, scheme_a, street_a, coordinator_b, scheme_b, street_b)

