"""The admins' scheme import page: schemes with their streets from one CSV file, all or nothing.

The form lives beside its one page: the admin forms module is the coordinators' and settings' pages'.
"""

from __future__ import annotations

from flask import render_template
from flask_login import current_user
from flask_wtf import FlaskForm

from coordinator.admin import bp
from coordinator.extensions import db
from coordinator.forms import CsvUploadMixin, csv_file_field
from coordinator.schemes.scheme_import import SCHEME_COLUMNS, import_schemes
from coordinator.security import admin_required


class SchemeImportForm(CsvUploadMixin, FlaskForm):
    """Upload a schemes-and-streets CSV."""

    # The header is shown above the form; written out here it would be one word too wide for a phone.
    file = csv_file_field("CSV file", "A .csv file saved as 'CSV UTF-8', with the header shown above.")


@bp.route("/schemes/import", methods=["GET", "POST"])
@admin_required
def schemes_import():
    """Upload a schemes CSV; show the line-by-line report; import all or nothing."""
    form = SchemeImportForm()
    report = None
    if form.validate_on_submit():
        report = import_schemes(form.file.data.read(), actor=current_user._get_current_object())
        if report.ok:
            db.session.commit()
        else:
            db.session.rollback()
    return render_template("admin/scheme_import.html", form=form, report=report, columns=SCHEME_COLUMNS)
