"""A coordinator's scheme page: its contact lines and its streets.

Every view starts from `get_my_scheme_or_404` (and `get_my_street_or_404` for one street), so another
scheme's id, or another scheme's street reached through one's own scheme's URL, is a plain 404.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import login_required

from coordinator.extensions import db
from coordinator.schemes import bp, street_import
from coordinator.schemes import services as schemes
from coordinator.schemes.forms import DeleteStreetForm, SchemeContactForm, StreetForm, StreetImportForm
from coordinator.schemes.membership import list_coordinators
from coordinator.security import get_my_scheme_or_404, get_my_street_or_404


@bp.get("/<int:scheme_id>")
@login_required
def detail(scheme_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    return render_template(
        "schemes/detail.html",
        scheme=scheme,
        coordinators=list_coordinators(scheme),
        streets=scheme.streets,
        totals=schemes.total_streets(scheme.streets),
    )


@bp.route("/<int:scheme_id>/contact", methods=["GET", "POST"])
@login_required
def edit_contact(scheme_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    form = SchemeContactForm(obj=scheme)
    if form.validate_on_submit():
        try:
            changed = schemes.update_scheme_contact(
                scheme, form.contact_email.data or "", form.contact_phone.data or "", form.contact_other.data or ""
            )
        except schemes.SchemeProblems as exc:
            form.add_problems(exc.errors)
        else:
            db.session.commit()
            flash("The contact lines are saved." if changed else "Nothing was changed.", "success")
            return redirect(url_for("schemes.detail", scheme_id=scheme.id))
    return render_template("schemes/contact.html", scheme=scheme, form=form)


@bp.route("/<int:scheme_id>/streets/new", methods=["GET", "POST"])
@login_required
def add_street(scheme_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    form = StreetForm(data={"no_leaflets": "0"})
    if form.validate_on_submit():
        try:
            street = schemes.add_street(scheme, form.details)
        except schemes.SchemeProblems as exc:
            form.add_problems(exc.errors)
        else:
            db.session.commit()
            flash(f"{street.name} ({street.postcode}) is added.", "success")
            return redirect(url_for("schemes.detail", scheme_id=scheme.id))
    return render_template("schemes/street_form.html", scheme=scheme, form=form, street=None)


@bp.route("/<int:scheme_id>/streets/<int:street_id>", methods=["GET", "POST"])
@login_required
def edit_street(scheme_id: int, street_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    street = get_my_street_or_404(scheme, street_id)
    form = StreetForm.for_street(street)
    if form.validate_on_submit():
        try:
            changed = schemes.update_street(street, form.details)
        except schemes.SchemeProblems as exc:
            form.add_problems(exc.errors)
        else:
            db.session.commit()
            flash(f"{street.name} is saved." if changed else "Nothing was changed.", "success")
            return redirect(url_for("schemes.detail", scheme_id=scheme.id))
    return render_template("schemes/street_form.html", scheme=scheme, form=form, street=street)


@bp.route("/<int:scheme_id>/streets/<int:street_id>/delete", methods=["GET", "POST"])
@login_required
def delete_street(scheme_id: int, street_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    street = get_my_street_or_404(scheme, street_id)
    form = DeleteStreetForm()
    if form.validate_on_submit():
        name = street.name
        schemes.delete_street(street)
        db.session.commit()
        flash(f"{name} is removed from {scheme.name}.", "success")
        return redirect(url_for("schemes.detail", scheme_id=scheme.id))
    return render_template("schemes/street_delete.html", scheme=scheme, street=street, form=form)


@bp.route("/<int:scheme_id>/streets/import", methods=["GET", "POST"])
@login_required
def import_streets(scheme_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    form = StreetImportForm()
    report = None
    if form.validate_on_submit():
        report = street_import.import_streets(scheme, form.file.data.read())
        if report.ok:
            db.session.commit()
            streets = "1 street is" if report.imported == 1 else f"{report.imported} streets are"
            flash(f"{streets} imported into {scheme.name}.", "success")
            return redirect(url_for("schemes.detail", scheme_id=scheme.id))
        if report.file_problems:
            form.add_problems({"file": report.file_problems})
    return render_template(
        "schemes/import.html",
        scheme=scheme,
        form=form,
        report=report,
        columns=street_import.STREET_COLUMNS,
        max_kb=current_app.config["CSV_MAX_BYTES"] // 1024,
    )
