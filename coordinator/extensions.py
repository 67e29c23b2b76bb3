"""Extension instances, created unbound and initialised in `create_app`."""

from __future__ import annotations

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from coordinator.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
# Fixed wording by language (coordinator/wording.py): English unless `wording_in` asks for a ready language.
babel = Babel()


def submitted_email() -> str:
    """Rate-limit key for one account: the email typed into the form, normalised."""
    return "account:" + (request.form.get("email") or "").strip().lower()
