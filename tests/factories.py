"""Small factories for test objects; every one flushes, so ids are set."""

from __future__ import annotations

import itertools

from coordinator.auth.models import Role, User
from coordinator.auth.services import hash_password
from coordinator.extensions import db
from coordinator.schemes.models import CoordinatorRole, Scheme, SchemeCoordinator, Street
from coordinator.slugs import slugify

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def make_user(name: str | None = None, email: str | None = None, role: Role = Role.COORDINATOR,
              password: str | None = PASSWORD, active: bool = True) -> User:
    n = next(_seq)
    user = User(
        email=email or f"person{n}@example.org",
        name=name or f"Person {n}",
        role=role,
        is_active_account=active,
        password_hash=hash_password(password) if password else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_admin(**kwargs) -> User:
    return make_user(role=Role.ADMIN, **kwargs)


def make_scheme(name: str | None = None, coordinators: list[User] = (), **fields) -> Scheme:
    n = next(_seq)
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
    street = Street(
        scheme=scheme,
        name=name or f"Street {next(_seq)}",
        postcode=postcode,
        households=households,
        households_no_leaflets=no_leaflets,
        **fields,
    )
    db.session.add(street)
    db.session.flush()
    return street
