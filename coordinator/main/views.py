"""Home, /healthz, the addresses people and browsers try first (/login, /favicon.ico), and the association's logo."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from flask import Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from coordinator.extensions import db, limiter
from coordinator.main import bp
from coordinator.security import my_schemes_query
from coordinator.settings import brand

log = logging.getLogger(__name__)


@bp.get("/")
def home():
    """The coordinator's schemes; admins go to their dashboard, visitors to the login page."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.is_admin:
        return redirect(url_for("admin.dashboard"))
    schemes = db.session.scalars(my_schemes_query()).all()
    return render_template("main/home.html", schemes=schemes)


@bp.get("/login")
def login():
    """The address a new user types for the login page, which lives under /account."""
    return redirect(url_for("auth.login", next=request.args.get("next")))


@bp.get("/favicon.ico")
@limiter.exempt
def favicon():
    """The toolkit's icon, where browsers look for it without being told.

    Served from memory: browsers ask for it beside every page and often drop the request half-way, and a file
    opened for each answer was then left for the garbage collector to close.
    """
    response = Response(_favicon_bytes(), mimetype="image/vnd.microsoft.icon")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    response.add_etag()
    return response.make_conditional(request)


@cache
def _favicon_bytes() -> bytes:
    return (Path(current_app.static_folder) / "favicon.ico").read_bytes()


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """200 with {"status": "ok"} when the database answers, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        # The answer is public: the driver's words go to the log, not to whoever asked.
        log.error("health check: the database did not answer: %s", exc)
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.get("/brand/logo-<version>.png")
@limiter.exempt
def brand_logo(version: str):
    """The association's logo, for emails and pages; its address names its bytes, so caches may keep it for a year."""
    current = brand()
    if not current.logo_version:
        abort(404)
    if version != current.logo_version:
        # A bulletin sent before the logo changed still shows a logo: the one in use now, fetched afresh.
        return redirect(url_for("main.brand_logo", version=current.logo_version))
    response = Response(current.logo_png, mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
