"""The admins' data-request pages: a resident's address found, exported and erased across every scheme at once,
and a coordinator's own account exported or erased (pseudonymised).

The address travels only in POST bodies, never in a page's address, so it stays out of server logs and
browser history. The forms live beside their pages: the admin forms module is the coordinators' and settings'.
"""

from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length

from coordinator.admin import bp
from coordinator.admin.data_requests import (
    DataRequestError,
    erase_account,
    erase_address,
    export_account,
    export_address,
    find_address,
)
from coordinator.auth.models import User
from coordinator.extensions import db
from coordinator.security import admin_required


class FindAddressForm(FlaskForm):
    """The resident's address to look for in every scheme."""

    email = StringField(
        "The resident's email address",
        description="Found in every scheme whatever its case, for example pat@example.org.",
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[DataRequired("Enter the email address"), Length(max=254),
                    Email("Enter an email address like pat@example.org", check_deliverability=False)],
    )


class AddressActionForm(FlaskForm):
    """Export or erase what was found for an address (the address comes back in a hidden field)."""

    email = HiddenField(validators=[DataRequired(), Length(max=254)])
    confirm = BooleanField("I have checked that this is the person who asked, and want their address erased from "
                           "every scheme for good")


class EraseAccountForm(FlaskForm):
    """Confirm erasing a coordinator's account."""

    confirm = BooleanField("I want this account's address and name erased for good",
                           validators=[InputRequired("Tick the box to confirm")])


def _json_download(data: dict, filename: str) -> Response:
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False) + "\n",
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@bp.route("/data-requests", methods=["GET", "POST"])
@admin_required
def data_requests():
    """Find a resident's address in every scheme, with the buttons to export or erase all of it."""
    form = FindAddressForm()
    findings = None
    if form.validate_on_submit():
        findings = find_address(form.email.data)
    return render_template("admin/data_requests.html", form=form, findings=findings,
                           action_form=AddressActionForm(formdata=None, email=findings.email if findings else ""))


@bp.post("/data-requests/export")
@admin_required
def data_request_export():
    """Download everything held about the address, from every scheme, as one JSON file."""
    form = AddressActionForm()
    if not form.validate_on_submit():
        flash("Look the address up again, then export.", "error")
        return redirect(url_for("admin.data_requests"))
    try:
        data = export_address(form.email.data, current_user._get_current_object())
    except DataRequestError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.data_requests"))
    db.session.commit()
    return _json_download(data, "resident-data.json")


@bp.post("/data-requests/erase")
@admin_required
def data_request_erase():
    """Erase the address from every scheme in one step."""
    form = AddressActionForm()
    if not form.validate_on_submit() or not form.confirm.data:
        findings = find_address(form.email.data or "")
        form.confirm.errors = ["Tick the box to confirm"]
        return render_template("admin/data_requests.html", form=FindAddressForm(formdata=None, email=findings.email),
                               findings=findings, action_form=form), 400
    try:
        count = erase_address(form.email.data, current_user._get_current_object())
    except DataRequestError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("admin.data_requests"))
    db.session.commit()
    flash(f"The address was erased from {count} scheme{'s' if count != 1 else ''}.", "success")
    return redirect(url_for("admin.data_requests"))


@bp.post("/users/<int:user_id>/export")
@admin_required
def user_export(user_id: int):
    """Download everything held about one account as JSON."""
    user = db.get_or_404(User, user_id)
    if not FlaskForm().validate_on_submit():
        flash("The form had expired; try again.", "error")
        return redirect(url_for("admin.user_detail", user_id=user.id))
    data = export_account(user, current_user._get_current_object())
    db.session.commit()
    return _json_download(data, f"account-{user.id}.json")


@bp.route("/users/<int:user_id>/erase", methods=["GET", "POST"])
@admin_required
def user_erase(user_id: int):
    """Confirm, then pseudonymise an account: its address and name gone, its actions kept under its number."""
    user = db.get_or_404(User, user_id)
    form = EraseAccountForm()
    if form.validate_on_submit() and form.confirm.data:
        try:
            erase_account(user, current_user._get_current_object())
        except DataRequestError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("admin.user_detail", user_id=user.id))
        db.session.commit()
        flash(f"Account #{user.id} is erased: its actions stay in the audit log under that number.", "success")
        return redirect(url_for("admin.user_detail", user_id=user.id))
    if form.is_submitted() and not form.confirm.errors:
        form.confirm.errors = ["Tick the box to confirm"]
    return render_template("admin/user_erase.html", user=user, form=form)
