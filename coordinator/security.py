"""Who may see what: role checks and "get mine or 404" helpers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import select

from coordinator.extensions import db
from coordinator.schemes.models import Scheme, SchemeCoordinator, Street


def admin_required(view: Callable) -> Callable:
    """Only admins; anyone else logged in gets 403."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def my_schemes_query():
    """The schemes the current user may work on: their own, or all of them for an admin."""
    stmt = select(Scheme).order_by(Scheme.name)
    if not current_user.is_admin:
        stmt = stmt.join(SchemeCoordinator).where(SchemeCoordinator.user_id == current_user.id)
    return stmt


def get_my_scheme_or_404(scheme_id: int) -> Scheme:
    """A scheme the current user coordinates (any scheme for an admin); 404 otherwise, never its data."""
    scheme = db.session.scalar(my_schemes_query().where(Scheme.id == scheme_id))
    if scheme is None:
        abort(404)
    return scheme


def get_my_street_or_404(scheme: Scheme, street_id: int) -> Street:
    """A street of this scheme; 404 for any other street id."""
    street = db.session.scalar(select(Street).where(Street.id == street_id, Street.scheme_id == scheme.id))
    if street is None:
        abort(404)
    return street
