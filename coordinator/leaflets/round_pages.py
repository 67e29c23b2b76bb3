"""Delivery rounds' pages: the coordinator's (split a run, name deliverers, see and record progress) and the
deliverer's page opened from a round's link or QR code.

The deliverer's page sets no cookie and needs none. Its link is the credential: anyone holding it may record the
round's streets, and a forged, replaced or expired link opens nothing. So there is no session to protect from
cross-site requests, and Flask-WTF's session-held CSRF token does not apply (it would also make the page set a
cookie, which a phone in a private tab loses between the page and the form, and which would expire with the idle
timeout while the deliverer walks). Flask-WTF's check is switched off for the two deliverer routes only; their
form carries round_forms.RoundLinkCSRF's token instead: signed, dated, bound to the link, and refused when the
browser says the form came from another site.
"""

from __future__ import annotations

from io import BytesIO

from flask import Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from coordinator.extensions import csrf, db
from coordinator.leaflets import bp, recipes, rounds
from coordinator.leaflets.models import DeliveryRound, PrintRun
from coordinator.leaflets.round_forms import (
    DelivererForm,
    SplitForm,
    coordinator_form,
    deliverer_form,
)
from coordinator.security import my_schemes_query

PUBLIC_HEADERS = {
    # The address holds the link: no shared cache keeps the page, no search engine lists it, no site is told it.
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "Referrer-Policy": "no-referrer",
}


def _may_see(run: PrintRun) -> bool:
    if current_user.is_admin:
        return True
    return run.scheme_id is not None and run.scheme_id in {s.id for s in db.session.scalars(my_schemes_query())}


def _run_or_404(run_id: int) -> PrintRun:
    run = db.session.get(PrintRun, run_id)
    if run is None or not _may_see(run):
        abort(404)
    return run


def _round_or_404(round_id: int) -> DeliveryRound:
    delivery_round = db.session.get(DeliveryRound, round_id)
    if delivery_round is None or not _may_see(delivery_round.print_run):
        abort(404)
    return delivery_round


# --- The coordinator's pages -----------------------------------------------------------------------------------


@bp.route("/print-runs/<int:run_id>/rounds", methods=["GET", "POST"])
@login_required
def rounds_page(run_id: int):
    """A run's delivery rounds and progress; split its streets into rounds."""
    run = _run_or_404(run_id)
    form = SplitForm()
    if form.validate_on_submit():
        try:
            made = rounds.split_into_rounds(run, form.rounds.data, current_user)
        except rounds.RoundProblem as problem:
            form.add_problems(problem.errors)
        else:
            db.session.commit()
            flash(f"The streets are split into {len(made)} {'round' if len(made) == 1 else 'rounds'}: "
                  "name each round's deliverer and print its delivery sheet.", "success")
            return redirect(url_for("leaflets.rounds_page", run_id=run.id))
    return _rounds_template(run, form)


def _rounds_template(run: PrintRun, form: SplitForm, move_error: str = ""):
    all_rounds = rounds.rounds_of(run)
    deliveries = rounds.deliveries_of(run)
    per_round = {r.id: rounds.progress(rounds.round_streets(r), deliveries) for r in all_rounds}
    return render_template(
        "leaflets/rounds.html", run=run, form=form, rounds=all_rounds, deliveries=deliveries,
        per_round=per_round, total=rounds.progress(run.streets, deliveries), summary=recipes.summarise(run),
        state_labels=rounds.STATE_LABELS, move_error=move_error,
    )


@bp.post("/print-runs/<int:run_id>/rounds/streets")
@login_required
def move_round_streets(run_id: int):
    """Move streets between the run's rounds (one select per street, no JavaScript)."""
    run = _run_or_404(run_id)
    assignment = {}
    for key, value in request.form.items():
        if key.startswith("street-") and key[7:].isdigit() and value.isdigit():
            assignment[int(key[7:])] = int(value)
    try:
        moved = rounds.move_streets(run, assignment, current_user)
    except rounds.RoundProblem as problem:
        db.session.rollback()
        return _rounds_template(run, SplitForm(formdata=None), move_error=problem.errors["streets"]), 400
    db.session.commit()
    flash(f"{moved} {'street' if moved == 1 else 'streets'} moved." if moved else "No street changed round.",
          "success")
    return redirect(url_for("leaflets.rounds_page", run_id=run.id) + "#move")


@bp.route("/rounds/<int:round_id>", methods=["GET", "POST"])
@login_required
def round_page(round_id: int):
    """One round: its deliverer, its link and delivery sheet, and each street's delivery, recorded here too."""
    delivery_round = _round_or_404(round_id)
    form = DelivererForm(obj=delivery_round)
    if form.validate_on_submit():
        try:
            rounds.name_deliverer(delivery_round, form.name.data or "", form.deliverer_name.data or "",
                                  form.deliverer_contact.data or "", form.has_agreed.data, current_user)
        except rounds.RoundProblem as problem:
            db.session.rollback()
            form.add_problems(problem.errors)
        else:
            db.session.commit()
            flash("The round's deliverer is saved.", "success")
            return redirect(url_for("leaflets.round_page", round_id=delivery_round.id))
    elif not form.is_submitted():
        form.has_agreed.data = bool(delivery_round.deliverer_contact)
    return _round_template(delivery_round, form)


