"""Schemes and their streets, with coordinators when a test needs them; every factory flushes, so ids are set."""

from __future__ import annotations

from coordinator.auth.models import User
from coordinator.extensions import db
from coordinator.schemes.models import CoordinatorRole, Scheme, SchemeCoordinator, Street
from coordinator.slugs import slugify
from tests.factories.numbers import next_number
from tests.factories.people import make_user


def make_scheme(name: str | None = None, coordinators: list[User] = (), **fields) -> Scheme:
    """A scheme; its first coordinator is the main one, the others deputies."""
    n = next_number()
    name = name or f"Scheme {n}"
    scheme = Scheme(name=name, slug=fields.pop("slug", None) or f"{slugify(name)}-{n}", **fields)
    for index, user in enumerate(coordinators):
        scheme.memberships.append(
            SchemeCoordinator(user=user, role=CoordinatorRole.MAIN if index == 0 else CoordinatorRole.DEPUTY)
        )
    db.session.add(scheme)
    db.session.flush()
    return scheme


def make_street(scheme: Scheme, name: str | None = None, households: int = 20, no_leaflets: int = 0,
                postcode: str = "BR1 1AA", **fields) -> Street:
    """A street of a scheme, with its households and those that asked for no leaflets."""
    street = Street(
        scheme=scheme,
        name=name or f"Street {next_number()}",
        postcode=postcode,
        households=households,
        households_no_leaflets=no_leaflets,
        **fields,
    )
    db.session.add(street)
    db.session.flush()
    return street


def make_coordinated_scheme(name: str | None = None, coordinator=None, streets=((20, 0),), **fields):
    """A scheme with a coordinator and streets of (households, households that asked for none)."""
    coordinator = coordinator or make_user()
    fields.setdefault("contact_email", "watch@example.org")
    fields.setdefault("contact_phone", "020 7946 0018")
    scheme = make_scheme(name, coordinators=[coordinator], **fields)
    for index, (households, none) in enumerate(streets, start=1):
        make_street(scheme, name=f"{scheme.name} Road {index}", households=households, no_leaflets=none,
                    postcode=f"BR1 {index}AA")
    return scheme, coordinator
