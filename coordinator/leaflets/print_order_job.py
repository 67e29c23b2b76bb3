"""The background job that builds a central print order: one print-shop PDF per scheme and a quantities CSV, zipped.

Unlike the services, this job commits, because the progress page reads its progress while it runs: once when it
starts, after each scheme, and at the end. What happens when it stops part way:
- an error marks the order failed (its page says so; the error itself goes to the log); nothing retries it;
- a worker that dies leaves the order running; the sweeper (`print_orders_to_build`) hands it to a worker again
  once it has not moved for STALE_ORDER_AFTER, and the job starts that order again from its first scheme;
- the zip is written beside its final name and renamed when complete, so no half-written zip is ever offered.
"""

from __future__ import annotations

import logging
import os
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import or_, select

from coordinator import jobs
from coordinator.content import services as content
from coordinator.content.models import ContentKind, HelplineVersion
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.leaflets.layouts import SHOP, get_layout
from coordinator.leaflets.models import PrintOrder, PrintOrderState
from coordinator.leaflets.offers import ChosenContent, helplines_to_print
from coordinator.leaflets.pdfs import leaflet_pdf
from coordinator.leaflets.print_orders import QUANTITIES_CSV, order_schemes, print_orders_folder
from coordinator.leaflets.print_runs import copies_for_streets, quantities_csv, quantity_rows
from coordinator.leaflets.recipes import build_leaflet_data, make_recipe
from coordinator.leaflets.render import LeafletError
from coordinator.schemes.models import Scheme
from coordinator.settings import get_settings

log = logging.getLogger(__name__)

# A running print order whose job has not reported progress for this long has lost its worker: run it again.
STALE_ORDER_AFTER = timedelta(minutes=15)


@jobs.job
def build_print_order(order_id: int) -> None:
    """The background job: one print-ready PDF per scheme (shop trim with bleed) and the quantities CSV, in a zip.

    Progress is committed after each scheme, for the progress page. Safe to run twice: a finished order is left
    alone, an unfinished one starts again. A scheme whose leaflet cannot be printed (nothing to deliver, a
    contact line too long for the layout) is listed with the reason and left out; the order still completes.
    """
    order = db.session.get(PrintOrder, order_id)
    if order is None or order.state == PrintOrderState.DONE:
        return
    order.state = PrintOrderState.RUNNING
    order.started_at, order.finished_at, order.error = utcnow(), None, ""
    order.progress_done, order.results = 0, []
    db.session.commit()
    try:
        _build_print_order(order)
    except Exception:  # the order must not stay "running" for ever; the page shows the failure
        log.exception("print order %s failed", order_id)
        db.session.rollback()
        order = db.session.get(PrintOrder, order_id)
        order.state = PrintOrderState.FAILED
        # An admin reads this on the order's page; Python's own words for the failure are in the log, above.
        order.error = f"It stopped on an unexpected problem; the server's log has the details (print order {order_id})."
        order.finished_at = utcnow()
        db.session.commit()


def _build_print_order(order: PrintOrder) -> None:
    campaign = content.get_version(order.campaign_version_id, ContentKind.CAMPAIGN)
    helpline_set = content.get_version(order.helpline_set_version_id, ContentKind.HELPLINE_SET)
    layout = get_layout(order.layout)
    helplines, _ = helplines_to_print(helpline_set, order.printed_on)
    schemes = order_schemes(order.scheme_ids)
    order.progress_total = len(schemes)
    db.session.commit()
    percent = get_settings().spare_copies_percent
    chosen = ChosenContent(campaign, helpline_set, None, layout)
    quantities: list[tuple] = []
    results: list[dict] = []
    folder = print_orders_folder()
    folder.mkdir(parents=True, exist_ok=True)
    file_name = f"print-order-{order.id}-{campaign.item.slug}-{layout.key}.zip"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".zip")
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for scheme in schemes:
                result, rows = _add_scheme(archive, order, chosen, helplines, scheme, percent)
                quantities += rows
                results.append(result)
                order.results = list(results)
                order.progress_done += 1
                db.session.commit()
            archive.writestr(QUANTITIES_CSV, quantities_csv(quantities))
        os.replace(temporary, folder / file_name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    order.file_name = file_name
    order.state = PrintOrderState.DONE
    order.finished_at = utcnow()
    db.session.commit()


def _add_scheme(
    archive: zipfile.ZipFile, order: PrintOrder, chosen: ChosenContent, helplines: list[HelplineVersion], scheme: Scheme,
    percent: int,
) -> tuple[dict, list[tuple]]:
    """One scheme's PDF into the zip: its row of `results`, and its quantity rows (none when it is left out)."""
    rows = copies_for_streets(list(scheme.streets), percent)
    copies = sum(row.copies for row in rows)
    result = {"scheme_id": scheme.id, "scheme": scheme.name, "copies": 0, "file": "", "problem": ""}
    if not helplines:
        result["problem"] = "none of the set's helplines can be printed now"
        return result, []
    if copies == 0:
        result["problem"] = "no households to deliver to"
        return result, []
    data = build_leaflet_data(scheme, chosen.campaign, chosen.helpline_set, None, helplines=helplines,
                              printed_on=order.printed_on)
    # The artwork of one copy (front and back); the CSV says how many the shop prints.
    recipe = make_recipe(chosen, data, helplines, print_mode=SHOP, is_large_print=order.is_large_print, copies=1)
    try:
        pdf = leaflet_pdf(recipe)
    except LeafletError as error:
        result["problem"] = str(error)
        return result, []
    name = f"{scheme.slug}-{chosen.layout.key}.pdf"
    archive.writestr(name, pdf)
    result.update(copies=copies, file=name)
    return result, quantity_rows(scheme.name, name, rows)


@jobs.register_sweeper
def print_orders_to_build() -> list[tuple[jobs.Job, tuple]]:
    """Sweeper: queued orders, and running ones whose worker has gone quiet, still need `build_print_order`."""
    stale = utcnow() - STALE_ORDER_AFTER
    ids = db.session.scalars(
        select(PrintOrder.id).where(
            or_(
                PrintOrder.state == PrintOrderState.QUEUED,
                (PrintOrder.state == PrintOrderState.RUNNING) & (PrintOrder.updated_at < stale),
            )
        )
    )
    return [(build_print_order, (order_id,)) for order_id in ids]