def _round_template(delivery_round: DeliveryRound, form: DelivererForm, street_forms: dict | None = None):
    streets = rounds.round_streets(delivery_round)
    forms = {street.id: coordinator_form(street.id) for street in streets} | (street_forms or {})
    deliveries = {row.print_run_street_id: row for row in delivery_round.deliveries}
    return render_template(
        "leaflets/round.html", round=delivery_round, run=delivery_round.print_run, form=form, streets=streets,
        deliveries=deliveries, street_forms=forms, progress=rounds.progress(streets, deliveries),
        link=rounds.round_url(delivery_round), state_labels=rounds.STATE_LABELS,
        households_to_deliver=rounds.households_to_deliver,
    )


@bp.post("/rounds/<int:round_id>/streets/<int:street_id>")
@login_required
def record_round_street(round_id: int, street_id: int):
    """The coordinator records one street of a round."""
    delivery_round = _round_or_404(round_id)
    form = coordinator_form(street_id, request.form)
    if form.validate():
        try:
            rounds.record_by_coordinator(delivery_round.print_run, street_id, form.report, current_user)
        except rounds.RoundProblem as problem:
            db.session.rollback()
            form.add_problems(problem.errors)
        else:
            db.session.commit()
            flash("Saved.", "success")
            return redirect(url_for("leaflets.round_page", round_id=delivery_round.id) + f"#street-{street_id}")
    return _round_template(delivery_round, DelivererForm(formdata=None, obj=delivery_round), {street_id: form}), 400


@bp.post("/rounds/<int:round_id>/link")
@login_required
def renew_round_link(round_id: int):
    """A new link for the round; the old one stops working."""
    delivery_round = _round_or_404(round_id)
    rounds.renew_link(delivery_round, current_user)
    db.session.commit()
    flash(f"The round has a new link, working until {delivery_round.link_expires_on:%d %B %Y}. The old link and "
          "delivery sheet no longer open the round: print the new sheet.", "success")
    return redirect(url_for("leaflets.round_page", round_id=delivery_round.id))


@bp.get("/rounds/<int:round_id>/delivery-sheet.pdf")
@login_required
def round_delivery_sheet(round_id: int):
    """The round's delivery sheet: its streets, its deliverer, and its link as a QR code."""
    delivery_round = _round_or_404(round_id)
    pdf = rounds.round_sheet_pdf(delivery_round)
    response = send_file(BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                         download_name=f"delivery-sheet-{delivery_round.print_run_id}-round-{delivery_round.position}.pdf")
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- The deliverer's page --------------------------------------------------------------------------------------


def _public(html: str, status: int = 200) -> Response:
    response = Response(html, status=status, mimetype="text/html")
    response.headers.update(PUBLIC_HEADERS)
    return response


def _round_from_link(token: str) -> DeliveryRound | Response:
    try:
        return rounds.round_for_token(token)
    except rounds.RoundLinkError as error:
        return _public(render_template("leaflets/round_link_refused.html", message=str(error)), 404)


@bp.get("/deliver/<token>")
def deliver(token: str):
    """The deliverer's page: the round's streets, each with its own small form."""
    found = _round_from_link(token)
    if isinstance(found, Response):
        return found
    return _deliverer_page(found, token)


def _deliverer_page(delivery_round: DeliveryRound, token: str, street_forms: dict | None = None, status: int = 200):
    streets = rounds.round_streets(delivery_round)
    forms = {street.id: deliverer_form(token, street.id) for street in streets} | (street_forms or {})
    deliveries = {row.print_run_street_id: row for row in delivery_round.deliveries}
    saved = request.args.get("saved", type=int)
    html = render_template(
        "leaflets/round_deliver.html", round=delivery_round, token=token, streets=streets, deliveries=deliveries,
        street_forms=forms, progress=rounds.progress(streets, deliveries), saved=saved,
        state_labels=rounds.STATE_LABELS, households_to_deliver=rounds.households_to_deliver,
        sheet=rounds.round_sheet_data(delivery_round),
    )
    return _public(html, status)


@bp.post("/deliver/<token>/streets/<int:street_id>")
def deliver_street(token: str, street_id: int):
    """The deliverer records one street of their round."""
    found = _round_from_link(token)
    if isinstance(found, Response):
        return found
    form = deliverer_form(token, street_id, request.form)
    if form.validate():
        try:
            rounds.record_by_deliverer(found, street_id, form.report)
        except rounds.RoundProblem as problem:
            db.session.rollback()
            form.add_problems(problem.errors)
        else:
            db.session.commit()
            return redirect(url_for("leaflets.deliver", token=token, saved=street_id) + f"#street-{street_id}", 303)
    return _deliverer_page(found, token, {street_id: form}, status=400)


# The deliverer has no session: their form's token is bound to the link instead (see the module's docstring).
csrf.exempt(deliver_street)
