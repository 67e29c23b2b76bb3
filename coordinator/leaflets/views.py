"""The leaflet builder, print runs for a scheme's streets, and the admins' central print orders.

Every coordinator page starts from `get_my_scheme_or_404`, and every id a form or URL carries is checked by the
services against what is offered now, so another scheme's notice or street, a retired or ended campaign or a
set that is not approved is a form error (or a 404 for the preview and thumbnail URLs), never printed.
The preview works without JavaScript: the "Preview" button posts the form and the page comes back with the
leaflet below it, in a frame from the same template, and a thumbnail of the real PDF's first page.
"Download PDF" never waits for a render (render_queue.py): a leaflet in the cache is recorded and given at once;
otherwise a waiting page shows the queue's estimate and looks again (progress.js, or a refresh without
JavaScript) until the file is ready, or says at once why it cannot be printed.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import replace
from io import BytesIO

from flask import Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from coordinator.extensions import db
from coordinator.leaflets import bp, builder, likely, pdfs, print_runs, recipes, render_queue
from coordinator.leaflets.cache import app_cache
from coordinator.leaflets.delivery_sheets import delivery_sheet_pdf
from coordinator.leaflets.forms import (
    LeafletForm,
    PrintOrderForm,
    PrintRunForm,
    choice_from_query,
    query_from_choice,
)
from coordinator.leaflets.languages import language_label, offered_languages, with_language_hints
from coordinator.leaflets.layouts import LAYOUTS, SHOP
from coordinator.leaflets.models import LeafletRecord, PrintOrder, PrintRun
from coordinator.leaflets.offers import LeafletChoiceError, content_offer
from coordinator.leaflets.print_orders import create_print_order, print_order_path, recent_print_orders
from coordinator.leaflets.render import LeafletError
from coordinator.schemes.models import Scheme
from coordinator.security import admin_required, get_my_scheme_or_404, my_schemes_query

# While the job runs, the progress page of a print order fetches its fresh figures this often (progress.js).
PROGRESS_UPDATE_SECONDS = 3
# A waiting leaflet's page looks again this often with JavaScript (without it, as the queue's length says).
WAITING_UPDATE_SECONDS = 2
# The preview is framed by the builder page on the same site; every other page keeps the app's "never framed".
PREVIEW_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    ),
    "X-Frame-Options": "SAMEORIGIN",
}


def _pdf_response(pdf: bytes, download_name: str) -> Response:
    response = send_file(BytesIO(pdf), mimetype="application/pdf", as_attachment=True, download_name=download_name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _my_scheme_ids() -> set[int]:
    return {scheme.id for scheme in db.session.scalars(my_schemes_query())}


def _may_see(row: LeafletRecord | PrintRun) -> bool:
    # A leaflet made from the command line for no scheme is the admins' alone.
    return current_user.is_admin or (row.scheme_id is not None and row.scheme_id in _my_scheme_ids())


@bp.app_template_filter("language_label")
def language_label_filter(tag: str) -> str:
    """A language as the leaflet pages name it: "Polski (Polish)"."""
    return language_label(tag)


@bp.get("/")
@login_required
def index():
    """The coordinator's schemes to print for, and their latest leaflets and print runs."""
    schemes = db.session.scalars(my_schemes_query()).all()
    return render_template(
        "leaflets/index.html",
        schemes=schemes,
        records=builder.recent_records(schemes),
        print_runs=print_runs.recent_print_runs(schemes),
        layouts=LAYOUTS,
    )


# --- The builder ----------------------------------------------------------------------------------------------


@bp.route("/schemes/<int:scheme_id>/new", methods=["GET", "POST"])
@login_required
def build(scheme_id: int):
    """The builder: choose, preview (a form post, no JavaScript) or download one leaflet."""
    scheme = get_my_scheme_or_404(scheme_id)
    offer = content_offer(scheme)
    form = LeafletForm()
    form.offer_choices(offer)
    form.offer_languages(offered_languages(offer.campaigns))
    if not form.is_submitted():
        # The sign-up panel is never assumed: it is ticked only when the address says so (back from a waiting page).
        choice = likely.builder_choice(scheme, offer, request.args)
        _show_choice(form, replace(choice, has_signup_panel=choice_from_query(request.args).has_signup_panel))
    prepared = None
    if form.validate_on_submit():
        try:
            if form.download.data:
                return _download_or_wait(scheme, form.choice)
            prepared = builder.preview_leaflet(scheme, form.choice)
        except LeafletChoiceError as error:
            form.add_problems(with_language_hints(error.errors, form.layout.data or "", form.second_language.data or ""))
    return render_template(
        "leaflets/build.html",
        scheme=scheme,
        form=form,
        offer=offer,
        prepared=prepared,
        query=query_from_choice(form.choice) if prepared else None,
        side_scale=pdfs.SIDE_PIXELS_PER_MM,
    )


