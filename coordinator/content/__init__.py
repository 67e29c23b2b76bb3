"""The content library: campaigns, helplines, helpline sets and local notices, with versioned approval."""

from flask import Blueprint

bp = Blueprint("content", __name__, url_prefix="/content")

from coordinator.content import reminders, views  # noqa: F401  (reminders registers its sweeper)
