"""Content pages (stub: replaced by the content work)."""

from flask import render_template
from flask_login import login_required

from coordinator.content import bp
from coordinator.security import admin_required


@bp.get("/catalogue")
@login_required
def catalogue():
    return render_template("content/catalogue.html")


@bp.get("/library")
@admin_required
def library():
    return render_template("content/catalogue.html")
