"""What someone typed into a form that could not be taken because they had been logged out.

After 30 minutes without a request the session ends, and with it the form's CSRF token: the next press of a
form's button is refused. A volunteer may well spend longer than that on a bulletin, and an admin on a
campaign, so the refused form's fields are kept (in the database; the session holds only a random token), and
after logging in again one button sends them to the same page, with a fresh token, exactly as if the form had
been sent then.

Only a form sent from one of our own pages is kept (the browser says so in Sec-Fetch-Site or Origin): a form
posted from another site is refused as before, so nobody else can put words in someone's mouth. It is kept for
the account whose session just ended (the old cookie's signature still says whose it was), so someone else
logging in on the same computer is not offered it. Passwords and uploaded files are never kept. A kept form is
deleted when it is sent, thrown away, or two days old.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Request, current_app, session
from flask_login import current_user
from itsdangerous import BadSignature
from sqlalchemy import delete, select

from coordinator.auth.models import KeptForm
from coordinator.auth.services import is_safe_next
from coordinator.db import utcnow
from coordinator.extensions import db

SESSION_KEY = "kept_form"
KEPT_FOR = timedelta(days=2)
# Forms of the account pages (logging in, passwords) are never kept.
NEVER_KEPT_UNDER = "/account/"


@dataclass(frozen=True)
class KeptFields:
    """A refused form: where it was going, its fields in order (without the old CSRF token), and whether a file
    chosen for it had to be left out."""

    path: str
    fields: tuple[tuple[str, str], ...]
    had_files: bool


def _is_same_origin(request: Request) -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    return origin is not None and urlsplit(origin).netloc == request.host


def _account_of_refused_form(request: Request) -> int | None:
    """The account the form was typed in: the one logged in, or the one whose session has just ended."""
    if current_user.is_authenticated:
        return current_user.id
    cookie = request.cookies.get(current_app.config["SESSION_COOKIE_NAME"])
    serializer = current_app.session_interface.get_signing_serializer(current_app)
    if not cookie or serializer is None:
        return None
    try:
        ended = serializer.loads(cookie)  # no max_age: the session is over, but it was ours and it was theirs
    except BadSignature:
        return None
    user_id = str(ended.get("_user_id", "")).partition(":")[0]
    return int(user_id) if user_id.isdigit() else None


def keep_refused_form(request: Request, path: str) -> bool:
    """Keep a refused POST's fields for after the next login; False when it may not be kept."""
    if request.method != "POST" or not _is_same_origin(request):
        return False
    if path.startswith(NEVER_KEPT_UNDER) or not is_safe_next(path):
        return False
    fields = [[name, value] for name, value in request.form.items(multi=True)
              if name != "csrf_token" and "password" not in name.lower()]
    account = _account_of_refused_form(request)
    if not fields or account is None:
        return False
    had_files = any(upload.filename for upload in request.files.values())
    db.session.rollback()  # whatever the refused request had begun is not to be written with it
    db.session.execute(delete(KeptForm).where(KeptForm.created_at < utcnow() - KEPT_FOR))
    kept = KeptForm(user_id=account, path=path, fields=fields, had_files=had_files)
    db.session.add(kept)
    db.session.commit()
    session[SESSION_KEY] = kept.token
    return True


def _row() -> KeptForm | None:
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not current_user.is_authenticated:
        return None
    return db.session.scalar(select(KeptForm).where(
        KeptForm.token == token, KeptForm.user_id == current_user.id, KeptForm.created_at >= utcnow() - KEPT_FOR))


def kept_form() -> KeptFields | None:
    """The form kept in this session for the account logged in now, if any."""
    row = _row()
    if row is None or not is_safe_next(row.path):
        return None
    return KeptFields(path=row.path, fields=tuple((str(n), str(v)) for n, v in row.fields), had_files=row.had_files)


def forget_kept_form() -> None:
    """Delete this session's kept form (only ever the logged-in account's own)."""
    row = _row()
    if row is not None:
        db.session.delete(row)
        db.session.commit()
    session.pop(SESSION_KEY, None)


def forget_when_sent(request: Request) -> None:
    """The kept fields are sent again (or a new form is sent to that page): they are no longer needed."""
    if request.method != "POST" or SESSION_KEY not in session:
        return
    row = _row()
    if row is not None and row.path.split("?")[0] == request.path:
        forget_kept_form()
