"""Neighbourhood Watch Coordinator Toolkit: the application factory."""

from __future__ import annotations

import logging
import os

from flask import Flask, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from config import CONFIGS, Config, development_secret_key
from coordinator import http, numbers
from coordinator.languages import text_direction
from coordinator.links import is_progress_poll, this_page

log = logging.getLogger(__name__)


def create_app(config_class: type[Config] | None = None) -> Flask:
    """Build the app for `config_class`, or for the class named by COORDINATOR_ENV (default development)."""
    if config_class is None:
        env_name = os.environ.get("COORDINATOR_ENV", "development")
        if env_name not in CONFIGS:
            raise RuntimeError(f"COORDINATOR_ENV must be one of {', '.join(CONFIGS)}, not {env_name!r}")
        config_class = CONFIGS[env_name]

    app = Flask(
        __name__,
        instance_path=str(config_class.INSTANCE_DIR),
        template_folder="templates",  # the top-level templates/ folder, by its link (a copy in the wheel)
        static_folder="static",
    )
    app.config.from_object(config_class)
    _settle_secret_key(app)

    from coordinator import jobs
    from coordinator.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    # The top-level migrations/ folder, by its link (a copy in the wheel).
    migrate.init_app(app, db, directory=str(os.path.join(os.path.dirname(__file__), "migrations")))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    # Pages and emails are English; a leaflet, bulletin or public page in another language says so with
    # coordinator.wording.wording_in, never the browser's Accept-Language (coordinator pages stay English).
    babel.init_app(app, default_locale="en", locale_selector=lambda: "en")
    jobs.init_app(app)

    _import_models()
    from coordinator.auth import sessions

    app.session_interface = sessions.WatchSessionInterface()
    app.after_request(sessions.keep_session_alive)
    _register_blueprints(app)
    _register_error_pages(app)
    _register_hooks(app)
    http.init_app(app)

    from coordinator.cli import register_cli

    register_cli(app)
    return app


def _settle_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    if app.config["ENV_NAME"] == "production":
        raise RuntimeError("SECRET_KEY is not set. Production refuses to start without a real secret.")
    app.config["SECRET_KEY"] = development_secret_key(app.config["INSTANCE_DIR"])


def _import_models() -> None:
    # Every model module, so that metadata (and Alembic's autogenerate) sees every table.
    from coordinator import mail as _mail  # noqa: F401
    from coordinator import settings as _settings  # noqa: F401
    from coordinator import wording as _wording  # noqa: F401
    from coordinator.audit import models as _audit  # noqa: F401
    from coordinator.auth import models as _auth  # noqa: F401
    from coordinator.bulletins import models as _bulletins  # noqa: F401
    from coordinator.content import models as _content  # noqa: F401
    from coordinator.leaflets import models as _leaflets  # noqa: F401
    from coordinator.schemes import models as _schemes  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from coordinator.admin import bp as admin_bp
    from coordinator.auth import bp as auth_bp
    from coordinator.bulletins import bp as bulletins_bp
    from coordinator.content import bp as content_bp
    from coordinator.content import campaigns_bp
    from coordinator.leaflets import bp as leaflets_bp
    from coordinator.main import bp as main_bp
    from coordinator.schemes import bp as schemes_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(schemes_bp)
    app.register_blueprint(content_bp)
    app.register_blueprint(campaigns_bp)
    app.register_blueprint(leaflets_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(bulletins_bp)


def _register_error_pages(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    from coordinator.auth.kept_forms import keep_refused_form
    from coordinator.auth.views import send_to_kept_form
    from coordinator.extensions import db, login_manager

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        # Most often the session ended (30 minutes idle) while someone was typing: keep what they typed.
        if keep_refused_form(request, this_page()):
            return send_to_kept_form()
        # "Log out" pressed after the session ended: the person is already where they wanted to be.
        if request.endpoint == "auth.logout" and not current_user.is_authenticated:
            flash("You are logged out.", "success")
            return redirect(url_for("auth.login"))
        return render_template("errors/400.html", reason="Your form has expired or was sent from elsewhere. "
                               "Go back, reload the page and send it again."), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        template = f"errors/{code}.html" if code in {400, 403, 404, 405, 413, 429} else "errors/generic.html"
        return render_template(template, error=error), code

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        db.session.rollback()
        log.error("database unavailable: %s", error)
        # The page must not ask the database who is logged in: show it as to a visitor.
        g._login_user = login_manager.anonymous_user()
        return render_template("errors/503.html"), 503

    @app.errorhandler(500)
    def server_error(error):
        return render_template("errors/500.html"), 500


def _register_hooks(app: Flask) -> None:
    from coordinator.auth.kept_forms import forget_when_sent

    app.jinja_env.globals["this_page"] = this_page
    app.jinja_env.globals["is_progress_poll"] = is_progress_poll
    # Phone numbers one unbreakable unit, web addresses breaking only after "/" or ".", on every page.
    app.add_template_filter(numbers.numbers_kept_whole)
    app.add_template_filter(numbers.breakable_address)
    # dir="rtl" or "ltr" for a campaign's language tag, on the pages and emails that show it.
    app.add_template_filter(text_direction)
    app.before_request(lambda: forget_when_sent(request))


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Foreign keys on and write-ahead logging for the embedded SQLite database."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
