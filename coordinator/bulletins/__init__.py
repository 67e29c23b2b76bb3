"""Email bulletins to residents, and the residents who asked for them (subscribers)."""

from flask import Blueprint

# No URL prefix: residents' pages live at /join/... and /unsubscribe/..., and the coordinator's pages
# under the scheme they belong to, /schemes/<id>/subscribers/...
bp = Blueprint("bulletins", __name__)

from coordinator.bulletins import bulletin_pages, views  # noqa: F401
