"""How long a login lasts, how logging out ends it, and when a visitor gets a cookie at all.

- The session is Flask's signed cookie. It lives in the browser for SESSION_ABSOLUTE_LIFETIME and carries the
  time of the person's last request; the idle limit (SESSION_IDLE_LIFETIME, 30 minutes) is checked against that
  time. A cookie that had expired with the idle limit would be dropped by the browser, and with it the proof of
  whose form was refused; this one is still sent, the server opens it as an empty session (logged out, no CSRF
  token), and a form sent from it is kept for its account (kept_forms.py).
- Every login is a LoginSession row whose token is part of the user id kept in the session and in the
  remember-me cookie. Logging out deletes the row, so a copy of either cookie finds no login afterwards. A login
  older than SESSION_ABSOLUTE_LIFETIME finds none either, remembered or not. Changing the password, deactivating
  an account or changing its role ends all of its logins (services.end_every_login).
- A session is written only once it holds something (a form's CSRF token, a message, a login): a resident reading
  a campaign page gets no cookie.
- A page polling its own progress (progress.js) neither renews the cookie nor counts as activity, and nor does a
  file that is the same for everyone (a stylesheet, the icon, a campaign picture): those answers may be kept by a
  shared cache, which must never be handed someone's cookie.
"""

from __future__ import annotations

import time

from flask import Flask, Request, current_app, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import current_user, login_user, logout_user
from sqlalchemy import delete, select

from coordinator.auth.models import LoginSession, User
from coordinator.db import utcnow
from coordinator.extensions import db, login_manager
from coordinator.http import SHARED_ENDPOINTS
from coordinator.links import is_progress_poll

# The time of the last request that was a person's (seconds since the epoch), inside the signed cookie.
SEEN_KEY = "_seen"
# Keys Flask and this module add themselves: a session holding only these holds nothing worth a cookie.
_HOUSEKEEPING = {"_permanent", SEEN_KEY}

# The session and remember-me cookies keep User.get_login_id(): the account, its credentials and this login.
login_manager.id_attribute = "get_login_id"


class WatchSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, ended after the idle limit by the time inside them, not by the cookie's age."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The session in the cookie, or an empty one when the person has been idle past the limit."""
        opened = super().open_session(app, request)
        if opened is None:
            return None
        seen = opened.get(SEEN_KEY)
        if isinstance(seen, int) and time.time() - seen > app.config["SESSION_IDLE_LIFETIME"].total_seconds():
            # Left unmodified, the idle cookie stays in the browser until something new is kept: a form refused
            # meanwhile can still be traced to its account.
            return self.session_class()
        return opened

    def should_set_cookie(self, app: Flask, session: SecureCookieSession) -> bool:
        """Renew the cookie on a person's requests, not on a progress poll or a file the same for everyone."""
        if not _is_a_persons_request():
            return session.modified
        return super().should_set_cookie(app, session)


def _is_a_persons_request() -> bool:
    return not is_progress_poll() and request.endpoint not in SHARED_ENDPOINTS


def keep_session_alive(response):
    """After a person's request: a session holding anything lasts, and this request counts as activity."""
    if not _is_a_persons_request() or not set(session.keys()) - _HOUSEKEEPING:
        return response
    session.permanent = True
    session[SEEN_KEY] = int(time.time())
    return response


@login_manager.user_loader
def load_user(login_id: str) -> User | None:
    """The account of a session or remember-me cookie, if that login has not ended (logged out, too old, or the
    account's logins ended by a password change or deactivation)."""
    user_id, _, rest = login_id.partition(":")
    generation, _, token = rest.partition(":")
    if not user_id.isdigit() or not generation or not token:
        return None
    found = db.session.execute(
        select(User, LoginSession).join(LoginSession, LoginSession.user_id == User.id)
        .where(User.id == int(user_id), LoginSession.token == token)
    ).first()
    if found is None:
        return None
    user, login = found
    if user.session_token != generation or not user.is_active_account or _is_too_old(login):
        return None
    user.login_session = login
    return user


def _is_too_old(login: LoginSession) -> bool:
    return login.created_at < utcnow() - current_app.config["SESSION_ABSOLUTE_LIFETIME"]


def log_in(user: User, remember: bool = False) -> None:
    """Begin a login on this browser (a LoginSession row) and put it in the session; the caller commits."""
    # Logins past the absolute lifetime are of no further use to anyone.
    limit = utcnow() - current_app.config["SESSION_ABSOLUTE_LIFETIME"]
    db.session.execute(delete(LoginSession).where(LoginSession.created_at < limit))
    login = LoginSession(user_id=user.id)
    db.session.add(login)
    db.session.flush()
    user.login_session = login
    login_user(user, remember=remember)


def log_out() -> None:
    """End this browser's login on the server, and clear it and its remember-me cookie here; the caller commits."""
    login = getattr(current_user, "login_session", None)
    if login is not None:
        db.session.execute(delete(LoginSession).where(LoginSession.id == login.id))
    logout_user()
