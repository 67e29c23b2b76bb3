"""People: coordinators and admins with a password they log in with; every factory flushes, so ids are set."""

from __future__ import annotations

from coordinator.auth.models import Role, User
from coordinator.auth.services import hash_password
from coordinator.extensions import db
from tests.factories.numbers import next_number

PASSWORD = "correct horse battery"


def make_user(name: str | None = None, email: str | None = None, role: Role = Role.COORDINATOR,
              password: str | None = PASSWORD, active: bool = True) -> User:
    """A coordinator (or another role) who can log in with PASSWORD unless told otherwise."""
    n = next_number()
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
    """An admin who can log in with PASSWORD."""
    return make_user(role=Role.ADMIN, **kwargs)