def _show_choice(form: LeafletForm, choice) -> None:
    form.campaign.data = choice.campaign_version_id
    form.helplines.data = choice.helpline_set_version_id
    form.notice.data = choice.local_notice_version_id
    form.layout.data = choice.layout
    form.print_mode.data = choice.print_mode
    form.is_large_print.data = choice.is_large_print
    asked = choice_from_query(request.args)  # back from a waiting page: the languages it was being made in
    form.language.data, form.second_language.data = asked.language, asked.second_language
    form.has_signup_panel.data = choice.has_signup_panel


def _refusal(state: render_queue.PdfState, prepared: recipes.PreparedLeaflet) -> LeafletChoiceError:
    problems = dict(state.problems)
    if "layout" in problems:
        problems["layout"] += pdfs.does_not_fit_hints(prepared)
    return LeafletChoiceError(problems)


def _download_or_wait(scheme: Scheme, choice) -> Response:
    """A leaflet in the cache is recorded and its page shown; otherwise its render starts and the waiting page shows."""
    prepared = recipes.prepare_leaflet(scheme, choice)
    state = render_queue.pdf_state(prepared.recipe)
    if state.is_refused:
        raise _refusal(state, prepared)
    if not state.is_ready:
        query = query_from_choice(choice) | {"key": prepared.recipe.key}
        return redirect(url_for("leaflets.waiting", scheme_id=scheme.id, **query), 303)
    record = builder.record_leaflet(prepared, scheme, current_user)
    db.session.commit()
    return redirect(url_for("leaflets.record", record_id=record.id))


@bp.get("/schemes/<int:scheme_id>/waiting")
@login_required
def waiting(scheme_id: int):
    """A leaflet being made: the queue's estimate until it is ready, then its "Download PDF" (or why it cannot be)."""
    scheme = get_my_scheme_or_404(scheme_id)
    # A look at the key alone reads no content: hundreds of coordinators waiting at a launch look every few seconds.
    state = render_queue.known_state(request.args.get("key", ""))
    choice = choice_from_query(request.args)
    if state is None or state.is_refused:
        try:
            prepared = recipes.prepare_leaflet(scheme, choice)
        except LeafletChoiceError:  # the content changed meanwhile: choose again
            return redirect(url_for("leaflets.build", scheme_id=scheme.id, **query_from_choice(choice)))
        state = render_queue.pdf_state(prepared.recipe)
        if state.is_refused:
            state = render_queue.PdfState(render_queue.REFUSED, problems=_refusal(state, prepared).errors)
    query = query_from_choice(choice)
    return _waiting_page(
        state,
        here=url_for("leaflets.waiting", scheme_id=scheme.id, **query, key=request.args.get("key", "")),
        back=url_for("leaflets.build", scheme_id=scheme.id, **query),
        download_form=(url_for("leaflets.build", scheme_id=scheme.id), query),
        scheme=scheme,
    )


