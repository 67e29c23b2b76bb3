"""The association's admin pages: coordinators, schemes, imports, audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from coordinator.admin import data_request_pages, scheme_import_pages, views, wording_pages  # noqa: F401
