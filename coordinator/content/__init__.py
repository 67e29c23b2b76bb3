"""The content library: campaigns, helplines, helpline sets and local notices, with versioned approval."""

from flask import Blueprint

bp = Blueprint("content", __name__, url_prefix="/content")

# The residents' face of the library: a public page for each campaign that is running, with its helplines.
campaigns_bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

from coordinator.content import campaign_pages, reminders, views  # noqa: F401  (reminders registers its sweeper)
