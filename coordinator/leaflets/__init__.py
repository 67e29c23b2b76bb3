"""Leaflets: print-ready PDFs of approved campaigns and helpline sets, for a coordinator's streets.

`layouts` holds the formats and how they go on paper; `render` turns plain leaflet data into a PDF;
`services` holds the rules (what may be printed, copies per street, records, the cache, print orders);
`cache` keeps rendered files on disk by content address.
"""

from flask import Blueprint

bp = Blueprint("leaflets", __name__, url_prefix="/leaflets")

from coordinator.leaflets import views  # noqa: F401
