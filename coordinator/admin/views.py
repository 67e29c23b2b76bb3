"""Admin pages (stub: replaced by the admin work)."""

from flask import render_template

from coordinator.admin import bp
from coordinator.security import admin_required


@bp.get("/")
@admin_required
def dashboard():
    return render_template("admin/dashboard.html")


@bp.get("/users")
@admin_required
def users():
    return render_template("admin/dashboard.html")


@bp.get("/schemes")
@admin_required
def schemes():
    return render_template("admin/dashboard.html")


@bp.get("/audit")
@admin_required
def audit_log():
    return render_template("admin/dashboard.html")
