"""Home page, health check and other pages that belong to no one domain."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from coordinator.main import views  # noqa: F401