def _waiting_page(state: render_queue.PdfState, *, here: str, back: str, scheme: Scheme | None,
                  download_form: tuple[str, dict] | None = None, download_link: str | None = None) -> Response:
    html = render_template(
        "leaflets/waiting.html",
        state=state,
        here=here,
        back=back,
        scheme=scheme,
        download_form=download_form,
        download_link=download_link,
        update_seconds=WAITING_UPDATE_SECONDS,
        refresh_seconds=render_queue.refresh_seconds(state),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _prepared_from_query(scheme: Scheme) -> recipes.PreparedLeaflet:
    try:
        return recipes.prepare_leaflet(scheme, choice_from_query(request.args))
    except LeafletChoiceError:
        abort(404)


@bp.get("/schemes/<int:scheme_id>/preview")
@login_required
def preview(scheme_id: int):
    """The leaflet's HTML from the print template, with the app's /static/ assets, for the builder's frame."""
    scheme = get_my_scheme_or_404(scheme_id)
    prepared = _prepared_from_query(scheme)
    try:
        html = pdfs.preview_html(prepared.recipe, url_for("static", filename=""))
    except LeafletError:
        abort(404)
    response = Response(html, mimetype="text/html")
    response.headers.update(PREVIEW_HEADERS)
    # The print template's one style block (the brand colour and each panel's fitted type size) is allowed by its
    # hash: no other inline style runs.
    style = re.search(r"<style>(.*?)</style>", html, re.DOTALL)
    if style is not None:
        digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
        response.headers["Content-Security-Policy"] = PREVIEW_HEADERS["Content-Security-Policy"].replace(
            "style-src 'self'", f"style-src 'self' 'sha256-{digest}'"
        )
    return response


@bp.get("/schemes/<int:scheme_id>/sides/<int:side>.png")
@login_required
def side_picture(scheme_id: int, side: int):
    """A PNG of one side of the leaflet (1: front or outside), every layout at one scale."""
    scheme = get_my_scheme_or_404(scheme_id)
    prepared = _prepared_from_query(scheme)
    if not 1 <= side <= prepared.layout.pages:
        abort(404)
    try:
        png = pdfs.side_picture(prepared.recipe, side)
    except LeafletError:
        abort(404)
    response = send_file(BytesIO(png), mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=600"
    return response


@bp.get("/schemes/<int:scheme_id>/thumbnail.png")
@login_required
def thumbnail(scheme_id: int):
    """A PNG of page 1 of the real PDF."""
    scheme = get_my_scheme_or_404(scheme_id)
    prepared = _prepared_from_query(scheme)
    try:
        png = pdfs.leaflet_thumbnail(prepared.recipe)
    except LeafletError:
        abort(404)
    response = send_file(BytesIO(png), mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=600"
    return response


@bp.get("/<int:record_id>")
@login_required
def record(record_id: int):
    """One generated leaflet: what it carries, how to print it, and its download."""
    row = db.session.get(LeafletRecord, record_id)
    if row is None or not _may_see(row):
        abort(404)
    return render_template("leaflets/record.html", record=row, summary=recipes.summarise(row),
                           file_name=builder.record_file_name(row))


@bp.get("/<int:record_id>/leaflet.pdf")
@login_required
def download(record_id: int):
    """A generated leaflet's PDF from the cache; if it has gone from there, the page where it is made again."""
    row = db.session.get(LeafletRecord, record_id)
    if row is None or not _may_see(row):
        abort(404)
    recipe = recipes.recipe_of(row)
    pdf = app_cache().get(recipe.key)
    if pdf is None:
        render_queue.pdf_state(recipe)
        return redirect(url_for("leaflets.record_waiting", record_id=row.id), 303)
    return _pdf_response(pdf, builder.record_file_name(row))


@bp.get("/<int:record_id>/quantities.csv")
@login_required
def record_quantities(record_id: int):
    """A print shop leaflet's quantities sheet: its artwork file and the copies to print."""
    row = db.session.get(LeafletRecord, record_id)
    if row is None or not _may_see(row) or row.print_mode != SHOP:
        abort(404)
    response = Response(builder.record_quantities(row), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{builder.record_quantities_file_name(row)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:record_id>/waiting")
@login_required
def record_waiting(record_id: int):
    """A recorded leaflet's PDF being made again from the same versions (it had gone from the cache)."""
    row = db.session.get(LeafletRecord, record_id)
    if row is None or not _may_see(row):
        abort(404)
    state = render_queue.pdf_state(recipes.recipe_of(row))
    return _waiting_page(
        state,
        here=url_for("leaflets.record_waiting", record_id=row.id),
        back=url_for("leaflets.record", record_id=row.id),
        download_link=url_for("leaflets.download", record_id=row.id),
        scheme=row.scheme,
    )


# --- Print runs -------------------------------------------------------------------------------------------------


@bp.route("/schemes/<int:scheme_id>/print-runs/new", methods=["GET", "POST"])
@login_required
def new_print_run(scheme_id: int):
    """Plan a print run: what to print and for which streets; work out the copies, then create it."""
    scheme = get_my_scheme_or_404(scheme_id)
    offer = content_offer(scheme)
    form = PrintRunForm()
    form.offer_choices(offer)
    form.offer_languages(offered_languages(offer.campaigns))
    form.offer_streets(scheme)
    prepared = None
    if form.validate_on_submit():
        try:
            if form.create.data:
                run = print_runs.create_print_run(scheme, form.choice, form.street_ids, current_user)
            else:
                prepared = print_runs.prepare_print_run(scheme, form.choice, form.street_ids)
        except LeafletChoiceError as error:
            form.add_problems(with_language_hints(error.errors, form.layout.data or "", form.second_language.data or ""))
        else:
            if form.create.data:
                db.session.commit()
                flash(f"The print run of {run.copies:,} copies is ready.", "success")
                return redirect(url_for("leaflets.print_run", run_id=run.id))
    return render_template(
        "leaflets/print_run_form.html", scheme=scheme, form=form, offer=offer, prepared=prepared
    )


def _print_run_or_404(run_id: int) -> PrintRun:
    run = db.session.get(PrintRun, run_id)
    if run is None or not _may_see(run):
        abort(404)
    return run


@bp.get("/print-runs/<int:run_id>")
@login_required
def print_run(run_id: int):
    """One print run: copies per street, sheets of paper, how to print it, and its two PDFs."""
    run = _print_run_or_404(run_id)
    return render_template("leaflets/print_run.html", run=run, summary=recipes.summarise(run),
                           notes=print_runs.print_run_notes(run))


@bp.get("/print-runs/<int:run_id>/leaflets.pdf")
@login_required
def print_run_pdf(run_id: int):
    """The run's PDF: every sheet for a home printer, the one artwork for a print shop."""
    run = _print_run_or_404(run_id)
    pdf = print_runs.print_run_pdf(run)
    return _pdf_response(pdf, print_runs.print_run_file_name(run))


@bp.get("/print-runs/<int:run_id>/quantities.csv")
@login_required
def print_run_quantities(run_id: int):
    """A print shop's quantities sheet: the copies for each street."""
    run = _print_run_or_404(run_id)
    response = Response(print_runs.print_run_quantities(run), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="print-run-{run.id}-quantities.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/print-runs/<int:run_id>/delivery-sheet.pdf")
@login_required
def delivery_sheet(run_id: int):
    """The run's delivery sheet PDF."""
    run = _print_run_or_404(run_id)
    pdf = delivery_sheet_pdf(run)
    return _pdf_response(pdf, f"delivery-sheet-{run.id}.pdf")


# --- Central print orders (admins) -----------------------------------------------------------------------------


@bp.get("/print-orders")
@admin_required
def print_orders():
    """The latest central print orders."""
    return render_template("leaflets/print_orders.html", orders=recent_print_orders(), layouts=LAYOUTS)


@bp.route("/print-orders/new", methods=["GET", "POST"])
@admin_required
def new_print_order():
    """Start a central print order; the job runs in the background."""
    offer = content_offer(None)
    schemes = db.session.scalars(my_schemes_query()).all()
    form = PrintOrderForm()
    form.offer_choices(offer, schemes)
    if form.validate_on_submit():
        try:
            order = create_print_order(form.choice, form.scheme_ids, current_user)
        except LeafletChoiceError as error:
            form.add_problems(error.errors)
        else:
            db.session.commit()
            flash("The print order is queued: this page shows its progress.", "success")
            return redirect(url_for("leaflets.print_order", order_id=order.id))
    return render_template("leaflets/print_order_form.html", form=form, offer=offer)


def _print_order_or_404(order_id: int) -> PrintOrder:
    order = db.session.get(PrintOrder, order_id)
    if order is None:
        abort(404)
    return order


@bp.get("/print-orders/<int:order_id>")
@admin_required
def print_order(order_id: int):
    """A print order's progress (updating itself while it runs) and its download when done."""
    order = _print_order_or_404(order_id)
    return render_template(
        "leaflets/print_order.html",
        order=order,
        layout=LAYOUTS[order.layout],
        has_file=print_order_path(order) is not None,
        update_seconds=PROGRESS_UPDATE_SECONDS,
        # No reload of the whole page (WCAG 2.2.1, a screen reader would start again at the top): the script updates
        # the progress region in place, with a button to pause it (2.2.2); without JavaScript, a link refreshes it.
        is_in_progress=not order.is_finished,
    )


@bp.get("/print-orders/<int:order_id>/download")
@admin_required
def print_order_download(order_id: int):
    """The finished order's zip."""
    order = _print_order_or_404(order_id)
    path = print_order_path(order)
    if path is None:
        abort(404)
    return send_file(path, mimetype="application/zip", as_attachment=True, download_name=path.name)
