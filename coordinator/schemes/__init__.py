"""Schemes and their streets."""

from flask import Blueprint

bp = Blueprint("schemes", __name__, url_prefix="/schemes")

from coordinator.schemes import views  # noqa: F401
