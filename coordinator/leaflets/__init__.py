"""Leaflets: print-ready PDFs of approved campaigns and helpline sets, for a coordinator's streets.

`layouts` holds the formats and how they go on paper; `render` turns plain leaflet data into a PDF;
`cache` keeps rendered files on disk by content address. One module per use case:
`offers` (what a scheme may print today, and the check of a choice), `recipes` (the plain data and everything
else that decides a PDF's bytes, and the columns records keep it in), `pdfs` (a recipe's PDF and thumbnail
through the cache), `builder` (preview and generate one leaflet), `print_runs`, `delivery_sheets`,
`print_orders` (an admin's central order) and `print_order_job` (the background job that builds one); for a
campaign launch, `likely` (what a scheme will most likely print), `warmup` (rendering it ahead) and `render_queue`
(pages that never wait for a render).
"""

from flask import Blueprint

bp = Blueprint("leaflets", __name__, url_prefix="/leaflets")

from coordinator.leaflets import (  # noqa: F401
    announcements,
    round_pages,
    views,
    warmup,
)
