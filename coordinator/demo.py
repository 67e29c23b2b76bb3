"""Demo data for `seed-demo` and `make run`: an admin, two coordinators, two schemes with streets, starter content."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from coordinator.auth.models import Role
from coordinator.auth.services import create_user, find_user_by_email, hash_password
from coordinator.content.starter import load_starter_content
from coordinator.extensions import db
from coordinator.schemes.models import CoordinatorRole, Scheme, SchemeCoordinator, Street
from coordinator.slugs import slugify

DEMO_ADMIN = ("admin@demo.bromleywatch.org.uk", "Alex Morgan (demo admin)", Role.ADMIN)
DEMO_COORDINATORS = [
    ("pat@demo.bromleywatch.org.uk", "Pat Okafor (demo coordinator)"),
    ("lukasz@demo.bromleywatch.org.uk", "Łukasz Nowak (demo coordinator)"),
]
DEMO_SCHEMES = [
    {
        "name": "Hayes Lane Watch",
        "ward": "Hayes and Coney Hall",
        "postcode_district": "BR2",
        "contact_email": "hayeslane.watch@example.org",
        "streets": [
            ("Hayes Lane", "BR2 9EA", 64, 2),
            ("Bourne Way", "BR2 7EY", 38, 0),
            ("Tiepigs Lane", "BR4 9BP", 41, 1),
            ("Hast Hill", "BR2 7DT", 22, 0),
            ("Station Hill", "BR2 7DJ", 17, 3),
            ("Warren Road", "BR2 7AL", 55, 0),
        ],
    },
    {
        "name": "Chislehurst Common Watch",
        "ward": "Chislehurst",
        "postcode_district": "BR7",
        "contact_phone": "020 7946 0018",
        "streets": [
            ("Church Row", "BR7 5PG", 26, 0),
            ("Bromley Lane", "BR7 6LH", 72, 4),
            ("Old Hill", "BR7 5LZ", 33, 1),
            ("Camden Park Road", "BR7 5HE", 48, 0),
            ("Manor Park Road", "BR7 5PY", 29, 2),
            ("Heathfield Lane", "BR7 6AH", 15, 0),
            ("Prince Imperial Road", "BR7 5LX", 40, 0),
        ],
    },
]


@dataclass
class DemoLogin:
    """A demo account and the password just given to it."""

    role: str
    email: str
    password: str


def seed_demo() -> list[DemoLogin]:
    """Create (or refresh) the demo accounts and schemes; every run gives the demo accounts new passwords."""
    logins: list[DemoLogin] = []
    people = [DEMO_ADMIN] + [(email, name, Role.COORDINATOR) for email, name in DEMO_COORDINATORS]
    users = []
    for email, name, role in people:
        password = secrets.token_urlsafe(12)
        user = find_user_by_email(email)
        if user is None:
            user = create_user(email, name, role, password=password)
        else:
            user.password_hash = hash_password(password)
            user.is_active_account = True
        users.append(user)
        logins.append(DemoLogin(role.value, email, password))

    for index, spec in enumerate(DEMO_SCHEMES):
        scheme = db.session.scalar(select(Scheme).where(Scheme.name == spec["name"]))
        if scheme is None:
            scheme = Scheme(
                name=spec["name"],
                slug=slugify(spec["name"]),
                ward=spec["ward"],
                postcode_district=spec["postcode_district"],
                contact_email=spec.get("contact_email", ""),
                contact_phone=spec.get("contact_phone", ""),
            )
            db.session.add(scheme)
            db.session.flush()
            for name, postcode, households, no_leaflets in spec["streets"]:
                db.session.add(
                    Street(
                        scheme=scheme,
                        name=name,
                        postcode=postcode,
                        households=households,
                        households_no_leaflets=no_leaflets,
                    )
                )
        coordinator = users[1 + index]
        if not any(m.user_id == coordinator.id for m in scheme.memberships):
            scheme.memberships.append(SchemeCoordinator(user=coordinator, role=CoordinatorRole.MAIN))
    # The second coordinator deputises on the first scheme too: a coordinator may run several schemes.
    first = db.session.scalar(select(Scheme).where(Scheme.name == DEMO_SCHEMES[0]["name"]))
    if not any(m.user_id == users[2].id for m in first.memberships):
        first.memberships.append(SchemeCoordinator(user=users[2], role=CoordinatorRole.DEPUTY))
    db.session.flush()
    # The starter campaigns, helplines and sets, approved by the demo admin on a fresh library only.
    load_starter_content(users[0])
    return logins
