"""Logging in and out, invitations, password resets and one's own account."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/account")

from coordinator.auth import views  # noqa: F401  (routes attach to bp)
