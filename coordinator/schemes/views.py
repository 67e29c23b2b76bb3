"""Scheme pages for coordinators (stub: replaced by the schemes work)."""

from flask import render_template
from flask_login import login_required

from coordinator.schemes import bp
from coordinator.security import get_my_scheme_or_404


@bp.get("/<int:scheme_id>")
@login_required
def detail(scheme_id: int):
    scheme = get_my_scheme_or_404(scheme_id)
    return render_template("schemes/detail.html", scheme=scheme)
