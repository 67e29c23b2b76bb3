"""The content library: campaigns, helplines, helpline sets and local notices, with versioned approval."""

from flask import Blueprint

bp = Blueprint("content", __name__, url_prefix="/content")

# The residents' face of the library: a public page for each campaign that is running, with its helplines, and
# the campaign pictures those pages and bulletins show. No URL prefix: the pictures' address, /bulletin-images/,
# is older than these pages and stands in residents' mail, so it must not move.
campaigns_bp = Blueprint("campaigns", __name__)

from coordinator.content import campaign_pages, reminders, views  # noqa: F401  (reminders registers its sweeper)
